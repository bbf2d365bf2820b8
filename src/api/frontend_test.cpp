// The front door on a real server: routes run on their lanes, a full heavy lane answers 503
// with Retry-After while /healthz keeps answering, and every answer is counted by route
// pattern (never the raw path).

#include "api/frontend.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <future>
#include <mutex>
#include <thread>

#include "codec/json.hpp"
#include "core/testing/temp_dir.hpp"
#include "crypto/hasher.hpp"
#include "domain/services/issuer_service.hpp"
#include "domain/services/testing/polled_request.hpp"
#include "store/filesystem/folder_blob_store.hpp"
#include "store/filesystem/shared_counter.hpp"
#include "store/sqlite/sqlite_database.hpp"

namespace firmo::api {
namespace {

using namespace std::chrono_literals;

struct NoValidator final : domain::DocumentValidator {
    domain::ValidationReport ValidateFile(
        const std::filesystem::path&, const std::vector<domain::SignatureField>&) const override {
        return {};
    }
    domain::ValidationReport ValidateBytes(
        std::string_view, const std::vector<domain::SignatureField>&) const override {
        return {};
    }
};

template <class F>
bool Eventually(F condition) {
    for (int i = 0; i < 1000; ++i) {
        if (condition()) return true;
        std::this_thread::sleep_for(10ms);
    }
    return condition();
}

struct Answer {
    int status = 0;
    std::string head;
    std::string body;
};

// One request per connection, read to the end (the server closes: Connection: close).
class Call {
  public:
    Call(unsigned short port, const std::string& path, const std::string& extra = "") {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        timeval tv{10, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return;
        const std::string req =
            "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + extra + "\r\n";
        (void)::send(fd_, req.data(), req.size(), 0);
    }
    ~Call() { ::close(fd_); }
    Answer Read() {
        std::string in;
        char buf[4096];
        ssize_t n = 0;
        while ((n = ::recv(fd_, buf, sizeof buf, 0)) > 0) in.append(buf, static_cast<size_t>(n));
        Answer a;
        const auto end = in.find("\r\n\r\n");
        if (in.size() < 12 || end == std::string::npos) return a;
        a.status = std::stoi(in.substr(9, 3));
        a.head = in.substr(0, end);
        a.body = in.substr(end + 4);
        return a;
    }
    bool Answered() {
        char c;
        return ::recv(fd_, &c, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
    }

  private:
    int fd_ = -1;
};

class FrontendOnAServer : public ::testing::Test {
  protected:
    void SetUp() override {
        auto db = store::sqlite::SqliteDatabase::Open((dir_.path() / "f.db").string(), 4);
        ASSERT_TRUE(db);
        db_ = std::move(*db);
        ASSERT_TRUE(db_->Migrate());
        ctx_ = std::make_unique<domain::ServiceContext>(domain::ServiceContext{
            *db_, blobs_, validator_, hasher_, clock_, random_, domain::Limits{}, [] {}});
        issuers_ = std::make_unique<domain::IssuerService>(*ctx_);
        idempotency_ = std::make_unique<domain::IdempotencyService>(*ctx_);
        rate_limits_ =
            std::make_unique<domain::RateLimitService>(*db_, clock_, domain::RateLimit{0, 5000ms});
    }

    void Start(FrontendOptions options, const std::function<void(Frontend&)>& add_routes = {}) {
        frontend_ = std::make_unique<Frontend>(*issuers_, *idempotency_, *rate_limits_, *db_,
                                               *use_lanes_, metrics_, std::move(options));
        if (add_routes) add_routes(*frontend_);
        // A heavy route held until the test opens the gate (as a long PDF would hold it).
        frontend_->AddPublic(
            "GET", "/hold/{n}",
            [this](http::HttpRequest&) {
                gate_open_.wait();
                return http::HttpResponse::Text(200, "done");
            },
            http::Lane::kHeavy);
        http::ServerOptions so;
        so.port = 0;
        so.io_threads = 1;
        so.admit = [this](http::HttpRequest& req) { return frontend_->Admit(req); };
        server_ = std::make_unique<http::Server>(
            so, [this](http::HttpRequest& req, http::Responder respond) {
                frontend_->Handle(req, std::move(respond));
            });
        ASSERT_TRUE(server_->Listen());
        runner_ = std::thread([this] { server_->Run(); });
    }
    void TearDown() override {
        if (!opened_) gate_.set_value();
        if (runner_.joinable()) {
            server_->Stop();
            runner_.join();
        }
    }
    void Open() {
        opened_ = true;
        gate_.set_value();
    }
    unsigned short port() const { return server_->port(); }

    firmo::testing::TempDir dir_{"firmo-frontend"};
    std::unique_ptr<store::sqlite::SqliteDatabase> db_;
    store::FolderBlobStore blobs_{dir_.path() / "documents"};
    NoValidator validator_;
    crypto::OpenSslHasher hasher_;
    ManualClock clock_{FromUnixMillis(1'795'000'000'000)};
    SeededRandom random_{5};
    std::unique_ptr<domain::ServiceContext> ctx_;
    std::unique_ptr<domain::IssuerService> issuers_;
    std::unique_ptr<domain::IdempotencyService> idempotency_;
    std::unique_ptr<domain::RateLimitService> rate_limits_;
    http::Lanes lanes_{{.database_threads = 0, .heavy_threads = 1, .heavy_queue = 1}};
    // Database work on a pool thread, as on PostgreSQL or with server.database_threads.
    http::Lanes pooled_lanes_{{.database_threads = 1, .heavy_threads = 1, .heavy_queue = 1}};
    http::Lanes* use_lanes_ = &lanes_;
    metrics::Registry metrics_;
    std::promise<void> gate_;
    std::shared_future<void> gate_open_ = gate_.get_future().share();
    bool opened_ = false;
    std::unique_ptr<Frontend> frontend_;
    std::unique_ptr<http::Server> server_;
    std::thread runner_;
};

TEST_F(FrontendOnAServer, AFullHeavyLaneAnswers503WhileHealthzAnswers) {
    Start({});
    Call first(port(), "/hold/1");
    ASSERT_TRUE(Eventually([&] { return lanes_.stats(http::Lane::kHeavy).running == 1; }));
    Call second(port(), "/hold/2");
    ASSERT_TRUE(Eventually([&] { return lanes_.stats(http::Lane::kHeavy).queued == 1; }));

    const Answer busy = Call(port(), "/hold/3").Read();
    EXPECT_EQ(busy.status, 503);
    EXPECT_NE(busy.head.find("\r\nContent-Type: application/problem+json"), std::string::npos);
    EXPECT_NE(busy.head.find("\r\nRetry-After: 2"), std::string::npos) << busy.head;
    EXPECT_EQ(codec::Json::parse(busy.body)["type"], "urn:firmo:problem:unavailable");

    const Answer health = Call(port(), "/healthz").Read();
    EXPECT_EQ(health.status, 200);
    EXPECT_FALSE(first.Answered());  // still held while /healthz was answered
    EXPECT_FALSE(second.Answered());

    Open();
    EXPECT_EQ(first.Read().status, 200);
    EXPECT_EQ(second.Read().status, 200);

    const std::string text = metrics_.Render();
    for (const char* line : {
             "firmo_http_requests_total{route=\"/hold/{n}\",method=\"GET\",status=\"200\"} 2\n",
             "firmo_http_requests_total{route=\"/hold/{n}\",method=\"GET\",status=\"503\"} 1\n",
             "firmo_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 1\n",
             "firmo_http_request_duration_seconds_count{route=\"/hold/{n}\",method=\"GET\"} 3\n",
             "firmo_http_requests_in_flight 0\n",
         }) {
        EXPECT_NE(text.find(line), std::string::npos) << line << text;
    }
    EXPECT_EQ(text.find("/hold/1"), std::string::npos);  // patterns, never raw paths
}

TEST_F(FrontendOnAServer, MetricsOnlyForTheAllowedAndLabelsStayBounded) {
    FrontendOptions options;
    options.trusted_proxies = *http::TrustedProxies::Parse("127.0.0.1");
    Start(options);
    Open();
    EXPECT_EQ(Call(port(), "/no/such/thing").Read().status, 404);
    EXPECT_EQ(Call(port(), "/healthz", "X-Forwarded-For: 198.51.100.7\r\n").Read().status, 200);

    const Answer local = Call(port(), "/metrics").Read();
    EXPECT_EQ(local.status, 200);
    EXPECT_NE(local.head.find("\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8"),
              std::string::npos);
    EXPECT_NE(local.body.find("# TYPE firmo_http_requests_total counter\n"), std::string::npos);
    EXPECT_NE(local.body.find("firmo_http_requests_total{route=\"unmatched\",method=\"GET\","
                              "status=\"404\"} 1\n"),
              std::string::npos)
        << local.body;
    EXPECT_EQ(local.body.find("/no/such/thing"), std::string::npos);

    // Behind the trusted proxy, a client from elsewhere is refused.
    const Answer remote = Call(port(), "/metrics", "X-Forwarded-For: 198.51.100.7\r\n").Read();
    EXPECT_EQ(remote.status, 403);
    EXPECT_EQ(codec::Json::parse(remote.body)["type"], "urn:firmo:problem:forbidden");
    // A method the server does not know is counted under OTHER, not under its own name.
    http::HttpRequest odd;
    odd.method = "BREW";
    odd.path = "/healthz";
    EXPECT_EQ(frontend_->Handle(odd).status, 405);
    EXPECT_NE(metrics_.Render().find("route=\"unmatched\",method=\"OTHER\",status=\"405\""),
              std::string::npos);
}

// Sends the head of a request announcing `length` bytes of body, and none of them yet.
class Announce {
  public:
    Announce(unsigned short port, const std::string& method, const std::string& path,
             std::size_t length, const std::string& extra = "") {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        timeval tv{3, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return;
        const std::string head = method + " " + path + " HTTP/1.1\r\nHost: x\r\n" + extra +
                                 "Content-Length: " + std::to_string(length) + "\r\n\r\n";
        (void)::send(fd_, head.data(), head.size(), 0);
    }
    ~Announce() { ::close(fd_); }
    void Send(const std::string& data) { (void)::send(fd_, data.data(), data.size(), 0); }
    // The status of the answer, if one comes within 3 s; 0 otherwise.
    int Status() {
        std::string in;
        char buf[4096];
        while (in.find("\r\n\r\n") == std::string::npos) {
            const auto n = ::recv(fd_, buf, sizeof buf, 0);
            if (n <= 0) return 0;
            in.append(buf, static_cast<std::size_t>(n));
        }
        answer_ = in;
        return std::stoi(in.substr(9, 3));
    }
    // The whole answer, after Status(): what arrives until the server closes (or 3 s pass).
    const std::string& Answer() {
        char buf[4096];
        for (ssize_t n; (n = ::recv(fd_, buf, sizeof buf, 0)) > 0;) {
            answer_.append(buf, static_cast<std::size_t>(n));
        }
        return answer_;
    }

  private:
    int fd_ = -1;
    std::string answer_;
};

TEST_F(FrontendOnAServer, CredentialsAreCheckedFromTheHeadersBeforeTheBodyIsRead) {
    auto issuer = issuers_->CreateIssuer("Acme", "ops@example.org");
    ASSERT_TRUE(issuer);
    auto key = issuers_->CreateApiKey(issuer->id);
    ASSERT_TRUE(key);
    std::atomic<int> handled{0};
    Start({});
    frontend_->AddAuthed("POST", "/authed", [&](http::HttpRequest& req, const domain::Principal&) {
        ++handled;
        return http::HttpResponse::Text(200, std::to_string(req.body.size()));
    });
    frontend_->AddPublic(
        "PUT", "/up/{token}",
        [&](http::HttpRequest& req) {
            ++handled;
            return http::HttpResponse::Text(200, std::to_string(req.body.size()));
        },
        http::Lane::kDatabase,
        [](const http::HttpRequest& req) -> Result<void> {
            if (req.Param("token") != "good") return Fail(ErrorCode::kForbidden, "bad token");
            return {};
        });
    constexpr std::size_t kLength = 900'000;  // announced, never sent by the refused

    EXPECT_EQ(Announce(port(), "POST", "/authed", kLength).Status(), 401);
    EXPECT_EQ(
        Announce(port(), "POST", "/authed", kLength, "X-Api-Key: firmo_unknownkey123\r\n").Status(),
        401);
    EXPECT_EQ(Announce(port(), "PUT", "/up/forged", kLength).Status(), 403);
    EXPECT_EQ(Announce(port(), "POST", "/nowhere", kLength).Status(), 404);
    EXPECT_EQ(Announce(port(), "DELETE", "/authed", kLength).Status(), 405);
    EXPECT_EQ(handled.load(), 0);

    // With the credential the body is read and handled.
    Announce keyed(port(), "POST", "/authed", 10, "X-Api-Key: " + key->secret + "\r\n");
    keyed.Send(std::string(10, 'k'));
    EXPECT_EQ(keyed.Status(), 200);
    Announce upload(port(), "PUT", "/up/good", 10);
    upload.Send(std::string(10, 'u'));
    EXPECT_EQ(upload.Status(), 200);
    EXPECT_EQ(handled.load(), 2);

    // Refusals are answered and counted like any request.
    const std::string text = metrics_.Render();
    for (const char* line : {
             "firmo_http_requests_total{route=\"/authed\",method=\"POST\",status=\"401\"} 2\n",
             "firmo_http_requests_total{route=\"/up/{token}\",method=\"PUT\",status=\"403\"} 1\n",
             "firmo_http_requests_total{route=\"unmatched\",method=\"POST\",status=\"404\"} 1\n",
             "firmo_http_requests_in_flight 0\n",
         }) {
        EXPECT_NE(text.find(line), std::string::npos) << line << text;
    }
}

// A key with an IP allow-list works only from there: the client address after trusted proxies.
TEST_F(FrontendOnAServer, AKeysAllowListRefusesOtherAddressesWith403AndNotesUse) {
    auto issuer = issuers_->CreateIssuer("Acme", "ops@example.org");
    ASSERT_TRUE(issuer);
    auto office = issuers_->CreateApiKey(issuer->id, {.allowed_ips = "10.0.0.0/8, 2001:db8::/32"});
    auto local = issuers_->CreateApiKey(issuer->id, {.allowed_ips = "127.0.0.1"});
    ASSERT_TRUE(office && local);
    FrontendOptions options;
    options.trusted_proxies = *http::TrustedProxies::Parse("127.0.0.1");
    Start(options);
    std::atomic<int> handled{0};
    frontend_->AddAuthed("POST", "/authed", [&](http::HttpRequest&, const domain::Principal&) {
        ++handled;
        return http::HttpResponse::Text(200, "ok");
    });
    // From 127.0.0.1 itself: not in the office's list; refused before the body.
    Announce refused(port(), "POST", "/authed", 900'000, "X-Api-Key: " + office->secret + "\r\n");
    EXPECT_EQ(refused.Status(), 403);
    EXPECT_NE(refused.Answer().find("urn:firmo:problem:address-not-allowed"), std::string::npos)
        << refused.Answer();
    // Through the trusted proxy, from a client in the list.
    Announce proxied(port(), "POST", "/authed", 2,
                     "X-Api-Key: " + office->secret + "\r\nX-Forwarded-For: 10.1.2.3\r\n");
    proxied.Send("{}");
    EXPECT_EQ(proxied.Status(), 200);
    Announce direct(port(), "POST", "/authed", 2, "X-Api-Key: " + local->secret + "\r\n");
    direct.Send("{}");
    EXPECT_EQ(direct.Status(), 200);
    EXPECT_EQ(handled.load(), 2);

    // Both uses are noted in memory and written by one flush; a refused call is no use.
    auto written = issuers_->FlushKeyUses();
    ASSERT_TRUE(written) << written.error().message;
    EXPECT_EQ(*written, 2u);
    auto keys = issuers_->ListApiKeys(issuer->id);
    ASSERT_TRUE(keys);
    for (const domain::ApiKey& k : *keys) {
        ASSERT_TRUE(k.last_used_at) << k.id;
        EXPECT_EQ(k.last_used_at, clock_.Now());
        EXPECT_EQ(k.last_used_ip, k.id == office->key.id ? "10.1.2.3" : "127.0.0.1");
    }
    EXPECT_EQ(*issuers_->FlushKeyUses(), 0u);  // nothing new
}

// The sender portal's send carries up to kPortalSendDocuments PDFs; other routes keep theirs.
TEST_F(FrontendOnAServer, ThePortalsSendTakesSeveralDocumentsAndNothingElseDoes) {
    FrontendOptions options;
    options.max_document_bytes = 1000;
    options.max_json_bytes = 10;
    Start(options);
    EXPECT_EQ(frontend_->BodyLimit("POST", "/app/send"), 1000 * kPortalSendDocuments + 1024 * 1024);
    EXPECT_EQ(frontend_->BodyLimit("POST", "/app/send?x=1"),
              1000 * kPortalSendDocuments + 1024 * 1024);
    EXPECT_EQ(frontend_->BodyLimit("GET", "/app/send"), 10u);
    EXPECT_EQ(frontend_->BodyLimit("POST", "/app/login"), 10u);
}

// A request its issuer polls, behind a cached API key, on a database lane of its own thread: the
// route GET /api/v1/signature-requests/{id} tries the I/O thread first (TriesInlineFirst).
class FrontendPolled : public FrontendOnAServer {
  protected:
    void SetUp() override {
        FrontendOnAServer::SetUp();
        auto signal = store::SharedFileCounter::Open(dir_.path() / "api-keys.generation");
        ASSERT_TRUE(signal);
        key_signal_ = std::move(*signal);
        issuers_ = std::make_unique<domain::IssuerService>(*ctx_, key_signal_.get());
        use_lanes_ = &pooled_lanes_;
        auto issuer = issuers_->CreateIssuer("Comune", "it@comune.example");
        ASSERT_TRUE(issuer);
        auto key = issuers_->CreateApiKey(issuer->id);
        ASSERT_TRUE(key);
        secret_ = key->secret;
        int next_id = 0;
        auto polled = domain::fixtures::MakePolledRequest(
            clock_.Now(), [&] { return "01ROW" + std::to_string(++next_id); }, issuer->id);
        request_ = polled.request;
        ASSERT_TRUE(domain::fixtures::Insert(*db_, polled, /*with_issuer=*/false));
    }
    // Serves the route: its handler reads the request as the issuer API's does (one
    // single-statement read, answered from the copy when it can be) and notes its thread.
    void StartPolled() {
        Start({}, [this](Frontend& frontend) {
            frontend.AddAuthed(
                "GET", "/api/v1/signature-requests/{id}",
                [this](http::HttpRequest& req, const domain::Principal& p) {
                    {
                        const std::lock_guard lock(mu_);
                        ran_on_.push_back(std::this_thread::get_id());
                    }
                    auto tx = db_->Begin(domain::TxMode::kSingle);
                    if (!tx) return Problem(tx.error());
                    auto found = (*tx)->requests().Find(p.issuer_id, std::string(req.Param("id")));
                    if (!found) return Problem(found.error());
                    if (!*found) return Problem(ErrorCode::kNotFound, "no such request");
                    return http::HttpResponse::Text(200, (*found)->reference.value_or(""));
                });
        });
    }
    Answer Get() {
        return Call(port(), "/api/v1/signature-requests/" + request_.id,
                    "X-Api-Key: " + secret_ + "\r\n")
            .Read();
    }
    // firmo_http_tried_inline_total for `outcome` (-1: not rendered).
    int Tried(const char* outcome) {
        const std::string text = metrics_.Render();
        const std::string name =
            std::string("firmo_http_tried_inline_total{outcome=\"") + outcome + "\"} ";
        const auto at = text.find(name);
        return at == std::string::npos ? -1 : std::stoi(text.substr(at + name.size()));
    }

    std::unique_ptr<store::SharedFileCounter> key_signal_;
    std::string secret_;
    domain::SignatureRequest request_;
    std::mutex mu_;
    std::vector<std::thread::id> ran_on_;  // each run of the handler, in order
};

// Answered on the I/O thread from a copy the change signal vouches for and a cached API key,
// without a trip to the database lane; when something would wait (a key not yet cached, a copy
// a change made stale) the call goes to the lane and runs there from the start.
TEST_F(FrontendPolled, APolledRequestIsAnsweredOnTheIoThreadWhileNothingChanged) {
    StartPolled();
    // The key is not cached yet: tried, handed on, run again on the lane (the copy made there).
    auto first = Get();
    EXPECT_EQ(first.status, 200);
    EXPECT_EQ(first.body, "ref-1");
    EXPECT_EQ(Tried("handed_on"), 1);
    EXPECT_EQ(Tried("served"), 0);
    // Nothing changed: answered where it was read, on the I/O thread.
    auto second = Get();
    EXPECT_EQ(second.body, "ref-1");
    EXPECT_EQ(Tried("served"), 1);
    // A change: the copy must be checked, which waits; the lane answers with the change.
    ASSERT_TRUE(domain::fixtures::Rename(*db_, request_, "ref-2"));
    EXPECT_EQ(Get().body, "ref-2");
    EXPECT_EQ(Tried("handed_on"), 2);
    EXPECT_EQ(Get().body, "ref-2");
    EXPECT_EQ(Tried("served"), 2);
    {
        // The lane, the I/O thread, the I/O thread refused and the lane, the I/O thread.
        const std::lock_guard lock(mu_);
        ASSERT_EQ(ran_on_.size(), 5u);
        EXPECT_EQ(ran_on_[0], ran_on_[3]);
        EXPECT_EQ(ran_on_[1], ran_on_[2]);
        EXPECT_EQ(ran_on_[1], ran_on_[4]);
        EXPECT_NE(ran_on_[0], ran_on_[1]);
    }
    const std::string text = metrics_.Render();
    EXPECT_NE(text.find("firmo_http_requests_total{route=\"/api/v1/signature-requests/{id}\","
                        "method=\"GET\",status=\"200\"} 4\n"),
              std::string::npos)
        << text;  // each call answered and counted once
    EXPECT_NE(text.find("firmo_http_requests_in_flight 0\n"), std::string::npos);
}

// A call tried on the I/O thread takes a rate-limit token from the node's reservation; when its
// read is then refused (the copy is stale) it runs again on the lane and takes a token there.
// The first is given back, so the key still gets exactly its limit.
TEST_F(FrontendPolled, ACallHandedOnIsCountedOnceByTheRateLimit) {
    constexpr int kLimit = 40;  // reserved in chunks of up to 2
    rate_limits_ = std::make_unique<domain::RateLimitService>(*db_, clock_,
                                                              domain::RateLimit{kLimit, 60000ms});
    StartPolled();
    int answered = 0;
    Answer last;
    for (int i = 0; i < 2 * kLimit; ++i) {
        // Stale before every call: each attempt on the I/O thread that got a token is refused.
        ASSERT_TRUE(domain::fixtures::Rename(*db_, request_, "ref-" + std::to_string(i)));
        last = Get();
        if (last.status != 200) break;
        EXPECT_EQ(last.body, "ref-" + std::to_string(i));
        ++answered;
    }
    EXPECT_EQ(last.status, 429);
    EXPECT_EQ(answered, kLimit);
    EXPECT_EQ(Tried("served"), 0);
    EXPECT_GT(Tried("handed_on"), kLimit / 2);  // tokens were taken there and given back
}

}  // namespace
}  // namespace firmo::api
