#include "crypto/der.hpp"

#include <algorithm>
#include <charconv>

namespace firmo::crypto::der {
namespace {

std::string Length(std::size_t n) {
    if (n < 0x80) return std::string(1, static_cast<char>(n));
    std::string bytes;
    while (n > 0) {
        bytes.insert(bytes.begin(), static_cast<char>(n & 0xFF));
        n >>= 8;
    }
    return std::string(1, static_cast<char>(0x80 | bytes.size())) + bytes;
}

void Base128(std::string& out, std::uint64_t v) {
    std::string bytes(1, static_cast<char>(v & 0x7F));
    while ((v >>= 7) > 0) bytes.insert(bytes.begin(), static_cast<char>(0x80 | (v & 0x7F)));
    out += bytes;
}

}  // namespace

std::string Tlv(std::uint8_t tag, std::string_view content) {
    std::string out(1, static_cast<char>(tag));
    out += Length(content.size());
    out += content;
    return out;
}

std::string Sequence(const std::vector<std::string>& items) {
    std::string content;
    for (const auto& i : items) content += i;
    return Tlv(kSequence, content);
}

std::string SetOf(std::vector<std::string> items) {
    // X.690 11.6 compares encodings padded with zeros; plain lexicographic order agrees,
    // since one complete TLV cannot be a proper prefix of another.
    std::sort(items.begin(), items.end(), [](const std::string& a, const std::string& b) {
        return std::lexicographical_compare(
            a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
                return static_cast<unsigned char>(x) < static_cast<unsigned char>(y);
            });
    });
    std::string content;
    for (const auto& i : items) content += i;
    return Tlv(kSet, content);
}

std::string Oid(std::string_view dotted) {
    std::vector<std::uint64_t> arcs;
    while (!dotted.empty()) {
        auto dot = dotted.find('.');
        auto part = dotted.substr(0, dot);
        std::uint64_t v = 0;
        std::from_chars(part.data(), part.data() + part.size(), v);
        arcs.push_back(v);
        if (dot == std::string_view::npos) break;
        dotted.remove_prefix(dot + 1);
    }
    std::string content;
    if (arcs.size() >= 2) {
        Base128(content, arcs[0] * 40 + arcs[1]);
        for (std::size_t i = 2; i < arcs.size(); ++i) Base128(content, arcs[i]);
    }
    return Tlv(kOid, content);
}

std::string SmallInteger(unsigned value) {
    std::string bytes;
    do {
        bytes.insert(bytes.begin(), static_cast<char>(value & 0xFF));
        value >>= 8;
    } while (value > 0);
    if (static_cast<unsigned char>(bytes[0]) & 0x80) bytes.insert(bytes.begin(), '\0');
    return Tlv(kInteger, bytes);
}

std::string OctetString(std::string_view bytes) { return Tlv(kOctetString, bytes); }

std::string Null() { return Tlv(kNull, {}); }

std::string ContextConstructed(unsigned n, std::string_view content) {
    return Tlv(static_cast<std::uint8_t>(0xA0 | n), content);
}

bool ReadHeader(std::string_view der, std::size_t* header_len, std::size_t* content_len) {
    if (der.size() < 2) return false;
    auto first = static_cast<unsigned char>(der[1]);
    if (first < 0x80) {
        *header_len = 2;
        *content_len = first;
    } else {
        std::size_t n = first & 0x7F;
        if (n == 0 || n > 4 || der.size() < 2 + n) return false;
        std::size_t len = 0;
        for (std::size_t i = 0; i < n; ++i)
            len = (len << 8) | static_cast<unsigned char>(der[2 + i]);
        *header_len = 2 + n;
        *content_len = len;
    }
    return *header_len + *content_len <= der.size();
}

}  // namespace firmo::crypto::der
