#include "store/sql/sql_database.hpp"

#include "core/no_wait.hpp"
#include "store/sql/statements.hpp"

namespace firmo::store::sql {

SqlDatabase::SqlDatabase(Backend backend, int pool_size, std::unique_ptr<Connection> first)
    : pool_(std::move(backend.connect), pool_size, std::move(first), backend.connect_failed_event),
      requests_(backend.cached_requests > 0
                    ? std::make_unique<RequestCache>(backend.cached_requests)
                    : nullptr),
      request_changes_(std::move(backend.request_changes)),
      migrations_(backend.migrations),
      migrate_{.begin_step = backend.begin_migration_step} {}

Result<std::unique_ptr<domain::Transaction>> SqlDatabase::BeginTransaction(domain::TxMode mode) {
    return BeginLeased(Lease{}, mode);
}

Result<std::unique_ptr<domain::Transaction>> SqlDatabase::BeginLeased(Lease lease,
                                                                      domain::TxMode mode) {
    // Only single statements may start where nothing may wait: they take no lock until their
    // first statement, which is refused there (sql::Prepare); a cached read needs none.
    if (mode != domain::TxMode::kSingle && no_wait::Active()) {
        return no_wait::Refuse("a transaction");
    }
    lease.pool = &pool_;
    lease.requests = requests_.get();
    if (migrated_.load(std::memory_order_acquire)) lease.request_changes = request_changes_.get();
    FIRMO_TRY(lease.conn, pool_.Acquire());
    return sql::BeginTransaction(std::move(lease), mode);
}

Result<void> SqlDatabase::Ping() {
    FIRMO_TRY(auto conn, pool_.Acquire());
    auto result = conn->Exec(kPing);
    pool_.Release(std::move(conn));
    return result;
}

Result<int> SqlDatabase::Migrate() {
    FIRMO_TRY(auto conn, pool_.Acquire());
    auto applied = sql::Migrate(*conn, migrations_, migrate_);
    pool_.Release(std::move(conn));  // closed when a failed step left it inside a transaction
    if (!applied) return applied;
    // A migration may rewrite requests: the copies are dropped (on PostgreSQL the trigger tells
    // the other processes, once it exists; on SQLite moving the shared counter does).
    if (*applied > 0 && request_changes_) request_changes_->MoveLocally();
    migrated_.store(true, std::memory_order_release);
    return applied;
}

}  // namespace firmo::store::sql
