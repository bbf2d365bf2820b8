#include "oidc/jwt.hpp"

#include <gtest/gtest.h>

#include "oidc/testing/token_issuer.hpp"

namespace firmo::oidc {
namespace {

using nlohmann::json;
using testing::HmacToken;
using testing::Jwks;
using testing::MakeEcKey;
using testing::MakeRsaKey;
using testing::RawToken;
using testing::SignToken;
using testing::TestKey;

constexpr std::int64_t kNow = 1'800'000'000;  // seconds

class JwtTest : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        rsa_ = new TestKey(MakeRsaKey("rsa-1"));
        pss_ = new TestKey(MakeRsaKey("pss-1", JwsAlgorithm::kPs256));
        ec_ = new TestKey(MakeEcKey("ec-1"));
        other_rsa_ = new TestKey(MakeRsaKey("rsa-1"));  // same kid, different key
    }
    static void TearDownTestSuite() {
        delete rsa_;
        delete pss_;
        delete ec_;
        delete other_rsa_;
    }

    static json Claims() {
        return {{"iss", "https://idp.example"},
                {"aud", "firmo"},
                {"sub", "user-1"},
                {"iat", kNow - 5},
                {"exp", kNow + 300},
                {"nonce", "n-123"}};
    }
    static IdTokenExpectations Expect() {
        IdTokenExpectations e;
        e.issuer = "https://idp.example";
        e.client_id = "firmo";
        e.nonce = "n-123";
        e.now = FromUnixMillis(kNow * 1000);
        e.clock_skew = std::chrono::seconds(60);
        return e;
    }
    static JwkSet Keys() {
        auto set = JwkSet::Parse(Jwks({rsa_, pss_, ec_}));
        EXPECT_TRUE(set) << set.error().message;
        return std::move(*set);
    }
    // The verification error message, or "" when the token is accepted.
    static std::string Check(const std::string& token, const IdTokenExpectations& e = Expect()) {
        auto result = VerifyIdToken(token, Keys(), e);
        if (result) return "";
        EXPECT_EQ(result.error().code, ErrorCode::kUnauthenticated) << result.error().message;
        return result.error().message;
    }

    static inline TestKey* rsa_ = nullptr;
    static inline TestKey* pss_ = nullptr;
    static inline TestKey* ec_ = nullptr;
    static inline TestKey* other_rsa_ = nullptr;
};

TEST_F(JwtTest, AcceptsGoodTokensOfEachAlgorithm) {
    for (const TestKey* key : {rsa_, pss_, ec_}) {
        auto token = VerifyIdToken(SignToken(*key, Claims()), Keys(), Expect());
        ASSERT_TRUE(token) << ToString(key->alg) << ": " << token.error().message;
        EXPECT_EQ(token->subject, "user-1");
        EXPECT_EQ(token->issued_at, FromUnixMillis((kNow - 5) * 1000));
        EXPECT_FALSE(token->auth_time);
        EXPECT_EQ(token->claims["nonce"], "n-123");
    }
}

TEST_F(JwtTest, RejectsAWrongSignature) {
    // Signed by another key that claims the same kid.
    EXPECT_NE(Check(SignToken(*other_rsa_, Claims())).find("signature does not verify"),
              std::string::npos);
    // A good signature over a different payload.
    std::string good = SignToken(*ec_, Claims());
    json changed = Claims();
    changed["sub"] = "someone-else";
    std::string forged = SignToken(*ec_, changed);
    std::string spliced = forged.substr(0, forged.rfind('.')) + good.substr(good.rfind('.'));
    EXPECT_NE(Check(spliced).find("signature does not verify"), std::string::npos);
    // A flipped bit in the RSA signature.
    std::string rsa_token = SignToken(*rsa_, Claims());
    std::string sig = *Base64UrlDecode(rsa_token.substr(rsa_token.rfind('.') + 1));
    sig[10] = static_cast<char>(sig[10] ^ 1);
    EXPECT_NE(Check(rsa_token.substr(0, rsa_token.rfind('.') + 1) + Base64UrlEncode(sig))
                  .find("signature does not verify"),
              std::string::npos);
}

TEST_F(JwtTest, RejectsAlgNone) {
    EXPECT_NE(Check(RawToken({{"alg", "none"}}, Claims(), "")).find("signature"),
              std::string::npos);
    EXPECT_NE(Check(RawToken({{"alg", "none"}, {"kid", "rsa-1"}}, Claims(), "x")).find("none"),
              std::string::npos);
}

TEST_F(JwtTest, RejectsHmacEvenKeyedWithThePublicKey) {
    // The algorithm-confusion attack: HS256 keyed with bytes the attacker knows.
    const std::string n = *Base64UrlDecode(rsa_->jwk["n"].get<std::string>());
    const std::string token = HmacToken({{"alg", "HS256"}, {"kid", "rsa-1"}}, Claims(), n);
    EXPECT_NE(Check(token).find("HS256 is not accepted"), std::string::npos);
}

TEST_F(JwtTest, RejectsMalformedTokens) {
    EXPECT_NE(Check("").find("compact JWS"), std::string::npos);
    EXPECT_NE(Check("a.b").find("compact JWS"), std::string::npos);
    EXPECT_NE(Check("a.b.c.d").find("compact JWS"), std::string::npos);
    EXPECT_NE(Check("!!.e30.c2ln").find("JOSE header"), std::string::npos);
    std::string good = SignToken(*rsa_, Claims());
    EXPECT_NE(Check(good.substr(0, good.rfind('.') + 1)).find("signature"), std::string::npos);
    // An ES256 signature in DER form (what OpenSSL produces) instead of r || s.
    const std::string es = SignToken(*ec_, Claims());
    const std::string raw = *Base64UrlDecode(es.substr(es.rfind('.') + 1));
    EXPECT_NE(Check(es.substr(0, es.rfind('.') + 1) + Base64UrlEncode(raw + "xx")).find("64 bytes"),
              std::string::npos);
    EXPECT_NE(Check(SignToken(*rsa_, Claims(), {{"crit", {"exp"}}, {"exp", 1}})).find("critical"),
              std::string::npos);
}

TEST_F(JwtTest, ChecksExpiryAndIssueTimeWithSkew) {
    json claims = Claims();
    claims["exp"] = kNow - 61;
    EXPECT_NE(Check(SignToken(*rsa_, claims)).find("expired"), std::string::npos);
    claims["exp"] = kNow - 30;  // within the 60 s skew
    EXPECT_EQ(Check(SignToken(*rsa_, claims)), "");
    claims = Claims();
    claims["iat"] = kNow + 120;
    EXPECT_NE(Check(SignToken(*rsa_, claims)).find("future"), std::string::npos);
    claims["iat"] = kNow + 30;
    EXPECT_EQ(Check(SignToken(*rsa_, claims)), "");
    claims = Claims();
    claims.erase("exp");
    EXPECT_NE(Check(SignToken(*rsa_, claims)).find("exp"), std::string::npos);
    claims = Claims();
    claims["iat"] = "yesterday";
    EXPECT_NE(Check(SignToken(*rsa_, claims)).find("iat"), std::string::npos);
    claims = Claims();
    claims["nbf"] = kNow + 3600;
    EXPECT_NE(Check(SignToken(*rsa_, claims)).find("not valid before"), std::string::npos);
}

TEST_F(JwtTest, ChecksAudienceAndAuthorizedParty) {
    json claims = Claims();
    claims["aud"] = "someone-else";
    EXPECT_NE(Check(SignToken(*rsa_, claims)).find("audience"), std::string::npos);
    claims.erase("aud");
    EXPECT_NE(Check(SignToken(*rsa_, claims)).find("audience"), std::string::npos);
    claims["aud"] = {"firmo", "api"};
    EXPECT_NE(Check(SignToken(*rsa_, claims)).find("azp"), std::string::npos);
    claims["azp"] = "api";
    EXPECT_NE(Check(SignToken(*rsa_, claims)).find("azp"), std::string::npos);
    claims["azp"] = "firmo";
    EXPECT_EQ(Check(SignToken(*rsa_, claims)), "");
    claims["aud"] = {"firmo"};
    claims.erase("azp");
    EXPECT_EQ(Check(SignToken(*rsa_, claims)), "");
}

TEST_F(JwtTest, ChecksIssuerNonceAndSubject) {
    json claims = Claims();
    claims["iss"] = "https://idp.example/";  // exact match, not "close enough"
    EXPECT_NE(Check(SignToken(*rsa_, claims)).find("issuer"), std::string::npos);
    claims = Claims();
    claims["nonce"] = "n-124";
    EXPECT_NE(Check(SignToken(*rsa_, claims)).find("nonce"), std::string::npos);
    claims.erase("nonce");
    EXPECT_NE(Check(SignToken(*rsa_, claims)).find("nonce"), std::string::npos);
    IdTokenExpectations no_nonce = Expect();
    no_nonce.nonce.clear();
    EXPECT_NE(Check(SignToken(*rsa_, Claims()), no_nonce).find("nonce"), std::string::npos);
    claims = Claims();
    claims["sub"] = "";
    EXPECT_NE(Check(SignToken(*rsa_, claims)).find("sub"), std::string::npos);
}

TEST_F(JwtTest, FindsKeysByKidAndAlgorithm) {
    EXPECT_NE(Check(SignToken(*rsa_, Claims(), {{"kid", "rotated-away"}})).find("rotated-away"),
              std::string::npos);
    // The kid of an EC key on an RS256 token: no RSA key with that kid.
    EXPECT_NE(Check(SignToken(*rsa_, Claims(), {{"kid", "ec-1"}})).find("no RS256 key"),
              std::string::npos);
    // No kid: fine when a single key fits, not when several do.
    TestKey lone = MakeEcKey("");
    auto one = JwkSet::Parse(Jwks({rsa_, &lone}));
    ASSERT_TRUE(one);
    EXPECT_TRUE(VerifyIdToken(SignToken(lone, Claims()), *one, Expect()));
    auto two = JwkSet::Parse(Jwks({ec_, &lone}));
    ASSERT_TRUE(two);
    EXPECT_FALSE(VerifyIdToken(SignToken(lone, Claims()), *two, Expect()));
}

TEST_F(JwtTest, KeySetKeepsOnlyUsableSignatureKeys) {
    json enc = rsa_->jwk;
    enc["use"] = "enc";
    json other_alg = rsa_->jwk;
    other_alg["alg"] = "RS512";
    json symmetric = {{"kty", "oct"}, {"k", "c2VjcmV0"}};
    TestKey small = MakeRsaKey("small", JwsAlgorithm::kRs256, 1024);
    json off_curve = ec_->jwk;
    std::string y = *Base64UrlDecode(off_curve["y"].get<std::string>());
    y[31] = static_cast<char>(y[31] ^ 1);
    off_curve["y"] = Base64UrlEncode(y);
    json p384 = ec_->jwk;
    p384["crv"] = "P-384";
    json good_ec = ec_->jwk;
    good_ec["key_ops"] = {"verify"};
    json doc = {{"keys", {enc, other_alg, symmetric, small.jwk, off_curve, p384, good_ec, 42}}};
    auto set = JwkSet::Parse(doc.dump());
    ASSERT_TRUE(set) << set.error().message;
    EXPECT_EQ(set->size(), 1U);
    EXPECT_NE(set->Find("ec-1", JwsAlgorithm::kEs256), nullptr);
    EXPECT_EQ(set->Find("rsa-1", JwsAlgorithm::kRs256), nullptr);

    EXPECT_FALSE(JwkSet::Parse("{\"keys\": {}}"));
    EXPECT_FALSE(JwkSet::Parse("not json"));
}

TEST_F(JwtTest, ReauthenticationNeedsAFreshAuthTime) {
    IdTokenExpectations e = Expect();
    e.authenticated_after = FromUnixMillis((kNow - 20) * 1000);
    json claims = Claims();
    EXPECT_NE(Check(SignToken(*rsa_, claims), e).find("no auth_time"), std::string::npos);
    claims["auth_time"] = kNow - 3600;  // an old session reused
    EXPECT_NE(Check(SignToken(*rsa_, claims), e).find("before the login started"),
              std::string::npos);
    claims["auth_time"] = kNow - 70;  // 50 s before the start: within the skew
    EXPECT_EQ(Check(SignToken(*rsa_, claims), e), "");
    claims["auth_time"] = kNow - 81;  // 61 s before the start
    EXPECT_NE(Check(SignToken(*rsa_, claims), e).find("before the login started"),
              std::string::npos);
    claims["auth_time"] = kNow - 2;
    auto token = VerifyIdToken(SignToken(*rsa_, claims), Keys(), e);
    ASSERT_TRUE(token) << token.error().message;
    EXPECT_EQ(token->auth_time, FromUnixMillis((kNow - 2) * 1000));
}

TEST(AccessTokenHash, MatchesTheOidcCoreExample) {
    // OIDC Core A.3: access_token "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y" has at_hash
    // "77QmUPtjPfzWtF2AnpK9RQ".
    EXPECT_EQ(AccessTokenHash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
              "77QmUPtjPfzWtF2AnpK9RQ");
}

}  // namespace
}  // namespace firmo::oidc
