// MarkedAsTest: a test request's signer certificate says TEST, and stays a valid X.509 name.

#include "domain/certificate_subject.hpp"

#include <gtest/gtest.h>

namespace firmo::domain {
namespace {

TEST(MarkedAsTest, PrefixesTheNameAndKeepsTheRest) {
    SignerIdentity identity{.full_name = "Mario Rossi", .email = "mario@example.org"};
    const SignerIdentity marked = MarkedAsTest(identity);
    EXPECT_EQ(marked.full_name, "TEST - Mario Rossi");
    EXPECT_EQ(marked.email, "mario@example.org");
}

TEST(MarkedAsTest, CutsToSixtyFourCharactersOnACharacterBoundary) {
    // 60 two-byte characters: with the prefix 67 characters, cut to 64 (57 of them kept).
    std::string long_name;
    for (int i = 0; i < 60; ++i) long_name += "\xC3\xA9";  // é
    const SignerIdentity marked = MarkedAsTest(SignerIdentity{.full_name = long_name});
    ASSERT_TRUE(marked.full_name.starts_with("TEST - "));
    EXPECT_EQ(marked.full_name.size(), 7u + 57u * 2u);
    EXPECT_EQ(static_cast<unsigned char>(marked.full_name.back()), 0xA9u);
}

}  // namespace
}  // namespace firmo::domain
