#include "notify/quiet_hours.hpp"

#include "i18n/zone.hpp"

namespace firmo::notify {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::sys_days;

minutes LocalUtcOffset(std::string_view e164, Timestamp at) {
    return i18n::UtcOffset(i18n::ZoneOfPhone(e164), at);
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
