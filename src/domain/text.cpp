#include "domain/text.hpp"

#include <algorithm>
#include <cstdint>

namespace firmo::domain {

std::size_t Utf8Length(std::string_view text) {
    std::size_t count = 0;
    for (std::size_t i = 0; i < text.size();) {
        const auto c = static_cast<unsigned char>(text[i]);
        std::size_t len = 0;
        std::uint32_t cp = 0;
        if (c < 0x80) {
            len = 1;
            cp = c;
        } else if ((c & 0xE0) == 0xC0) {
            len = 2;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4;
            cp = c & 0x07;
        } else {
            return SIZE_MAX;
        }
        if (i + len > text.size()) return SIZE_MAX;
        for (std::size_t k = 1; k < len; ++k) {
            const auto cc = static_cast<unsigned char>(text[i + k]);
            if ((cc & 0xC0) != 0x80) return SIZE_MAX;
            cp = (cp << 6) | (cc & 0x3F);
        }
        // Overlong forms, surrogates and out-of-range code points are invalid.
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return SIZE_MAX;
        }
        i += len;
        ++count;
    }
    return count;
}

bool IsPrintableUtf8(std::string_view text) {
    if (Utf8Length(text) == SIZE_MAX) return false;
    for (char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7F) return false;
    }
    return true;
}

void CheckLength(std::string_view text, std::size_t min, std::size_t max, const std::string& field,
                 std::vector<Violation>& out) {
    const std::size_t n = Utf8Length(text);
    if (n == SIZE_MAX || !IsPrintableUtf8(text)) {
        out.push_back({field, "must be printable UTF-8 text"});
    } else if (n < min || n > max) {
        out.push_back({field, "must be " + std::to_string(min) + "-" + std::to_string(max) +
                                  " characters (got " + std::to_string(n) + ")"});
    }
}

void CheckPollingQueue(std::string_view name, const std::string& field,
                       std::vector<Violation>& out) {
    const bool allowed = std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_' || c == '.';
    });
    if (name.empty() || name.size() > kPollingQueueMax || !allowed) {
        out.push_back({field, "must be 1-50 letters, digits, '-', '_' or '.'"});
    }
}

}  // namespace firmo::domain
