#pragma once
// Port: login with a national eID through an OpenID Connect provider (SPID/CIE style with a
// `fiscal_number` claim, ID-porten style with `pid`). Authorization-code flow with PKCE: the
// portal keeps the LoginStart in the signer's session between the redirect and the callback.
// Implemented by src/oidc; blocking (network), never called on an I/O thread.

#include <string>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "domain/authentication.hpp"
#include "domain/identifiers.hpp"

namespace firmo::domain {

// What the portal must remember between BeginLogin and CompleteLogin (secrets: kept server-side).
struct LoginStart {
    std::string authorize_url;  // where to send the browser
    std::string state;          // compared with the callback's `state` by the portal
    std::string nonce;          // checked against the ID token by CompleteLogin
    std::string code_verifier;  // PKCE (S256)
    Timestamp started_at;       // re-authentication must be newer than this
    bool reauthentication = false;
    AuthLevel min_level = AuthLevel::kEidSubstantial;  // asked for; a lower acr is refused
};

struct VerifiedIdentity {
    IdentifierKind kind = IdentifierKind::kItFiscalCode;
    std::string identifier;  // normalised (NormalizeFiscalCode / NormalizeNorwegianNin)
    std::string full_name;   // "name" claim, or given + family name; may be empty
    std::string given_name;
    std::string family_name;
    std::string subject;  // the provider's `sub`
    Timestamp auth_time;  // when the person authenticated (auth_time claim, else iat)
    AuthLevel level = AuthLevel::kEidSubstantial;  // from the ID token's acr
    std::string acr;                               // as the provider stated it
};

class IdentityProvider {
  public:
    virtual ~IdentityProvider() = default;
    IdentityProvider() = default;
    IdentityProvider(const IdentityProvider&) = delete;
    IdentityProvider& operator=(const IdentityProvider&) = delete;

    // Builds the authorization URL (fresh state, nonce and PKCE verifier), asking for at least
    // `min_level` (acr_values; an eID level). With `reauthentication` the provider is asked to
    // authenticate the person again now (prompt=login, max_age=0), for the second factor before
    // signing.
    [[nodiscard]] virtual Result<LoginStart> BeginLogin(const std::string& redirect_uri,
                                                        bool reauthentication,
                                                        AuthLevel min_level) = 0;
    // Exchanges the code, validates the ID token (signature via JWKS, iss, aud, exp, nonce,
    // auth_time for re-authentication, an `acr` of at least pending.min_level) and maps the
    // configured claim to an identifier. kUnauthenticated for anything the provider or the
    // browser got wrong; kAuthenticationRequired when the provider authenticated the person
    // at a lower level than asked.
    [[nodiscard]] virtual Result<VerifiedIdentity> CompleteLogin(const std::string& code,
                                                                 const std::string& redirect_uri,
                                                                 const LoginStart& pending) = 0;
};

}  // namespace firmo::domain
