#include "pdf/pdf_syntax.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>

namespace firmo::pdf::internal {
namespace {

// Decodes one UTF-8 sequence; invalid bytes become U+FFFD.
char32_t NextCodePoint(std::string_view s, std::size_t& i) {
    auto b = static_cast<unsigned char>(s[i++]);
    if (b < 0x80) return b;
    int extra = (b >= 0xF0) ? 3 : (b >= 0xE0) ? 2 : (b >= 0xC0) ? 1 : -1;
    if (extra < 0) return 0xFFFD;
    char32_t cp = b & (0x3F >> extra);
    for (int k = 0; k < extra; ++k) {
        if (i >= s.size() || (static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) return 0xFFFD;
        cp = (cp << 6) | (static_cast<unsigned char>(s[i++]) & 0x3F);
    }
    return cp;
}

std::tm Utc(Timestamp t) {
    auto secs = std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
    auto tt = static_cast<std::time_t>(secs);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    return tm;
}

}  // namespace

std::string LiteralString(std::string_view bytes) {
    std::string out = "(";
    for (char c : bytes) {
        auto u = static_cast<unsigned char>(c);
        if (c == '\\' || c == '(' || c == ')') {
            out += '\\';
            out += c;
        } else if (u < 0x20 || u >= 0x7F) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\%03o", u);
            out += buf;
        } else {
            out += c;
        }
    }
    return out + ")";
}

std::string TextString(std::string_view utf8) {
    bool ascii = true;
    for (char c : utf8) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u >= 0x7F) ascii = false;
    }
    if (ascii) return LiteralString(utf8);
    std::string out = "<FEFF";
    auto unit = [&](unsigned v) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "%04X", v & 0xFFFF);
        out += buf;
    };
    for (std::size_t i = 0; i < utf8.size();) {
        char32_t cp = NextCodePoint(utf8, i);
        if (cp >= 0x10000 && cp <= 0x10FFFF) {
            cp -= 0x10000;
            unit(0xD800 + static_cast<unsigned>(cp >> 10));
            unit(0xDC00 + static_cast<unsigned>(cp & 0x3FF));
        } else {
            unit(static_cast<unsigned>(cp));
        }
    }
    return out + ">";
}

std::string Utf8ToWinAnsi(std::string_view utf8) {
    std::string out;
    for (std::size_t i = 0; i < utf8.size();) {
        char32_t cp = NextCodePoint(utf8, i);
        // WinAnsi matches Latin-1 on 0x20-0x7E and 0xA0-0xFF.
        if ((cp >= 0x20 && cp < 0x7F) || (cp >= 0xA0 && cp <= 0xFF)) {
            out += static_cast<char>(cp);
        } else if (cp == 0x20AC) {
            out += '\x80';  // euro sign
        } else {
            out += '?';
        }
    }
    return out;
}

std::string Number(double v) {
    if (!std::isfinite(v)) return "0";
    char buf[400];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, 4);
    if (ec != std::errc()) return "0";
    std::string s(buf, end);
    while (!s.empty() && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
    if (s == "-0") s = "0";
    return s;
}

std::string PdfDate(Timestamp t) {
    std::tm tm = Utc(t);
    char buf[40];
    std::snprintf(buf, sizeof buf, "D:%04d%02d%02d%02d%02d%02d+00'00'", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return buf;
}

std::optional<Timestamp> ParsePdfDate(std::string_view text) {
    if (text.substr(0, 2) == "D:") text.remove_prefix(2);
    auto digits = [&](std::size_t n, int fallback, int lo, int hi) -> std::optional<int> {
        if (text.empty() || text[0] < '0' || text[0] > '9') return fallback;
        if (text.size() < n) return std::nullopt;
        int v = 0;
        for (std::size_t i = 0; i < n; ++i) {
            if (text[i] < '0' || text[i] > '9') return std::nullopt;
            v = v * 10 + (text[i] - '0');
        }
        text.remove_prefix(n);
        if (v < lo || v > hi) return std::nullopt;
        return v;
    };
    if (text.size() < 4 || text[0] < '0' || text[0] > '9') return std::nullopt;
    auto year = digits(4, 0, 0, 9999);
    auto month = digits(2, 1, 1, 12);
    auto day = digits(2, 1, 1, 31);
    auto hour = digits(2, 0, 0, 23);
    auto minute = digits(2, 0, 0, 59);
    auto second = digits(2, 0, 0, 59);
    if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
    int offset_minutes = 0;
    if (!text.empty() && (text[0] == '+' || text[0] == '-')) {
        int sign = text[0] == '-' ? -1 : 1;
        text.remove_prefix(1);
        auto oh = digits(2, 0, 0, 23);
        if (!text.empty() && text[0] == '\'') text.remove_prefix(1);
        auto om = digits(2, 0, 0, 59);
        if (!oh || !om) return std::nullopt;
        offset_minutes = sign * (*oh * 60 + *om);
    }
    using namespace std::chrono;
    year_month_day ymd{std::chrono::year(*year), std::chrono::month(static_cast<unsigned>(*month)),
                       std::chrono::day(static_cast<unsigned>(*day))};
    if (!ymd.ok()) return std::nullopt;
    auto t = sys_days(ymd) + hours(*hour) + minutes(*minute) + seconds(*second) -
             minutes(offset_minutes);
    return time_point_cast<milliseconds>(t);
}

std::string HumanDate(Timestamp t) {
    std::tm tm = Utc(t);
    char buf[40];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d UTC", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min);
    return buf;
}

std::string DictWith(const PdfValue& dict, const std::map<std::string, std::string>& replace) {
    std::string out = "<<";
    if (dict.IsDictionary()) {
        for (const auto& [key, value] : dict.entries()) {
            if (value.IsNull() || replace.count(key) > 0) continue;
            out += ' ';
            UnparseName(key, out);
            out += ' ';
            value.UnparseTo(out);
        }
    }
    for (const auto& [key, text] : replace) {
        out += ' ';
        out += key;
        out += ' ';
        out += text;
    }
    out += " >>";
    return out;
}

std::string ArrayWith(const PdfValue& array, const std::string& extra) {
    std::string out = "[";
    for (const auto& item : array.items()) {
        item.UnparseTo(out);
        out += ' ';
    }
    out += extra;
    out += ']';
    return out;
}

std::string Ref(ObjectRef ref) {
    return std::to_string(ref.number) + " " + std::to_string(ref.generation) + " R";
}

}  // namespace firmo::pdf::internal
