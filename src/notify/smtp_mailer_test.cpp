// Integration tests: SmtpMailer against a real SMTP server (aiosmtpd) on loopback, with the
// received messages parsed by Python's e-mail package rather than by our own code.
#include "notify/smtp_mailer.hpp"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <set>
#include <thread>

#include "core/testing/temp_dir.hpp"
#include "notify/mail_code_sender.hpp"
#include "notify/testing/silent_server.hpp"
#include "notify/testing/smtp_sink.hpp"

namespace firmo::notify {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::SmtpSink;
using ::testing::StartsWith;

std::string Url(std::string_view scheme, int port) {
    return std::string(scheme) + "://127.0.0.1:" + std::to_string(port);
}

using testing::SilentServer;

class SmtpMailerTest : public ::testing::Test {
  protected:
    void SetUp() override {
        if (!testing::SinkAvailable()) {
            FAIL() << "Debian's python3-aiosmtpd is not installed (scripts/install-deps.sh)";
        }
    }

    // A sink with its own maildir; `args` as for sink.py.
    std::unique_ptr<SmtpSink> StartSink(std::vector<std::string> args = {}) {
        auto dir = dir_.path() / ("sink" + std::to_string(++sinks_));
        std::filesystem::create_directories(dir);
        auto sink = std::make_unique<SmtpSink>(dir, std::move(args));
        EXPECT_TRUE(sink->ok()) << "the SMTP sink did not start";
        return sink;
    }

    // A self-signed certificate for 127.0.0.1; false when openssl is missing.
    bool MakeCertificate() {
        const std::string command =
            "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 "
            "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout " +
            key().string() + " -out " + cert().string() + " >/dev/null 2>&1";
        return std::system(command.c_str()) == 0;
    }
    std::filesystem::path cert() const { return dir_.path() / "cert.pem"; }
    std::filesystem::path key() const { return dir_.path() / "key.pem"; }

    SmtpOptions Options(std::string url) const {
        SmtpOptions o;
        o.url = std::move(url);
        o.starttls = StartTls::kNone;
        o.from = {"noreply@firmo.test", "Firmo Bærum"};
        o.timeout = std::chrono::seconds(20);
        return o;
    }

    std::unique_ptr<SmtpMailer> Mailer(SmtpOptions options) {
        auto mailer = SmtpMailer::Create(std::move(options), clock_, random_);
        EXPECT_TRUE(mailer) << mailer.error().message;
        return mailer ? std::move(*mailer) : nullptr;
    }

    static Mail SampleMail() {
        return {"mario.rossi@example.org", "Codice di prova — àèìòù",
                "Riga uno\nIl codice è 042917.\n.riga con punto\n",
                "<p>Il codice è <b>042917</b>.</p>"};
    }

    firmo::testing::TempDir dir_{"firmo-smtp"};
    int sinks_ = 0;
    SystemClock clock_;
    SystemRandom random_;
};

TEST_F(SmtpMailerTest, DeliversAMultipartMessageThatAnIndependentParserReads) {
    auto sink = StartSink();
    ASSERT_TRUE(sink->ok());
    auto mailer = Mailer(Options(Url("smtp", sink->port())));
    ASSERT_TRUE(mailer);
    auto sent = mailer->Send(SampleMail());
    ASSERT_TRUE(sent) << sent.error().message;

    auto messages = sink->Messages();
    ASSERT_EQ(messages.size(), 1u);
    const auto& m = messages[0];
    EXPECT_EQ(m["mail_from"], "noreply@firmo.test");
    EXPECT_EQ(m["rcpt_tos"], nlohmann::json::array({"mario.rossi@example.org"}));
    EXPECT_EQ(m["tls"], false);
    EXPECT_EQ(m["defects"], nlohmann::json::array()) << m["raw"];
    EXPECT_EQ(m["content_type"], "multipart/alternative");
    const auto& h = m["headers"];
    EXPECT_EQ(h["Subject"], "Codice di prova — àèìòù");
    EXPECT_EQ(h["From"], "Firmo Bærum <noreply@firmo.test>");
    EXPECT_EQ(h["To"], "mario.rossi@example.org");
    EXPECT_EQ(h["MIME-Version"], "1.0");
    EXPECT_THAT(h["Message-ID"].get<std::string>(), HasSubstr("@firmo.test>"));
    EXPECT_THAT(h["Date"].get<std::string>(), HasSubstr("+0000"));

    ASSERT_EQ(m["parts"].size(), 2u);
    const auto& text = m["parts"][0];
    const auto& html = m["parts"][1];
    EXPECT_EQ(text["content_type"], "text/plain");
    EXPECT_EQ(text["charset"], "utf-8");
    EXPECT_EQ(text["transfer_encoding"], "quoted-printable");
    EXPECT_EQ(text["content"], "Riga uno\r\nIl codice è 042917.\r\n.riga con punto\r\n");
    EXPECT_EQ(html["content_type"], "text/html");
    EXPECT_EQ(html["charset"], "utf-8");
    EXPECT_THAT(html["content"].get<std::string>(),
                StartsWith("<p>Il codice è <b>042917</b>.</p>"));
}

TEST_F(SmtpMailerTest, MailCodeSenderDeliversTheCode) {
    auto sink = StartSink();
    ASSERT_TRUE(sink->ok());
    MailCodeSender sender(Mailer(Options(Url("smtp", sink->port()))), clock_);
    domain::CodeMessage message;
    message.to = "kari.nordmann@example.no";
    message.code = "604128";
    message.purpose = domain::CodePurpose::kConfirm;
    message.title = "Bærum kommune";
    message.language = "nb";
    message.expires_at = clock_.Now() + std::chrono::minutes(10);
    auto sent = sender.Send(message);
    ASSERT_TRUE(sent) << sent.error().message;

    auto messages = sink->Messages();
    ASSERT_EQ(messages.size(), 1u);
    const auto& m = messages[0];
    EXPECT_EQ(m["rcpt_tos"], nlohmann::json::array({"kari.nordmann@example.no"}));
    EXPECT_EQ(m["headers"]["Subject"], "Din Firmo-kode for å bekrefte signeringen");
    EXPECT_EQ(m["defects"], nlohmann::json::array());
    ASSERT_EQ(m["parts"].size(), 2u);
    for (const auto& part : m["parts"]) {
        const std::string content = part["content"];
        EXPECT_THAT(content, HasSubstr("604128"));
        EXPECT_THAT(content, HasSubstr("Bærum kommune"));
        EXPECT_THAT(content, HasSubstr("Del aldri denne koden"));
        EXPECT_THAT(content, HasSubstr("Koden utløper om 10 minutter"));
    }
    EXPECT_EQ(m["parts"][1]["content_type"], "text/html");
}

TEST_F(SmtpMailerTest, SendsFromManyThreadsAtOnce) {
    auto sink = StartSink();
    ASSERT_TRUE(sink->ok());
    std::shared_ptr<SmtpMailer> mailer = Mailer(Options(Url("smtp", sink->port())));
    constexpr int kThreads = 4;
    std::vector<std::thread> threads;
    std::vector<bool> ok(kThreads, false);
    for (int i = 0; i < kThreads; ++i) {
        threads.emplace_back([&, i] {
            Mail mail = SampleMail();
            mail.to = "user" + std::to_string(i) + "@example.org";
            ok[static_cast<std::size_t>(i)] = mailer->Send(mail).has_value();
        });
    }
    for (auto& t : threads) t.join();
    for (int i = 0; i < kThreads; ++i) EXPECT_TRUE(ok[static_cast<std::size_t>(i)]) << i;
    std::set<std::string> recipients;
    for (const auto& m : sink->Messages()) recipients.insert(m["rcpt_tos"][0].get<std::string>());
    EXPECT_EQ(recipients, (std::set<std::string>{"user0@example.org", "user1@example.org",
                                                 "user2@example.org", "user3@example.org"}));
}

TEST_F(SmtpMailerTest, AuthenticatesWithUsernameAndPassword) {
    auto sink = StartSink({"--user", "firmo", "--password", "s3cret"});
    ASSERT_TRUE(sink->ok());
    SmtpOptions options = Options(Url("smtp", sink->port()));
    options.username = "firmo";
    options.password = "wrong";
    auto refused = Mailer(options)->Send(SampleMail());
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, ErrorCode::kUnavailable);
    EXPECT_THAT(refused.error().message, HasSubstr("Login denied"));
    EXPECT_THAT(refused.error().message, Not(HasSubstr("wrong")));
    EXPECT_TRUE(sink->Messages().empty());

    options.password = "s3cret";
    auto sent = Mailer(options)->Send(SampleMail());
    ASSERT_TRUE(sent) << sent.error().message;
    auto messages = sink->Messages();
    ASSERT_EQ(messages.size(), 1u);
    EXPECT_EQ(messages[0]["auth_login"], "firmo");

    // Without credentials the server (auth required) refuses the message.
    auto anonymous = Mailer(Options(Url("smtp", sink->port())))->Send(SampleMail());
    ASSERT_FALSE(anonymous);
    EXPECT_EQ(anonymous.error().code, ErrorCode::kUnavailable);
}

TEST_F(SmtpMailerTest, StartTlsRequiredVerifiesTheServer) {
    if (!MakeCertificate()) FAIL() << "openssl is not installed";
    auto sink = StartSink({"--cert", cert().string(), "--key", key().string()});
    ASSERT_TRUE(sink->ok());
    SmtpOptions options = Options(Url("smtp", sink->port()));
    options.starttls = StartTls::kRequired;

    // Self-signed and not in the system store: refused while verifying.
    auto untrusted = Mailer(options)->Send(SampleMail());
    ASSERT_FALSE(untrusted);
    EXPECT_EQ(untrusted.error().code, ErrorCode::kUnavailable);
    EXPECT_TRUE(sink->Messages().empty());

    options.ca_file = cert().string();
    auto trusted = Mailer(options)->Send(SampleMail());
    ASSERT_TRUE(trusted) << trusted.error().message;

    options.ca_file.clear();
    options.verify_peer = false;
    auto unverified = Mailer(options)->Send(SampleMail());
    ASSERT_TRUE(unverified) << unverified.error().message;

    auto messages = sink->Messages();
    ASSERT_EQ(messages.size(), 2u);
    EXPECT_EQ(messages[0]["tls"], true);
    EXPECT_EQ(messages[1]["tls"], true);
}

TEST_F(SmtpMailerTest, StartTlsRequiredFailsWhenTheServerCannotUpgrade) {
    auto sink = StartSink();
    ASSERT_TRUE(sink->ok());
    SmtpOptions options = Options(Url("smtp", sink->port()));
    options.starttls = StartTls::kRequired;
    auto refused = Mailer(options)->Send(SampleMail());
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, ErrorCode::kUnavailable);
    EXPECT_TRUE(sink->Messages().empty());

    options.starttls = StartTls::kOpportunistic;
    auto sent = Mailer(options)->Send(SampleMail());
    ASSERT_TRUE(sent) << sent.error().message;
    auto messages = sink->Messages();
    ASSERT_EQ(messages.size(), 1u);
    EXPECT_EQ(messages[0]["tls"], false);
}

TEST_F(SmtpMailerTest, OpportunisticStartTlsUpgradesWhenOffered) {
    if (!MakeCertificate()) FAIL() << "openssl is not installed";
    auto sink = StartSink({"--cert", cert().string(), "--key", key().string()});
    ASSERT_TRUE(sink->ok());
    SmtpOptions options = Options(Url("smtp", sink->port()));
    options.starttls = StartTls::kOpportunistic;
    options.ca_file = cert().string();
    auto sent = Mailer(options)->Send(SampleMail());
    ASSERT_TRUE(sent) << sent.error().message;
    auto messages = sink->Messages();
    ASSERT_EQ(messages.size(), 1u);
    EXPECT_EQ(messages[0]["tls"], true);
}

TEST_F(SmtpMailerTest, ImplicitTlsWithSmtps) {
    if (!MakeCertificate()) FAIL() << "openssl is not installed";
    auto sink =
        StartSink({"--cert", cert().string(), "--key", key().string(), "--tls", "implicit"});
    ASSERT_TRUE(sink->ok());
    SmtpOptions options = Options(Url("smtps", sink->port()));
    options.ca_file = cert().string();
    auto sent = Mailer(options)->Send(SampleMail());
    ASSERT_TRUE(sent) << sent.error().message;
    auto messages = sink->Messages();
    ASSERT_EQ(messages.size(), 1u);
    EXPECT_EQ(messages[0]["tls"], true);
    EXPECT_EQ(messages[0]["parts"].size(), 2u);
}

// No aiosmtpd needed below.
TEST(SmtpMailerFailureTest, UnreachableServerIsUnavailable) {
    int port;
    {
        SilentServer closed;  // a port known to be free once this closes
        port = closed.port();
        ASSERT_GT(port, 0);
    }
    SystemClock clock;
    SystemRandom random;
    SmtpOptions options;
    options.url = Url("smtp", port);
    options.from = {"noreply@firmo.test", ""};
    options.timeout = std::chrono::seconds(5);
    auto mailer = SmtpMailer::Create(options, clock, random);
    ASSERT_TRUE(mailer);
    const auto start = std::chrono::steady_clock::now();
    auto sent = (*mailer)->Send({"a@example.org", "s", "t", ""});
    ASSERT_FALSE(sent);
    EXPECT_EQ(sent.error().code, ErrorCode::kUnavailable);
    EXPECT_THAT(sent.error().message, HasSubstr("SMTP server smtp://127.0.0.1:"));
    // Refused at once, not after the timeout.
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(4));
}

TEST(SmtpMailerFailureTest, SilentServerTimesOut) {
    SilentServer silent;
    ASSERT_GT(silent.port(), 0);
    SystemClock clock;
    SystemRandom random;
    SmtpOptions options;
    options.url = Url("smtp", silent.port());
    options.from = {"noreply@firmo.test", ""};
    options.timeout = std::chrono::milliseconds(300);
    auto mailer = SmtpMailer::Create(options, clock, random);
    ASSERT_TRUE(mailer);
    const auto start = std::chrono::steady_clock::now();
    auto sent = (*mailer)->Send({"a@example.org", "s", "t", ""});
    ASSERT_FALSE(sent);
    EXPECT_EQ(sent.error().code, ErrorCode::kUnavailable);
    EXPECT_THAT(sent.error().message, HasSubstr("imeout"));
    // Bounded by the configured timeout (generously: this checks that one applies at all).
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST(SmtpMailerFailureTest, CreateRefusesBadOptions) {
    SystemClock clock;
    SystemRandom random;
    auto with = [&](auto change) {
        SmtpOptions o;
        o.url = "smtp://mail.example.org:587";
        o.from = {"noreply@firmo.test", "Firmo"};
        change(o);
        return SmtpMailer::Create(o, clock, random);
    };
    EXPECT_TRUE(with([](SmtpOptions&) {}));
    EXPECT_TRUE(with([](SmtpOptions& o) { o.url = "SMTPS://mail.example.org"; }));
    for (const std::string url : {"", "http://mail.example.org", "smtp://", "mail.example.org:25",
                                  "smtp://user:pw@mail.example.org", "smtp://a b"}) {
        auto r = with([&](SmtpOptions& o) { o.url = url; });
        ASSERT_FALSE(r) << url;
        EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    }
    EXPECT_FALSE(with([](SmtpOptions& o) { o.from.address = "not an address"; }));
    EXPECT_FALSE(with([](SmtpOptions& o) { o.from.display_name = "Firmo\r\nBcc: x@y.z"; }));
    EXPECT_FALSE(with([](SmtpOptions& o) { o.timeout = std::chrono::milliseconds(0); }));
}

TEST(SmtpMailerFailureTest, HeaderInjectionIsRefusedBeforeConnecting) {
    SilentServer silent;  // would time out if Send tried to connect
    SystemClock clock;
    SystemRandom random;
    SmtpOptions options;
    options.url = Url("smtp", silent.port());
    options.from = {"noreply@firmo.test", ""};
    options.timeout = std::chrono::seconds(30);
    auto mailer = SmtpMailer::Create(options, clock, random);
    ASSERT_TRUE(mailer);
    auto to = (*mailer)->Send({"a@example.org\r\nRCPT TO:<b@example.org>", "s", "t", ""});
    ASSERT_FALSE(to);
    EXPECT_EQ(to.error().code, ErrorCode::kInvalidArgument);
    auto subject = (*mailer)->Send({"a@example.org", "s\r\nBcc: b@example.org", "t", ""});
    ASSERT_FALSE(subject);
    EXPECT_EQ(subject.error().code, ErrorCode::kInvalidArgument);
}

TEST(SmtpMailerFailureTest, ParseStartTls) {
    EXPECT_EQ(ParseStartTls("none"), StartTls::kNone);
    EXPECT_EQ(ParseStartTls("opportunistic"), StartTls::kOpportunistic);
    EXPECT_EQ(ParseStartTls("required"), StartTls::kRequired);
    EXPECT_EQ(ParseStartTls("yes"), std::nullopt);
}

}  // namespace
}  // namespace firmo::notify
