#pragma once
// Just enough JOSE for OpenID Connect ID tokens: JSON Web Key sets (RSA and P-256 public keys),
// compact JWS signatures with RS256, PS256 or ES256 (never `none`, never HMAC), and the ID token
// claim checks of OIDC Core section 3.1.3.7. Pure functions over immutable values; thread-safe.

#include <openssl/evp.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "crypto/openssl_util.hpp"

namespace firmo::oidc {

enum class JwsAlgorithm { kRs256, kPs256, kEs256 };
std::string_view ToString(JwsAlgorithm alg);  // "RS256", ...
// Only the three algorithms above; `none`, HS256 and anything else are nullopt.
std::optional<JwsAlgorithm> ParseJwsAlgorithm(std::string_view text);

struct Jwk {
    std::string kid;  // may be empty
    std::string alg;  // as published, may be empty
    bool is_ec = false;
    crypto::PkeyPtr key;
};

// The signature keys of a provider. Keys that cannot verify a signature of ours (`use: enc`,
// symmetric, other curves, RSA under 2048 bits, malformed) are left out rather than failing the
// whole set, since providers publish keys for other purposes next to theirs.
class JwkSet {
  public:
    [[nodiscard]] static Result<JwkSet> Parse(std::string_view json);

    // The key for a token's `kid` and `alg`: with a kid, the key with that kid (if its type and
    // published alg fit); without one, the only key that fits. nullptr when there is none.
    const Jwk* Find(std::string_view kid, JwsAlgorithm alg) const;
    std::size_t size() const { return keys_.size(); }

  private:
    std::vector<Jwk> keys_;
};

// A compact JWS split and decoded; the signature is not checked yet.
struct Jws {
    nlohmann::json header;
    nlohmann::json payload;  // an object
    JwsAlgorithm alg = JwsAlgorithm::kRs256;
    std::string kid;
    std::string signing_input;  // "header.payload" as received
    std::string signature;      // raw bytes (ES256: r || s)
};

// kUnauthenticated for anything malformed or an algorithm outside the allowed three.
[[nodiscard]] Result<Jws> ParseJws(std::string_view compact);
// kUnauthenticated when the signature does not verify with `key`.
[[nodiscard]] Result<void> VerifyJwsSignature(const Jws& jws, EVP_PKEY* key);

struct IdTokenExpectations {
    std::string issuer;
    std::string client_id;
    std::string nonce;
    Timestamp now;
    std::chrono::seconds clock_skew{60};
    // Re-authentication: auth_time must be present and not before this (minus the skew).
    std::optional<Timestamp> authenticated_after;
};

struct IdToken {
    nlohmann::json claims;
    std::string subject;
    Timestamp issued_at;
    std::optional<Timestamp> auth_time;
};

// iss, aud/azp, exp, iat, nbf, nonce, sub and auth_time of an already signature-checked payload.
[[nodiscard]] Result<IdToken> ValidateIdTokenClaims(const nlohmann::json& payload,
                                                    const IdTokenExpectations& expect);

// ParseJws + key lookup + VerifyJwsSignature + ValidateIdTokenClaims.
[[nodiscard]] Result<IdToken> VerifyIdToken(std::string_view compact, const JwkSet& keys,
                                            const IdTokenExpectations& expect);

// OIDC Core 3.1.3.8: base64url of the left half of SHA-256(access_token) (all three algorithms
// use SHA-256).
std::string AccessTokenHash(std::string_view access_token);

}  // namespace firmo::oidc
