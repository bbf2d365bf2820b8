#include "store/sqlite/sqlite_database.hpp"

#include "core/log.hpp"
#include "core/no_wait.hpp"
#include "store/filesystem/shared_counter.hpp"
#include "store/sqlite/connection.hpp"
#include "store/sqlite/migrations.hpp"

namespace firmo::store::sqlite {

namespace {

// The counter every process on this database file moves when it changes a request, beside the
// file (firmo.db-requests.generation). None for a database without a file of its own (an
// in-memory one, a URI): then every read checks the version.
std::unique_ptr<domain::ChangeSignal> OpenRequestSignal(const std::string& path) {
    if (path.empty() || path == ":memory:" || path.starts_with("file:")) return nullptr;
    auto counter = SharedFileCounter::Open(path + "-requests.generation");
    if (!counter) {
        log::Warn("sqlite_request_signal_unavailable", {{"error", counter.error().message}});
        return nullptr;
    }
    return std::move(*counter);
}

}  // namespace

Result<std::unique_ptr<SqliteDatabase>> SqliteDatabase::Open(const std::string& path,
                                                             int pool_size) {
    // Open one connection now so a bad path fails at start, not at the first request.
    FIRMO_TRY(auto first, SqliteConnection::Open(path));
    std::unique_ptr<SqliteDatabase> db(new SqliteDatabase(path, pool_size, std::move(first)));
    db->checkpointer_ = std::thread([raw = db.get()] { raw->CheckpointLoop(); });
    return db;
}

SqliteDatabase::SqliteDatabase(const std::string& path, int pool_size,
                               std::unique_ptr<sql::Connection> first)
    : SqlDatabase(Backend{.connect = [path]() -> Result<std::unique_ptr<sql::Connection>> {
                              FIRMO_TRY(auto conn, SqliteConnection::Open(path));
                              return std::unique_ptr<sql::Connection>(std::move(conn));
                          },
                          .connect_failed_event = "sqlite_open_failed",
                          .migrations = Migrations(),
                          .begin_migration_step = "BEGIN IMMEDIATE",
                          // As on PostgreSQL: a version check is cheaper than the wide read.
                          .cached_requests = 4096,
                          // Vouches for those copies without a read (request_cache.hpp).
                          .request_changes = OpenRequestSignal(path)},
                  pool_size, std::move(first)) {}

SqliteDatabase::~SqliteDatabase() {
    {
        std::lock_guard lock(checkpoint_mu_);
        stopping_ = true;
    }
    checkpoint_cv_.notify_all();
    if (checkpointer_.joinable()) checkpointer_.join();
}

// Checkpoints move the WAL into the database file. Connections do not do it themselves
// (wal_autocheckpoint=0), so no request pays for it; this thread does it after writes.
void SqliteDatabase::CheckpointLoop() {
    std::uint64_t seen = 0;
    bool dirty = false;  // written since the last TRUNCATE
    std::unique_lock lock(checkpoint_mu_);
    while (!stopping_) {
        checkpoint_cv_.wait_for(lock, std::chrono::milliseconds(250));
        const std::uint64_t now = writes_.load(std::memory_order_relaxed);
        const bool busy = now != seen;
        seen = now;
        if (!busy && !dirty) continue;
        lock.unlock();
        if (busy) {
            // PASSIVE copies what it can without blocking writers or readers.
            if (auto conn = pool().Acquire()) {
                (void)(*conn)->Exec("PRAGMA wal_checkpoint(PASSIVE)");
                pool().Release(std::move(*conn));
                dirty = true;
            }
        } else {
            // A quiet moment: reset the WAL file. TRUNCATE takes SQLite's writer lock, so take
            // ours first -- in the same order as BeginTransaction(): writer mutex, then a
            // connection -- and skip the round if a writer is active (no deadlock, no waiting).
            std::unique_lock write_lock(write_mu_, std::try_to_lock);
            if (write_lock.owns_lock()) {
                if (auto conn = pool().Acquire()) {
                    if ((*conn)->Exec("PRAGMA wal_checkpoint(TRUNCATE)")) dirty = false;
                    pool().Release(std::move(*conn));
                }
            }
        }
        lock.lock();
    }
}

Result<std::unique_ptr<domain::Transaction>> SqliteDatabase::BeginTransaction(domain::TxMode mode) {
    sql::Lease lease;
    // Writers of this process queue here instead of in SQLite, whose busy handler makes the
    // losers sleep (1, 2, 5 ... 100 ms) and so sets the tail latency. Other processes (the CLI)
    // still meet the busy timeout. The lock is taken before a pooled connection, so waiting
    // writers do not starve readers of connections.
    if (mode == domain::TxMode::kWrite || mode == domain::TxMode::kSingleWrite) {
        if (no_wait::Active()) return no_wait::Refuse("a write transaction");
        lease.write_lock = std::unique_lock(write_mu_);
        // A write transaction ended: the checkpointer has work.
        lease.on_end = [this] { writes_.fetch_add(1, std::memory_order_relaxed); };
    }
    return BeginLeased(std::move(lease), mode);
}

}  // namespace firmo::store::sqlite
