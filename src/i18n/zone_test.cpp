#include "i18n/zone.hpp"

#include <gtest/gtest.h>

namespace firmo::i18n {
namespace {

Timestamp At(std::int64_t unix_seconds) { return Timestamp(std::chrono::seconds(unix_seconds)); }

TEST(I18nZone, RegionOfAPhoneNumberComesFromLibphonenumber) {
    EXPECT_EQ(RegionOfPhone("+393331234567"), "IT");
    EXPECT_EQ(RegionOfPhone("+4791234567"), "NO");
    EXPECT_EQ(RegionOfPhone("+12025550123"), "US");
    EXPECT_EQ(RegionOfPhone("+14165550123"), "CA");  // +1 is shared: the area code decides
    EXPECT_EQ(RegionOfPhone("+442079460000"), "GB");
    EXPECT_EQ(RegionOfPhone("+447700900123"), "GB");  // a drama number: +44's main country
    EXPECT_EQ(RegionOfPhone("+390669812345"), "VA");  // Vatican City, inside +39
    EXPECT_EQ(RegionOfPhone("+99912345678"), "");     // unassigned calling code
    EXPECT_EQ(RegionOfPhone("not a number"), "");
    EXPECT_EQ(RegionOfPhone(""), "");
}

TEST(I18nZone, ZoneOfARegion) {
    EXPECT_EQ(ZoneOfRegion("IT"), "Europe/Rome");
    EXPECT_EQ(ZoneOfRegion("NO"), "Europe/Oslo");
    EXPECT_EQ(ZoneOfRegion("US"), "America/New_York");
    EXPECT_EQ(ZoneOfRegion("JP"), "Asia/Tokyo");
    EXPECT_EQ(ZoneOfRegion("XX"), "");
    EXPECT_EQ(ZoneOfRegion(""), "");
    EXPECT_EQ(ZoneOfPhone("+393331234567"), "Europe/Rome");
    EXPECT_EQ(ZoneOfPhone("+14165550123"), "America/Toronto");
    EXPECT_EQ(ZoneOfPhone("+0"), "");
}

TEST(I18nZone, OffsetsFollowTzdataIncludingDaylightSaving) {
    using std::chrono::hours;
    using std::chrono::minutes;
    // 2026: EU summer time from 29 March 01:00 UTC to 25 October 01:00 UTC.
    EXPECT_EQ(UtcOffset("Europe/Rome", At(1774746000 - 1)), hours(1));  // 29 Mar 00:59:59 UTC
    EXPECT_EQ(UtcOffset("Europe/Rome", At(1774746000)), hours(2));      // 29 Mar 01:00 UTC
    EXPECT_EQ(UtcOffset("Europe/Oslo", At(1792890000 - 1)), hours(2));  // 25 Oct 00:59:59 UTC
    EXPECT_EQ(UtcOffset("Europe/Oslo", At(1792890000)), hours(1));
    // US: 8 March 2026 07:00 UTC to 1 November 2026 06:00 UTC.
    EXPECT_EQ(UtcOffset("America/New_York", At(1772953200 - 1)), hours(-5));
    EXPECT_EQ(UtcOffset("America/New_York", At(1772953200)), hours(-4));
    EXPECT_EQ(UtcOffset("Asia/Kolkata", At(1772953200)), minutes(330));
    EXPECT_EQ(UtcOffset("", At(0)), minutes(0));
    EXPECT_EQ(UtcOffset("Not/AZone", At(0)), minutes(0));
}

}  // namespace
}  // namespace firmo::i18n
