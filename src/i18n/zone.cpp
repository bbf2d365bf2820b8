#include "i18n/zone.hpp"

#include <phonenumbers/phonenumberutil.h>
#include <unicode/strenum.h>
#include <unicode/timezone.h>

#include <array>
#include <memory>
#include <utility>

namespace firmo::i18n {
namespace {

// Regions with several zones: the one most of their people live in (the first ICU lists is
// usually a remote one, e.g. America/Adak for the US). Regions with one zone need no entry.
constexpr std::array<std::pair<std::string_view, std::string_view>, 16> kMainZones = {{
    {"AR", "America/Argentina/Buenos_Aires"},
    {"AU", "Australia/Sydney"},
    {"BR", "America/Sao_Paulo"},
    {"CA", "America/Toronto"},
    {"CL", "America/Santiago"},
    {"CN", "Asia/Shanghai"},
    {"DE", "Europe/Berlin"},
    {"ES", "Europe/Madrid"},
    {"ID", "Asia/Jakarta"},
    {"KZ", "Asia/Almaty"},
    {"MX", "America/Mexico_City"},
    {"NZ", "Pacific/Auckland"},
    {"PT", "Europe/Lisbon"},
    {"RU", "Europe/Moscow"},
    {"UA", "Europe/Kyiv"},
    {"US", "America/New_York"},
}};

}  // namespace

std::string RegionOfPhone(std::string_view e164) {
    using ::i18n::phonenumbers::PhoneNumber;
    using ::i18n::phonenumbers::PhoneNumberUtil;
    const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
    PhoneNumber number;
    if (util.Parse(std::string(e164), "ZZ", &number) != PhoneNumberUtil::NO_PARSING_ERROR) {
        return {};
    }
    std::string region;
    util.GetRegionCodeForNumber(number, &region);
    // A number outside the ranges libphonenumber knows (a new range, a drama number) still
    // belongs to its calling code's main country.
    if (region.empty() || region == "ZZ") {
        util.GetRegionCodeForCountryCode(number.country_code(), &region);
    }
    return region == "ZZ" ? std::string() : region;
}

std::string ZoneOfRegion(std::string_view region) {
    if (region.size() != 2) return {};
    for (const auto& [code, zone] : kMainZones) {
        if (code == region) return std::string(zone);
    }
    UErrorCode status = U_ZERO_ERROR;
    const std::string code(region);
    std::unique_ptr<icu::StringEnumeration> zones(icu::TimeZone::createTimeZoneIDEnumeration(
        UCAL_ZONE_TYPE_CANONICAL_LOCATION, code.c_str(), nullptr, status));
    if (U_FAILURE(status) || !zones) return {};
    const char* first = zones->next(nullptr, status);
    return U_SUCCESS(status) && first ? std::string(first) : std::string();
}

std::string ZoneOfPhone(std::string_view e164) { return ZoneOfRegion(RegionOfPhone(e164)); }

std::string ZoneOfPerson(std::string_view phone, std::string_view country) {
    if (std::string zone = ZoneOfPhone(phone); !zone.empty()) return zone;
    return ZoneOfRegion(country);
}

std::chrono::minutes UtcOffset(std::string_view zone, Timestamp at) {
    if (zone.empty()) return std::chrono::minutes(0);
    std::unique_ptr<icu::TimeZone> tz(icu::TimeZone::createTimeZone(icu::UnicodeString::fromUTF8(
        icu::StringPiece(zone.data(), static_cast<int32_t>(zone.size())))));
    icu::UnicodeString id;
    if (!tz || tz->getID(id) == icu::UnicodeString(UCAL_UNKNOWN_ZONE_ID)) {
        return std::chrono::minutes(0);
    }
    UErrorCode status = U_ZERO_ERROR;
    int32_t raw = 0;
    int32_t dst = 0;
    tz->getOffset(static_cast<UDate>(at.time_since_epoch().count()), false, raw, dst, status);
    if (U_FAILURE(status)) return std::chrono::minutes(0);
    return std::chrono::duration_cast<std::chrono::minutes>(std::chrono::milliseconds(raw + dst));
}

}  // namespace firmo::i18n
