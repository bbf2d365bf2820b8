// The listener opened before the server: the port is known before the handler exists, a busy
// port or a bad address is reported then, and a server made from it serves on that port.

#include "http/listener.hpp"

#include <curl/curl.h>
#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "http/server.hpp"

namespace firmo::http {
namespace {

std::size_t Collect(char* data, std::size_t size, std::size_t n, void* out) {
    static_cast<std::string*>(out)->append(data, size * n);
    return size * n;
}

std::string Get(const std::string& url) {
    std::string body;
    CURL* curl = curl_easy_init();
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
    const CURLcode code = curl_easy_perform(curl);
    curl_easy_cleanup(curl);
    return code == CURLE_OK ? body : "curl error " + std::to_string(code);
}

TEST(Listener, KnowsItsPortBeforeTheServerExists) {
    auto listener = Listener::Open({.host = "127.0.0.1", .port = 0});
    ASSERT_TRUE(listener) << listener.error().message;
    const unsigned short port = listener->port();
    ASSERT_NE(port, 0);
    // The handler is made knowing the port, as the app builds its links from it.
    const std::string base = "http://127.0.0.1:" + std::to_string(port);
    ServerOptions options;
    options.shutdown_grace = std::chrono::seconds(5);
    Server server(options, std::move(*listener),
                  [base](HttpRequest& req) { return HttpResponse::Text(200, base + req.path); });
    EXPECT_EQ(server.port(), port);
    std::thread running([&] { server.Run(); });
    EXPECT_EQ(Get(base + "/x"), base + "/x");
    server.Stop();
    running.join();
}

TEST(Listener, ABusyPortOrABadAddressIsReportedAtOnce) {
    auto first = Listener::Open({.host = "127.0.0.1", .port = 0});
    ASSERT_TRUE(first) << first.error().message;
    auto second = Listener::Open({.host = "127.0.0.1", .port = first->port()});
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().code, ErrorCode::kUnavailable);
    EXPECT_EQ(
        second.error().message,
        "cannot listen on 127.0.0.1:" + std::to_string(first->port()) + ": Address already in use");
    auto bad = Listener::Open({.host = "localhost", .port = 0});
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(bad.error().message, "bad listen address localhost");
}

TEST(Listener, ClosesItsSocketUnlessAServerTookIt) {
    unsigned short port = 0;
    {
        auto listener = Listener::Open({.host = "127.0.0.1", .port = 0});
        ASSERT_TRUE(listener) << listener.error().message;
        port = listener->port();
        Listener moved = std::move(*listener);
        EXPECT_EQ(moved.port(), port);
    }
    // Closed: the port can be bound again.
    auto again = Listener::Open({.host = "127.0.0.1", .port = port});
    EXPECT_TRUE(again) << again.error().message;
}

TEST(Listener, Ipv6Loopback) {
    auto listener = Listener::Open({.host = "::1", .port = 0});
    if (!listener) GTEST_SKIP() << "no IPv6 loopback here: " << listener.error().message;
    EXPECT_TRUE(listener->ipv6());
    EXPECT_NE(listener->port(), 0);
}

}  // namespace
}  // namespace firmo::http
