#include "notify/mime.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>

#include "core/encoding.hpp"

namespace firmo::notify {
namespace {

constexpr std::string_view kB64 =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kHexUpper = "0123456789ABCDEF";
// RFC 2045: encoded lines at most 76 characters; we keep one for the soft-break '='.
constexpr std::size_t kQpLineMax = 75;
// RFC 2047: an encoded word is at most 75 characters; header lines should stay within 76-78.
constexpr std::size_t kEncodedWordMax = 75;
constexpr std::size_t kHeaderLineMax = 76;
constexpr std::string_view kWordOpen = "=?UTF-8?B?";
constexpr std::string_view kWordClose = "?=";
// RFC 5321: 254 characters is the longest usable forward-path address.
constexpr std::size_t kMaxAddressLength = 254;

bool HasLineBreak(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

bool IsAsciiPrintable(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7F; });
}

// Length of the UTF-8 sequence starting with `lead` (valid input assumed).
std::size_t Utf8Length(unsigned char lead) {
    if (lead < 0x80) return 1;
    if (lead >= 0xF0) return 4;
    if (lead >= 0xE0) return 3;
    return 2;
}

// Each word after the first goes on a continuation line of its own (" " + word).
std::string EncodedWords(std::string_view utf8, std::size_t first_line_used) {
    constexpr std::size_t kOverhead = kWordOpen.size() + kWordClose.size();
    constexpr std::size_t kMinBytes = 6;  // any UTF-8 character fits in a word this size
    std::string out;
    std::size_t i = 0;
    while (i < utf8.size()) {
        const std::size_t used = out.empty() ? first_line_used : 1;
        const std::size_t room =
            std::min(kEncodedWordMax, kHeaderLineMax - std::min(used, kHeaderLineMax));
        const std::size_t max_bytes =
            std::max(kMinBytes, (room > kOverhead ? room - kOverhead : 0) / 4 * 3);
        std::size_t end = i;
        while (end < utf8.size()) {
            const std::size_t n = Utf8Length(static_cast<unsigned char>(utf8[end]));
            if (end + n - i > max_bytes) break;
            end += n;
        }
        if (!out.empty()) out.append("\r\n ");
        out.append(kWordOpen).append(Base64Encode(utf8.substr(i, end - i))).append(kWordClose);
        i = end;
    }
    return out;
}

std::string FormatAddress(const MailAddress& a) {
    if (a.display_name.empty()) return "<" + a.address + ">";
    std::string name;
    if (!IsAsciiPrintable(a.display_name) || a.display_name.find("=?") != std::string_view::npos) {
        name = EncodedWords(a.display_name, std::string_view("From: ").size());
    } else {
        // A quoted-string is always a valid phrase, whatever specials the name holds.
        name.push_back('"');
        for (char c : a.display_name) {
            if (c == '"' || c == '\\') name.push_back('\\');
            name.push_back(c);
        }
        name.push_back('"');
    }
    return name + " <" + a.address + ">";
}

std::string_view DomainOf(std::string_view address) {
    auto at = address.rfind('@');
    return at == std::string_view::npos ? address : address.substr(at + 1);
}

void AppendPart(std::string& out, std::string_view boundary, std::string_view type,
                std::string_view body) {
    out.append("--").append(boundary).append("\r\n");
    out.append("Content-Type: ").append(type).append("; charset=UTF-8\r\n");
    out.append("Content-Transfer-Encoding: quoted-printable\r\n\r\n");
    out.append(EncodeQuotedPrintable(body));
    out.append("\r\n");
}

}  // namespace

bool IsValidUtf8(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size()) {
        auto c = static_cast<unsigned char>(text[i]);
        std::size_t n;
        std::uint32_t cp;
        if (c < 0x80) {
            ++i;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            n = 2;
            cp = c & 0x1Fu;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 3;
            cp = c & 0x0Fu;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 4;
            cp = c & 0x07u;
        } else {
            return false;
        }
        if (i + n > text.size()) return false;
        for (std::size_t k = 1; k < n; ++k) {
            auto cc = static_cast<unsigned char>(text[i + k]);
            if ((cc & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (cc & 0x3Fu);
        }
        // Overlong forms, surrogates and values past U+10FFFF.
        if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF)) {
            return false;
        }
        i += n;
    }
    return true;
}

std::string Base64Encode(std::string_view bytes) {
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        auto v = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16 |
                 static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8 |
                 static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 2]));
        out.push_back(kB64[v >> 18 & 63]);
        out.push_back(kB64[v >> 12 & 63]);
        out.push_back(kB64[v >> 6 & 63]);
        out.push_back(kB64[v & 63]);
    }
    if (std::size_t rest = bytes.size() - i; rest > 0) {
        std::uint32_t v = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
        if (rest == 2)
            v |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
        out.push_back(kB64[v >> 18 & 63]);
        out.push_back(kB64[v >> 12 & 63]);
        out.push_back(rest == 2 ? kB64[v >> 6 & 63] : '=');
        out.push_back('=');
    }
    return out;
}

std::string EncodeQuotedPrintable(std::string_view utf8) {
    std::string out;
    std::size_t line_len = 0;
    auto emit = [&](std::string_view token) {
        if (line_len + token.size() > kQpLineMax) {
            out.append("=\r\n");
            line_len = 0;
        }
        out.append(token);
        line_len += token.size();
    };
    for (std::size_t i = 0; i < utf8.size(); ++i) {
        char c = utf8[i];
        if (c == '\r' || c == '\n') {
            if (c == '\r' && i + 1 < utf8.size() && utf8[i + 1] == '\n') ++i;
            out.append("\r\n");
            line_len = 0;
            continue;
        }
        const bool line_end = i + 1 == utf8.size() || utf8[i + 1] == '\r' || utf8[i + 1] == '\n';
        auto u = static_cast<unsigned char>(c);
        // Trailing white space would be stripped in transit; '.' opening a line is encoded
        // too so that no relay's dot-stuffing can ever touch the body.
        const bool literal = (u > 32 && u < 127 && c != '=' && !(c == '.' && line_len == 0)) ||
                             ((c == ' ' || c == '\t') && !line_end);
        if (literal) {
            emit(std::string_view(&c, 1));
        } else {
            const std::array<char, 3> hex{'=', kHexUpper[u >> 4], kHexUpper[u & 15]};
            emit(std::string_view(hex.data(), hex.size()));
        }
    }
    return out;
}

std::string EncodeHeaderText(std::string_view utf8, std::size_t first_line_used) {
    if (IsAsciiPrintable(utf8) && utf8.find("=?") == std::string_view::npos &&
        first_line_used + utf8.size() <= kHeaderLineMax) {
        return std::string(utf8);
    }
    return EncodedWords(utf8, first_line_used);
}

std::string FormatMailDate(Timestamp t) {
    using namespace std::chrono;
    static constexpr std::array<const char*, 7> kDays = {"Sun", "Mon", "Tue", "Wed",
                                                         "Thu", "Fri", "Sat"};
    static constexpr std::array<const char*, 12> kMonths = {
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const auto day = floor<days>(t);
    const year_month_day ymd(day);
    const hh_mm_ss hms(floor<seconds>(t - day));
    std::array<char, 40> buf{};
    std::snprintf(buf.data(), buf.size(), "%s, %02u %s %04d %02d:%02d:%02d +0000",
                  kDays[weekday(day).c_encoding()], static_cast<unsigned>(ymd.day()),
                  kMonths[static_cast<unsigned>(ymd.month()) - 1], static_cast<int>(ymd.year()),
                  static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                  static_cast<int>(hms.seconds().count()));
    return buf.data();
}

Result<void> CheckAddress(std::string_view address) {
    if (HasLineBreak(address)) {
        return Fail(ErrorCode::kInvalidArgument, "an e-mail address must not contain line breaks");
    }
    auto at = address.find('@');
    if (address.empty() || address.size() > kMaxAddressLength || at == 0 ||
        at == std::string_view::npos || at + 1 == address.size() ||
        address.find('@', at + 1) != std::string_view::npos) {
        return Fail(ErrorCode::kInvalidArgument, "not an e-mail address: " + std::string(address));
    }
    for (char c : address) {
        auto u = static_cast<unsigned char>(c);
        if (u <= 32 || u >= 127 ||
            std::string_view("<>()[]\\,;:\"").find(c) != std::string_view::npos) {
            return Fail(ErrorCode::kInvalidArgument,
                        "unsupported character in e-mail address: " + std::string(address));
        }
    }
    return {};
}

Result<std::string> BuildMessage(const Mail& mail, const MailAddress& configured_from,
                                 Timestamp date, std::string_view unique) {
    // The institution writes (issue 16): its name, at the configured address.
    const MailAddress from{configured_from.address,
                           mail.from_name.empty() ? configured_from.display_name : mail.from_name};
    FIRMO_CHECK(CheckAddress(mail.to));
    FIRMO_CHECK(CheckAddress(from.address));
    if (HasLineBreak(mail.subject) || HasLineBreak(from.display_name)) {
        return Fail(ErrorCode::kInvalidArgument,
                    "the subject and sender name must not contain line breaks");
    }
    if (!IsValidUtf8(mail.subject) || !IsValidUtf8(from.display_name) || !IsValidUtf8(mail.text) ||
        !IsValidUtf8(mail.html)) {
        return Fail(ErrorCode::kInvalidArgument, "the message is not valid UTF-8");
    }
    if (unique.empty() || !std::all_of(unique.begin(), unique.end(), [](char c) {
            return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        })) {
        return Fail(ErrorCode::kInternal, "the message identifier must be alphanumeric");
    }

    std::string out;
    out.append("Date: ").append(FormatMailDate(date)).append("\r\n");
    out.append("From: ").append(FormatAddress(from)).append("\r\n");
    out.append("To: <").append(mail.to).append(">\r\n");
    out.append("Subject: ")
        .append(EncodeHeaderText(mail.subject, std::string_view("Subject: ").size()))
        .append("\r\n");
    out.append("Message-ID: <")
        .append(unique)
        .append("@")
        .append(DomainOf(from.address))
        .append(">\r\n");
    // RFC 3834: tells vacation responders not to answer a machine-sent code.
    out.append("Auto-Submitted: auto-generated\r\n");
    out.append("MIME-Version: 1.0\r\n");
    if (mail.html.empty()) {
        out.append("Content-Type: text/plain; charset=UTF-8\r\n");
        out.append("Content-Transfer-Encoding: quoted-printable\r\n\r\n");
        out.append(EncodeQuotedPrintable(mail.text)).append("\r\n");
        return out;
    }
    // "=_" never occurs in quoted-printable output ('=' is always followed by hex or a line
    // break), so this boundary cannot collide with the parts.
    const std::string boundary = "=_firmo_" + std::string(unique);
    out.append("Content-Type: multipart/alternative; boundary=\"")
        .append(boundary)
        .append("\"\r\n\r\n");
    AppendPart(out, boundary, "text/plain", mail.text);
    AppendPart(out, boundary, "text/html", mail.html);
    out.append("--").append(boundary).append("--\r\n");
    return out;
}

std::string FillPlaceholders(
    std::string_view templ,
    std::initializer_list<std::pair<std::string_view, std::string_view>> values) {
    std::string out;
    std::size_t i = 0;
    while (i < templ.size()) {
        const auto open = templ.find('{', i);
        if (open == std::string_view::npos) break;
        const auto close = templ.find('}', open);
        if (close == std::string_view::npos) break;
        out.append(templ.substr(i, open - i));
        const std::string_view name = templ.substr(open + 1, close - open - 1);
        const auto* value = std::find_if(values.begin(), values.end(),
                                         [&](const auto& v) { return v.first == name; });
        out.append(value != values.end() ? value->second : templ.substr(open, close - open + 1));
        i = close + 1;
    }
    out.append(templ.substr(std::min(i, templ.size())));
    return out;
}

std::string HtmlDocument(std::string_view language, std::string_view title, std::string_view body) {
    return "<!DOCTYPE html>\n<html lang=\"" + std::string(language) +
           "\">\n<head><meta charset=\"utf-8\">"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>" +
           EscapeMarkup(title) +
           "</title></head>\n<body style=\"margin:0;padding:0;background:#f2f2f2;"
           "font-family:sans-serif;font-size:16px;line-height:1.5;color:#222222\">\n" +
           std::string(body) + "</body>\n</html>\n";
}

}  // namespace firmo::notify
