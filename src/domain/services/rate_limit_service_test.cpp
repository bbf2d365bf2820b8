// RateLimitService: the sliding-window arithmetic (pure), and the service on the in-memory
// store: its cache, failing open, and several nodes sharing one limit. (Two SQLite handles on
// one file counting together: store/sqlite/sqlite_database_test.cpp.)

#include "domain/services/rate_limit_service.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/no_wait.hpp"
#include "store/memory/memory_database.hpp"

namespace firmo::domain {
namespace {

using namespace firmo::domain;
using namespace std::chrono_literals;
using std::chrono::milliseconds;

// A window boundary for 10 s windows (and for 1 s, 5 s ... ones).
const Timestamp kStart = FromUnixMillis(1'790'000'000'000);

RateLimitCount Counted(Timestamp window_start, std::int64_t calls, std::int64_t previous) {
    return RateLimitCount{window_start, calls, previous};
}

// ---- The arithmetic ------------------------------------------------------------------------

TEST(RateLimitDecide, WindowsAreAlignedOnTheEpoch) {
    EXPECT_EQ(RateLimitService::WindowStart(kStart, 10s), kStart);
    EXPECT_EQ(RateLimitService::WindowStart(kStart + 9999ms, 10s), kStart);
    EXPECT_EQ(RateLimitService::WindowStart(kStart + 10s, 10s), kStart + 10s);
    EXPECT_EQ(RateLimitService::WindowStart(FromUnixMillis(12'345), 5s), FromUnixMillis(10'000));
    EXPECT_EQ(RateLimitService::WindowStart(FromUnixMillis(-1), 5s), FromUnixMillis(-5'000));
}

TEST(RateLimitDecide, TheLimitIncludesThisCall) {
    const RateLimit limit{10, 10s};
    EXPECT_TRUE(RateLimitService::Decide(Counted(kStart, 10, 0), kStart, limit).allowed);
    EXPECT_TRUE(RateLimitService::Decide(Counted(kStart, 10, 0), kStart + 9999ms, limit).allowed);
    const auto over = RateLimitService::Decide(Counted(kStart, 11, 0), kStart + 4s, limit);
    EXPECT_FALSE(over.allowed);
    // The next call is allowed in the next window once 11 * (10 s - e) / 10 s + 1 <= 10, i.e.
    // e >= 1818.2 ms: at kStart + 11819 ms.
    EXPECT_EQ(over.retry_after, 11819ms - 4s);
}

TEST(RateLimitDecide, ThePreviousWindowWeighsByItsOverlap) {
    const RateLimit limit{10, 10s};
    // 10 calls in the previous window, this one the first of its window.
    EXPECT_FALSE(RateLimitService::Decide(Counted(kStart, 1, 10), kStart, limit).allowed);
    // 999 ms in, 10 * 0.9001 + 1 > 10; 1000 ms in, 10 * 0.9 + 1 = 10: allowed.
    const auto early = RateLimitService::Decide(Counted(kStart, 1, 10), kStart + 999ms, limit);
    EXPECT_FALSE(early.allowed);
    EXPECT_TRUE(RateLimitService::Decide(Counted(kStart, 1, 10), kStart + 1s, limit).allowed);
    // The denied call counts: the next one (the 2nd of the window) needs 10 * (1 - e) + 2 <= 10,
    // i.e. 2 s in.
    EXPECT_EQ(early.retry_after, 2s - 999ms);
    EXPECT_FALSE(RateLimitService::Decide(Counted(kStart, 2, 10), kStart + 1999ms, limit).allowed);
    EXPECT_TRUE(RateLimitService::Decide(Counted(kStart, 2, 10), kStart + 2s, limit).allowed);
    // Half-way: 5 of the previous 10 still count.
    EXPECT_TRUE(RateLimitService::Decide(Counted(kStart, 5, 10), kStart + 5s, limit).allowed);
    EXPECT_FALSE(RateLimitService::Decide(Counted(kStart, 6, 10), kStart + 5s, limit).allowed);
}

TEST(RateLimitDecide, AClockBehindTheStoredWindowCountsThePreviousWindowWhole) {
    const RateLimit limit{10, 10s};
    // This node's clock says kStart - 1 s, another node already opened the window at kStart.
    const auto behind = RateLimitService::Decide(Counted(kStart, 1, 10), kStart - 1s, limit);
    EXPECT_FALSE(behind.allowed);
    EXPECT_EQ(behind.retry_after, 3s);  // until kStart + 2 s, as above
}

TEST(RateLimitDecide, ALimitOfOneWaitsAWholeWindowAfterTheLast) {
    const RateLimit limit{1, 10s};
    EXPECT_TRUE(RateLimitService::Decide(Counted(kStart, 1, 0), kStart + 3s, limit).allowed);
    const auto second = RateLimitService::Decide(Counted(kStart, 2, 0), kStart + 3s, limit);
    EXPECT_FALSE(second.allowed);
    EXPECT_EQ(second.retry_after, 17s);  // at kStart + 20 s the previous window is empty
}

// ---- The service on a database -------------------------------------------------------------

// Forwards to a real database, counting transactions begun; can be made to fail.
class ProbeDatabase final : public Database {
  public:
    explicit ProbeDatabase(Database& inner) : inner_(inner) {}
    Result<int> Migrate() override { return inner_.Migrate(); }
    Result<void> Ping() override { return inner_.Ping(); }

    std::atomic<int> begun{0};
    std::atomic<bool> fail{false};

  protected:
    Result<std::unique_ptr<Transaction>> BeginTransaction(TxMode mode) override {
        ++begun;
        if (fail) return Fail(ErrorCode::kUnavailable, "database down");
        return inner_.Begin(mode);
    }

  private:
    Database& inner_;
};

class RateLimitServiceTest : public ::testing::Test {
  protected:
    void SetUp() override { ASSERT_TRUE(db_->Migrate()); }
    // Calls until the first refusal (at most `max`); returns how many were allowed.
    static int AllowedInARow(RateLimitService& limits, const std::string& bucket, int max = 1000) {
        int allowed = 0;
        while (allowed < max && limits.Allow(bucket).allowed) ++allowed;
        return allowed;
    }

    ManualClock clock_{kStart};
    std::unique_ptr<Database> db_ = std::make_unique<store::memory::MemoryDatabase>();
};

TEST_F(RateLimitServiceTest, AllowsTheLimitThenRefusesUntilRetryAfter) {
    RateLimitService limits(*db_, clock_, {3, 5s});
    EXPECT_EQ(AllowedInARow(limits, "key:A", 3), 3);
    const auto refused = limits.Allow("key:A");
    EXPECT_FALSE(refused.allowed);
    // 4 counted (the refused one too); the next call is allowed once 4 * (5 s - e) / 5 s + 1 <= 3
    // in the next window: e >= 2.5 s.
    EXPECT_EQ(refused.retry_after, 7500ms);
    EXPECT_EQ(AllowedInARow(limits, "key:B"), 3);  // every bucket has its own limit
    clock_.Advance(7499ms);
    EXPECT_FALSE(limits.Allow("key:A").allowed);
    clock_.Advance(1ms);
    EXPECT_TRUE(limits.Allow("key:A").allowed);
    EXPECT_FALSE(limits.Allow("key:A").allowed);
}

TEST_F(RateLimitServiceTest, TheLimitSlidesAcrossAWindowBoundary) {
    RateLimitService limits(*db_, clock_, {10, 10s});
    clock_.Advance(9s);
    EXPECT_EQ(AllowedInARow(limits, "key:A", 10), 10);
    // A fixed window would allow 10 more right after the boundary; the sliding one does not.
    clock_.Advance(1s);
    const auto refused = limits.Allow("key:A");
    EXPECT_FALSE(refused.allowed);
    EXPECT_EQ(refused.retry_after, 2s);  // 10 * 0.8 + 2 <= 10
    clock_.Advance(2s);
    EXPECT_TRUE(limits.Allow("key:A").allowed);
    EXPECT_FALSE(limits.Allow("key:A").allowed);
}

TEST_F(RateLimitServiceTest, RefusedCallsAreAnsweredFromTheCacheWithoutWriting) {
    ProbeDatabase probe(*db_);
    RateLimitService limits(probe, clock_, {2, 10s});
    EXPECT_EQ(AllowedInARow(limits, "key:A"), 2);
    const int writes = probe.begun.load();
    EXPECT_EQ(writes, 3);  // two allowed, one refused
    EXPECT_EQ(limits.remembered(), 1u);
    milliseconds last = 1h;
    for (int i = 0; i < 100; ++i) {
        clock_.Advance(10ms);
        const auto refused = limits.Allow("key:A");
        EXPECT_FALSE(refused.allowed);
        EXPECT_LT(refused.retry_after, last);  // counts down
        last = refused.retry_after;
    }
    EXPECT_EQ(probe.begun.load(), writes);
}

TEST_F(RateLimitServiceTest, LosingTheCacheKeepsTheLimit) {
    {
        RateLimitService before_restart(*db_, clock_, {5, 60s});
        EXPECT_EQ(AllowedInARow(before_restart, "key:A"), 5);
    }
    RateLimitService after_restart(*db_, clock_, {5, 60s});
    EXPECT_EQ(after_restart.remembered(), 0u);
    EXPECT_FALSE(after_restart.Allow("key:A").allowed);
}

TEST_F(RateLimitServiceTest, TheCacheStaysBoundedByForgettingNotByAllowing) {
    RateLimitService limits(*db_, clock_, {1, 60s}, /*max_remembered=*/4);
    for (int i = 0; i < 10; ++i) {
        const std::string bucket = "ip:192.0.2." + std::to_string(i);
        EXPECT_TRUE(limits.Allow(bucket).allowed);
        EXPECT_FALSE(limits.Allow(bucket).allowed);
        EXPECT_LE(limits.remembered(), 4u);
    }
    // Forgotten or not, every one of them is still refused (by the database).
    for (int i = 0; i < 10; ++i) {
        EXPECT_FALSE(limits.Allow("ip:192.0.2." + std::to_string(i)).allowed);
    }
}

// Two nodes: two services, each with its own cache, over one store.
TEST_F(RateLimitServiceTest, TwoNodesOnOneDatabaseShareTheLimit) {
    constexpr int kLimit = 30;
    RateLimitService node_a(*db_, clock_, {kLimit, 60s});
    RateLimitService node_b(*db_, clock_, {kLimit, 60s});
    // Taking turns: kLimit in total, not kLimit on each node.
    int allowed = 0;
    for (int i = 0; i < 2 * kLimit; ++i) {
        if ((i % 2 == 0 ? node_a : node_b).Allow("key:A").allowed) ++allowed;
    }
    EXPECT_EQ(allowed, kLimit);
    // At once: two threads on each node, 50 calls each, for another key.
    std::atomic<int> allowed_at_once{0};
    std::vector<std::thread> threads;
    for (RateLimitService* node : {&node_a, &node_a, &node_b, &node_b}) {
        threads.emplace_back([&, node] {
            for (int i = 0; i < 50; ++i) {
                if (node->Allow("key:B").allowed) ++allowed_at_once;
            }
        });
    }
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(allowed_at_once.load(), kLimit);
    // Both nodes refuse until the window has slid far enough, then both allow again.
    EXPECT_FALSE(node_a.Allow("key:A").allowed);
    EXPECT_FALSE(node_b.Allow("key:A").allowed);
    clock_.Advance(2min);
    EXPECT_TRUE(node_a.Allow("key:A").allowed);
    EXPECT_TRUE(node_b.Allow("key:A").allowed);
}

TEST_F(RateLimitServiceTest, FailsOpenWhenTheDatabaseCannotCount) {
    ProbeDatabase probe(*db_);
    RateLimitService limits(probe, clock_, {1, 60s});
    EXPECT_TRUE(limits.Allow("key:A").allowed);
    EXPECT_FALSE(limits.Allow("key:A").allowed);
    probe.fail = true;
    for (int i = 0; i < 5; ++i) EXPECT_TRUE(limits.Allow("key:B").allowed);
    EXPECT_FALSE(limits.Allow("key:A").allowed);  // still refused: the cache knows
    probe.fail = false;
    EXPECT_TRUE(limits.Allow("key:B").allowed);  // the first call it could count
    EXPECT_FALSE(limits.Allow("key:B").allowed);
}

// ---- Reservations (limits of 32 calls per window and more) ---------------------------------

TEST(RateLimitUsable, HowManyReservedCallsFit) {
    const RateLimit limit{10, 10s};
    EXPECT_EQ(RateLimitService::Usable(Counted(kStart, 8, 0), 4, kStart, limit), 4);
    EXPECT_EQ(RateLimitService::Usable(Counted(kStart, 12, 0), 4, kStart, limit), 2);
    EXPECT_EQ(RateLimitService::Usable(Counted(kStart, 14, 0), 4, kStart, limit), 0);
    // Half of the previous window still weighs: 10 * 0.5 = 5.
    EXPECT_EQ(RateLimitService::Usable(Counted(kStart, 8, 10), 4, kStart + 5s, limit), 1);
    EXPECT_EQ(RateLimitService::Usable(Counted(kStart, 1, 30), 1, kStart + 5s, limit), 0);
    // One call: the same answer as Decide().
    for (int calls = 1; calls < 14; ++calls) {
        const auto c = Counted(kStart, calls, 6);
        EXPECT_EQ(RateLimitService::Usable(c, 1, kStart + 3s, limit) == 1,
                  RateLimitService::Decide(c, kStart + 3s, limit).allowed)
            << calls;
    }
}

TEST_F(RateLimitServiceTest, ABusyBucketWritesOncePerChunkAndNeverExceedsTheLimit) {
    ManualClock& clock = clock_;
    ProbeDatabase counter(*db_);
    RateLimitService limits(counter, clock, {160, 10s});  // chunks of up to 10
    int allowed = 0;
    for (int i = 0; i < 400; ++i) {
        if (limits.Allow("key:A").allowed) ++allowed;
    }
    EXPECT_EQ(allowed, 160);
    EXPECT_LT(counter.begun.load(), 40);  // not one write per call
    // The next window starts with chunks sized by the last one's use; the sliding window
    // still holds: right after the boundary, nothing is left.
    clock.Advance(10s);
    EXPECT_FALSE(limits.Allow("key:A").allowed);
    clock.Advance(5s);  // half of the previous window weighs: 80 calls of room
    allowed = 0;
    for (int i = 0; i < 200; ++i) {
        if (limits.Allow("key:A").allowed) ++allowed;
        clock.Advance(1ms);
    }
    EXPECT_GE(allowed, 80);
    EXPECT_LE(allowed, 81);  // 0.2 s more of the window slid out meanwhile
}

TEST_F(RateLimitServiceTest, NodesShareTheLimitWithinTheStatedBound) {
    ManualClock& clock = clock_;
    ProbeDatabase counter(*db_);
    RateLimitService node_a(counter, clock, {160, 10s});
    RateLimitService node_b(counter, clock, {160, 10s});
    int allowed = 0;
    for (int i = 0; i < 400; ++i) {
        if ((i % 2 == 0 ? node_a : node_b).Allow("key:A").allowed) ++allowed;
    }
    // Never more than the limit; short of it by at most what the other node holds reserved
    // (limit / 16 - 1).
    EXPECT_LE(allowed, 160);
    EXPECT_GE(allowed, 160 - (160 / 16 - 1));
    EXPECT_LT(counter.begun.load(), 100);
    // A quiet bucket is counted call by call: no reservation is held for it.
    const int before = counter.begun.load();
    EXPECT_TRUE(node_a.Allow("key:quiet").allowed);
    EXPECT_EQ(counter.begun.load(), before + 1);
}

TEST_F(RateLimitServiceTest, SmallLimitsAreCountedCallByCall) {
    ProbeDatabase counter(*db_);
    RateLimitService small(counter, clock_, {31, 60s});  // 31 / 16 < 2: no chunks
    int allowed = 0;
    for (int i = 0; i < 40; ++i) allowed += small.Allow("key:A").allowed ? 1 : 0;
    EXPECT_EQ(allowed, 31);
    EXPECT_EQ(counter.begun.load(), 32);  // then the refusal cache answers
}

// What is given back is taken off the shared count: another node can use it.
TEST_F(RateLimitServiceTest, WhereNothingMayWaitOnlyTheReservationServes) {
    ProbeDatabase counter(*db_);
    RateLimitService limits(counter, clock_, {160, 10s});  // chunks of up to 10
    ASSERT_TRUE(limits.Allow("key:A").allowed);            // a chunk of 1
    ASSERT_TRUE(limits.Allow("key:A").allowed);            // a chunk of 2: one call left
    const int begun = counter.begun.load();
    {
        const no_wait::Scope scope;
        EXPECT_TRUE(limits.Allow("key:A").allowed);  // the reserved call
        EXPECT_FALSE(scope.refused());
        // The call is handed on to run again elsewhere: its token goes back, so that it is
        // counted once.
        limits.GiveBack("key:A");
        EXPECT_TRUE(limits.Allow("key:A").allowed);
        EXPECT_FALSE(scope.refused());
        // Nothing reserved: counting would write, so the wait is refused and nothing counted.
        EXPECT_TRUE(limits.Allow("key:A").allowed);
        EXPECT_TRUE(scope.refused());
    }
    EXPECT_EQ(counter.begun.load(), begun);
    // Where it may wait, the next chunk is reserved as if the refused call had not been made.
    ASSERT_TRUE(limits.Allow("key:A").allowed);
    EXPECT_EQ(counter.begun.load(), begun + 1);
}

TEST_F(RateLimitServiceTest, CallsCutByTheLimitAreGivenBack) {
    RateLimitService node_a(*db_, clock_, {64, 10s});  // chunks of up to 4
    RateLimitService node_b(*db_, clock_, {64, 10s});
    int allowed = 0;
    for (int i = 0; i < 200; ++i) allowed += node_a.Allow("key:A").allowed ? 1 : 0;
    EXPECT_EQ(allowed, 64);
    auto tx = db_->Begin(TxMode::kSingleWrite);
    ASSERT_TRUE(tx);
    auto counted = (*tx)->rate_limits().Add("key:A", kStart, 10s, 0);
    ASSERT_TRUE(counted);
    EXPECT_EQ(counted->calls, 65);  // the 64 allowed and the first refused one
    tx = {};
    EXPECT_FALSE(node_b.Allow("key:A").allowed);
}

TEST_F(RateLimitServiceTest, ALimitOfZeroIsOff) {
    ProbeDatabase probe(*db_);
    RateLimitService limits(probe, clock_, {0, 5s});
    for (int i = 0; i < 100; ++i) EXPECT_TRUE(limits.Allow("key:A").allowed);
    EXPECT_EQ(probe.begun.load(), 0);
}

}  // namespace
}  // namespace firmo::domain
