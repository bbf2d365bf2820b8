#include <gtest/gtest.h>

#include "api/json_response.hpp"
#include "api/problem.hpp"
#include "api/rate_limiter.hpp"
#include "api/url_signer.hpp"

namespace firmo::api {
namespace {

using namespace std::chrono_literals;

TEST(UrlSigner, SignsAndVerifies) {
    ManualClock clock(FromUnixMillis(1'795'000'000'000));
    UrlSigner signer("secret");
    const Grant g{"upload", "ISS", "REQ", "DOC", clock.Now() + 15min};
    const std::string token = signer.Sign(g);
    auto back = signer.Verify(token, "upload", clock.Now());
    ASSERT_TRUE(back);
    EXPECT_EQ(back->request_id, "REQ");
    EXPECT_EQ(back->document_id, "DOC");
    EXPECT_EQ(back->expires_at, g.expires_at);

    EXPECT_EQ(signer.Verify(token, "download", clock.Now()).error().code, ErrorCode::kForbidden);
    EXPECT_EQ(UrlSigner("other").Verify(token, "upload", clock.Now()).error().code,
              ErrorCode::kForbidden);
    std::string tampered = token;
    tampered[3] = tampered[3] == 'A' ? 'B' : 'A';
    EXPECT_EQ(signer.Verify(tampered, "upload", clock.Now()).error().code, ErrorCode::kForbidden);
    for (const char* junk : {"", ".", "abc", "a.b", "....", "%%%.%%%"}) {
        EXPECT_EQ(signer.Verify(junk, "upload", clock.Now()).error().code, ErrorCode::kForbidden);
    }
    clock.Advance(15min);
    EXPECT_EQ(signer.Verify(token, "upload", clock.Now()).error().code, ErrorCode::kGone);
}

TEST(RateLimiter, AllowsABurstThenRefills) {
    ManualClock clock(FromUnixMillis(0));
    RateLimiter limiter(clock, 3, 3000ms);  // 1 call per second sustained
    std::chrono::seconds retry{};
    EXPECT_TRUE(limiter.Allow("k", &retry));
    EXPECT_TRUE(limiter.Allow("k", &retry));
    EXPECT_TRUE(limiter.Allow("k", &retry));
    EXPECT_FALSE(limiter.Allow("k", &retry));
    EXPECT_EQ(retry.count(), 1);
    EXPECT_TRUE(limiter.Allow("other", &retry));
    clock.Advance(1000ms);
    EXPECT_TRUE(limiter.Allow("k", &retry));
    EXPECT_FALSE(limiter.Allow("k", &retry));
    // Many one-off callers (failed logins from many addresses) do not grow memory forever.
    for (std::size_t i = 0; i < RateLimiter::kPruneAt + 10; ++i)
        limiter.Allow("ip:" + std::to_string(i), &retry);
    clock.Advance(3000ms);
    EXPECT_TRUE(limiter.Allow("late", &retry));
    EXPECT_LT(limiter.size(), 10u);
    RateLimiter off(clock, 0, 1000ms);
    for (int i = 0; i < 100; ++i) EXPECT_TRUE(off.Allow("k", &retry));
}

TEST(Problem, MapsEveryCodeToAStatusAndType) {
    EXPECT_EQ(HttpStatus(ErrorCode::kInvalidArgument), 422);
    EXPECT_EQ(HttpStatus(ErrorCode::kNotFound), 404);
    EXPECT_EQ(HttpStatus(ErrorCode::kConflict), 409);
    auto r = Problem(Error{ErrorCode::kInvalidArgument, "bad", {{"title", "too short"}}});
    EXPECT_EQ(r.status, 422);
    auto body = codec::Json::parse(r.body);
    EXPECT_EQ(body["type"], "urn:firmo:problem:validation-error");
    EXPECT_EQ(body["violations"][0]["field"], "title");
    // Internal errors never leak their message.
    auto internal =
        codec::Json::parse(Problem(ErrorCode::kInternal, "sqlite: disk I/O error").body);
    EXPECT_EQ(internal["detail"], "an internal error occurred");
}

TEST(JsonBody, ChecksTypeAndSyntax) {
    http::HttpRequest r;
    r.body = "{\"a\":1}";
    EXPECT_EQ(ParseJsonBody(r).error().code, ErrorCode::kUnsupportedMediaType);
    r.headers["Content-Type"] = "application/json; charset=utf-8";
    EXPECT_TRUE(ParseJsonBody(r));
    r.body = "{\"a\":";
    EXPECT_EQ(ParseJsonBody(r).error().code, ErrorCode::kMalformed);
    r.body = "1e400";
    EXPECT_EQ(ParseJsonBody(r).error().code, ErrorCode::kMalformed);
}

}  // namespace
}  // namespace firmo::api
