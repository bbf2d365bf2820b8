#include "api/url_signer.hpp"

#include <unordered_map>
#include <vector>

#include "core/encoding.hpp"
#include "crypto/digest.hpp"

namespace firmo::api {

namespace {
constexpr char kVersion[] = "v1";

std::vector<std::string> Split(const std::string& s, char sep) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (true) {
        const auto pos = s.find(sep, start);
        out.push_back(s.substr(start, pos - start));
        if (pos == std::string::npos) break;
        start = pos + 1;
    }
    return out;
}
}  // namespace

std::string UrlSigner::Sign(const Grant& g) const {
    std::string payload;
    payload.reserve(96);
    payload.append(kVersion).append("|").append(g.purpose).append("|").append(g.issuer_id);
    payload.append("|").append(g.request_id).append("|").append(g.document_id).append("|");
    payload.append(std::to_string(ToUnixMillis(g.expires_at)));
    // A request's answer signs the same links on every read (its QR code and signer links,
    // valid until it expires): a small memo per thread spares the HMAC. It belongs to one
    // secret, so that two signers (tests, key rotation) never share an entry.
    struct Memo {
        std::string secret;
        std::unordered_map<std::string, std::string> tokens;
    };
    thread_local Memo memo;
    if (memo.secret != secret_) {
        memo.secret = secret_;
        memo.tokens.clear();
    }
    if (const auto it = memo.tokens.find(payload); it != memo.tokens.end()) return it->second;
    std::string token =
        Base64UrlEncode(payload) + "." + Base64UrlEncode(crypto::HmacSha256(secret_, payload));
    if (memo.tokens.size() >= 1024) memo.tokens.clear();
    memo.tokens.emplace(std::move(payload), token);
    return token;
}

Result<Grant> UrlSigner::Verify(const std::string& token, const std::string& purpose,
                                Timestamp now) const {
    const auto dot = token.find('.');
    if (token.size() > 1024 || dot == std::string::npos) {
        return Fail(ErrorCode::kForbidden, "the link is not valid");
    }
    const auto payload = Base64UrlDecode(std::string_view(token).substr(0, dot));
    const auto mac = Base64UrlDecode(std::string_view(token).substr(dot + 1));
    if (!payload || !mac || !ConstantTimeEquals(*mac, crypto::HmacSha256(secret_, *payload))) {
        return Fail(ErrorCode::kForbidden, "the link is not valid");
    }
    const auto parts = Split(*payload, '|');
    if (parts.size() != 6 || parts[0] != kVersion || parts[1] != purpose) {
        return Fail(ErrorCode::kForbidden, "the link is not valid for this use");
    }
    Grant g{parts[1], parts[2], parts[3], parts[4], FromUnixMillis(std::stoll(parts[5]))};
    if (now >= g.expires_at) return Fail(ErrorCode::kGone, "the link has expired");
    return g;
}

std::string SignerLinkPath(const UrlSigner& urls, const std::string& issuer_id,
                           const std::string& request_id, const std::string& signer_id,
                           Timestamp expires_at) {
    return "/l/" + urls.Sign(Grant{"signer-link", issuer_id, request_id, signer_id, expires_at});
}

}  // namespace firmo::api
