#include "notify/code_mail.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>

#include "core/encoding.hpp"
#include "i18n/catalog.hpp"

namespace firmo::notify {
namespace {

constexpr std::size_t kMinCodeDigits = 4;
constexpr std::size_t kMaxCodeDigits = 12;

}  // namespace

std::string_view CodeLanguage(std::string_view tag) {
    const i18n::Catalog& catalog = i18n::Catalog::Builtin();
    const std::string language = catalog.Supported(tag);
    for (const std::string& known : catalog.Languages()) {
        if (known == language) return known;  // a view of the catalogue's own string
    }
    return i18n::kDefaultLanguage;
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
    const std::string language(CodeLanguage(message.language));
    const i18n::Catalog& catalog = i18n::Catalog::Builtin();
    const bool login = message.purpose == domain::CodePurpose::kLogin;

    // Rounded up, so "expires in 10 minutes" is never later than the truth by more than the
    // time the mail spends in transit; at least 1.
    const auto left = std::chrono::ceil<std::chrono::minutes>(message.expires_at - now).count();
    const std::int64_t minutes = std::max<std::int64_t>(1, left);
    const std::string time =
        catalog.Time(language, message.expires_at, message.zone.empty() ? "UTC" : message.zone);
    // A title must never smuggle line breaks or markup into the message.
    std::string title = message.title;
    std::replace_if(
        title.begin(), title.end(), [](char c) { return c == '\r' || c == '\n' || c == '\t'; },
        ' ');
    const bool named = title.find_first_not_of(' ') != std::string::npos;
    if (!named) title = catalog.Text(language, "code.no_title");
    // Formatted first, escaped whole for the HTML part: a title never becomes markup.
    auto text_of = [&](std::string_view key) {
        return catalog.Text(language, key,
                            {{"title", title}, {"minutes", minutes}, {"time", time}});
    };
    auto html_of = [&](std::string_view key) { return EscapeMarkup(text_of(key)); };

    Mail mail;
    mail.to = message.to;
    if (named) mail.from_name = title;  // the institution (the title is its name)
    mail.subject = text_of(login ? "code.subject_login" : "code.subject_confirm");
    const std::string_view intro = login ? "code.intro_login" : "code.intro_confirm";
    mail.text = text_of(intro) + "\n\n    " + code + "\n\n" + text_of("code.expiry") + "\n\n" +
                text_of("code.never_share") + "\n\n" + text_of("code.not_expected") +
                "\n\n-- \nFirmo\n";
    mail.html =
        HtmlDocument(language, mail.subject,
                     "<p>" + html_of(intro) +
                         "</p>\n<p style=\"font-family:monospace;font-size:28px;font-weight:bold;"
                         "letter-spacing:4px\">" +
                         code + "</p>\n<p>" + html_of("code.expiry") + "</p>\n<p><strong>" +
                         html_of("code.never_share") + "</strong></p>\n<p style=\"color:#555\">" +
                         html_of("code.not_expected") + "</p>\n");
    return mail;
}

}  // namespace firmo::notify
