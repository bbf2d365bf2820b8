// The server protecting itself: Transfer-Encoding it cannot frame, header-time admission (an
// answer before the body is sent), the budget of unauthenticated body bytes, connection limits
// in total and per address, and accept() running out of descriptors. Over plain sockets.

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "http/server.hpp"

namespace firmo::http {
namespace {

using namespace std::chrono_literals;

// A client socket; closed when it goes.
class Client {
  public:
    explicit Client(unsigned short port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) { Connect(port); }
    // A socket not connected yet (see Connect).
    Client() : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {}
    void Connect(unsigned short port) {
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
        if (fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
            ::close(fd_);
            fd_ = -1;
        }
    }
    ~Client() {
        if (fd_ >= 0) ::close(fd_);
    }
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    bool ok() const { return fd_ >= 0; }
    void Send(const std::string& data) const {
        (void)::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    }
    // What arrives within `wait` (until the server closes, or `wait` passes with nothing new).
    std::string Receive(std::chrono::milliseconds wait = 3s) const {
        std::string out;
        char buf[4096];
        for (;;) {
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(wait.count())) <= 0) break;
            const auto n = ::recv(fd_, buf, sizeof buf, 0);
            if (n <= 0) break;
            out.append(buf, static_cast<std::size_t>(n));
            if (out.find("\r\n\r\n") != std::string::npos) wait = 300ms;  // the rest follows
        }
        return out;
    }
    // True when the server closed the connection (EOF or reset) within `wait`; what it sent
    // before is skipped.
    bool Closed(std::chrono::milliseconds wait = 3s) const {
        char buf[4096];
        for (;;) {
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(wait.count())) <= 0) return false;
            if (::recv(fd_, buf, sizeof buf, 0) <= 0) return true;
        }
    }

  private:
    int fd_ = -1;
};

int StatusOf(const std::string& raw) { return raw.size() >= 12 ? std::stoi(raw.substr(9, 3)) : 0; }

int CountOf(const std::string& text, const std::string& needle) {
    int n = 0;
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
    return n;
}

class ServerLimitsTest : public ::testing::Test {
  protected:
    void Start(ServerOptions options) {
        options.port = 0;
        server_ = std::make_unique<Server>(options, [this](HttpRequest& request) {
            ++handled_;
            return HttpResponse::Text(200, "body=" + std::to_string(request.body.size()));
        });
        ASSERT_TRUE(server_->Listen());
        thread_ = std::thread([this] { server_->Run(); });
    }
    void TearDown() override {
        if (!server_) return;
        server_->Stop();
        thread_.join();
    }
    unsigned short port() const { return server_->port(); }

    std::unique_ptr<Server> server_;
    std::thread thread_;
    std::atomic<int> handled_{0};
};

// ---- Transfer-Encoding -----------------------------------------------------------------

TEST_F(ServerLimitsTest, TransferEncodingOtherThanChunkedIs400AndTheBodyIsNoSecondRequest) {
    Start({});
    for (const std::string coding : {"gzip", "gzip, chunked", "chunked, gzip", "chunked, chunked",
                                     "identity", "", "x-custom"}) {
        SCOPED_TRACE(coding);
        Client c(port());
        ASSERT_TRUE(c.ok());
        // Read as "no body", the smuggled request would get a second answer.
        c.Send("POST /first HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " + coding +
               "\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n");
        const std::string answer = c.Receive();
        EXPECT_EQ(StatusOf(answer), 400) << answer;
        EXPECT_NE(answer.find("malformed-request"), std::string::npos) << answer;
        EXPECT_EQ(CountOf(answer, "HTTP/1.1 "), 1) << answer;
    }
    EXPECT_EQ(handled_.load(), 0);
}

TEST_F(ServerLimitsTest, TransferEncodingRepeatedInTwoFieldsIsRefusedToo) {
    Start({});
    Client c(port());
    c.Send(
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: "
        "chunked\r\n\r\n0\r\n\r\n");
    EXPECT_EQ(StatusOf(c.Receive()), 400);
}

TEST_F(ServerLimitsTest, ChunkedStillWorks) {
    Start({});
    Client c(port());
    c.Send(
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
    const std::string answer = c.Receive();
    EXPECT_EQ(StatusOf(answer), 200) << answer;
    EXPECT_NE(answer.find("body=5"), std::string::npos) << answer;
}

// ---- Admission from the headers ------------------------------------------------------------

TEST_F(ServerLimitsTest, ARefusalFromTheHeadersArrivesBeforeTheBodyIsSent) {
    ServerOptions options;
    options.admit = [](HttpRequest& request) {
        Admission a{.body_limit = std::size_t{20} * 1024 * 1024};
        if (!request.Header("X-Key")) {
            a.refusal = ProblemResponse(Error{ErrorCode::kUnauthenticated, "no key"});
        }
        return a;
    };
    Start(options);
    Client c(port());
    // 10 MiB announced, not one byte sent: the answer must not wait for it.
    c.Send("PUT /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 10485760\r\n\r\n");
    const auto start = std::chrono::steady_clock::now();
    const std::string answer = c.Receive(2s);
    EXPECT_EQ(StatusOf(answer), 401) << answer;
    EXPECT_LT(std::chrono::steady_clock::now() - start, 1500ms);
    EXPECT_NE(answer.find("Connection: close"), std::string::npos) << answer;
    EXPECT_EQ(handled_.load(), 0);
}

TEST_F(ServerLimitsTest, ADeferredAdmissionIsDecidedOffTheIoThreadBeforeTheBodyIsRead) {
    ServerOptions options;
    std::vector<std::thread> checkers;  // the "database lane" of this test
    std::mutex mu;
    options.admit = [&](HttpRequest& request) {
        Admission a{.body_limit = 4096};
        const bool known = request.Header("X-Session").has_value();
        a.defer = [&, known](std::function<void(Admission)> decided) {
            const std::lock_guard lock(mu);
            checkers.emplace_back([known, decided = std::move(decided)] {
                std::this_thread::sleep_for(50ms);  // a lookup that blocks
                Admission d{.body_limit = 4096, .authenticated = known};
                if (!known) d.refusal = ProblemResponse(Error{ErrorCode::kUnauthenticated, "no"});
                decided(std::move(d));
            });
        };
        return a;
    };
    Start(options);
    Client refused(port());
    // 3000 bytes announced, none sent: the refusal comes from the deferred check alone.
    refused.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3000\r\n\r\n");
    const std::string answer = refused.Receive(2s);
    EXPECT_EQ(StatusOf(answer), 401) << answer;
    EXPECT_NE(answer.find("Connection: close"), std::string::npos) << answer;
    EXPECT_EQ(handled_.load(), 0);

    Client admitted(port());
    admitted.Send("POST / HTTP/1.1\r\nHost: x\r\nX-Session: s\r\nContent-Length: 5\r\n\r\nhello");
    const std::string ok = admitted.Receive();
    EXPECT_EQ(StatusOf(ok), 200) << ok;
    EXPECT_EQ(handled_.load(), 1);
    const std::lock_guard lock(mu);
    for (auto& t : checkers) t.join();
}

// ---- Large bodies on disk -------------------------------------------------------------------

TEST_F(ServerLimitsTest, BodiesLargerThanTheThresholdAreReceivedIntoAFile) {
    const auto dir =
        std::filesystem::temp_directory_path() / ("firmo-spill-" + std::to_string(::getpid()));
    ServerOptions options;
    options.spill_dir = dir;
    options.spill_body_bytes = 100;
    options.admit = [](HttpRequest&) {
        return Admission{.body_limit = 1 << 20, .authenticated = true};
    };
    options.port = 0;
    std::atomic<bool> in_file{false};
    server_ = std::make_unique<Server>(options, [&](HttpRequest& request) {
        in_file = request.body_file != nullptr && request.body.empty();
        if (auto ok = LoadSpilledBody(request); !ok) return HttpResponse::Text(500, "");
        return HttpResponse::Text(200,
                                  request.body.substr(0, 3) + std::to_string(request.body.size()));
    });
    ASSERT_TRUE(server_->Listen());
    thread_ = std::thread([this] { server_->Run(); });

    Client big(port());
    big.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\nabc" +
             std::string(4997, 'x'));
    std::string answer = big.Receive();
    EXPECT_NE(answer.find("abc5000"), std::string::npos) << answer;
    EXPECT_TRUE(in_file.load());

    Client chunked(port());
    chunked.Send(
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nxyz\r\n0\r\n\r\n");
    answer = chunked.Receive();
    EXPECT_NE(answer.find("xyz3"), std::string::npos) << answer;
    EXPECT_TRUE(in_file.load());  // chunked: its limit is above the threshold

    Client small(port());
    small.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
    answer = small.Receive();
    EXPECT_NE(answer.find("hel5"), std::string::npos) << answer;
    EXPECT_FALSE(in_file.load());
    // The files have no names: nothing is left in the folder.
    EXPECT_TRUE(std::filesystem::is_empty(dir));
    std::filesystem::remove_all(dir);
}

// ---- The unauthenticated budget --------------------------------------------------------------

TEST_F(ServerLimitsTest, BodiesBeyondTheUnauthenticatedBudgetAre503WithRetryAfter) {
    ServerOptions options;
    options.max_unauthenticated_bytes = 1000;
    options.admit = [](HttpRequest& request) {
        return Admission{.body_limit = 4096, .authenticated = request.Header("X-Key").has_value()};
    };
    Start(options);
    Client first(port());
    first.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 800\r\n\r\n" + std::string(10, 'a'));
    std::this_thread::sleep_for(200ms);  // its headers are read: 800 bytes reserved

    Client second(port());
    second.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 800\r\n\r\n");
    const std::string refused = second.Receive();
    EXPECT_EQ(StatusOf(refused), 503) << refused;
    EXPECT_NE(refused.find("Retry-After: 2"), std::string::npos) << refused;

    // Authenticated bodies do not count.
    Client keyed(port());
    keyed.Send("POST / HTTP/1.1\r\nHost: x\r\nX-Key: k\r\nContent-Length: 800\r\n\r\n" +
               std::string(800, 'b'));
    EXPECT_EQ(StatusOf(keyed.Receive()), 200);

    // Once the first is answered its reservation is free again.
    first.Send(std::string(790, 'a'));
    EXPECT_EQ(StatusOf(first.Receive()), 200);
    Client third(port());
    third.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 800\r\n\r\n" + std::string(800, 'c'));
    EXPECT_EQ(StatusOf(third.Receive()), 200);
}

// ---- Connection limits ----------------------------------------------------------------

TEST_F(ServerLimitsTest, ConnectionsBeyondThePerAddressLimitAreRefusedAtAccept) {
    metrics::Registry registry;
    ServerOptions options;
    options.max_connections_per_ip = 3;
    options.metrics = &registry;
    Start(options);
    std::vector<std::unique_ptr<Client>> idle(3);
    for (auto& c : idle) c = std::make_unique<Client>(port());
    std::this_thread::sleep_for(100ms);
    Client fourth(port());
    fourth.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    const std::string answer = fourth.Receive();
    // The fixed 503 (or, if the client's request raced the close, only the close).
    if (!answer.empty()) {
        EXPECT_EQ(StatusOf(answer), 503) << answer;
        EXPECT_NE(answer.find("Retry-After: 2"), std::string::npos) << answer;
    }
    EXPECT_TRUE(fourth.Closed());
    EXPECT_NE(registry.Render().find(
                  "firmo_http_connections_refused_total{limit=\"max_connections_per_ip\"} 1"),
              std::string::npos)
        << registry.Render();
    // Room again once one goes.
    idle.pop_back();
    std::this_thread::sleep_for(100ms);
    Client fifth(port());
    fifth.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(StatusOf(fifth.Receive()), 200);
}

TEST_F(ServerLimitsTest, AtTheTotalLimitTheLongestIdleConnectionMakesRoom) {
    metrics::Registry registry;
    ServerOptions options;
    options.max_connections = 3;
    options.max_connections_per_ip = 0;
    options.metrics = &registry;
    Start(options);
    std::vector<std::unique_ptr<Client>> idle;
    for (int i = 0; i < 3; ++i) {
        idle.push_back(std::make_unique<Client>(port()));
        std::this_thread::sleep_for(30ms);
    }
    Client fresh(port());
    fresh.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(StatusOf(fresh.Receive()), 200);
    EXPECT_TRUE(idle[0]->Closed());  // the oldest idle one went
    EXPECT_FALSE(idle[2]->Closed(100ms));
    EXPECT_NE(registry.Render().find("firmo_http_connections_evicted_total 1"), std::string::npos)
        << registry.Render();
}

TEST_F(ServerLimitsTest, AtTheTotalLimitWithNoneIdleTheNewConnectionIsRefused) {
    ServerOptions options;
    options.max_connections = 2;
    options.max_connections_per_ip = 0;
    options.admit = [](HttpRequest&) { return Admission{.authenticated = true}; };
    Start(options);
    // Two connections in the middle of a request (headers read, body awaited): not idle.
    Client a(port());
    Client b(port());
    a.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n");
    b.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n");
    std::this_thread::sleep_for(200ms);
    Client c(port());
    EXPECT_TRUE(c.Closed());
    a.Send(std::string(10, 'x'));
    EXPECT_EQ(StatusOf(a.Receive()), 200);
}

TEST(EffectiveMaxConnections, StaysBelowTheDescriptorLimit) {
    EXPECT_EQ(EffectiveMaxConnections(10'000, 1024), 1024 - 128);
    EXPECT_EQ(EffectiveMaxConnections(10'000, 65536), 10'000);
    EXPECT_EQ(EffectiveMaxConnections(0, 65536), 65536 - 8192);
    EXPECT_EQ(EffectiveMaxConnections(500, 256), 256 - 64);
    EXPECT_EQ(EffectiveMaxConnections(10, 256), 10);
    EXPECT_EQ(EffectiveMaxConnections(10, 20), 1);
}

// ---- Out of descriptors -----------------------------------------------------------------

double ProcessCpuSeconds() {
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
           static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

// The descriptor the next open() would get: with the limit there, none is left.
int LowestFreeDescriptor() {
    int fd = 0;
    while (::fcntl(fd, F_GETFD) != -1) ++fd;
    return fd;
}

TEST_F(ServerLimitsTest, AcceptOutOfDescriptorsPausesInsteadOfSpinning) {
#if defined(__SANITIZE_ADDRESS__)
    // UBSan checks an object's dynamic type the first time by reading its memory through a
    // pipe; with no descriptor left every such check fails as "invalid vptr" (the server's
    // error category, its clock, ...). The release suite runs this test; the sanitizer suite
    // cannot take every descriptor away from its own runtime.
    GTEST_SKIP() << "needs every descriptor, which the sanitizer runtime needs too";
#endif
    ServerOptions options;
    options.io_threads = 1;
    Start(options);
    std::this_thread::sleep_for(100ms);
    // The clients' sockets first; then no descriptor is left to spare, so that every
    // connection they make waits in the backlog while accept() fails with EMFILE.
    std::vector<std::unique_ptr<Client>> clients(5);
    for (auto& c : clients) c = std::make_unique<Client>();
    rlimit saved{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
    rlimit tight = saved;
    tight.rlim_cur = static_cast<rlim_t>(LowestFreeDescriptor());
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &tight), 0);
    for (auto& c : clients) c->Connect(port());
    std::this_thread::sleep_for(200ms);  // the server meets EMFILE with connections pending
    const double before = ProcessCpuSeconds();
    std::this_thread::sleep_for(1s);
    const double spent = ProcessCpuSeconds() - before;
    clients.clear();
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);
    // A retry loop burns the whole second; pauses cost next to nothing.
    EXPECT_LT(spent, 0.3) << "CPU seconds spent in one second while out of descriptors";
    // And the server still serves once descriptors are back.
    Client after(port());
    after.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(StatusOf(after.Receive()), 200);
}

}  // namespace
}  // namespace firmo::http
