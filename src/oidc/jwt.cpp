#include "oidc/jwt.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include <algorithm>
#include <cmath>

#include "core/encoding.hpp"
#include "crypto/digest.hpp"

namespace firmo::oidc {
namespace {

using crypto::BignumPtr;
using crypto::OpensslPtr;
using crypto::PkeyCtxPtr;
using crypto::PkeyPtr;
using MdCtxPtr = OpensslPtr<EVP_MD_CTX, EVP_MD_CTX_free>;
using EcdsaSigPtr = OpensslPtr<ECDSA_SIG, ECDSA_SIG_free>;
using ParamBldPtr = OpensslPtr<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>;
using ParamPtr = OpensslPtr<OSSL_PARAM, OSSL_PARAM_free>;

// No real ID token comes near this; the cap keeps a hostile one from costing much.
constexpr std::size_t kMaxTokenBytes = 64 * 1024;
constexpr int kMinRsaBits = 2048;
constexpr std::size_t kP256CoordinateBytes = 32;

tl::unexpected<Error> Reject(std::string why) {
    return Fail(ErrorCode::kUnauthenticated, "ID token rejected: " + std::move(why));
}

const std::string* StringMember(const nlohmann::json& object, const char* name) {
    auto it = object.find(name);
    if (it == object.end() || !it->is_string()) return nullptr;
    return it->get_ptr<const std::string*>();
}

std::optional<nlohmann::json> DecodeJsonObject(std::string_view base64url) {
    std::optional<std::string> text = Base64UrlDecode(base64url);
    if (!text) return std::nullopt;
    nlohmann::json value = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
    if (!value.is_object()) return std::nullopt;
    return value;
}

BignumPtr BignumFromBytes(std::string_view bytes) {
    return BignumPtr(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()),
                               static_cast<int>(bytes.size()), nullptr));
}

// EVP_PKEY_fromdata with a public-key selection, then a public-key check (for EC this rejects
// points off the curve, the classic invalid-curve attack).
PkeyPtr KeyFromParams(const char* type, OSSL_PARAM_BLD* bld) {
    ParamPtr params(OSSL_PARAM_BLD_to_param(bld));
    PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
    EVP_PKEY* raw = nullptr;
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
        EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
        return nullptr;
    }
    PkeyPtr key(raw);
    PkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
    if (!check || EVP_PKEY_public_check(check.get()) != 1) return nullptr;
    return key;
}

PkeyPtr RsaKeyFromJwk(const nlohmann::json& jwk) {
    const std::string* n64 = StringMember(jwk, "n");
    const std::string* e64 = StringMember(jwk, "e");
    if (n64 == nullptr || e64 == nullptr) return nullptr;
    std::optional<std::string> n = Base64UrlDecode(*n64);
    std::optional<std::string> e = Base64UrlDecode(*e64);
    if (!n || !e || n->empty() || e->empty() || e->size() > 8) return nullptr;
    BignumPtr n_bn = BignumFromBytes(*n);
    BignumPtr e_bn = BignumFromBytes(*e);
    ParamBldPtr bld(OSSL_PARAM_BLD_new());
    if (!n_bn || !e_bn || !bld ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n_bn.get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e_bn.get()) != 1) {
        return nullptr;
    }
    PkeyPtr key = KeyFromParams("RSA", bld.get());
    if (key && EVP_PKEY_get_bits(key.get()) < kMinRsaBits) return nullptr;
    return key;
}

PkeyPtr P256KeyFromJwk(const nlohmann::json& jwk) {
    const std::string* crv = StringMember(jwk, "crv");
    const std::string* x64 = StringMember(jwk, "x");
    const std::string* y64 = StringMember(jwk, "y");
    if (crv == nullptr || *crv != "P-256" || x64 == nullptr || y64 == nullptr) return nullptr;
    std::optional<std::string> x = Base64UrlDecode(*x64);
    std::optional<std::string> y = Base64UrlDecode(*y64);
    if (!x || !y || x->size() != kP256CoordinateBytes || y->size() != kP256CoordinateBytes) {
        return nullptr;
    }
    const std::string point = "\x04" + *x + *y;  // SEC 1 uncompressed point
    char group[] = "prime256v1";
    ParamBldPtr bld(OSSL_PARAM_BLD_new());
    if (!bld ||
        OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                         point.size()) != 1) {
        return nullptr;
    }
    return KeyFromParams("EC", bld.get());
}

// A JWK usable for verifying our signatures, or nullopt (see JwkSet).
std::optional<Jwk> ParseJwk(const nlohmann::json& jwk) {
    if (!jwk.is_object()) return std::nullopt;
    const std::string* kty = StringMember(jwk, "kty");
    const std::string* use = StringMember(jwk, "use");
    const std::string* alg = StringMember(jwk, "alg");
    const std::string* kid = StringMember(jwk, "kid");
    if (kty == nullptr || (use != nullptr && *use != "sig")) return std::nullopt;
    if (auto ops = jwk.find("key_ops"); ops != jwk.end()) {
        if (!ops->is_array() ||
            std::find(ops->begin(), ops->end(), nlohmann::json("verify")) == ops->end()) {
            return std::nullopt;
        }
    }
    Jwk out;
    out.kid = kid != nullptr ? *kid : "";
    out.alg = alg != nullptr ? *alg : "";
    std::optional<JwsAlgorithm> published;
    if (alg != nullptr) {
        published = ParseJwsAlgorithm(*alg);
        if (!published) return std::nullopt;  // a key for some other algorithm
    }
    if (*kty == "RSA") {
        if (published == JwsAlgorithm::kEs256) return std::nullopt;
        out.key = RsaKeyFromJwk(jwk);
    } else if (*kty == "EC") {
        if (published && published != JwsAlgorithm::kEs256) return std::nullopt;
        out.is_ec = true;
        out.key = P256KeyFromJwk(jwk);
    }
    ERR_clear_error();
    if (!out.key) return std::nullopt;
    return out;
}

bool KeyFits(const Jwk& jwk, JwsAlgorithm alg) {
    if (jwk.is_ec != (alg == JwsAlgorithm::kEs256)) return false;
    return jwk.alg.empty() || jwk.alg == ToString(alg);
}

// JWS ES256 signatures are the two 32-byte integers side by side (RFC 7518 section 3.4);
// EVP_DigestVerify wants the DER ECDSA-Sig-Value.
std::optional<std::string> EcdsaRawToDer(std::string_view raw) {
    if (raw.size() != 2 * kP256CoordinateBytes) return std::nullopt;
    BignumPtr r = BignumFromBytes(raw.substr(0, kP256CoordinateBytes));
    BignumPtr s = BignumFromBytes(raw.substr(kP256CoordinateBytes));
    EcdsaSigPtr sig(ECDSA_SIG_new());
    if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) return std::nullopt;
    (void)r.release();  // owned by sig now
    (void)s.release();
    auto der = crypto::ToDer(sig.get(), i2d_ECDSA_SIG, "cannot encode the ECDSA signature");
    if (!der) return std::nullopt;
    return *der;
}

// A JSON NumericDate (seconds since the epoch, possibly fractional) as a Timestamp.
std::optional<Timestamp> NumericDate(const nlohmann::json& claims, const char* name) {
    auto it = claims.find(name);
    if (it == claims.end() || !it->is_number()) return std::nullopt;
    const double seconds = it->get<double>();
    // Year 5138 and earlier; keeps the conversion below well inside int64 milliseconds.
    if (!std::isfinite(seconds) || seconds < 0 || seconds > 1e11) return std::nullopt;
    return FromUnixMillis(static_cast<std::int64_t>(seconds * 1000.0));
}

}  // namespace

std::string_view ToString(JwsAlgorithm alg) {
    switch (alg) {
        case JwsAlgorithm::kRs256:
            return "RS256";
        case JwsAlgorithm::kPs256:
            return "PS256";
        case JwsAlgorithm::kEs256:
            return "ES256";
    }
    return "?";
}

std::optional<JwsAlgorithm> ParseJwsAlgorithm(std::string_view text) {
    if (text == "RS256") return JwsAlgorithm::kRs256;
    if (text == "PS256") return JwsAlgorithm::kPs256;
    if (text == "ES256") return JwsAlgorithm::kEs256;
    return std::nullopt;
}

Result<JwkSet> JwkSet::Parse(std::string_view json) {
    nlohmann::json doc = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
    auto keys = doc.is_object() ? doc.find("keys") : doc.end();
    if (!doc.is_object() || keys == doc.end() || !keys->is_array()) {
        return Fail(ErrorCode::kUnavailable, "the provider's JWKS is not a JSON key set");
    }
    JwkSet set;
    for (const nlohmann::json& entry : *keys) {
        if (std::optional<Jwk> jwk = ParseJwk(entry)) set.keys_.push_back(std::move(*jwk));
    }
    return set;
}

const Jwk* JwkSet::Find(std::string_view kid, JwsAlgorithm alg) const {
    const Jwk* only = nullptr;
    int fitting = 0;
    for (const Jwk& jwk : keys_) {
        if (!KeyFits(jwk, alg)) continue;
        if (!kid.empty() && jwk.kid == kid) return &jwk;
        only = &jwk;
        ++fitting;
    }
    // OIDC Core 10.1: without a kid the set must hold a single candidate.
    return kid.empty() && fitting == 1 ? only : nullptr;
}

Result<Jws> ParseJws(std::string_view compact) {
    if (compact.size() > kMaxTokenBytes) return Reject("too large");
    const std::size_t dot1 = compact.find('.');
    const std::size_t dot2 = dot1 == std::string_view::npos ? dot1 : compact.find('.', dot1 + 1);
    if (dot2 == std::string_view::npos || compact.find('.', dot2 + 1) != std::string_view::npos) {
        return Reject("not a compact JWS (three dot-separated parts)");
    }
    Jws jws;
    std::optional<nlohmann::json> header = DecodeJsonObject(compact.substr(0, dot1));
    std::optional<nlohmann::json> payload =
        DecodeJsonObject(compact.substr(dot1 + 1, dot2 - dot1 - 1));
    std::optional<std::string> signature = Base64UrlDecode(compact.substr(dot2 + 1));
    if (!header) return Reject("the JOSE header is not a base64url JSON object");
    if (!payload) return Reject("the payload is not a base64url JSON object");
    if (!signature || signature->empty()) return Reject("missing or malformed signature");
    const std::string* alg = StringMember(*header, "alg");
    if (alg == nullptr) return Reject("the JOSE header has no alg");
    std::optional<JwsAlgorithm> parsed = ParseJwsAlgorithm(*alg);
    if (!parsed) return Reject("algorithm " + *alg + " is not accepted (RS256, PS256, ES256 only)");
    // RFC 7515 4.1.11: extensions we do not understand must not be ignored.
    if (header->contains("crit")) return Reject("critical header extensions are not supported");
    if (header->contains("kid") && StringMember(*header, "kid") == nullptr) {
        return Reject("kid is not a string");
    }
    jws.alg = *parsed;
    if (const std::string* kid = StringMember(*header, "kid")) jws.kid = *kid;
    jws.header = std::move(*header);
    jws.payload = std::move(*payload);
    jws.signing_input = std::string(compact.substr(0, dot2));
    jws.signature = std::move(*signature);
    return jws;
}

Result<void> VerifyJwsSignature(const Jws& jws, EVP_PKEY* key) {
    const bool ec = jws.alg == JwsAlgorithm::kEs256;
    if (EVP_PKEY_get_base_id(key) != (ec ? EVP_PKEY_EC : EVP_PKEY_RSA)) {
        return Reject("the key type does not match " + std::string(ToString(jws.alg)));
    }
    std::string der;
    std::string_view signature = jws.signature;
    if (ec) {
        std::optional<std::string> converted = EcdsaRawToDer(jws.signature);
        if (!converted) {
            ERR_clear_error();
            return Reject("an ES256 signature must be 64 bytes (r || s)");
        }
        der = std::move(*converted);
        signature = der;
    }
    MdCtxPtr md(EVP_MD_CTX_new());
    EVP_PKEY_CTX* pctx = nullptr;  // owned by md
    bool ok = md && EVP_DigestVerifyInit(md.get(), &pctx, EVP_sha256(), nullptr, key) == 1;
    if (ok && jws.alg == JwsAlgorithm::kPs256) {
        // RFC 7518 3.5: MGF1 with SHA-256 and a salt as long as the hash.
        ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
             EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) == 1 &&
             EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1;
    }
    if (!ok) return Fail(crypto::OpensslError("cannot set up signature verification"));
    const int verified = EVP_DigestVerify(
        md.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
        reinterpret_cast<const unsigned char*>(jws.signing_input.data()), jws.signing_input.size());
    ERR_clear_error();
    if (verified != 1) return Reject("the signature does not verify");
    return {};
}

Result<IdToken> ValidateIdTokenClaims(const nlohmann::json& payload,
                                      const IdTokenExpectations& expect) {
    using std::chrono::duration_cast;
    using std::chrono::milliseconds;
    const milliseconds skew = duration_cast<milliseconds>(expect.clock_skew);

    const std::string* iss = StringMember(payload, "iss");
    if (iss == nullptr || *iss != expect.issuer) {
        return Reject("issuer " + (iss ? "'" + *iss + "'" : "(none)") + " is not '" +
                      expect.issuer + "'");
    }
    auto aud = payload.find("aud");
    std::vector<std::string> audiences;
    if (aud != payload.end() && aud->is_string()) {
        audiences.push_back(aud->get<std::string>());
    } else if (aud != payload.end() && aud->is_array()) {
        for (const nlohmann::json& a : *aud) {
            if (!a.is_string()) return Reject("aud holds a non-string");
            audiences.push_back(a.get<std::string>());
        }
    }
    if (std::find(audiences.begin(), audiences.end(), expect.client_id) == audiences.end()) {
        return Reject("the audience does not include client " + expect.client_id);
    }
    const std::string* azp = StringMember(payload, "azp");
    if (payload.contains("azp") && (azp == nullptr || *azp != expect.client_id)) {
        return Reject("azp is not this client");
    }
    if (audiences.size() > 1 && azp == nullptr) {
        return Reject("several audiences and no azp");
    }

    std::optional<Timestamp> exp = NumericDate(payload, "exp");
    std::optional<Timestamp> iat = NumericDate(payload, "iat");
    if (!exp) return Reject("missing or malformed exp");
    if (!iat) return Reject("missing or malformed iat");
    if (expect.now >= *exp + skew) return Reject("expired at " + FormatRfc3339(*exp));
    if (*iat > expect.now + skew)
        return Reject("issued in the future (" + FormatRfc3339(*iat) + ")");
    if (payload.contains("nbf")) {
        std::optional<Timestamp> nbf = NumericDate(payload, "nbf");
        if (!nbf) return Reject("malformed nbf");
        if (*nbf > expect.now + skew) return Reject("not valid before " + FormatRfc3339(*nbf));
    }

    const std::string* nonce = StringMember(payload, "nonce");
    if (expect.nonce.empty() || nonce == nullptr || !ConstantTimeEquals(*nonce, expect.nonce)) {
        return Reject("the nonce does not match this login");
    }
    const std::string* sub = StringMember(payload, "sub");
    if (sub == nullptr || sub->empty()) return Reject("missing sub");

    IdToken token;
    if (payload.contains("auth_time")) {
        token.auth_time = NumericDate(payload, "auth_time");
        if (!token.auth_time) return Reject("malformed auth_time");
    }
    if (expect.authenticated_after) {
        if (!token.auth_time) return Reject("re-authentication asked, but there is no auth_time");
        if (*token.auth_time < *expect.authenticated_after - skew) {
            return Reject("re-authentication asked, but the person authenticated at " +
                          FormatRfc3339(*token.auth_time) + ", before the login started");
        }
    }
    token.claims = payload;
    token.subject = *sub;
    token.issued_at = *iat;
    return token;
}

Result<IdToken> VerifyIdToken(std::string_view compact, const JwkSet& keys,
                              const IdTokenExpectations& expect) {
    FIRMO_TRY(Jws jws, ParseJws(compact));
    const Jwk* key = keys.Find(jws.kid, jws.alg);
    if (key == nullptr) {
        return Reject("no " + std::string(ToString(jws.alg)) + " key " +
                      (jws.kid.empty() ? "(no kid)" : "'" + jws.kid + "'") +
                      " in the provider's key set");
    }
    FIRMO_CHECK(VerifyJwsSignature(jws, key->key.get()));
    return ValidateIdTokenClaims(jws.payload, expect);
}

std::string AccessTokenHash(std::string_view access_token) {
    const std::string digest = crypto::Sha256(access_token);
    return Base64UrlEncode(std::string_view(digest).substr(0, digest.size() / 2));
}

}  // namespace firmo::oidc
