#include "http/router.hpp"

#include <gtest/gtest.h>

namespace firmo::http {
namespace {

HttpRequest Req(std::string method, std::string path) {
    HttpRequest r;
    r.method = std::move(method);
    r.path = std::move(path);
    return r;
}

TEST(Router, MatchesLiteralsAndCaptures) {
    Router router;
    int hit = 0;
    router.Add("GET", "/api/v1/dossiers/{id}", [&](HttpRequest&) {
        hit = 1;
        return HttpResponse{};
    });
    router.Add("GET", "/api/v1/dossiers/{id}/signature-requests", [&](HttpRequest&) {
        hit = 2;
        return HttpResponse{};
    });
    router.Add("POST", "/api/v1/dossiers", [&](HttpRequest&) {
        hit = 3;
        return HttpResponse{};
    });

    auto r = Req("GET", "/api/v1/dossiers/01ABC");
    auto found = router.Find(r);
    ASSERT_EQ(found.match, Router::Match::kFound);
    (*found.handler)(r);
    EXPECT_EQ(hit, 1);
    EXPECT_EQ(r.Param("id"), "01ABC");

    r = Req("GET", "/api/v1/dossiers/x%2Fy/signature-requests");
    found = router.Find(r);
    ASSERT_EQ(found.match, Router::Match::kFound);
    EXPECT_EQ(r.Param("id"), "x/y");  // captures are decoded after splitting

    r = Req("DELETE", "/api/v1/dossiers");
    found = router.Find(r);
    EXPECT_EQ(found.match, Router::Match::kNoMethod);
    EXPECT_EQ(found.allow, "POST");

    r = Req("GET", "/api/v1/unknown");
    EXPECT_EQ(router.Find(r).match, Router::Match::kNoPath);
    r = Req("GET", "/api/v1/dossiers/");
    EXPECT_EQ(router.Find(r).match, Router::Match::kNoMethod);  // "/api/v1/dossiers" itself
}

TEST(Router, HeadFallsBackToGet) {
    Router router;
    router.Add("GET", "/healthz", [](HttpRequest&) { return HttpResponse{}; });
    auto r = Req("HEAD", "/healthz");
    EXPECT_EQ(router.Find(r).match, Router::Match::kFound);
}

TEST(Message, QueryAndHeaders) {
    auto q = ParseQuery("limit=2&status=READY&x=a%20b&empty&bad=%zz");
    EXPECT_EQ(q.find("limit")->second, "2");
    EXPECT_EQ(q.find("x")->second, "a b");
    EXPECT_EQ(q.find("empty")->second, "");
    EXPECT_EQ(q.find("bad")->second, "%zz");
    HttpRequest r;
    r.headers["Content-Type"] = "application/json";
    EXPECT_EQ(r.Header("content-type"), std::string_view("application/json"));
    EXPECT_FALSE(r.Header("X-Api-Key"));
}

}  // namespace
}  // namespace firmo::http
