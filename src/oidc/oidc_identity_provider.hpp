#pragma once
// The IdentityProvider port as an OpenID Connect relying party (authorization-code flow with
// PKCE S256): discovery and JWKS are fetched on first use and cached; the JWKS is fetched again
// once when a token names an unknown key (rotation). Thread-safe: one instance serves all HTTP
// worker threads. Blocking (network); never call it on an I/O thread.

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/random.hpp"
#include "domain/identifiers.hpp"
#include "domain/ports/identity_provider.hpp"
#include "oidc/http_fetcher.hpp"

namespace firmo::oidc {

struct OidcOptions {
    std::string issuer;  // exactly as the provider's discovery document states it
    std::string client_id;
    std::string client_secret;  // empty = public client, PKCE only
    std::string scopes = "openid profile";
    std::string identifier_claim = "fiscal_number";  // or "pid" (ID-porten)
    domain::IdentifierKind identifier_kind = domain::IdentifierKind::kItFiscalCode;
    // The provider's acr values per eID level (the first of a level is asked for); empty lists
    // are filled with domain::DefaultAcrValues(identifier_kind).
    domain::AcrValues acr_values;
    std::chrono::seconds http_timeout{10};
    std::chrono::seconds clock_skew{60};
    // false: a staff login (OidcStaffProvider): no acr asked for or checked, no eID identifier
    // mapped; identifier_claim names the claim that must be there (the e-mail address).
    bool eid = true;
};

struct IdToken;

class JwkSet;

class OidcIdentityProvider final : public domain::IdentityProvider {
  public:
    // kInvalidArgument for unusable options (issuer not http(s), no client_id, no "openid" scope,
    // no identifier claim). Nothing is fetched yet. `clock` and `random` must outlive the object.
    [[nodiscard]] static Result<std::unique_ptr<OidcIdentityProvider>> Create(
        OidcOptions options, std::shared_ptr<HttpFetcher> http, const Clock& clock, Random& random);
    // Same, with a CurlHttpFetcher using options.http_timeout.
    [[nodiscard]] static Result<std::unique_ptr<OidcIdentityProvider>> Create(OidcOptions options,
                                                                              const Clock& clock,
                                                                              Random& random);
    ~OidcIdentityProvider() override;

    [[nodiscard]] Result<domain::LoginStart> BeginLogin(const std::string& redirect_uri,
                                                        bool reauthentication,
                                                        domain::AuthLevel min_level) override;
    [[nodiscard]] Result<domain::VerifiedIdentity> CompleteLogin(
        const std::string& code, const std::string& redirect_uri,
        const domain::LoginStart& pending) override;

    const OidcOptions& options() const { return options_; }

    // The steps both kinds of login share. BeginPlainLogin: the authorization URL without an
    // eID level. VerifyCode: the code exchanged and the ID token verified (signature via JWKS,
    // iss, aud, exp, nonce, at_hash), its claims completed from userinfo when they lack
    // identifier_claim.
    [[nodiscard]] Result<domain::LoginStart> BeginPlainLogin(const std::string& redirect_uri);
    [[nodiscard]] Result<IdToken> VerifyCode(const std::string& code,
                                             const std::string& redirect_uri,
                                             const domain::LoginStart& pending);

  private:
    struct Discovery {
        std::string issuer;
        std::string authorization_endpoint;
        std::string token_endpoint;
        std::string userinfo_endpoint;  // may be empty
        std::string jwks_uri;
    };
    struct Tokens {
        std::string id_token;
        std::string access_token;
    };

    OidcIdentityProvider(OidcOptions options, std::shared_ptr<HttpFetcher> http, const Clock& clock,
                         Random& random);

    [[nodiscard]] Result<domain::LoginStart> BeginLoginUnguarded(const std::string& redirect_uri,
                                                                 bool reauthentication,
                                                                 domain::AuthLevel min_level);
    [[nodiscard]] Result<domain::VerifiedIdentity> CompleteLoginUnguarded(
        const std::string& code, const std::string& redirect_uri,
        const domain::LoginStart& pending);
    [[nodiscard]] Result<IdToken> VerifyCodeUnguarded(const std::string& code,
                                                      const std::string& redirect_uri,
                                                      const domain::LoginStart& pending);
    [[nodiscard]] Result<Discovery> GetDiscovery();
    // The cached key set, or a freshly fetched one when `refresh` or nothing is cached yet.
    [[nodiscard]] Result<std::shared_ptr<const JwkSet>> GetKeys(const Discovery& discovery,
                                                                bool refresh);
    [[nodiscard]] Result<Tokens> RedeemCode(const Discovery& discovery, const std::string& code,
                                            const std::string& redirect_uri,
                                            const std::string& code_verifier);
    [[nodiscard]] Result<std::string> FetchUserinfo(const Discovery& discovery,
                                                    const std::string& access_token);

    OidcOptions options_;
    std::shared_ptr<HttpFetcher> http_;
    const Clock& clock_;
    Random& random_;

    // Fetches happen outside the lock (a slow provider must not hold up logins that only need
    // the cache); two threads racing to fill an empty cache both fetch, the last one wins.
    std::mutex mu_;
    std::optional<Discovery> discovery_;
    std::shared_ptr<const JwkSet> keys_;
};

}  // namespace firmo::oidc
