#pragma once
// domain::StaffIdentityProvider over the signers' OpenID Connect client (OidcIdentityProvider
// with `eid` off): the same discovery, PKCE, state, nonce and ID token checks, then the person's
// e-mail address and role claim. Thread-safe; blocking (network): never on an I/O thread.

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "domain/ports/staff_identity_provider.hpp"
#include "oidc/oidc_identity_provider.hpp"

namespace firmo::oidc {

struct StaffOidcOptions {
    std::string issuer;
    std::string client_id;
    std::string client_secret;
    std::string scopes = "openid email profile";
    std::string email_claim = "email";
    std::string role_claim = "roles";
};

class OidcStaffProvider final : public domain::StaffIdentityProvider {
  public:
    // kInvalidArgument for unusable options (as OidcIdentityProvider::Create; no role claim).
    [[nodiscard]] static Result<std::unique_ptr<OidcStaffProvider>> Create(
        const StaffOidcOptions& options, std::shared_ptr<HttpFetcher> http, const Clock& clock,
        Random& random);

    [[nodiscard]] Result<domain::LoginStart> BeginLogin(const std::string& redirect_uri) override;
    [[nodiscard]] Result<domain::StaffIdentity> CompleteLogin(
        const std::string& code, const std::string& redirect_uri,
        const domain::LoginStart& pending) override;

  private:
    OidcStaffProvider(std::unique_ptr<OidcIdentityProvider> client, std::string role_claim)
        : client_(std::move(client)), role_claim_(std::move(role_claim)) {}

    std::unique_ptr<OidcIdentityProvider> client_;
    std::string role_claim_;
};

// The staff identity in verified claims: `email_claim` (a non-empty string, else
// kUnauthenticated), `role_claim` as a string or an array of strings (absent: no roles).
[[nodiscard]] Result<domain::StaffIdentity> MapStaffIdentity(const nlohmann::json& claims,
                                                             const std::string& email_claim,
                                                             const std::string& role_claim);

}  // namespace firmo::oidc
