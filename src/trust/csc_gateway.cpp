#include "trust/csc_gateway.hpp"

#include "core/encoding.hpp"
#include "crypto/seal.hpp"

namespace firmo::trust {
namespace {

constexpr std::size_t kStateBytes = 32;
constexpr std::string_view kSealContext = "firmo qtsp pkce verifier";
constexpr std::string_view kCodeContext = "firmo qtsp authorization code";
constexpr std::string_view kTokenContext = "firmo qtsp credential token";
// A token's lifetime when the provider's answer has no expires_in.
constexpr std::chrono::seconds kTokenAssumed = std::chrono::minutes(5);

// Upper bound of a signature value: an RSA modulus, or a DER ECDSA-Sig-Value (two INTEGERs of
// the curve's size, each with a sign byte, plus headers).
std::size_t MaxSignatureBytes(const CscCredential& c) {
    const std::size_t bits = c.key_length > 0 ? static_cast<std::size_t>(c.key_length) : 4096;
    bool ec = false;
    for (const auto& a : c.key_algorithms) ec = ec || a.starts_with("1.2.840.10045");
    if (ec) return 2 * ((bits + 7) / 8 + 3) + 3;
    return (bits + 7) / 8;
}

}  // namespace

CscGateway::CscGateway(CscClient& client, Random& random, std::string seal_key)
    : client_(client), random_(random), seal_key_(std::move(seal_key)) {}

Result<domain::QtspAuthorizationStart> CscGateway::StartAuthorization(
    const std::string& credential_id, const std::vector<std::string>& digests) {
    domain::QtspAuthorizationStart start;
    start.state = Base64UrlEncode(random_.Bytes(kStateBytes));
    Pkce pkce = MakePkce(random_);
    FIRMO_TRY(start.url,
              client_.AuthorizationUrl({credential_id, digests, start.state, pkce.challenge, ""}));
    FIRMO_TRY(std::string sealed, crypto::Seal(seal_key_, pkce.verifier, kSealContext));
    start.sealed_verifier = Base64UrlEncode(sealed);
    return start;
}

Result<domain::QtspToken> CscGateway::ExchangeCode(const std::string& sealed_code,
                                                   const std::string& sealed_verifier) {
    FIRMO_TRY(std::string code, Open(sealed_code, kCodeContext));
    FIRMO_TRY(std::string verifier, Open(sealed_verifier, kSealContext));
    domain::QtspToken out;
    FIRMO_TRY(std::string token, client_.ExchangeCode(code, verifier, &out.lifetime));
    if (out.lifetime.count() == 0) out.lifetime = kTokenAssumed;
    FIRMO_TRY(std::string sealed, crypto::Seal(seal_key_, token, kTokenContext));
    out.sealed = Base64UrlEncode(sealed);
    return out;
}

Result<std::string> CscGateway::Open(const std::string& sealed, std::string_view context) const {
    auto bytes = Base64UrlDecode(sealed);
    if (!bytes) return Fail(ErrorCode::kInternal, "a sealed QTSP secret is not base64url");
    return crypto::Open(seal_key_, *bytes, context);
}

Result<domain::QtspCredential> CscGateway::FindCredential(const std::string& user_id) {
    FIRMO_TRY(auto ids, client_.ListCredentials(user_id));
    if (ids.empty()) {
        return Fail(ErrorCode::kNotFound,
                    "the trust service provider has no signing credential for this person");
    }
    FIRMO_TRY(CscCredential c, client_.CredentialInfo(ids.front()));
    if (c.chain_der.empty()) {
        return Fail(ErrorCode::kUnavailable, "QTSP credentials/info returned no certificate");
    }
    if (!c.key_status.empty() && c.key_status != "enabled") {
        return Fail(ErrorCode::kForbidden,
                    "the signing key at the trust service provider is " + c.key_status);
    }
    domain::QtspCredential out;
    out.id = c.id;
    out.credential.certificate_der = c.chain_der.front();
    out.credential.chain_der.assign(c.chain_der.begin() + 1, c.chain_der.end());
    out.credential.max_signature_bytes = MaxSignatureBytes(c);
    out.description = c.subject + ", SCAL " + (c.scal.empty() ? "?" : c.scal) +
                      (c.signature_qualifier.empty() ? "" : ", " + c.signature_qualifier);
    return out;
}

Result<std::string> CscGateway::Seal(const std::string& secret) {
    FIRMO_TRY(std::string sealed, crypto::Seal(seal_key_, secret, kCodeContext));
    return Base64UrlEncode(sealed);
}

Result<std::vector<std::string>> CscGateway::SignHashes(const std::string& sealed_token,
                                                        const std::string& credential_id,
                                                        const std::vector<std::string>& digests) {
    FIRMO_TRY(std::string token, Open(sealed_token, kTokenContext));
    FIRMO_TRY(CscCredential credential, client_.CredentialInfo(credential_id));
    return client_.SignHash(token, credential, digests);
}

}  // namespace firmo::trust
