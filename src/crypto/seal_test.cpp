#include "crypto/seal.hpp"

#include <gtest/gtest.h>

namespace firmo::crypto {
namespace {

const std::string kKey(32, 'k');

TEST(Seal, OpensWithTheSameKeyAndContext) {
    auto sealed = Seal(kKey, "redirect_url=https://x/d/secret", "issuer\nkey-1");
    ASSERT_TRUE(sealed);
    EXPECT_EQ(sealed->find("secret"), std::string::npos);
    EXPECT_EQ(sealed->size(), 12 + 31 + 16u);
    auto opened = Open(kKey, *sealed, "issuer\nkey-1");
    ASSERT_TRUE(opened) << opened.error().message;
    EXPECT_EQ(*opened, "redirect_url=https://x/d/secret");
}

TEST(Seal, EachSealIsDifferent) { EXPECT_NE(*Seal(kKey, "same", ""), *Seal(kKey, "same", "")); }

TEST(Seal, AnotherKeyContextOrAlteredValueDoesNotOpen) {
    auto sealed = *Seal(kKey, "value", "ctx");
    EXPECT_EQ(Open(std::string(32, 'o'), sealed, "ctx").error().code, ErrorCode::kForbidden);
    EXPECT_EQ(Open(kKey, sealed, "other").error().code, ErrorCode::kForbidden);
    for (std::size_t i = 0; i < sealed.size(); ++i) {
        auto altered = sealed;
        altered[i] = static_cast<char>(altered[i] ^ 1);
        EXPECT_FALSE(Open(kKey, altered, "ctx")) << "byte " << i;
    }
    EXPECT_EQ(Open(kKey, "short", "ctx").error().code, ErrorCode::kInvalidArgument);
}

TEST(Seal, EmptyPlaintextRoundTrips) {
    auto sealed = Seal(kKey, "", "");
    ASSERT_TRUE(sealed);
    EXPECT_EQ(*Open(kKey, *sealed, ""), "");
}

}  // namespace
}  // namespace firmo::crypto
