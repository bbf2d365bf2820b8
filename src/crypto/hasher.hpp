#pragma once
// domain::Hasher over OpenSSL.

#include "domain/ports/hasher.hpp"

namespace firmo::crypto {

class OpenSslHasher final : public domain::Hasher {
  public:
    std::string Sha256Hex(std::string_view data) const override;
};

}  // namespace firmo::crypto
