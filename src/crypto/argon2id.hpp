#pragma once
// domain::PasswordHasher over libsodium's Argon2id (crypto_pwhash_str): the sender portal's staff
// passwords. Parameters follow OWASP's Password Storage Cheat Sheet (m = 19 MiB, t = 2, p = 1):
// ~20-40 ms of one core per hash or check. The output is the PHC string
// ("$argon2id$v=19$m=19456,t=2,p=1$salt$hash"), so stronger parameters later still verify old
// hashes. Thread-safe (libsodium is initialised once); blocking (CPU and memory).

#include "domain/ports/password_hasher.hpp"

namespace firmo::crypto {

class Argon2idHasher final : public domain::PasswordHasher {
  public:
    // Initialises libsodium (once per process; safe to repeat). Should that fail, Hash fails
    // (kInternal) and Verify answers false.
    Argon2idHasher();

    [[nodiscard]] Result<std::string> Hash(std::string_view password) const override;
    [[nodiscard]] bool Verify(std::string_view hash, std::string_view password) const override;

  private:
    bool ready_ = false;
};

}  // namespace firmo::crypto
