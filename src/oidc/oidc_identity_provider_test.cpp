#include "oidc/oidc_identity_provider.hpp"

#include <gtest/gtest.h>

#include <map>
#include <thread>

#include "core/encoding.hpp"
#include "crypto/digest.hpp"
#include "oidc/testing/token_issuer.hpp"

namespace firmo::oidc {
namespace {

using domain::IdentifierKind;
using nlohmann::json;
using testing::FakeHttp;
using testing::Jwks;
using testing::MakeEcKey;
using testing::MakeRsaKey;
using testing::SignToken;
using testing::TestKey;

constexpr std::int64_t kNow = 1'800'000'000;  // seconds
const std::string kIssuer = "https://idp.example";
const std::string kDiscoveryUrl = kIssuer + "/.well-known/openid-configuration";
const std::string kAuthorize = kIssuer + "/authorize";
const std::string kToken = kIssuer + "/token";
const std::string kUserinfo = kIssuer + "/userinfo";
const std::string kJwksUrl = kIssuer + "/jwks";
const std::string kRedirect = "https://firmo.example/signer/callback?x=a b&y=/";

std::map<std::string, std::string> QueryOf(const std::string& url) {
    std::map<std::string, std::string> out;
    std::string query = url.substr(url.find('?') + 1);
    std::size_t start = 0;
    while (start <= query.size()) {
        std::size_t end = query.find('&', start);
        if (end == std::string::npos) end = query.size();
        std::string pair = query.substr(start, end - start);
        std::size_t eq = pair.find('=');
        out[*PercentDecode(pair.substr(0, eq), true)] =
            eq == std::string::npos ? "" : *PercentDecode(pair.substr(eq + 1), true);
        start = end + 1;
    }
    return out;
}

json Discovery(const std::string& issuer = kIssuer, const std::string& authorize = kAuthorize) {
    return {{"issuer", issuer},         {"authorization_endpoint", authorize},
            {"token_endpoint", kToken}, {"userinfo_endpoint", kUserinfo},
            {"jwks_uri", kJwksUrl},     {"code_challenge_methods_supported", {"S256"}}};
}

class OidcProviderTest : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        rsa_ = new TestKey(MakeRsaKey("k1"));
        ec_ = new TestKey(MakeEcKey("k2"));
    }
    static void TearDownTestSuite() {
        delete rsa_;
        delete ec_;
    }

    void SetUp() override {
        http_ = std::make_shared<FakeHttp>();
        http_->OnJson(kDiscoveryUrl, Discovery().dump());
        http_->OnJson(kJwksUrl, Jwks({rsa_}));
        http_->On(kToken, [this](const HttpCall&) -> Result<HttpReply> {
            std::lock_guard lock(mu_);
            json body = {{"id_token", SignToken(*signer_, id_claims_)},
                         {"access_token", "at-1"},
                         {"token_type", "Bearer"},
                         {"expires_in", 60}};
            return HttpReply{200, "application/json", body.dump()};
        });
        id_claims_ = {{"iss", kIssuer},
                      {"aud", "firmo"},
                      {"sub", "sub-1"},
                      {"iat", kNow - 1},
                      {"exp", kNow + 300},
                      {"fiscal_number", "TINIT-RSSMRA80A01H501U"},
                      {"given_name", "Mario"},
                      {"family_name", "Rossi"},
                      {"acr", "https://www.spid.gov.it/SpidL2"}};
        options_.issuer = kIssuer;
        options_.client_id = "firmo";
        options_.client_secret = "s3cret:/+";
        options_.identifier_kind = IdentifierKind::kItFiscalCode;
    }

    std::unique_ptr<OidcIdentityProvider> Make() {
        auto rp = OidcIdentityProvider::Create(options_, http_, clock_, random_);
        EXPECT_TRUE(rp) << rp.error().message;
        return rp ? std::move(*rp) : nullptr;
    }

    // BeginLogin, a token for that login (claims edited by `edit`), CompleteLogin.
    Result<domain::VerifiedIdentity> Login(OidcIdentityProvider& rp, bool reauthentication = false,
                                           const std::function<void(json&)>& edit = nullptr) {
        auto start = rp.BeginLogin(kRedirect, reauthentication, domain::AuthLevel::kEidSubstantial);
        if (!start) return Fail(start.error());
        {
            std::lock_guard lock(mu_);
            id_claims_["nonce"] = start->nonce;
            if (edit) edit(id_claims_);
        }
        return rp.CompleteLogin("code-1", kRedirect, *start);
    }

    static inline TestKey* rsa_ = nullptr;
    static inline TestKey* ec_ = nullptr;
    std::mutex mu_;
    const TestKey* signer_ = rsa_;
    json id_claims_;
    std::shared_ptr<FakeHttp> http_;
    ManualClock clock_{FromUnixMillis(kNow * 1000)};
    SeededRandom random_{7};
    OidcOptions options_;
};

TEST_F(OidcProviderTest, BeginLoginBuildsTheAuthorizationRequest) {
    auto rp = Make();
    auto start = rp->BeginLogin(kRedirect, false, domain::AuthLevel::kEidSubstantial);
    ASSERT_TRUE(start) << start.error().message;
    ASSERT_EQ(start->authorize_url.rfind(kAuthorize + "?", 0), 0U) << start->authorize_url;
    // Reserved characters of the redirect URI are percent-encoded, not passed through.
    EXPECT_NE(
        start->authorize_url.find(
            "redirect_uri=https%3A%2F%2Ffirmo.example%2Fsigner%2Fcallback%3Fx%3Da%20b%26y%3D%2F"),
        std::string::npos)
        << start->authorize_url;
    auto q = QueryOf(start->authorize_url);
    EXPECT_EQ(q["response_type"], "code");
    EXPECT_EQ(q["client_id"], "firmo");
    EXPECT_EQ(q["redirect_uri"], kRedirect);
    EXPECT_EQ(q["scope"], "openid profile");
    EXPECT_EQ(q["state"], start->state);
    EXPECT_EQ(q["nonce"], start->nonce);
    EXPECT_EQ(q["code_challenge_method"], "S256");
    EXPECT_EQ(q["code_challenge"], Base64UrlEncode(crypto::Sha256(start->code_verifier)));
    EXPECT_EQ(q.count("prompt"), 0U);
    EXPECT_EQ(q.count("max_age"), 0U);
    EXPECT_EQ(q["acr_values"], "https://www.spid.gov.it/SpidL2");  // SPID's default
    EXPECT_EQ(q.size(), 9U);
    EXPECT_GE(start->state.size(), 43U);  // >= 256 bits in base64url
    EXPECT_GE(start->nonce.size(), 43U);
    EXPECT_GE(start->code_verifier.size(), 43U);
    EXPECT_LE(start->code_verifier.size(), 128U);
    EXPECT_NE(start->state, start->nonce);
    EXPECT_EQ(start->started_at, clock_.Now());
    EXPECT_FALSE(start->reauthentication);
    EXPECT_EQ(start->min_level, domain::AuthLevel::kEidSubstantial);

    auto again = rp->BeginLogin(kRedirect, true, domain::AuthLevel::kEidSubstantial);
    ASSERT_TRUE(again);
    EXPECT_NE(again->state, start->state);
    EXPECT_NE(again->code_verifier, start->code_verifier);
    EXPECT_TRUE(again->reauthentication);
    auto q2 = QueryOf(again->authorize_url);
    EXPECT_EQ(q2["prompt"], "login");
    EXPECT_EQ(q2["max_age"], "0");
    // Discovery is cached.
    EXPECT_EQ(http_->CallsTo(kDiscoveryUrl), 1);
}

TEST_F(OidcProviderTest, AuthorizationEndpointWithAQueryOfItsOwn) {
    http_->OnJson(kDiscoveryUrl, Discovery(kIssuer, kAuthorize + "?tenant=it").dump());
    auto start = Make()->BeginLogin(kRedirect, false, domain::AuthLevel::kEidSubstantial);
    ASSERT_TRUE(start);
    EXPECT_EQ(start->authorize_url.rfind(kAuthorize + "?tenant=it&response_type=code&", 0), 0U)
        << start->authorize_url;
}

TEST_F(OidcProviderTest, DiscoveryMustNameTheConfiguredIssuer) {
    http_->OnJson(kDiscoveryUrl, Discovery("https://evil.example").dump());
    auto rp = Make();
    auto start = rp->BeginLogin(kRedirect, false, domain::AuthLevel::kEidSubstantial);
    ASSERT_FALSE(start);
    EXPECT_EQ(start.error().code, ErrorCode::kUnavailable);
    EXPECT_NE(start.error().message.find("evil.example"), std::string::npos);
    // A failure is not cached.
    http_->OnJson(kDiscoveryUrl, Discovery().dump());
    EXPECT_TRUE(rp->BeginLogin(kRedirect, false, domain::AuthLevel::kEidSubstantial));
    EXPECT_EQ(http_->CallsTo(kDiscoveryUrl), 2);
}

TEST_F(OidcProviderTest, DiscoveryFailures) {
    json http_endpoint = Discovery();
    http_endpoint["token_endpoint"] = "http://idp.example/token";  // https issuer, http endpoint
    http_->OnJson(kDiscoveryUrl, http_endpoint.dump());
    auto start = Make()->BeginLogin(kRedirect, false, domain::AuthLevel::kEidSubstantial);
    ASSERT_FALSE(start);
    EXPECT_EQ(start.error().code, ErrorCode::kUnavailable);

    http_->OnJson(kDiscoveryUrl, "<html>", 200);
    EXPECT_EQ(Make()->BeginLogin(kRedirect, false, domain::AuthLevel::kEidSubstantial).error().code,
              ErrorCode::kUnavailable);
    http_->OnJson(kDiscoveryUrl, "{}", 503);
    EXPECT_EQ(Make()->BeginLogin(kRedirect, false, domain::AuthLevel::kEidSubstantial).error().code,
              ErrorCode::kUnavailable);
    http_->On(kDiscoveryUrl, [](const HttpCall&) -> Result<HttpReply> {
        return Fail(ErrorCode::kUnavailable, "connection refused");
    });
    EXPECT_EQ(Make()->BeginLogin(kRedirect, false, domain::AuthLevel::kEidSubstantial).error().code,
              ErrorCode::kUnavailable);
}

TEST_F(OidcProviderTest, ConfidentialClientLogsIn) {
    auto rp = Make();
    auto identity = Login(*rp);
    ASSERT_TRUE(identity) << identity.error().message;
    EXPECT_EQ(identity->kind, IdentifierKind::kItFiscalCode);
    EXPECT_EQ(identity->identifier, "RSSMRA80A01H501U");
    EXPECT_EQ(identity->full_name, "Mario Rossi");
    EXPECT_EQ(identity->subject, "sub-1");
    EXPECT_EQ(identity->auth_time, FromUnixMillis((kNow - 1) * 1000));  // iat: no auth_time

    HttpCall token_call;
    for (const HttpCall& c : http_->Calls()) {
        if (c.url == kToken) token_call = c;
    }
    EXPECT_EQ(token_call.method, "POST");
    auto form = QueryOf("?" + token_call.body);
    EXPECT_EQ(form["grant_type"], "authorization_code");
    EXPECT_EQ(form["code"], "code-1");
    EXPECT_EQ(form["redirect_uri"], kRedirect);
    EXPECT_EQ(form["code_verifier"].size(), 43U);
    EXPECT_EQ(form.count("client_id"), 0U);
    EXPECT_EQ(form.count("client_secret"), 0U);
    // client_secret_basic, both parts form-encoded first (RFC 6749 2.3.1).
    const std::string basic =
        "Authorization: Basic ZmlybW86czNjcmV0JTNBJTJGJTJC";  // firmo:s3cret%3A%2F%2B
    EXPECT_NE(std::find(token_call.headers.begin(), token_call.headers.end(), basic),
              token_call.headers.end());
    EXPECT_EQ(http_->CallsTo(kUserinfo), 0);

    // The second login reuses discovery and keys.
    signer_ = rsa_;
    ASSERT_TRUE(Login(*rp));
    EXPECT_EQ(http_->CallsTo(kDiscoveryUrl), 1);
    EXPECT_EQ(http_->CallsTo(kJwksUrl), 1);
}

TEST_F(OidcProviderTest, PublicClientSendsItsIdInTheBody) {
    options_.client_secret.clear();
    auto rp = Make();
    ASSERT_TRUE(Login(*rp));
    for (const HttpCall& c : http_->Calls()) {
        if (c.url != kToken) continue;
        EXPECT_EQ(QueryOf("?" + c.body)["client_id"], "firmo");
        for (const std::string& h : c.headers)
            EXPECT_EQ(h.rfind("Authorization", 0), std::string::npos);
    }
}

TEST_F(OidcProviderTest, EcSignedTokens) {
    http_->OnJson(kJwksUrl, Jwks({rsa_, ec_}));
    signer_ = ec_;
    auto rp = Make();
    auto identity = Login(*rp);
    ASSERT_TRUE(identity) << identity.error().message;
}

TEST_F(OidcProviderTest, IdentifierFromTheUserinfoEndpoint) {
    options_.identifier_claim = "pid";
    options_.identifier_kind = IdentifierKind::kNoNationalId;
    id_claims_["acr"] = "idporten-loa-substantial";  // ID-porten's, not SPID's
    std::string seen_authorization;
    http_->On(kUserinfo, [&](const HttpCall& call) -> Result<HttpReply> {
        for (const std::string& h : call.headers) {
            if (h.rfind("Authorization:", 0) == 0) seen_authorization = h;
        }
        json body = {{"sub", "sub-1"}, {"pid", "01810010068"}, {"name", "Kari Nordmann"}};
        return HttpReply{200, "application/json", body.dump()};
    });
    auto rp = Make();
    auto identity = Login(*rp, false, [](json& c) {
        c.erase("given_name");
        c.erase("family_name");
    });
    ASSERT_TRUE(identity) << identity.error().message;
    EXPECT_EQ(identity->kind, IdentifierKind::kNoNationalId);
    EXPECT_EQ(identity->identifier, "01810010068");
    EXPECT_EQ(identity->full_name, "Kari Nordmann");
    EXPECT_EQ(seen_authorization, "Authorization: Bearer at-1");

    // A userinfo answer about someone else is not used.
    http_->OnJson(kUserinfo, json{{"sub", "sub-2"}, {"pid", "01810010068"}}.dump());
    auto other = Login(*rp);
    ASSERT_FALSE(other);
    EXPECT_EQ(other.error().code, ErrorCode::kUnauthenticated);
    EXPECT_NE(other.error().message.find("another subject"), std::string::npos);

    // Nowhere to be found.
    http_->OnJson(kUserinfo, json{{"sub", "sub-1"}}.dump());
    auto missing = Login(*rp);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, ErrorCode::kUnauthenticated);
    EXPECT_NE(missing.error().message.find("'pid'"), std::string::npos);
}

TEST_F(OidcProviderTest, RefetchesKeysOnceForAnUnknownKid) {
    TestKey rotated = MakeRsaKey("k3");
    int jwks_calls = 0;
    http_->On(kJwksUrl, [&](const HttpCall&) -> Result<HttpReply> {
        ++jwks_calls;  // the first answer predates the rotation
        return HttpReply{200, "application/json",
                         jwks_calls == 1 ? Jwks({rsa_}) : Jwks({rsa_, &rotated})};
    });
    auto rp = Make();
    ASSERT_TRUE(Login(*rp));  // caches {k1}
    signer_ = &rotated;
    auto identity = Login(*rp);
    ASSERT_TRUE(identity) << identity.error().message;
    EXPECT_EQ(jwks_calls, 2);
    ASSERT_TRUE(Login(*rp));  // k3 is cached now
    EXPECT_EQ(jwks_calls, 2);
}

TEST_F(OidcProviderTest, UnknownKidAfterTheRefetchIsRejected) {
    TestKey stranger = MakeRsaKey("k9");
    signer_ = &stranger;
    auto rp = Make();
    auto identity = Login(*rp);
    ASSERT_FALSE(identity);
    EXPECT_EQ(identity.error().code, ErrorCode::kUnauthenticated);
    EXPECT_NE(identity.error().message.find("'k9'"), std::string::npos);
    EXPECT_EQ(http_->CallsTo(kJwksUrl), 2);
}

TEST_F(OidcProviderTest, TokenEndpointFailures) {
    auto rp = Make();
    http_->OnJson(
        kToken, R"({"error":"invalid_grant","error_description":"grant request is invalid"})", 400);
    auto refused = Login(*rp);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, ErrorCode::kUnauthenticated);
    EXPECT_NE(refused.error().message.find("invalid_grant: grant request is invalid"),
              std::string::npos)
        << refused.error().message;

    http_->OnJson(kToken, "{}", 502);
    EXPECT_EQ(Login(*rp).error().code, ErrorCode::kUnavailable);
    http_->OnJson(kToken, R"({"access_token":"x"})");
    EXPECT_EQ(Login(*rp).error().code, ErrorCode::kUnauthenticated);
    http_->On(kToken, [](const HttpCall&) -> Result<HttpReply> {
        return Fail(ErrorCode::kUnavailable, "timed out");
    });
    EXPECT_EQ(Login(*rp).error().code, ErrorCode::kUnavailable);
    EXPECT_EQ(rp->CompleteLogin("", kRedirect, domain::LoginStart{}).error().code,
              ErrorCode::kUnauthenticated);
}

TEST_F(OidcProviderTest, TokenForAnotherLoginIsRejected) {
    auto rp = Make();
    auto first = rp->BeginLogin(kRedirect, false, domain::AuthLevel::kEidSubstantial);
    auto second = rp->BeginLogin(kRedirect, false, domain::AuthLevel::kEidSubstantial);
    ASSERT_TRUE(first && second);
    id_claims_["nonce"] = first->nonce;
    auto identity = rp->CompleteLogin("code-1", kRedirect, *second);
    ASSERT_FALSE(identity);
    EXPECT_EQ(identity.error().code, ErrorCode::kUnauthenticated);
    EXPECT_NE(identity.error().message.find("nonce"), std::string::npos);
}

TEST_F(OidcProviderTest, ReauthenticationNeedsAFreshAuthTime) {
    auto rp = Make();
    auto old_session = Login(*rp, true, [](json& c) { c["auth_time"] = kNow - 3600; });
    ASSERT_FALSE(old_session);
    EXPECT_EQ(old_session.error().code, ErrorCode::kUnauthenticated);
    EXPECT_NE(old_session.error().message.find("re-authentication"), std::string::npos);
    auto no_auth_time = Login(*rp, true, [](json& c) { c.erase("auth_time"); });
    ASSERT_FALSE(no_auth_time);
    EXPECT_NE(no_auth_time.error().message.find("no auth_time"), std::string::npos);
    auto fresh = Login(*rp, true, [](json& c) { c["auth_time"] = kNow; });
    ASSERT_TRUE(fresh) << fresh.error().message;
    EXPECT_EQ(fresh->auth_time, FromUnixMillis(kNow * 1000));
    // Without re-authentication an old session is fine.
    EXPECT_TRUE(Login(*rp, false, [](json& c) { c["auth_time"] = kNow - 3600; }));
}

TEST_F(OidcProviderTest, ChecksAtHashWhenPresent) {
    auto rp = Make();
    EXPECT_TRUE(Login(*rp, false, [](json& c) { c["at_hash"] = AccessTokenHash("at-1"); }));
    auto wrong = Login(*rp, false, [](json& c) { c["at_hash"] = AccessTokenHash("at-2"); });
    ASSERT_FALSE(wrong);
    EXPECT_NE(wrong.error().message.find("at_hash"), std::string::npos);
}

TEST_F(OidcProviderTest, InvalidIdentifierIsUnauthenticated) {
    auto rp = Make();
    auto identity =
        Login(*rp, false, [](json& c) { c["fiscal_number"] = "TINIT-RSSMRA80A01H501X"; });
    ASSERT_FALSE(identity);
    EXPECT_EQ(identity.error().code, ErrorCode::kUnauthenticated);
    EXPECT_NE(identity.error().message.find("not a valid IT-FISCAL-CODE"), std::string::npos);
}

TEST_F(OidcProviderTest, ExpiredTokenIsRejected) {
    auto rp = Make();
    clock_.Advance(std::chrono::hours(1));
    auto identity = Login(*rp);
    ASSERT_FALSE(identity);
    EXPECT_NE(identity.error().message.find("expired"), std::string::npos);
}

TEST_F(OidcProviderTest, CreateRejectsUnusableOptions) {
    OidcOptions bad = options_;
    bad.issuer = "ftp://idp.example";
    bad.client_id.clear();
    bad.scopes = "profile";
    bad.identifier_claim.clear();
    auto rp = OidcIdentityProvider::Create(bad, http_, clock_, random_);
    ASSERT_FALSE(rp);
    EXPECT_EQ(rp.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(rp.error().violations.size(), 4U);
    EXPECT_FALSE(OidcIdentityProvider::Create(options_, nullptr, clock_, random_));
    EXPECT_TRUE(OidcIdentityProvider::Create(options_, clock_, random_));  // libcurl fetcher
}

TEST_F(OidcProviderTest, ConcurrentLogins) {
    auto rp = Make();
    // Each thread checks its own token, so the token endpoint answers per nonce.
    http_->On(kToken, [this](const HttpCall& call) -> Result<HttpReply> {
        json claims;
        {
            std::lock_guard lock(mu_);
            claims = id_claims_;
        }
        claims["nonce"] = QueryOf("?" + call.body)["code"];  // the test passes the nonce as code
        json body = {{"id_token", SignToken(*rsa_, claims)}, {"access_token", "at-1"}};
        return HttpReply{200, "application/json", body.dump()};
    });
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 5; ++i) {
                auto start = rp->BeginLogin(kRedirect, false, domain::AuthLevel::kEidSubstantial);
                if (start && rp->CompleteLogin(start->nonce, kRedirect, *start)) ++ok;
            }
        });
    }
    for (std::thread& t : threads) t.join();
    EXPECT_EQ(ok.load(), 20);
    EXPECT_LE(http_->CallsTo(kJwksUrl), 4);
}

// Issue 14: the level is asked for (acr_values) and checked (the ID token's acr).
TEST_F(OidcProviderTest, TheAcrIsAskedForAndALowerOrMissingOneIsRefused) {
    auto rp = Make();
    auto high = rp->BeginLogin(kRedirect, true, domain::AuthLevel::kEidHigh);
    ASSERT_TRUE(high);
    EXPECT_EQ(QueryOf(high->authorize_url)["acr_values"], "https://www.spid.gov.it/SpidL3");
    EXPECT_EQ(high->min_level, domain::AuthLevel::kEidHigh);
    // A code level asks for substantial: an eID login is never weaker.
    auto code = rp->BeginLogin(kRedirect, false, domain::AuthLevel::kCode);
    ASSERT_TRUE(code);
    EXPECT_EQ(code->min_level, domain::AuthLevel::kEidSubstantial);

    auto substantial = Login(*rp);
    ASSERT_TRUE(substantial) << substantial.error().message;
    EXPECT_EQ(substantial->level, domain::AuthLevel::kEidSubstantial);
    EXPECT_EQ(substantial->acr, "https://www.spid.gov.it/SpidL2");
    auto stronger = Login(*rp, false, [](json& c) { c["acr"] = "https://www.spid.gov.it/SpidL3"; });
    ASSERT_TRUE(stronger) << stronger.error().message;
    EXPECT_EQ(stronger->level, domain::AuthLevel::kEidHigh);

    for (const auto& [given, why] : std::vector<std::pair<json, std::string>>{
             {json("https://www.spid.gov.it/SpidL1"), "not a known level"},
             {json(nullptr), "no acr"},
             {json(3), "no acr"}}) {
        const json acr = given;  // a copy: lambdas cannot capture structured bindings (clang 14)
        auto refused = Login(*rp, false, [&](json& c) {
            if (acr.is_null()) {
                c.erase("acr");
            } else {
                c["acr"] = acr;
            }
        });
        ASSERT_FALSE(refused) << acr.dump();
        EXPECT_EQ(refused.error().code, ErrorCode::kAuthenticationRequired);
        EXPECT_NE(refused.error().message.find(why), std::string::npos) << refused.error().message;
    }

    // Substantial when high was asked for.
    auto start = rp->BeginLogin(kRedirect, false, domain::AuthLevel::kEidHigh);
    ASSERT_TRUE(start);
    {
        std::lock_guard lock(mu_);
        id_claims_["nonce"] = start->nonce;
        id_claims_["acr"] = "https://www.spid.gov.it/SpidL2";
    }
    auto low = rp->CompleteLogin("code-1", kRedirect, *start);
    ASSERT_FALSE(low);
    EXPECT_EQ(low.error().code, ErrorCode::kAuthenticationRequired);
    EXPECT_NE(low.error().message.find("needs eid_high"), std::string::npos) << low.error().message;
}

TEST_F(OidcProviderTest, ConfiguredAcrValuesReplaceTheDefaults) {
    options_.acr_values = {{"urn:test:loa:3", "urn:test:loa:3b"}, {"urn:test:loa:4"}};
    auto rp = Make();
    auto start = rp->BeginLogin(kRedirect, false, domain::AuthLevel::kEidSubstantial);
    ASSERT_TRUE(start);
    EXPECT_EQ(QueryOf(start->authorize_url)["acr_values"], "urn:test:loa:3");
    auto spid = Login(*rp);  // SPID's value is not this provider's
    ASSERT_FALSE(spid);
    EXPECT_EQ(spid.error().code, ErrorCode::kAuthenticationRequired);
    auto second = Login(*rp, false, [](json& c) { c["acr"] = "urn:test:loa:3b"; });
    ASSERT_TRUE(second) << second.error().message;
    EXPECT_EQ(second->level, domain::AuthLevel::kEidSubstantial);
}

TEST_F(OidcProviderTest, IdportenDefaultsFollowTheIdentifierKind) {
    options_.identifier_claim = "pid";
    options_.identifier_kind = IdentifierKind::kNoNationalId;
    auto rp = Make();
    ASSERT_EQ(rp->options().acr_values, domain::DefaultAcrValues(IdentifierKind::kNoNationalId));
    auto start = rp->BeginLogin(kRedirect, true, domain::AuthLevel::kEidHigh);
    ASSERT_TRUE(start);
    EXPECT_EQ(QueryOf(start->authorize_url)["acr_values"], "idporten-loa-high");
}

}  // namespace
}  // namespace firmo::oidc
