// The pool's accounting that /metrics shows (firmo_db_pool_*): connections lent out, the size,
// and threads waiting for a connection.

#include "store/sql/pool.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace firmo::store::sql {
namespace {

class FakeConnection final : public Connection {
  public:
    Result<Statement*> Prepare(const char*) override {
        return Fail(ErrorCode::kInternal, "not used");
    }
    Result<void> Exec(const char*) override { return {}; }
    Result<void> Begin(TxKind) override { return {}; }
    Result<void> Commit() override { return {}; }
    Result<void> Rollback() override { return {}; }
    bool RowLocks() const override { return false; }
    bool Reusable() const override { return true; }
};

TEST(PoolUse, CountsConnectionsLentOutAndThreadsWaiting) {
    Pool pool(
        []() -> Result<std::unique_ptr<Connection>> { return std::make_unique<FakeConnection>(); },
        2, std::make_unique<FakeConnection>(), "test_connect_failed");
    auto use = pool.Use();
    EXPECT_EQ(use.in_use, 0);  // the first connection is idle
    EXPECT_EQ(use.size, 2);
    EXPECT_EQ(use.waiting, 0);
    auto a = pool.Acquire();
    auto b = pool.Acquire();  // opens the second
    ASSERT_TRUE(a && b);
    EXPECT_EQ(pool.Use().in_use, 2);
    std::thread third([&] {
        auto c = pool.Acquire();  // waits for one to come back
        EXPECT_TRUE(c);
        if (c) pool.Release(std::move(*c));
    });
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (pool.Use().waiting == 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    EXPECT_EQ(pool.Use().waiting, 1);
    EXPECT_EQ(pool.Use().in_use, 2);
    pool.Release(std::move(*a));
    third.join();
    use = pool.Use();
    EXPECT_EQ(use.waiting, 0);
    EXPECT_EQ(use.in_use, 1);  // b
    pool.Release(std::move(*b));
    EXPECT_EQ(pool.Use().in_use, 0);
}

}  // namespace
}  // namespace firmo::store::sql
