#pragma once
// What the SQL backends' Databases share: the connection pool, readiness, migrations, and
// transactions that lease a pooled connection. store/sqlite and store/postgres derive from it
// with their driver, their DDL and (SQLite) their writer lock.

#include <atomic>
#include <memory>
#include <span>

#include "domain/ports/database.hpp"
#include "store/sql/migrate.hpp"
#include "store/sql/pool.hpp"
#include "store/sql/transaction.hpp"

namespace firmo::store::sql {

class SqlDatabase : public domain::Database {
  public:
    Result<int> Migrate() override;
    // Migrate() refuses a database carrying migrations this binary does not know (a newer
    // release upgraded it) unless allowed: for rolling back over additive migrations.
    void AllowNewerSchema(bool allow) { migrate_.allow_newer_schema = allow; }
    Result<void> Ping() override;
    std::optional<domain::ConnectionUse> Connections() const override { return pool_.Use(); }
    // What vouches for the request copies (request_cache.hpp); null when there is none.
    const domain::ChangeSignal* request_changes() const { return request_changes_.get(); }

  protected:
    struct Backend {
        Pool::Connect connect;
        const char* connect_failed_event;  // logged when the pool cannot open a connection
        std::span<const Migration> migrations;
        const char* begin_migration_step;  // see MigrateOptions
        std::size_t cached_requests = 0;   // RequestCache's capacity: 0 reads every time
        // Moves whenever a request changes, in any process (request_cache.hpp); trusted once
        // Migrate() has succeeded (the schema then has what moves it). None: reads check.
        std::unique_ptr<domain::ChangeSignal> request_changes;
    };
    SqlDatabase(Backend backend, int pool_size, std::unique_ptr<Connection> first);

    // A transaction on a pooled connection.
    Result<std::unique_ptr<domain::Transaction>> BeginTransaction(domain::TxMode mode) override;
    // The same with a lease that holds more (a writer lock, an end-of-transaction hook).
    Result<std::unique_ptr<domain::Transaction>> BeginLeased(Lease lease, domain::TxMode mode);
    Pool& pool() { return pool_; }

  private:
    Pool pool_;
    // Read copies of request aggregates, checked by version (request_cache.hpp); none: off.
    std::unique_ptr<RequestCache> requests_;
    std::unique_ptr<domain::ChangeSignal> request_changes_;
    std::atomic<bool> migrated_{false};
    std::span<const Migration> migrations_;
    MigrateOptions migrate_;
};

}  // namespace firmo::store::sql
