#pragma once
// domain::QtspGateway over the CSC API v2 client: a fresh state and PKCE pair per
// authorization, the verifier sealed (AES-GCM, crypto/seal.hpp) under a key every node shares,
// so that only this adapter ever sees it in clear.

#include <chrono>
#include <map>
#include <mutex>
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
    [[nodiscard]] Result<domain::QtspCredential> FindCredential(
        const std::string& user_id) override;
    [[nodiscard]] Result<std::string> Seal(const std::string& secret) override;
    [[nodiscard]] Result<std::vector<std::string>> SignHashes(
        const std::string& sealed_code, const std::string& sealed_verifier,
        const std::string& credential_id, const std::vector<std::string>& digests) override;

  private:
    [[nodiscard]] Result<std::string> Open(const std::string& sealed,
                                           std::string_view context) const;
    // Tokens already exchanged for a code (keyed by the sealed code), kept a few minutes so
    // that a retried signHash does not spend the single-use code twice. This node only.
    struct CachedToken {
        std::string token;
        std::chrono::steady_clock::time_point until;
    };
    std::mutex mu_;
    std::map<std::string, CachedToken> tokens_;

    CscClient& client_;
    Random& random_;
    std::string seal_key_;
};

}  // namespace firmo::trust
