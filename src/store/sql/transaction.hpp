#pragma once
// domain::Transaction for the SQL backends: every repository port implemented once over the
// driver (driver.hpp), with the SQL of statements.hpp and the row mapping of rows.hpp. A
// backend's Database leases a pooled connection (and, on SQLite, this process's writer lock)
// to the transaction, which hands it back when it ends.
//
// Modes: kRead and kWrite run BEGIN (the connection's Begin() says which isolation); kSingle
// and kSingleWrite run each statement in autocommit. In a kWrite transaction on a store with
// row locks (PostgreSQL), the reads that precede a change lock their row (FOR UPDATE), and the
// claims of jobs and outbox messages skip rows other transactions hold (SKIP LOCKED).

#include <functional>
#include <memory>
#include <mutex>

#include "core/error.hpp"
#include "domain/ports/database.hpp"
#include "store/sql/driver.hpp"
#include "store/sql/pool.hpp"
#include "store/sql/request_cache.hpp"

namespace firmo::store::sql {

// What a transaction holds of its database while it runs.
struct Lease {
    Pool* pool = nullptr;
    std::unique_ptr<Connection> conn;
    std::unique_lock<std::mutex> write_lock;  // SQLite: this process's writer (see sqlite/)
    std::function<void()> on_end;             // runs when the transaction has ended
    RequestCache* requests = nullptr;         // the database's read copies; only reads use them
    // Moves when a request changes (request_cache.hpp); none: every read checks the version.
    domain::ChangeSignal* request_changes = nullptr;
};

// Begins a transaction of `mode` on the leased connection.
[[nodiscard]] Result<std::unique_ptr<domain::Transaction>> BeginTransaction(Lease lease,
                                                                            domain::TxMode mode);

}  // namespace firmo::store::sql
