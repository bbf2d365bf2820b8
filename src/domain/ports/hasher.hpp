#pragma once
// Port: the one cryptographic primitive the domain needs directly (hashing API keys and
// identifiers). Implemented over OpenSSL in src/crypto.

#include <string>
#include <string_view>

namespace firmo::domain {

class Hasher {
  public:
    virtual ~Hasher() = default;
    [[nodiscard]] virtual std::string Sha256Hex(std::string_view data) const = 0;
};

}  // namespace firmo::domain
