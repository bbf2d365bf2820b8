#include "crypto/argon2id.hpp"

#include <gtest/gtest.h>

namespace firmo::crypto {
namespace {

TEST(Argon2id, HashesAreSaltedPhcStringsThatVerifyOnlyTheirPassword) {
    const Argon2idHasher hasher;
    auto a = hasher.Hash("correct horse battery");
    auto b = hasher.Hash("correct horse battery");
    ASSERT_TRUE(a && b);
    EXPECT_TRUE(a->starts_with("$argon2id$v=19$m=19456,t=2,p=1$")) << *a;
    EXPECT_NE(*a, *b);  // a fresh salt each time
    EXPECT_TRUE(hasher.Verify(*a, "correct horse battery"));
    EXPECT_TRUE(hasher.Verify(*b, "correct horse battery"));
    EXPECT_FALSE(hasher.Verify(*a, "correct horse batterY"));
    EXPECT_FALSE(hasher.Verify(*a, ""));
    EXPECT_FALSE(hasher.Verify("", "correct horse battery"));
    EXPECT_FALSE(hasher.Verify("not a hash", "correct horse battery"));
}

}  // namespace
}  // namespace firmo::crypto
