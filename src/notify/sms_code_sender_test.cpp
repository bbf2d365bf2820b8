#include "notify/sms_code_sender.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace firmo::notify {
namespace {

using domain::CodeChannel;
using domain::CodeMessage;

struct FakeSms final : SmsSender {
    std::vector<std::pair<std::string, std::string>> sent;
    Result<std::string> Send(std::string_view to, std::string_view text) override {
        sent.emplace_back(std::string(to), std::string(text));
        return std::string("HTTP 202");
    }
};

struct FakeEmail final : domain::CodeSender {
    int calls = 0;
    Result<void> Send(const CodeMessage&) override {
        ++calls;
        return {};
    }
};

CodeMessage Sms(std::string language, std::string title = "Comune di Roma") {
    CodeMessage m;
    m.channel = CodeChannel::kSms;
    m.to = "+393331234567";
    m.code = "042917";
    m.title = std::move(title);
    m.language = std::move(language);
    m.expires_at = FromUnixMillis(10 * 60 * 1000);
    return m;
}

TEST(CodeSms, CodeFirstInEveryLanguage) {
    const Timestamp now = FromUnixMillis(0);
    auto en = BuildCodeSms(Sms("en"), now);
    auto it = BuildCodeSms(Sms("it"), now);
    auto nb = BuildCodeSms(Sms("nb"), now);
    ASSERT_TRUE(en && it && nb);
    EXPECT_EQ(*en, "042917 is your Firmo code for Comune di Roma. Valid 10 min. Never share it.");
    EXPECT_EQ(it->rfind("042917 è il tuo codice Firmo per Comune di Roma", 0), 0u);
    EXPECT_EQ(nb->rfind("042917 er din Firmo-kode", 0), 0u);
    EXPECT_LE(en->size(), 160u);
}

TEST(CodeSms, LongTitlesAreShortenedAndBadCodesRefused) {
    auto text = BuildCodeSms(Sms("en", std::string(200, 'x')), FromUnixMillis(0));
    ASSERT_TRUE(text);
    EXPECT_NE(text->find(std::string(27, 'x') + "..."), std::string::npos);
    EXPECT_LE(text->size(), 160u);
    auto bad = Sms("en");
    bad.code = "12ab56";
    EXPECT_EQ(BuildCodeSms(bad, FromUnixMillis(0)).error().code, ErrorCode::kInvalidArgument);
}

TEST(RoutingCodeSender, EmailToEmailSmsToGatewayOrUnavailable) {
    ManualClock clock(FromUnixMillis(0));
    auto sms = std::make_shared<FakeSms>();
    auto email = std::make_unique<FakeEmail>();
    FakeEmail* email_view = email.get();
    RoutingCodeSender router(std::move(email), sms, clock);
    ASSERT_TRUE(router.Send(Sms("it")));
    ASSERT_EQ(sms->sent.size(), 1u);
    EXPECT_EQ(sms->sent[0].first, "+393331234567");
    auto mail = Sms("en");
    mail.channel = CodeChannel::kEmail;
    mail.to = "anna@example.org";
    ASSERT_TRUE(router.Send(mail));
    EXPECT_EQ(email_view->calls, 1);

    RoutingCodeSender no_gateway(std::make_unique<FakeEmail>(), nullptr, clock);
    EXPECT_EQ(no_gateway.Send(Sms("en")).error().code, ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace firmo::notify
