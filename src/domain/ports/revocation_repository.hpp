#pragma once
// Port: the built-in CA's revocations, shared by every node (the CRL and the OCSP responder
// read them; `firmo ca revoke` writes them). A certificate is named by its serial number as
// upper-case hexadecimal without leading zeros (what `openssl x509 -serial` prints).

#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"

namespace firmo::domain {

struct Revocation {
    std::string serial;    // upper-case hex
    Timestamp revoked_at;  // when it took effect
    int reason = 0;        // RFC 5280 CRLReason (0 unspecified, 1 keyCompromise, ...)
    friend bool operator==(const Revocation&, const Revocation&) = default;
};

class RevocationRepository {
  public:
    virtual ~RevocationRepository() = default;
    RevocationRepository() = default;
    RevocationRepository(const RevocationRepository&) = delete;
    RevocationRepository& operator=(const RevocationRepository&) = delete;

    // Records `r` unless its serial is revoked already; returns the revocation now stored (the
    // first one: a revocation is never moved in time).
    [[nodiscard]] virtual Result<Revocation> Revoke(const Revocation& r) = 0;
    [[nodiscard]] virtual Result<std::optional<Revocation>> Find(const std::string& serial) = 0;
    // Every revocation, oldest first.
    [[nodiscard]] virtual Result<std::vector<Revocation>> List() = 0;
};

}  // namespace firmo::domain
