#include "core/clock.hpp"

#include <cctype>
#include <cstdio>

namespace firmo {

Timestamp SystemClock::Now() const {
    return std::chrono::time_point_cast<std::chrono::milliseconds>(
        std::chrono::system_clock::now());
}

ManualClock::ManualClock(Timestamp start) : ms_(ToUnixMillis(start)) {}
Timestamp ManualClock::Now() const { return FromUnixMillis(ms_.load()); }
void ManualClock::Advance(std::chrono::milliseconds by) { ms_ += by.count(); }
void ManualClock::Set(Timestamp t) { ms_ = ToUnixMillis(t); }

std::string FormatRfc3339(Timestamp t) {
    using namespace std::chrono;
    const auto day = floor<days>(t);
    const year_month_day ymd{day};
    const hh_mm_ss<milliseconds> hms{t - day};
    const int year = static_cast<int>(ymd.year());
    const auto ms = hms.subseconds().count();
    if (year < 0 || year > 9999) {
        char buf[48];
        std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02ld:%02ld:%02ld.%03ldZ", year,
                      static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                      static_cast<long>(hms.hours().count()),
                      static_cast<long>(hms.minutes().count()),
                      static_cast<long>(hms.seconds().count()), static_cast<long>(ms));
        std::string out = buf;
        if (ms == 0) out.erase(out.size() - 5, 4);
        return out;
    }
    // Digits written directly: this runs several times per API response (snprintf was a
    // visible share of a GET's CPU time).
    char buf[24] = "0000-00-00T00:00:00.000";
    const auto put = [&buf](int at, long value, int width) {
        for (int i = at + width - 1; i >= at; --i, value /= 10) {
            buf[i] = static_cast<char>('0' + value % 10);
        }
    };
    put(0, year, 4);
    put(5, static_cast<long>(static_cast<unsigned>(ymd.month())), 2);
    put(8, static_cast<long>(static_cast<unsigned>(ymd.day())), 2);
    put(11, static_cast<long>(hms.hours().count()), 2);
    put(14, static_cast<long>(hms.minutes().count()), 2);
    put(17, static_cast<long>(hms.seconds().count()), 2);
    std::string out;
    if (ms != 0) {
        put(20, static_cast<long>(ms), 3);
        out.assign(buf, 23);
    } else {
        out.assign(buf, 19);
    }
    out.push_back('Z');
    return out;
}

namespace {

bool ReadDigits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
    if (pos + n > s.size()) return false;
    int v = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const char c = s[pos + i];
        if (c < '0' || c > '9') return false;
        v = v * 10 + (c - '0');
    }
    out = v;
    return true;
}

}  // namespace

std::optional<Timestamp> ParseRfc3339(std::string_view s) {
    using namespace std::chrono;
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
    if (!ReadDigits(s, 0, 4, y) || s.size() < 20 || s[4] != '-' || !ReadDigits(s, 5, 2, mo) ||
        s[7] != '-' || !ReadDigits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't') ||
        !ReadDigits(s, 11, 2, h) || s[13] != ':' || !ReadDigits(s, 14, 2, mi) || s[16] != ':' ||
        !ReadDigits(s, 17, 2, sec)) {
        return std::nullopt;
    }
    std::size_t pos = 19;
    int millis = 0;
    if (pos < s.size() && s[pos] == '.') {
        ++pos;
        int digits = 0;
        while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
            if (digits < 3) millis = millis * 10 + (s[pos] - '0');
            ++digits;
            ++pos;
        }
        if (digits == 0) return std::nullopt;
        for (int i = digits; i < 3; ++i) millis *= 10;
    }
    int offset_minutes = 0;
    if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
        ++pos;
    } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
        const int sign = s[pos] == '+' ? 1 : -1;
        int oh = 0, om = 0;
        if (!ReadDigits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
            !ReadDigits(s, pos + 4, 2, om) || oh > 23 || om > 59) {
            return std::nullopt;
        }
        offset_minutes = sign * (oh * 60 + om);
        pos += 6;
    } else {
        return std::nullopt;
    }
    if (pos != s.size()) return std::nullopt;
    const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)},
                             day{static_cast<unsigned>(d)}};
    if (!ymd.ok() || h > 23 || mi > 59 || sec > 60) return std::nullopt;
    if (sec == 60) sec = 59;  // leap second: clamp rather than reject
    auto t = sys_days{ymd} + hours{h} + minutes{mi} + seconds{sec} + milliseconds{millis} -
             minutes{offset_minutes};
    return time_point_cast<milliseconds>(t);
}

}  // namespace firmo
