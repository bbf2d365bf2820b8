#pragma once
// domain::QtspGateway over the CSC API v2 client: a fresh state and PKCE pair per
// authorization, the verifier sealed (AES-GCM, crypto/seal.hpp) under a key every node shares,
// so that only this adapter ever sees it in clear.

#include <string>

#include "core/random.hpp"
#include "domain/ports/qtsp.hpp"
#include "trust/csc_client.hpp"

namespace firmo::trust {

class CscGateway final : public domain::QtspGateway {
  public:
    // `seal_key`: 32 bytes. `client` and `random` must outlive the gateway.
    CscGateway(CscClient& client, Random& random, std::string seal_key);

    [[nodiscard]] Result<domain::QtspAuthorizationStart> StartAuthorization(
        const std::string& credential_id, const std::vector<std::string>& digests) override;
    [[nodiscard]] Result<std::string> ExchangeCode(const std::string& code,
                                                   const std::string& sealed_verifier) override;

  private:
    CscClient& client_;
    Random& random_;
    std::string seal_key_;
};

}  // namespace firmo::trust
