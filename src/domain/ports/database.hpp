#pragma once
// Port: the relational store. A Database opens transactions; a Transaction is one database
// transaction that hands out the repository of each aggregate (`tx.requests().Find(...)`), and
// destroying it without Commit() rolls it back. Every read and write of issuer-owned objects is
// scoped by issuer id, so one issuer can never reach another's rows. Implemented by
// store/sqlite (the embedded default), store/postgres and store/memory (tests); one contract
// suite (store/repository_contract_test.cpp) holds all three to the same behaviour.
//
// Units of work: UnitOfWork::Begin opens a write transaction that every transaction this thread
// then begins on the same Database joins, until the unit ends. Services keep calling
// InWriteTransaction as usual, and what they do commits or rolls back with the unit: that is
// how an idempotent POST commits its key, its change and its recorded answer together
// (IdempotencyService::Run). A joined transaction shares the unit's connection, so it sees the
// unit's writes; its Commit() commits nothing yet. A joined *write* transaction dropped without
// Commit() (its service failed half-way) aborts the unit: the unit then refuses to commit,
// because the failed service's partial writes cannot be undone alone. Callbacks registered with
// AfterCommit() run after the unit commits (never when it rolls back).
//
// Thread safety: a Database is used by any number of threads; a Transaction or a UnitOfWork by
// one thread at a time (the one that began it: joining is per thread).

#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "core/error.hpp"
#include "domain/ports/dossier_repository.hpp"
#include "domain/ports/event_repository.hpp"
#include "domain/ports/idempotency_repository.hpp"
#include "domain/ports/issuer_repository.hpp"
#include "domain/ports/job_repository.hpp"
#include "domain/ports/qtsp_authorization_repository.hpp"
#include "domain/ports/rate_limit_repository.hpp"
#include "domain/ports/request_repository.hpp"
#include "domain/ports/revocation_repository.hpp"
#include "domain/ports/setting_repository.hpp"
#include "domain/ports/signer_repository.hpp"
#include "domain/ports/signer_side_repository.hpp"
#include "domain/ports/staff_repository.hpp"

namespace firmo::domain {

class Transaction {
  public:
    virtual ~Transaction() = default;
    Transaction() = default;
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;

    virtual IssuerRepository& issuers() = 0;
    virtual DossierRepository& dossiers() = 0;
    virtual SignerRepository& signers() = 0;
    virtual RequestRepository& requests() = 0;
    virtual SessionRepository& sessions() = 0;
    virtual CodeRepository& codes() = 0;
    virtual SignerTokenRepository& signer_tokens() = 0;
    virtual InboxRepository& inbox() = 0;
    virtual AuditLog& audit() = 0;
    virtual OutboxRepository& outbox() = 0;
    virtual WebhookRepository& webhooks() = 0;
    virtual StatusChangeRepository& status_changes() = 0;
    virtual JobRepository& jobs() = 0;
    virtual RateLimitRepository& rate_limits() = 0;
    virtual IdempotencyRepository& idempotency() = 0;
    virtual SettingRepository& settings() = 0;
    virtual RevocationRepository& revocations() = 0;
    virtual QtspAuthorizationRepository& qtsp_authorizations() = 0;
    virtual StaffRepository& staff() = 0;

    [[nodiscard]] virtual Result<void> Commit() = 0;
};

enum class TxMode {
    kRead,    // a consistent snapshot across several reads
    kWrite,   // serialised with every other write (SQLite, memory) or locking the rows it reads
              // before changing them (PostgreSQL)
    kSingle,  // no transaction: one statement, atomic on its own (cheapest; for hot lookups)
    // No transaction either, for one statement that writes (a hot counter): one round trip on
    // PostgreSQL; SQLite still queues it behind this process's other writers, as kWrite does.
    kSingleWrite,
};

class UnitOfWork;

// This process's connections to the store, for monitoring.
struct ConnectionUse {
    int in_use = 0;   // lent out (a transaction, a migration, a ping, a checkpoint)
    int size = 0;     // the most that may be open at once (database.pool_size)
    int waiting = 0;  // threads waiting for one because all `size` are lent out
};

class Database {
  public:
    virtual ~Database() = default;
    Database() = default;
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    // A transaction of its own, or, while this thread holds an open UnitOfWork on this
    // database, one that joins it (see the top of this file).
    [[nodiscard]] Result<std::unique_ptr<Transaction>> Begin(TxMode mode);
    // Runs `fn` once the unit of work this thread's transactions join has committed (never if
    // it rolls back), or at once when there is none: for wake-ups that must not run before
    // the change they announce is visible.
    void AfterCommit(std::function<void()> fn);

    // Applies pending schema migrations; idempotent.
    [[nodiscard]] virtual Result<int> Migrate() = 0;
    // A cheap round trip, for /readyz.
    [[nodiscard]] virtual Result<void> Ping() = 0;
    // The pool's state now, without I/O; absent for a store without connections (memory).
    virtual std::optional<ConnectionUse> Connections() const { return std::nullopt; }

  protected:
    // A transaction of its own (Begin() has ruled out joining).
    [[nodiscard]] virtual Result<std::unique_ptr<Transaction>> BeginTransaction(TxMode mode) = 0;

  private:
    friend class UnitOfWork;
};

class UnitOfWork {
  public:
    // Opens the unit's write transaction; kInternal when this thread has a unit open already
    // (units do not nest).
    [[nodiscard]] static Result<std::unique_ptr<UnitOfWork>> Begin(Database& db);
    ~UnitOfWork();  // rolls back unless committed
    UnitOfWork(const UnitOfWork&) = delete;
    UnitOfWork& operator=(const UnitOfWork&) = delete;

    // The unit's transaction, until the unit commits.
    Transaction& tx() { return *tx_; }
    // A joined write transaction ended without committing: the unit can only roll back.
    bool aborted() const { return aborted_; }
    // Commits and ends the transaction, then runs the AfterCommit callbacks; fails (and rolls
    // back) when aborted().
    [[nodiscard]] Result<void> Commit();

  private:
    friend class Database;
    friend class JoinedTransaction;
    UnitOfWork(Database& db, std::unique_ptr<Transaction> tx);

    Database& db_;
    std::unique_ptr<Transaction> tx_;
    bool aborted_ = false;
    bool open_ = true;
    std::vector<std::function<void()>> after_commit_;
};

}  // namespace firmo::domain
