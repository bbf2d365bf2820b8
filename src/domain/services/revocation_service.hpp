#pragma once
// Use case: the built-in CA's revocations. `firmo ca revoke` records one; the CRL and the OCSP
// responder (api/pki_api) read them. Thread-safe; blocking (database).

#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "domain/ports/database.hpp"

namespace firmo::domain {

class RevocationService {
  public:
    RevocationService(Database& db, const Clock& clock) : db_(db), clock_(clock) {}

    // Revokes `serial` (upper-case hex) now, with an RFC 5280 reason code (0..10, not 7).
    // Revoking again changes nothing and returns the first revocation.
    [[nodiscard]] Result<Revocation> Revoke(const std::string& serial, int reason);
    [[nodiscard]] Result<std::optional<Revocation>> Find(const std::string& serial);
    [[nodiscard]] Result<std::vector<Revocation>> List();

  private:
    Database& db_;
    const Clock& clock_;
};

}  // namespace firmo::domain
