// SmsGateway: body templating and option checks (units), then sending to a real HTTP server on
// loopback (tests/http_sink/sink.py), which records what arrived independently of our code.
#include "notify/sms_gateway.hpp"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "core/testing/temp_dir.hpp"
#include "notify/testing/http_sink.hpp"

namespace firmo::notify {
namespace {

using ::testing::HasSubstr;
using testing::HttpSink;
using ::testing::Not;
using ::testing::StartsWith;
using json = nlohmann::json;

SmsOptions Options(std::string url) {
    SmsOptions o;
    o.url = std::move(url);
    o.timeout = std::chrono::seconds(10);
    return o;
}

// A loopback port nobody listens on (bound, then released).
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

TEST(SmsGatewayTest, JsonEscapeKeepsEveryValueInsideItsString) {
    EXPECT_EQ(JsonEscape("plain æøå €"), "plain æøå €");
    EXPECT_EQ(JsonEscape("a\"b\\c"), "a\\\"b\\\\c");
    EXPECT_EQ(JsonEscape("l1\nl2\r\t"), "l1\\nl2\\r\\t");
    EXPECT_EQ(JsonEscape(std::string("\x01\x1f\x7f", 3)), "\\u0001\\u001f\\u007f");
    EXPECT_EQ(JsonEscape(std::string("a\0b", 3)), "a\\u0000b");
}

TEST(SmsGatewayTest, FilledTemplateParsesBackToTheExactValues) {
    const std::string text = "Firma: \"Contratto\" \\ 50% {{to}}\nhttps://x.test/s?a=1&b=2 ø €";
    const std::string body = FillBodyTemplate(
        R"({"to":"{{to}}","text":"{{text}}","from":"{{sender}}","again":"{{to}}"})",
        "+393331234567", text, "Firmo \"IT\"");
    const json parsed = json::parse(body);
    EXPECT_EQ(parsed["to"], "+393331234567");
    EXPECT_EQ(parsed["again"], "+393331234567");
    EXPECT_EQ(parsed["text"], text);  // "{{to}}" inside the text stays literal
    EXPECT_EQ(parsed["from"], "Firmo \"IT\"");
    EXPECT_EQ(FillBodyTemplate("{{other}}", "a", "b", "c"), "{{other}}");
}

TEST(SmsGatewayTest, CreateAcceptsUsualGatewayShapes) {
    EXPECT_TRUE(SmsGateway::Create(Options("https://sms.example.net/v1/messages")));
    EXPECT_TRUE(SmsGateway::Create(Options("HTTP://127.0.0.1:8080")));
    EXPECT_TRUE(SmsGateway::Create(Options("https://sms.example.net/send?api_key=abc")));
    SmsOptions infobip = Options("https://api.example.com/sms/2/text/advanced");
    infobip.auth_header = "Authorization: App 003026bbc133714df1834b8638bb496e-8f4b3d9a";
    infobip.body_template =
        R"({"messages":[{"destinations":[{"to":"{{to}}"}],"from":"{{sender}}","text":"{{text}}"}]})";
    infobip.sender = "Firmo";
    EXPECT_TRUE(SmsGateway::Create(infobip));
    SmsOptions prefixed = Options("https://sms.example.net/");
    prefixed.body_template = R"({"msisdn":"tel:{{to}}","message":"[Firmo] {{text}}"})";
    EXPECT_TRUE(SmsGateway::Create(prefixed));
}

TEST(SmsGatewayTest, CreateRefusesBadUrls) {
    for (const std::string url :
         {"", "ftp://sms.example.net", "sms.example.net/send", "http://", "https://",
          "http://:8080/x", "https://user:pw@sms.example.net/send", "https://sms.example.net/a b",
          "https://sms.example.net/\r\nX: y", "file:///etc/passwd"}) {
        auto r = SmsGateway::Create(Options(url));
        ASSERT_FALSE(r) << url;
        EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << url;
        EXPECT_THAT(r.error().message, Not(HasSubstr("pw"))) << url;
    }
}

TEST(SmsGatewayTest, CreateRefusesBadAuthHeaders) {
    for (const std::string header :
         {"Bearer xyz", ": xyz", "Authorization:", "Authorization:   ",
          "Authorization: Bearer x\r\nX-Evil: 1", "Author ization: x", "Authorization: a\nb"}) {
        SmsOptions o = Options("https://sms.example.net/");
        o.auth_header = header;
        auto r = SmsGateway::Create(o);
        ASSERT_FALSE(r) << header;
        EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    }
    SmsOptions o = Options("https://sms.example.net/");
    o.auth_header = "X-Api-Key: k3y";
    EXPECT_TRUE(SmsGateway::Create(o));
}

TEST(SmsGatewayTest, CreateRefusesTemplatesThatCannotBecomeValidJson) {
    const std::vector<std::pair<std::string, std::string>> bad = {
        {R"({"to":"{{to}}","text":"{{text}}")", "not valid JSON"},
        {R"({"to":{{to}},"text":"{{text}}"})", "inside string literals"},
        {R"({"to":"{{to}}","text":{{text}}})", "inside string literals"},
        {R"({"to":"{{to}}","text":"{{text}}","n":1{{sender}}})", "not valid JSON"},
        {R"({"to":"{{to}}","text":"{{message}}"})", "unknown placeholder {{message}}"},
        {R"({"to":"{{to}}"})", "must contain {{text}}"},
        {R"({"text":"{{text}}"})", "must contain {{to}}"},
        {R"({"to":"{{to}}","text":"{{text"})", "unclosed"},
        {"", "must contain {{to}}"},
        {R"(to={{to}}&text={{text}})", "not valid JSON"},
    };
    for (const auto& [templ, reason] : bad) {
        SmsOptions o = Options("https://sms.example.net/");
        o.body_template = templ;
        auto r = SmsGateway::Create(o);
        ASSERT_FALSE(r) << templ;
        EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
        EXPECT_THAT(r.error().message, HasSubstr(reason)) << templ;
    }
}

TEST(SmsGatewayTest, CreateRefusesOtherBadOptions) {
    SmsOptions o = Options("https://sms.example.net/");
    o.timeout = std::chrono::milliseconds(0);
    EXPECT_FALSE(SmsGateway::Create(o));
    o = Options("https://sms.example.net/");
    o.sender = "\xff\xfe";
    EXPECT_FALSE(SmsGateway::Create(o));
}

TEST(SmsGatewayTest, IsE164) {
    for (std::string_view good : {"+393331234567", "+4791234567", "+12025550123", "+44770090"}) {
        EXPECT_TRUE(IsE164(good)) << good;
    }
    for (std::string_view bad :
         {"", "+", "393331234567", "+39 333 1234567", "+0393331234567", "+1234567",
          "+1234567890123456", "+39333abc4567", "+393331234567\n"}) {
        EXPECT_FALSE(IsE164(bad)) << bad;
    }
}

TEST(SmsGatewayTest, BadNumberOrTextIsRefusedBeforeConnecting) {
    // A closed port would give kUnavailable: kInvalidArgument proves nothing was attempted.
    auto gateway =
        SmsGateway::Create(Options("http://127.0.0.1:" + std::to_string(ClosedPort()) + "/send"));
    ASSERT_TRUE(gateway);
    for (auto [to, text] :
         std::vector<std::pair<std::string, std::string>>{{"3331234567", "hello"},
                                                          {"+39333\"1234567", "hello"},
                                                          {"+393331234567", ""},
                                                          {"+393331234567", "\xc3\x28"}}) {
        auto r = (*gateway)->Send(to, text);
        ASSERT_FALSE(r) << to;
        EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << to;
    }
}

class SmsGatewaySinkTest : public ::testing::Test {
  protected:
    void SetUp() override {
        sink_ = std::make_unique<HttpSink>(dir_.path());
        ASSERT_TRUE(sink_->ok()) << "the HTTP sink did not start (" << FIRMO_HTTP_SINK << ")";
    }

    std::unique_ptr<SmsGateway> Gateway(SmsOptions options) {
        auto gateway = SmsGateway::Create(std::move(options));
        EXPECT_TRUE(gateway) << gateway.error().message;
        return gateway ? std::move(*gateway) : nullptr;
    }

    firmo::testing::TempDir dir_{"firmo-sms"};
    std::unique_ptr<HttpSink> sink_;
};

TEST_F(SmsGatewaySinkTest, PostsTheFilledTemplateWithTheAuthHeader) {
    SmsOptions o = Options(sink_->Url("/v1/sms?account=7"));
    o.auth_header = "Authorization: Bearer s3cr3t-t0ken";
    o.body_template = R"({"from":"{{sender}}","messages":[{"to":"{{to}}","body":"{{text}}"}]})";
    o.sender = "Firmo";
    auto gateway = Gateway(o);
    ASSERT_TRUE(gateway);
    const std::string text =
        "Comune di Bologna ti chiede di firmare: \"Contratto\" è pronto\nhttps://firmo.test/s/"
        "abc?x=1&y=2";
    auto sent = gateway->Send("+393331234567", text);
    ASSERT_TRUE(sent) << sent.error().message;
    EXPECT_THAT(*sent, StartsWith("HTTP 200 {\"ok\": true"));

    auto requests = sink_->Requests();
    ASSERT_EQ(requests.size(), 1u);
    const auto& r = requests[0];
    EXPECT_EQ(r["method"], "POST");
    EXPECT_EQ(r["path"], "/v1/sms");
    EXPECT_EQ(r["query"], "account=7");
    EXPECT_EQ(r["headers"]["authorization"], "Bearer s3cr3t-t0ken");
    EXPECT_EQ(r["headers"]["content-type"], "application/json");
    EXPECT_FALSE(r["headers"].contains("expect"));
    const json body = json::parse(r["body"].get<std::string>());
    EXPECT_EQ(body, json::parse(R"({"from":"Firmo","messages":[{"to":"+393331234567","body":""}]})")
                        .patch(json::array(
                            {{{"op", "replace"}, {"path", "/messages/0/body"}, {"value", text}}})));
}

TEST_F(SmsGatewaySinkTest, WithoutAuthHeaderNoneIsSent) {
    auto gateway = Gateway(Options(sink_->Url("/send")));
    ASSERT_TRUE(gateway);
    ASSERT_TRUE(gateway->Send("+4791234567", "Hei"));
    auto requests = sink_->Requests();
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_FALSE(requests[0]["headers"].contains("authorization"));
    EXPECT_EQ(json::parse(requests[0]["body"].get<std::string>()),
              json::parse(R"({"to":"+4791234567","text":"Hei"})"));
}

TEST_F(SmsGatewaySinkTest, ServerErrorIsUnavailableAndTheNextAttemptWorks) {
    auto gateway = Gateway(Options(sink_->Url("/send")));
    ASSERT_TRUE(gateway);
    ASSERT_TRUE(sink_->Control({{"status", 500}, {"times", 1}, {"body", "{\"error\":\"down\"}"}}));
    auto failed = gateway->Send("+4791234567", "Hei");
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error().code, ErrorCode::kUnavailable);
    EXPECT_THAT(failed.error().message, HasSubstr("answered HTTP 500 {\"error\":\"down\"}"));
    EXPECT_THAT(failed.error().message, HasSubstr("SMS gateway http://127.0.0.1:"));
    EXPECT_THAT(failed.error().message, Not(HasSubstr("Hei")));

    auto sent = gateway->Send("+4791234567", "Hei");
    ASSERT_TRUE(sent) << sent.error().message;
    EXPECT_EQ(sink_->Requests().size(), 2u);
}

TEST_F(SmsGatewaySinkTest, ClientErrorsAndOddSuccessesAreJudgedByStatus) {
    auto gateway = Gateway(Options(sink_->Url("/send")));
    ASSERT_TRUE(gateway);
    ASSERT_TRUE(sink_->Control({{"status", 401}, {"times", 1}}));
    ASSERT_TRUE(sink_->Control({{"status", 202}, {"times", 1}, {"body", ""}}));
    auto refused = gateway->Send("+4791234567", "Hei");
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, ErrorCode::kUnavailable);
    EXPECT_THAT(refused.error().message, HasSubstr("HTTP 401"));
    auto accepted = gateway->Send("+4791234567", "Hei");
    ASSERT_TRUE(accepted) << accepted.error().message;
    EXPECT_EQ(*accepted, "HTTP 202");
}

TEST_F(SmsGatewaySinkTest, RedirectsAreNotFollowed) {
    auto gateway = Gateway(Options(sink_->Url("/send")));
    ASSERT_TRUE(gateway);
    ASSERT_TRUE(sink_->Control(
        {{"status", 307}, {"times", 1}, {"headers", {{"Location", sink_->Url("/elsewhere")}}}}));
    auto r = gateway->Send("+4791234567", "Hei");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
    EXPECT_THAT(r.error().message, HasSubstr("HTTP 307"));
    EXPECT_THAT(r.error().message, HasSubstr("redirects are not followed"));
    auto requests = sink_->Requests();
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_EQ(requests[0]["path"], "/send");
}

TEST_F(SmsGatewaySinkTest, OnlyTheFirst200BytesOfTheAnswerAreKept) {
    auto gateway = Gateway(Options(sink_->Url("/send")));
    ASSERT_TRUE(gateway);
    // 199 ASCII bytes, then "ø" (2 bytes) straddling the limit, then more.
    const std::string body = std::string(199, 'x') + "ø\n" + std::string(5000, 'y');
    ASSERT_TRUE(sink_->Control({{"status", 200}, {"times", 1}, {"body", body}}));
    auto sent = gateway->Send("+4791234567", "Hei");
    ASSERT_TRUE(sent) << sent.error().message;
    EXPECT_EQ(*sent, "HTTP 200 " + std::string(199, 'x'));
}

TEST_F(SmsGatewaySinkTest, LinksEchoedByTheGatewayAreRedactedFromTheAnswer) {
    auto gateway = Gateway(Options(sink_->Url("/send")));
    ASSERT_TRUE(gateway);
    const std::string link = "https://firmo.test/s/Zm9vYmFyYmF6";
    const std::string echo =
        R"({"text":"Sign: )" + link + R"(.","again":"https:\/\/firmo.test\/s\/Zm9vYmFyYmF6"})";
    ASSERT_TRUE(sink_->Control({{"status", 200}, {"times", 1}, {"body", echo}}));
    ASSERT_TRUE(sink_->Control({{"status", 500}, {"times", 1}, {"body", echo}}));
    auto sent = gateway->Send("+4791234567", "Sign: " + link + ".");
    ASSERT_TRUE(sent) << sent.error().message;
    EXPECT_EQ(*sent, R"(HTTP 200 {"text":"Sign: [link].","again":"[link]"})");
    auto failed = gateway->Send("+4791234567", "Sign: " + link);
    ASSERT_FALSE(failed);
    EXPECT_THAT(failed.error().message, Not(HasSubstr("Zm9vYmFyYmF6")));
    EXPECT_THAT(failed.error().message, HasSubstr("[link]"));
}

TEST_F(SmsGatewaySinkTest, SlowGatewayTimesOut) {
    SmsOptions o = Options(sink_->Url("/send"));
    o.timeout = std::chrono::milliseconds(300);
    auto gateway = Gateway(o);
    ASSERT_TRUE(gateway);
    ASSERT_TRUE(sink_->Control({{"status", 200}, {"times", 1}, {"delay_ms", 3000}}));
    const auto start = std::chrono::steady_clock::now();
    auto r = gateway->Send("+4791234567", "Hei");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
    EXPECT_THAT(r.error().message, HasSubstr("imeout"));
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(2500));
}

TEST_F(SmsGatewaySinkTest, SendsFromManyThreadsAtOnce) {
    std::shared_ptr<SmsGateway> gateway = Gateway(Options(sink_->Url("/send")));
    ASSERT_TRUE(gateway);
    constexpr int kThreads = 4;
    std::vector<std::thread> threads;
    std::vector<bool> ok(kThreads, false);
    for (int i = 0; i < kThreads; ++i) {
        threads.emplace_back([&, i] {
            ok[static_cast<std::size_t>(i)] =
                gateway->Send("+4791234560" + std::to_string(i), "Hei").has_value();
        });
    }
    for (auto& t : threads) t.join();
    for (int i = 0; i < kThreads; ++i) EXPECT_TRUE(ok[static_cast<std::size_t>(i)]) << i;
    std::set<std::string> to;
    for (const auto& r : sink_->Requests()) {
        to.insert(json::parse(r["body"].get<std::string>())["to"].get<std::string>());
    }
    EXPECT_EQ(to, (std::set<std::string>{"+47912345600", "+47912345601", "+47912345602",
                                         "+47912345603"}));
}

TEST(SmsGatewayFailureTest, UnreachableGatewayIsUnavailableAtOnce) {
    const int port = ClosedPort();
    ASSERT_GT(port, 0);
    SmsOptions o = Options("http://127.0.0.1:" + std::to_string(port) + "/send");
    o.auth_header = "Authorization: Bearer s3cr3t";
    auto gateway = SmsGateway::Create(o);
    ASSERT_TRUE(gateway);
    const auto start = std::chrono::steady_clock::now();
    auto r = (*gateway)->Send("+4791234567", "Hei");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
    EXPECT_THAT(r.error().message, HasSubstr("SMS gateway http://127.0.0.1:"));
    EXPECT_THAT(r.error().message, Not(HasSubstr("s3cr3t")));
    EXPECT_THAT(r.error().message, Not(HasSubstr("/send")));
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(4));
}

}  // namespace
}  // namespace firmo::notify
