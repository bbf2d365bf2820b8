#include "store/sql/transaction.hpp"

#include <algorithm>
#include <string>

#include "core/log.hpp"
#include "store/sql/rows.hpp"
#include "store/sql/statements.hpp"

namespace firmo::store::sql {

namespace {

using namespace firmo::domain;

// What every repository of one transaction shares: its connection, and whether its reads lock
// the rows they find (a write transaction on a store with row locks).
class Repository {
  public:
    Repository(Connection& conn, bool lock_rows) : conn_(conn), lock_rows_(lock_rows) {}

  protected:
    [[nodiscard]] Result<Query> Prepare(const char* sql) { return sql::Prepare(conn_, sql); }
    // `plain`, or `locking` (its FOR UPDATE twin) where reads lock rows.
    [[nodiscard]] Result<Query> PrepareRead(const char* plain, const char* locking) {
        return Prepare(lock_rows_ ? locking : plain);
    }
    // `plain`, or `skip_locked` (its SKIP LOCKED twin) on stores with row locks.
    [[nodiscard]] Result<Query> PrepareClaim(const char* plain, const char* skip_locked) {
        return Prepare(conn_.RowLocks() ? skip_locked : plain);
    }
    // Runs a statement that takes one bound key and one time; the rows it changed.
    [[nodiscard]] Result<std::int64_t> RunAt(const char* sql, const std::string& key,
                                             Timestamp at) {
        FIRMO_TRY(auto q, Prepare(sql));
        return q.Bind(key, at).Run();
    }
    // Sends `q` and what is queued before it, and reports their first error now: for the
    // writes whose caller must learn at once that a key is taken (kAlreadyExists). The other
    // writes only Send(), and a pipelining driver (PostgreSQL) ships them with the next read
    // or the COMMIT.
    [[nodiscard]] Result<void> SendNow(Query& q) {
        FIRMO_CHECK(q.Send());
        return conn_.Flush();
    }
    [[nodiscard]] Result<std::int64_t> RunBefore(const char* sql, Timestamp before) {
        FIRMO_TRY(auto q, Prepare(sql));
        return q.Bind(before).Run();
    }

    Connection& conn_;
    bool lock_rows_;
};

// Keeps `limit` items of a page read with limit + 1, and the cursor when more follow.
template <typename T, typename Cursor>
Page<T> Paginate(std::vector<T> items, int limit, Cursor cursor) {
    Page<T> page{std::move(items), std::nullopt};
    if (static_cast<int>(page.items.size()) > limit) {
        page.items.resize(static_cast<std::size_t>(limit));
        page.next_after_id = cursor(page.items.back());
    }
    return page;
}

const auto kById = [](const auto& item) { return item.id; };

// A row of kPendingJobs / kPendingOutbox: kind, count, earliest due time.
PendingCount ReadPendingCount(const Row& r) {
    return PendingCount{.kind = r.Text(0), .count = r.Int(1), .oldest_due = r.Time(2)};
}

class SqlIssuers final : public IssuerRepository, Repository {
  public:
    using Repository::Repository;

    Result<void> Insert(const Issuer& i) override {
        FIRMO_TRY(auto q, Prepare(kInsertIssuer));
        q.Bind(i.id, i.name, i.email, i.created_at, i.support_url, i.brand_color, i.logo_type,
               i.logo_sha256);
        return SendNow(q);
    }
    Result<bool> Update(const Issuer& i) override {
        FIRMO_TRY(auto q, Prepare(kUpdateIssuer));
        FIRMO_TRY(auto changed, q.Bind(i.id, i.name, i.email, i.support_url, i.brand_color,
                                       i.logo_type, i.logo_sha256)
                                    .Run());
        return changed > 0;
    }
    Result<std::optional<Issuer>> Find(const std::string& id) override {
        FIRMO_TRY(auto q, Prepare(kFindIssuer));
        return q.Bind(id).One(ReadIssuer);
    }
    Result<std::int64_t> Count() override {
        FIRMO_TRY(auto q, Prepare(kCountIssuers));
        FIRMO_TRY(auto n, q.One([](const Row& r) { return r.Int(0); }));
        return n.value_or(0);
    }
    Result<void> InsertKey(const ApiKey& k) override {
        FIRMO_TRY(auto q, Prepare(kInsertApiKey));
        q.Bind(k.id, k.issuer_id, k.key_hash, k.prefix, k.created_at, k.label, k.expires_at,
               k.allowed_ips, k.test);
        return SendNow(q);
    }
    Result<std::optional<ApiKey>> FindKeyByHash(const std::string& key_hash) override {
        FIRMO_TRY(auto q, Prepare(kFindApiKeyByHash));
        return q.Bind(key_hash).One(ReadApiKey);
    }
    Result<bool> RevokeKey(const std::string& key_id, Timestamp at) override {
        FIRMO_TRY(auto changed, RunAt(kRevokeApiKey, key_id, at));
        return changed > 0;
    }
    Result<std::vector<ApiKey>> ListKeys(const std::string& issuer_id) override {
        FIRMO_TRY(auto q, Prepare(kListApiKeys));
        return q.Bind(issuer_id).All(ReadApiKey);
    }
    Result<void> RecordKeyUse(const std::string& key_id, Timestamp at,
                              const std::string& ip) override {
        FIRMO_TRY(auto q, Prepare(kRecordApiKeyUse));
        q.Bind(key_id, at, ip);
        return SendNow(q);
    }
};

class SqlDossiers final : public DossierRepository, Repository {
  public:
    using Repository::Repository;

    Result<void> Insert(const Dossier& d) override {
        FIRMO_TRY(auto q, Prepare(kInsertDossier));
        BindDossier(q, d);
        return SendNow(q);
    }
    Result<std::optional<Dossier>> Find(const std::string& issuer_id,
                                        const std::string& id) override {
        FIRMO_TRY(auto q, Prepare(kFindDossier));
        return q.Bind(issuer_id, id).One(ReadDossier);
    }
    Result<Page<Dossier>> List(const std::string& issuer_id, const PageQuery& page) override {
        FIRMO_TRY(auto q, Prepare(kListDossiers));
        FIRMO_TRY(auto items, q.Bind(issuer_id, page.after_id, page.limit + 1).All(ReadDossier));
        return Paginate(std::move(items), page.limit, kById);
    }
};

class SqlSigners final : public SignerRepository, Repository {
  public:
    using Repository::Repository;

    Result<void> Insert(const Signer& s) override {
        FIRMO_TRY(auto q, Prepare(kInsertSigner));
        BindSigner(q, s);
        return SendNow(q);
    }
    Result<void> UpdateContact(const Signer& s) override {
        FIRMO_TRY(auto q, Prepare(kUpdateSignerContact));
        return q.Bind(s.issuer_id, s.id, s.email, s.phone, s.updated_at, s.full_name, s.language)
            .Send();
    }
    Result<std::optional<Signer>> Find(const std::string& issuer_id,
                                       const std::string& id) override {
        FIRMO_TRY(auto q, PrepareRead(kFindSigner, kFindSignerForUpdate));
        return q.Bind(issuer_id, id).One(ReadSigner);
    }
    Result<std::optional<Signer>> FindByIdentifier(const std::string& issuer_id,
                                                   IdentifierKind kind,
                                                   const std::string& identifier) override {
        FIRMO_TRY(auto q, PrepareRead(kFindSignerByIdentifier, kFindSignerByIdentifierForUpdate));
        return q.Bind(issuer_id, ToString(kind), identifier).One(ReadSigner);
    }
};

class SqlRequests final : public RequestRepository, Repository {
  public:
    // `cache`: the database's read copies, given to transactions that do not write (none: read
    // every time). `changes`: the signal that moves when a request changes (none: every read
    // checks the version), moved here once this transaction's changes have committed.
    SqlRequests(Connection& conn, bool lock_rows, RequestCache* cache,
                domain::ChangeSignal* changes)
        : Repository(conn, lock_rows), cache_(cache), changes_(changes) {}

    // After the transaction's changes have committed (or whatever became of them): moves the
    // signal if a request changed, so that this process's next read checks its copy.
    void Committed() {
        if (changed_ && changes_) changes_->MoveLocally();
        changed_ = false;
    }

    Result<void> Insert(const SignatureRequest& r) override {
        FIRMO_TRY(auto q, Prepare(kInsertRequest));
        BindRequest(q, r);
        FIRMO_CHECK(q.Send());
        // Not flushed: the request, its signers and documents travel with whatever the
        // transaction does next (its audit entry and COMMIT, for a create: one round trip).
        // Its id is a new ULID, so the only error to expect is the unexpected, which the
        // commit reports.
        return WriteChildren(r);
    }
    Result<void> Update(const SignatureRequest& r) override {
        if (!changed_) {
            // Marked before the commit, announced after it (Committed()), even if it fails:
            // moving the signal only costs a check.
            changed_ = true;
            if (changes_) changes_->WillChange();
        }
        FIRMO_TRY(auto q, Prepare(kUpdateRequest));
        BindRequest(q, r);
        FIRMO_TRY(auto changed, q.Run());
        if (changed != 1) {
            return Fail(ErrorCode::kNotFound, "signature request " + r.id + " not found");
        }
        return WriteChildren(r);
    }
    // Reads that lock take the request row FOR UPDATE, then its children; the others read the
    // whole aggregate in one statement.
    Result<std::optional<SignatureRequest>> Find(const std::string& issuer_id,
                                                 const std::string& id) override {
        if (!lock_rows_) {
            const std::uint64_t seen = Seen();
            FIRMO_TRY(auto cached, Cached(id, issuer_id, seen));
            if (cached) return cached;
            FIRMO_TRY(auto q, Prepare(kFindRequestAggregate));
            q.Bind(issuer_id, id);
            return ReadAggregate(q, seen);
        }
        FIRMO_TRY(auto q, Prepare(kFindRequestForUpdate));
        FIRMO_TRY(auto found, q.Bind(issuer_id, id).One(ReadRequest));
        return WithChildren(std::move(found));
    }
    Result<std::optional<SignatureRequest>> FindForSigner(const std::string& id) override {
        if (!lock_rows_) {
            const std::uint64_t seen = Seen();
            FIRMO_TRY(auto cached, Cached(id, std::nullopt, seen));
            if (cached) return cached;
            FIRMO_TRY(auto q, Prepare(kFindRequestAggregateForSigner));
            q.Bind(id);
            return ReadAggregate(q, seen);
        }
        FIRMO_TRY(auto q, Prepare(kFindRequestForSignerForUpdate));
        FIRMO_TRY(auto found, q.Bind(id).One(ReadRequest));
        return WithChildren(std::move(found));
    }
    Result<Page<SignatureRequest>> List(const std::string& issuer_id, const RequestFilter& filter,
                                        const PageQuery& page) override {
        std::optional<std::string_view> status;
        if (filter.status) status = ToString(*filter.status);
        Page<SignatureRequest> out;
        {
            FIRMO_TRY(auto q, Prepare(kListRequests));
            FIRMO_TRY(auto items, q.Bind(issuer_id, page.after_id, filter.dossier_id, status,
                                         page.limit + 1, filter.test)
                                      .All(ReadRequest));
            out = Paginate(std::move(items), page.limit, kById);
        }
        for (auto& r : out.items) FIRMO_CHECK(LoadChildren(r));
        return out;
    }
    Result<std::vector<std::pair<std::string, std::string>>> ListExpired(Timestamp now,
                                                                         int limit) override {
        return IssuerRequestPairs(kListExpired, now, limit);
    }
    Result<std::vector<std::pair<std::string, std::string>>> ListRemindable(Timestamp before,
                                                                            int limit) override {
        return IssuerRequestPairs(kListRemindable, before, limit);
    }
    Result<std::vector<std::pair<std::string, std::string>>> ListDocumentsRetained(
        Timestamp before, int limit) override {
        return IssuerRequestPairs(kListDocumentsRetained, before, limit);
    }

  private:
    // Signers and documents go one row each; Send() lets a pipelining driver batch them.
    Result<void> WriteChildren(const SignatureRequest& r) {
        for (std::size_t i = 0; i < r.signers.size(); ++i) {
            FIRMO_TRY(auto q, Prepare(kUpsertRequestSigner));
            BindRequestSigner(q, r.id, static_cast<int>(i), r.signers[i]);
            FIRMO_CHECK(q.Send());
        }
        for (const auto& d : r.documents) {
            FIRMO_TRY(auto q, Prepare(kUpsertDocument));
            BindDocument(q, r.id, d);
            FIRMO_CHECK(q.Send());
        }
        return {};
    }
    Result<void> LoadChildren(SignatureRequest& r) {
        {
            FIRMO_TRY(auto q, Prepare(kListRequestSigners));
            FIRMO_TRY(r.signers, q.Bind(r.id).All(ReadRequestSigner));
        }
        FIRMO_TRY(auto q, Prepare(kListDocuments));
        FIRMO_TRY(r.documents, q.Bind(r.id).All(ReadDocument));
        return {};
    }
    // The change signal's reading before a read (kUnknown: it cannot vouch, or there is none).
    std::uint64_t Seen() const {
        return changes_ && cache_ ? changes_->Current() : domain::ChangeSignal::kUnknown;
    }
    // The cached copy of request `id` (of `issuer_id`, when given) if it is still the current
    // version; none when there is no copy (the caller reads the aggregate, which fills it: one
    // round trip, as without a cache) or when it is stale or the request is gone. A copy
    // checked while the signal read `seen` (not kUnknown) is current without asking.
    Result<std::optional<SignatureRequest>> Cached(const std::string& id,
                                                   const std::optional<std::string>& issuer_id,
                                                   std::uint64_t seen) {
        if (!cache_) return std::nullopt;
        const auto copy = cache_->Find(id);
        if (!copy || (issuer_id && (*copy)->request.issuer_id != *issuer_id)) return std::nullopt;
        if (seen != domain::ChangeSignal::kUnknown &&
            (*copy)->checked_at.load(std::memory_order_acquire) == seen) {
            return (*copy)->request;
        }
        std::optional<std::int64_t> version;
        if (issuer_id) {
            FIRMO_TRY(auto q, Prepare(kRequestVersion));
            FIRMO_TRY(version, q.Bind(*issuer_id, id).One([](const Row& r) { return r.Int(0); }));
        } else {
            FIRMO_TRY(auto q, Prepare(kRequestVersionForSigner));
            FIRMO_TRY(version, q.Bind(id).One([](const Row& r) { return r.Int(0); }));
        }
        if (version != (*copy)->version) return std::nullopt;
        // Checked after the signal read `seen`: current for as long as it still reads so.
        if (seen != domain::ChangeSignal::kUnknown) {
            (*copy)->checked_at.store(seen, std::memory_order_release);
        }
        return (*copy)->request;
    }
    // The rows of kFindRequestAggregate(ForSigner): the request, its signers and its documents,
    // in any order (no ORDER BY: sorting the wide rows cost a sorter in SQLite); the children
    // are put in their positions' order here. Kept in the cache when there is one.
    Result<std::optional<SignatureRequest>> ReadAggregate(Query& q, std::uint64_t seen) {
        std::int64_t version = 0;
        std::optional<SignatureRequest> request;
        std::vector<std::pair<std::int64_t, RequestSigner>> signers;
        std::vector<std::pair<std::int64_t, Document>> documents;
        while (true) {
            FIRMO_TRY(bool more, q.Step());
            if (!more) break;
            const auto kind = q.row().Int(0);
            const auto position = q.row().Int(1);
            if (kind == 0) {
                version = position;
                FIRMO_TRY(request, ReadRequest(q.row(kAggregateRequestOffset)));
            } else if (kind == 1) {
                FIRMO_TRY(auto signer, ReadRequestSigner(q.row(kAggregateSignerOffset)));
                signers.emplace_back(position, std::move(signer));
            } else {
                FIRMO_TRY(auto document, ReadDocument(q.row(kAggregateDocumentOffset)));
                documents.emplace_back(position, std::move(document));
            }
        }
        if (!request) return request;  // none, or another issuer's: its children are dropped
        const auto by_position = [](const auto& a, const auto& b) { return a.first < b.first; };
        std::sort(signers.begin(), signers.end(), by_position);
        std::sort(documents.begin(), documents.end(), by_position);
        request->signers.reserve(signers.size());
        for (auto& [position, signer] : signers) request->signers.push_back(std::move(signer));
        request->documents.reserve(documents.size());
        for (auto& [position, document] : documents) {
            request->documents.push_back(std::move(document));
        }
        if (cache_) {
            auto copy = std::make_shared<CachedRequest>();
            copy->version = version;
            copy->request = *request;
            copy->checked_at.store(seen, std::memory_order_relaxed);
            cache_->Put(request->id, std::move(copy));
        }
        return request;
    }
    Result<std::optional<SignatureRequest>> WithChildren(std::optional<SignatureRequest> r) {
        if (r) FIRMO_CHECK(LoadChildren(*r));
        return r;
    }
    Result<std::vector<std::pair<std::string, std::string>>> IssuerRequestPairs(const char* sql,
                                                                                Timestamp at,
                                                                                int limit) {
        FIRMO_TRY(auto q, Prepare(sql));
        return q.Bind(at, limit).All([](const Row& r) { return std::pair(r.Text(0), r.Text(1)); });
    }

    RequestCache* cache_;
    domain::ChangeSignal* changes_;
    bool changed_ = false;
};

class SqlSessions final : public SessionRepository, Repository {
  public:
    using Repository::Repository;

    Result<void> Insert(const PortalSession& s) override {
        FIRMO_TRY(auto q, Prepare(kInsertSession));
        BindSession(q, s);
        return q.Send();
    }
    Result<std::optional<PortalSession>> Find(const std::string& id_hash) override {
        FIRMO_TRY(auto q, PrepareRead(kFindSession, kFindSessionForUpdate));
        return q.Bind(id_hash).One(ReadSession);
    }
    Result<void> Update(const PortalSession& s) override {
        FIRMO_TRY(auto q, Prepare(kUpdateSession));
        BindSession(q, s);
        FIRMO_TRY(auto changed, q.Run());
        if (changed != 1) return Fail(ErrorCode::kNotFound, "session not found");
        return {};
    }
    Result<void> Delete(const std::string& id_hash) override {
        FIRMO_TRY(auto q, Prepare(kDeleteSession));
        return q.Bind(id_hash).Send();
    }
    Result<std::int64_t> PurgeExpired(Timestamp now) override {
        return RunBefore(kPurgeSessions, now);
    }
};

class SqlCodes final : public CodeRepository, Repository {
  public:
    using Repository::Repository;

    Result<void> Insert(const OneTimeCode& c) override {
        FIRMO_TRY(auto q, Prepare(kInsertCode));
        return q
            .Bind(c.id, c.request_id, c.signer_id, ToString(c.kind), c.code_hash, c.created_at,
                  c.expires_at, c.used_at)
            .Send();
    }
    Result<std::optional<OneTimeCode>> FindLatest(const std::string& request_id,
                                                  const std::string& signer_id,
                                                  CodeKind kind) override {
        FIRMO_TRY(auto q, Prepare(kFindLatestCode));
        return q.Bind(request_id, signer_id, ToString(kind)).One(ReadCode);
    }
    Result<bool> Use(const std::string& id, Timestamp at) override {
        FIRMO_TRY(auto changed, RunAt(kUseCode, id, at));
        return changed == 1;
    }
    Result<std::int64_t> PurgeExpired(Timestamp now) override {
        return RunBefore(kPurgeCodes, now);
    }
};

class SqlSignerTokens final : public SignerTokenRepository, Repository {
  public:
    using Repository::Repository;

    Result<void> Insert(const SignerToken& t) override {
        FIRMO_TRY(auto q, Prepare(kInsertSignerToken));
        return q
            .Bind(t.token_hash, ToString(t.kind), t.request_id, t.signer_id, t.created_at,
                  t.expires_at, t.used_at)
            .Send();
    }
    Result<std::optional<SignerToken>> Find(const std::string& token_hash) override {
        FIRMO_TRY(auto q, Prepare(kFindSignerToken));
        return q.Bind(token_hash).One(ReadSignerToken);
    }
    Result<bool> Use(const std::string& token_hash, Timestamp at) override {
        FIRMO_TRY(auto changed, RunAt(kUseSignerToken, token_hash, at));
        return changed == 1;
    }
    Result<void> Revoke(const std::string& request_id, const std::string& signer_id,
                        SignerTokenKind kind, Timestamp at) override {
        FIRMO_TRY(auto q, Prepare(kRevokeSignerTokens));
        return q.Bind(request_id, signer_id, ToString(kind), at).Send();
    }
    Result<std::int64_t> PurgeExpired(Timestamp now) override {
        return RunBefore(kPurgeSignerTokens, now);
    }
};

class SqlInbox final : public InboxRepository, Repository {
  public:
    using Repository::Repository;

    Result<void> Insert(const InboxMessage& m) override {
        FIRMO_TRY(auto q, Prepare(kInsertMessage));
        q.Bind(m.id, ToString(m.identity_kind), m.identity, m.issuer_id, m.request_id, m.signer_id,
               ToString(m.kind), m.title, m.created_at, m.read_at);
        return SendNow(q);
    }
    Result<Page<InboxMessage>> List(IdentifierKind kind, const std::string& identity,
                                    const PageQuery& page) override {
        FIRMO_TRY(auto q, Prepare(kListMessages));
        FIRMO_TRY(auto items,
                  q.Bind(ToString(kind), identity, page.after_id, page.limit + 1).All(ReadMessage));
        return Paginate(std::move(items), page.limit, kById);
    }
    Result<bool> Has(const std::string& request_id, const std::string& signer_id,
                     MessageKind kind) override {
        FIRMO_TRY(auto q, Prepare(kHasMessage));
        FIRMO_TRY(auto n, q.Bind(request_id, signer_id, ToString(kind)).One([](const Row& r) {
            return r.Int(0);
        }));
        return n.value_or(0) > 0;
    }
};

class SqlAuditLog final : public AuditLog, Repository {
  public:
    using Repository::Repository;

    Result<void> Append(const AuditEvent& e) override {
        FIRMO_TRY(auto q, Prepare(kAppendEvent));
        return q
            .Bind(e.request_id, e.at, e.type, e.from_status, e.to_status, e.document_id,
                  e.signer_id, e.actor, e.detail)
            .Send();
    }
    Result<std::vector<AuditEvent>> List(const std::string& request_id) override {
        FIRMO_TRY(auto q, Prepare(kListEvents));
        return q.Bind(request_id).All(ReadEvent);
    }
};

class SqlOutbox final : public OutboxRepository, Repository {
  public:
    using Repository::Repository;

    Result<bool> Insert(const OutboxMessage& m) override {
        FIRMO_TRY(auto q, Prepare(kInsertOutbox));
        BindOutbox(q, m);
        FIRMO_TRY(auto changed, q.Run());
        if (changed != 1) return false;
        FIRMO_TRY(auto turn, Prepare(kWakeOutboxTurn));
        FIRMO_CHECK(turn.Bind(m.issuer_id).Send());
        return true;
    }
    Result<std::optional<OutboxMessage>> Claim(Timestamp now,
                                               std::chrono::milliseconds lease) override {
        FIRMO_TRY(auto q, PrepareClaim(kClaimOutbox, kClaimOutboxSkipLocked));
        FIRMO_TRY(auto claimed, q.Bind(now, now + lease).One(ReadOutbox));
        if (claimed) {
            FIRMO_TRY(auto turn, Prepare(kPassOutboxTurn));
            FIRMO_CHECK(turn.Bind(claimed->issuer_id).Send());
        }
        return claimed;
    }
    Result<void> Update(const OutboxMessage& m) override {
        FIRMO_TRY(auto q, Prepare(kUpdateOutbox));
        FIRMO_CHECK(q.Bind(m.id, m.attempts, m.next_attempt_at, m.delivered_at, m.abandoned_at,
                           m.last_error, m.last_response)
                        .Send());
        const bool pending = !m.delivered_at && !m.abandoned_at;
        FIRMO_TRY(auto turn, Prepare(pending ? kWakeOutboxTurnOf : kRestOutboxTurnOf));
        return turn.Bind(m.id).Send();
    }
    Result<std::optional<OutboxMessage>> Find(const std::string& issuer_id,
                                              std::int64_t id) override {
        FIRMO_TRY(auto q, Prepare(kFindOutbox));
        return q.Bind(issuer_id, id).One(ReadOutbox);
    }
    Result<Page<OutboxMessage>> List(const std::string& issuer_id, Channel channel,
                                     const PageQuery& page) override {
        FIRMO_TRY(auto after, OutboxCursor(page));
        FIRMO_TRY(auto q, Prepare(kListOutbox));
        FIRMO_TRY(auto items,
                  q.Bind(issuer_id, ToString(channel), after, page.limit + 1).All(ReadOutbox));
        return Paginate(std::move(items), page.limit,
                        [](const OutboxMessage& m) { return std::to_string(m.id); });
    }
    Result<std::vector<PendingCount>> Pending() override {
        FIRMO_TRY(auto q, Prepare(kPendingOutbox));
        return q.All(ReadPendingCount);
    }
};

class SqlWebhooks final : public WebhookRepository, Repository {
  public:
    using Repository::Repository;

    Result<void> Insert(const WebhookEndpoint& w) override {
        FIRMO_TRY(auto q, Prepare(kInsertWebhook));
        BindWebhook(q, w);
        return q.Send();
    }
    Result<std::vector<WebhookEndpoint>> List(const std::string& issuer_id) override {
        FIRMO_TRY(auto q, Prepare(kListWebhooks));
        return q.Bind(issuer_id).All(ReadWebhook);
    }
    Result<bool> Delete(const std::string& issuer_id, const std::string& id) override {
        FIRMO_TRY(auto q, Prepare(kDeleteWebhook));
        FIRMO_TRY(auto changed, q.Bind(issuer_id, id).Run());
        return changed == 1;
    }
};

class SqlStatusChanges final : public StatusChangeRepository, Repository {
  public:
    using Repository::Repository;

    Result<void> Insert(const StatusChange& c) override {
        FIRMO_TRY(auto q, Prepare(kInsertStatusChange));
        return q
            .Bind(c.issuer_id, c.event_id, c.type, c.request_id, c.payload_json, c.created_at,
                  c.visible_at, c.polling_queue)
            .Send();
    }
    Result<std::optional<StatusChange>> Next(const std::string& issuer_id, const std::string& queue,
                                             Timestamp now) override {
        FIRMO_TRY(auto q, PrepareRead(kNextStatusChange, kNextStatusChangeForUpdate));
        return q.Bind(issuer_id, now, queue).One(ReadStatusChange);
    }
    Result<void> Hide(std::int64_t seq, Timestamp until) override {
        FIRMO_TRY(auto q, Prepare(kHideStatusChange));
        return q.Bind(seq, until).Send();
    }
    Result<std::optional<std::string>> QueueOf(const std::string& issuer_id,
                                               std::int64_t seq) override {
        FIRMO_TRY(auto q, Prepare(kStatusChangeQueue));
        return q.Bind(issuer_id, seq).One([](const Row& r) { return r.Text(0); });
    }
    Result<bool> Confirm(const std::string& issuer_id, std::int64_t seq, Timestamp at) override {
        FIRMO_TRY(auto q, Prepare(kConfirmStatusChange));
        FIRMO_TRY(auto changed, q.Bind(issuer_id, seq, at).Run());
        return changed == 1;
    }
    Result<std::optional<Timestamp>> NextPollAt(const std::string& issuer_id,
                                                const std::string& queue) override {
        FIRMO_TRY(auto q, PrepareRead(kGetNextPoll, kGetNextPollForUpdate));
        return q.Bind(issuer_id, queue).One([](const Row& r) { return r.Time(0); });
    }
    Result<void> SetNextPollAt(const std::string& issuer_id, const std::string& queue,
                               Timestamp at) override {
        FIRMO_TRY(auto q, Prepare(kSetNextPoll));
        return q.Bind(issuer_id, queue, at).Send();
    }
};

class SqlJobs final : public JobRepository, Repository {
  public:
    using Repository::Repository;

    Result<std::int64_t> Enqueue(const Job& j) override {
        FIRMO_TRY(auto q, Prepare(kEnqueueJob));
        FIRMO_TRY(auto id, q.Bind(ToString(j.kind), j.issuer_id, j.request_id, j.document_id,
                                  j.generation, j.run_at, j.blob_key, j.created_at, j.not_after)
                               .One([](const Row& r) { return r.Int(0); }));
        if (!id) return Fail(ErrorCode::kInternal, "job insert returned no id");
        return *id;
    }
    Result<std::optional<Job>> Claim(Timestamp now, std::chrono::milliseconds lease,
                                     const std::string& worker) override {
        FIRMO_TRY(auto q, PrepareClaim(kClaimJob, kClaimJobSkipLocked));
        return q.Bind(now, now + lease, worker).One(ReadJob);
    }
    Result<bool> Complete(const Job& job) override {
        FIRMO_TRY(auto q, Prepare(kCompleteJob));
        FIRMO_TRY(auto changed, q.Bind(job.id, job.leased_by, job.attempts).Run());
        return changed > 0;
    }
    Result<bool> Retry(const Job& job, Timestamp run_at, const std::string& error) override {
        FIRMO_TRY(auto q, Prepare(kRetryJob));
        FIRMO_TRY(auto changed, q.Bind(job.id, job.leased_by, job.attempts, run_at, error).Run());
        return changed > 0;
    }
    Result<bool> Reschedule(const Job& job, Timestamp run_at) override {
        FIRMO_TRY(auto q, Prepare(kRescheduleJob));
        FIRMO_TRY(auto changed, q.Bind(job.id, job.leased_by, job.attempts, run_at).Run());
        return changed > 0;
    }
    Result<std::optional<Job>> FindOpen(JobKind kind, const std::string& request_id,
                                        const std::string& document_id) override {
        FIRMO_TRY(auto q, Prepare(kFindOpenJob));
        return q.Bind(ToString(kind), request_id, document_id).One(ReadJob);
    }
    Result<void> Extend(std::int64_t job_id, Timestamp not_after) override {
        FIRMO_TRY(auto q, Prepare(kExtendJob));
        return q.Bind(job_id, not_after).Send();
    }
    Result<std::int64_t> PurgeFinished(Timestamp before) override {
        return RunBefore(kPurgeJobs, before);
    }
    Result<std::vector<PendingCount>> Pending() override {
        FIRMO_TRY(auto q, Prepare(kPendingJobs));
        return q.All(ReadPendingCount);
    }
};

class SqlRateLimits final : public RateLimitRepository, Repository {
  public:
    using Repository::Repository;

    Result<RateLimitCount> Add(const std::string& bucket, Timestamp window_start,
                               std::chrono::milliseconds window, std::int64_t calls) override {
        FIRMO_TRY(auto q, Prepare(kAddRateLimitCalls));
        FIRMO_TRY(auto counted,
                  q.Bind(bucket, window_start, window.count(), calls).One(ReadRateLimitCount));
        if (!counted) return Fail(ErrorCode::kInternal, "rate limit upsert returned no row");
        return *counted;
    }
    Result<std::int64_t> Purge(Timestamp now) override { return RunBefore(kPurgeRateLimits, now); }
};

class SqlIdempotency final : public IdempotencyRepository, Repository {
  public:
    using Repository::Repository;

    // The record is locked when found (row locks); a concurrent first claim is met by ON
    // CONFLICT DO NOTHING, which waits for it, after which the record is read again.
    Result<std::optional<IdempotencyRecord>> Claim(const IdempotencyRecord& fresh,
                                                   Timestamp stale_before) override {
        for (int attempt = 0; attempt < 3; ++attempt) {
            std::optional<IdempotencyRecord> found;
            {
                FIRMO_TRY(auto q, PrepareRead(kFindIdempotency, kFindIdempotencyForUpdate));
                FIRMO_TRY(found, q.Bind(fresh.issuer_id, fresh.key).One(ReadIdempotency));
            }
            if (found && found->created_at >= stale_before) return found;
            FIRMO_TRY(auto q, Prepare(found ? kReplaceIdempotency : kInsertIdempotency));
            FIRMO_TRY(auto changed,
                      q.Bind(fresh.issuer_id, fresh.key, fresh.request_hash, fresh.status,
                             fresh.body, fresh.location, fresh.created_at)
                          .Run());
            if (changed == 1) return std::optional<IdempotencyRecord>();
            // Another claim inserted (or released) the key meanwhile: look again.
        }
        return Fail(ErrorCode::kUnavailable, "idempotency key is contended");
    }
    Result<void> Complete(const IdempotencyRecord& done) override {
        FIRMO_TRY(auto q, Prepare(kCompleteIdempotency));
        return q.Bind(done.issuer_id, done.key, done.status, done.body, done.location).Send();
    }
    Result<void> Release(const std::string& issuer_id, const std::string& key) override {
        FIRMO_TRY(auto q, Prepare(kDeleteIdempotency));
        return q.Bind(issuer_id, key).Send();
    }
    Result<std::int64_t> Purge(Timestamp before) override {
        return RunBefore(kPurgeIdempotency, before);
    }
};

class SqlSettings final : public SettingRepository, Repository {
  public:
    using Repository::Repository;

    Result<std::optional<std::string>> Get(const std::string& key) override {
        FIRMO_TRY(auto q, Prepare(kGetSetting));
        return q.Bind(key).One([](const Row& r) { return r.Text(0); });
    }
    Result<std::string> PutIfAbsent(const std::string& key, const std::string& value) override {
        {
            FIRMO_TRY(auto q, Prepare(kPutSettingIfAbsent));
            FIRMO_CHECK(q.Bind(key, value).Run());
        }
        FIRMO_TRY(auto stored, Get(key));
        if (!stored) return Fail(ErrorCode::kInternal, "setting vanished: " + key);
        return *stored;
    }
};

class SqlRevocations final : public RevocationRepository, Repository {
  public:
    using Repository::Repository;

    Result<Revocation> Revoke(const Revocation& r) override {
        {
            FIRMO_TRY(auto q, Prepare(kInsertRevocation));
            FIRMO_CHECK(q.Bind(r.serial, r.revoked_at, r.reason).Run());
        }
        FIRMO_TRY(auto stored, Find(r.serial));
        if (!stored) return Fail(ErrorCode::kInternal, "revocation vanished: " + r.serial);
        return *stored;
    }
    Result<std::optional<Revocation>> Find(const std::string& serial) override {
        FIRMO_TRY(auto q, Prepare(kFindRevocation));
        return q.Bind(serial).One(ReadRevocation);
    }
    Result<std::vector<Revocation>> List() override {
        FIRMO_TRY(auto q, Prepare(kListRevocations));
        return q.All(ReadRevocation);
    }

  private:
    static Revocation ReadRevocation(const Row& r) {
        return Revocation{.serial = r.Text(0), .revoked_at = r.Time(1), .reason = r.SmallInt(2)};
    }
};

class SqlQtspAuthorizations final : public QtspAuthorizationRepository, Repository {
  public:
    using Repository::Repository;

    Result<void> Insert(const QtspAuthorization& a) override {
        FIRMO_TRY(auto q, Prepare(kInsertQtspAuthorization));
        std::string hashes;
        for (const auto& h : a.hashes) hashes += (hashes.empty() ? "" : ",") + h;
        q.Bind(a.state_hash, a.request_id, a.signer_id, a.credential_id, hashes, a.sealed_verifier,
               a.created_at, a.expires_at);
        return SendNow(q);
    }
    Result<std::optional<QtspAuthorization>> Find(const std::string& state_hash) override {
        FIRMO_TRY(auto q, Prepare(kFindQtspAuthorization));
        return q.Bind(state_hash).One(ReadQtspAuthorization);
    }
    Result<bool> Finish(const std::string& state_hash, const std::string& outcome,
                        Timestamp at) override {
        FIRMO_TRY(auto q, Prepare(kFinishQtspAuthorization));
        FIRMO_TRY(std::int64_t changed, q.Bind(state_hash, outcome, at).Run());
        return changed == 1;
    }
    Result<std::int64_t> DeleteExpired(Timestamp before) override {
        return RunBefore(kDeleteExpiredQtspAuthorizations, before);
    }
    Result<bool> KeepSecrets(const QtspAuthorization& a) override {
        FIRMO_TRY(auto q, Prepare(kKeepQtspSecrets));
        FIRMO_TRY(std::int64_t changed,
                  q.Bind(a.state_hash, a.sealed_code, a.sealed_token, a.token_expires_at).Run());
        return changed == 1;
    }
    Result<std::int64_t> ForgetExpiredTokens(Timestamp now) override {
        return RunBefore(kForgetExpiredQtspTokens, now);
    }

  private:
    static QtspAuthorization ReadQtspAuthorization(const Row& r) {
        QtspAuthorization a{.state_hash = r.Text(0),
                            .request_id = r.Text(1),
                            .signer_id = r.Text(2),
                            .credential_id = r.Text(3),
                            .sealed_verifier = r.Text(5),
                            .created_at = r.Time(6),
                            .expires_at = r.Time(7),
                            .finished_at = r.OptTime(8),
                            .outcome = r.Text(9),
                            .sealed_code = r.Text(10),
                            .sealed_token = r.Text(11),
                            .token_expires_at = r.OptTime(12)};
        const std::string hashes = r.Text(4);
        std::size_t at = 0;
        while (at < hashes.size()) {
            std::size_t comma = hashes.find(',', at);
            if (comma == std::string::npos) comma = hashes.size();
            a.hashes.push_back(hashes.substr(at, comma - at));
            at = comma + 1;
        }
        return a;
    }
};

class SqlStaff final : public StaffRepository, Repository {
  public:
    using Repository::Repository;

    Result<void> InsertUser(const StaffUser& u) override {
        FIRMO_TRY(auto q, Prepare(kInsertStaffUser));
        BindStaffUser(q, u);
        return SendNow(q);
    }
    Result<std::optional<StaffUser>> FindUser(const std::string& issuer_id,
                                              const std::string& id) override {
        FIRMO_TRY(auto q, Prepare(kFindStaffUser));
        return q.Bind(issuer_id, id).One(ReadStaffUser);
    }
    Result<std::optional<StaffUser>> FindUserByEmail(const std::string& email) override {
        FIRMO_TRY(auto q, Prepare(kFindStaffUserByEmail));
        return q.Bind(email).One(ReadStaffUser);
    }
    Result<std::optional<StaffUser>> FindUserBySetupToken(const std::string& token_hash) override {
        if (token_hash.empty()) return std::optional<StaffUser>();
        FIRMO_TRY(auto q, Prepare(kFindStaffUserBySetupToken));
        return q.Bind(token_hash).One(ReadStaffUser);
    }
    Result<void> UpdateUser(const StaffUser& u) override {
        FIRMO_TRY(auto q, Prepare(kUpdateStaffUser));
        BindStaffUser(q, u);
        FIRMO_TRY(auto changed, q.Run());
        if (changed != 1) return Fail(ErrorCode::kNotFound, "staff user not found");
        return {};
    }
    Result<std::vector<StaffUser>> ListUsers(const std::string& issuer_id) override {
        FIRMO_TRY(auto q, Prepare(kListStaffUsers));
        return q.Bind(issuer_id).All(ReadStaffUser);
    }
    Result<void> InsertSession(const StaffSession& s) override {
        FIRMO_TRY(auto q, Prepare(kInsertStaffSession));
        q.Bind(s.id_hash, s.user_id, s.issuer_id, s.csrf_token, s.created_at, s.expires_at, s.ip,
               s.user_agent);
        return SendNow(q);
    }
    Result<std::optional<StaffSession>> FindSession(const std::string& id_hash) override {
        FIRMO_TRY(auto q, Prepare(kFindStaffSession));
        return q.Bind(id_hash).One([](const Row& r) {
            return StaffSession{.id_hash = r.Text(0),
                                .user_id = r.Text(1),
                                .issuer_id = r.Text(2),
                                .csrf_token = r.Text(3),
                                .created_at = r.Time(4),
                                .expires_at = r.Time(5),
                                .ip = r.Text(6),
                                .user_agent = r.Text(7)};
        });
    }
    Result<void> DeleteSession(const std::string& id_hash) override {
        FIRMO_TRY(auto q, Prepare(kDeleteStaffSession));
        return q.Bind(id_hash).Send();
    }
    Result<void> DeleteSessionsOf(const std::string& user_id) override {
        FIRMO_TRY(auto q, Prepare(kDeleteStaffSessionsOf));
        return q.Bind(user_id).Send();
    }
    Result<std::int64_t> PurgeExpiredSessions(Timestamp now) override {
        return RunBefore(kPurgeStaffSessions, now);
    }
    Result<void> AppendAudit(const StaffAuditEntry& e) override {
        FIRMO_TRY(auto q, Prepare(kAppendStaffAudit));
        return q.Bind(e.issuer_id, e.at, e.actor, e.action, e.subject, e.detail).Send();
    }
    Result<std::vector<StaffAuditEntry>> ListAudit(const std::string& issuer_id,
                                                   int limit) override {
        FIRMO_TRY(auto q, Prepare(kListStaffAudit));
        return q.Bind(issuer_id, limit).All([](const Row& r) {
            return StaffAuditEntry{.seq = r.Int(0),
                                   .issuer_id = r.Text(1),
                                   .at = r.Time(2),
                                   .actor = r.Text(3),
                                   .action = r.Text(4),
                                   .subject = r.Text(5),
                                   .detail = r.Text(6)};
        });
    }

  private:
    static void BindStaffUser(Query& q, const StaffUser& u) {
        q.Bind(u.id, u.issuer_id, u.email, ToString(u.role), u.password_hash,
               u.setup_token_hash.empty() ? std::nullopt
                                          : std::optional<std::string_view>(u.setup_token_hash),
               u.setup_expires_at, u.created_at, u.updated_at, u.disabled_at, u.totp_secret,
               u.totp_enabled_at, u.totp_last_step);
    }
    static Result<StaffUser> ReadStaffUser(const Row& r) {
        const auto role = ParseStaffRole(r.Text(3));
        if (!role) return Fail(ErrorCode::kInternal, "unknown staff role: " + r.Text(3));
        return StaffUser{.id = r.Text(0),
                         .issuer_id = r.Text(1),
                         .email = r.Text(2),
                         .role = *role,
                         .password_hash = r.Text(4),
                         .setup_token_hash = r.OptText(5).value_or(""),
                         .setup_expires_at = r.OptTime(6),
                         .created_at = r.Time(7),
                         .updated_at = r.Time(8),
                         .disabled_at = r.OptTime(9),
                         .totp_secret = r.Text(10),
                         .totp_enabled_at = r.OptTime(11),
                         .totp_last_step = r.Int(12)};
    }
};

class SqlTransaction final : public Transaction {
  public:
    SqlTransaction(Lease lease, TxMode mode)
        : lease_(std::move(lease)),
          mode_(mode),
          issuers_(conn(), locking()),
          dossiers_(conn(), locking()),
          signers_(conn(), locking()),
          requests_(conn(), locking(), ReadsOnly() ? lease_.requests : nullptr,
                    lease_.request_changes),
          sessions_(conn(), locking()),
          codes_(conn(), locking()),
          signer_tokens_(conn(), locking()),
          inbox_(conn(), locking()),
          audit_(conn(), locking()),
          outbox_(conn(), locking()),
          webhooks_(conn(), locking()),
          status_changes_(conn(), locking()),
          jobs_(conn(), locking()),
          rate_limits_(conn(), locking()),
          idempotency_(conn(), locking()),
          settings_(conn(), locking()),
          revocations_(conn(), locking()),
          qtsp_authorizations_(conn(), locking()),
          staff_(conn(), locking()) {}

    ~SqlTransaction() override {
        if (open_) {
            if (auto rolled_back = conn().Rollback(); !rolled_back) {
                // The pool closes the connection rather than hand it on inside a transaction.
                log::Error("database_rollback_failed", {{"error", rolled_back.error().message}});
            }
        }
        requests_.Committed();  // autocommitted statements, or a commit whose answer was lost
        auto on_end = std::move(lease_.on_end);
        lease_.pool->Release(std::move(lease_.conn));
        if (on_end) on_end();
        // lease_.write_lock goes last, with the members.
    }

    Result<void> Begin() {
        if (mode_ == TxMode::kSingle || mode_ == TxMode::kSingleWrite) return {};
        FIRMO_CHECK(conn().Begin(mode_ == TxMode::kWrite ? TxKind::kWrite : TxKind::kRead));
        open_ = true;
        return {};
    }

    Result<void> Commit() override {
        if (!open_) return {};
        auto committed = conn().Commit();
        // A failed COMMIT ends the transaction on PostgreSQL; SQLite may keep it (busy): then
        // the destructor rolls it back.
        open_ = !committed && !conn().Reusable();
        if (committed) requests_.Committed();  // before the caller answers anyone
        return committed;
    }

    IssuerRepository& issuers() override { return issuers_; }
    DossierRepository& dossiers() override { return dossiers_; }
    SignerRepository& signers() override { return signers_; }
    RequestRepository& requests() override { return requests_; }
    SessionRepository& sessions() override { return sessions_; }
    CodeRepository& codes() override { return codes_; }
    SignerTokenRepository& signer_tokens() override { return signer_tokens_; }
    InboxRepository& inbox() override { return inbox_; }
    AuditLog& audit() override { return audit_; }
    OutboxRepository& outbox() override { return outbox_; }
    WebhookRepository& webhooks() override { return webhooks_; }
    StatusChangeRepository& status_changes() override { return status_changes_; }
    JobRepository& jobs() override { return jobs_; }
    RateLimitRepository& rate_limits() override { return rate_limits_; }
    IdempotencyRepository& idempotency() override { return idempotency_; }
    SettingRepository& settings() override { return settings_; }
    RevocationRepository& revocations() override { return revocations_; }
    QtspAuthorizationRepository& qtsp_authorizations() override { return qtsp_authorizations_; }
    StaffRepository& staff() override { return staff_; }

  private:
    Connection& conn() { return *lease_.conn; }
    // Rows read in a write transaction are locked until it ends (where the store has row
    // locks): a read-modify-write (Find then Update) cannot lose a concurrent update. SQLite's
    // single writer gives the same guarantee.
    bool locking() { return mode_ == TxMode::kWrite && conn().RowLocks(); }
    // Only transactions that write nothing see committed rows alone (a write transaction's own
    // changes may yet roll back): they alone use and fill the request cache.
    bool ReadsOnly() const { return mode_ == TxMode::kSingle || mode_ == TxMode::kRead; }

    Lease lease_;
    TxMode mode_;
    bool open_ = false;
    SqlIssuers issuers_;
    SqlDossiers dossiers_;
    SqlSigners signers_;
    SqlRequests requests_;
    SqlSessions sessions_;
    SqlCodes codes_;
    SqlSignerTokens signer_tokens_;
    SqlInbox inbox_;
    SqlAuditLog audit_;
    SqlOutbox outbox_;
    SqlWebhooks webhooks_;
    SqlStatusChanges status_changes_;
    SqlJobs jobs_;
    SqlRateLimits rate_limits_;
    SqlIdempotency idempotency_;
    SqlSettings settings_;
    SqlRevocations revocations_;
    SqlQtspAuthorizations qtsp_authorizations_;
    SqlStaff staff_;
};

}  // namespace

Result<std::unique_ptr<Transaction>> BeginTransaction(Lease lease, TxMode mode) {
    auto tx = std::make_unique<SqlTransaction>(std::move(lease), mode);
    FIRMO_CHECK(tx->Begin());
    return std::unique_ptr<Transaction>(std::move(tx));
}

}  // namespace firmo::store::sql
