#include "notify/code_mail.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <iostream>
#include <mutex>
#include <sstream>

#include "notify/mail_code_sender.hpp"

namespace firmo::notify {
namespace {

using domain::CodeChannel;
using domain::CodeMessage;
using domain::CodePurpose;
using ::testing::HasSubstr;
using ::testing::Not;

const Timestamp kNow = FromUnixMillis(1795428930000);  // 2026-11-23T10:15:30Z

CodeMessage Message(std::string language, CodePurpose purpose = CodePurpose::kLogin) {
    CodeMessage m;
    m.channel = CodeChannel::kEmail;
    m.to = "mario.rossi@example.org";
    m.code = "042917";
    m.purpose = purpose;
    m.title = "Comune di Bologna";
    m.language = std::move(language);
    m.expires_at = kNow + std::chrono::minutes(10);  // 10:25:30
    return m;
}

struct Expected {
    std::string language;
    std::string login_subject;
    std::string confirm_subject;
    std::string expiry;
    std::string never_share;
};

TEST(CodeMailTest, TheExpiryIsOnTheSignersClockWhenTheMessageNamesTheirZone) {
    CodeMessage m = Message("it", CodePurpose::kConfirm);
    m.zone = "Europe/Rome";
    auto mail = BuildCodeMail(m, kNow);
    ASSERT_TRUE(mail);
    EXPECT_THAT(mail->text, HasSubstr("Il codice scade tra 10 minuti, alle 11:25 (Ora Italia)."));
}

TEST(CodeMailTest, EveryLanguageAndPurposeNamesTitleCodeExpiryAndWarning) {
    const std::vector<Expected> expected = {
        {"en", "Your Firmo code", "Your Firmo code to confirm your signature",
         "The code expires in 10 minutes, at 10:25 (UTC).", "Never share this code"},
        {"it", "Il tuo codice Firmo", "Il tuo codice Firmo per confermare la firma",
         "Il codice scade tra 10 minuti, alle 10:25 (UTC).", "Non condividere mai questo codice"},
        {"nb", "Din Firmo-kode", "Din Firmo-kode for å bekrefte signeringen",
         "Koden utløper om 10 minutter, kl. 10:25 (UTC).", "Del aldri denne koden"},
    };
    for (const auto& e : expected) {
        SCOPED_TRACE(e.language);
        auto login = BuildCodeMail(Message(e.language, CodePurpose::kLogin), kNow);
        auto confirm = BuildCodeMail(Message(e.language, CodePurpose::kConfirm), kNow);
        ASSERT_TRUE(login && confirm);
        EXPECT_EQ(login->subject, e.login_subject);
        EXPECT_EQ(confirm->subject, e.confirm_subject);
        EXPECT_NE(login->text, confirm->text);
        for (const Mail* mail : {&*login, &*confirm}) {
            EXPECT_EQ(mail->to, "mario.rossi@example.org");
            for (const std::string* part : {&mail->text, &mail->html}) {
                EXPECT_THAT(*part, HasSubstr("Comune di Bologna"));
                EXPECT_THAT(*part, HasSubstr("042917"));
                EXPECT_THAT(*part, HasSubstr(e.expiry));
                EXPECT_THAT(*part, HasSubstr(e.never_share));
            }
            EXPECT_THAT(mail->html, HasSubstr("<html lang=\"" + e.language + "\">"));
            EXPECT_THAT(mail->text, Not(HasSubstr("<")));
            EXPECT_TRUE(IsValidUtf8(mail->text) && IsValidUtf8(mail->html));
        }
    }
}

TEST(CodeMailTest, LanguageTagsFallBackToEnglish) {
    EXPECT_EQ(CodeLanguage("it"), "it");
    EXPECT_EQ(CodeLanguage("it-IT"), "it");
    EXPECT_EQ(CodeLanguage("IT"), "it");
    EXPECT_EQ(CodeLanguage("nb"), "nb");
    EXPECT_EQ(CodeLanguage("nb_NO"), "nb");
    EXPECT_EQ(CodeLanguage("no"), "nb");
    EXPECT_EQ(CodeLanguage("en"), "en");
    EXPECT_EQ(CodeLanguage(""), "en");
    EXPECT_EQ(CodeLanguage("de"), "en");
    EXPECT_EQ(CodeLanguage("italian"), "en");
    auto mail = BuildCodeMail(Message("fr"), kNow);
    ASSERT_TRUE(mail);
    EXPECT_EQ(mail->subject, "Your Firmo code");
}

TEST(CodeMailTest, TitleIsEscapedInHtmlAndCannotInjectPlaceholdersOrLines) {
    CodeMessage m = Message("en");
    m.title = "<script>alert('x')</script> & {time}\r\nBcc: x";
    auto mail = BuildCodeMail(m, kNow);
    ASSERT_TRUE(mail);
    EXPECT_THAT(mail->html, Not(HasSubstr("<script>")));
    EXPECT_THAT(mail->html,
                HasSubstr("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; {time}  Bcc: x"));
    EXPECT_THAT(mail->text, HasSubstr("<script>alert('x')</script> & {time}  Bcc: x has sent"));
    EXPECT_EQ(mail->subject.find_first_of("\r\n"), std::string::npos);
}

TEST(CodeMailTest, MissingTitleUsesAGenericWord) {
    CodeMessage m = Message("it");
    m.title = "  ";
    auto mail = BuildCodeMail(m, kNow);
    ASSERT_TRUE(mail);
    EXPECT_THAT(mail->text, HasSubstr("che il mittente ti ha inviato"));
}

TEST(CodeMailTest, MinutesAreRoundedUpWithSingular) {
    CodeMessage m = Message("en");
    m.expires_at = kNow + std::chrono::seconds(30);
    auto one = BuildCodeMail(m, kNow);
    ASSERT_TRUE(one);
    EXPECT_THAT(one->text, HasSubstr("expires in 1 minute, at 10:16 (UTC)."));
    m.expires_at = kNow + std::chrono::seconds(4 * 60 + 1);
    auto five = BuildCodeMail(m, kNow);
    ASSERT_TRUE(five);
    EXPECT_THAT(five->text, HasSubstr("expires in 5 minutes, at 10:19 (UTC)."));
    m.language = "nb";
    m.expires_at = kNow - std::chrono::minutes(1);  // already past: still a sane sentence
    auto past = BuildCodeMail(m, kNow);
    ASSERT_TRUE(past);
    EXPECT_THAT(past->text, HasSubstr("om 1 minutt, kl. 10:14 (UTC)."));
}

TEST(CodeMailTest, CodeMustBeDigits) {
    for (const std::string bad : {"", "123", "12345a", "1234567890123", "12 34 56", "<b>1</b>"}) {
        CodeMessage m = Message("en");
        m.code = bad;
        auto mail = BuildCodeMail(m, kNow);
        ASSERT_FALSE(mail) << bad;
        EXPECT_EQ(mail.error().code, ErrorCode::kInvalidArgument);
    }
}

class RecordingMailer final : public Mailer {
  public:
    Result<void> Send(const Mail& mail) override {
        sent.push_back(mail);
        if (fail) return Fail(ErrorCode::kUnavailable, "down");
        return {};
    }
    std::vector<Mail> sent;
    bool fail = false;
};

TEST(MailCodeSenderTest, EmailGoesThroughTheMailer) {
    auto mailer = std::make_shared<RecordingMailer>();
    ManualClock clock(kNow);
    MailCodeSender sender(mailer, clock);
    ASSERT_TRUE(sender.Send(Message("it", CodePurpose::kConfirm)));
    ASSERT_EQ(mailer->sent.size(), 1u);
    EXPECT_EQ(mailer->sent[0].to, "mario.rossi@example.org");
    EXPECT_EQ(mailer->sent[0].subject, "Il tuo codice Firmo per confermare la firma");
    // The clock drives "expires in N minutes".
    clock.Advance(std::chrono::minutes(7));
    ASSERT_TRUE(sender.Send(Message("en")));
    EXPECT_THAT(mailer->sent[1].text, HasSubstr("expires in 3 minutes"));

    mailer->fail = true;
    auto down = sender.Send(Message("en"));
    ASSERT_FALSE(down);
    EXPECT_EQ(down.error().code, ErrorCode::kUnavailable);
}

TEST(MailCodeSenderTest, SmsIsUnavailableAndBadCodesAreRefusedBeforeSending) {
    auto mailer = std::make_shared<RecordingMailer>();
    ManualClock clock(kNow);
    MailCodeSender sender(mailer, clock);
    CodeMessage sms = Message("en");
    sms.channel = CodeChannel::kSms;
    sms.to = "+393331234567";
    auto r = sender.Send(sms);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
    EXPECT_EQ(r.error().message, "no SMS gateway configured");
    CodeMessage bad = Message("en");
    bad.code = "12ab56";
    EXPECT_FALSE(sender.Send(bad));
    EXPECT_TRUE(mailer->sent.empty());
}

TEST(LogCodeSenderTest, LogsMaskedRecipientAndCode) {
    ::testing::internal::CaptureStderr();
    LogCodeSender sender;
    ASSERT_TRUE(sender.Send(Message("en", CodePurpose::kConfirm)));
    const std::string line = ::testing::internal::GetCapturedStderr();
    EXPECT_THAT(line, HasSubstr("event=code_not_sent_dev_mode"));
    EXPECT_THAT(line, HasSubstr("to=m***@example.org"));
    EXPECT_THAT(line, HasSubstr("code=042917"));
    EXPECT_THAT(line, HasSubstr("purpose=confirm"));
    EXPECT_THAT(line, Not(HasSubstr("mario.rossi")));
}

}  // namespace
}  // namespace firmo::notify
