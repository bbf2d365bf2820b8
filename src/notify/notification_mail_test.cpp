#include "notify/notification_mail.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace firmo::notify {
namespace {

using domain::Channel;
using domain::OutboxMessage;
using ::testing::HasSubstr;
using ::testing::Not;
using json = nlohmann::json;

constexpr std::string_view kLink = "https://firmo.example.org/s/k7Qm2xW9pL4vR8tN3bY6cJ1d";

json Payload() {
    return {{"issuer", "Comune di Bologna"},
            {"title", "Contratto di locazione"},
            {"link", kLink},
            {"expires_at", "2026-12-01T18:30:59+01:00"}};
}

OutboxMessage Message(std::string template_name, std::string language,
                      const json& payload = Payload()) {
    OutboxMessage m;
    m.id = 42;
    m.channel = Channel::kEmail;
    m.destination = "mario.rossi@example.org";
    m.template_name = std::move(template_name);
    m.language = std::move(language);
    m.payload_json = payload.dump();
    return m;
}

const std::vector<std::string> kTemplates = {"sign_request", "reminder", "signed_documents",
                                             "expired", "cancelled"};

struct Expected {
    std::string subject;
    std::string phrase;  // in the text and HTML parts and the SMS
    std::string sms;     // a phrase of the SMS
};

// language -> template -> what it must say.
const std::map<std::string, std::map<std::string, Expected>> kExpected = {
    {"en",
     {{"sign_request",
       {"Documents to sign from Comune di Bologna",
        "Please sign before 1 December 2026, 17:30 (UTC).", "Sign before 1 Dec 2026 17:30 UTC"}},
      {"reminder",
       {"Reminder: documents to sign from Comune di Bologna",
        "The request expires on 1 December 2026, 17:30 (UTC).", "Reminder from Comune di Bologna"}},
      {"signed_documents",
       {"Your signed documents from Comune di Bologna are ready",
        "they are not attached to this e-mail", "Download: "}},
      {"expired",
       {"Signature request from Comune di Bologna expired",
        "expired on 1 December 2026, 17:30 (UTC) without being signed", "expired on 1 Dec 2026"}},
      {"cancelled",
       {"Signature request from Comune di Bologna cancelled",
        "Comune di Bologna has cancelled the request to sign", "No action is needed."}}}},
    {"it",
     {{"sign_request",
       {"Documenti da firmare da Comune di Bologna", "Firma entro il 1 dicembre 2026, 17:30 (UTC).",
        "Firma entro il 1/12/2026 17:30 UTC"}},
      {"reminder",
       {"Promemoria: documenti da firmare da Comune di Bologna",
        "La richiesta scade il 1 dicembre 2026, 17:30 (UTC).", "Promemoria da Comune di Bologna"}},
      {"signed_documents",
       {"I tuoi documenti firmati da Comune di Bologna sono pronti",
        "non sono allegati a questa e-mail", "Scarica: "}},
      {"expired",
       {"Richiesta di firma di Comune di Bologna scaduta",
        "è scaduta il 1 dicembre 2026, 17:30 (UTC) senza essere firmata",
        "è scaduta il 1/12/2026"}},
      {"cancelled",
       {"Richiesta di firma di Comune di Bologna annullata",
        "Comune di Bologna ha annullato la richiesta di firmare", "Non devi fare nulla."}}}},
    {"nb",
     {{"sign_request",
       {"Dokumenter til signering fra Comune di Bologna",
        "Signer innen 1. desember 2026 kl. 17:30 (UTC).", "Signer innen 1.12.2026 17:30 UTC"}},
      {"reminder",
       {"Påminnelse: dokumenter til signering fra Comune di Bologna",
        "Forespørselen utløper 1. desember 2026 kl. 17:30 (UTC).",
        "Påminnelse fra Comune di Bologna"}},
      {"signed_documents",
       {"De signerte dokumentene dine fra Comune di Bologna er klare",
        "de er ikke vedlagt denne e-posten", "Last ned: "}},
      {"expired",
       {"Signeringsforespørselen fra Comune di Bologna er utløpt",
        "utløp 1. desember 2026 kl. 17:30 (UTC) uten å bli signert", "utløp 1.12.2026"}},
      {"cancelled",
       {"Signeringsforespørselen fra Comune di Bologna er trukket tilbake",
        "Comune di Bologna har trukket tilbake forespørselen om å signere",
        "Du trenger ikke gjøre noe."}}}},
};

TEST(NotificationMailTest, EveryLanguageAndTemplateByEmailAndSms) {
    for (const auto& [language, templates] : kExpected) {
        for (const std::string& name : kTemplates) {
            SCOPED_TRACE(language + " " + name);
            const Expected& e = templates.at(name);
            const bool has_link = name != "expired" && name != "cancelled";
            auto mail = BuildNotificationMail(Message(name, language));
            ASSERT_TRUE(mail) << mail.error().message;
            EXPECT_EQ(mail->to, "mario.rossi@example.org");
            EXPECT_EQ(mail->subject, e.subject);
            for (const std::string* part : {&mail->text, &mail->html}) {
                EXPECT_THAT(*part, HasSubstr("Comune di Bologna"));
                EXPECT_THAT(*part, HasSubstr("Contratto di locazione"));
                EXPECT_THAT(*part, HasSubstr(e.phrase));
                if (has_link) {
                    EXPECT_THAT(*part, HasSubstr(kLink));
                } else {
                    EXPECT_THAT(*part, Not(HasSubstr("https://")));
                }
            }
            if (has_link) {
                EXPECT_THAT(mail->text, HasSubstr("\n    " + std::string(kLink) + "\n"));
                EXPECT_THAT(mail->html, HasSubstr("<a href=\"" + std::string(kLink) + "\""));
            }
            EXPECT_THAT(mail->html, HasSubstr("<html lang=\"" + language + "\">"));
            EXPECT_THAT(mail->text, Not(HasSubstr("<")));
            EXPECT_THAT(mail->text + mail->html, Not(HasSubstr("{")));
            EXPECT_TRUE(IsValidUtf8(mail->text) && IsValidUtf8(mail->html));

            OutboxMessage sms_message = Message(name, language);
            sms_message.channel = Channel::kSms;
            sms_message.destination = "+393331234567";
            auto sms = BuildNotificationSms(sms_message);
            ASSERT_TRUE(sms) << sms.error().message;
            EXPECT_THAT(*sms, HasSubstr(e.sms));
            EXPECT_THAT(*sms, HasSubstr("Comune di Bologna"));
            EXPECT_THAT(*sms, HasSubstr("Contratto di locazione"));
            EXPECT_EQ(sms->find(kLink) != std::string::npos, has_link) << *sms;
            EXPECT_EQ(sms->find('\n'), std::string::npos);
            EXPECT_THAT(*sms, Not(HasSubstr("{")));
            const auto septets = GsmSeptets(*sms);
            ASSERT_TRUE(septets) << "not GSM text: " << *sms;
            EXPECT_LE(*septets, kSmsGsmLimit) << *sms;
        }
    }
}

// Issue 16: the institution writes, and the message looks like what it is.
TEST(NotificationMailTest, TheInstitutionWritesWithItsLogoContactAndOneButton) {
    OutboxMessage m = Message("sign_request", "it");
    nlohmann::json payload = nlohmann::json::parse(m.payload_json);
    payload["issuer"] = "Città di Bologna";
    payload["support_email"] = "urp@comune.bologna.it";
    payload["support_url"] = "https://comune.bologna.it/urp";
    payload["logo_url"] = "https://firmo.example.org/issuers/01ABC/logo?v=0123456789abcdef";
    payload["brand_color"] = "#a0b1c2";
    m.payload_json = payload.dump();
    auto mail = BuildNotificationMail(m);
    ASSERT_TRUE(mail) << mail.error().message;
    EXPECT_EQ(mail->from_name, "Città di Bologna");
    // A phone's viewport, one column of at most 600 px, one button, the link also as text.
    EXPECT_THAT(mail->html, HasSubstr("<meta name=\"viewport\" content=\"width=device-width"));
    EXPECT_THAT(mail->html, HasSubstr("max-width:600px"));
    std::size_t anchors = 0;
    for (auto at = mail->html.find("<a "); at != std::string::npos;
         at = mail->html.find("<a ", at + 1)) {
        ++anchors;
    }
    EXPECT_EQ(anchors, 1U);
    EXPECT_THAT(mail->html, HasSubstr(">Apri i documenti</a>"));
    EXPECT_THAT(mail->html, HasSubstr("word-break:break-all\">" + std::string(kLink) + "</span>"));
    EXPECT_THAT(mail->html, HasSubstr("background:#a0b1c2"));
    EXPECT_THAT(mail->html, HasSubstr("<img src=\"https://firmo.example.org/issuers/01ABC/logo"
                                      "?v=0123456789abcdef\" alt=\"\""));
    // Who writes, how to reach them, how to tell the message is genuine: in both parts.
    for (const std::string* part : {&mail->text, &mail->html}) {
        EXPECT_THAT(*part, HasSubstr("Domande? Contatta Città di Bologna: urp@comune.bologna.it"));
        EXPECT_THAT(*part, HasSubstr("Aiuto: https://comune.bologna.it/urp"));
        EXPECT_THAT(*part, HasSubstr("Questo messaggio è autentico?"));
        EXPECT_THAT(*part, HasSubstr("Il pulsante porta a firmo.example.org."));
        EXPECT_THAT(*part, HasSubstr("Firma entro il 1 dicembre 2026, 17:30 (UTC)."));
    }
    // An identity that cannot be used is left out, never an error and never markup.
    payload["logo_url"] = "javascript:alert(1)";
    payload["support_url"] = "\"><script>";
    payload["brand_color"] = "red;background:url(x)";
    payload["support_email"] = "not an address";
    m.payload_json = payload.dump();
    mail = BuildNotificationMail(m);
    ASSERT_TRUE(mail) << mail.error().message;
    EXPECT_THAT(mail->html, Not(HasSubstr("<img")));
    EXPECT_THAT(mail->html, Not(HasSubstr("script")));
    EXPECT_THAT(mail->html, Not(HasSubstr("url(x)")));
    EXPECT_THAT(mail->text + mail->html, Not(HasSubstr("Domande?")));
}

TEST(NotificationMailTest, LanguagesFallBackToEnglish) {
    auto de = BuildNotificationMail(Message("sign_request", "de-DE"));
    ASSERT_TRUE(de);
    EXPECT_EQ(de->subject, "Documents to sign from Comune di Bologna");
    auto no = BuildNotificationMail(Message("reminder", "no"));
    ASSERT_TRUE(no);
    EXPECT_EQ(no->subject, "Påminnelse: dokumenter til signering fra Comune di Bologna");
    auto it = BuildNotificationSms(Message("sign_request", "it-IT"));
    ASSERT_TRUE(it);
    EXPECT_THAT(*it, HasSubstr("Firma entro il"));
}

TEST(NotificationMailTest, TheExpiryIsOnTheSignersClockWhenTheMessageNamesTheirZone) {
    json payload = Payload();  // 2026-12-01 17:30:59 UTC
    payload["zone"] = "Europe/Rome";
    auto it = BuildNotificationMail(Message("sign_request", "it", payload));
    ASSERT_TRUE(it);
    EXPECT_THAT(it->text, HasSubstr("Firma entro il 1 dicembre 2026, 18:30 (Ora Italia)."));
    payload["zone"] = "Europe/Oslo";
    auto nb = BuildNotificationSms(Message("reminder", "nb", payload));
    ASSERT_TRUE(nb);
    EXPECT_THAT(*nb, HasSubstr("innen 1.12.2026 18:30 CET"));
    payload["zone"] = "America/New_York";
    auto en = BuildNotificationMail(Message("expired", "en", payload));
    ASSERT_TRUE(en);
    EXPECT_THAT(en->text, HasSubstr("expired on 1 December 2026, 12:30 (New York Time)"));
    payload["zone"] = "No/Such_Zone";  // stays readable: UTC
    auto unknown = BuildNotificationMail(Message("sign_request", "en", payload));
    ASSERT_TRUE(unknown);
    EXPECT_THAT(unknown->text, HasSubstr("1 December 2026, 17:30 (UTC)"));
}

TEST(NotificationMailTest, NamesAreEscapedInHtmlAndCannotInjectPlaceholdersOrLines) {
    json p = Payload();
    p["issuer"] = "<script>alert('x')</script> & Co {link}";
    p["title"] = "Title\r\nBcc: x@y.z\t\"quoted\"";
    p["link"] = "https://firmo.example.org/s/abc?x=1&y=2";
    auto mail = BuildNotificationMail(Message("sign_request", "en", p));
    ASSERT_TRUE(mail) << mail.error().message;
    EXPECT_THAT(mail->html, Not(HasSubstr("<script>")));
    EXPECT_THAT(mail->html, HasSubstr("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; Co "
                                      "{link} has sent you documents to sign: Title  Bcc: x@y.z "
                                      "&quot;quoted&quot;"));
    EXPECT_THAT(mail->html, HasSubstr("href=\"https://firmo.example.org/s/abc?x=1&amp;y=2\""));
    EXPECT_THAT(mail->text, HasSubstr("<script>alert('x')</script> & Co {link} has sent you"));
    EXPECT_THAT(mail->text, HasSubstr("    https://firmo.example.org/s/abc?x=1&y=2\n"));
    EXPECT_EQ(mail->subject.find_first_of("\r\n\t"), std::string::npos);
    EXPECT_EQ(mail->subject, "Documents to sign from <script>alert('x')</script> & Co {link}");
}

TEST(NotificationMailTest, UnknownTemplateIsInvalid) {
    for (const std::string name : {"", "sign-request", "SIGN_REQUEST", "code", "webhook"}) {
        auto mail = BuildNotificationMail(Message(name, "en"));
        ASSERT_FALSE(mail) << name;
        EXPECT_EQ(mail.error().code, ErrorCode::kInvalidArgument);
        EXPECT_THAT(mail.error().message, HasSubstr("unknown notification template"));
        auto sms = BuildNotificationSms(Message(name, "en"));
        ASSERT_FALSE(sms) << name;
        EXPECT_EQ(sms.error().code, ErrorCode::kInvalidArgument);
    }
}

TEST(NotificationMailTest, MissingOrBadParametersAreInvalid) {
    struct Case {
        std::string template_name;
        std::string remove;  // member to drop
        std::string reason;
    };
    const std::vector<Case> missing = {
        {"sign_request", "issuer", "\"issuer\" is missing"},
        {"sign_request", "title", "\"title\" is missing"},
        {"sign_request", "link", "\"link\" is missing"},
        {"sign_request", "expires_at", "\"expires_at\" is missing"},
        {"reminder", "link", "\"link\" is missing"},
        {"reminder", "expires_at", "\"expires_at\" is missing"},
        {"signed_documents", "link", "\"link\" is missing"},
        {"expired", "expires_at", "\"expires_at\" is missing"},
        {"expired", "issuer", "\"issuer\" is missing"},
    };
    for (const auto& c : missing) {
        json p = Payload();
        p.erase(c.remove);
        for (bool sms : {false, true}) {
            SCOPED_TRACE(c.template_name + " without " + c.remove + (sms ? " (SMS)" : ""));
            auto m = Message(c.template_name, "en", p);
            auto r = sms ? BuildNotificationSms(m).map([](auto&&) { return 0; })
                         : BuildNotificationMail(m).map([](auto&&) { return 0; });
            ASSERT_FALSE(r);
            EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
            EXPECT_THAT(r.error().message, HasSubstr(c.reason));
        }
    }
    // Not needed by these templates: fine without.
    json no_expiry = Payload();
    no_expiry.erase("expires_at");
    EXPECT_TRUE(BuildNotificationMail(Message("signed_documents", "en", no_expiry)));
    json no_link = Payload();
    no_link.erase("link");
    EXPECT_TRUE(BuildNotificationMail(Message("expired", "en", no_link)));

    auto with = [](const char* member, json value) {
        json p = Payload();
        p[member] = std::move(value);
        return BuildNotificationMail(Message("sign_request", "en", p));
    };
    for (const auto& [member, value] :
         std::vector<std::pair<const char*, json>>{{"issuer", ""},
                                                   {"issuer", "  \n "},
                                                   {"title", 42},
                                                   {"title", nullptr},
                                                   {"expires_at", "tomorrow"},
                                                   {"expires_at", "2026-12-01"}}) {
        auto r = with(member, value);
        ASSERT_FALSE(r) << member << " " << value.dump();
        EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    }
    const std::string not_utf8 = std::string(R"({"issuer":")") + "\xff\xfe" +
                                 R"(","title":"t","link":"https://x.test/s",)"
                                 R"("expires_at":"2026-12-01T18:00:00Z"})";
    for (const std::string& payload :
         std::vector<std::string>{"", "[]", "\"x\"", "{\"issuer\":", "null", not_utf8}) {
        OutboxMessage m = Message("sign_request", "en");
        m.payload_json = payload;
        auto r = BuildNotificationMail(m);
        ASSERT_FALSE(r) << payload;
        EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    }
}

TEST(NotificationMailTest, OnlyHttpLinksAreAcceptedAndNeverEchoedInErrors) {
    for (const std::string& link : std::vector<std::string>{
             "javascript:alert(1)", "ftp://firmo.example.org/s/x", "firmo.example.org/s/x",
             "https://", "https:///s/x", "https://firmo.example.org/s/x y", "https://x/\"><b>",
             "https://firmo.example.org/s/\r\nx", "data:text/html,x", "//firmo.example.org/s",
             "https://firmo.example.org/s/è", "https://" + std::string(3000, 'a')}) {
        json p = Payload();
        p["link"] = link;
        auto mail = BuildNotificationMail(Message("sign_request", "en", p));
        ASSERT_FALSE(mail) << link;
        EXPECT_EQ(mail.error().code, ErrorCode::kInvalidArgument);
        EXPECT_THAT(mail.error().message, HasSubstr("http(s)"));
        EXPECT_THAT(mail.error().message, Not(HasSubstr(link)));
        auto sms = BuildNotificationSms(Message("signed_documents", "en", p));
        ASSERT_FALSE(sms) << link;
        EXPECT_EQ(sms.error().code, ErrorCode::kInvalidArgument);
    }
    for (const std::string link : {"http://localhost:8080/s/x", "HTTPS://Firmo.Example.org/s/x",
                                   "https://firmo.example.org/s/x?a=1&b=%C3%A8#frag"}) {
        json p = Payload();
        p["link"] = link;
        auto mail = BuildNotificationMail(Message("sign_request", "en", p));
        ASSERT_TRUE(mail) << link;
        EXPECT_THAT(mail->text, HasSubstr(link));
    }
}

TEST(NotificationMailTest, LongTitlesAreShortenedToFitOneSms) {
    json p = Payload();
    p["title"] =
        "Contratto di locazione ad uso abitativo per l'immobile sito in Via dell'Indipendenza "
        "12, Bologna, con allegati A, B e C";
    p["issuer"] = "Comune di Bologna - Settore Patrimonio";
    for (const std::string language : {"en", "it", "nb"}) {
        for (const std::string& name : kTemplates) {
            SCOPED_TRACE(language + " " + name);
            auto sms = BuildNotificationSms(Message(name, language, p));
            ASSERT_TRUE(sms);
            const auto septets = GsmSeptets(*sms);
            ASSERT_TRUE(septets);
            EXPECT_LE(*septets, kSmsGsmLimit) << *sms;
            EXPECT_THAT(*sms, HasSubstr("Contratto"));
            EXPECT_THAT(*sms, HasSubstr("..."));
            if (name != "expired" && name != "cancelled") {
                EXPECT_THAT(*sms, HasSubstr(kLink));
            }
        }
    }
    // Also the issuer's name, when the title alone is not enough; never the link.
    p["issuer"] = std::string(150, 'B');
    auto sms = BuildNotificationSms(Message("sign_request", "en", p));
    ASSERT_TRUE(sms);
    EXPECT_LE(GsmSeptets(*sms).value_or(999), kSmsGsmLimit) << *sms;
    EXPECT_THAT(*sms, HasSubstr("BBBBBBBBBB..."));
    EXPECT_THAT(*sms, HasSubstr(kLink));
    // A link too long for one SMS is sent whole anyway.
    p["link"] = "https://firmo.example.org/s/" + std::string(150, 'k');
    auto long_link = BuildNotificationSms(Message("sign_request", "en", p));
    ASSERT_TRUE(long_link);
    EXPECT_THAT(*long_link, HasSubstr(p["link"].get<std::string>()));
}

TEST(NotificationMailTest, NonGsmTextIsHeldToTwoUcs2Segments) {
    json p = Payload();
    p["title"] =
        "Договор аренды квартиры на улице Независимости, дом двенадцать, со всеми "
        "приложениями";
    auto sms = BuildNotificationSms(Message("sign_request", "en", p));
    ASSERT_TRUE(sms);
    EXPECT_FALSE(GsmSeptets(*sms));
    std::size_t units = 0;
    for (char c : *sms) units += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;  // BMP
    EXPECT_LE(units, kSmsUcs2Limit) << *sms;
    EXPECT_THAT(*sms, HasSubstr("Договор"));
    EXPECT_THAT(*sms, HasSubstr(kLink));
}

TEST(NotificationMailTest, GsmSeptets) {
    EXPECT_EQ(GsmSeptets(""), 0u);
    EXPECT_EQ(GsmSeptets("Hello @ $_!"), 11u);
    EXPECT_EQ(GsmSeptets("æøå ÆØÅ èéùìòà"), 14u);
    EXPECT_EQ(GsmSeptets("{}[]~^|\\€"), 18u);
    EXPECT_EQ(GsmSeptets("È"), std::nullopt);  // only the small è is GSM
    EXPECT_EQ(GsmSeptets("`"), std::nullopt);
    EXPECT_EQ(GsmSeptets("ł"), std::nullopt);
    EXPECT_EQ(GsmSeptets("😀"), std::nullopt);
    EXPECT_EQ(GsmSeptets("\xff"), std::nullopt);
}

}  // namespace
}  // namespace firmo::notify
