#include "oidc/oidc_identity_provider.hpp"

#include <exception>
#include <nlohmann/json.hpp>
#include <string_view>
#include <utility>
#include <vector>

#include "core/encoding.hpp"
#include "crypto/digest.hpp"
#include "oidc/claims.hpp"
#include "oidc/jwt.hpp"

namespace firmo::oidc {
namespace {

// 256 bits each: state and nonce are bearer secrets of the login; a 32-byte PKCE verifier is
// 43 base64url characters, the minimum RFC 7636 allows.
constexpr std::size_t kSecretBytes = 32;

bool StartsWith(std::string_view s, std::string_view prefix) {
    return s.substr(0, prefix.size()) == prefix;
}

bool IsHttpUrl(std::string_view url) {
    return StartsWith(url, "https://") || StartsWith(url, "http://");
}

// RFC 4648 section 4 (with padding), for HTTP Basic.
std::string Base64Encode(std::string_view bytes) {
    std::string out = Base64UrlEncode(bytes);
    for (char& c : out) {
        if (c == '-') c = '+';
        if (c == '_') c = '/';
    }
    while (out.size() % 4 != 0) out.push_back('=');
    return out;
}

std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& fields) {
    std::string out;
    for (const auto& [name, value] : fields) {
        if (!out.empty()) out.push_back('&');
        out += PercentEncode(name);
        out.push_back('=');
        out += PercentEncode(value);
    }
    return out;
}

std::string StringMember(const nlohmann::json& object, const char* name) {
    auto it = object.find(name);
    return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// A JSON object body or nullopt (no exceptions: the body is untrusted).
std::optional<nlohmann::json> JsonObject(std::string_view body) {
    nlohmann::json value = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (!value.is_object()) return std::nullopt;
    return value;
}

bool IsJsonContentType(std::string_view content_type) {
    // "application/json" with or without parameters; an empty type is tolerated.
    return content_type.empty() || StartsWith(content_type, "application/json");
}

Error Unavailable(std::string message) {
    return Error{ErrorCode::kUnavailable, std::move(message)};
}

template <typename T, typename Fn>
Result<T> Guarded(const char* what, Fn&& fn) {
    try {
        return fn();
    } catch (const std::exception& e) {
        return Fail(ErrorCode::kInternal, std::string(what) + ": " + e.what());
    }
}

}  // namespace

OidcIdentityProvider::OidcIdentityProvider(OidcOptions options, std::shared_ptr<HttpFetcher> http,
                                           const Clock& clock, Random& random)
    : options_(std::move(options)), http_(std::move(http)), clock_(clock), random_(random) {}

OidcIdentityProvider::~OidcIdentityProvider() = default;

Result<std::unique_ptr<OidcIdentityProvider>> OidcIdentityProvider::Create(
    OidcOptions options, std::shared_ptr<HttpFetcher> http, const Clock& clock, Random& random) {
    std::vector<Violation> violations;
    if (!IsHttpUrl(options.issuer)) {
        violations.push_back({"oidc.issuer", "must be an https:// (or loopback http://) URL"});
    }
    if (options.client_id.empty()) violations.push_back({"oidc.client_id", "must not be empty"});
    const std::string padded = " " + options.scopes + " ";
    if (padded.find(" openid ") == std::string::npos) {
        violations.push_back({"oidc.scopes", "must include openid"});
    }
    if (options.identifier_claim.empty()) {
        violations.push_back({"oidc.identifier_claim", "must not be empty"});
    }
    if (options.http_timeout.count() <= 0) {
        violations.push_back({"oidc.http_timeout", "must be positive"});
    }
    if (options.clock_skew.count() < 0) {
        violations.push_back({"oidc.clock_skew", "must not be negative"});
    }
    if (!http) violations.push_back({"http", "no HTTP client"});
    if (!violations.empty()) return FailValidation(std::move(violations));
    const domain::AcrValues defaults = domain::DefaultAcrValues(options.identifier_kind);
    if (options.eid && options.acr_values.substantial.empty()) {
        options.acr_values.substantial = defaults.substantial;
    }
    if (options.eid && options.acr_values.high.empty()) options.acr_values.high = defaults.high;
    return std::unique_ptr<OidcIdentityProvider>(
        new OidcIdentityProvider(std::move(options), std::move(http), clock, random));
}

Result<std::unique_ptr<OidcIdentityProvider>> OidcIdentityProvider::Create(OidcOptions options,
                                                                           const Clock& clock,
                                                                           Random& random) {
    auto http = std::make_shared<CurlHttpFetcher>(
        std::chrono::duration_cast<std::chrono::milliseconds>(options.http_timeout));
    return Create(std::move(options), std::move(http), clock, random);
}

Result<domain::LoginStart> OidcIdentityProvider::BeginLogin(const std::string& redirect_uri,
                                                            bool reauthentication,
                                                            domain::AuthLevel min_level) {
    return Guarded<domain::LoginStart>("cannot start the login", [&] {
        return BeginLoginUnguarded(redirect_uri, reauthentication, min_level);
    });
}

Result<domain::VerifiedIdentity> OidcIdentityProvider::CompleteLogin(
    const std::string& code, const std::string& redirect_uri, const domain::LoginStart& pending) {
    return Guarded<domain::VerifiedIdentity>("cannot complete the login", [&] {
        return CompleteLoginUnguarded(code, redirect_uri, pending);
    });
}

Result<domain::LoginStart> OidcIdentityProvider::BeginPlainLogin(const std::string& redirect_uri) {
    return Guarded<domain::LoginStart>("cannot start the login", [&] {
        return BeginLoginUnguarded(redirect_uri, false, domain::AuthLevel::kEidSubstantial);
    });
}

Result<IdToken> OidcIdentityProvider::VerifyCode(const std::string& code,
                                                 const std::string& redirect_uri,
                                                 const domain::LoginStart& pending) {
    return Guarded<IdToken>("cannot complete the login",
                            [&] { return VerifyCodeUnguarded(code, redirect_uri, pending); });
}

Result<domain::LoginStart> OidcIdentityProvider::BeginLoginUnguarded(
    const std::string& redirect_uri, bool reauthentication, domain::AuthLevel min_level) {
    if (redirect_uri.empty()) return Fail(ErrorCode::kInvalidArgument, "no redirect_uri");
    FIRMO_TRY(Discovery discovery, GetDiscovery());
    domain::LoginStart start;
    start.state = Base64UrlEncode(random_.Bytes(kSecretBytes));
    start.nonce = Base64UrlEncode(random_.Bytes(kSecretBytes));
    start.code_verifier = Base64UrlEncode(random_.Bytes(kSecretBytes));
    start.started_at = clock_.Now();
    start.reauthentication = reauthentication;
    // An eID login is never asked for less than substantial.
    start.min_level = domain::IsEid(min_level) ? min_level : domain::AuthLevel::kEidSubstantial;

    std::vector<std::pair<std::string, std::string>> query = {
        {"response_type", "code"},
        {"client_id", options_.client_id},
        {"redirect_uri", redirect_uri},
        {"scope", options_.scopes},
        {"state", start.state},
        {"nonce", start.nonce},
        {"code_challenge", Base64UrlEncode(crypto::Sha256(start.code_verifier))},
        {"code_challenge_method", "S256"},
    };
    if (const std::string acr = domain::AcrValuesFor(options_.acr_values, start.min_level);
        options_.eid && !acr.empty()) {
        query.emplace_back("acr_values", acr);
    }
    if (reauthentication) {
        query.emplace_back("prompt", "login");
        query.emplace_back("max_age", "0");
    }
    const std::string& endpoint = discovery.authorization_endpoint;
    start.authorize_url =
        endpoint + (endpoint.find('?') == std::string::npos ? "?" : "&") + FormEncode(query);
    return start;
}

Result<domain::VerifiedIdentity> OidcIdentityProvider::CompleteLoginUnguarded(
    const std::string& code, const std::string& redirect_uri, const domain::LoginStart& pending) {
    FIRMO_TRY(IdToken id_token, VerifyCodeUnguarded(code, redirect_uri, pending));
    // The level of assurance: only the signed ID token's acr counts (never userinfo's: it is
    // read from the token's own claims, kept apart below), and it must be one of the
    // configured values of at least the level asked for.
    const std::string acr = StringMember(id_token.claims, "acr");
    const std::optional<domain::AuthLevel> level = domain::LevelOfAcr(options_.acr_values, acr);
    if (!level || !domain::Satisfies(*level, pending.min_level)) {
        return Fail(ErrorCode::kAuthenticationRequired,
                    "the eID login reached " +
                        (acr.empty() ? std::string("no stated level (no acr)")
                                     : "acr '" + acr + "'" +
                                           (level ? " (" + std::string(ToString(*level)) + ")"
                                                  : std::string(" (not a known level)"))) +
                        "; this needs " + std::string(ToString(pending.min_level)) +
                        ": log in again with a stronger eID");
    }
    FIRMO_TRY(domain::VerifiedIdentity identity,
              MapIdentity(id_token.claims, options_.identifier_claim, options_.identifier_kind));
    identity.subject = id_token.subject;
    identity.auth_time = id_token.auth_time.value_or(id_token.issued_at);
    identity.level = *level;
    identity.acr = acr;
    return identity;
}

Result<IdToken> OidcIdentityProvider::VerifyCodeUnguarded(const std::string& code,
                                                          const std::string& redirect_uri,
                                                          const domain::LoginStart& pending) {
    if (code.empty()) return Fail(ErrorCode::kUnauthenticated, "no authorization code");
    if (pending.nonce.empty() || pending.code_verifier.empty()) {
        return Fail(ErrorCode::kUnauthenticated, "no login was started");
    }
    FIRMO_TRY(Discovery discovery, GetDiscovery());
    FIRMO_TRY(Tokens tokens, RedeemCode(discovery, code, redirect_uri, pending.code_verifier));

    FIRMO_TRY(Jws jws, ParseJws(tokens.id_token));
    FIRMO_TRY(std::shared_ptr<const JwkSet> keys, GetKeys(discovery, /*refresh=*/false));
    const Jwk* key = keys->Find(jws.kid, jws.alg);
    if (key == nullptr) {
        // Key rotation: the provider signs with a key newer than our copy of its set. The token
        // came straight from the token endpoint, so this costs at most one fetch per login.
        FIRMO_TRY(keys, GetKeys(discovery, /*refresh=*/true));
        key = keys->Find(jws.kid, jws.alg);
    }
    if (key == nullptr) {
        return Fail(ErrorCode::kUnauthenticated,
                    "ID token rejected: no " + std::string(ToString(jws.alg)) + " key " +
                        (jws.kid.empty() ? "(no kid)" : "'" + jws.kid + "'") +
                        " in the provider's key set");
    }
    FIRMO_CHECK(VerifyJwsSignature(jws, key->key.get()));
    IdTokenExpectations expect;
    expect.issuer = discovery.issuer;
    expect.client_id = options_.client_id;
    expect.nonce = pending.nonce;
    expect.now = clock_.Now();
    expect.clock_skew = options_.clock_skew;
    if (pending.reauthentication) expect.authenticated_after = pending.started_at;
    FIRMO_TRY(IdToken id_token, ValidateIdTokenClaims(jws.payload, expect));

    if (!tokens.access_token.empty() && id_token.claims.contains("at_hash")) {
        const std::string at_hash = StringMember(id_token.claims, "at_hash");
        if (at_hash != AccessTokenHash(tokens.access_token)) {
            return Fail(ErrorCode::kUnauthenticated,
                        "ID token rejected: at_hash does not match the access token");
        }
    }

    // The ID token's claims win; the userinfo endpoint only fills in what it lacks, and is
    // asked only when the identifier is not in the ID token. The token's own acr is kept: a
    // level never comes from userinfo.
    nlohmann::json& claims = id_token.claims;
    if (!claims.contains(options_.identifier_claim) && !discovery.userinfo_endpoint.empty() &&
        !tokens.access_token.empty()) {
        FIRMO_TRY(std::string body, FetchUserinfo(discovery, tokens.access_token));
        std::optional<nlohmann::json> userinfo = JsonObject(body);
        if (!userinfo) {
            return Fail(ErrorCode::kUnauthenticated, "the userinfo response is not a JSON object");
        }
        // OIDC Core 5.3.2: a userinfo `sub` other than the ID token's must not be used.
        if (StringMember(*userinfo, "sub") != id_token.subject) {
            return Fail(ErrorCode::kUnauthenticated,
                        "the userinfo response is about another subject");
        }
        for (auto& [name, value] : userinfo->items()) {
            if (!claims.contains(name) && name != "acr") claims[name] = value;
        }
    }
    return id_token;
}

Result<OidcIdentityProvider::Discovery> OidcIdentityProvider::GetDiscovery() {
    {
        std::lock_guard lock(mu_);
        if (discovery_) return *discovery_;
    }
    // OIDC Discovery section 4: a terminating '/' of the issuer is removed before appending.
    std::string base = options_.issuer;
    if (!base.empty() && base.back() == '/') base.pop_back();
    HttpCall call;
    call.url = base + "/.well-known/openid-configuration";
    call.headers = {"Accept: application/json"};
    FIRMO_TRY(HttpReply reply, http_->Fetch(call));
    if (reply.status != 200) {
        return Fail(Unavailable("OpenID discovery at " + call.url + " answered HTTP " +
                                std::to_string(reply.status)));
    }
    std::optional<nlohmann::json> doc = JsonObject(reply.body);
    if (!doc) return Fail(Unavailable("OpenID discovery at " + call.url + " is not JSON"));
    Discovery discovery;
    discovery.issuer = StringMember(*doc, "issuer");
    discovery.authorization_endpoint = StringMember(*doc, "authorization_endpoint");
    discovery.token_endpoint = StringMember(*doc, "token_endpoint");
    discovery.userinfo_endpoint = StringMember(*doc, "userinfo_endpoint");
    discovery.jwks_uri = StringMember(*doc, "jwks_uri");
    // Discovery section 4.3: the issuer must be exactly the configured one, or a document
    // served elsewhere could impersonate the provider.
    if (discovery.issuer != options_.issuer) {
        return Fail(Unavailable("OpenID discovery names issuer '" + discovery.issuer +
                                "', configured is '" + options_.issuer + "'"));
    }
    // Endpoints of an https issuer must be https too; plain http only ever for a test provider.
    const bool https_only = StartsWith(options_.issuer, "https://");
    for (const std::string* url : {&discovery.authorization_endpoint, &discovery.token_endpoint,
                                   &discovery.jwks_uri, &discovery.userinfo_endpoint}) {
        if (url->empty() && url == &discovery.userinfo_endpoint) continue;
        if (https_only ? !StartsWith(*url, "https://") : !IsHttpUrl(*url)) {
            return Fail(Unavailable("OpenID discovery at " + call.url +
                                    " lacks a usable endpoint URL ('" + *url + "')"));
        }
    }
    std::lock_guard lock(mu_);
    discovery_ = discovery;
    return discovery;
}

Result<std::shared_ptr<const JwkSet>> OidcIdentityProvider::GetKeys(const Discovery& discovery,
                                                                    bool refresh) {
    if (!refresh) {
        std::lock_guard lock(mu_);
        if (keys_) return keys_;
    }
    HttpCall call;
    call.url = discovery.jwks_uri;
    call.headers = {"Accept: application/json, application/jwk-set+json"};
    FIRMO_TRY(HttpReply reply, http_->Fetch(call));
    if (reply.status != 200) {
        return Fail(Unavailable("the provider's JWKS at " + call.url + " answered HTTP " +
                                std::to_string(reply.status)));
    }
    FIRMO_TRY(JwkSet set, JwkSet::Parse(reply.body));
    auto shared = std::make_shared<const JwkSet>(std::move(set));
    std::lock_guard lock(mu_);
    keys_ = shared;
    return shared;
}

Result<OidcIdentityProvider::Tokens> OidcIdentityProvider::RedeemCode(
    const Discovery& discovery, const std::string& code, const std::string& redirect_uri,
    const std::string& code_verifier) {
    std::vector<std::pair<std::string, std::string>> form = {
        {"grant_type", "authorization_code"},
        {"code", code},
        {"redirect_uri", redirect_uri},
        {"code_verifier", code_verifier},
    };
    HttpCall call;
    call.method = "POST";
    call.url = discovery.token_endpoint;
    call.headers = {"Content-Type: application/x-www-form-urlencoded", "Accept: application/json"};
    if (options_.client_secret.empty()) {
        form.emplace_back("client_id", options_.client_id);
    } else {
        // client_secret_basic; RFC 6749 2.3.1 form-encodes both parts before Base64.
        call.headers.push_back("Authorization: Basic " +
                               Base64Encode(PercentEncode(options_.client_id) + ":" +
                                            PercentEncode(options_.client_secret)));
    }
    call.body = FormEncode(form);
    FIRMO_TRY(HttpReply reply, http_->Fetch(call));
    std::optional<nlohmann::json> doc =
        IsJsonContentType(reply.content_type) ? JsonObject(reply.body) : std::nullopt;
    if (reply.status == 400 || reply.status == 401) {
        // RFC 6749 5.2: invalid_grant (code used, expired, PKCE mismatch), invalid_client, ...
        std::string detail = doc ? StringMember(*doc, "error") : "";
        const std::string description = doc ? StringMember(*doc, "error_description") : "";
        if (!description.empty()) detail += (detail.empty() ? "" : ": ") + description;
        return Fail(ErrorCode::kUnauthenticated, "the token endpoint refused the code (HTTP " +
                                                     std::to_string(reply.status) +
                                                     (detail.empty() ? "" : ", " + detail) + ")");
    }
    if (reply.status != 200) {
        return Fail(
            Unavailable("the token endpoint answered HTTP " + std::to_string(reply.status)));
    }
    if (!doc) return Fail(ErrorCode::kUnauthenticated, "the token response is not JSON");
    Tokens tokens;
    tokens.id_token = StringMember(*doc, "id_token");
    tokens.access_token = StringMember(*doc, "access_token");
    if (tokens.id_token.empty()) {
        return Fail(ErrorCode::kUnauthenticated, "the token response has no id_token");
    }
    return tokens;
}

Result<std::string> OidcIdentityProvider::FetchUserinfo(const Discovery& discovery,
                                                        const std::string& access_token) {
    HttpCall call;
    call.url = discovery.userinfo_endpoint;
    call.headers = {"Authorization: Bearer " + access_token, "Accept: application/json"};
    FIRMO_TRY(HttpReply reply, http_->Fetch(call));
    if (reply.status == 401 || reply.status == 403) {
        return Fail(ErrorCode::kUnauthenticated,
                    "the userinfo endpoint refused the access token (HTTP " +
                        std::to_string(reply.status) + ")");
    }
    if (reply.status != 200) {
        return Fail(
            Unavailable("the userinfo endpoint answered HTTP " + std::to_string(reply.status)));
    }
    if (!IsJsonContentType(reply.content_type)) {
        // Signed or encrypted userinfo (application/jwt) is not supported.
        return Fail(ErrorCode::kUnauthenticated,
                    "the userinfo response is " + reply.content_type + ", not JSON");
    }
    return std::move(reply.body);
}

}  // namespace firmo::oidc
