#pragma once
// Quiet hours for SMS: no text message reaches a signer between 22:00 and 08:00 their local
// time. The local time is guessed from the phone number's country calling code, because that is
// all Firmo knows about where a signer is. Pure functions, thread-safe.
//
// libstdc++ 12 has no tzdb (std::chrono::zoned_time), so the few rules needed are written out
// here: the EU switch (last Sunday of March and of October, 01:00 UTC) for Central, Western and
// Eastern European time, and the US rule (second Sunday of March, first Sunday of November,
// 02:00 local) for +1, where US Eastern time stands in for the whole North American plan.
// Every other country code is treated as UTC.

#include <chrono>
#include <optional>
#include <string_view>

#include "core/clock.hpp"

namespace firmo::notify {

inline constexpr int kQuietFromHour = 22;  // local, inclusive
inline constexpr int kQuietToHour = 8;     // local, exclusive

// Local time minus UTC at `at` for the number's country calling code (UTC for an unknown code
// or a malformed number).
std::chrono::minutes LocalUtcOffset(std::string_view e164, Timestamp at);

// nullopt when an SMS may be sent to `e164` at `now`; otherwise the next 08:00 local time.
std::optional<Timestamp> QuietUntil(std::string_view e164, Timestamp now);

}  // namespace firmo::notify
