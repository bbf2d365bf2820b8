#pragma once
// The in-memory store, as leveldb's MemEnv is to its Env: every repository port with the
// semantics of the SQL stores (issuer scoping, uniqueness -> kAlreadyExists, ordering and
// pagination, leases fenced by worker and attempt, rollback of a transaction dropped without
// Commit), kept in process memory. For the domain services' tests, and held to the storage
// contract suite like the SQL stores.
//
// Transactions behave like SQLite's: kWrite transactions run one at a time (a writer lock
// held from Begin to the end) on a private copy of the tables, published at Commit; kRead
// transactions read the snapshot committed when they began; kSingle and kSingleWrite apply each
// statement on its own, atomically. A kRead transaction refuses writes (as PostgreSQL's READ
// ONLY does). Copies are per table and made on first write, so a transaction costs what it
// touches. Not modelled: foreign keys (the SQL stores reject rows naming missing parents).
// Thread-safe.

#include <memory>
#include <mutex>

#include "domain/ports/database.hpp"

namespace firmo::store::memory {

struct Tables;

class MemoryDatabase final : public domain::Database {
  public:
    MemoryDatabase();
    ~MemoryDatabase() override;

    // 1 the first time (the schema appears), then 0.
    Result<int> Migrate() override;
    Result<void> Ping() override { return {}; }

  protected:
    Result<std::unique_ptr<domain::Transaction>> BeginTransaction(domain::TxMode mode) override;

  private:
    friend class MemoryTransaction;
    std::shared_ptr<const Tables> Snapshot();
    void Publish(std::shared_ptr<const Tables> tables);

    std::mutex mu_;        // guards committed_ and migrated_
    std::mutex write_mu_;  // one writer at a time
    std::shared_ptr<const Tables> committed_;
    bool migrated_ = false;
};

}  // namespace firmo::store::memory
