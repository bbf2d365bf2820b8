#include "crypto/totp.hpp"

#include <gtest/gtest.h>

namespace firmo::crypto {
namespace {

Timestamp At(std::int64_t unix_seconds) { return Timestamp(std::chrono::seconds(unix_seconds)); }

// RFC 6238 appendix B, SHA-1, the low 6 of its 8 digits (HOTP truncation keeps the low digits).
constexpr std::string_view kRfcSecret = "12345678901234567890";

TEST(OathTotp, CodesAreRfc6238Sha1) {
    EXPECT_EQ(TotpCode(kRfcSecret, At(59)), "287082");
    EXPECT_EQ(TotpCode(kRfcSecret, At(1111111109)), "081804");
    EXPECT_EQ(TotpCode(kRfcSecret, At(1111111111)), "050471");
    EXPECT_EQ(TotpCode(kRfcSecret, At(1234567890)), "005924");
    EXPECT_EQ(TotpCode(kRfcSecret, At(2000000000)), "279037");
}

TEST(OathTotp, MatchesTheStepOfNowAndOneEitherSide) {
    const OathTotp f(std::string(32, 'k'));
    const Timestamp now = At(1234567890);  // step 41152263
    EXPECT_EQ(f.MatchStep(kRfcSecret, "005924", now), 41152263);
    EXPECT_EQ(f.MatchStep(kRfcSecret, TotpCode(kRfcSecret, now - std::chrono::seconds(30)), now),
              41152262);
    EXPECT_EQ(f.MatchStep(kRfcSecret, TotpCode(kRfcSecret, now + std::chrono::seconds(30)), now),
              41152264);
    EXPECT_FALSE(
        f.MatchStep(kRfcSecret, TotpCode(kRfcSecret, now - std::chrono::seconds(90)), now));
    EXPECT_FALSE(f.MatchStep(kRfcSecret, "000000", now));
    EXPECT_FALSE(f.MatchStep(kRfcSecret, "05924", now));
    EXPECT_FALSE(f.MatchStep(kRfcSecret, "0059245", now));
    EXPECT_FALSE(f.MatchStep(kRfcSecret, "00592a", now));
    EXPECT_FALSE(f.MatchStep("", "005924", now));
}

TEST(OathTotp, Base32IsRfc4648WithoutPadding) {
    const OathTotp f(std::string(32, 'k'));
    EXPECT_EQ(f.Base32(kRfcSecret), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    EXPECT_EQ(f.Base32("f"), "MY");
}

TEST(OathTotp, SealedSecretsOpenOnlyInTheirContext) {
    const OathTotp f(std::string(32, 'k'));
    auto sealed = f.Seal(kRfcSecret, "staff-totp:u1");
    ASSERT_TRUE(sealed) << sealed.error().message;
    EXPECT_EQ(sealed->find(kRfcSecret), std::string::npos);
    auto opened = f.Open(*sealed, "staff-totp:u1");
    ASSERT_TRUE(opened);
    EXPECT_EQ(*opened, kRfcSecret);
    EXPECT_FALSE(f.Open(*sealed, "staff-totp:u2"));
    EXPECT_FALSE(OathTotp(std::string(32, 'x')).Open(*sealed, "staff-totp:u1"));
}

}  // namespace
}  // namespace firmo::crypto
