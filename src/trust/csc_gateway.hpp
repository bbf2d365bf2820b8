#pragma once
// domain::QtspGateway over the CSC API v2 client: a fresh state and PKCE pair per
// authorization, the verifier sealed (AES-GCM, crypto/seal.hpp) under a key every node shares,
// so that only this adapter ever sees it in clear; the same for the callback's code and the
// token it is exchanged for, which rest sealed in shared storage (any node may use them). The
// adapter keeps no state between calls.

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
    [[nodiscard]] Result<domain::QtspCredential> FindCredential(
        const std::string& user_id) override;
    [[nodiscard]] Result<std::string> Seal(const std::string& secret) override;
    [[nodiscard]] Result<domain::QtspToken> ExchangeCode(
        const std::string& sealed_code, const std::string& sealed_verifier) override;
    [[nodiscard]] Result<std::vector<std::string>> SignHashes(
        const std::string& sealed_token, const std::string& credential_id,
        const std::vector<std::string>& digests) override;

  private:
    [[nodiscard]] Result<std::string> Open(const std::string& sealed,
                                           std::string_view context) const;

    CscClient& client_;
    Random& random_;
    std::string seal_key_;
};

}  // namespace firmo::trust
