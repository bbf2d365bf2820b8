#include "crypto/digest.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "core/encoding.hpp"

namespace firmo::crypto {
namespace {

// RFC 4231, test cases 1 and 2; keys alternate, as a thread's cached context must follow.
TEST(HmacSha256, KnownAnswersWithChangingKeys) {
    const std::string key1(20, '\x0b');
    const char* const answer1 = "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7";
    const char* const answer2 = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(HexEncode(HmacSha256(key1, "Hi There")), answer1);
        EXPECT_EQ(HexEncode(HmacSha256(key1, "Hi There")), answer1);  // same key again
        EXPECT_EQ(HexEncode(HmacSha256("Jefe", "what do ya want for nothing?")), answer2);
    }
    std::string other;
    std::thread([&] {
        other = HexEncode(HmacSha256("Jefe", "what do ya want for nothing?"));
    }).join();
    EXPECT_EQ(other, answer2);
    EXPECT_EQ(HexEncode(HmacSha256("", "")),
              "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

// RFC 1321, appendix A.5.
TEST(Md5, KnownAnswers) {
    EXPECT_EQ(HexEncode(Md5("")), "d41d8cd98f00b204e9800998ecf8427e");
    EXPECT_EQ(HexEncode(Md5("abc")), "900150983cd24fb0d6963f7d28e17f72");
    EXPECT_EQ(HexEncode(Md5("message digest")), "f96b697d7cb7938d525a2f31aaf161d0");
}

}  // namespace
}  // namespace firmo::crypto
