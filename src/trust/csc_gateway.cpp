#include "trust/csc_gateway.hpp"

#include "core/encoding.hpp"
#include "crypto/seal.hpp"

namespace firmo::trust {
namespace {

constexpr std::size_t kStateBytes = 32;
constexpr std::string_view kSealContext = "firmo qtsp pkce verifier";

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

Result<std::string> CscGateway::ExchangeCode(const std::string& code,
                                             const std::string& sealed_verifier) {
    auto sealed = Base64UrlDecode(sealed_verifier);
    if (!sealed) return Fail(ErrorCode::kInternal, "a stored PKCE verifier is not base64url");
    FIRMO_TRY(std::string verifier, crypto::Open(seal_key_, *sealed, kSealContext));
    return client_.ExchangeCode(code, verifier);
}

}  // namespace firmo::trust
