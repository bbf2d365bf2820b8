#include "core/ids.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <mutex>

namespace firmo {

namespace {
constexpr std::string_view kCrockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
}

std::string NewUlid(Timestamp now, Random& random) {
    // Monotonic within this process: ids made in the same millisecond (or when the clock steps
    // back) continue from the previous one plus one, so creation order is id order and cursor
    // pagination never reorders a burst of creations.
    static std::mutex mu;
    static std::uint64_t last_ms = 0;
    static std::array<std::uint8_t, 10> last_random{};
    std::array<std::uint8_t, 16> bytes{};
    auto ms = static_cast<std::uint64_t>(ToUnixMillis(now));
    {
        std::lock_guard lock(mu);
        if (ms <= last_ms) {
            ms = last_ms;
            for (int i = 9; i >= 0; --i) {  // +1 with carry; 2^80 ids a millisecond never overflow
                if (++last_random[static_cast<std::size_t>(i)] != 0) break;
            }
        } else {
            random.Fill(last_random.data(), last_random.size());
            last_random[0] &= 0x7F;  // leave room to increment without overflow
            last_ms = ms;
        }
        std::copy(last_random.begin(), last_random.end(), bytes.begin() + 6);
    }
    for (int i = 5; i >= 0; --i) {
        bytes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(ms & 0xFF);
        ms >>= 8;
    }
    // 128 bits -> 26 base32 digits: 130 bits with two leading zero bits, 5 bits a digit.
    std::string out(26, '0');
    for (int i = 0; i < 26; ++i) {
        unsigned value = 0;
        for (int b = 0; b < 5; ++b) {
            const int bit = i * 5 + b - 2;  // index into the 128 bits, most significant first
            unsigned v = 0;
            if (bit >= 0) {
                v = (bytes[static_cast<std::size_t>(bit / 8)] >> (7 - bit % 8)) & 1u;
            }
            value = (value << 1) | v;
        }
        out[static_cast<std::size_t>(i)] = kCrockford[value];
    }
    return out;
}

bool IsUlid(std::string_view text) {
    if (text.size() != 26 || text[0] > '7') return false;
    for (char c : text) {
        if (kCrockford.find(c) == std::string_view::npos) return false;
    }
    return true;
}

}  // namespace firmo
