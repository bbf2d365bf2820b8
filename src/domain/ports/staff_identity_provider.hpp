#pragma once
// Port: the sender portal's optional login with the institution's own OpenID Connect provider
// (Entra ID, Keycloak...): authorization-code flow with PKCE, state and nonce, the ID token
// verified as for the signers' eID login (the same client, src/oidc). What it gives is who the
// person is (e-mail address, subject) and the values of the claim that carries their groups or
// roles; StaffService maps those to a role. Blocking (network): never on an I/O thread.

#include <string>
#include <vector>

#include "core/error.hpp"
#include "domain/ports/identity_provider.hpp"

namespace firmo::domain {

struct StaffIdentity {
    std::string subject;             // the provider's `sub`
    std::string email;               // the configured e-mail claim, as sent
    std::vector<std::string> roles;  // the role claim's values (a string or an array of them)
};

class StaffIdentityProvider {
  public:
    virtual ~StaffIdentityProvider() = default;
    StaffIdentityProvider() = default;
    StaffIdentityProvider(const StaffIdentityProvider&) = delete;
    StaffIdentityProvider& operator=(const StaffIdentityProvider&) = delete;

    // The authorization URL with a fresh state, nonce and PKCE verifier (the caller keeps them
    // for CompleteLogin and compares the callback's state).
    [[nodiscard]] virtual Result<LoginStart> BeginLogin(const std::string& redirect_uri) = 0;
    // Exchanges the code and verifies the ID token (signature via JWKS, iss, aud, exp, nonce).
    // kUnauthenticated for anything the provider or the browser got wrong, or no e-mail claim.
    [[nodiscard]] virtual Result<StaffIdentity> CompleteLogin(const std::string& code,
                                                              const std::string& redirect_uri,
                                                              const LoginStart& pending) = 0;
};

}  // namespace firmo::domain
