#pragma once
// Port: pending credential authorizations at a QTSP (CSC API v2 section 8.4.2). When a signer
// confirms and the signature values come from a qualified trust service provider, Firmo sends
// the signer's browser to the provider with a `state`, the hashes to authorize and a PKCE
// challenge, and keeps this row until the provider redirects back to /qtsp/callback. One row
// per attempt: a denied or abandoned attempt leaves the signer free to start another.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"

namespace firmo::domain {

struct QtspAuthorization {
    std::string state_hash;     // SHA-256 hex of the `state` (the state itself is a bearer secret)
    std::string request_id;     //
    std::string signer_id;      //
    std::string credential_id;  // the QTSP's credentialID
    std::vector<std::string> hashes;  // base64url of each SHA-256 digest, in signing order
    std::string sealed_verifier;      // the PKCE verifier, sealed by the QTSP adapter
    Timestamp created_at;
    Timestamp expires_at;
    std::optional<Timestamp> finished_at;  // set once, by Finish
    std::string outcome;                   // "" while pending, then "authorized" or "denied"
    // What the signing job needs, where every node sees it (sealed by the QTSP adapter):
    std::string sealed_code;   // the callback's authorization code (single-use at the provider)
    std::string sealed_token;  // the credential-scoped token it was exchanged for, until used
    std::optional<Timestamp> token_expires_at;  // when the provider stops honouring the token
    friend bool operator==(const QtspAuthorization&, const QtspAuthorization&) = default;
};

class QtspAuthorizationRepository {
  public:
    virtual ~QtspAuthorizationRepository() = default;
    QtspAuthorizationRepository() = default;
    QtspAuthorizationRepository(const QtspAuthorizationRepository&) = delete;
    QtspAuthorizationRepository& operator=(const QtspAuthorizationRepository&) = delete;

    // kAlreadyExists when the state hash is taken.
    [[nodiscard]] virtual Result<void> Insert(const QtspAuthorization& a) = 0;
    [[nodiscard]] virtual Result<std::optional<QtspAuthorization>> Find(
        const std::string& state_hash) = 0;
    // Marks the authorization finished with `outcome` at `at`, if it is still pending and not
    // expired at `at`. Returns false otherwise (finished already: a replayed callback; or too
    // late). Atomic: of concurrent callers (any node), exactly one gets true.
    [[nodiscard]] virtual Result<bool> Finish(const std::string& state_hash,
                                              const std::string& outcome, Timestamp at) = 0;
    // Removes authorizations that expired before `before` (finished or not); returns how many.
    [[nodiscard]] virtual Result<std::int64_t> DeleteExpired(Timestamp before) = 0;
    // Stores `a`'s sealed_code, sealed_token and token_expires_at on its row (Insert ignores
    // them). Returns false when there is no such row.
    [[nodiscard]] virtual Result<bool> KeepSecrets(const QtspAuthorization& a) = 0;
    // Clears the tokens that expired before `now`; returns how many.
    [[nodiscard]] virtual Result<std::int64_t> ForgetExpiredTokens(Timestamp now) = 0;
};

}  // namespace firmo::domain
