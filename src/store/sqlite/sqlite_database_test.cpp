// What is particular to SQLite, beyond the storage contract: several handles on one file (as
// several processes, or two nodes on a shared volume) each with their own pool and writer lock,
// meeting in SQLite's own locking.

#include "store/sqlite/sqlite_database.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/ids.hpp"
#include "core/no_wait.hpp"
#include "core/random.hpp"
#include "core/testing/temp_dir.hpp"
#include "domain/services/context.hpp"
#include "domain/services/rate_limit_service.hpp"
#include "domain/services/testing/polled_request.hpp"
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

// A migration may rewrite requests: the processes already serving the file drop their copies.
TEST_F(SqliteHandles, AMigrationMovesTheRequestCounterOfEveryHandle) {
    auto a = Open();
    auto b = Open();  // stands for a process already serving the file
    ASSERT_TRUE(a && b);
    const auto before = b->request_changes()->Current();
    ASSERT_TRUE(a->Migrate());
    const auto after = b->request_changes()->Current();
    EXPECT_GT(after, before);
    ASSERT_TRUE(b->Migrate());  // nothing left to apply: nothing moves
    EXPECT_EQ(b->request_changes()->Current(), after);
}

// Two handles on one file stand for two processes (two nodes on one folder, or a node and the
// CLI): each keeps its own read copies of requests, vouched for by the counter beside the file.
class SqliteRequestCopies : public SqliteHandles {
  protected:
    void SetUp() override {
        a_ = Open();
        b_ = Open();
        ASSERT_TRUE(a_ && b_);
        ASSERT_TRUE(a_->Migrate());
        ASSERT_TRUE(b_->Migrate());  // none left to apply: trusts the counter from now on
        ASSERT_NE(b_->request_changes(), nullptr);
        auto polled = fixtures::MakePolledRequest(clock_.Now(), [this] { return Id(); });
        request_ = polled.request;
        ASSERT_TRUE(fixtures::Insert(*a_, polled));
    }
    std::string Id() { return NewUlid(clock_.Now(), random_); }
    std::optional<std::string> Reference(SqliteDatabase& db) {
        return fixtures::ReferenceOf(db, request_);
    }
    void Update(SqliteDatabase& db, const std::string& reference) {
        ASSERT_TRUE(fixtures::Rename(db, request_, reference));
    }
    // Changes the reference as a program other than Firmo would: nothing moves the counter,
    // so only a read that asks the file sees it.
    void ChangeBehindTheCopies(const std::string& reference) {
        sqlite3* raw = nullptr;
        ASSERT_EQ(sqlite3_open((dir_.path() / "f.db").c_str(), &raw), SQLITE_OK);
        sqlite3_busy_timeout(raw, 10000);
        const std::string sql = "UPDATE signature_requests SET reference = '" + reference +
                                "', version = version + 1 WHERE id = '" + request_.id + "'";
        EXPECT_EQ(sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
        sqlite3_close(raw);
    }

    SeededRandom random_{7};
    std::unique_ptr<SqliteDatabase> a_;
    std::unique_ptr<SqliteDatabase> b_;
    SignatureRequest request_;
};

TEST_F(SqliteRequestCopies, ACheckedCopyIsServedUntilTheCounterMoves) {
    EXPECT_EQ(Reference(*b_), "ref-1");  // read: the copy is made
    // Nothing moved the counter: handle b hands its copy back without reading the file.
    ChangeBehindTheCopies("unseen");
    EXPECT_EQ(Reference(*b_), "ref-1") << "the copy was checked against the file";

    // A change committed through handle a is seen by handle b's very next read.
    Update(*a_, "ref-2");
    EXPECT_EQ(Reference(*b_), "ref-2");
    // And handle b's own change by its own next read.
    Update(*b_, "ref-3");
    EXPECT_EQ(Reference(*b_), "ref-3");
    EXPECT_EQ(Reference(*a_), "ref-3");
}

TEST_F(SqliteRequestCopies, NoCopyIsTrustedWhileAChangeIsOnItsWay) {
    EXPECT_EQ(Reference(*b_), "ref-1");
    const auto before = b_->request_changes()->Current();
    ASSERT_NE(before, ChangeSignal::kUnknown);
    {
        // Handle a changed the request and has not committed yet: from here until its
        // announcement (whatever becomes of the commit, and even if its process dies right
        // after it) nobody trusts a copy.
        request_.reference = "ref-2";
        auto tx = a_->Begin(TxMode::kWrite);
        ASSERT_TRUE(tx);
        ASSERT_TRUE((*tx)->requests().Update(request_));
        EXPECT_EQ(b_->request_changes()->Current(), ChangeSignal::kUnknown);
        EXPECT_EQ(Reference(*b_), "ref-1");  // checked against the file: not committed yet
        ASSERT_TRUE((*tx)->Commit());
    }
    const auto after = b_->request_changes()->Current();
    EXPECT_NE(after, ChangeSignal::kUnknown);
    EXPECT_GT(after, before);
    EXPECT_EQ(Reference(*b_), "ref-2");
    // A rolled-back change is announced too: only a check's worth.
    {
        request_.reference = "rolled back";
        auto tx = a_->Begin(TxMode::kWrite);
        ASSERT_TRUE(tx);
        ASSERT_TRUE((*tx)->requests().Update(request_));
        EXPECT_EQ(b_->request_changes()->Current(), ChangeSignal::kUnknown);
    }
    EXPECT_GT(b_->request_changes()->Current(), after);
}

TEST_F(SqliteRequestCopies, AVouchedCopyIsReadWhereNothingMayWait) {
    EXPECT_EQ(Reference(*b_), "ref-1");  // the copy
    const auto find = [&]() -> Result<std::optional<SignatureRequest>> {
        FIRMO_TRY(auto tx, b_->Begin(TxMode::kSingle));
        return tx->requests().Find(request_.issuer_id, request_.id);
    };
    {
        // On an I/O thread (core/no_wait.hpp): the copy needs no statement.
        const no_wait::Scope scope;
        auto found = find();
        ASSERT_TRUE(found && *found) << (found ? "" : found.error().message);
        EXPECT_EQ((*found)->reference, "ref-1");
        EXPECT_FALSE(scope.refused());
    }
    Update(*a_, "ref-2");
    {
        // The counter moved: checking the copy would be a statement, which is refused, and so
        // is any transaction that could lock.
        const no_wait::Scope scope;
        EXPECT_FALSE(find());
        EXPECT_TRUE(scope.refused());
        EXPECT_FALSE(b_->Begin(TxMode::kWrite));
        EXPECT_FALSE(b_->Begin(TxMode::kRead));
    }
    EXPECT_EQ(Reference(*b_), "ref-2");  // where it may wait
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
