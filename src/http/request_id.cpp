#include "http/request_id.hpp"

#include <cstdint>
#include <random>

namespace firmo::http {

namespace {

bool Allowed(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    switch (c) {
        case '-':
        case '_':
        case '.':
        case ':':
        case '+':
        case '/':
        case '=':
        case '@':
            return true;
        default:
            return false;
    }
}

// splitmix64: fast, and good enough for ids that only have to differ.
struct Generator {
    std::uint64_t state;
    Generator() {
        std::random_device rd;
        state = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
    }
    std::uint64_t Next() {
        std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
};

}  // namespace

std::optional<std::string_view> AcceptRequestId(std::string_view incoming) {
    while (!incoming.empty() && (incoming.front() == ' ' || incoming.front() == '\t')) {
        incoming.remove_prefix(1);
    }
    while (!incoming.empty() && (incoming.back() == ' ' || incoming.back() == '\t')) {
        incoming.remove_suffix(1);
    }
    if (incoming.empty() || incoming.size() > kMaxRequestIdLength) return std::nullopt;
    for (char c : incoming) {
        if (!Allowed(c)) return std::nullopt;
    }
    return incoming;
}

namespace {

void Generate(std::string& out) {
    static constexpr char kHex[] = "0123456789abcdef";
    thread_local Generator generator;
    out.assign(32, '0');
    for (int half = 0; half < 2; ++half) {
        std::uint64_t bits = generator.Next();
        for (int i = 0; i < 16; ++i, bits >>= 4) {
            out[static_cast<std::size_t>(half * 16 + i)] = kHex[bits & 0xf];
        }
    }
}

}  // namespace

std::string GenerateRequestId() {
    std::string id;
    Generate(id);
    return id;
}

void ChooseRequestId(std::optional<std::string_view> incoming, std::string& out) {
    if (incoming) {
        if (auto kept = AcceptRequestId(*incoming)) {
            out.assign(*kept);
            return;
        }
    }
    Generate(out);
}

std::string ChooseRequestId(std::optional<std::string_view> incoming) {
    std::string id;
    ChooseRequestId(incoming, id);
    return id;
}

}  // namespace firmo::http
