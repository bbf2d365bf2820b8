#include "notify/notification_mail.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <vector>

#include "core/encoding.hpp"
#include "notify/code_mail.hpp"

namespace firmo::notify {
namespace {

// Placeholders: {issuer}, {title}, {expires}, {link} (SMS only; e-mails put the link in a
// paragraph of its own). An empty `action` means the notification carries no link.
struct TemplateTexts {
    std::string_view subject;
    std::string_view intro;
    std::string_view action;
    std::string_view note;
    std::string_view sms;
};

struct NotificationTexts {
    std::string_view language;
    TemplateTexts sign_request;
    TemplateTexts reminder;
    TemplateTexts signed_documents;
    TemplateTexts expired;
    std::string_view personal_link;
    std::string_view not_expected;
    TemplateTexts cancelled;  // issue 18: the issuer cancelled a request the signer was told of
};

constexpr std::array<NotificationTexts, 3> kTexts = {{
    {
        "en",
        {
            "Documents to sign from {issuer}",
            "{issuer} has sent you documents to sign: {title}",
            "Open the documents to read and sign them:",
            "Please sign before {expires}.",
            "{issuer}: documents to sign: {title}. Sign before {expires}: {link}",
        },
        {
            "Reminder: documents to sign from {issuer}",
            "{issuer} is still waiting for your signature on: {title}",
            "Open the documents to read and sign them:",
            "The request expires on {expires}.",
            "Reminder from {issuer}: please sign {title} before {expires}: {link}",
        },
        {
            "Your signed documents from {issuer} are ready",
            "The documents you signed for {issuer} are ready: {title}",
            "Download them here (they are not attached to this e-mail):",
            "Keep a copy for your records.",
            "Your signed documents from {issuer} are ready: {title}. Download: {link}",
        },
        {
            "Signature request from {issuer} expired",
            "The request from {issuer} to sign {title} expired on {expires} without being "
            "signed.",
            "",
            "If you still need to sign, please contact {issuer}.",
            "The request from {issuer} to sign {title} expired on {expires} unsigned.",
        },
        "This link is personal: do not forward this e-mail.",
        "If you did not expect this message, you can ignore it.",
        {
            "Signature request from {issuer} cancelled",
            "{issuer} has cancelled the request to sign {title}.",
            "",
            "You do not need to do anything. If you have questions, please contact {issuer}.",
            "{issuer} has cancelled the request to sign {title}. No action is needed.",
        },
    },
    {
        "it",
        {
            "Documenti da firmare da {issuer}",
            "{issuer} ti ha inviato dei documenti da firmare: {title}",
            "Apri i documenti per leggerli e firmarli:",
            "Firma entro il {expires}.",
            "{issuer}: documenti da firmare: {title}. Firma entro il {expires}: {link}",
        },
        {
            "Promemoria: documenti da firmare da {issuer}",
            "{issuer} attende ancora la tua firma su: {title}",
            "Apri i documenti per leggerli e firmarli:",
            "La richiesta scade il {expires}.",
            "Promemoria da {issuer}: firma {title} entro il {expires}: {link}",
        },
        {
            "I tuoi documenti firmati da {issuer} sono pronti",
            "I documenti che hai firmato per {issuer} sono pronti: {title}",
            "Scaricali qui (non sono allegati a questa e-mail):",
            "Conservane una copia.",
            "I tuoi documenti firmati per {issuer} sono pronti: {title}. Scarica: {link}",
        },
        {
            "Richiesta di firma di {issuer} scaduta",
            "La richiesta di {issuer} di firmare {title} è scaduta il {expires} senza essere "
            "firmata.",
            "",
            "Se devi ancora firmare, contatta {issuer}.",
            "La richiesta di {issuer} di firmare {title} è scaduta il {expires} senza firma.",
        },
        "Questo link è personale: non inoltrare questa e-mail.",
        "Se non aspettavi questo messaggio, puoi ignorarlo.",
        {
            "Richiesta di firma di {issuer} annullata",
            "{issuer} ha annullato la richiesta di firmare {title}.",
            "",
            "Non devi fare nulla. Per domande, contatta {issuer}.",
            "{issuer} ha annullato la richiesta di firmare {title}. Non devi fare nulla.",
        },
    },
    {
        "nb",
        {
            "Dokumenter til signering fra {issuer}",
            "{issuer} har sendt deg dokumenter til signering: {title}",
            "Åpne dokumentene for å lese og signere dem:",
            "Signer innen {expires}.",
            "{issuer}: dokumenter til signering: {title}. Signer innen {expires}: {link}",
        },
        {
            "Påminnelse: dokumenter til signering fra {issuer}",
            "{issuer} venter fortsatt på signaturen din på: {title}",
            "Åpne dokumentene for å lese og signere dem:",
            "Forespørselen utløper {expires}.",
            "Påminnelse fra {issuer}: signer {title} innen {expires}: {link}",
        },
        {
            "De signerte dokumentene dine fra {issuer} er klare",
            "Dokumentene du signerte for {issuer} er klare: {title}",
            "Last dem ned her (de er ikke vedlagt denne e-posten):",
            "Ta vare på en kopi.",
            "De signerte dokumentene dine fra {issuer} er klare: {title}. Last ned: {link}",
        },
        {
            "Signeringsforespørselen fra {issuer} er utløpt",
            "Forespørselen fra {issuer} om å signere {title} utløp {expires} uten å bli "
            "signert.",
            "",
            "Hvis du fortsatt må signere, kontakt {issuer}.",
            "Forespørselen fra {issuer} om å signere {title} utløp {expires} uten signatur.",
        },
        "Denne lenken er personlig: ikke videresend denne e-posten.",
        "Hvis du ikke ventet denne meldingen, kan du se bort fra den.",
        {
            "Signeringsforespørselen fra {issuer} er trukket tilbake",
            "{issuer} har trukket tilbake forespørselen om å signere {title}.",
            "",
            "Du trenger ikke gjøre noe. Har du spørsmål, kontakt {issuer}.",
            "{issuer} har trukket tilbake forespørselen om å signere {title}. Du trenger ikke "
            "gjøre noe.",
        },
    },
}};

constexpr std::size_t kMaxLinkBytes = 2048;
constexpr std::size_t kShortestShortened = 10;  // code points kept when shortening for SMS

struct Params {
    std::string issuer;
    std::string title;
    std::string link;     // empty for "expired" and "cancelled"
    std::string expires;  // "2026-12-01 18:00 UTC"; empty for "signed_documents"
};

const NotificationTexts& TextsFor(std::string_view language) {
    const std::string_view lang = CodeLanguage(language);
    for (const auto& t : kTexts) {
        if (t.language == lang) return t;
    }
    return kTexts[0];
}

const TemplateTexts* TemplateFor(const NotificationTexts& t, std::string_view name) {
    if (name == "sign_request") return &t.sign_request;
    if (name == "reminder") return &t.reminder;
    if (name == "signed_documents") return &t.signed_documents;
    if (name == "expired") return &t.expired;
    if (name == "cancelled") return &t.cancelled;
    return nullptr;
}

std::string Fill(std::string_view templ, const Params& p) {
    return FillPlaceholders(
        templ,
        {{"issuer", p.issuer}, {"title", p.title}, {"expires", p.expires}, {"link", p.link}});
}

std::string FormatExpiry(Timestamp t) {
    using namespace std::chrono;
    const auto day = floor<days>(t);
    const year_month_day ymd(day);
    const hh_mm_ss hms(floor<minutes>(t - day));
    std::array<char, 32> buf{};
    std::snprintf(buf.data(), buf.size(), "%04d-%02u-%02u %02d:%02d UTC",
                  static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                  static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
                  static_cast<int>(hms.minutes().count()));
    return buf.data();
}

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

Result<Params> ParseParams(std::string_view template_name, std::string_view payload_json) {
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
        p.expires = FormatExpiry(*t);
    }
    return p;
}

Result<std::pair<const NotificationTexts*, const TemplateTexts*>> Lookup(
    const domain::OutboxMessage& message) {
    const NotificationTexts& texts = TextsFor(message.language);
    const TemplateTexts* templ = TemplateFor(texts, message.template_name);
    if (templ == nullptr) {
        return Fail(ErrorCode::kInvalidArgument, "unknown notification template \"" +
                                                     OneLine(message.template_name.substr(0, 40)) +
                                                     "\"");
    }
    return std::make_pair(&texts, templ);
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
    FIRMO_TRY(const auto found, Lookup(message));
    const auto& [texts, templ] = found;
    FIRMO_TRY(const Params p, ParseParams(message.template_name, message.payload_json));
    const Params html_p{EscapeMarkup(p.issuer), EscapeMarkup(p.title), EscapeMarkup(p.link),
                        p.expires};
    auto text_of = [&](std::string_view t) { return Fill(t, p); };
    auto html_of = [&](std::string_view t) { return Fill(EscapeMarkup(t), html_p); };
    const bool has_link = !templ->action.empty();

    Mail mail;
    mail.to = message.destination;
    mail.subject = text_of(templ->subject);
    mail.text = text_of(templ->intro) + "\n\n";
    if (has_link) mail.text += text_of(templ->action) + "\n\n    " + p.link + "\n\n";
    mail.text += text_of(templ->note) + "\n\n";
    if (has_link) mail.text += std::string(texts->personal_link) + "\n\n";
    mail.text += std::string(texts->not_expected) + "\n\n-- \nFirmo\n";

    std::string body = "<p>" + html_of(templ->intro) + "</p>\n";
    if (has_link) {
        body += "<p>" + html_of(templ->action) + "</p>\n<p><a href=\"" + html_p.link +
                "\" style=\"font-size:18px;font-weight:bold\">" + html_p.link + "</a></p>\n";
    }
    body += "<p>" + html_of(templ->note) + "</p>\n";
    if (has_link) body += "<p><strong>" + html_of(texts->personal_link) + "</strong></p>\n";
    body += "<p style=\"color:#555\">" + html_of(texts->not_expected) + "</p>\n";
    mail.html = HtmlDocument(texts->language, mail.subject, body);
    return mail;
}

Result<std::string> BuildNotificationSms(const domain::OutboxMessage& message) {
    FIRMO_TRY(const auto found, Lookup(message));
    const TemplateTexts* templ = found.second;
    FIRMO_TRY(Params p, ParseParams(message.template_name, message.payload_json));
    std::string text = Fill(templ->sms, p);
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
            text = Fill(templ->sms, p);
            units = SmsUnits(text, &gsm);
        }
    }
    return text;
}

}  // namespace firmo::notify
