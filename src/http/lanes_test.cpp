#include "http/lanes.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include "http/server.hpp"

namespace firmo::http {
namespace {

using namespace std::chrono_literals;

// Waits (bounded) until `condition` holds: a synchronisation point, not a timed assertion.
template <class F>
bool Eventually(F condition) {
    for (int i = 0; i < 1000; ++i) {
        if (condition()) return true;
        std::this_thread::sleep_for(10ms);
    }
    return condition();
}

TEST(Lanes, InlineUnlessAPoolIsConfigured) {
    Lanes sqlite({.database_threads = 0, .heavy_threads = 1, .heavy_queue = 1});
    EXPECT_TRUE(sqlite.RunsInline(Lane::kInline));
    EXPECT_TRUE(sqlite.RunsInline(Lane::kDatabase));
    EXPECT_FALSE(sqlite.RunsInline(Lane::kHeavy));
    Lanes postgres({.database_threads = 2, .heavy_threads = 1, .heavy_queue = 1});
    EXPECT_FALSE(postgres.RunsInline(Lane::kDatabase));
    std::promise<std::thread::id> ran;
    ASSERT_TRUE(
        postgres.TryPost(Lane::kDatabase, [&ran] { ran.set_value(std::this_thread::get_id()); }));
    EXPECT_NE(ran.get_future().get(), std::this_thread::get_id());
}

TEST(Lanes, AFullHeavyQueueRefusesAndLeavesTheWorkUntouched) {
    Lanes lanes({.database_threads = 0, .heavy_threads = 1, .heavy_queue = 1});
    std::promise<void> gate;
    std::shared_future<void> open = gate.get_future().share();
    std::atomic<int> done{0};
    const auto held = [open, &done] {
        open.wait();
        ++done;
    };
    ASSERT_TRUE(lanes.TryPost(Lane::kHeavy, held));  // runs, and waits at the gate
    ASSERT_TRUE(Eventually([&] { return lanes.stats(Lane::kHeavy).running == 1; }));
    ASSERT_TRUE(lanes.TryPost(Lane::kHeavy, held));  // waits for the thread
    struct Third {
        std::unique_ptr<int> owned = std::make_unique<int>(8);  // e.g. a Responder
        bool* ran;
        void operator()() { *ran = true; }
    };
    bool ran = false;
    Third third{.ran = &ran};
    EXPECT_FALSE(lanes.TryPost(Lane::kHeavy, std::move(third)));
    EXPECT_NE(third.owned, nullptr);  // not moved from: the caller can still answer
    const auto stats = lanes.stats(Lane::kHeavy);
    EXPECT_EQ(stats.running, 1);
    EXPECT_EQ(stats.queued, 1);
    EXPECT_EQ(stats.rejected, 1u);
    gate.set_value();
    ASSERT_TRUE(Eventually([&] { return done == 2; }));
    EXPECT_FALSE(ran);
    EXPECT_TRUE(Eventually([&] { return lanes.stats(Lane::kHeavy).running == 0; }));
}

TEST(Lanes, MetricsNameTheLanes) {
    metrics::Registry registry;
    Lanes lanes({.database_threads = 3, .heavy_threads = 1, .heavy_queue = 4});
    lanes.RegisterMetrics(registry);
    const std::string text = registry.Render();
    EXPECT_NE(text.find("firmo_lane_queued{lane=\"database\"} 0\n"), std::string::npos) << text;
    EXPECT_NE(text.find("firmo_lane_running{lane=\"heavy\"} 0\n"), std::string::npos);
    EXPECT_NE(text.find("firmo_lane_rejected_total{lane=\"heavy\"} 0\n"), std::string::npos);
}

// A blocking loopback client for one request at a time.
class Client {
  public:
    explicit Client(unsigned short port) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        timeval tv{10, 0};  // a hung server fails the test instead of hanging it
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    }
    ~Client() { ::close(fd_); }
    bool Send(const std::string& path) {
        const std::string req = "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n";
        return connected_ &&
               ::send(fd_, req.data(), req.size(), 0) == static_cast<ssize_t>(req.size());
    }
    // The status of the next answer (0 when none came).
    int Status() {
        std::string in;
        char buf[4096];
        while (in.find("\r\n\r\n") == std::string::npos) {
            const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
            if (n <= 0) return 0;
            in.append(buf, static_cast<std::size_t>(n));
        }
        return std::stoi(in.substr(9, 3));
    }
    // Whether an answer is waiting to be read right now.
    bool Answered() {
        char c;
        return ::recv(fd_, &c, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
    }

  private:
    int fd_ = -1;
    bool connected_ = false;
};

// The front door's shape in miniature: /healthz inline on the I/O thread, /hold on the heavy
// lane until the test opens the gate, 503 when the heavy queue is full.
TEST(Lanes, HealthzAnswersWhileHeavyWorkIsHeldAndTheQueueOverflowsTo503) {
    Lanes lanes({.database_threads = 0, .heavy_threads = 1, .heavy_queue = 1});
    std::promise<void> gate;
    std::shared_future<void> open = gate.get_future().share();
    ServerOptions options;
    options.port = 0;
    options.io_threads = 1;  // the worst case: one I/O thread for everything
    Server server(options, [&](HttpRequest& req, Responder respond) {
        if (req.path != "/hold") return respond(HttpResponse::Text(200, "ok"));
        struct Held {
            std::shared_future<void> open;
            Responder respond;
            void operator()() {
                open.wait();
                respond(HttpResponse::Text(200, "done"));
            }
        } held{open, std::move(respond)};
        if (!lanes.TryPost(Lane::kHeavy, std::move(held))) {
            held.respond(HttpResponse::Text(503, "busy"));
        }
    });
    ASSERT_TRUE(server.Listen());
    std::thread runner([&] { server.Run(); });

    Client first(server.port());
    Client second(server.port());
    Client third(server.port());
    Client health(server.port());
    ASSERT_TRUE(first.Send("/hold"));
    ASSERT_TRUE(Eventually([&] { return lanes.stats(Lane::kHeavy).running == 1; }));
    ASSERT_TRUE(second.Send("/hold"));
    ASSERT_TRUE(Eventually([&] { return lanes.stats(Lane::kHeavy).queued == 1; }));

    ASSERT_TRUE(third.Send("/hold"));
    EXPECT_EQ(third.Status(), 503);  // refused at once, not queued
    ASSERT_TRUE(health.Send("/healthz"));
    EXPECT_EQ(health.Status(), 200);  // answered while the heavy lane is full
    EXPECT_FALSE(first.Answered());   // ... and the held request is still held
    EXPECT_FALSE(second.Answered());

    gate.set_value();
    EXPECT_EQ(first.Status(), 200);
    EXPECT_EQ(second.Status(), 200);
    server.Stop();
    runner.join();
}

}  // namespace
}  // namespace firmo::http
