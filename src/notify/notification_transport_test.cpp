// NotificationTransport with fake senders (units), and e-mail through SmtpMailer to a real SMTP
// server on loopback (tests/smtp/sink.py, aiosmtpd), parsed by Python's e-mail package.
#include "notify/notification_transport.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/testing/temp_dir.hpp"
#include "notify/testing/http_sink.hpp"
#include "notify/testing/smtp_sink.hpp"

namespace firmo::notify {
namespace {

using domain::Channel;
using domain::OutboxMessage;
using ::testing::HasSubstr;
using ::testing::Not;
using json = nlohmann::json;

constexpr std::string_view kLink = "https://firmo.example.org/s/k7Qm2xW9pL4vR8tN3bY6cJ1d";
// 2026-11-23 10:15:30 UTC: 11:15 in Italy, daytime.
const Timestamp kDay = FromUnixMillis(1795428930000);

class FakeMailer final : public Mailer {
  public:
    Result<void> Send(const Mail& mail) override {
        sent.push_back(mail);
        if (fail) return Fail(ErrorCode::kUnavailable, "SMTP server down");
        return {};
    }
    std::vector<Mail> sent;
    bool fail = false;
};

class FakeSms final : public SmsSender {
  public:
    Result<std::string> Send(std::string_view to, std::string_view text) override {
        sent.emplace_back(to, text);
        if (fail) return Fail(ErrorCode::kUnavailable, "SMS gateway answered HTTP 503");
        return std::string("HTTP 202 {\"id\":\"m-1\"}");
    }
    std::vector<std::pair<std::string, std::string>> sent;
    bool fail = false;
};

OutboxMessage Message(Channel channel, std::string destination,
                      std::string template_name = "sign_request") {
    OutboxMessage m;
    m.id = 7;
    m.event_id = "evt-1";
    m.channel = channel;
    m.destination = std::move(destination);
    m.template_name = std::move(template_name);
    m.language = "it";
    m.payload_json = json{{"issuer", "Comune di Bologna"},
                          {"title", "Contratto di locazione"},
                          {"link", kLink},
                          {"expires_at", "2026-12-01T18:00:00Z"}}
                         .dump();
    return m;
}

class NotificationTransportTest : public ::testing::Test {
  protected:
    std::shared_ptr<FakeMailer> mailer_ = std::make_shared<FakeMailer>();
    std::shared_ptr<FakeSms> sms_ = std::make_shared<FakeSms>();
    ManualClock clock_{kDay};
    NotificationTransport transport_{mailer_, sms_, clock_};
};

TEST_F(NotificationTransportTest, EmailIsRenderedAndSent) {
    auto outcome = transport_.Deliver(Message(Channel::kEmail, "mario.rossi@example.org"));
    ASSERT_TRUE(outcome) << outcome.error().message;
    EXPECT_TRUE(outcome->delivered);
    EXPECT_FALSE(outcome->defer_until);
    EXPECT_EQ(outcome->response, "accepted by the SMTP server");
    ASSERT_EQ(mailer_->sent.size(), 1u);
    EXPECT_EQ(mailer_->sent[0].to, "mario.rossi@example.org");
    EXPECT_EQ(mailer_->sent[0].subject, "Documenti da firmare da Comune di Bologna");
    EXPECT_THAT(mailer_->sent[0].text, HasSubstr(kLink));
    EXPECT_TRUE(sms_->sent.empty());
}

TEST_F(NotificationTransportTest, SmsInDaytimeIsSentWithTheGatewaysAnswer) {
    auto outcome = transport_.Deliver(Message(Channel::kSms, "+393331234567", "reminder"));
    ASSERT_TRUE(outcome) << outcome.error().message;
    EXPECT_TRUE(outcome->delivered);
    EXPECT_EQ(outcome->response, "HTTP 202 {\"id\":\"m-1\"}");
    ASSERT_EQ(sms_->sent.size(), 1u);
    EXPECT_EQ(sms_->sent[0].first, "+393331234567");
    EXPECT_THAT(sms_->sent[0].second, HasSubstr("Promemoria da Comune di Bologna"));
    EXPECT_THAT(sms_->sent[0].second, HasSubstr(kLink));
    EXPECT_TRUE(mailer_->sent.empty());
}

TEST_F(NotificationTransportTest, SmsDuringQuietHoursIsDeferredToEightLocal) {
    clock_.Set(*ParseRfc3339("2026-11-23T21:30:00Z"));  // 22:30 in Italy, 22:30 in Norway
    auto italy = transport_.Deliver(Message(Channel::kSms, "+393331234567"));
    ASSERT_TRUE(italy) << italy.error().message;
    EXPECT_FALSE(italy->delivered);
    ASSERT_TRUE(italy->defer_until);
    EXPECT_EQ(FormatRfc3339(*italy->defer_until), "2026-11-24T07:00:00Z");
    EXPECT_THAT(italy->response, HasSubstr("quiet hours"));
    auto uk = transport_.Deliver(Message(Channel::kSms, "+447700900123"));  // 21:30 in London
    ASSERT_TRUE(uk);
    EXPECT_TRUE(uk->delivered);
    ASSERT_EQ(sms_->sent.size(), 1u);
    EXPECT_EQ(sms_->sent[0].first, "+447700900123");
    // E-mail knows no quiet hours.
    auto mail = transport_.Deliver(Message(Channel::kEmail, "mario.rossi@example.org"));
    ASSERT_TRUE(mail);
    EXPECT_TRUE(mail->delivered);
}

TEST_F(NotificationTransportTest, NotConfiguredChannelIsUnavailable) {
    NotificationTransport none(nullptr, nullptr, clock_);
    auto mail = none.Deliver(Message(Channel::kEmail, "mario.rossi@example.org"));
    ASSERT_FALSE(mail);
    EXPECT_EQ(mail.error().code, ErrorCode::kUnavailable);
    EXPECT_THAT(mail.error().message, HasSubstr("e-mail is not configured"));
    auto sms = none.Deliver(Message(Channel::kSms, "+393331234567"));
    ASSERT_FALSE(sms);
    EXPECT_EQ(sms.error().code, ErrorCode::kUnavailable);
    EXPECT_THAT(sms.error().message, HasSubstr("SMS is not configured"));
    // Even in quiet hours: the operator should see the missing configuration at once.
    clock_.Set(*ParseRfc3339("2026-11-23T23:00:00Z"));
    auto night = none.Deliver(Message(Channel::kSms, "+393331234567"));
    ASSERT_FALSE(night);
    EXPECT_EQ(night.error().code, ErrorCode::kUnavailable);

    NotificationTransport sms_only(nullptr, sms_, clock_);
    EXPECT_FALSE(sms_only.Deliver(Message(Channel::kEmail, "mario.rossi@example.org")));
    NotificationTransport mail_only(mailer_, nullptr, clock_);
    EXPECT_TRUE(mail_only.Deliver(Message(Channel::kEmail, "mario.rossi@example.org")));
}

TEST_F(NotificationTransportTest, WebhookIsNotThisTransportsChannel) {
    OutboxMessage m =
        Message(Channel::kWebhook, "https://hooks.example.org/firmo", "signature_request.signed");
    m.payload_json = R"({"event":"signature_request.signed"})";
    auto r = transport_.Deliver(m);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    EXPECT_THAT(r.error().message, HasSubstr("not this transport's channel"));
    EXPECT_TRUE(mailer_->sent.empty());
    EXPECT_TRUE(sms_->sent.empty());
}

TEST_F(NotificationTransportTest, MessagesThatCanNeverBeSentAreInvalidEvenWhenUnconfigured) {
    NotificationTransport none(nullptr, nullptr, clock_);
    OutboxMessage unknown = Message(Channel::kEmail, "mario.rossi@example.org", "welcome");
    OutboxMessage bad_link = Message(Channel::kSms, "+393331234567");
    bad_link.payload_json = json{{"issuer", "x"},
                                 {"title", "y"},
                                 {"link", "javascript:alert(1)"},
                                 {"expires_at", "2026-12-01T18:00:00Z"}}
                                .dump();
    OutboxMessage bad_number = Message(Channel::kSms, "0039 333 1234567");
    for (const auto* m : {&unknown, &bad_link, &bad_number}) {
        for (auto* t : {&transport_, &none}) {
            auto r = t->Deliver(*m);
            ASSERT_FALSE(r) << m->template_name << " " << m->destination;
            EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << r.error().message;
        }
    }
    EXPECT_TRUE(mailer_->sent.empty());
    EXPECT_TRUE(sms_->sent.empty());
}

TEST_F(NotificationTransportTest, SenderFailuresAreReturnedForRetry) {
    mailer_->fail = true;
    sms_->fail = true;
    auto mail = transport_.Deliver(Message(Channel::kEmail, "mario.rossi@example.org"));
    ASSERT_FALSE(mail);
    EXPECT_EQ(mail.error().code, ErrorCode::kUnavailable);
    auto sms = transport_.Deliver(Message(Channel::kSms, "+393331234567"));
    ASSERT_FALSE(sms);
    EXPECT_EQ(sms.error().code, ErrorCode::kUnavailable);
    EXPECT_THAT(sms.error().message, HasSubstr("HTTP 503"));
}

TEST_F(NotificationTransportTest, LogsMaskedDestinationsAndNeverTheText) {
    ::testing::internal::CaptureStderr();
    ASSERT_TRUE(transport_.Deliver(Message(Channel::kEmail, "mario.rossi@example.org")));
    ASSERT_TRUE(transport_.Deliver(Message(Channel::kSms, "+393331234567")));
    clock_.Set(*ParseRfc3339("2026-11-23T23:00:00Z"));
    ASSERT_TRUE(transport_.Deliver(Message(Channel::kSms, "+393331234567")));
    sms_->fail = true;
    clock_.Set(kDay);
    ASSERT_FALSE(transport_.Deliver(Message(Channel::kSms, "+393331234567")));
    const std::string log = ::testing::internal::GetCapturedStderr();
    EXPECT_THAT(log, HasSubstr("event=notification_delivered"));
    EXPECT_THAT(log, HasSubstr("event=notification_deferred"));
    EXPECT_THAT(log, HasSubstr("event=notification_failed"));
    EXPECT_THAT(log, HasSubstr("to=m***@example.org"));
    EXPECT_THAT(log, HasSubstr("to=+***567"));
    EXPECT_THAT(log, HasSubstr("outbox_id=7"));
    EXPECT_THAT(log, HasSubstr("template=sign_request"));
    EXPECT_THAT(log, Not(HasSubstr("mario.rossi")));
    EXPECT_THAT(log, Not(HasSubstr("3331234567")));
    EXPECT_THAT(log, Not(HasSubstr("k7Qm2xW9pL4vR8tN3bY6cJ1d")));
    EXPECT_THAT(log, Not(HasSubstr("Contratto")));
}

// Integration: the real SmtpMailer and aiosmtpd; the real SmsGateway and the HTTP sink.
TEST(NotificationTransportIntegrationTest, EmailReachesARealSmtpServer) {
    ASSERT_TRUE(testing::SinkAvailable()) << "Debian's python3-aiosmtpd is required";
    firmo::testing::TempDir dir("firmo-notify");
    testing::SmtpSink sink(dir.path());
    ASSERT_TRUE(sink.ok()) << "the SMTP sink did not start";
    SystemClock system_clock;
    SystemRandom random;
    SmtpOptions options;
    options.url = "smtp://127.0.0.1:" + std::to_string(sink.port());
    options.starttls = StartTls::kNone;
    options.from = {"noreply@firmo.test", "Firmo"};
    options.timeout = std::chrono::seconds(20);
    auto mailer = SmtpMailer::Create(options, system_clock, random);
    ASSERT_TRUE(mailer) << mailer.error().message;
    NotificationTransport transport(std::shared_ptr<Mailer>(std::move(*mailer)), nullptr,
                                    system_clock);

    OutboxMessage m = Message(Channel::kEmail, "kari.nordmann@example.no", "signed_documents");
    m.language = "nb";
    m.payload_json = json{{"issuer", "Bærum kommune <IT>"},
                          {"title", "Avtale om skoleskyss"},
                          {"link", "https://firmo.example.org/d/abc?x=1&y=2"}}
                         .dump();
    auto outcome = transport.Deliver(m);
    ASSERT_TRUE(outcome) << outcome.error().message;
    EXPECT_TRUE(outcome->delivered);

    auto messages = sink.Messages();
    ASSERT_EQ(messages.size(), 1u);
    const auto& r = messages[0];
    EXPECT_EQ(r["rcpt_tos"], json::array({"kari.nordmann@example.no"}));
    EXPECT_EQ(r["defects"], json::array());
    EXPECT_EQ(r["headers"]["Subject"],
              "De signerte dokumentene dine fra Bærum kommune <IT> er klare");
    EXPECT_EQ(r["content_type"], "multipart/alternative");  // no attachment, ever
    ASSERT_EQ(r["parts"].size(), 2u);
    const std::string text = r["parts"][0]["content"];
    const std::string html = r["parts"][1]["content"];
    EXPECT_EQ(r["parts"][0]["content_type"], "text/plain");
    EXPECT_EQ(r["parts"][1]["content_type"], "text/html");
    EXPECT_THAT(text, HasSubstr("https://firmo.example.org/d/abc?x=1&y=2"));
    EXPECT_THAT(text, HasSubstr("Dokumentene du signerte for Bærum kommune <IT> er klare"));
    EXPECT_THAT(html, HasSubstr("href=\"https://firmo.example.org/d/abc?x=1&amp;y=2\""));
    EXPECT_THAT(html, HasSubstr("Bærum kommune &lt;IT&gt;"));
    EXPECT_THAT(html, Not(HasSubstr("<IT>")));
}

TEST(NotificationTransportIntegrationTest, SmsReachesARealHttpGateway) {
    firmo::testing::TempDir dir("firmo-notify");
    testing::HttpSink sink(dir.path());
    ASSERT_TRUE(sink.ok()) << "the HTTP sink did not start";
    SmsOptions options;
    options.url = sink.Url("/sms");
    options.auth_header = "Authorization: Bearer gw-token";
    options.sender = "Firmo";
    options.body_template = R"({"from":"{{sender}}","to":"{{to}}","message":"{{text}}"})";
    auto gateway = SmsGateway::Create(options);
    ASSERT_TRUE(gateway) << gateway.error().message;
    ManualClock clock(kDay);
    NotificationTransport transport(nullptr, std::shared_ptr<SmsSender>(std::move(*gateway)),
                                    clock);
    auto outcome = transport.Deliver(Message(Channel::kSms, "+4791234567"));
    ASSERT_TRUE(outcome) << outcome.error().message;
    EXPECT_TRUE(outcome->delivered);
    EXPECT_THAT(outcome->response, ::testing::StartsWith("HTTP 200"));
    auto requests = sink.Requests();
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_EQ(requests[0]["headers"]["authorization"], "Bearer gw-token");
    const json body = json::parse(requests[0]["body"].get<std::string>());
    EXPECT_EQ(body["from"], "Firmo");
    EXPECT_EQ(body["to"], "+4791234567");
    EXPECT_THAT(body["message"].get<std::string>(), HasSubstr(kLink));
    EXPECT_THAT(body["message"].get<std::string>(), HasSubstr("Firma entro il 1/12/2026"));

    ASSERT_TRUE(sink.Control({{"status", 500}, {"times", 1}}));
    auto failed = transport.Deliver(Message(Channel::kSms, "+4791234567"));
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error().code, ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace firmo::notify
