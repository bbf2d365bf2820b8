#include "crypto/argon2id.hpp"

#include <sodium.h>

#include <string>

namespace firmo::crypto {

namespace {

constexpr unsigned long long kOpsLimit = 2;
constexpr std::size_t kMemLimit = std::size_t{19} * 1024 * 1024;

}  // namespace

Argon2idHasher::Argon2idHasher() : ready_(sodium_init() >= 0) {}

Result<std::string> Argon2idHasher::Hash(std::string_view password) const {
    if (!ready_) return Fail(ErrorCode::kInternal, "libsodium could not be initialised");
    std::string out(crypto_pwhash_STRBYTES, '\0');
    if (crypto_pwhash_str_alg(out.data(), password.data(), password.size(), kOpsLimit, kMemLimit,
                              crypto_pwhash_ALG_ARGON2ID13) != 0) {
        return Fail(ErrorCode::kUnavailable, "not enough memory to hash a password");
    }
    out.resize(std::char_traits<char>::length(out.c_str()));
    return out;
}

bool Argon2idHasher::Verify(std::string_view hash, std::string_view password) const {
    if (!ready_ || hash.empty() || hash.size() >= crypto_pwhash_STRBYTES) return false;
    const std::string terminated(hash);  // libsodium wants a C string
    return crypto_pwhash_str_verify(terminated.c_str(), password.data(), password.size()) == 0;
}

}  // namespace firmo::crypto
