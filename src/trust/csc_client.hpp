#pragma once
// A client of the Cloud Signature Consortium API v2.0: how Firmo asks a qualified trust service
// provider (QTSP) to sign document hashes with a signer's remote key.
//
// The sequence (CSC v2 sections 8 and 11):
//   Info()                       POST {url}/info: the provider, and its authorization server
//                                (`oauth2`), used when settings.oauth_url is empty;
//   ListCredentials(user)        POST {url}/credentials/list with a service token (OAuth 2.0
//   CredentialInfo(id)           client credentials) / credentials/info: the chain, the key's
//                                algorithms, the SCAL;
//   AuthorizationUrl(request)    {oauth}/oauth2/authorize?response_type=code&scope=credential&...
//                                for the signer's browser: the signer authorizes exactly these
//                                hashes (CSC v2 section 8.4.2), PKCE S256;
//   ExchangeCode(code, verifier) POST {oauth}/oauth2/token: the credential-scoped token;
//   SignHash(token, credential, hashes)  POST {url}/signatures/signHash: one signature value per
//                                hash, each checked against the credential's certificate.
//
// Errors keep the provider's `error` and `error_description` in the message ("QTSP
// signatures/signHash refused (HTTP 400 invalid_request): ..."); secrets (client secret, tokens,
// codes, PKCE verifiers) never appear in messages, logs or metrics. Codes:
//   kUnavailable  no answer, a timeout, HTTP 5xx or 429, a malformed answer: retry later;
//   kGone         the authorization code is invalid, used or expired (`invalid_grant`);
//   kForbidden    any other refusal (4xx): retrying the same call will not help.
// Every call counts in firmo_csc_calls_total{call,outcome} (outcome ok|refused|unavailable).
//
// Thread-safe; blocking (network): never call it on an I/O thread.

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/metrics.hpp"
#include "core/random.hpp"
#include "oidc/http_fetcher.hpp"

namespace firmo::trust {

inline constexpr std::string_view kOidSha256 = "2.16.840.1.101.3.4.2.1";
inline constexpr std::string_view kOidRsa = "1.2.840.113549.1.1.1";
inline constexpr std::string_view kOidRsaSha256 = "1.2.840.113549.1.1.11";
inline constexpr std::string_view kOidEcdsaSha256 = "1.2.840.10045.4.3.2";

struct CscSettings {
    std::string url;            // CSC API base, e.g. "https://qtsp.example/csc/v2" (no "/" at end)
    std::string oauth_url;      // authorization server base; empty: /info's `oauth2`
    std::string client_id;      //
    std::string client_secret;  // secret: never logged
    std::string redirect_uri;   // "{public_url}/qtsp/callback", registered with the provider
};

struct CscInfo {
    std::string specs;  // e.g. "2.0.0.0"
    std::string name;
    std::string oauth2;  // the authorization server's base URL
    std::vector<std::string> auth_types;
    std::vector<std::string> methods;
};

struct CscCredential {
    std::string id;
    std::vector<std::string> chain_der;       // end-entity certificate first, each parsed once
    std::string subject;                      // of the end-entity certificate, one line
    std::vector<std::string> key_algorithms;  // OIDs the key signs with
    int key_length = 0;                       // bits
    std::string key_status;                   // "enabled" | "disabled"
    std::string scal;                         // "1" or "2" (sole control assurance level)
    std::string signature_qualifier;          // e.g. "eu_eidas_qes"; may be empty
    std::string auth_mode;                    // e.g. "oauth2code"; may be empty
};

// PKCE (RFC 7636) S256: a fresh verifier (43 base64url characters) and its challenge.
struct Pkce {
    std::string verifier;  // secret until the code is exchanged: seal it at rest
    std::string challenge;
};
Pkce MakePkce(Random& random);

// What the signer authorizes: `hashes` are raw SHA-256 digests (32 bytes each), in the order
// they will be signed.
struct CscAuthorizationRequest {
    std::string credential_id;
    std::vector<std::string> hashes;
    std::string state;           // opaque, unguessable; the callback matches it
    std::string code_challenge;  // Pkce::challenge
    std::string lang;            // optional, e.g. "it"
};

class CscClient {
  public:
    // `metrics` may be null. `fetcher` must outlive the client (it carries the timeout).
    CscClient(CscSettings settings, oidc::HttpFetcher& fetcher,
              metrics::Registry* metrics = nullptr);

    [[nodiscard]] Result<CscInfo> Info();
    // Credential ids of the person the provider knows as `user_id` (may be empty).
    [[nodiscard]] Result<std::vector<std::string>> ListCredentials(std::string_view user_id);
    [[nodiscard]] Result<CscCredential> CredentialInfo(std::string_view credential_id);
    // The URL for the signer's browser. Needs the authorization server (may call Info()).
    [[nodiscard]] Result<std::string> AuthorizationUrl(const CscAuthorizationRequest& request);
    // The credential-scoped access token for the code the callback received; `lifetime`, when
    // given, receives the provider's `expires_in` (0 when it gave none).
    [[nodiscard]] Result<std::string> ExchangeCode(std::string_view code,
                                                   std::string_view code_verifier,
                                                   std::chrono::seconds* lifetime = nullptr);
    // One signature value per hash (same order): PKCS#1 v1.5 for RSA keys, DER ECDSA-Sig-Value
    // for EC keys (a raw r||s answer is converted), each verified against
    // credential.chain_der[0] before it is returned.
    [[nodiscard]] Result<std::vector<std::string>> SignHash(std::string_view credential_token,
                                                            const CscCredential& credential,
                                                            const std::vector<std::string>& hashes);

    const CscSettings& settings() const { return settings_; }

  private:
    struct Reply;
    [[nodiscard]] Result<Reply> Call(std::string_view call, const oidc::HttpCall& http);
    [[nodiscard]] Result<Reply> PostJson(std::string_view method, std::string_view bearer,
                                         std::string body);
    [[nodiscard]] Result<std::string> ServiceToken();
    [[nodiscard]] Result<std::string> OauthBase();
    void Count(std::string_view call, std::string_view outcome);

    CscSettings settings_;
    oidc::HttpFetcher& fetcher_;
    metrics::Family<metrics::Counter>* calls_ = nullptr;
    std::mutex mu_;
    std::string oauth_base_;     // resolved once
    std::string service_token_;  // cached until shortly before it expires
    std::chrono::steady_clock::time_point service_token_until_{};
};

}  // namespace firmo::trust
