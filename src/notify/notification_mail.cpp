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
    // The institution (issue 16), each optional: empty when the payload has none or it is not
    // usable (a logo or help page that is not an http(s) URL, a colour that is not #rrggbb).
    std::string support_email;
    std::string support_url;
    std::string logo_url;
    std::string brand_color;
};

constexpr std::string_view kDefaultBrandColor = "#1f4e8c";

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
    // The optional identity: kept only when usable, never an error (the message still goes).
    auto optional_text = [&](const char* name) -> std::string {
        const auto it = payload.find(name);
        if (it == payload.end() || !it->is_string()) return {};
        const std::string& value = it->get_ref<const std::string&>();
        return IsValidUtf8(value) ? OneLine(value) : std::string();
    };
    p.support_email = optional_text("support_email");
    if (CheckAddress(p.support_email).has_value() == false) p.support_email.clear();
    p.support_url = optional_text("support_url");
    if (!IsHttpLink(p.support_url)) p.support_url.clear();
    p.logo_url = optional_text("logo_url");
    if (!IsHttpLink(p.logo_url)) p.logo_url.clear();
    p.brand_color = optional_text("brand_color");
    if (p.brand_color.size() != 7 || p.brand_color[0] != '#' ||
        p.brand_color.find_first_not_of("0123456789abcdefABCDEF", 1) != std::string::npos) {
        p.brand_color = std::string(kDefaultBrandColor);
    }
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

// "firmo.example.org" of "https://firmo.example.org:8443/l/..." (what the reader can check).
std::string LinkHost(std::string_view link) {
    const std::size_t start = link.find("://");
    if (start == std::string_view::npos) return {};
    const std::string_view rest = link.substr(start + 3);
    std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
    if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
        authority = authority.substr(at + 1);
    }
    return std::string(authority);
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
    const i18n::Catalog& catalog = i18n::Catalog::Builtin();
    const std::string action = t.Text("action", p);
    const bool has_link = !action.empty();
    const std::string host = has_link ? LinkHost(p.link) : std::string();
    // The same paragraphs, in the same order, make the text and the HTML part.
    const std::string intro = t.Text("intro", p);
    const std::string note = t.Text("note", p);
    const std::string button = t.Text("button", p);
    const std::string link_in_text = t.Common("mail.link_in_text");
    const std::string personal = t.Common("mail.personal_link");
    const std::string genuine_heading = t.Common("mail.genuine_heading");
    const std::string genuine = catalog.Text(
        t.language, "mail.genuine", {{"issuer", p.issuer}, {"host", host.empty() ? "-" : host}});
    const std::string contact =
        p.support_email.empty() ? std::string()
                                : catalog.Text(t.language, "mail.contact",
                                               {{"issuer", p.issuer}, {"email", p.support_email}});
    const std::string help = p.support_url.empty() ? std::string()
                                                   : catalog.Text(t.language, "mail.help_page",
                                                                  {{"url", p.support_url}});
    const std::string not_expected = t.Common("mail.not_expected");

    Mail mail;
    mail.to = message.destination;
    mail.from_name = p.issuer;
    mail.subject = t.Text("subject", p);
    mail.text = p.issuer + "\n\n" + intro + "\n\n";
    if (has_link) {
        mail.text += action + "\n\n    " + p.link + "\n\n";
    }
    mail.text += note + "\n\n";
    if (has_link) mail.text += personal + "\n\n";
    if (has_link) mail.text += genuine_heading + "\n" + genuine + "\n\n";
    if (!contact.empty()) mail.text += contact + "\n";
    if (!help.empty()) mail.text += help + "\n";
    if (!contact.empty() || !help.empty()) mail.text += "\n";
    mail.text += not_expected + "\n\n-- \n" + p.issuer + " · Firmo\n";

    // Texts are formatted first and escaped whole: a value can never become markup. Inline
    // styles only (mail clients drop <style> and external sheets); one column at most 600 px.
    const std::string color = EscapeMarkup(p.brand_color);
    std::string body =
        "<div style=\"max-width:600px;margin:0 auto;padding:16px;background:#ffffff;"
        "box-sizing:border-box;overflow-wrap:break-word;word-wrap:break-word\">\n"
        "<div style=\"border-bottom:4px solid " +
        color + ";padding-bottom:8px;margin-bottom:16px\">";
    if (!p.logo_url.empty()) {
        body += "<img src=\"" + EscapeMarkup(p.logo_url) +
                "\" alt=\"\" height=\"40\" style=\"max-height:40px;max-width:160px;"
                "vertical-align:middle;margin-right:8px;border:0\">";
    }
    body += "<strong style=\"font-size:18px;vertical-align:middle\">" + EscapeMarkup(p.issuer) +
            "</strong></div>\n<p>" + EscapeMarkup(intro) + "</p>\n";
    if (has_link) {
        const std::string html_link = EscapeMarkup(p.link);
        body += "<p>" + EscapeMarkup(action) + "</p>\n<p style=\"margin:24px 0\"><a href=\"" +
                html_link + "\" style=\"display:inline-block;background:" + color +
                ";color:#ffffff;padding:12px 24px;border-radius:4px;text-decoration:none;"
                "font-weight:bold;font-size:18px\">" +
                EscapeMarkup(button) + "</a></p>\n<p style=\"font-size:14px;color:#444\">" +
                EscapeMarkup(link_in_text) + "<br><span style=\"word-break:break-all\">" +
                html_link + "</span></p>\n";
    }
    body += "<p>" + EscapeMarkup(note) + "</p>\n";
    if (has_link) body += "<p><strong>" + EscapeMarkup(personal) + "</strong></p>\n";
    body +=
        "<div style=\"border-top:1px solid #ddd;margin-top:24px;padding-top:8px;"
        "font-size:14px;color:#444\">\n";
    if (has_link) {
        body += "<p><strong>" + EscapeMarkup(genuine_heading) + "</strong><br>" +
                EscapeMarkup(genuine) + "</p>\n";
    }
    if (!contact.empty() || !help.empty()) {
        body += "<p>" + EscapeMarkup(contact) + (contact.empty() || help.empty() ? "" : "<br>") +
                EscapeMarkup(help) + "</p>\n";
    }
    body += "<p>" + EscapeMarkup(not_expected) + "</p>\n<p>" + EscapeMarkup(p.issuer) +
            " · Firmo</p>\n</div>\n</div>\n";
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
