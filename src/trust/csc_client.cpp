#include "trust/csc_client.hpp"

#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>

#include "core/encoding.hpp"
#include "core/log.hpp"
#include "crypto/digest.hpp"
#include "crypto/openssl_util.hpp"

namespace firmo::trust {
namespace {

using nlohmann::json;

constexpr std::size_t kSha256Bytes = 32;
constexpr std::size_t kPkceBytes = 32;  // 43 base64url characters
// A service token is renewed this long before the provider says it expires.
constexpr std::chrono::seconds kTokenMargin{30};

// RFC 4648 section 4 (with padding) from and to bytes, through the base64url helpers.
std::string Base64Encode(std::string_view bytes) {
    std::string text = Base64UrlEncode(bytes);
    std::replace(text.begin(), text.end(), '-', '+');
    std::replace(text.begin(), text.end(), '_', '/');
    while (text.size() % 4 != 0) text += '=';
    return text;
}

std::optional<std::string> Base64Decode(std::string_view text) {
    std::string url(text);
    while (!url.empty() && url.back() == '=') url.pop_back();
    for (char& c : url) {
        if (c == '-' || c == '_') return std::nullopt;
        if (c == '+') c = '-';
        if (c == '/') c = '_';
    }
    return Base64UrlDecode(url);
}

std::string FormEncode(std::initializer_list<std::pair<std::string_view, std::string_view>> kv) {
    std::string out;
    for (const auto& [k, v] : kv) {
        if (!out.empty()) out += '&';
        out += PercentEncode(k);
        out += '=';
        out += PercentEncode(v);
    }
    return out;
}

std::string TrimSlash(std::string url) {
    while (!url.empty() && url.back() == '/') url.pop_back();
    return url;
}

std::string StringOr(const json& j, std::string_view key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::vector<std::string> Strings(const json& j, std::string_view key) {
    std::vector<std::string> out;
    auto it = j.find(key);
    if (it == j.end() || !it->is_array()) return out;
    for (const auto& v : *it) {
        if (v.is_string()) out.push_back(v.get<std::string>());
    }
    return out;
}

Error Malformed(std::string_view call, std::string_view what) {
    return Error{ErrorCode::kUnavailable,
                 "QTSP " + std::string(call) + " sent an invalid answer: " + std::string(what)};
}

// A raw r||s ECDSA value (as some providers answer) as a DER ECDSA-Sig-Value.
std::optional<std::string> RawEcdsaToDer(std::string_view raw) {
    if (raw.empty() || raw.size() % 2 != 0) return std::nullopt;
    const int half = static_cast<int>(raw.size() / 2);
    const auto* p = reinterpret_cast<const unsigned char*>(raw.data());
    ECDSA_SIG* sig = ECDSA_SIG_new();
    BIGNUM* r = BN_bin2bn(p, half, nullptr);
    BIGNUM* s = BN_bin2bn(p + half, half, nullptr);
    if (sig == nullptr || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig, r, s) != 1) {
        ECDSA_SIG_free(sig);
        BN_free(r);
        BN_free(s);
        return std::nullopt;
    }
    unsigned char* der = nullptr;
    const int n = i2d_ECDSA_SIG(sig, &der);
    ECDSA_SIG_free(sig);
    if (n <= 0) return std::nullopt;
    std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(n));
    OPENSSL_free(der);
    return out;
}

// Whether `signature` is a signature of the SHA-256 digest `hash` by `key`.
bool Verifies(EVP_PKEY* key, std::string_view hash, std::string_view signature) {
    crypto::PkeyCtxPtr ctx(EVP_PKEY_CTX_new(key, nullptr));
    bool ok = ctx && EVP_PKEY_verify_init(ctx.get()) == 1 &&
              EVP_PKEY_CTX_set_signature_md(ctx.get(), EVP_sha256()) == 1;
    if (ok && EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA) {
        ok = EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) == 1;
    }
    ok =
        ok && EVP_PKEY_verify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                              signature.size(), reinterpret_cast<const unsigned char*>(hash.data()),
                              hash.size()) == 1;
    ERR_clear_error();
    return ok;
}

crypto::X509Ptr ParseCertificate(std::string_view der) {
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    crypto::X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
    if (!cert || p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
        ERR_clear_error();
        return nullptr;
    }
    return cert;
}

}  // namespace

struct CscClient::Reply {
    long status = 0;
    json body;
};

Pkce MakePkce(Random& random) {
    Pkce pkce;
    pkce.verifier = Base64UrlEncode(random.Bytes(kPkceBytes));
    pkce.challenge = Base64UrlEncode(crypto::Sha256(pkce.verifier));
    return pkce;
}

CscClient::CscClient(CscSettings settings, oidc::HttpFetcher& fetcher, metrics::Registry* metrics)
    : settings_(std::move(settings)), fetcher_(fetcher) {
    settings_.url = TrimSlash(settings_.url);
    settings_.oauth_url = TrimSlash(settings_.oauth_url);
    oauth_base_ = settings_.oauth_url;
    if (metrics != nullptr) {
        calls_ = &metrics->AddCounterFamily(
            "firmo_csc_calls_total",
            "Calls to the QTSP's CSC API and authorization server, by call and outcome "
            "(ok, refused, unavailable).",
            {"call", "outcome"});
    }
}

void CscClient::Count(std::string_view call, std::string_view outcome) {
    if (calls_ != nullptr) calls_->With({call, outcome}).Inc();
}

// One call: the transport, the status, the CSC error body. `call` names it in messages, logs
// and metrics; only the method name and status are logged (never bodies: they carry tokens).
Result<CscClient::Reply> CscClient::Call(std::string_view call, const oidc::HttpCall& http) {
    const std::string name(call);
    auto fetched = fetcher_.Fetch(http);
    if (!fetched) {
        Count(call, "unavailable");
        log::Warn("csc_call", {{"call", name}, {"outcome", "unavailable"}});
        return Fail(ErrorCode::kUnavailable,
                    "QTSP " + name + " failed: " + fetched.error().message);
    }
    Reply reply{fetched->status, json::parse(fetched->body, nullptr, false)};
    if (reply.status >= 200 && reply.status < 300) {
        if (!reply.body.is_object()) {
            Count(call, "unavailable");
            return Fail(Malformed(call, "not a JSON object"));
        }
        Count(call, "ok");
        log::Debug("csc_call", {{"call", name}, {"outcome", "ok"}});
        return reply;
    }
    const bool retry = reply.status >= 500 || reply.status == 429;
    std::string error = reply.body.is_object() ? StringOr(reply.body, "error") : "";
    std::string description =
        reply.body.is_object() ? StringOr(reply.body, "error_description") : "";
    std::string what = "QTSP " + name + (retry ? " failed" : " refused") + " (HTTP " +
                       std::to_string(reply.status) + (error.empty() ? "" : " " + error) + ")";
    if (!description.empty()) what += ": " + description;
    Count(call, retry ? "unavailable" : "refused");
    log::Warn("csc_call", {{"call", name},
                           {"outcome", retry ? "unavailable" : "refused"},
                           {"status", static_cast<std::int64_t>(reply.status)},
                           {"error", error},
                           {"error_description", description}});
    ErrorCode code = retry                      ? ErrorCode::kUnavailable
                     : error == "invalid_grant" ? ErrorCode::kGone
                                                : ErrorCode::kForbidden;
    return Fail(code, std::move(what));
}

Result<CscClient::Reply> CscClient::PostJson(std::string_view method, std::string_view bearer,
                                             std::string body) {
    oidc::HttpCall http;
    http.method = "POST";
    http.url = settings_.url + "/" + std::string(method);
    http.headers = {"Content-Type: application/json", "Accept: application/json"};
    if (!bearer.empty()) http.headers.push_back("Authorization: Bearer " + std::string(bearer));
    http.body = std::move(body);
    return Call(method, http);
}

Result<CscInfo> CscClient::Info() {
    FIRMO_TRY(Reply reply, PostJson("info", "", R"({"lang":"en"})"));
    CscInfo info;
    info.specs = StringOr(reply.body, "specs");
    info.name = StringOr(reply.body, "name");
    info.oauth2 = TrimSlash(StringOr(reply.body, "oauth2"));
    info.auth_types = Strings(reply.body, "authType");
    info.methods = Strings(reply.body, "methods");
    if (info.specs.rfind("2.", 0) != 0) {
        return Fail(Malformed("info", "specs '" + info.specs + "' is not CSC API 2.x"));
    }
    return info;
}

Result<std::string> CscClient::OauthBase() {
    {
        std::lock_guard lock(mu_);
        if (!oauth_base_.empty()) return oauth_base_;
    }
    FIRMO_TRY(CscInfo info, Info());
    if (info.oauth2.empty()) {
        return Fail(ErrorCode::kUnavailable,
                    "the QTSP's /info names no authorization server (oauth2): set csc.oauth_url");
    }
    std::lock_guard lock(mu_);
    oauth_base_ = info.oauth2;
    return oauth_base_;
}

Result<std::string> CscClient::ServiceToken() {
    {
        std::lock_guard lock(mu_);
        if (!service_token_.empty() && std::chrono::steady_clock::now() < service_token_until_) {
            return service_token_;
        }
    }
    FIRMO_TRY(std::string base, OauthBase());
    oidc::HttpCall http;
    http.method = "POST";
    http.url = base + "/oauth2/token";
    http.headers = {"Content-Type: application/x-www-form-urlencoded", "Accept: application/json"};
    http.body = FormEncode({{"grant_type", "client_credentials"},
                            {"client_id", settings_.client_id},
                            {"client_secret", settings_.client_secret}});
    FIRMO_TRY(Reply reply, Call("oauth2/token", http));
    std::string token = StringOr(reply.body, "access_token");
    if (token.empty()) return Fail(Malformed("oauth2/token", "no access_token"));
    auto expires = reply.body.find("expires_in");
    const std::int64_t seconds = expires != reply.body.end() && expires->is_number_integer()
                                     ? expires->get<std::int64_t>()
                                     : 0;
    std::lock_guard lock(mu_);
    service_token_ = token;
    service_token_until_ =
        std::chrono::steady_clock::now() + std::chrono::seconds(seconds) - kTokenMargin;
    return token;
}

Result<std::vector<std::string>> CscClient::ListCredentials(std::string_view user_id) {
    FIRMO_TRY(std::string token, ServiceToken());
    json body = {{"userID", std::string(user_id)}};
    FIRMO_TRY(Reply reply, PostJson("credentials/list", token, body.dump()));
    auto ids = reply.body.find("credentialIDs");
    if (ids == reply.body.end() || !ids->is_array()) {
        return Fail(Malformed("credentials/list", "no credentialIDs array"));
    }
    std::vector<std::string> out = Strings(reply.body, "credentialIDs");
    if (out.size() != ids->size()) {
        return Fail(Malformed("credentials/list", "a credential id is not a string"));
    }
    return out;
}

Result<CscCredential> CscClient::CredentialInfo(std::string_view credential_id) {
    FIRMO_TRY(std::string token, ServiceToken());
    json body = {{"credentialID", std::string(credential_id)},
                 {"certificates", "chain"},
                 {"certInfo", false},
                 {"authInfo", true}};
    FIRMO_TRY(Reply reply, PostJson("credentials/info", token, body.dump()));
    const json& j = reply.body;
    CscCredential c;
    c.id = std::string(credential_id);
    c.scal = StringOr(j, "SCAL");
    c.signature_qualifier = StringOr(j, "signatureQualifier");
    if (auto key = j.find("key"); key != j.end() && key->is_object()) {
        c.key_status = StringOr(*key, "status");
        c.key_algorithms = Strings(*key, "algo");
        if (auto len = key->find("len"); len != key->end() && len->is_number_integer()) {
            c.key_length = len->get<int>();
        }
    }
    if (auto auth = j.find("auth"); auth != j.end() && auth->is_object()) {
        c.auth_mode = StringOr(*auth, "mode");
    }
    auto cert = j.find("cert");
    std::vector<std::string> chain = cert != j.end() && cert->is_object()
                                         ? Strings(*cert, "certificates")
                                         : std::vector<std::string>{};
    if (chain.empty()) return Fail(Malformed("credentials/info", "no certificate chain"));
    for (const std::string& text : chain) {
        auto der = Base64Decode(text);
        crypto::X509Ptr x509 = der ? ParseCertificate(*der) : nullptr;
        if (!x509)
            return Fail(Malformed("credentials/info", "a certificate is not base64 DER X.509"));
        if (c.chain_der.empty())
            c.subject = crypto::NameToString(X509_get_subject_name(x509.get()));
        c.chain_der.push_back(std::move(*der));
    }
    if (c.key_algorithms.empty()) return Fail(Malformed("credentials/info", "no key algorithms"));
    if (c.key_status != "enabled") {
        return Fail(
            ErrorCode::kForbidden,
            "the QTSP credential " + c.id + " is not enabled (key status '" + c.key_status + "')");
    }
    return c;
}

Result<std::string> CscClient::AuthorizationUrl(const CscAuthorizationRequest& request) {
    std::vector<Violation> bad;
    if (request.credential_id.empty()) bad.push_back({"credential_id", "is empty"});
    if (request.hashes.empty()) bad.push_back({"hashes", "none to authorize"});
    for (const std::string& h : request.hashes) {
        if (h.size() != kSha256Bytes) {
            bad.push_back({"hashes", "a hash is not a 32-byte SHA-256 digest"});
            break;
        }
    }
    if (request.state.empty()) bad.push_back({"state", "is empty"});
    if (request.code_challenge.empty()) bad.push_back({"code_challenge", "is empty"});
    if (!bad.empty()) return FailValidation(std::move(bad));
    FIRMO_TRY(std::string base, OauthBase());
    std::string hashes;
    for (const std::string& h : request.hashes) {
        if (!hashes.empty()) hashes += ',';
        hashes += Base64UrlEncode(h);
    }
    const std::string count = std::to_string(request.hashes.size());
    std::string url = base + "/oauth2/authorize?" +
                      FormEncode({{"response_type", "code"},
                                  {"client_id", settings_.client_id},
                                  {"redirect_uri", settings_.redirect_uri},
                                  {"scope", "credential"},
                                  {"credentialID", request.credential_id},
                                  {"numSignatures", count},
                                  {"hashes", hashes},
                                  {"hashAlgorithmOID", kOidSha256},
                                  {"state", request.state},
                                  {"code_challenge", request.code_challenge},
                                  {"code_challenge_method", "S256"}});
    if (!request.lang.empty()) url += "&lang=" + PercentEncode(request.lang);
    return url;
}

Result<std::string> CscClient::ExchangeCode(std::string_view code, std::string_view code_verifier,
                                            std::chrono::seconds* lifetime) {
    FIRMO_TRY(std::string base, OauthBase());
    oidc::HttpCall http;
    http.method = "POST";
    http.url = base + "/oauth2/token";
    http.headers = {"Content-Type: application/x-www-form-urlencoded", "Accept: application/json"};
    http.body = FormEncode({{"grant_type", "authorization_code"},
                            {"code", code},
                            {"client_id", settings_.client_id},
                            {"client_secret", settings_.client_secret},
                            {"redirect_uri", settings_.redirect_uri},
                            {"code_verifier", code_verifier}});
    FIRMO_TRY(Reply reply, Call("oauth2/token", http));
    std::string token = StringOr(reply.body, "access_token");
    if (token.empty()) return Fail(Malformed("oauth2/token", "no access_token"));
    if (lifetime != nullptr) {
        auto expires = reply.body.find("expires_in");
        *lifetime =
            std::chrono::seconds(expires != reply.body.end() && expires->is_number_integer()
                                     ? std::max<std::int64_t>(expires->get<std::int64_t>(), 0)
                                     : 0);
    }
    return token;
}

Result<std::vector<std::string>> CscClient::SignHash(std::string_view credential_token,
                                                     const CscCredential& credential,
                                                     const std::vector<std::string>& hashes) {
    if (hashes.empty()) return FailValidation({{"hashes", "none to sign"}});
    if (credential.chain_der.empty()) {
        return FailValidation({{"credential", "has no certificate"}});
    }
    crypto::X509Ptr cert = ParseCertificate(credential.chain_der.front());
    crypto::PkeyPtr key(cert ? X509_get_pubkey(cert.get()) : nullptr);
    if (!key) return Fail(Malformed("credentials/info", "the certificate has no usable key"));
    const bool ec = EVP_PKEY_get_base_id(key.get()) == EVP_PKEY_EC;
    const auto offers = [&](std::string_view oid) {
        return std::find(credential.key_algorithms.begin(), credential.key_algorithms.end(), oid) !=
               credential.key_algorithms.end();
    };
    std::string sign_algo;
    if (ec && offers(kOidEcdsaSha256)) {
        sign_algo = kOidEcdsaSha256;
    } else if (!ec && offers(kOidRsaSha256)) {
        sign_algo = kOidRsaSha256;
    } else if (!ec && offers(kOidRsa)) {
        sign_algo = kOidRsa;
    } else {
        return Fail(ErrorCode::kForbidden,
                    "the QTSP credential " + credential.id +
                        " offers no signature algorithm Firmo uses (ECDSA or RSA PKCS#1 with "
                        "SHA-256)");
    }
    json body = {{"credentialID", credential.id},
                 {"hashes", json::array()},
                 {"hashAlgorithmOID", kOidSha256},
                 {"signAlgo", sign_algo},
                 {"operationMode", "S"}};
    for (const std::string& h : hashes) {
        if (h.size() != kSha256Bytes) {
            return FailValidation({{"hashes", "a hash is not a 32-byte SHA-256 digest"}});
        }
        body["hashes"].push_back(Base64Encode(h));
    }
    FIRMO_TRY(Reply reply, PostJson("signatures/signHash", credential_token, body.dump()));
    auto signatures = reply.body.find("signatures");
    if (signatures == reply.body.end() || !signatures->is_array() ||
        signatures->size() != hashes.size()) {
        return Fail(Malformed("signatures/signHash", "not one signature per hash"));
    }
    std::vector<std::string> out;
    for (std::size_t i = 0; i < hashes.size(); ++i) {
        const json& s = (*signatures)[i];
        auto value = s.is_string() ? Base64Decode(s.get<std::string>()) : std::nullopt;
        if (!value) return Fail(Malformed("signatures/signHash", "a signature is not base64"));
        if (ec && !Verifies(key.get(), hashes[i], *value)) {
            if (auto der = RawEcdsaToDer(*value)) value = std::move(*der);
        }
        if (!Verifies(key.get(), hashes[i], *value)) {
            return Fail(ErrorCode::kUnavailable,
                        "QTSP signatures/signHash: signature " + std::to_string(i + 1) +
                            " does not verify with the credential's certificate");
        }
        out.push_back(std::move(*value));
    }
    return out;
}

}  // namespace firmo::trust
