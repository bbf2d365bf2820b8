// What is particular to SQLite, beyond the storage contract: several handles on one file (as
// several processes, or two nodes on a shared volume) each with their own pool and writer lock,
// meeting in SQLite's own locking.

#include "store/sqlite/sqlite_database.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "core/testing/temp_dir.hpp"
#include "domain/services/context.hpp"
#include "domain/services/rate_limit_service.hpp"
#include "store/sql/statements.hpp"

namespace firmo::store::sqlite {
namespace {

using namespace firmo::domain;
using namespace std::chrono_literals;

class SqliteHandles : public ::testing::Test {
  protected:
    std::unique_ptr<SqliteDatabase> Open() {
        auto db = SqliteDatabase::Open((dir_.path() / "f.db").string(), 4);
        EXPECT_TRUE(db) << db.error().message;
        return db ? std::move(*db) : nullptr;
    }

    firmo::testing::TempDir dir_{"firmo-sqlite-handles"};
    ManualClock clock_{FromUnixMillis(1'790'000'000'000)};
};

TEST_F(SqliteHandles, TwoHandlesOnOneFileShareARateLimit) {
    auto a = Open();
    auto b = Open();
    ASSERT_TRUE(a && b);
    ASSERT_TRUE(a->Migrate());
    constexpr int kLimit = 30;
    RateLimitService node_a(*a, clock_, {kLimit, 60s});
    RateLimitService node_b(*b, clock_, {kLimit, 60s});
    std::atomic<int> allowed{0};
    std::vector<std::thread> threads;
    for (RateLimitService* node : {&node_a, &node_a, &node_b, &node_b}) {
        threads.emplace_back([&, node] {
            for (int i = 0; i < 50; ++i) {
                if (node->Allow("key:B").allowed) ++allowed;
            }
        });
    }
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(allowed.load(), kLimit);
}

TEST_F(SqliteHandles, WritersOfTwoHandlesLoseNoUpdate) {
    auto a = Open();
    auto b = Open();
    ASSERT_TRUE(a && b);
    ASSERT_TRUE(a->Migrate());
    constexpr int kRounds = 25;
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (Database* db : {static_cast<Database*>(a.get()), static_cast<Database*>(b.get())}) {
        threads.emplace_back([&, db] {
            for (int i = 0; i < kRounds; ++i) {
                // Write transactions of both handles: SQLite's busy timeout serialises them.
                auto done = InWriteTransaction(*db, [&](Transaction& tx) -> Result<void> {
                    FIRMO_TRY(auto n, tx.rate_limits().Add("key:n", clock_.Now(), 60s, 1));
                    (void)n;
                    return {};
                });
                if (!done) ++failures;
            }
        });
    }
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(failures.load(), 0);
    auto tx = b->Begin(TxMode::kSingleWrite);
    ASSERT_TRUE(tx);
    auto counted = (*tx)->rate_limits().Add("key:n", clock_.Now(), 60s, 1);
    ASSERT_TRUE(counted);
    EXPECT_EQ(counted->calls, 2 * kRounds + 1);
}

// SQLite's plan for `sql` on the database file at `path`, one detail per line.
std::string QueryPlan(const std::string& path, const char* sql) {
    sqlite3* raw = nullptr;
    std::string plan;
    if (sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
        sqlite3_stmt* stmt = nullptr;
        const std::string explain = std::string("EXPLAIN QUERY PLAN ") + sql;
        if (sqlite3_prepare_v2(raw, explain.c_str(), -1, &stmt, nullptr) == SQLITE_OK) {
            while (sqlite3_step(stmt) == SQLITE_ROW) {
                plan += reinterpret_cast<const char*>(sqlite3_column_text(stmt, 3));
                plan += "\n";
            }
        } else {
            plan = std::string("prepare failed: ") + sqlite3_errmsg(raw);
        }
        sqlite3_finalize(stmt);
    }
    sqlite3_close(raw);
    return plan;
}

// The job claim (every worker's poll) and the queue counts (every /metrics scrape) read the
// pending rows through their partial indexes, never the whole table. Before migration 7 the
// SQLite index said `done = 0`, which SQLite does not match with the statements' `NOT done`.
TEST_F(SqliteHandles, ClaimsAndQueueCountsUseThePartialIndexes) {
    auto db = Open();
    ASSERT_TRUE(db);
    ASSERT_TRUE(db->Migrate());
    const std::string path = (dir_.path() / "f.db").string();
    EXPECT_NE(QueryPlan(path, sql::kClaimJob).find("USING INDEX jobs_pending"), std::string::npos)
        << QueryPlan(path, sql::kClaimJob);
    EXPECT_NE(QueryPlan(path, sql::kPendingJobs).find("USING INDEX jobs_pending"),
              std::string::npos)
        << QueryPlan(path, sql::kPendingJobs);
    EXPECT_NE(QueryPlan(path, sql::kPendingOutbox).find("USING INDEX outbox_due"),
              std::string::npos)
        << QueryPlan(path, sql::kPendingOutbox);
}

}  // namespace
}  // namespace firmo::store::sqlite
