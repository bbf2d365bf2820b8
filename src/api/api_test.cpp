#include <gtest/gtest.h>

#include "api/json_response.hpp"
#include "api/problem.hpp"
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

TEST(Problem, IsTheErrorTableAsProblemJson) {
    for (const ErrorKind& kind : AllErrorKinds()) {
        SCOPED_TRACE(std::string(kind.slug));
        auto r = Problem(Error{kind.code, "what happened"});
        EXPECT_EQ(r.status, kind.http_status);
        EXPECT_EQ(r.headers[0], (std::pair<std::string, std::string>("Content-Type",
                                                                     "application/problem+json")));
        auto body = codec::Json::parse(r.body);
        EXPECT_EQ(body["type"], "urn:firmo:problem:" + std::string(kind.slug));
        EXPECT_EQ(body["title"], std::string(kind.title));
        EXPECT_EQ(body["status"], kind.http_status);
        bool challenge = false;
        for (const auto& [name, value] : r.headers) challenge |= name == "WWW-Authenticate";
        EXPECT_EQ(challenge, kind.code == ErrorCode::kUnauthenticated);
    }
    auto r = Problem(Error{ErrorCode::kInvalidArgument, "bad", {{"title", "too short"}}});
    EXPECT_EQ(r.status, 422);
    auto body = codec::Json::parse(r.body);
    EXPECT_EQ(body["type"], "urn:firmo:problem:validation-error");
    EXPECT_EQ(body["detail"], "bad");
    EXPECT_EQ(body["violations"][0]["field"], "title");
    EXPECT_EQ(body["violations"][0]["reason"], "too short");
    // Internal errors never leak their message.
    auto internal =
        codec::Json::parse(Problem(ErrorCode::kInternal, "sqlite: disk I/O error").body);
    EXPECT_EQ(internal["detail"], "an internal error occurred");
    // Whatever bytes a message carries (a path parameter, say), the body is valid JSON.
    auto odd = Problem(ErrorCode::kNotFound, "dossier \xff\"\n\x01 not found");
    EXPECT_EQ(codec::Json::parse(odd.body)["detail"], "dossier \xef\xbf\xbd\"\n\x01 not found");
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
