#include "core/ids.hpp"

#include <array>
#include <cstdint>

namespace firmo {

namespace {
constexpr std::string_view kCrockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
}

std::string NewUlid(Timestamp now, Random& random) {
    std::array<std::uint8_t, 16> bytes{};
    auto ms = static_cast<std::uint64_t>(ToUnixMillis(now));
    for (int i = 5; i >= 0; --i) {
        bytes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(ms & 0xFF);
        ms >>= 8;
    }
    random.Fill(bytes.data() + 6, 10);
    // 128 bits -> 26 base32 digits (the first holds only 3 bits).
    std::string out(26, '0');
    unsigned __int128 v = 0;
    for (std::uint8_t b : bytes) v = (v << 8) | b;
    for (int i = 25; i >= 0; --i) {
        out[static_cast<std::size_t>(i)] = kCrockford[static_cast<std::size_t>(v & 31)];
        v >>= 5;
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
