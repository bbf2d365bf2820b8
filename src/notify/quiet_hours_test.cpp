#include "notify/quiet_hours.hpp"

#include <gtest/gtest.h>

#include <string>

namespace firmo::notify {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

Timestamp At(std::string_view rfc3339) {
    auto t = ParseRfc3339(rfc3339);
    EXPECT_TRUE(t) << rfc3339;
    return t.value_or(Timestamp{});
}

std::string Quiet(std::string_view e164, std::string_view now) {
    auto until = QuietUntil(e164, At(now));
    return until ? FormatRfc3339(*until) : "send now";
}

constexpr std::string_view kItaly = "+393331234567";
constexpr std::string_view kNorway = "+4791234567";
constexpr std::string_view kUk = "+447700900123";
constexpr std::string_view kUs = "+12025550123";
constexpr std::string_view kJapan = "+81312345678";
constexpr std::string_view kUnknown = "+99912345678";  // no country has +999

TEST(QuietHoursTest, OffsetsFollowTheEuSwitchAtOneUtc) {
    // 2026: summer time from Sunday 29 March to Sunday 25 October, 01:00 UTC.
    EXPECT_EQ(LocalUtcOffset(kItaly, At("2026-03-29T00:59:59Z")), hours(1));
    EXPECT_EQ(LocalUtcOffset(kItaly, At("2026-03-29T01:00:00Z")), hours(2));
    EXPECT_EQ(LocalUtcOffset(kItaly, At("2026-10-25T00:59:59Z")), hours(2));
    EXPECT_EQ(LocalUtcOffset(kItaly, At("2026-10-25T01:00:00Z")), hours(1));
    EXPECT_EQ(LocalUtcOffset(kNorway, At("2026-07-01T12:00:00Z")), hours(2));
    EXPECT_EQ(LocalUtcOffset(kUk, At("2026-03-29T00:59:59Z")), hours(0));
    EXPECT_EQ(LocalUtcOffset(kUk, At("2026-03-29T01:00:00Z")), hours(1));
    EXPECT_EQ(LocalUtcOffset("+358401234567", At("2026-01-15T12:00:00Z")), hours(2));
    EXPECT_EQ(LocalUtcOffset("+306912345678", At("2026-07-15T12:00:00Z")), hours(3));
    EXPECT_EQ(LocalUtcOffset("+351912345678", At("2026-07-15T12:00:00Z")), hours(1));
    EXPECT_EQ(LocalUtcOffset("+353851234567", At("2026-01-15T12:00:00Z")), hours(0));
    // 2027: 28 March and 31 October.
    EXPECT_EQ(LocalUtcOffset(kItaly, At("2027-03-28T00:59:59Z")), hours(1));
    EXPECT_EQ(LocalUtcOffset(kItaly, At("2027-03-28T01:00:00Z")), hours(2));
    EXPECT_EQ(LocalUtcOffset(kItaly, At("2027-10-31T00:59:59Z")), hours(2));
    EXPECT_EQ(LocalUtcOffset(kItaly, At("2027-10-31T01:00:00Z")), hours(1));
}

TEST(QuietHoursTest, OffsetsFollowTheUsRuleForPlusOne) {
    // 2026: 8 March 02:00 EST (07:00 UTC) to 1 November 02:00 EDT (06:00 UTC).
    EXPECT_EQ(LocalUtcOffset(kUs, At("2026-03-08T06:59:59Z")), hours(-5));
    EXPECT_EQ(LocalUtcOffset(kUs, At("2026-03-08T07:00:00Z")), hours(-4));
    EXPECT_EQ(LocalUtcOffset(kUs, At("2026-11-01T05:59:59Z")), hours(-4));
    EXPECT_EQ(LocalUtcOffset(kUs, At("2026-11-01T06:00:00Z")), hours(-5));
}

TEST(QuietHoursTest, UnknownOrMalformedNumbersAreUtc) {
    for (std::string_view n : {kUnknown, std::string_view("00393331234567"), std::string_view(""),
                               std::string_view("+"), std::string_view("not a number")}) {
        EXPECT_EQ(LocalUtcOffset(n, At("2026-07-01T12:00:00Z")), minutes(0)) << n;
    }
}

// Every country tzdata knows, not a hand-kept list of European ones: Japan, Moscow, India.
TEST(QuietHoursTest, EveryCountryHasItsZone) {
    EXPECT_EQ(LocalUtcOffset(kJapan, At("2026-07-01T12:00:00Z")), hours(9));
    EXPECT_EQ(LocalUtcOffset("+79161234567", At("2026-07-01T12:00:00Z")), hours(3));
    EXPECT_EQ(LocalUtcOffset("+919812345678", At("2026-07-01T12:00:00Z")), minutes(330));
    // +1 is shared: libphonenumber tells Toronto (416) from Washington (202) and Los Angeles.
    EXPECT_EQ(LocalUtcOffset("+14165550123", At("2026-01-15T12:00:00Z")), hours(-5));
    EXPECT_EQ(Quiet(kJapan, "2026-01-15T12:59:59Z"), "send now");              // 21:59:59 JST
    EXPECT_EQ(Quiet(kJapan, "2026-01-15T13:00:00Z"), "2026-01-15T23:00:00Z");  // 22:00 JST
}

TEST(QuietHoursTest, ItalyEdgesAtTenAndEightAndMidnight) {
    // Winter, CET = UTC+1.
    EXPECT_EQ(Quiet(kItaly, "2026-01-15T20:59:59Z"), "send now");              // 21:59:59
    EXPECT_EQ(Quiet(kItaly, "2026-01-15T21:00:00Z"), "2026-01-16T07:00:00Z");  // 22:00
    EXPECT_EQ(Quiet(kItaly, "2026-01-15T22:59:59Z"), "2026-01-16T07:00:00Z");  // 23:59:59
    EXPECT_EQ(Quiet(kItaly, "2026-01-15T23:00:00Z"), "2026-01-16T07:00:00Z");  // 00:00
    EXPECT_EQ(Quiet(kItaly, "2026-01-16T06:59:59Z"), "2026-01-16T07:00:00Z");  // 07:59:59
    EXPECT_EQ(Quiet(kItaly, "2026-01-16T07:00:00Z"), "send now");              // 08:00
    EXPECT_EQ(Quiet(kItaly, "2026-01-16T12:00:00Z"), "send now");
    // Summer, CEST = UTC+2.
    EXPECT_EQ(Quiet(kItaly, "2026-07-01T19:59:59Z"), "send now");
    EXPECT_EQ(Quiet(kItaly, "2026-07-01T20:00:00Z"), "2026-07-02T06:00:00Z");
    EXPECT_EQ(Quiet(kItaly, "2026-07-01T22:00:00Z"), "2026-07-02T06:00:00Z");  // 00:00
    EXPECT_EQ(Quiet(kItaly, "2026-07-02T05:59:59Z"), "2026-07-02T06:00:00Z");
    EXPECT_EQ(Quiet(kItaly, "2026-07-02T06:00:00Z"), "send now");
    // New year's eve: the next morning is in another year.
    EXPECT_EQ(Quiet(kItaly, "2026-12-31T22:30:00Z"), "2027-01-01T07:00:00Z");
}

TEST(QuietHoursTest, ItalyAcrossTheDstSwitches) {
    // Night of 28-29 March 2026: falls asleep in CET, wakes at 08:00 CEST = 06:00 UTC.
    EXPECT_EQ(Quiet(kItaly, "2026-03-28T20:59:59Z"), "send now");
    EXPECT_EQ(Quiet(kItaly, "2026-03-28T21:00:00Z"), "2026-03-29T06:00:00Z");
    EXPECT_EQ(Quiet(kItaly, "2026-03-29T00:59:59Z"), "2026-03-29T06:00:00Z");  // 01:59 CET
    EXPECT_EQ(Quiet(kItaly, "2026-03-29T01:00:00Z"), "2026-03-29T06:00:00Z");  // 03:00 CEST
    EXPECT_EQ(Quiet(kItaly, "2026-03-29T05:59:59Z"), "2026-03-29T06:00:00Z");
    EXPECT_EQ(Quiet(kItaly, "2026-03-29T06:00:00Z"), "send now");
    EXPECT_EQ(Quiet(kItaly, "2026-03-29T19:59:59Z"), "send now");  // 21:59:59 CEST
    EXPECT_EQ(Quiet(kItaly, "2026-03-29T20:00:00Z"), "2026-03-30T06:00:00Z");
    // Night of 24-25 October 2026: falls asleep in CEST, wakes at 08:00 CET = 07:00 UTC.
    EXPECT_EQ(Quiet(kItaly, "2026-10-24T19:59:59Z"), "send now");
    EXPECT_EQ(Quiet(kItaly, "2026-10-24T20:00:00Z"), "2026-10-25T07:00:00Z");
    EXPECT_EQ(Quiet(kItaly, "2026-10-25T00:59:59Z"), "2026-10-25T07:00:00Z");  // 02:59 CEST
    EXPECT_EQ(Quiet(kItaly, "2026-10-25T01:00:00Z"), "2026-10-25T07:00:00Z");  // 02:00 CET
    EXPECT_EQ(Quiet(kItaly, "2026-10-25T06:59:59Z"), "2026-10-25T07:00:00Z");
    EXPECT_EQ(Quiet(kItaly, "2026-10-25T07:00:00Z"), "send now");
    EXPECT_EQ(Quiet(kItaly, "2026-10-25T20:59:59Z"), "send now");
    EXPECT_EQ(Quiet(kItaly, "2026-10-25T21:00:00Z"), "2026-10-26T07:00:00Z");
}

TEST(QuietHoursTest, NorwayIsCentralEuropeanToo) {
    EXPECT_EQ(Quiet(kNorway, "2026-01-15T21:00:00Z"), "2026-01-16T07:00:00Z");
    EXPECT_EQ(Quiet(kNorway, "2026-03-28T22:00:00Z"), "2026-03-29T06:00:00Z");
    EXPECT_EQ(Quiet(kNorway, "2026-10-24T20:00:00Z"), "2026-10-25T07:00:00Z");
    EXPECT_EQ(Quiet(kNorway, "2026-10-25T06:59:00Z"), "2026-10-25T07:00:00Z");
    EXPECT_EQ(Quiet(kNorway, "2026-10-25T07:00:00Z"), "send now");
}

TEST(QuietHoursTest, UnitedKingdom) {
    EXPECT_EQ(Quiet(kUk, "2026-01-15T21:59:59Z"), "send now");
    EXPECT_EQ(Quiet(kUk, "2026-01-15T22:00:00Z"), "2026-01-16T08:00:00Z");
    EXPECT_EQ(Quiet(kUk, "2026-01-16T00:00:00Z"), "2026-01-16T08:00:00Z");
    EXPECT_EQ(Quiet(kUk, "2026-01-16T08:00:00Z"), "send now");
    EXPECT_EQ(Quiet(kUk, "2026-03-28T22:00:00Z"), "2026-03-29T07:00:00Z");  // GMT -> BST
    EXPECT_EQ(Quiet(kUk, "2026-07-01T20:59:59Z"), "send now");
    EXPECT_EQ(Quiet(kUk, "2026-07-01T21:00:00Z"), "2026-07-02T07:00:00Z");
    EXPECT_EQ(Quiet(kUk, "2026-10-24T21:00:00Z"), "2026-10-25T08:00:00Z");  // BST -> GMT
}

TEST(QuietHoursTest, NorthAmericaUsesUsEastern) {
    EXPECT_EQ(Quiet(kUs, "2026-01-15T02:59:59Z"), "send now");              // 21:59:59 EST
    EXPECT_EQ(Quiet(kUs, "2026-01-15T03:00:00Z"), "2026-01-15T13:00:00Z");  // 22:00 EST
    EXPECT_EQ(Quiet(kUs, "2026-01-15T05:00:00Z"), "2026-01-15T13:00:00Z");  // midnight
    EXPECT_EQ(Quiet(kUs, "2026-01-15T12:59:59Z"), "2026-01-15T13:00:00Z");
    EXPECT_EQ(Quiet(kUs, "2026-01-15T13:00:00Z"), "send now");
    // 7-8 March 2026: EST -> EDT; 31 October - 1 November: EDT -> EST.
    EXPECT_EQ(Quiet(kUs, "2026-03-08T03:00:00Z"), "2026-03-08T12:00:00Z");
    EXPECT_EQ(Quiet(kUs, "2026-03-08T11:59:59Z"), "2026-03-08T12:00:00Z");
    EXPECT_EQ(Quiet(kUs, "2026-03-08T12:00:00Z"), "send now");
    EXPECT_EQ(Quiet(kUs, "2026-11-01T02:00:00Z"), "2026-11-01T13:00:00Z");
    EXPECT_EQ(Quiet(kUs, "2026-11-01T12:59:59Z"), "2026-11-01T13:00:00Z");
    EXPECT_EQ(Quiet(kUs, "2026-11-01T13:00:00Z"), "send now");
}

TEST(QuietHoursTest, UnknownCountryUsesUtc) {
    EXPECT_EQ(Quiet(kUnknown, "2026-01-15T21:59:59Z"), "send now");
    EXPECT_EQ(Quiet(kUnknown, "2026-01-15T22:00:00Z"), "2026-01-16T08:00:00Z");
    EXPECT_EQ(Quiet(kUnknown, "2026-01-16T07:59:59Z"), "2026-01-16T08:00:00Z");
    EXPECT_EQ(Quiet(kUnknown, "2026-01-16T08:00:00Z"), "send now");
    EXPECT_EQ(Quiet("not a number", "2026-07-01T23:00:00Z"), "2026-07-02T08:00:00Z");
}

// Every 7 minutes through both 2026 switch weeks: a deferral always lands on 08:00 local, in
// the future, at most 11 hours away, and sending is then allowed; no deferral means daytime.
TEST(QuietHoursTest, PropertiesHoldAroundEverySwitch) {
    const std::string_view numbers[] = {kItaly,   kNorway,        kUk, kUs, kJapan,
                                        kUnknown, "+358401234567"};
    const char* weeks[] = {"2026-03-05T00:00:00Z", "2026-03-26T00:00:00Z", "2026-10-22T00:00:00Z",
                           "2026-10-29T00:00:00Z"};
    for (std::string_view n : numbers) {
        for (const char* start : weeks) {
            const Timestamp begin = At(start);
            for (Timestamp t = begin; t < begin + hours(24 * 7); t += minutes(7)) {
                const auto local = t + LocalUtcOffset(n, t);
                const auto hour =
                    std::chrono::floor<hours>(local - std::chrono::floor<std::chrono::days>(local))
                        .count();
                auto until = QuietUntil(n, t);
                if (!until) {
                    ASSERT_TRUE(hour >= 8 && hour < 22) << n << " " << FormatRfc3339(t);
                    continue;
                }
                ASSERT_TRUE(hour >= 22 || hour < 8) << n << " " << FormatRfc3339(t);
                ASSERT_GT(*until, t);
                ASSERT_LE(*until - t, hours(11));
                const auto wake = *until + LocalUtcOffset(n, *until);
                ASSERT_EQ(wake - std::chrono::floor<std::chrono::days>(wake), hours(8))
                    << n << " " << FormatRfc3339(t);
                ASSERT_FALSE(QuietUntil(n, *until)) << n << " " << FormatRfc3339(t);
            }
        }
    }
}

}  // namespace
}  // namespace firmo::notify
