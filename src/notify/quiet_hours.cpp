#include "notify/quiet_hours.hpp"

#include <array>

namespace firmo::notify {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::sys_days;

enum class Zone {
    kUtc,
    kWesternEurope,  // UTC+0, summer +1
    kCentralEurope,  // UTC+1, summer +2
    kEasternEurope,  // UTC+2, summer +3
    kUsEastern,      // UTC-5, summer -4
};

struct CountryZone {
    std::string_view code;  // country calling code, digits after '+'
    Zone zone;
};

// Country calling codes are prefix-free, so the first match is the only one.
constexpr std::array<CountryZone, 34> kZones = {{
    {"1", Zone::kUsEastern},        // NANP: US Eastern as the documented stand-in
    {"44", Zone::kWesternEurope},   // United Kingdom
    {"351", Zone::kWesternEurope},  // Portugal (mainland; the Azores are an hour behind)
    {"353", Zone::kWesternEurope},  // Ireland
    {"31", Zone::kCentralEurope},   // Netherlands
    {"32", Zone::kCentralEurope},   // Belgium
    {"33", Zone::kCentralEurope},   // France (metropolitan)
    {"34", Zone::kCentralEurope},   // Spain (the Canaries are an hour behind)
    {"36", Zone::kCentralEurope},   // Hungary
    {"39", Zone::kCentralEurope},   // Italy, Vatican
    {"41", Zone::kCentralEurope},   // Switzerland
    {"43", Zone::kCentralEurope},   // Austria
    {"45", Zone::kCentralEurope},   // Denmark
    {"46", Zone::kCentralEurope},   // Sweden
    {"47", Zone::kCentralEurope},   // Norway
    {"48", Zone::kCentralEurope},   // Poland
    {"49", Zone::kCentralEurope},   // Germany
    {"352", Zone::kCentralEurope},  // Luxembourg
    {"356", Zone::kCentralEurope},  // Malta
    {"377", Zone::kCentralEurope},  // Monaco
    {"378", Zone::kCentralEurope},  // San Marino
    {"385", Zone::kCentralEurope},  // Croatia
    {"386", Zone::kCentralEurope},  // Slovenia
    {"420", Zone::kCentralEurope},  // Czechia
    {"421", Zone::kCentralEurope},  // Slovakia
    {"423", Zone::kCentralEurope},  // Liechtenstein
    {"30", Zone::kEasternEurope},   // Greece
    {"40", Zone::kEasternEurope},   // Romania
    {"357", Zone::kEasternEurope},  // Cyprus
    {"358", Zone::kEasternEurope},  // Finland
    {"359", Zone::kEasternEurope},  // Bulgaria
    {"370", Zone::kEasternEurope},  // Lithuania
    {"371", Zone::kEasternEurope},  // Latvia
    {"372", Zone::kEasternEurope},  // Estonia
}};

Zone ZoneOf(std::string_view e164) {
    if (e164.empty() || e164.front() != '+') return Zone::kUtc;
    const std::string_view digits = e164.substr(1);
    for (const auto& z : kZones) {
        if (digits.substr(0, z.code.size()) == z.code) return z.zone;
    }
    return Zone::kUtc;
}

std::chrono::year YearOf(Timestamp t) {
    return std::chrono::year_month_day(std::chrono::floor<days>(t)).year();
}

// EU summer time: from the last Sunday of March to the last Sunday of October, both at 01:00
// UTC, whatever the zone (Directive 2000/84/EC).
bool EuSummerTime(Timestamp t) {
    using namespace std::chrono;
    const year y = YearOf(t);
    const auto start = sys_days(y / March / Sunday[last]) + hours(1);
    const auto end = sys_days(y / October / Sunday[last]) + hours(1);
    return t >= start && t < end;
}

// US daylight saving time (since 2007): second Sunday of March 02:00 EST (07:00 UTC) to first
// Sunday of November 02:00 EDT (06:00 UTC).
bool UsSummerTime(Timestamp t) {
    using namespace std::chrono;
    const year y = YearOf(t);
    const auto start = sys_days(y / March / Sunday[2]) + hours(7);
    const auto end = sys_days(y / November / Sunday[1]) + hours(6);
    return t >= start && t < end;
}

}  // namespace

minutes LocalUtcOffset(std::string_view e164, Timestamp at) {
    switch (ZoneOf(e164)) {
        case Zone::kUtc:
            return minutes(0);
        case Zone::kWesternEurope:
            return hours(EuSummerTime(at) ? 1 : 0);
        case Zone::kCentralEurope:
            return hours(EuSummerTime(at) ? 2 : 1);
        case Zone::kEasternEurope:
            return hours(EuSummerTime(at) ? 3 : 2);
        case Zone::kUsEastern:
            return hours(UsSummerTime(at) ? -4 : -5);
    }
    return minutes(0);
}

std::optional<Timestamp> QuietUntil(std::string_view e164, Timestamp now) {
    const minutes offset = LocalUtcOffset(e164, now);
    // Local wall-clock time, written as if it were UTC.
    const Timestamp local = now + offset;
    const sys_days local_day = std::chrono::floor<days>(local);
    const auto hour = std::chrono::floor<hours>(local - local_day).count();
    if (hour >= kQuietToHour && hour < kQuietFromHour) return std::nullopt;
    const sys_days wake_day = hour >= kQuietFromHour ? local_day + days(1) : local_day;
    const Timestamp wake_local = wake_day + hours(kQuietToHour);
    // The offset at 08:00 may differ from the one now: every switch happens during the night.
    // No switch is near 08:00 local, so one correction is exact.
    const minutes wake_offset = LocalUtcOffset(e164, wake_local - offset);
    return wake_local - wake_offset;
}

}  // namespace firmo::notify
