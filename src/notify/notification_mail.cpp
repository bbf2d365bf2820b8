#include "notify/notification_mail.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

#include "core/encoding.hpp"
#include "i18n/catalog.hpp"
#include "notify/code_mail.hpp"

namespace firmo::notify {
namespace {

// The texts are the catalogue's (src/i18n/messages): "mail.<template>.subject", ".intro",
// ".action", ".note" and ".sms" with {issuer}, {title}, {expires} and {link} (SMS only; e-mails
// put the link in a paragraph of its own), and "mail.personal_link", "mail.not_expected". An
// empty action means the notification carries no link.
constexpr std::array<std::string_view, 5> kTemplates = {"sign_request", "reminder",
                                                        "signed_documents", "expired", "cancelled"};

constexpr std::size_t kMaxLinkBytes = 2048;
constexpr std::size_t kShortestShortened = 10;  // code points kept when shortening for SMS

struct Params {
    std::string issuer;
    std::string title;
    std::string link;           // empty for "expired" and "cancelled"
    std::string expires;        // "1 December 2026, 18:00 (UTC)"; empty for "signed_documents"
    std::string expires_short;  // the same for an SMS: "1 Dec 2026, 18:00 UTC"
};

// The message's language and template, checked.
struct Texts {
    std::string language;
    std::string prefix;  // "mail.sign_request."
    std::string Text(std::string_view part, const Params& p) const {
        return i18n::Catalog::Builtin().Text(
            language, prefix + std::string(part),
            {{"issuer", p.issuer},
             {"title", p.title},
             {"expires", part == "sms" ? p.expires_short : p.expires},
             {"link", p.link}});
    }
    std::string Common(std::string_view key) const {
        return i18n::Catalog::Builtin().Text(language, key);
    }
};

// Control characters (line breaks above all) become spaces: a name must never add lines to a
// subject or a text. Leading and trailing spaces go.
std::string OneLine(std::string_view s) {
    std::string out(s);
    std::replace_if(
        out.begin(), out.end(),
        [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7F; }, ' ');
    const auto first = out.find_first_not_of(' ');
    if (first == std::string::npos) return {};
    return out.substr(first, out.find_last_not_of(' ') - first + 1);
}

bool IsHttpLink(std::string_view link) {
    auto starts = [&](std::string_view prefix) {
        return link.size() > prefix.size() &&
               std::equal(prefix.begin(), prefix.end(), link.begin(), [](char a, char b) {
                   return a == std::tolower(static_cast<unsigned char>(b));
               });
    };
    const std::size_t host_at = starts("https://") ? 8 : starts("http://") ? 7 : 0;
    if (host_at == 0 || link.size() > kMaxLinkBytes) return false;
    // Printable ASCII without quotes, angle brackets or spaces: anything else must be
    // percent-encoded, and a link that is not would break out of href="" or the text line.
    if (!std::all_of(link.begin(), link.end(), [](char c) {
            return c > 0x20 && c < 0x7F && c != '"' && c != '<' && c != '>' && c != '\\';
        })) {
        return false;
    }
    const std::string_view authority =
        link.substr(host_at, link.find_first_of("/?#", host_at) - host_at);
    return !authority.empty() && authority.front() != ':' && authority.front() != '@';
}

Result<Params> ParseParams(std::string_view template_name, std::string_view language,
                           std::string_view payload_json) {
    const nlohmann::json payload = nlohmann::json::parse(payload_json, nullptr, false);
    if (!payload.is_object()) {
        return Fail(ErrorCode::kInvalidArgument, "the notification payload is not a JSON object");
    }
    auto text = [&](const char* name) -> Result<std::string> {
        const auto it = payload.find(name);
        if (it == payload.end() || !it->is_string()) {
            return Fail(ErrorCode::kInvalidArgument,
                        std::string("the notification parameter \"") + name + "\" is missing");
        }
        const std::string& value = it->get_ref<const std::string&>();
        if (!IsValidUtf8(value)) {
            return Fail(ErrorCode::kInvalidArgument,
                        std::string("the notification parameter \"") + name + "\" is not UTF-8");
        }
        std::string line = OneLine(value);
        if (line.empty()) {
            return Fail(ErrorCode::kInvalidArgument,
                        std::string("the notification parameter \"") + name + "\" is empty");
        }
        return line;
    };
    const bool needs_link = template_name != "expired" && template_name != "cancelled";
    const bool needs_expiry = template_name != "signed_documents" && template_name != "cancelled";
    Params p;
    FIRMO_TRY(p.issuer, text("issuer"));
    FIRMO_TRY(p.title, text("title"));
    if (needs_link) {
        FIRMO_TRY(p.link, text("link"));
        if (!IsHttpLink(p.link)) {
            return Fail(ErrorCode::kInvalidArgument,
                        "the notification link must be an absolute http(s) URL of printable "
                        "ASCII, at most 2048 bytes");
        }
    }
    if (needs_expiry) {
        FIRMO_TRY(const std::string expires_at, text("expires_at"));
        const auto t = ParseRfc3339(expires_at);
        if (!t) {
            return Fail(ErrorCode::kInvalidArgument,
                        "the notification parameter \"expires_at\" is not an RFC 3339 time");
        }
        // The signer's zone when the message names one (an unknown name is UTC).
        std::string zone = "UTC";
        if (const auto it = payload.find("zone"); it != payload.end() && it->is_string()) {
            if (!it->get_ref<const std::string&>().empty()) zone = it->get<std::string>();
        }
        p.expires = i18n::Catalog::Builtin().DateTime(language, *t, zone);
        p.expires_short = i18n::Catalog::Builtin().DateTimeShort(language, *t, zone);
    }
    return p;
}

Result<Texts> Lookup(const domain::OutboxMessage& message) {
    if (std::find(kTemplates.begin(), kTemplates.end(), message.template_name) ==
        kTemplates.end()) {
        return Fail(ErrorCode::kInvalidArgument, "unknown notification template \"" +
                                                     OneLine(message.template_name.substr(0, 40)) +
                                                     "\"");
    }
    return Texts{std::string(CodeLanguage(message.language)),
                 "mail." + message.template_name + "."};
}

// The code points of valid UTF-8.
std::vector<std::uint32_t> CodePoints(std::string_view s) {
    std::vector<std::uint32_t> out;
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        const std::size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
        std::uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1Fu) : n == 3 ? (c & 0x0Fu) : (c & 0x07u);
        for (std::size_t k = 1; k < n && i + k < s.size(); ++k) {
            cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3Fu);
        }
        out.push_back(cp);
        i += n;
    }
    return out;
}

std::size_t SmsUnits(std::string_view text, bool* gsm) {
    if (auto septets = GsmSeptets(text)) {
        *gsm = true;
        return *septets;
    }
    *gsm = false;
    std::size_t units = 0;
    for (std::uint32_t cp : CodePoints(text)) units += cp >= 0x10000 ? 2 : 1;
    return units;
}

// The first `n` code points of `s` and "...".
std::string Shorten(std::string_view s, std::size_t n) {
    std::size_t i = 0;
    for (std::size_t k = 0; k < n && i < s.size(); ++k) {
        const auto c = static_cast<unsigned char>(s[i]);
        i += c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    }
    std::string out(s.substr(0, std::min(i, s.size())));
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out + "...";
}

}  // namespace

std::optional<std::size_t> GsmSeptets(std::string_view utf8) {
    // GSM 03.38 default alphabet beyond ASCII, and the extension table (escape + one septet).
    static constexpr std::array<std::uint32_t, 39> kBasic = {
        0x00A3, 0x00A5, 0x00E8, 0x00E9, 0x00F9, 0x00EC, 0x00F2, 0x00C7, 0x00D8, 0x00F8,
        0x00C5, 0x00E5, 0x0394, 0x03A6, 0x0393, 0x039B, 0x03A9, 0x03A0, 0x03A8, 0x03A3,
        0x0398, 0x039E, 0x00C6, 0x00E6, 0x00DF, 0x00C9, 0x00A4, 0x00A1, 0x00C4, 0x00D6,
        0x00D1, 0x00DC, 0x00A7, 0x00BF, 0x00E4, 0x00F6, 0x00F1, 0x00FC, 0x00E0};
    constexpr std::string_view kExtensionAscii = "^{}\\[~]|\f";
    constexpr std::uint32_t kEuro = 0x20AC;
    if (!IsValidUtf8(utf8)) return std::nullopt;
    std::size_t septets = 0;
    for (std::uint32_t cp : CodePoints(utf8)) {
        if (cp < 0x80) {
            const char c = static_cast<char>(cp);
            if (kExtensionAscii.find(c) != std::string_view::npos) {
                septets += 2;
            } else if ((cp >= 0x20 && cp < 0x7F && c != '`') || c == '\n' || c == '\r') {
                septets += 1;
            } else {
                return std::nullopt;
            }
        } else if (cp == kEuro) {
            septets += 2;
        } else if (std::find(kBasic.begin(), kBasic.end(), cp) != kBasic.end()) {
            septets += 1;
        } else {
            return std::nullopt;
        }
    }
    return septets;
}

Result<Mail> BuildNotificationMail(const domain::OutboxMessage& message) {
    FIRMO_TRY(const Texts t, Lookup(message));
    FIRMO_TRY(const Params p, ParseParams(message.template_name, t.language, message.payload_json));
    // Texts are formatted first and escaped whole: a value can never become markup.
    auto html_of = [&](std::string_view part) { return EscapeMarkup(t.Text(part, p)); };
    const std::string action = t.Text("action", p);
    const bool has_link = !action.empty();

    Mail mail;
    mail.to = message.destination;
    mail.subject = t.Text("subject", p);
    mail.text = t.Text("intro", p) + "\n\n";
    if (has_link) mail.text += action + "\n\n    " + p.link + "\n\n";
    mail.text += t.Text("note", p) + "\n\n";
    if (has_link) mail.text += t.Common("mail.personal_link") + "\n\n";
    mail.text += t.Common("mail.not_expected") + "\n\n-- \nFirmo\n";

    const std::string html_link = EscapeMarkup(p.link);
    std::string body = "<p>" + html_of("intro") + "</p>\n";
    if (has_link) {
        body += "<p>" + html_of("action") + "</p>\n<p><a href=\"" + html_link +
                "\" style=\"font-size:18px;font-weight:bold\">" + html_link + "</a></p>\n";
    }
    body += "<p>" + html_of("note") + "</p>\n";
    if (has_link) {
        body += "<p><strong>" + EscapeMarkup(t.Common("mail.personal_link")) + "</strong></p>\n";
    }
    body += "<p style=\"color:#555\">" + EscapeMarkup(t.Common("mail.not_expected")) + "</p>\n";
    mail.html = HtmlDocument(t.language, mail.subject, body);
    return mail;
}

Result<std::string> BuildNotificationSms(const domain::OutboxMessage& message) {
    FIRMO_TRY(const Texts t, Lookup(message));
    FIRMO_TRY(Params p, ParseParams(message.template_name, t.language, message.payload_json));
    std::string text = t.Text("sms", p);
    bool gsm = true;
    std::size_t units = SmsUnits(text, &gsm);
    auto limit = [&] { return gsm ? kSmsGsmLimit : kSmsUcs2Limit; };
    // The title goes first, then the issuer's name; the link and the date never.
    for (std::string* field : {&p.title, &p.issuer}) {
        const std::string original = *field;
        std::size_t keep = CodePoints(original).size();
        while (units > limit() && keep > kShortestShortened) {
            --keep;
            *field = Shorten(original, keep);
            text = t.Text("sms", p);
            units = SmsUnits(text, &gsm);
        }
    }
    return text;
}

}  // namespace firmo::notify
