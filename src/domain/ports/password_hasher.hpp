#pragma once
// Port: password hashing for staff accounts (a slow, salted, memory-hard function: Argon2id in
// src/crypto). Thread-safe; Hash and Verify are deliberately slow (tens of milliseconds) and
// allocate their memory cost: never call them on an I/O thread.

#include <string>
#include <string_view>

#include "core/error.hpp"

namespace firmo::domain {

class PasswordHasher {
  public:
    virtual ~PasswordHasher() = default;
    PasswordHasher() = default;
    PasswordHasher(const PasswordHasher&) = delete;
    PasswordHasher& operator=(const PasswordHasher&) = delete;

    // A self-describing string (algorithm, parameters, salt, hash).
    [[nodiscard]] virtual Result<std::string> Hash(std::string_view password) const = 0;
    // False for a wrong password or a malformed hash.
    [[nodiscard]] virtual bool Verify(std::string_view hash, std::string_view password) const = 0;
};

}  // namespace firmo::domain
