#include "domain/services/key_use_log.hpp"

#include <gtest/gtest.h>

namespace firmo::domain {
namespace {

using namespace std::chrono_literals;

const Timestamp kT0{std::chrono::milliseconds(1'800'000'000'000)};

TEST(KeyUseLog, AKeyIsWrittenAtMostOncePerIntervalWithItsLatestUse) {
    KeyUseLog log(60s);
    EXPECT_TRUE(log.Due(kT0).empty());
    log.Note("k1", kT0, "10.0.0.1");
    auto due = log.Due(kT0 + 1s);  // never written: at once
    ASSERT_EQ(due.size(), 1u);
    EXPECT_EQ(due[0].key_id, "k1");
    EXPECT_EQ(due[0].at, kT0);
    EXPECT_EQ(due[0].ip, "10.0.0.1");
    // A thousand calls within the minute: nothing until the minute has passed.
    for (int i = 0; i < 1000; ++i) {
        log.Note("k1", kT0 + 2s + std::chrono::milliseconds(i), "10.0.0." + std::to_string(i % 7));
    }
    EXPECT_TRUE(log.Due(kT0 + 30s).empty());
    EXPECT_TRUE(log.Due(kT0 + 60s).empty());  // 59 s since it was written
    due = log.Due(kT0 + 61s);
    ASSERT_EQ(due.size(), 1u);
    EXPECT_EQ(due[0].at, kT0 + 2s + 999ms);  // the latest use, with its address
    EXPECT_EQ(due[0].ip, "10.0.0.5");
    // Nothing new: nothing to write.
    EXPECT_TRUE(log.Due(kT0 + 200s).empty());
}

TEST(KeyUseLog, KeysAreThrottledEachOnItsOwn) {
    KeyUseLog log(60s);
    log.Note("a", kT0, "1.1.1.1");
    ASSERT_EQ(log.Due(kT0).size(), 1u);
    log.Note("a", kT0 + 1s, "1.1.1.1");
    log.Note("b", kT0 + 1s, "2.2.2.2");
    auto due = log.Due(kT0 + 2s);
    ASSERT_EQ(due.size(), 1u);
    EXPECT_EQ(due[0].key_id, "b");
    due = log.Due(kT0 + 60s);
    ASSERT_EQ(due.size(), 1u);
    EXPECT_EQ(due[0].key_id, "a");
}

TEST(KeyUseLog, ShutdownWritesEveryPendingUse) {
    KeyUseLog log(60s);
    log.Note("a", kT0, "1.1.1.1");
    ASSERT_EQ(log.Due(kT0).size(), 1u);
    log.Note("a", kT0 + 5s, "1.1.1.2");
    EXPECT_TRUE(log.Due(kT0 + 6s).empty());
    const auto due = log.Due(kT0 + 6s, /*all=*/true);
    ASSERT_EQ(due.size(), 1u);
    EXPECT_EQ(due[0].ip, "1.1.1.2");
    EXPECT_TRUE(log.Due(kT0 + 7s, true).empty());
}

TEST(KeyUseLog, AnOlderUseNeverReplacesANewerOne) {
    KeyUseLog log(60s);
    log.Note("a", kT0 + 10s, "new");
    log.Note("a", kT0 + 5s, "old");  // noted late by another thread
    const auto due = log.Due(kT0 + 11s);
    ASSERT_EQ(due.size(), 1u);
    EXPECT_EQ(due[0].ip, "new");
}

}  // namespace
}  // namespace firmo::domain
