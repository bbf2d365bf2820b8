#include "core/random.hpp"

#include <sys/random.h>

#include <cerrno>
#include <stdexcept>

namespace firmo {

std::string Random::Bytes(std::size_t n) {
    std::string out(n, '\0');
    Fill(reinterpret_cast<std::uint8_t*>(out.data()), n);
    return out;
}

std::uint64_t Random::U64() {
    std::uint8_t b[8];
    Fill(b, sizeof b);
    std::uint64_t v = 0;
    for (std::uint8_t x : b) v = (v << 8) | x;
    return v;
}

void SystemRandom::Fill(std::uint8_t* out, std::size_t n) {
    std::size_t done = 0;
    while (done < n) {
        const ssize_t r = getrandom(out + done, n - done, 0);
        if (r < 0) {
            if (errno == EINTR) continue;
            // No entropy source is not something a server can run without.
            throw std::runtime_error("getrandom failed");
        }
        done += static_cast<std::size_t>(r);
    }
}

void SeededRandom::Fill(std::uint8_t* out, std::size_t n) {
    std::lock_guard lock(mu_);
    for (std::size_t i = 0; i < n; ++i) {
        state_ ^= state_ << 13;
        state_ ^= state_ >> 7;
        state_ ^= state_ << 17;
        out[i] = static_cast<std::uint8_t>(state_ >> 24);
    }
}

}  // namespace firmo
