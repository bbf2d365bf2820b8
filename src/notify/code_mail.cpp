#include "notify/code_mail.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <functional>

#include "core/encoding.hpp"

namespace firmo::notify {
namespace {

// Placeholders: {title} (HTML-escaped in the HTML part), {minutes}, {time}.
struct CodeTexts {
    std::string_view language;
    std::string_view subject_login;
    std::string_view subject_confirm;
    std::string_view intro_login;
    std::string_view intro_confirm;
    std::string_view expiry;
    std::string_view minute_one;
    std::string_view minute_many;
    std::string_view never_share;
    std::string_view not_expected;
    std::string_view no_title;  // stands in for {title} when the message has none
};

constexpr std::array<CodeTexts, 3> kTexts = {{
    {
        "en",
        "Your Firmo code",
        "Your Firmo code to confirm your signature",
        "Use this code to open the documents {title} has sent you for signature:",
        "Use this code to confirm that you sign the documents from {title}:",
        "The code expires in {minutes}, at {time} UTC.",
        "minute",
        "minutes",
        "Never share this code with anyone. {title} and Firmo will never ask you for it.",
        "If you did not expect this message, you can ignore it.",
        "the sender",
    },
    {
        "it",
        "Il tuo codice Firmo",
        "Il tuo codice Firmo per confermare la firma",
        "Usa questo codice per aprire i documenti che {title} ti ha inviato da firmare:",
        "Usa questo codice per confermare la firma dei documenti di {title}:",
        "Il codice scade tra {minutes}, alle {time} UTC.",
        "minuto",
        "minuti",
        "Non condividere mai questo codice con nessuno. Né {title} né Firmo te lo chiederanno "
        "mai.",
        "Se non aspettavi questo messaggio, puoi ignorarlo.",
        "il mittente",
    },
    {
        "nb",
        "Din Firmo-kode",
        "Din Firmo-kode for å bekrefte signeringen",
        "Bruk denne koden for å åpne dokumentene {title} har sendt deg til signering:",
        "Bruk denne koden for å bekrefte at du signerer dokumentene fra {title}:",
        "Koden utløper om {minutes}, kl. {time} UTC.",
        "minutt",
        "minutter",
        "Del aldri denne koden med noen. Verken {title} eller Firmo vil noen gang be deg om den.",
        "Hvis du ikke ventet denne meldingen, kan du se bort fra den.",
        "avsenderen",
    },
}};

constexpr std::size_t kMinCodeDigits = 4;
constexpr std::size_t kMaxCodeDigits = 12;

const CodeTexts& TextsFor(std::string_view language) {
    const std::string_view lang = CodeLanguage(language);
    for (const auto& t : kTexts) {
        if (t.language == lang) return t;
    }
    return kTexts[0];
}

std::string FormatClockTime(Timestamp t) {
    using namespace std::chrono;
    const auto day = floor<days>(t);
    const hh_mm_ss hms(floor<minutes>(t - day));
    std::array<char, 8> buf{};
    std::snprintf(buf.data(), buf.size(), "%02d:%02d", static_cast<int>(hms.hours().count()),
                  static_cast<int>(hms.minutes().count()));
    return buf.data();
}

}  // namespace

std::string_view CodeLanguage(std::string_view tag) {
    const std::string_view primary = tag.substr(0, tag.find_first_of("-_"));
    std::string lower;
    for (char c : primary)
        lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    if (lower == "it") return "it";
    if (lower == "nb" || lower == "no") return "nb";
    return "en";
}

Result<Mail> BuildCodeMail(const domain::CodeMessage& message, Timestamp now) {
    const std::string& code = message.code;
    if (code.size() < kMinCodeDigits || code.size() > kMaxCodeDigits ||
        !std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return Fail(ErrorCode::kInvalidArgument, "a one-time code is 4 to 12 digits");
    }
    if (!IsValidUtf8(message.title)) {
        return Fail(ErrorCode::kInvalidArgument, "the title is not valid UTF-8");
    }
    const CodeTexts& t = TextsFor(message.language);
    const bool login = message.purpose == domain::CodePurpose::kLogin;

    // Rounded up, so "expires in 10 minutes" is never later than the truth by more than the
    // time the mail spends in transit; at least 1.
    const auto left = std::chrono::ceil<std::chrono::minutes>(message.expires_at - now).count();
    const long long minutes = std::max<long long>(1, left);
    const std::string minutes_text =
        std::to_string(minutes) + " " + std::string(minutes == 1 ? t.minute_one : t.minute_many);
    const std::string time = FormatClockTime(message.expires_at);
    // A title must never smuggle line breaks or markup into the message.
    std::string title = message.title;
    std::replace_if(
        title.begin(), title.end(), [](char c) { return c == '\r' || c == '\n' || c == '\t'; },
        ' ');
    if (title.find_first_not_of(' ') == std::string::npos) title = std::string(t.no_title);
    const std::string html_title = EscapeMarkup(title);

    auto text_of = [&](std::string_view templ) {
        return FillPlaceholders(templ,
                                {{"title", title}, {"minutes", minutes_text}, {"time", time}});
    };
    auto html_of = [&](std::string_view templ) {
        return FillPlaceholders(EscapeMarkup(templ),
                                {{"title", html_title}, {"minutes", minutes_text}, {"time", time}});
    };

    Mail mail;
    mail.to = message.to;
    mail.subject = std::string(login ? t.subject_login : t.subject_confirm);
    const std::string_view intro = login ? t.intro_login : t.intro_confirm;
    mail.text = text_of(intro) + "\n\n    " + code + "\n\n" + text_of(t.expiry) + "\n\n" +
                text_of(t.never_share) + "\n\n" + text_of(t.not_expected) + "\n\n-- \nFirmo\n";
    mail.html = HtmlDocument(
        t.language, mail.subject,
        "<p>" + html_of(intro) +
            "</p>\n<p style=\"font-family:monospace;font-size:28px;font-weight:bold;"
            "letter-spacing:4px\">" +
            code + "</p>\n<p>" + html_of(t.expiry) + "</p>\n<p><strong>" + html_of(t.never_share) +
            "</strong></p>\n<p style=\"color:#555\">" + html_of(t.not_expected) + "</p>\n");
    return mail;
}

}  // namespace firmo::notify
