#include "http/wire.hpp"

#include <gtest/gtest.h>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>

#include "http/request_id.hpp"

namespace firmo::http {
namespace {

// Feeds `raw` to a fresh parser in pieces of `step` bytes, as a socket might deliver it.
boost::beast::error_code Parse(std::string_view raw, HttpRequest& request, std::size_t step) {
    request.Reset();
    RequestParser parser(request);
    parser.eager(true);
    boost::beast::error_code ec;
    std::string pending;
    for (std::size_t i = 0; i < raw.size() && !parser.is_done(); i += step) {
        pending.append(raw.substr(i, step));
        const auto used = parser.put(boost::asio::buffer(pending), ec);
        if (ec == boost::beast::http::error::need_more) {
            ec = {};
        } else if (ec) {
            return ec;
        }
        pending.erase(0, used);
    }
    if (!parser.is_done()) return boost::beast::http::error::need_more;
    return ec;
}

TEST(RequestParser, FillsTheRequestWhateverTheChunking) {
    const std::string raw =
        "POST /api/v1/dossiers/x%2Fy?limit=2&q=a%20b HTTP/1.1\r\n"
        "Host: example\r\n"
        "X-Api-Key: firmo_key\r\n"
        "x-forwarded-for: 10.0.0.1\r\n"
        "X-Forwarded-For: 10.0.0.2\r\n"
        "Content-Length: 5\r\n"
        "\r\n"
        "hello";
    for (std::size_t step : {raw.size(), std::size_t{1}, std::size_t{7}}) {
        HttpRequest r;
        ASSERT_FALSE(Parse(raw, r, step)) << step;
        EXPECT_EQ(r.method, "POST");
        EXPECT_EQ(r.target, "/api/v1/dossiers/x%2Fy?limit=2&q=a%20b");
        EXPECT_EQ(r.path, "/api/v1/dossiers/x%2Fy");
        EXPECT_EQ(r.Query("q"), "a b");
        EXPECT_EQ(r.Header("x-api-key"), std::string_view("firmo_key"));
        EXPECT_EQ(r.Header("X-FORWARDED-FOR"), std::string_view("10.0.0.2"));  // last wins
        EXPECT_EQ(r.headers.size(), 5u);
        EXPECT_EQ(r.body, "hello");
        EXPECT_EQ(r.version, 11);
        EXPECT_TRUE(r.keep_alive);
    }
}

TEST(RequestParser, ChunkedBodiesAndConnectionSemantics) {
    HttpRequest r;
    ASSERT_FALSE(
        Parse("PUT /u HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
              "Connection: close\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
              r, 3));
    EXPECT_EQ(r.body, "abcde");
    EXPECT_FALSE(r.keep_alive);
    ASSERT_FALSE(Parse("GET / HTTP/1.0\r\n\r\n", r, 100));
    EXPECT_EQ(r.version, 10);
    EXPECT_FALSE(r.keep_alive);
    ASSERT_FALSE(Parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", r, 100));
    EXPECT_TRUE(r.keep_alive);
    EXPECT_TRUE(Parse("GET /\r\n\r\n", r, 100));  // no version: malformed
}

TEST(RequestParser, ReusedRequestKeepsNothingFromTheLastOne) {
    HttpRequest r;
    ASSERT_FALSE(
        Parse("POST /a?x=1 HTTP/1.1\r\nA: 1\r\nB: 2\r\nContent-Length: 2\r\n\r\nhi", r, 100));
    r.route = "/a";
    r.request_id = "id";
    r.path_params.Add("id", "7");
    ASSERT_FALSE(Parse("GET /b HTTP/1.1\r\nC: 3\r\n\r\n", r, 100));
    EXPECT_EQ(r.path, "/b");
    EXPECT_TRUE(r.query.empty());
    EXPECT_EQ(r.headers.size(), 1u);
    EXPECT_FALSE(r.Header("A"));
    EXPECT_EQ(r.body, "");
    EXPECT_EQ(r.route, "");
    EXPECT_EQ(r.request_id, "");
    EXPECT_EQ(r.Param("id"), "");
}

TEST(ResponseHead, FramesTheBodyAndDropsUnsafeHeaders) {
    HttpResponse r = HttpResponse::Text(201, "{}", "application/json");
    r.Set("Location", "/x");
    r.Set("X-Evil", "a\r\nSet-Cookie: stolen=1");  // would split the head: dropped
    r.Set("Bad Name", "v");                        // not a token: dropped
    r.Set("Content-Length", "999");                // the server frames the body
    r.Set("Connection", "keep-alive");
    std::string head;
    EXPECT_TRUE(AppendResponseHead(head, r, {.request_id = "rid-1"}));
    EXPECT_TRUE(head.starts_with("HTTP/1.1 201 Created\r\nServer: firmo\r\nDate: "));
    EXPECT_NE(head.find("\r\nX-Request-Id: rid-1\r\n"), std::string::npos);
    EXPECT_NE(head.find("\r\nContent-Type: application/json\r\nLocation: /x\r\n"),
              std::string::npos);
    EXPECT_NE(head.find("\r\nContent-Length: 2\r\n\r\n"), std::string::npos);
    EXPECT_EQ(head.find("Set-Cookie"), std::string::npos);
    EXPECT_EQ(head.find("Bad Name"), std::string::npos);
    EXPECT_EQ(head.find("999"), std::string::npos);
    EXPECT_EQ(head.find("Connection"), std::string::npos);
    EXPECT_TRUE(head.ends_with("\r\n\r\n"));
}

TEST(ResponseHead, HeadNoContentAndConnection) {
    std::string head;
    const HttpResponse ok = HttpResponse::Text(200, "12345");
    EXPECT_FALSE(AppendResponseHead(head, ok, {.close = true, .head_request = true}));
    EXPECT_NE(head.find("Content-Length: 5\r\n"), std::string::npos);  // the GET's length
    EXPECT_NE(head.find("Connection: close\r\n"), std::string::npos);
    EXPECT_EQ(head.find("X-Request-Id"), std::string::npos);
    head.clear();
    HttpResponse none;
    none.status = 204;
    EXPECT_FALSE(AppendResponseHead(head, none, {.http10_keep_alive = true}));
    EXPECT_EQ(head.find("Content-Length"), std::string::npos);
    EXPECT_NE(head.find("Connection: keep-alive\r\n"), std::string::npos);
}

TEST(ResponseHead, DateIsAnImfFixdate) {
    const auto date = HttpDate();
    ASSERT_EQ(date.size(), 29u) << date;  // "Sun, 06 Nov 1994 08:49:37 GMT"
    EXPECT_TRUE(date.ends_with(" GMT"));
    EXPECT_EQ(date[3], ',');
}

TEST(RequestId, KeepsWellFormedIdsAndReplacesTheRest) {
    EXPECT_EQ(AcceptRequestId("0b1e0c1a-6c1f-4b0b-9d3e-2f1a9e6c7d80"),
              std::string_view("0b1e0c1a-6c1f-4b0b-9d3e-2f1a9e6c7d80"));
    EXPECT_EQ(AcceptRequestId("  Root=1-5759e988-bd862e3fe1be46a994272793  "),
              std::string_view("Root=1-5759e988-bd862e3fe1be46a994272793"));
    EXPECT_EQ(AcceptRequestId("a+b/c=d@e:f_g.h"), std::string_view("a+b/c=d@e:f_g.h"));
    EXPECT_FALSE(AcceptRequestId(""));
    EXPECT_FALSE(AcceptRequestId("   "));
    EXPECT_FALSE(AcceptRequestId("two words"));
    EXPECT_FALSE(AcceptRequestId("quote\"d"));
    EXPECT_FALSE(AcceptRequestId("new\nline"));
    EXPECT_FALSE(AcceptRequestId("k=v;x"));
    EXPECT_FALSE(AcceptRequestId("\xc3\xa9t\xc3\xa9"));  // only ASCII
    EXPECT_TRUE(AcceptRequestId(std::string(kMaxRequestIdLength, 'a')));
    EXPECT_FALSE(AcceptRequestId(std::string(kMaxRequestIdLength + 1, 'a')));

    const std::string generated = GenerateRequestId();
    EXPECT_EQ(generated.size(), 32u);
    EXPECT_EQ(generated.find_first_not_of("0123456789abcdef"), std::string::npos);
    EXPECT_NE(generated, GenerateRequestId());
    EXPECT_EQ(ChooseRequestId(std::string_view("client-7")), "client-7");
    EXPECT_EQ(ChooseRequestId(std::nullopt).size(), 32u);
    EXPECT_EQ(ChooseRequestId(std::string_view("bad id")).size(), 32u);
}

}  // namespace
}  // namespace firmo::http
