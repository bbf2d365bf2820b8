// WebhookTransport against a real HTTP server on loopback (tests/http_sink/sink.py), which
// reports each request exactly as it arrived; the signature is recomputed here from what the
// receiver saw, and checked against a value computed by Python's hmac module.
#include "notify/webhook_transport.hpp"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <set>
#include <thread>

#include "core/encoding.hpp"
#include "core/testing/temp_dir.hpp"
#include "crypto/digest.hpp"
#include "notify/testing/http_sink.hpp"
#include "notify/testing/silent_server.hpp"

namespace firmo::notify {
namespace {

using ::testing::HasSubstr;
using testing::HttpSink;
using ::testing::Not;

constexpr std::int64_t kNow = 1795450000;  // 2026-11-23T16:06:40Z

using testing::SilentServer;

// A loopback port nobody listens on (bound, then closed again).
int ClosedPort() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    int port = 0;
    if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
        port = ntohs(addr.sin_port);
    }
    if (fd >= 0) ::close(fd);
    return port;
}

class WebhookTransportTest : public ::testing::Test {
  protected:
    void SetUp() override { ASSERT_TRUE(sink_.ok()) << "the HTTP sink did not start"; }

    // The sink is on loopback, which webhooks may call only when allowed explicitly.
    static WebhookOptions Loopback() {
        WebhookOptions options;
        options.allow_private_addresses = true;
        return options;
    }

    std::unique_ptr<WebhookTransport> Transport(WebhookOptions options = Loopback()) {
        auto transport = WebhookTransport::Create(options, clock_);
        EXPECT_TRUE(transport) << transport.error().message;
        return transport ? std::move(*transport) : nullptr;
    }

    domain::OutboxMessage Message(std::string destination) const {
        domain::OutboxMessage m;
        m.id = 7;
        m.event_id = "01JD7Q3X5B2W8N4M6P9R0S1T2V";
        m.issuer_id = "issuer-1";
        m.request_id = "01JD7Q2Z0000000000000000AA";
        m.channel = domain::Channel::kWebhook;
        m.destination = std::move(destination);
        m.template_name = "signature_request.signed";
        // Spacing, key order and non-ASCII text must reach the receiver untouched: the
        // signature is over these exact bytes.
        m.payload_json =
            "{\"id\":\"01JD7Q3X5B2W8N4M6P9R0S1T2V\", \"type\":\"signature_request.signed\","
            "\"created_at\":\"2026-11-23T16:06:40Z\",\"data\":{\"status\":\"SIGNED\","
            "\"signature_request_id\":\"01JD7Q2Z0000000000000000AA\",\"note\":\"Bærum ✓\"}}";
        m.secret = "whsec_0123456789abcdef";
        return m;
    }

    firmo::testing::TempDir dir_;
    HttpSink sink_{dir_.path()};
    ManualClock clock_{FromUnixMillis(kNow * 1000 + 250)};
};

TEST(WebhookSignatureTest, MatchesPythonsHmac) {
    // python3 -c "import hmac,hashlib; print(hmac.new(b'whsec_test',
    //     b'1795450000.{\"id\":\"evt_1\"}', hashlib.sha256).hexdigest())"
    EXPECT_EQ(WebhookSignature("whsec_test", 1795450000, "{\"id\":\"evt_1\"}"),
              "v1=0ded59536c063ff2473ae8bc5615a75dc201f9d5e86b4b44602b60f0e292f10d");
}

TEST_F(WebhookTransportTest, PostsTheBodyAsIsWithSignedHeaders) {
    auto transport = Transport();
    ASSERT_TRUE(transport);
    const auto message = Message(sink_.Url("/hooks/firmo?tenant=3"));
    auto outcome = transport->Deliver(message);
    ASSERT_TRUE(outcome) << outcome.error().message;
    EXPECT_TRUE(outcome->delivered);
    EXPECT_FALSE(outcome->defer_until);
    // A private address: the status only, never the answer's text.
    EXPECT_EQ(outcome->response, "HTTP 200");

    auto requests = sink_.Requests(1);
    ASSERT_EQ(requests.size(), 1u);
    const auto& r = requests[0];
    EXPECT_EQ(r["method"], "POST");
    EXPECT_EQ(r["path"], "/hooks/firmo");
    EXPECT_EQ(r["query"], "tenant=3");
    EXPECT_EQ(r["body"], message.payload_json);
    const auto& h = r["headers"];
    EXPECT_EQ(h["content-type"], "application/json");
    EXPECT_EQ(h["user-agent"], "Firmo-Webhooks/1");
    EXPECT_EQ(h["firmo-event-id"], message.event_id);
    EXPECT_EQ(h["firmo-event-type"], "signature_request.signed");
    EXPECT_EQ(h["firmo-timestamp"], std::to_string(kNow));
    EXPECT_EQ(h["content-length"], std::to_string(message.payload_json.size()));
    EXPECT_FALSE(h.contains("expect"));

    // What a receiver does: HMAC over "<timestamp>.<body as received>" with the shared secret.
    const std::string signed_text =
        h["firmo-timestamp"].get<std::string>() + "." + r["body"].get<std::string>();
    EXPECT_EQ(h["firmo-signature"],
              "v1=" + HexEncode(crypto::HmacSha256(message.secret, signed_text)));
    // And with another secret it does not verify.
    EXPECT_NE(h["firmo-signature"],
              "v1=" + HexEncode(crypto::HmacSha256("whsec_other", signed_text)));
}

TEST_F(WebhookTransportTest, The2xxStatusGoesToTheLogButNotAPrivateEndpointsAnswer) {
    auto transport = Transport();
    ASSERT_TRUE(transport);
    ASSERT_TRUE(sink_.Control({{"status", 204}, {"body", ""}}));
    auto outcome = transport->Deliver(Message(sink_.Url()));
    ASSERT_TRUE(outcome) << outcome.error().message;
    EXPECT_EQ(outcome->response, "HTTP 204");

    // A huge answer is cut off (the transfer is not even read to its end); from loopback
    // nothing of it reaches the log.
    ASSERT_TRUE(sink_.Control({{"status", 202}, {"body", "a\nb" + std::string(300'000, 'x')}}));
    outcome = transport->Deliver(Message(sink_.Url()));
    ASSERT_TRUE(outcome) << outcome.error().message;
    EXPECT_EQ(outcome->response, "HTTP 202");
}

TEST(WebhookAnswerTextTest, APublicEndpointsAnswerIsKeptBoundedAndSanitised) {
    // 200 bytes at most, control characters as spaces, invalid UTF-8 as '?', whole characters.
    EXPECT_EQ(WebhookAnswerText(202, "a\nb" + std::string(300'000, 'x'), true),
              "HTTP 202: a b" + std::string(197, 'x'));
    EXPECT_EQ(WebhookAnswerText(204, "", true), "HTTP 204");
    EXPECT_EQ(WebhookAnswerText(500, "database down\r\n", true), "HTTP 500: database down");
    EXPECT_EQ(WebhookAnswerText(400, "bad \xff\xfe \x1b[31m", true), "HTTP 400: bad ??  [31m");
    EXPECT_EQ(WebhookAnswerText(500, std::string(199, 'x') + "\xc3\xa6", true),
              "HTTP 500: " + std::string(199, 'x'));
    EXPECT_EQ(WebhookAnswerText(302, "", true), "HTTP 302 (redirects are not followed)");
    // A private address: the status of a delivered call only; a refusal is not told apart
    // from a closed port.
    EXPECT_EQ(WebhookAnswerText(200, "internal secrets", false), "HTTP 200");
    for (long status : {301L, 400L, 401L, 403L, 404L, 500L, 503L}) {
        EXPECT_EQ(WebhookAnswerText(status, "internal secrets", false), kWebhookNotAccepted)
            << status;
    }
}

TEST_F(WebhookTransportTest, AServerErrorIsUnavailableAndTheRetrySucceeds) {
    auto transport = Transport();
    ASSERT_TRUE(transport);
    ASSERT_TRUE(sink_.Control({{"status", 500}, {"times", 1}, {"body", "database down"}}));
    const auto message = Message(sink_.Url());
    auto failed = transport->Deliver(message);
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error().code, ErrorCode::kUnavailable);
    EXPECT_EQ(failed.error().message, kWebhookNotAccepted);  // loopback: no status, no text

    auto retried = transport->Deliver(message);
    ASSERT_TRUE(retried) << retried.error().message;
    EXPECT_TRUE(retried->delivered);
    auto requests = sink_.Requests(2);
    ASSERT_EQ(requests.size(), 2u);
    // The same event id both times: the receiver can tell a retry from a new event.
    EXPECT_EQ(requests[0]["headers"]["firmo-event-id"], requests[1]["headers"]["firmo-event-id"]);
}

TEST_F(WebhookTransportTest, EveryStatusOutside2xxIsAFailedAttempt) {
    auto transport = Transport();
    ASSERT_TRUE(transport);
    for (int status : {400, 401, 404, 410, 429, 502, 503}) {
        ASSERT_TRUE(sink_.Control({{"status", status}}));
        auto result = transport->Deliver(Message(sink_.Url()));
        ASSERT_FALSE(result) << status;
        EXPECT_EQ(result.error().code, ErrorCode::kUnavailable) << status;
        EXPECT_EQ(result.error().message, kWebhookNotAccepted);
    }
}

TEST_F(WebhookTransportTest, ARedirectIsNotFollowed) {
    auto transport = Transport();
    ASSERT_TRUE(transport);
    for (int status : {301, 302, 307, 308}) {
        ASSERT_TRUE(sink_.Control(
            {{"status", status}, {"headers", {{"Location", sink_.Url("/elsewhere")}}}}));
        auto result = transport->Deliver(Message(sink_.Url()));
        ASSERT_FALSE(result) << status;
        EXPECT_EQ(result.error().code, ErrorCode::kUnavailable);
        EXPECT_EQ(result.error().message, kWebhookNotAccepted);
    }
    // Give a followed redirect time to arrive before looking.
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    for (const auto& r : sink_.Requests()) EXPECT_EQ(r["path"], "/hook");
    EXPECT_EQ(sink_.Requests().size(), 4u);
}

TEST_F(WebhookTransportTest, AnUnreachableEndpointFailsWithoutWaitingForTheTimeout) {
    WebhookOptions options = Loopback();
    options.timeout = std::chrono::seconds(60);
    auto transport = Transport(options);
    ASSERT_TRUE(transport);
    const int port = ClosedPort();
    ASSERT_NE(port, 0);
    const auto start = std::chrono::steady_clock::now();
    auto result = transport->Deliver(Message("http://127.0.0.1:" + std::to_string(port) + "/"));
    const auto elapsed = std::chrono::steady_clock::now() - start;
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code, ErrorCode::kUnavailable);
    EXPECT_EQ(result.error().message, kWebhookNotAccepted);
    // A refused connection is reported at once, not after the 60 s timeout.
    EXPECT_LT(elapsed, std::chrono::seconds(30));
}

TEST_F(WebhookTransportTest, ASilentEndpointTimesOut) {
    SilentServer silent;
    ASSERT_NE(silent.port(), 0);
    WebhookOptions options = Loopback();
    options.timeout = std::chrono::milliseconds(300);
    auto transport = Transport(options);
    ASSERT_TRUE(transport);
    auto result =
        transport->Deliver(Message("http://127.0.0.1:" + std::to_string(silent.port()) + "/"));
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code, ErrorCode::kUnavailable);
    EXPECT_EQ(result.error().message, kWebhookNotAccepted);

    // A server that accepts the request but answers too late is a timeout too.
    ASSERT_TRUE(sink_.Control({{"status", 200}, {"delay_ms", 2000}}));
    result = transport->Deliver(Message(sink_.Url()));
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code, ErrorCode::kUnavailable);
    EXPECT_EQ(result.error().message, kWebhookNotAccepted);
}

// Issue 12: error texts told open ports from closed ones, so an issuer could scan the node's
// network through the delivery log. Every failure reads the same; the operator's log has more.
TEST_F(WebhookTransportTest, ErrorsDoNotTellAnOpenPortFromAClosedOne) {
    SilentServer silent;
    ASSERT_NE(silent.port(), 0);
    const int closed = ClosedPort();
    ASSERT_NE(closed, 0);
    WebhookOptions options = Loopback();
    options.timeout = std::chrono::milliseconds(300);
    auto transport = Transport(options);
    ASSERT_TRUE(transport);
    std::set<std::string> texts;
    const auto attempt = [&](const std::string& url) {
        auto result = transport->Deliver(Message(url));
        ASSERT_FALSE(result) << url;
        EXPECT_EQ(result.error().code, ErrorCode::kUnavailable) << url;
        texts.insert(result.error().message);
    };
    attempt("http://127.0.0.1:" + std::to_string(closed) + "/");         // closed
    attempt("http://127.0.0.1:" + std::to_string(silent.port()) + "/");  // open, silent
    for (int status : {400, 404, 500}) {                                 // open, speaks HTTP
        ASSERT_TRUE(sink_.Control({{"status", status}, {"body", "internal service"}}));
        attempt(sink_.Url());
    }
    attempt("https://127.0.0.1:" + std::to_string(sink_.port()) + "/");  // open, no TLS
    EXPECT_EQ(texts, std::set<std::string>{std::string(kWebhookNotAccepted)});
}

TEST_F(WebhookTransportTest, RefusesWhatRetryingCannotFix) {
    auto transport = Transport();
    ASSERT_TRUE(transport);
    const auto refused = [&](const domain::OutboxMessage& m) {
        auto result = transport->Deliver(m);
        return !result && result.error().code == ErrorCode::kInvalidArgument;
    };
    auto m = Message(sink_.Url());
    m.channel = domain::Channel::kEmail;
    EXPECT_TRUE(refused(m));
    m.channel = domain::Channel::kSms;
    EXPECT_TRUE(refused(m));
    m = Message(sink_.Url());
    m.secret.clear();
    EXPECT_TRUE(refused(m));
    for (const char* url : {"", "ftp://127.0.0.1/x", "file:///etc/passwd", "gopher://127.0.0.1/",
                            "127.0.0.1:8080/hook", "http://", "http://exa mple.org/",
                            "https://example.org/\r\nX-Injected: 1", "not a url"}) {
        EXPECT_TRUE(refused(Message(url))) << url;
    }
    m = Message(sink_.Url());
    m.event_id = "evt\r\nX-Injected: 1";
    EXPECT_TRUE(refused(m));
    m = Message(sink_.Url());
    m.template_name = "signer.signed\nX-Injected: 1";
    EXPECT_TRUE(refused(m));
    EXPECT_TRUE(sink_.Requests(1, std::chrono::milliseconds(300)).empty());

    WebhookOptions options;
    options.timeout = std::chrono::milliseconds(0);
    auto bad = WebhookTransport::Create(options, clock_);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
}

// Issue 12: with the old default (private addresses allowed) every spelling of a loopback
// address reached the node's own services. Refused by default now, on the address connected
// to, whatever the spelling.
TEST_F(WebhookTransportTest, EverySpellingOfAPrivateAddressIsRefusedByDefault) {
    auto transport = Transport(WebhookOptions{});
    ASSERT_TRUE(transport);
    const std::string port = ":" + std::to_string(sink_.port());
    for (const char* host : {"127.0.0.1",
                             "localhost",
                             "127.1",
                             "127.0.1",
                             "2130706433",
                             "0x7f000001",
                             "0x7f.0.0.1",
                             "0177.0.0.1",
                             "017700000001",
                             "127.000.000.001",
                             "[::1]",
                             "[::ffff:127.0.0.1]",
                             "[::ffff:7f00:1]",
                             "[0:0:0:0:0:ffff:7f00:1]",
                             "0.0.0.0",
                             "0",
                             "[::]",
                             "[::127.0.0.1]",
                             "169.254.169.254",
                             "100.64.0.1",
                             "10.0.0.1",
                             "192.168.1.1",
                             "172.16.0.1",
                             "224.0.0.1",
                             "255.255.255.255",
                             "[fc00::1]",
                             "[ff02::1]",
                             "[64:ff9b::7f00:1]"}) {
        const std::string url = std::string("http://") + host + port + "/hook";
        auto result = transport->Deliver(Message(url));
        ASSERT_FALSE(result) << url;
        EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument) << url;
        EXPECT_THAT(result.error().message, HasSubstr("private or reserved address")) << url;
        // The issuer is not told which address the name resolved to.
        EXPECT_THAT(result.error().message, Not(HasSubstr("127."))) << url;
    }
    EXPECT_TRUE(sink_.Requests(1, std::chrono::milliseconds(300)).empty());

    // Allowed explicitly, the very same endpoint is called.
    auto allowed = Transport(Loopback());
    ASSERT_TRUE(allowed);
    auto delivered = allowed->Deliver(Message("http://127.1" + port + "/hook"));
    ASSERT_TRUE(delivered) << delivered.error().message;
}

TEST_F(WebhookTransportTest, CredentialsInTheUrlAreRefused) {
    auto transport = Transport();
    ASSERT_TRUE(transport);
    const std::string port = std::to_string(sink_.port());
    for (const std::string& url :
         {"http://user:pass@127.0.0.1:" + port + "/hook", "http://user@127.0.0.1:" + port + "/hook",
          "http://:pass@127.0.0.1:" + port + "/hook",
          "http://127.0.0.1:" + port + "\\@example.org/hook"}) {
        auto result = transport->Deliver(Message(url));
        ASSERT_FALSE(result) << url;
        EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument) << url;
    }
    EXPECT_TRUE(sink_.Requests(1, std::chrono::milliseconds(300)).empty());
}

TEST(IsPrivateAddressTest, ClassifiesTheReservedRanges) {
    for (const char* ip : {"0.0.0.0",
                           "10.0.0.1",
                           "10.255.255.255",
                           "100.64.0.1",
                           "100.127.255.254",
                           "127.0.0.1",
                           "127.8.9.10",
                           "169.254.169.254",
                           "172.16.0.1",
                           "172.31.255.255",
                           "192.0.0.8",
                           "192.0.2.1",
                           "192.168.1.1",
                           "198.18.0.1",
                           "198.19.255.255",
                           "198.51.100.7",
                           "203.0.113.9",
                           "224.0.0.1",
                           "239.255.255.250",
                           "240.0.0.1",
                           "255.255.255.255",
                           "::",
                           "::1",
                           "::ffff:127.0.0.1",
                           "::ffff:10.1.2.3",
                           "::ffff:169.254.169.254",
                           "64:ff9b::a9fe:a9fe",
                           "::127.0.0.1",
                           "fc00::1",
                           "fd12:3456::1",
                           "fe80::1",
                           "febf::1",
                           "fec0::1",
                           "ff02::1",
                           "2001:db8::1"}) {
        EXPECT_TRUE(IsPrivateAddress(ip)) << ip;
    }
    for (const char* ip : {"1.1.1.1",
                           "8.8.8.8",
                           "9.255.255.255",
                           "11.0.0.1",
                           "100.63.255.255",
                           "100.128.0.1",
                           "126.255.255.255",
                           "128.0.0.1",
                           "169.253.1.1",
                           "172.15.255.255",
                           "172.32.0.1",
                           "192.0.1.1",
                           "192.167.1.1",
                           "192.169.1.1",
                           "198.17.1.1",
                           "198.20.0.1",
                           "223.255.255.255",
                           "2a00:1450:4001:82b::200e",
                           "2001:4860:4860::8888",
                           "::ffff:8.8.8.8",
                           "64:ff9b::808:808",
                           "fbff::1",
                           "not an address",
                           "localhost",
                           ""}) {
        EXPECT_FALSE(IsPrivateAddress(ip)) << ip;
    }
}

TEST_F(WebhookTransportTest, DeliversFromManyThreadsAtOnce) {
    std::shared_ptr<WebhookTransport> transport = Transport();
    ASSERT_TRUE(transport);
    constexpr int kThreads = 4;
    std::vector<std::thread> threads;
    std::vector<int> ok(kThreads, 0);
    for (int i = 0; i < kThreads; ++i) {
        threads.emplace_back([&, i] {
            auto m = Message(sink_.Url());
            m.event_id = "evt_" + std::to_string(i);
            ok[static_cast<std::size_t>(i)] = transport->Deliver(m).has_value() ? 1 : 0;
        });
    }
    for (auto& t : threads) t.join();
    for (int i = 0; i < kThreads; ++i) EXPECT_EQ(ok[static_cast<std::size_t>(i)], 1) << i;
    std::set<std::string> ids;
    for (const auto& r : sink_.Requests(kThreads)) ids.insert(r["headers"]["firmo-event-id"]);
    EXPECT_EQ(ids, (std::set<std::string>{"evt_0", "evt_1", "evt_2", "evt_3"}));
}

}  // namespace
}  // namespace firmo::notify
