#include "store/memory/memory_database.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace firmo::store::memory {

using namespace firmo::domain;

namespace {

// One table, copied on its first write in a transaction (the committed version stays shared
// with the snapshots that read it).
template <typename T>
class Table {
  public:
    const T& get() const { return *data_; }
    T& mut() {
        if (!owned_) {
            data_ = std::make_shared<T>(*data_);
            owned_ = true;
        }
        return *data_;
    }
    void Seal() { owned_ = false; }

  private:
    std::shared_ptr<T> data_ = std::make_shared<T>();
    bool owned_ = false;
};

struct JobRow {
    Job job;
    Timestamp lease_until;
    bool done = false;
};

struct OutboxRow {
    OutboxMessage message;
    Timestamp lease_until;
};

struct StatusRow {
    StatusChange change;
    std::optional<Timestamp> confirmed_at;
};

struct RateRow {
    Timestamp window_start;
    std::int64_t calls = 0;
    std::int64_t previous_calls = 0;
};

// The numbers the store assigns (SQL: AUTOINCREMENT / BIGSERIAL).
struct Sequences {
    std::int64_t event = 0;
    std::int64_t outbox = 0;
    std::int64_t status = 0;
    std::int64_t job = 0;
};

template <typename K, typename V>
using Map = std::map<K, V>;

}  // namespace

struct Tables {
    Table<Map<std::string, Issuer>> issuers;
    Table<Map<std::string, ApiKey>> api_keys;  // by id
    Table<Map<std::string, Dossier>> dossiers;
    Table<Map<std::string, Signer>> signers;
    // With their signers (by position) and documents (by index).
    Table<Map<std::string, SignatureRequest>> requests;
    Table<Map<std::string, std::string>> document_owners;  // document id -> request id
    Table<Map<std::string, PortalSession>> sessions;
    Table<Map<std::string, OneTimeCode>> codes;
    Table<Map<std::string, SignerToken>> signer_tokens;
    Table<Map<std::string, InboxMessage>> inbox;
    Table<Map<std::string, std::vector<AuditEvent>>> events;  // by request, in seq order
    Table<Map<std::int64_t, OutboxRow>> outbox;
    Table<Map<std::string, std::int64_t>> outbox_turns;  // issuer -> turn (SQL: outbox_turns)
    Table<Map<std::string, WebhookEndpoint>> webhooks;
    Table<Map<std::int64_t, StatusRow>> status_changes;
    Table<Map<std::string, Timestamp>> poll_state;
    Table<Map<std::int64_t, JobRow>> jobs;
    Table<Map<std::pair<std::string, std::int64_t>, RateRow>> rate_limits;
    Table<Map<std::pair<std::string, std::string>, IdempotencyRecord>> idempotency;
    Table<Map<std::string, std::string>> settings;
    Table<Map<std::string, Revocation>> revocations;                 // by serial
    Table<Map<std::string, QtspAuthorization>> qtsp_authorizations;  // by state hash
    Table<Map<std::string, StaffUser>> staff_users;                  // by id
    Table<Map<std::string, StaffSession>> staff_sessions;            // by id_hash
    Table<std::vector<StaffAuditEntry>> staff_audit;  // in seq order (seq = position + 1)
    Table<Sequences> sequences;

    void Seal() {
        issuers.Seal(), api_keys.Seal(), dossiers.Seal(), signers.Seal(), requests.Seal();
        document_owners.Seal(), sessions.Seal(), codes.Seal(), signer_tokens.Seal();
        inbox.Seal(), events.Seal(), outbox.Seal(), webhooks.Seal(), status_changes.Seal();
        outbox_turns.Seal();
        poll_state.Seal(), jobs.Seal(), rate_limits.Seal(), idempotency.Seal(), settings.Seal();
        revocations.Seal();
        qtsp_authorizations.Seal();
        staff_users.Seal(), staff_sessions.Seal(), staff_audit.Seal();
        sequences.Seal();
    }
};

namespace {

tl::unexpected<Error> Taken(const std::string& what) {
    return Fail(ErrorCode::kAlreadyExists, "UNIQUE constraint failed: " + what);
}

template <typename T>
std::optional<T> Found(const Map<std::string, T>& map, const std::string& key) {
    auto it = map.find(key);
    if (it == map.end()) return std::nullopt;
    return it->second;
}

// The page after `after` (exclusive) of a descending walk, read as the SQL stores do: limit + 1
// items tell whether more follow. `id_of` gives the cursor of an item.
template <typename T, typename Match, typename Cursor>
Page<T> PageDescending(const std::vector<const T*>& ascending, const PageQuery& page, Match match,
                       Cursor cursor) {
    Page<T> out;
    for (auto it = ascending.rbegin(); it != ascending.rend(); ++it) {
        if (!match(**it)) continue;
        if (static_cast<int>(out.items.size()) == page.limit) {
            out.next_after_id = cursor(out.items.back());
            break;
        }
        out.items.push_back(**it);
    }
    return out;
}

bool IsLive(RequestStatus s) {
    return s == RequestStatus::kDraft || s == RequestStatus::kReady ||
           s == RequestStatus::kWaitForSignature;
}

}  // namespace

// One transaction: reads see the snapshot (kRead), the private copy (kWrite) or the latest
// commit (kSingle*); writes go to the copy, or are published one by one in autocommit.
class MemoryTransaction final : public Transaction {
  public:
    MemoryTransaction(MemoryDatabase& db, TxMode mode);

    template <typename Fn>
    auto Reading(Fn&& fn) {
        return fn(ReadTables());
    }
    // `fn` checks, then changes: a failed statement leaves the tables as they were.
    template <typename Fn>
    auto Writing(Fn&& fn) -> decltype(fn(std::declval<Tables&>())) {
        if (mode_ == TxMode::kRead) {
            return Fail(ErrorCode::kInternal, "cannot write in a read-only transaction");
        }
        if (ended_) return Fail(ErrorCode::kInternal, "the transaction has ended");
        if (working_) return fn(*working_);
        // Autocommit: this statement alone, under the writer lock.
        std::lock_guard lock(db_.write_mu_);
        Tables working = *db_.Snapshot();
        auto result = fn(working);
        if (result) db_.Publish(std::make_shared<const Tables>(Sealed(std::move(working))));
        return result;
    }

    IssuerRepository& issuers() override { return *issuers_; }
    DossierRepository& dossiers() override { return *dossiers_; }
    SignerRepository& signers() override { return *signers_; }
    RequestRepository& requests() override { return *requests_; }
    SessionRepository& sessions() override { return *sessions_; }
    CodeRepository& codes() override { return *codes_; }
    SignerTokenRepository& signer_tokens() override { return *signer_tokens_; }
    InboxRepository& inbox() override { return *inbox_; }
    AuditLog& audit() override { return *audit_; }
    OutboxRepository& outbox() override { return *outbox_; }
    WebhookRepository& webhooks() override { return *webhooks_; }
    StatusChangeRepository& status_changes() override { return *status_changes_; }
    JobRepository& jobs() override { return *jobs_; }
    RateLimitRepository& rate_limits() override { return *rate_limits_; }
    IdempotencyRepository& idempotency() override { return *idempotency_; }
    SettingRepository& settings() override { return *settings_; }
    RevocationRepository& revocations() override { return *revocations_; }
    QtspAuthorizationRepository& qtsp_authorizations() override { return *qtsp_authorizations_; }
    StaffRepository& staff() override { return *staff_; }

    Result<void> Commit() override {
        if (ended_) return Fail(ErrorCode::kInternal, "the transaction has ended");
        ended_ = true;
        if (working_) {
            db_.Publish(std::make_shared<const Tables>(Sealed(std::move(*working_))));
            working_.reset();
        }
        return {};
    }

  private:
    static Tables Sealed(Tables t) {
        t.Seal();
        return t;
    }
    const Tables& ReadTables() {
        if (working_) return *working_;
        if (mode_ != TxMode::kRead) snapshot_ = db_.Snapshot();  // autocommit: the latest
        return *snapshot_;
    }

    MemoryDatabase& db_;
    TxMode mode_;
    std::unique_lock<std::mutex> write_lock_;
    std::shared_ptr<const Tables> snapshot_;
    std::optional<Tables> working_;
    bool ended_ = false;

    std::unique_ptr<IssuerRepository> issuers_;
    std::unique_ptr<DossierRepository> dossiers_;
    std::unique_ptr<SignerRepository> signers_;
    std::unique_ptr<RequestRepository> requests_;
    std::unique_ptr<SessionRepository> sessions_;
    std::unique_ptr<CodeRepository> codes_;
    std::unique_ptr<SignerTokenRepository> signer_tokens_;
    std::unique_ptr<InboxRepository> inbox_;
    std::unique_ptr<AuditLog> audit_;
    std::unique_ptr<OutboxRepository> outbox_;
    std::unique_ptr<WebhookRepository> webhooks_;
    std::unique_ptr<StatusChangeRepository> status_changes_;
    std::unique_ptr<JobRepository> jobs_;
    std::unique_ptr<RateLimitRepository> rate_limits_;
    std::unique_ptr<IdempotencyRepository> idempotency_;
    std::unique_ptr<SettingRepository> settings_;
    std::unique_ptr<RevocationRepository> revocations_;
    std::unique_ptr<QtspAuthorizationRepository> qtsp_authorizations_;
    std::unique_ptr<StaffRepository> staff_;
};

namespace {

// What the repositories share: their transaction.
class Repo {
  public:
    explicit Repo(MemoryTransaction& tx) : tx_(tx) {}

  protected:
    MemoryTransaction& tx_;
};

// Counts unfinished queue items by kind, as the SQL stores' GROUP BY kind ORDER BY kind.
class PendingByKind {
  public:
    void Add(const std::string& kind, Timestamp due) {
        auto [it, fresh] = by_kind_.try_emplace(kind, PendingCount{kind, 0, due});
        it->second.count += 1;
        if (!fresh) it->second.oldest_due = std::min(it->second.oldest_due, due);
    }
    std::vector<PendingCount> Sorted() const {
        std::vector<PendingCount> out;
        for (const auto& [kind, count] : by_kind_) out.push_back(count);
        return out;
    }

  private:
    std::map<std::string, PendingCount> by_kind_;
};

class MemIssuers final : public IssuerRepository, Repo {
  public:
    using Repo::Repo;
    Result<void> Insert(const Issuer& issuer) override {
        return tx_.Writing([&](Tables& t) -> Result<void> {
            if (t.issuers.get().contains(issuer.id)) return Taken("issuers.id");
            t.issuers.mut()[issuer.id] = issuer;
            return {};
        });
    }
    Result<std::optional<Issuer>> Find(const std::string& id) override {
        return tx_.Reading([&](const Tables& t) { return Found(t.issuers.get(), id); });
    }
    Result<std::int64_t> Count() override {
        return tx_.Reading(
            [](const Tables& t) { return static_cast<std::int64_t>(t.issuers.get().size()); });
    }
    Result<bool> Update(const Issuer& issuer) override {
        return tx_.Writing([&](Tables& t) -> Result<bool> {
            const auto it = t.issuers.get().find(issuer.id);
            if (it == t.issuers.get().end()) return false;
            Issuer updated = issuer;
            updated.created_at = it->second.created_at;
            t.issuers.mut()[issuer.id] = updated;
            return true;
        });
    }
    Result<void> InsertKey(const ApiKey& key) override {
        return tx_.Writing([&](Tables& t) -> Result<void> {
            if (t.api_keys.get().contains(key.id)) return Taken("api_keys.id");
            for (const auto& [id, k] : t.api_keys.get()) {
                if (k.key_hash == key.key_hash) return Taken("api_keys.key_hash");
            }
            t.api_keys.mut()[key.id] = key;
            return {};
        });
    }
    Result<std::optional<ApiKey>> FindKeyByHash(const std::string& key_hash) override {
        return tx_.Reading([&](const Tables& t) -> std::optional<ApiKey> {
            for (const auto& [id, k] : t.api_keys.get()) {
                if (k.key_hash == key_hash) return k;
            }
            return std::nullopt;
        });
    }
    Result<bool> RevokeKey(const std::string& key_id, Timestamp at) override {
        return tx_.Writing([&](Tables& t) -> Result<bool> {
            auto it = t.api_keys.get().find(key_id);
            if (it == t.api_keys.get().end() || it->second.revoked_at) return false;
            t.api_keys.mut()[key_id].revoked_at = at;
            return true;
        });
    }
    Result<std::vector<ApiKey>> ListKeys(const std::string& issuer_id) override {
        return tx_.Reading([&](const Tables& t) {
            std::vector<ApiKey> keys;
            for (const auto& [id, k] : t.api_keys.get()) {
                if (k.issuer_id == issuer_id) keys.push_back(k);
            }
            std::sort(keys.begin(), keys.end(), [](const ApiKey& a, const ApiKey& b) {
                return std::tie(a.created_at, a.id) > std::tie(b.created_at, b.id);
            });
            return keys;
        });
    }
    Result<void> RecordKeyUse(const std::string& key_id, Timestamp at,
                              const std::string& ip) override {
        return tx_.Writing([&](Tables& t) -> Result<void> {
            auto it = t.api_keys.get().find(key_id);
            if (it == t.api_keys.get().end()) return {};
            if (it->second.last_used_at && *it->second.last_used_at >= at) return {};
            ApiKey& key = t.api_keys.mut()[key_id];
            key.last_used_at = at;
            key.last_used_ip = ip;
            return {};
        });
    }
};

class MemDossiers final : public DossierRepository, Repo {
  public:
    using Repo::Repo;
    Result<void> Insert(const Dossier& d) override {
        return tx_.Writing([&](Tables& t) -> Result<void> {
            if (t.dossiers.get().contains(d.id)) return Taken("dossiers.id");
            t.dossiers.mut()[d.id] = d;
            return {};
        });
    }
    Result<std::optional<Dossier>> Find(const std::string& issuer_id,
                                        const std::string& id) override {
        return tx_.Reading([&](const Tables& t) -> std::optional<Dossier> {
            auto d = Found(t.dossiers.get(), id);
            if (d && d->issuer_id != issuer_id) return std::nullopt;
            return d;
        });
    }
    Result<Page<Dossier>> List(const std::string& issuer_id, const PageQuery& page) override {
        return tx_.Reading([&](const Tables& t) {
            std::vector<const Dossier*> all;
            for (const auto& [id, d] : t.dossiers.get()) all.push_back(&d);
            return PageDescending(
                all, page,
                [&](const Dossier& d) {
                    return d.issuer_id == issuer_id && (!page.after_id || d.id < *page.after_id);
                },
                [](const Dossier& d) { return d.id; });
        });
    }
};

class MemSigners final : public SignerRepository, Repo {
  public:
    using Repo::Repo;
    Result<void> Insert(const Signer& s) override {
        return tx_.Writing([&](Tables& t) -> Result<void> {
            if (t.signers.get().contains(s.id)) return Taken("signers.id");
            if (FindBy(t, s.issuer_id, s.kind, s.identifier)) {
                return Taken("signers.issuer_id, signers.kind, signers.identifier");
            }
            t.signers.mut()[s.id] = s;
            return {};
        });
    }
    Result<void> UpdateContact(const Signer& s) override {
        return tx_.Writing([&](Tables& t) -> Result<void> {
            auto it = t.signers.get().find(s.id);
            if (it == t.signers.get().end() || it->second.issuer_id != s.issuer_id) return {};
            auto& stored = t.signers.mut()[s.id];
            stored.email = s.email;
            stored.phone = s.phone;
            stored.updated_at = s.updated_at;
            stored.full_name = s.full_name;
            stored.language = s.language;
            return {};
        });
    }
    Result<std::optional<Signer>> Find(const std::string& issuer_id,
                                       const std::string& id) override {
        return tx_.Reading([&](const Tables& t) -> std::optional<Signer> {
            auto s = Found(t.signers.get(), id);
            if (s && s->issuer_id != issuer_id) return std::nullopt;
            return s;
        });
    }
    Result<std::optional<Signer>> FindByIdentifier(const std::string& issuer_id,
                                                   IdentifierKind kind,
                                                   const std::string& identifier) override {
        return tx_.Reading([&](const Tables& t) { return FindBy(t, issuer_id, kind, identifier); });
    }

  private:
    static std::optional<Signer> FindBy(const Tables& t, const std::string& issuer_id,
                                        IdentifierKind kind, const std::string& identifier) {
        for (const auto& [id, s] : t.signers.get()) {
            if (s.issuer_id == issuer_id && s.kind == kind && s.identifier == identifier) return s;
        }
        return std::nullopt;
    }
};

class MemRequests final : public RequestRepository, Repo {
  public:
    using Repo::Repo;
    Result<void> Insert(const SignatureRequest& r) override {
        return tx_.Writing([&](Tables& t) -> Result<void> {
            if (t.requests.get().contains(r.id)) return Taken("signature_requests.id");
            for (std::size_t i = 0; i < r.documents.size(); ++i) {
                for (std::size_t j = 0; j < i; ++j) {
                    if (r.documents[i].index == r.documents[j].index) {
                        return Taken("documents.request_id, documents.position");
                    }
                }
            }
            SignatureRequest stored = r;
            stored.signers.clear();
            stored.documents.clear();
            MergeChildren(t, stored, r);
            t.requests.mut()[r.id] = std::move(stored);
            return {};
        });
    }
    Result<void> Update(const SignatureRequest& r) override {
        return tx_.Writing([&](Tables& t) -> Result<void> {
            auto it = t.requests.get().find(r.id);
            if (it == t.requests.get().end() || it->second.issuer_id != r.issuer_id ||
                it->second.dossier_id != r.dossier_id || it->second.created_at != r.created_at) {
                return Fail(ErrorCode::kNotFound, "signature request " + r.id + " not found");
            }
            SignatureRequest stored = it->second;
            stored.status = r.status;
            stored.expires_at = r.expires_at;
            stored.reference = r.reference;
            stored.updated_at = r.updated_at;
            stored.signed_at = r.signed_at;
            stored.rejected_at = r.rejected_at;
            stored.reject_reason = r.reject_reason;
            stored.cancelled_at = r.cancelled_at;
            stored.expired_at = r.expired_at;
            stored.redirect = r.redirect;
            stored.notification_id = r.notification_id;
            stored.auto_notify = r.auto_notify;
            stored.identifier_in_signed_documents = r.identifier_in_signed_documents;
            stored.non_sensitive_title = r.non_sensitive_title;
            stored.activates_at = r.activates_at;
            stored.documents_deleted_at = r.documents_deleted_at;
            stored.polling_queue = r.polling_queue;
            MergeChildren(t, stored, r);
            t.requests.mut()[r.id] = std::move(stored);
            return {};
        });
    }
    Result<std::optional<SignatureRequest>> Find(const std::string& issuer_id,
                                                 const std::string& id) override {
        return tx_.Reading([&](const Tables& t) -> std::optional<SignatureRequest> {
            auto r = Found(t.requests.get(), id);
            if (r && r->issuer_id != issuer_id) return std::nullopt;
            return r;
        });
    }
    Result<std::optional<SignatureRequest>> FindForSigner(const std::string& id) override {
        return tx_.Reading([&](const Tables& t) { return Found(t.requests.get(), id); });
    }
    Result<Page<SignatureRequest>> List(const std::string& issuer_id, const RequestFilter& filter,
                                        const PageQuery& page) override {
        return tx_.Reading([&](const Tables& t) {
            std::vector<const SignatureRequest*> all;
            for (const auto& [id, r] : t.requests.get()) all.push_back(&r);
            return PageDescending(
                all, page,
                [&](const SignatureRequest& r) {
                    return r.issuer_id == issuer_id && (!page.after_id || r.id < *page.after_id) &&
                           (!filter.dossier_id || r.dossier_id == *filter.dossier_id) &&
                           (!filter.status || r.status == *filter.status) &&
                           (!filter.test || r.test == *filter.test);
                },
                [](const SignatureRequest& r) { return r.id; });
        });
    }
    Result<std::vector<std::pair<std::string, std::string>>> ListExpired(Timestamp now,
                                                                         int limit) override {
        return Due(now, limit, [](const SignatureRequest& r) { return IsLive(r.status); });
    }
    Result<std::vector<std::pair<std::string, std::string>>> ListRemindable(Timestamp before,
                                                                            int limit) override {
        return Due(before, limit, [](const SignatureRequest& r) {
            return (r.status == RequestStatus::kReady ||
                    r.status == RequestStatus::kWaitForSignature) &&
                   r.notification_id.has_value();
        });
    }
    Result<std::vector<std::pair<std::string, std::string>>> ListDocumentsRetained(
        Timestamp before, int limit) override {
        return tx_.Reading([&](const Tables& t) {
            std::vector<const SignatureRequest*> due;
            for (const auto& [id, r] : t.requests.get()) {
                if (r.updated_at <= before && IsTerminal(r.status) && !r.documents_deleted_at) {
                    due.push_back(&r);
                }
            }
            std::stable_sort(due.begin(), due.end(), [](const auto* a, const auto* b) {
                return a->updated_at < b->updated_at;
            });
            std::vector<std::pair<std::string, std::string>> out;
            for (const auto* r : due) {
                if (static_cast<int>(out.size()) == limit) break;
                out.emplace_back(r->issuer_id, r->id);
            }
            return out;
        });
    }

  private:
    // The SQL stores upsert signers by position and documents by id, changing only their
    // mutable columns; a document id of another request is left alone.
    static void MergeChildren(Tables& t, SignatureRequest& stored, const SignatureRequest& r) {
        for (std::size_t i = 0; i < r.signers.size(); ++i) {
            const auto& s = r.signers[i];
            if (i >= stored.signers.size()) {
                stored.signers.push_back(s);
                continue;
            }
            auto& x = stored.signers[i];
            x.status = s.status;
            x.signed_at = s.signed_at;
            x.rejected_at = s.rejected_at;
            x.accepted_fields = s.accepted_fields;
            x.accepted_at = s.accepted_at;
            x.confirmed_at = s.confirmed_at;
            x.signing_name = s.signing_name;
            x.failed_code_attempts = s.failed_code_attempts;
            x.reject_reason = s.reject_reason;
            x.authenticated_with = s.authenticated_with;
        }
        for (const auto& d : r.documents) {
            auto owner = t.document_owners.get().find(d.id);
            if (owner != t.document_owners.get().end() && owner->second != r.id) continue;
            auto it = std::find_if(stored.documents.begin(), stored.documents.end(),
                                   [&](const Document& x) { return x.id == d.id; });
            if (it == stored.documents.end()) {
                t.document_owners.mut()[d.id] = r.id;
                stored.documents.push_back(d);
                continue;
            }
            const auto metadata = it->metadata;
            const auto index = it->index;
            const auto created_at = it->created_at;
            *it = d;
            it->metadata = metadata;
            it->index = index;
            it->created_at = created_at;
        }
        std::stable_sort(stored.documents.begin(), stored.documents.end(),
                         [](const Document& a, const Document& b) { return a.index < b.index; });
    }

    template <typename Match>
    Result<std::vector<std::pair<std::string, std::string>>> Due(Timestamp at, int limit,
                                                                 Match match) {
        return tx_.Reading([&](const Tables& t) {
            std::vector<const SignatureRequest*> due;
            for (const auto& [id, r] : t.requests.get()) {
                if (r.expires_at <= at && match(r)) due.push_back(&r);
            }
            std::stable_sort(due.begin(), due.end(), [](const auto* a, const auto* b) {
                return a->expires_at < b->expires_at;
            });
            std::vector<std::pair<std::string, std::string>> out;
            for (const auto* r : due) {
                if (static_cast<int>(out.size()) == limit) break;
                out.emplace_back(r->issuer_id, r->id);
            }
            return out;
        });
    }
};

class MemSessions final : public SessionRepository, Repo {
  public:
    using Repo::Repo;
    Result<void> Insert(const PortalSession& s) override {
        return tx_.Writing([&](Tables& t) -> Result<void> {
            if (t.sessions.get().contains(s.id_hash)) return Taken("portal_sessions.id_hash");
            t.sessions.mut()[s.id_hash] = s;
            return {};
        });
    }
    Result<std::optional<PortalSession>> Find(const std::string& id_hash) override {
        return tx_.Reading([&](const Tables& t) { return Found(t.sessions.get(), id_hash); });
    }
    Result<void> Update(const PortalSession& s) override {
        return tx_.Writing([&](Tables& t) -> Result<void> {
            auto it = t.sessions.get().find(s.id_hash);
            if (it == t.sessions.get().end() || it->second.created_at != s.created_at) {
                return Fail(ErrorCode::kNotFound, "session not found");
            }
            t.sessions.mut()[s.id_hash] = s;
            return {};
        });
    }
    Result<void> Delete(const std::string& id_hash) override {
        return tx_.Writing([&](Tables& t) -> Result<void> {
            if (t.sessions.get().contains(id_hash)) t.sessions.mut().erase(id_hash);
            return {};
        });
    }
    Result<std::int64_t> PurgeExpired(Timestamp now) override {
        return tx_.Writing([&](Tables& t) -> Result<std::int64_t> {
            return static_cast<std::int64_t>(std::erase_if(
                t.sessions.mut(), [&](const auto& e) { return e.second.expires_at < now; }));
        });
    }
};

class MemCodes final : public CodeRepository, Repo {
  public:
    using Repo::Repo;
    Result<void> Insert(const OneTimeCode& c) override {
        return tx_.Writing([&](Tables& t) -> Result<void> {
            if (t.codes.get().contains(c.id)) return Taken("one_time_codes.id");
            t.codes.mut()[c.id] = c;
            return {};
        });
    }
    Result<std::optional<OneTimeCode>> FindLatest(const std::string& request_id,
                                                  const std::string& signer_id,
                                                  CodeKind kind) override {
        return tx_.Reading([&](const Tables& t) -> std::optional<OneTimeCode> {
            const auto& codes = t.codes.get();
            for (auto it = codes.rbegin(); it != codes.rend(); ++it) {
                const auto& c = it->second;
                if (c.request_id == request_id && c.signer_id == signer_id && c.kind == kind &&
                    !c.used_at) {
                    return c;
                }
            }
            return std::nullopt;
        });
    }
    Result<bool> Use(const std::string& id, Timestamp at) override {
        return tx_.Writing([&](Tables& t) -> Result<bool> {
            auto it = t.codes.get().find(id);
            if (it == t.codes.get().end() || it->second.used_at) return false;
            t.codes.mut()[id].used_at = at;
            return true;
        });
    }
    Result<std::int64_t> PurgeExpired(Timestamp now) override {
        return tx_.Writing([&](Tables& t) -> Result<std::int64_t> {
            return static_cast<std::int64_t>(std::erase_if(
                t.codes.mut(), [&](const auto& e) { return e.second.expires_at < now; }));
        });
    }
};

class MemSignerTokens final : public SignerTokenRepository, Repo {
  public:
    using Repo::Repo;
    Result<void> Insert(const SignerToken& token) override {
        return tx_.Writing([&](Tables& t) -> Result<void> {
            if (t.signer_tokens.get().contains(token.token_hash)) {
                return Taken("signer_tokens.token_hash");
            }
            t.signer_tokens.mut()[token.token_hash] = token;
            return {};
        });
    }
    Result<std::optional<SignerToken>> Find(const std::string& token_hash) override {
        return tx_.Reading(
            [&](const Tables& t) { return Found(t.signer_tokens.get(), token_hash); });
    }
    Result<bool> Use(const std::string& token_hash, Timestamp at) override {
        return tx_.Writing([&](Tables& t) -> Result<bool> {
            auto it = t.signer_tokens.get().find(token_hash);
            if (it == t.signer_tokens.get().end() || it->second.used_at) return false;
            t.signer_tokens.mut()[token_hash].used_at = at;
            return true;
        });
    }
    Result<void> Revoke(const std::string& request_id, const std::string& signer_id,
                        SignerTokenKind kind, Timestamp at) override {
        return tx_.Writing([&](Tables& t) -> Result<void> {
            for (auto& [hash, token] : t.signer_tokens.mut()) {
                if (token.request_id == request_id && token.signer_id == signer_id &&
                    token.kind == kind && !token.used_at) {
                    token.used_at = at;
                }
            }
            return {};
        });
    }
    Result<std::int64_t> PurgeExpired(Timestamp now) override {
        return tx_.Writing([&](Tables& t) -> Result<std::int64_t> {
            return static_cast<std::int64_t>(std::erase_if(
                t.signer_tokens.mut(), [&](const auto& e) { return e.second.expires_at < now; }));
        });
    }
};

class MemInbox final : public InboxRepository, Repo {
  public:
    using Repo::Repo;
    Result<void> Insert(const InboxMessage& m) override {
        return tx_.Writing([&](Tables& t) -> Result<void> {
            if (t.inbox.get().contains(m.id)) return Taken("inbox_messages.id");
            for (const auto& [id, x] : t.inbox.get()) {
                if (x.request_id == m.request_id && x.signer_id == m.signer_id &&
                    x.kind == m.kind) {
                    return Taken(
                        "inbox_messages.request_id, inbox_messages.signer_id, "
                        "inbox_messages.kind");
                }
            }
            t.inbox.mut()[m.id] = m;
            return {};
        });
    }
    Result<Page<InboxMessage>> List(IdentifierKind kind, const std::string& identity,
                                    const PageQuery& page) override {
        return tx_.Reading([&](const Tables& t) {
            std::vector<const InboxMessage*> all;
            for (const auto& [id, m] : t.inbox.get()) all.push_back(&m);
            return PageDescending(
                all, page,
                [&](const InboxMessage& m) {
                    return m.identity_kind == kind && m.identity == identity &&
                           (!page.after_id || m.id < *page.after_id);
                },
                [](const InboxMessage& m) { return m.id; });
        });
    }
    Result<bool> Has(const std::string& request_id, const std::string& signer_id,
                     MessageKind kind) override {
        return tx_.Reading([&](const Tables& t) {
            for (const auto& [id, m] : t.inbox.get()) {
                if (m.request_id == request_id && m.signer_id == signer_id && m.kind == kind) {
                    return true;
                }
            }
            return false;
        });
    }
};

class MemAuditLog final : public AuditLog, Repo {
  public:
    using Repo::Repo;
    Result<void> Append(const AuditEvent& event) override {
        return tx_.Writing([&](Tables& t) -> Result<void> {
            AuditEvent stored = event;
            stored.seq = ++t.sequences.mut().event;
            t.events.mut()[event.request_id].push_back(std::move(stored));
            return {};
        });
    }
    Result<std::vector<AuditEvent>> List(const std::string& request_id) override {
        return tx_.Reading([&](const Tables& t) {
            return Found(t.events.get(), request_id).value_or(std::vector<AuditEvent>());
        });
    }
};

class MemOutbox final : public OutboxRepository, Repo {
  public:
    using Repo::Repo;
    // The round robin of the SQL stores (statements.hpp, kClaimOutbox): an issuer with nothing
    // pending rests at kResting; a new or requeued message wakes it to 0; a claim moves it to
    // the back.
    static constexpr std::int64_t kResting = std::int64_t{1} << 60;
    static void Wake(Tables& t, const std::string& issuer_id) {
        auto it = t.outbox_turns.get().find(issuer_id);
        if (it == t.outbox_turns.get().end() || it->second >= kResting) {
            t.outbox_turns.mut()[issuer_id] = 0;
        }
    }
    static void Rest(Tables& t, const std::string& issuer_id) {
        for (const auto& [id, row] : t.outbox.get()) {
            const auto& m = row.message;
            if (m.issuer_id == issuer_id && !m.delivered_at && !m.abandoned_at) return;
        }
        if (t.outbox_turns.get().contains(issuer_id)) t.outbox_turns.mut()[issuer_id] = kResting;
    }
    Result<bool> Insert(const OutboxMessage& m) override {
        return tx_.Writing([&](Tables& t) -> Result<bool> {
            for (const auto& [id, row] : t.outbox.get()) {
                const auto& x = row.message;
                if (x.event_id == m.event_id && x.channel == m.channel &&
                    x.destination == m.destination) {
                    return false;
                }
            }
            OutboxMessage stored = m;
            stored.id = ++t.sequences.mut().outbox;
            stored.attempts = 0;
            stored.delivered_at.reset();
            stored.abandoned_at.reset();
            stored.last_error.clear();
            stored.last_response.clear();
            t.outbox.mut()[stored.id] = OutboxRow{stored, FromUnixMillis(0)};
            Wake(t, stored.issuer_id);
            return true;
        });
    }
    Result<std::optional<OutboxMessage>> Claim(Timestamp now,
                                               std::chrono::milliseconds lease) override {
        return tx_.Writing([&](Tables& t) -> Result<std::optional<OutboxMessage>> {
            // The first issuer in turn order with a due message, then its oldest due message.
            std::vector<std::pair<std::int64_t, std::string>> order;
            std::int64_t last_turn = 0;
            for (const auto& [issuer, turn] : t.outbox_turns.get()) {
                order.emplace_back(turn, issuer);
                if (turn < kResting) last_turn = std::max(last_turn, turn);
            }
            std::sort(order.begin(), order.end());
            const OutboxRow* best = nullptr;
            for (const auto& [turn, issuer] : order) {
                for (const auto& [id, row] : t.outbox.get()) {
                    const auto& m = row.message;
                    if (m.issuer_id != issuer || m.delivered_at || m.abandoned_at ||
                        m.next_attempt_at > now || row.lease_until > now) {
                        continue;
                    }
                    if (!best || m.next_attempt_at < best->message.next_attempt_at) best = &row;
                }
                if (best) break;
            }
            if (!best) return std::nullopt;
            auto& row = t.outbox.mut()[best->message.id];
            row.lease_until = now + lease;
            t.outbox_turns.mut()[row.message.issuer_id] = last_turn + 1;
            return row.message;
        });
    }
    Result<void> Update(const OutboxMessage& m) override {
        return tx_.Writing([&](Tables& t) -> Result<void> {
            if (!t.outbox.get().contains(m.id)) return {};
            auto& row = t.outbox.mut()[m.id];
            row.message.attempts = m.attempts;
            row.message.next_attempt_at = m.next_attempt_at;
            row.message.delivered_at = m.delivered_at;
            row.message.abandoned_at = m.abandoned_at;
            row.message.last_error = m.last_error;
            row.message.last_response = m.last_response;
            row.lease_until = FromUnixMillis(0);
            if (!m.delivered_at && !m.abandoned_at) {
                Wake(t, row.message.issuer_id);
            } else {
                Rest(t, row.message.issuer_id);
            }
            return {};
        });
    }
    Result<std::optional<OutboxMessage>> Find(const std::string& issuer_id,
                                              std::int64_t id) override {
        return tx_.Reading([&](const Tables& t) -> std::optional<OutboxMessage> {
            auto it = t.outbox.get().find(id);
            if (it == t.outbox.get().end() || it->second.message.issuer_id != issuer_id) {
                return std::nullopt;
            }
            return it->second.message;
        });
    }
    Result<Page<OutboxMessage>> List(const std::string& issuer_id, Channel channel,
                                     const PageQuery& page) override {
        FIRMO_TRY(auto after, OutboxCursor(page));
        return tx_.Reading([&](const Tables& t) {
            std::vector<const OutboxMessage*> all;
            for (const auto& [id, row] : t.outbox.get()) all.push_back(&row.message);
            return PageDescending(
                all, page,
                [&](const OutboxMessage& m) {
                    return m.issuer_id == issuer_id && m.channel == channel &&
                           (!after || m.id < *after);
                },
                [](const OutboxMessage& m) { return std::to_string(m.id); });
        });
    }
    Result<std::vector<PendingCount>> Pending() override {
        return tx_.Reading([&](const Tables& t) {
            PendingByKind pending;
            for (const auto& [id, row] : t.outbox.get()) {
                const auto& m = row.message;
                if (!m.delivered_at && !m.abandoned_at) {
                    pending.Add(std::string(ToString(m.channel)), m.next_attempt_at);
                }
            }
            return pending.Sorted();
        });
    }
};

class MemWebhooks final : public WebhookRepository, Repo {
  public:
    using Repo::Repo;
    Result<void> Insert(const WebhookEndpoint& w) override {
        return tx_.Writing([&](Tables& t) -> Result<void> {
            if (t.webhooks.get().contains(w.id)) return Taken("webhook_endpoints.id");
            t.webhooks.mut()[w.id] = w;
            return {};
        });
    }
    Result<std::vector<WebhookEndpoint>> List(const std::string& issuer_id) override {
        return tx_.Reading([&](const Tables& t) {
            std::vector<WebhookEndpoint> out;
            for (const auto& [id, w] : t.webhooks.get()) {
                if (w.issuer_id == issuer_id) out.push_back(w);
            }
            return out;
        });
    }
    Result<bool> Delete(const std::string& issuer_id, const std::string& id) override {
        return tx_.Writing([&](Tables& t) -> Result<bool> {
            auto it = t.webhooks.get().find(id);
            if (it == t.webhooks.get().end() || it->second.issuer_id != issuer_id) return false;
            t.webhooks.mut().erase(id);
            return true;
        });
    }
};

class MemStatusChanges final : public StatusChangeRepository, Repo {
  public:
    using Repo::Repo;
    Result<void> Insert(const StatusChange& c) override {
        return tx_.Writing([&](Tables& t) -> Result<void> {
            for (const auto& [seq, row] : t.status_changes.get()) {
                if (row.change.event_id == c.event_id) return {};
            }
            StatusChange stored = c;
            stored.seq = ++t.sequences.mut().status;
            t.status_changes.mut()[stored.seq] = StatusRow{stored, std::nullopt};
            return {};
        });
    }
    Result<std::optional<StatusChange>> Next(const std::string& issuer_id, const std::string& queue,
                                             Timestamp now) override {
        return tx_.Reading([&](const Tables& t) -> std::optional<StatusChange> {
            for (const auto& [seq, row] : t.status_changes.get()) {
                if (row.change.issuer_id == issuer_id && row.change.polling_queue == queue &&
                    !row.confirmed_at && row.change.visible_at <= now) {
                    return row.change;
                }
            }
            return std::nullopt;
        });
    }
    Result<void> Hide(std::int64_t seq, Timestamp until) override {
        return tx_.Writing([&](Tables& t) -> Result<void> {
            if (t.status_changes.get().contains(seq)) {
                t.status_changes.mut()[seq].change.visible_at = until;
            }
            return {};
        });
    }
    Result<std::optional<std::string>> QueueOf(const std::string& issuer_id,
                                               std::int64_t seq) override {
        return tx_.Reading([&](const Tables& t) -> std::optional<std::string> {
            auto it = t.status_changes.get().find(seq);
            if (it == t.status_changes.get().end() || it->second.change.issuer_id != issuer_id) {
                return std::nullopt;
            }
            return it->second.change.polling_queue;
        });
    }
    Result<bool> Confirm(const std::string& issuer_id, std::int64_t seq, Timestamp at) override {
        return tx_.Writing([&](Tables& t) -> Result<bool> {
            auto it = t.status_changes.get().find(seq);
            if (it == t.status_changes.get().end() || it->second.change.issuer_id != issuer_id ||
                it->second.confirmed_at) {
                return false;
            }
            t.status_changes.mut()[seq].confirmed_at = at;
            return true;
        });
    }
    Result<std::optional<Timestamp>> NextPollAt(const std::string& issuer_id,
                                                const std::string& queue) override {
        return tx_.Reading(
            [&](const Tables& t) { return Found(t.poll_state.get(), PollKey(issuer_id, queue)); });
    }
    Result<void> SetNextPollAt(const std::string& issuer_id, const std::string& queue,
                               Timestamp at) override {
        return tx_.Writing([&](Tables& t) -> Result<void> {
            t.poll_state.mut()[PollKey(issuer_id, queue)] = at;
            return {};
        });
    }

  private:
    // One entry per issuer and queue (a queue name has no newline).
    static std::string PollKey(const std::string& issuer_id, const std::string& queue) {
        return issuer_id + "\n" + queue;
    }
};

class MemJobs final : public JobRepository, Repo {
  public:
    using Repo::Repo;
    Result<std::int64_t> Enqueue(const Job& job) override {
        return tx_.Writing([&](Tables& t) -> Result<std::int64_t> {
            JobRow row{job, FromUnixMillis(0), false};
            row.job.id = ++t.sequences.mut().job;
            row.job.attempts = 0;
            row.job.last_error.clear();
            row.job.leased_by.clear();
            t.jobs.mut()[row.job.id] = row;
            return row.job.id;
        });
    }
    Result<std::optional<Job>> Claim(Timestamp now, std::chrono::milliseconds lease,
                                     const std::string& worker) override {
        return tx_.Writing([&](Tables& t) -> Result<std::optional<Job>> {
            const JobRow* best = nullptr;
            for (const auto& [id, row] : t.jobs.get()) {
                if (row.done || row.job.run_at > now || row.lease_until > now) continue;
                if (!best || row.job.run_at < best->job.run_at) best = &row;
            }
            if (!best) return std::nullopt;
            auto& row = t.jobs.mut()[best->job.id];
            row.lease_until = now + lease;
            row.job.leased_by = worker;
            row.job.attempts += 1;
            return row.job;
        });
    }
    Result<bool> Complete(const Job& job) override {
        return Fenced(job, [](JobRow& row) {
            row.done = true;
            row.lease_until = FromUnixMillis(0);
        });
    }
    Result<bool> Retry(const Job& job, Timestamp run_at, const std::string& error) override {
        return Fenced(job, [&](JobRow& row) {
            row.job.run_at = run_at;
            row.job.last_error = error;
            row.lease_until = FromUnixMillis(0);
        });
    }
    Result<bool> Reschedule(const Job& job, Timestamp run_at) override {
        return Fenced(job, [&](JobRow& row) {
            row.job.run_at = run_at;
            row.lease_until = FromUnixMillis(0);
            row.job.attempts = std::max(row.job.attempts - 1, 0);
        });
    }
    Result<std::optional<Job>> FindOpen(JobKind kind, const std::string& request_id,
                                        const std::string& document_id) override {
        return tx_.Reading([&](const Tables& t) -> std::optional<Job> {
            const auto& jobs = t.jobs.get();
            for (auto it = jobs.rbegin(); it != jobs.rend(); ++it) {
                const auto& row = it->second;
                if (!row.done && row.job.kind == kind && row.job.request_id == request_id &&
                    row.job.document_id == document_id) {
                    return row.job;
                }
            }
            return std::nullopt;
        });
    }
    Result<void> Extend(std::int64_t job_id, Timestamp not_after) override {
        return tx_.Writing([&](Tables& t) -> Result<void> {
            if (t.jobs.get().contains(job_id)) t.jobs.mut()[job_id].job.not_after = not_after;
            return {};
        });
    }
    Result<std::int64_t> PurgeFinished(Timestamp before) override {
        return tx_.Writing([&](Tables& t) -> Result<std::int64_t> {
            return static_cast<std::int64_t>(std::erase_if(t.jobs.mut(), [&](const auto& e) {
                return e.second.done && e.second.job.run_at < before;
            }));
        });
    }
    Result<std::vector<PendingCount>> Pending() override {
        return tx_.Reading([&](const Tables& t) {
            PendingByKind pending;
            for (const auto& [id, row] : t.jobs.get()) {
                if (!row.done) pending.Add(std::string(ToString(row.job.kind)), row.job.run_at);
            }
            return pending.Sorted();
        });
    }

  private:
    // Changes the job only while `job` (same worker, same attempt) still holds it.
    template <typename Change>
    Result<bool> Fenced(const Job& job, Change change) {
        return tx_.Writing([&](Tables& t) -> Result<bool> {
            auto it = t.jobs.get().find(job.id);
            if (it == t.jobs.get().end() || it->second.job.leased_by != job.leased_by ||
                it->second.job.attempts != job.attempts) {
                return false;
            }
            change(t.jobs.mut()[job.id]);
            return true;
        });
    }
};

class MemRateLimits final : public RateLimitRepository, Repo {
  public:
    using Repo::Repo;
    Result<RateLimitCount> Add(const std::string& bucket, Timestamp window_start,
                               std::chrono::milliseconds window, std::int64_t calls) override {
        return tx_.Writing([&](Tables& t) -> Result<RateLimitCount> {
            const std::pair key{bucket, static_cast<std::int64_t>(window.count())};
            const std::int64_t added = std::max<std::int64_t>(calls, 0);
            if (!t.rate_limits.get().contains(key)) {
                t.rate_limits.mut()[key] = RateRow{window_start, added, 0};
                return RateLimitCount{window_start, added, 0};
            }
            auto& row = t.rate_limits.mut()[key];
            if (row.window_start == window_start) {
                row.calls += calls;
            } else if (row.window_start > window_start) {
                row.calls += added;  // a newer window (this node's clock is behind)
            } else {
                row.previous_calls = row.window_start == window_start - window ? row.calls : 0;
                row.calls = added;
                row.window_start = window_start;
            }
            return RateLimitCount{row.window_start, row.calls, row.previous_calls};
        });
    }
    Result<std::int64_t> Purge(Timestamp now) override {
        return tx_.Writing([&](Tables& t) -> Result<std::int64_t> {
            return static_cast<std::int64_t>(std::erase_if(t.rate_limits.mut(), [&](const auto& e) {
                return e.second.window_start + 2 * std::chrono::milliseconds(e.first.second) <= now;
            }));
        });
    }
};

class MemIdempotency final : public IdempotencyRepository, Repo {
  public:
    using Repo::Repo;
    Result<std::optional<IdempotencyRecord>> Claim(const IdempotencyRecord& fresh,
                                                   Timestamp stale_before) override {
        return tx_.Writing([&](Tables& t) -> Result<std::optional<IdempotencyRecord>> {
            const std::pair key{fresh.issuer_id, fresh.key};
            auto it = t.idempotency.get().find(key);
            if (it != t.idempotency.get().end() && it->second.created_at >= stale_before) {
                return it->second;
            }
            t.idempotency.mut()[key] = fresh;
            return std::nullopt;
        });
    }
    Result<void> Complete(const IdempotencyRecord& done) override {
        return tx_.Writing([&](Tables& t) -> Result<void> {
            const std::pair key{done.issuer_id, done.key};
            if (!t.idempotency.get().contains(key)) return {};
            auto& stored = t.idempotency.mut()[key];
            stored.status = done.status;
            stored.body = done.body;
            stored.location = done.location;
            return {};
        });
    }
    Result<void> Release(const std::string& issuer_id, const std::string& key) override {
        return tx_.Writing([&](Tables& t) -> Result<void> {
            if (t.idempotency.get().contains({issuer_id, key})) {
                t.idempotency.mut().erase({issuer_id, key});
            }
            return {};
        });
    }
    Result<std::int64_t> Purge(Timestamp before) override {
        return tx_.Writing([&](Tables& t) -> Result<std::int64_t> {
            return static_cast<std::int64_t>(std::erase_if(
                t.idempotency.mut(), [&](const auto& e) { return e.second.created_at < before; }));
        });
    }
};

class MemSettings final : public SettingRepository, Repo {
  public:
    using Repo::Repo;
    Result<std::optional<std::string>> Get(const std::string& key) override {
        return tx_.Reading([&](const Tables& t) { return Found(t.settings.get(), key); });
    }
    Result<std::string> PutIfAbsent(const std::string& key, const std::string& value) override {
        return tx_.Writing([&](Tables& t) -> Result<std::string> {
            if (auto stored = Found(t.settings.get(), key)) return *stored;
            t.settings.mut()[key] = value;
            return value;
        });
    }
};

class MemRevocations final : public RevocationRepository, Repo {
  public:
    using Repo::Repo;
    Result<Revocation> Revoke(const Revocation& r) override {
        return tx_.Writing([&](Tables& t) -> Result<Revocation> {
            if (auto stored = Found(t.revocations.get(), r.serial)) return *stored;
            t.revocations.mut()[r.serial] = r;
            return r;
        });
    }
    Result<std::optional<Revocation>> Find(const std::string& serial) override {
        return tx_.Reading([&](const Tables& t) { return Found(t.revocations.get(), serial); });
    }
    Result<std::vector<Revocation>> List() override {
        return tx_.Reading([&](const Tables& t) {
            std::vector<Revocation> out;
            for (const auto& [serial, r] : t.revocations.get()) out.push_back(r);
            std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
                return a.revoked_at < b.revoked_at;
            });
            return out;
        });
    }
};

class MemQtspAuthorizations final : public QtspAuthorizationRepository, Repo {
  public:
    using Repo::Repo;
    Result<void> Insert(const QtspAuthorization& a) override {
        return tx_.Writing([&](Tables& t) -> Result<void> {
            if (t.qtsp_authorizations.get().contains(a.state_hash)) {
                return Taken("qtsp_authorizations.state_hash");
            }
            QtspAuthorization stored = a;
            stored.finished_at.reset();
            stored.outcome.clear();
            stored.sealed_code.clear();
            stored.sealed_token.clear();
            stored.token_expires_at.reset();
            t.qtsp_authorizations.mut()[a.state_hash] = std::move(stored);
            return {};
        });
    }
    Result<std::optional<QtspAuthorization>> Find(const std::string& state_hash) override {
        return tx_.Reading(
            [&](const Tables& t) { return Found(t.qtsp_authorizations.get(), state_hash); });
    }
    Result<bool> Finish(const std::string& state_hash, const std::string& outcome,
                        Timestamp at) override {
        return tx_.Writing([&](Tables& t) -> Result<bool> {
            auto stored = Found(t.qtsp_authorizations.get(), state_hash);
            if (!stored || stored->finished_at || stored->expires_at <= at) return false;
            auto& row = t.qtsp_authorizations.mut()[state_hash];
            row.finished_at = at;
            row.outcome = outcome;
            return true;
        });
    }
    Result<std::int64_t> DeleteExpired(Timestamp before) override {
        return tx_.Writing([&](Tables& t) -> Result<std::int64_t> {
            std::int64_t n = 0;
            auto& rows = t.qtsp_authorizations.mut();
            for (auto it = rows.begin(); it != rows.end();) {
                if (it->second.expires_at < before) {
                    it = rows.erase(it);
                    ++n;
                } else {
                    ++it;
                }
            }
            return n;
        });
    }
    Result<bool> KeepSecrets(const QtspAuthorization& a) override {
        return tx_.Writing([&](Tables& t) -> Result<bool> {
            if (!t.qtsp_authorizations.get().contains(a.state_hash)) return false;
            auto& row = t.qtsp_authorizations.mut()[a.state_hash];
            row.sealed_code = a.sealed_code;
            row.sealed_token = a.sealed_token;
            row.token_expires_at = a.token_expires_at;
            return true;
        });
    }
    Result<std::int64_t> ForgetExpiredTokens(Timestamp now) override {
        return tx_.Writing([&](Tables& t) -> Result<std::int64_t> {
            std::int64_t n = 0;
            for (auto& [hash, row] : t.qtsp_authorizations.mut()) {
                if (row.token_expires_at && *row.token_expires_at < now) {
                    row.sealed_token.clear();
                    row.token_expires_at.reset();
                    ++n;
                }
            }
            return n;
        });
    }
};

class MemStaff final : public StaffRepository, Repo {
  public:
    using Repo::Repo;
    Result<void> InsertUser(const StaffUser& u) override {
        return tx_.Writing([&](Tables& t) -> Result<void> {
            if (t.staff_users.get().contains(u.id)) return Taken("staff_users.id");
            for (const auto& [id, other] : t.staff_users.get()) {
                if (other.email == u.email) return Taken("staff_users.email");
                if (!u.setup_token_hash.empty() && other.setup_token_hash == u.setup_token_hash) {
                    return Taken("staff_users.setup_token_hash");
                }
            }
            t.staff_users.mut()[u.id] = u;
            return {};
        });
    }
    Result<std::optional<StaffUser>> FindUser(const std::string& issuer_id,
                                              const std::string& id) override {
        return tx_.Reading([&](const Tables& t) -> std::optional<StaffUser> {
            auto found = Found(t.staff_users.get(), id);
            if (!found || found->issuer_id != issuer_id) return std::nullopt;
            return found;
        });
    }
    Result<std::optional<StaffUser>> FindUserByEmail(const std::string& email) override {
        return FindWhere([&](const StaffUser& u) { return u.email == email; });
    }
    Result<std::optional<StaffUser>> FindUserBySetupToken(const std::string& token_hash) override {
        if (token_hash.empty()) return std::optional<StaffUser>();
        return FindWhere([&](const StaffUser& u) { return u.setup_token_hash == token_hash; });
    }
    Result<void> UpdateUser(const StaffUser& u) override {
        return tx_.Writing([&](Tables& t) -> Result<void> {
            auto it = t.staff_users.get().find(u.id);
            if (it == t.staff_users.get().end() || it->second.issuer_id != u.issuer_id ||
                it->second.email != u.email || it->second.created_at != u.created_at) {
                return Fail(ErrorCode::kNotFound, "staff user not found");
            }
            for (const auto& [id, other] : t.staff_users.get()) {
                if (id != u.id && !u.setup_token_hash.empty() &&
                    other.setup_token_hash == u.setup_token_hash) {
                    return Taken("staff_users.setup_token_hash");
                }
            }
            t.staff_users.mut()[u.id] = u;
            return {};
        });
    }
    Result<std::vector<StaffUser>> ListUsers(const std::string& issuer_id) override {
        return tx_.Reading([&](const Tables& t) {
            std::vector<StaffUser> out;
            for (const auto& [id, u] : t.staff_users.get()) {
                if (u.issuer_id == issuer_id) out.push_back(u);
            }
            std::sort(out.begin(), out.end(),
                      [](const auto& a, const auto& b) { return a.email < b.email; });
            return out;
        });
    }
    Result<void> InsertSession(const StaffSession& s) override {
        return tx_.Writing([&](Tables& t) -> Result<void> {
            if (t.staff_sessions.get().contains(s.id_hash)) return Taken("staff_sessions.id_hash");
            if (!t.staff_users.get().contains(s.user_id)) {
                return Fail(ErrorCode::kInternal, "FOREIGN KEY constraint failed: staff_sessions");
            }
            t.staff_sessions.mut()[s.id_hash] = s;
            return {};
        });
    }
    Result<std::optional<StaffSession>> FindSession(const std::string& id_hash) override {
        return tx_.Reading([&](const Tables& t) { return Found(t.staff_sessions.get(), id_hash); });
    }
    Result<void> DeleteSession(const std::string& id_hash) override {
        return tx_.Writing([&](Tables& t) -> Result<void> {
            if (t.staff_sessions.get().contains(id_hash)) t.staff_sessions.mut().erase(id_hash);
            return {};
        });
    }
    Result<void> DeleteSessionsOf(const std::string& user_id) override {
        return tx_.Writing([&](Tables& t) -> Result<void> {
            std::erase_if(t.staff_sessions.mut(),
                          [&](const auto& e) { return e.second.user_id == user_id; });
            return {};
        });
    }
    Result<std::int64_t> PurgeExpiredSessions(Timestamp now) override {
        return tx_.Writing([&](Tables& t) -> Result<std::int64_t> {
            return static_cast<std::int64_t>(std::erase_if(
                t.staff_sessions.mut(), [&](const auto& e) { return e.second.expires_at < now; }));
        });
    }
    Result<void> AppendAudit(const StaffAuditEntry& e) override {
        return tx_.Writing([&](Tables& t) -> Result<void> {
            StaffAuditEntry stored = e;
            stored.seq = static_cast<std::int64_t>(t.staff_audit.get().size()) + 1;
            t.staff_audit.mut().push_back(std::move(stored));
            return {};
        });
    }
    Result<std::vector<StaffAuditEntry>> ListAudit(const std::string& issuer_id,
                                                   int limit) override {
        return tx_.Reading([&](const Tables& t) {
            std::vector<StaffAuditEntry> out;
            const auto& all = t.staff_audit.get();
            for (auto it = all.rbegin(); it != all.rend(); ++it) {
                if (static_cast<int>(out.size()) >= limit) break;
                if (it->issuer_id == issuer_id) out.push_back(*it);
            }
            return out;
        });
    }

  private:
    template <typename Match>
    Result<std::optional<StaffUser>> FindWhere(Match match) {
        return tx_.Reading([&](const Tables& t) -> std::optional<StaffUser> {
            for (const auto& [id, u] : t.staff_users.get()) {
                if (match(u)) return u;
            }
            return std::nullopt;
        });
    }
};

}  // namespace

MemoryTransaction::MemoryTransaction(MemoryDatabase& db, TxMode mode)
    : db_(db),
      mode_(mode),
      issuers_(std::make_unique<MemIssuers>(*this)),
      dossiers_(std::make_unique<MemDossiers>(*this)),
      signers_(std::make_unique<MemSigners>(*this)),
      requests_(std::make_unique<MemRequests>(*this)),
      sessions_(std::make_unique<MemSessions>(*this)),
      codes_(std::make_unique<MemCodes>(*this)),
      signer_tokens_(std::make_unique<MemSignerTokens>(*this)),
      inbox_(std::make_unique<MemInbox>(*this)),
      audit_(std::make_unique<MemAuditLog>(*this)),
      outbox_(std::make_unique<MemOutbox>(*this)),
      webhooks_(std::make_unique<MemWebhooks>(*this)),
      status_changes_(std::make_unique<MemStatusChanges>(*this)),
      jobs_(std::make_unique<MemJobs>(*this)),
      rate_limits_(std::make_unique<MemRateLimits>(*this)),
      idempotency_(std::make_unique<MemIdempotency>(*this)),
      settings_(std::make_unique<MemSettings>(*this)),
      revocations_(std::make_unique<MemRevocations>(*this)),
      qtsp_authorizations_(std::make_unique<MemQtspAuthorizations>(*this)),
      staff_(std::make_unique<MemStaff>(*this)) {
    if (mode == TxMode::kWrite) {
        write_lock_ = std::unique_lock(db_.write_mu_);
        working_.emplace(*db_.Snapshot());
    } else if (mode == TxMode::kRead) {
        snapshot_ = db_.Snapshot();
    }
}

MemoryDatabase::MemoryDatabase() : committed_(std::make_shared<const Tables>()) {}

MemoryDatabase::~MemoryDatabase() = default;

Result<int> MemoryDatabase::Migrate() {
    std::lock_guard lock(mu_);
    if (migrated_) return 0;
    migrated_ = true;
    return 1;
}

std::shared_ptr<const Tables> MemoryDatabase::Snapshot() {
    std::lock_guard lock(mu_);
    return committed_;
}

void MemoryDatabase::Publish(std::shared_ptr<const Tables> tables) {
    std::lock_guard lock(mu_);
    committed_ = std::move(tables);
}

Result<std::unique_ptr<Transaction>> MemoryDatabase::BeginTransaction(TxMode mode) {
    return std::unique_ptr<Transaction>(std::make_unique<MemoryTransaction>(*this, mode));
}

}  // namespace firmo::store::memory
