#pragma once
// Quiet hours for SMS: no text message reaches a signer between 22:00 and 08:00 their local
// time. The local time is guessed from the phone number's country (libphonenumber, which also
// tells Canada from the US by area code) and that country's main time zone with tzdata's
// daylight-saving rules (i18n/zone.hpp), because that is all Firmo knows about where a signer
// is. A number without a known country is treated as UTC. Pure functions, thread-safe.

#include <chrono>
#include <optional>
#include <string_view>

#include "core/clock.hpp"

namespace firmo::notify {

inline constexpr int kQuietFromHour = 22;  // local, inclusive
inline constexpr int kQuietToHour = 8;     // local, exclusive

// Local time minus UTC at `at` for the number's country (UTC for an unknown country or a
// malformed number).
std::chrono::minutes LocalUtcOffset(std::string_view e164, Timestamp at);

// nullopt when an SMS may be sent to `e164` at `now`; otherwise the next 08:00 local time.
std::optional<Timestamp> QuietUntil(std::string_view e164, Timestamp now);

}  // namespace firmo::notify
