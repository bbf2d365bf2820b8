#pragma once
// Where a signer's clock is: the IANA time zone of a phone number's country (libphonenumber for
// the country, ICU and the system's tzdata for its zones) or of a country code, and a zone's
// offset from UTC at a moment. No daylight-saving rule is written here: tzdata has them all.
//
// Thread safety: pure functions over read-only library data; safe from any thread.

#include <chrono>
#include <string>
#include <string_view>

#include "core/clock.hpp"

namespace firmo::i18n {

// The ISO 3166 region of an E.164 number ("+393331234567" -> "IT"; "+1 212..." -> "US"; a
// number in no known range: its calling code's main country), "" when it cannot be parsed or
// its calling code is unassigned.
std::string RegionOfPhone(std::string_view e164);
// The zone people of `region` most likely live in: the region's only zone, or for a region
// with several the one most people live in (ICU lists them alphabetically, so a short table
// names those: "US" -> "America/New_York", "CA" -> "America/Toronto", ...); "" when unknown.
std::string ZoneOfRegion(std::string_view region);
// ZoneOfRegion(RegionOfPhone(e164)).
std::string ZoneOfPhone(std::string_view e164);
// A person's zone: their phone number's, else their country's ("IT", from a fiscal code),
// else "" (UTC).
std::string ZoneOfPerson(std::string_view phone, std::string_view country);
// Local time minus UTC in `zone` at `at`, daylight saving included; 0 for "" or an unknown zone.
std::chrono::minutes UtcOffset(std::string_view zone, Timestamp at);

}  // namespace firmo::i18n
