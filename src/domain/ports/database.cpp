#include "domain/ports/database.hpp"

namespace firmo::domain {

namespace {
// The unit of work open on this thread, if any (see database.hpp: joining is per thread).
thread_local UnitOfWork* t_unit = nullptr;
}  // namespace

// A transaction that is the open unit's: it forwards every repository to the unit's
// transaction, commits nothing itself, and aborts the unit when a write ends uncommitted.
class JoinedTransaction final : public Transaction {
  public:
    JoinedTransaction(UnitOfWork& unit, TxMode mode) : unit_(unit), mode_(mode) {}
    ~JoinedTransaction() override {
        if (mode_ == TxMode::kWrite && !committed_) unit_.aborted_ = true;
    }

    IssuerRepository& issuers() override { return unit_.tx().issuers(); }
    DossierRepository& dossiers() override { return unit_.tx().dossiers(); }
    SignerRepository& signers() override { return unit_.tx().signers(); }
    RequestRepository& requests() override { return unit_.tx().requests(); }
    SessionRepository& sessions() override { return unit_.tx().sessions(); }
    CodeRepository& codes() override { return unit_.tx().codes(); }
    SignerTokenRepository& signer_tokens() override { return unit_.tx().signer_tokens(); }
    InboxRepository& inbox() override { return unit_.tx().inbox(); }
    AuditLog& audit() override { return unit_.tx().audit(); }
    OutboxRepository& outbox() override { return unit_.tx().outbox(); }
    WebhookRepository& webhooks() override { return unit_.tx().webhooks(); }
    StatusChangeRepository& status_changes() override { return unit_.tx().status_changes(); }
    JobRepository& jobs() override { return unit_.tx().jobs(); }
    RateLimitRepository& rate_limits() override { return unit_.tx().rate_limits(); }
    IdempotencyRepository& idempotency() override { return unit_.tx().idempotency(); }
    SettingRepository& settings() override { return unit_.tx().settings(); }
    RevocationRepository& revocations() override { return unit_.tx().revocations(); }
    QtspAuthorizationRepository& qtsp_authorizations() override {
        return unit_.tx().qtsp_authorizations();
    }
    StaffRepository& staff() override { return unit_.tx().staff(); }

    Result<void> Commit() override {
        if (unit_.aborted()) {
            return Fail(ErrorCode::kInternal, "the unit of work was aborted by an earlier error");
        }
        committed_ = true;
        return {};
    }

  private:
    UnitOfWork& unit_;
    TxMode mode_;
    bool committed_ = false;
};

Result<std::unique_ptr<Transaction>> Database::Begin(TxMode mode) {
    if (t_unit != nullptr && &t_unit->db_ == this && t_unit->open_) {
        return std::unique_ptr<Transaction>(new JoinedTransaction(*t_unit, mode));
    }
    return BeginTransaction(mode);
}

void Database::AfterCommit(std::function<void()> fn) {
    if (t_unit != nullptr && &t_unit->db_ == this && t_unit->open_) {
        t_unit->after_commit_.push_back(std::move(fn));
        return;
    }
    fn();
}

Result<std::unique_ptr<UnitOfWork>> UnitOfWork::Begin(Database& db) {
    if (t_unit != nullptr) return Fail(ErrorCode::kInternal, "units of work do not nest");
    FIRMO_TRY(auto tx, db.BeginTransaction(TxMode::kWrite));
    std::unique_ptr<UnitOfWork> unit(new UnitOfWork(db, std::move(tx)));
    t_unit = unit.get();
    return unit;
}

UnitOfWork::UnitOfWork(Database& db, std::unique_ptr<Transaction> tx)
    : db_(db), tx_(std::move(tx)) {}

UnitOfWork::~UnitOfWork() {
    if (t_unit == this) t_unit = nullptr;
    tx_.reset();  // rolls back unless committed
}

Result<void> UnitOfWork::Commit() {
    if (!open_) return Fail(ErrorCode::kInternal, "the unit of work has ended");
    open_ = false;
    if (t_unit == this) t_unit = nullptr;
    if (aborted_) {
        tx_.reset();
        return Fail(ErrorCode::kInternal, "the unit of work was aborted by an earlier error");
    }
    auto committed = tx_->Commit();
    tx_.reset();  // hands the connection (and a writer lock) back at once
    FIRMO_CHECK(committed);
    for (auto& fn : after_commit_) fn();
    return {};
}

}  // namespace firmo::domain
