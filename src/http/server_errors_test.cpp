// The server's own answers, given before any handler runs (headers or body over the limit, a
// request Beast cannot parse): problem+json from the one error table, over a plain socket.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "http/server.hpp"

namespace firmo::http {
namespace {

class ServerErrorsTest : public ::testing::Test {
  protected:
    void SetUp() override {
        ServerOptions options;
        options.port = 0;
        options.header_limit = 4 * 1024;
        options.admit = [](HttpRequest&) { return Admission{.body_limit = 100}; };
        server_ = std::make_unique<Server>(
            options, [](HttpRequest&) { return HttpResponse::Text(200, "ok"); });
        ASSERT_TRUE(server_->Listen());
        thread_ = std::thread([this] { server_->Run(); });
    }
    void TearDown() override {
        server_->Stop();
        thread_.join();
    }

    // Sends `raw`, reads the answer until the server closes the connection.
    std::string Exchange(const std::string& raw) const {
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(server_->port());
        ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
        if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
            ::close(fd);
            return {};
        }
        timeval timeout{5, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
        (void)::send(fd, raw.data(), raw.size(), MSG_NOSIGNAL);
        std::string out;
        char buf[4096];
        for (;;) {
            const auto n = ::recv(fd, buf, sizeof buf, 0);
            if (n <= 0) break;
            out.append(buf, static_cast<std::size_t>(n));
        }
        ::close(fd);
        return out;
    }

    struct Answer {
        int status = 0;
        std::string content_type;
        nlohmann::json problem;
    };
    static Answer Parse(const std::string& raw) {
        Answer a;
        if (raw.size() < 12) return a;
        a.status = std::stoi(raw.substr(9, 3));
        const auto ct = raw.find("Content-Type: ");
        if (ct != std::string::npos) {
            a.content_type = raw.substr(ct + 14, raw.find("\r\n", ct) - ct - 14);
        }
        const auto body = raw.find("\r\n\r\n");
        if (body != std::string::npos) {
            a.problem = nlohmann::json::parse(raw.substr(body + 4), nullptr, false);
        }
        return a;
    }

    static void ExpectProblem(const Answer& a, int status, const std::string& slug,
                              const std::string& title) {
        EXPECT_EQ(a.status, status);
        EXPECT_EQ(a.content_type, "application/problem+json");
        ASSERT_TRUE(a.problem.is_object()) << a.problem;
        EXPECT_EQ(a.problem["type"], "urn:firmo:problem:" + slug);
        EXPECT_EQ(a.problem["title"], title);
        EXPECT_EQ(a.problem["status"], status);
        EXPECT_TRUE(a.problem["detail"].is_string());
    }

    std::unique_ptr<Server> server_;
    std::thread thread_;
};

TEST_F(ServerErrorsTest, HeadersOverTheLimitAre431HeadersTooLarge) {
    const auto a = Parse(Exchange(
        "GET / HTTP/1.1\r\nHost: x\r\nX-Long: " + std::string(8 * 1024, 'a') + "\r\n\r\n"));
    ExpectProblem(a, 431, "headers-too-large", "Request Header Fields Too Large");
}

TEST_F(ServerErrorsTest, DeclaredBodyOverTheLimitIs413PayloadTooLarge) {
    const auto a = Parse(Exchange("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\n\r\n"));
    ExpectProblem(a, 413, "payload-too-large", "Payload Too Large");
    EXPECT_EQ(a.problem["detail"], "the request body is larger than 100 bytes");
}

TEST_F(ServerErrorsTest, ChunkedBodyOverTheLimitIs413PayloadTooLarge) {
    const auto a =
        Parse(Exchange("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "c8\r\n" +
                       std::string(200, 'a') + "\r\n0\r\n\r\n"));
    ExpectProblem(a, 413, "payload-too-large", "Payload Too Large");
}

TEST_F(ServerErrorsTest, UnparsableRequestIs400MalformedRequest) {
    const auto a = Parse(Exchange("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n"));
    ExpectProblem(a, 400, "malformed-request", "Bad Request");
}

TEST_F(ServerErrorsTest, AHandlerThatThrowsIs500WithoutDetails) {
    server_->Stop();
    thread_.join();
    ServerOptions options;
    options.port = 0;
    server_ = std::make_unique<Server>(
        options, [](HttpRequest&) -> HttpResponse { throw std::runtime_error("secret"); });
    ASSERT_TRUE(server_->Listen());
    thread_ = std::thread([this] { server_->Run(); });
    const auto a = Parse(Exchange("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
    ExpectProblem(a, 500, "internal-error", "Internal Server Error");
    EXPECT_EQ(a.problem["detail"], "an internal error occurred");
}

}  // namespace
}  // namespace firmo::http
