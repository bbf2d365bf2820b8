#include "store/sqlite/sqlite_database.hpp"

#include <sqlite3.h>

#include "codec/json.hpp"
#include "core/log.hpp"
#include "store/schema_version.hpp"
#include "store/sqlite/connection.hpp"
#include "store/sqlite/migrations.hpp"

namespace firmo::store::sqlite {

namespace {

using namespace firmo::domain;

// SQL, one named constant per statement (each is compiled once per connection).
constexpr const char* kBeginRead = "BEGIN";
constexpr const char* kBeginWrite = "BEGIN IMMEDIATE";
constexpr const char* kCommit = "COMMIT";
constexpr const char* kRollback = "ROLLBACK";

constexpr const char* kInsertIssuer =
    "INSERT INTO issuers (id, name, email, created_at) VALUES (?1, ?2, ?3, ?4)";
constexpr const char* kFindIssuer = "SELECT id, name, email, created_at FROM issuers WHERE id = ?1";
constexpr const char* kCountIssuers = "SELECT count(*) FROM issuers";
constexpr const char* kInsertApiKey =
    "INSERT INTO api_keys (id, issuer_id, key_hash, prefix, created_at) VALUES (?1, ?2, ?3, ?4, "
    "?5)";
constexpr const char* kFindApiKeyByHash =
    "SELECT id, issuer_id, key_hash, prefix, created_at, revoked_at FROM api_keys "
    "WHERE key_hash = ?1";
constexpr const char* kRevokeApiKey =
    "UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL";

constexpr const char* kInsertDossier =
    "INSERT INTO dossiers (id, issuer_id, title, support_email, documents_json, created_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
constexpr const char* kFindDossier =
    "SELECT id, issuer_id, title, support_email, documents_json, created_at FROM dossiers "
    "WHERE issuer_id = ?1 AND id = ?2";
constexpr const char* kListDossiers =
    "SELECT id, issuer_id, title, support_email, documents_json, created_at FROM dossiers "
    "WHERE issuer_id = ?1 AND (?2 IS NULL OR id < ?2) ORDER BY id DESC LIMIT ?3";

constexpr const char* kInsertSigner =
    "INSERT INTO signers (id, issuer_id, kind, identifier, email, phone, created_at, updated_at, "
    "full_name) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
constexpr const char* kUpdateSignerContact =
    "UPDATE signers SET email = ?3, phone = ?4, updated_at = ?5, full_name = ?6 "
    "WHERE issuer_id = ?1 AND id = ?2";
constexpr const char* kFindSigner =
    "SELECT id, issuer_id, kind, identifier, email, phone, created_at, updated_at, full_name "
    "FROM signers "
    "WHERE issuer_id = ?1 AND id = ?2";
constexpr const char* kFindSignerByIdentifier =
    "SELECT id, issuer_id, kind, identifier, email, phone, created_at, updated_at, full_name "
    "FROM signers "
    "WHERE issuer_id = ?1 AND kind = ?2 AND identifier = ?3";

constexpr const char* kInsertRequest =
    "INSERT INTO signature_requests (id, issuer_id, dossier_id, status, expires_at, reference, "
    "created_at, updated_at, signed_at, rejected_at, reject_reason, cancelled_at, expired_at, "
    "redirect_json, notification_id, auto_notify) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)";
constexpr const char* kUpdateRequest =
    "UPDATE signature_requests SET status = ?4, expires_at = ?5, reference = ?6, updated_at = ?8, "
    "signed_at = ?9, rejected_at = ?10, reject_reason = ?11, cancelled_at = ?12, expired_at = ?13, "
    "redirect_json = ?14, notification_id = ?15, auto_notify = ?16 WHERE id = ?1 AND issuer_id = "
    "?2 AND dossier_id = "
    "?3 AND created_at = ?7";
constexpr const char* kFindRequest =
    "SELECT id, issuer_id, dossier_id, status, expires_at, reference, created_at, updated_at, "
    "signed_at, rejected_at, reject_reason, cancelled_at, expired_at, redirect_json, "
    "notification_id, auto_notify FROM signature_requests WHERE issuer_id = ?1 AND id = ?2";
constexpr const char* kFindRequestForSigner =
    "SELECT id, issuer_id, dossier_id, status, expires_at, reference, created_at, updated_at, "
    "signed_at, rejected_at, reject_reason, cancelled_at, expired_at, redirect_json, "
    "notification_id, auto_notify FROM signature_requests WHERE id = ?1";
constexpr const char* kListRequests =
    "SELECT id, issuer_id, dossier_id, status, expires_at, reference, created_at, updated_at, "
    "signed_at, rejected_at, reject_reason, cancelled_at, expired_at, redirect_json, "
    "notification_id, auto_notify FROM signature_requests WHERE issuer_id = ?1 AND (?2 IS NULL OR "
    "id < ?2) AND "
    "(?3 IS NULL OR dossier_id = ?3) "
    "AND (?4 IS NULL OR status = ?4) ORDER BY id DESC LIMIT ?5";
constexpr const char* kListExpired =
    "SELECT issuer_id, id FROM signature_requests WHERE expires_at <= ?1 "
    "AND status IN ('DRAFT', 'READY', 'WAIT_FOR_SIGNATURE') ORDER BY expires_at LIMIT ?2";

constexpr const char* kUpsertRequestSigner =
    "INSERT INTO request_signers (request_id, position, signer_id, sign_order, status, signed_at, "
    "rejected_at, accepted_json, accepted_at, confirmed_at, signing_name, failed_code_attempts, "
    "reject_reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) "
    "ON CONFLICT (request_id, position) DO UPDATE "
    "SET status = excluded.status, signed_at = excluded.signed_at, "
    "rejected_at = excluded.rejected_at, accepted_json = excluded.accepted_json, "
    "accepted_at = excluded.accepted_at, confirmed_at = excluded.confirmed_at, "
    "signing_name = excluded.signing_name, failed_code_attempts = excluded.failed_code_attempts, "
    "reject_reason = excluded.reject_reason";
constexpr const char* kListRequestSigners =
    "SELECT signer_id, sign_order, status, signed_at, rejected_at, accepted_json, accepted_at, "
    "confirmed_at, signing_name, failed_code_attempts, reject_reason FROM request_signers "
    "WHERE request_id = ?1 ORDER BY position";

constexpr const char* kUpsertDocument =
    "INSERT INTO documents (id, request_id, position, metadata_json, status, reject_reason, "
    "violations_json, upload_generation, blob_key, size, sha256, page_count, created_at, "
    "updated_at, uploaded_at, signed_blob_key, signed_size, signed_sha256, signature_count) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19) "
    "ON CONFLICT (id) DO UPDATE SET status = excluded.status, "
    "reject_reason = excluded.reject_reason, violations_json = excluded.violations_json, "
    "upload_generation = excluded.upload_generation, blob_key = excluded.blob_key, "
    "size = excluded.size, sha256 = excluded.sha256, page_count = excluded.page_count, "
    "updated_at = excluded.updated_at, uploaded_at = excluded.uploaded_at, "
    "signed_blob_key = excluded.signed_blob_key, signed_size = excluded.signed_size, "
    "signed_sha256 = excluded.signed_sha256, signature_count = excluded.signature_count "
    "WHERE documents.request_id = excluded.request_id";
constexpr const char* kListDocuments =
    "SELECT id, position, metadata_json, status, reject_reason, violations_json, "
    "upload_generation, blob_key, size, sha256, page_count, created_at, updated_at, uploaded_at, "
    "signed_blob_key, signed_size, signed_sha256, signature_count FROM documents WHERE request_id "
    "= ?1 ORDER BY position";

constexpr const char* kAppendEvent =
    "INSERT INTO request_events (request_id, at, type, from_status, to_status, document_id, "
    "signer_id, actor, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
constexpr const char* kListEvents =
    "SELECT seq, request_id, at, type, from_status, to_status, document_id, signer_id, actor, "
    "detail FROM request_events WHERE request_id = ?1 ORDER BY seq";

constexpr const char* kEnqueueJob =
    "INSERT INTO jobs (kind, issuer_id, request_id, document_id, generation, run_at, blob_key, "
    "created_at, not_after) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
constexpr const char* kFindDueJob =
    "SELECT id, kind, issuer_id, request_id, document_id, generation, attempts, run_at, "
    "last_error, leased_by, blob_key, created_at, not_after FROM jobs WHERE done = 0 AND run_at <= "
    "?1 AND "
    "lease_until <= ?1 "
    "ORDER BY run_at, id LIMIT 1";
constexpr const char* kLeaseJob =
    "UPDATE jobs SET lease_until = ?2, leased_by = ?3, attempts = attempts + 1 WHERE id = ?1";
// Completion, retry and reschedule are fenced by the lease: only the claim that still holds
// the job (same worker, same attempt) changes it.
constexpr const char* kCompleteJob =
    "UPDATE jobs SET done = 1, lease_until = 0 WHERE id = ?1 AND leased_by = ?2 AND attempts = ?3";
constexpr const char* kRetryJob =
    "UPDATE jobs SET run_at = ?4, last_error = ?5, lease_until = 0 WHERE id = ?1 AND "
    "leased_by = ?2 AND attempts = ?3";
constexpr const char* kFindOpenJob =
    "SELECT id, kind, issuer_id, request_id, document_id, generation, attempts, run_at, "
    "last_error, leased_by, blob_key, created_at, not_after FROM jobs WHERE done = 0 AND kind = ?1 "
    "AND "
    "request_id = ?2 AND document_id = ?3 ORDER BY id DESC LIMIT 1";
constexpr const char* kExtendJob = "UPDATE jobs SET not_after = ?2 WHERE id = ?1";
constexpr const char* kRescheduleJob =
    "UPDATE jobs SET run_at = ?4, lease_until = 0, attempts = MAX(attempts - 1, 0) WHERE id = ?1 "
    "AND leased_by = ?2 AND attempts = ?3";

constexpr const char* kFindIdempotency =
    "SELECT issuer_id, key, request_hash, status, body, location, created_at FROM "
    "idempotency_keys WHERE issuer_id = ?1 AND key = ?2";
constexpr const char* kDeleteIdempotency =
    "DELETE FROM idempotency_keys WHERE issuer_id = ?1 AND key = ?2";
constexpr const char* kInsertIdempotency =
    "INSERT INTO idempotency_keys (issuer_id, key, request_hash, status, body, location, "
    "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
constexpr const char* kCompleteIdempotency =
    "UPDATE idempotency_keys SET status = ?3, body = ?4, location = ?5 "
    "WHERE issuer_id = ?1 AND key = ?2";
constexpr const char* kPurgeIdempotency = "DELETE FROM idempotency_keys WHERE created_at < ?1";
constexpr const char* kPurgeJobs = "DELETE FROM jobs WHERE done = 1 AND run_at < ?1";
constexpr const char* kInsertSession =
    "INSERT INTO portal_sessions (id_hash, csrf_token, auth_method, identity_kind, identity, "
    "full_name, request_id, signer_id, authenticated_at, reauthenticated_at, pending_json, "
    "created_at, expires_at, ip, user_agent) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
    "?12, ?13, ?14, ?15)";
constexpr const char* kFindSession =
    "SELECT id_hash, csrf_token, auth_method, identity_kind, identity, full_name, request_id, "
    "signer_id, authenticated_at, reauthenticated_at, pending_json, created_at, expires_at, ip, "
    "user_agent FROM portal_sessions WHERE id_hash = ?1";
constexpr const char* kUpdateSession =
    "UPDATE portal_sessions SET csrf_token = ?2, auth_method = ?3, identity_kind = ?4, "
    "identity = ?5, full_name = ?6, request_id = ?7, signer_id = ?8, authenticated_at = ?9, "
    "reauthenticated_at = ?10, pending_json = ?11, expires_at = ?13, ip = ?14, user_agent = ?15 "
    "WHERE id_hash = ?1 AND created_at = ?12";
constexpr const char* kDeleteSession = "DELETE FROM portal_sessions WHERE id_hash = ?1";
constexpr const char* kInsertCode =
    "INSERT INTO one_time_codes (id, request_id, signer_id, kind, code_hash, created_at, "
    "expires_at, used_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
constexpr const char* kFindLatestCode =
    "SELECT id, request_id, signer_id, kind, code_hash, created_at, expires_at, used_at "
    "FROM one_time_codes WHERE request_id = ?1 AND signer_id = ?2 AND kind = ?3 "
    "AND used_at IS NULL ORDER BY id DESC LIMIT 1";
constexpr const char* kUseCode =
    "UPDATE one_time_codes SET used_at = ?2 WHERE id = ?1 AND used_at IS NULL";
constexpr const char* kInsertSignerToken =
    "INSERT INTO signer_tokens (token_hash, kind, request_id, signer_id, created_at, expires_at, "
    "used_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
constexpr const char* kFindSignerToken =
    "SELECT token_hash, kind, request_id, signer_id, created_at, expires_at, used_at "
    "FROM signer_tokens WHERE token_hash = ?1";
constexpr const char* kUseSignerToken =
    "UPDATE signer_tokens SET used_at = ?2 WHERE token_hash = ?1 AND used_at IS NULL";
constexpr const char* kRevokeSignerTokens =
    "UPDATE signer_tokens SET used_at = ?4 WHERE request_id = ?1 AND signer_id = ?2 "
    "AND kind = ?3 AND used_at IS NULL";
constexpr const char* kInsertMessage =
    "INSERT INTO inbox_messages (id, identity_kind, identity, issuer_id, request_id, signer_id, "
    "kind, title, created_at, read_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
constexpr const char* kListMessages =
    "SELECT id, identity_kind, identity, issuer_id, request_id, signer_id, kind, title, "
    "created_at, read_at FROM inbox_messages WHERE identity_kind = ?1 AND identity = ?2 "
    "AND (?3 IS NULL OR id < ?3) ORDER BY id DESC LIMIT ?4";
constexpr const char* kHasMessage =
    "SELECT count(*) FROM inbox_messages WHERE request_id = ?1 AND signer_id = ?2 AND kind = ?3";
constexpr const char* kPurgeSessions = "DELETE FROM portal_sessions WHERE expires_at < ?1";
constexpr const char* kPurgeCodes = "DELETE FROM one_time_codes WHERE expires_at < ?1";
constexpr const char* kPurgeSignerTokens = "DELETE FROM signer_tokens WHERE expires_at < ?1";
constexpr const char* kInsertOutbox =
    "INSERT INTO outbox (event_id, issuer_id, request_id, channel, destination, template, "
    "language, payload_json, endpoint_id, created_at, next_attempt_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) "
    "ON CONFLICT (event_id, channel, destination) DO NOTHING";
constexpr const char* kFindDueOutbox =
    "SELECT id, event_id, issuer_id, request_id, channel, destination, template, language, "
    "payload_json, endpoint_id, attempts, created_at, next_attempt_at, delivered_at, "
    "abandoned_at, last_error, last_response FROM outbox "
    "WHERE delivered_at IS NULL AND abandoned_at IS NULL AND next_attempt_at <= ?1 "
    "AND lease_until <= ?1 ORDER BY next_attempt_at, id LIMIT 1";
constexpr const char* kLeaseOutbox = "UPDATE outbox SET lease_until = ?2 WHERE id = ?1";
constexpr const char* kUpdateOutbox =
    "UPDATE outbox SET attempts = ?2, next_attempt_at = ?3, delivered_at = ?4, "
    "abandoned_at = ?5, last_error = ?6, last_response = ?7, lease_until = 0 WHERE id = ?1";
constexpr const char* kFindOutbox =
    "SELECT id, event_id, issuer_id, request_id, channel, destination, template, language, "
    "payload_json, endpoint_id, attempts, created_at, next_attempt_at, delivered_at, "
    "abandoned_at, last_error, last_response FROM outbox WHERE issuer_id = ?1 AND id = ?2";
constexpr const char* kListOutbox =
    "SELECT id, event_id, issuer_id, request_id, channel, destination, template, language, "
    "payload_json, endpoint_id, attempts, created_at, next_attempt_at, delivered_at, "
    "abandoned_at, last_error, last_response FROM outbox WHERE issuer_id = ?1 AND channel = ?2 "
    "AND (?3 IS NULL OR id < ?3) ORDER BY id DESC LIMIT ?4";
constexpr const char* kInsertWebhook =
    "INSERT INTO webhook_endpoints (id, issuer_id, url, secret, events_json, created_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
constexpr const char* kListWebhooks =
    "SELECT id, issuer_id, url, secret, events_json, created_at FROM webhook_endpoints "
    "WHERE issuer_id = ?1 ORDER BY id";
constexpr const char* kDeleteWebhook =
    "DELETE FROM webhook_endpoints WHERE issuer_id = ?1 AND id = ?2";
constexpr const char* kInsertStatusChange =
    "INSERT INTO status_changes (issuer_id, event_id, type, request_id, payload_json, "
    "created_at, visible_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
    "ON CONFLICT (event_id) DO NOTHING";
constexpr const char* kNextStatusChange =
    "SELECT seq, issuer_id, event_id, type, request_id, payload_json, created_at, visible_at "
    "FROM status_changes WHERE issuer_id = ?1 AND confirmed_at IS NULL AND visible_at <= ?2 "
    "ORDER BY seq LIMIT 1";
constexpr const char* kHideStatusChange =
    "UPDATE status_changes SET visible_at = ?2 WHERE seq = ?1";
constexpr const char* kConfirmStatusChange =
    "UPDATE status_changes SET confirmed_at = ?3 WHERE issuer_id = ?1 AND seq = ?2 "
    "AND confirmed_at IS NULL";
constexpr const char* kGetNextPoll = "SELECT next_poll_at FROM poll_state WHERE issuer_id = ?1";
constexpr const char* kSetNextPoll =
    "INSERT INTO poll_state (issuer_id, next_poll_at) VALUES (?1, ?2) "
    "ON CONFLICT (issuer_id) DO UPDATE SET next_poll_at = excluded.next_poll_at";
constexpr const char* kListRemindable =
    "SELECT issuer_id, id FROM signature_requests WHERE expires_at <= ?1 "
    "AND status IN ('READY', 'WAIT_FOR_SIGNATURE') AND notification_id IS NOT NULL "
    "ORDER BY expires_at LIMIT ?2";
// One row per bucket and window length. When the stored window is this call's, or a newer one
// (the calling node's clock is behind), the call counts there; otherwise the row moves to this
// call's window and keeps the stored calls as previous_calls only if that was the window just
// before. (SET expressions all see the row as it was.)
constexpr const char* kCountRateLimitHit =
    "INSERT INTO rate_limits (bucket, window_ms, window_start, calls, previous_calls) "
    "VALUES (?1, ?3, ?2, 1, 0) ON CONFLICT (bucket, window_ms) DO UPDATE SET "
    "calls = CASE WHEN rate_limits.window_start >= excluded.window_start "
    "THEN rate_limits.calls + 1 ELSE 1 END, "
    "previous_calls = CASE WHEN rate_limits.window_start >= excluded.window_start "
    "THEN rate_limits.previous_calls "
    "WHEN rate_limits.window_start = excluded.window_start - excluded.window_ms "
    "THEN rate_limits.calls ELSE 0 END, "
    "window_start = CASE WHEN rate_limits.window_start >= excluded.window_start "
    "THEN rate_limits.window_start ELSE excluded.window_start END "
    "RETURNING window_start, calls, previous_calls";
constexpr const char* kPurgeRateLimits =
    "DELETE FROM rate_limits WHERE window_start + 2 * window_ms <= ?1";
constexpr const char* kGetSetting = "SELECT value FROM settings WHERE key = ?1";
constexpr const char* kPutSettingIfAbsent =
    "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING";

std::optional<Timestamp> OptTime(const Statement& s, int col) {
    auto v = s.OptInt(col);
    if (!v) return std::nullopt;
    return FromUnixMillis(*v);
}

std::optional<std::int64_t> OptMillis(const std::optional<Timestamp>& t) {
    if (!t) return std::nullopt;
    return ToUnixMillis(*t);
}

class SqliteTransaction final : public Transaction {
  public:
    SqliteTransaction(SqliteDatabase& db, std::unique_ptr<Connection> conn,
                      std::unique_lock<std::mutex> write_lock)
        : db_(db), conn_(std::move(conn)), write_lock_(std::move(write_lock)) {}

    ~SqliteTransaction() override {
        if (open_) {
            if (auto stmt = conn_->Prepare(kRollback)) (void)stmt->Run();
            if (sqlite3_get_autocommit(conn_->raw()) == 0) {
                // ROLLBACK failed: this connection still holds its transaction (and maybe the
                // write lock). Close it rather than hand it to the next caller.
                log::Error("sqlite_rollback_failed", {{"error", sqlite3_errmsg(conn_->raw())}});
                conn_.reset();
                db_.Forget();
            }
        }
        if (write_lock_.owns_lock()) db_.NoteWrite();
        db_.Release(std::move(conn_));
    }

    Result<void> BeginTx(TxMode mode) {
        if (mode == TxMode::kSingle || mode == TxMode::kSingleWrite) return {};
        FIRMO_TRY(auto stmt, conn_->Prepare(mode == TxMode::kWrite ? kBeginWrite : kBeginRead));
        FIRMO_CHECK(stmt.Run());
        open_ = true;
        return {};
    }

    Result<void> Commit() override {
        if (!open_) return {};
        FIRMO_TRY(auto stmt, conn_->Prepare(kCommit));
        FIRMO_CHECK(stmt.Run());
        open_ = false;
        return {};
    }

    Result<void> InsertIssuer(const Issuer& i) override {
        FIRMO_TRY(auto s, conn_->Prepare(kInsertIssuer));
        s.Bind(1, i.id).Bind(2, i.name).Bind(3, i.email).Bind(4, ToUnixMillis(i.created_at));
        return s.Run();
    }

    Result<std::optional<Issuer>> FindIssuer(const std::string& id) override {
        FIRMO_TRY(auto s, conn_->Prepare(kFindIssuer));
        s.Bind(1, id);
        return s.OneRow([](const Statement& r) {
            return Issuer{r.Text(0), r.Text(1), r.Text(2), FromUnixMillis(r.Int(3))};
        });
    }

    Result<std::int64_t> CountIssuers() override {
        FIRMO_TRY(auto s, conn_->Prepare(kCountIssuers));
        FIRMO_TRY(bool row, s.Step());
        return row ? s.Int(0) : 0;
    }

    Result<void> InsertApiKey(const ApiKey& k) override {
        FIRMO_TRY(auto s, conn_->Prepare(kInsertApiKey));
        s.Bind(1, k.id)
            .Bind(2, k.issuer_id)
            .Bind(3, k.key_hash)
            .Bind(4, k.prefix)
            .Bind(5, ToUnixMillis(k.created_at));
        return s.Run();
    }

    Result<std::optional<ApiKey>> FindApiKeyByHash(const std::string& key_hash) override {
        FIRMO_TRY(auto s, conn_->Prepare(kFindApiKeyByHash));
        s.Bind(1, key_hash);
        return s.OneRow([](const Statement& r) {
            return ApiKey{r.Text(0),    r.Text(1), r.Text(2), r.Text(3), FromUnixMillis(r.Int(4)),
                          OptTime(r, 5)};
        });
    }

    Result<bool> RevokeApiKey(const std::string& key_id, Timestamp at) override {
        FIRMO_TRY(auto s, conn_->Prepare(kRevokeApiKey));
        s.Bind(1, key_id).Bind(2, ToUnixMillis(at));
        FIRMO_CHECK(s.Run());
        return sqlite3_changes(conn_->raw()) > 0;
    }

    Result<void> InsertDossier(const Dossier& d) override {
        codec::Json docs = codec::Json::array();
        for (const auto& doc : d.documents) docs.push_back(codec::ToJson(doc));
        FIRMO_TRY(auto s, conn_->Prepare(kInsertDossier));
        s.Bind(1, d.id)
            .Bind(2, d.issuer_id)
            .Bind(3, d.title)
            .Bind(4, d.support_email)
            .Bind(5, docs.dump())
            .Bind(6, ToUnixMillis(d.created_at));
        return s.Run();
    }

    static Result<Dossier> ReadDossier(const Statement& s) {
        FIRMO_TRY(auto docs, codec::DocumentsMetadataFromText(s.Text(4)));
        return Dossier{s.Text(0), s.Text(1),       s.Text(2),
                       s.Text(3), std::move(docs), FromUnixMillis(s.Int(5))};
    }

    Result<std::optional<Dossier>> FindDossier(const std::string& issuer_id,
                                               const std::string& id) override {
        FIRMO_TRY(auto s, conn_->Prepare(kFindDossier));
        s.Bind(1, issuer_id).Bind(2, id);
        FIRMO_TRY(bool row, s.Step());
        if (!row) return std::optional<Dossier>();
        FIRMO_TRY(auto d, ReadDossier(s));
        return std::make_optional(std::move(d));
    }

    Result<Page<Dossier>> ListDossiers(const std::string& issuer_id,
                                       const PageQuery& page) override {
        FIRMO_TRY(auto s, conn_->Prepare(kListDossiers));
        s.Bind(1, issuer_id).Bind(2, page.after_id).Bind(3, page.limit + 1);
        Page<Dossier> out;
        while (true) {
            FIRMO_TRY(bool row, s.Step());
            if (!row) break;
            FIRMO_TRY(auto d, ReadDossier(s));
            out.items.push_back(std::move(d));
        }
        return Paginate(std::move(out), page.limit);
    }

    template <typename T>
    static Page<T> Paginate(Page<T> page, int limit) {
        if (static_cast<int>(page.items.size()) > limit) {
            page.items.resize(static_cast<std::size_t>(limit));
            page.next_after_id = page.items.back().id;
        }
        return page;
    }

    static Result<Signer> ReadSigner(const Statement& s) {
        auto kind = ParseIdentifierKind(s.Text(2));
        if (!kind) return Fail(ErrorCode::kInternal, "corrupt signer kind");
        return Signer{s.Text(0),
                      s.Text(1),
                      *kind,
                      s.Text(3),
                      s.OptText(4),
                      s.OptText(5),
                      FromUnixMillis(s.Int(6)),
                      FromUnixMillis(s.Int(7)),
                      s.OptText(8)};
    }

    Result<void> InsertSigner(const Signer& x) override {
        FIRMO_TRY(auto s, conn_->Prepare(kInsertSigner));
        s.Bind(1, x.id).Bind(2, x.issuer_id).Bind(3, ToString(x.kind)).Bind(4, x.identifier);
        s.Bind(5, x.email)
            .Bind(6, x.phone)
            .Bind(7, ToUnixMillis(x.created_at))
            .Bind(8, ToUnixMillis(x.updated_at))
            .Bind(9, x.full_name);
        return s.Run();
    }

    Result<void> UpdateSignerContact(const Signer& x) override {
        FIRMO_TRY(auto s, conn_->Prepare(kUpdateSignerContact));
        s.Bind(1, x.issuer_id)
            .Bind(2, x.id)
            .Bind(3, x.email)
            .Bind(4, x.phone)
            .Bind(5, ToUnixMillis(x.updated_at))
            .Bind(6, x.full_name);
        return s.Run();
    }

    Result<std::optional<Signer>> FindSigner(const std::string& issuer_id,
                                             const std::string& id) override {
        FIRMO_TRY(auto s, conn_->Prepare(kFindSigner));
        s.Bind(1, issuer_id).Bind(2, id);
        return OneSigner(s);
    }

    Result<std::optional<Signer>> FindSignerByIdentifier(const std::string& issuer_id,
                                                         IdentifierKind kind,
                                                         const std::string& identifier) override {
        FIRMO_TRY(auto s, conn_->Prepare(kFindSignerByIdentifier));
        s.Bind(1, issuer_id).Bind(2, ToString(kind)).Bind(3, identifier);
        return OneSigner(s);
    }

    static Result<std::optional<Signer>> OneSigner(Statement& s) {
        FIRMO_TRY(bool row, s.Step());
        if (!row) return std::optional<Signer>();
        FIRMO_TRY(auto signer, ReadSigner(s));
        return std::make_optional(std::move(signer));
    }

    Result<void> BindRequest(Statement& s, const SignatureRequest& r) {
        s.Bind(1, r.id).Bind(2, r.issuer_id).Bind(3, r.dossier_id).Bind(4, ToString(r.status));
        s.Bind(5, ToUnixMillis(r.expires_at))
            .Bind(6, r.reference)
            .Bind(7, ToUnixMillis(r.created_at));
        s.Bind(8, ToUnixMillis(r.updated_at)).Bind(9, OptMillis(r.signed_at));
        s.Bind(10, OptMillis(r.rejected_at)).Bind(11, r.reject_reason);
        s.Bind(12, OptMillis(r.cancelled_at)).Bind(13, OptMillis(r.expired_at));
        if (r.redirect) {
            s.Bind(14, codec::ToJson(*r.redirect).dump());
        } else {
            s.BindNull(14);
        }
        s.Bind(15, r.notification_id);
        s.Bind(16, r.auto_notify ? 1 : 0);
        return {};
    }

    Result<void> WriteChildren(const SignatureRequest& r) {
        for (std::size_t i = 0; i < r.signers.size(); ++i) {
            const auto& x = r.signers[i];
            FIRMO_TRY(auto s, conn_->Prepare(kUpsertRequestSigner));
            s.Bind(1, r.id).Bind(2, static_cast<std::int64_t>(i)).Bind(3, x.signer_id);
            s.Bind(4, x.order)
                .Bind(5, ToString(x.status))
                .Bind(6, OptMillis(x.signed_at))
                .Bind(7, OptMillis(x.rejected_at));
            s.Bind(8, codec::ToJson(x.accepted_fields).dump())
                .Bind(9, OptMillis(x.accepted_at))
                .Bind(10, OptMillis(x.confirmed_at))
                .Bind(11, x.signing_name)
                .Bind(12, x.failed_code_attempts)
                .Bind(13, x.reject_reason);
            FIRMO_CHECK(s.Run());
        }
        for (const auto& d : r.documents) {
            FIRMO_TRY(auto s, conn_->Prepare(kUpsertDocument));
            s.Bind(1, d.id)
                .Bind(2, r.id)
                .Bind(3, d.index)
                .Bind(4, codec::ToJson(d.metadata).dump());
            s.Bind(5, ToString(d.status))
                .Bind(6, d.reject_reason)
                .Bind(7, codec::ToJson(d.violations).dump());
            s.Bind(8, d.upload_generation)
                .Bind(9, d.blob_key)
                .Bind(10, d.size)
                .Bind(11, d.sha256_hex);
            s.Bind(12, d.page_count)
                .Bind(13, ToUnixMillis(d.created_at))
                .Bind(14, ToUnixMillis(d.updated_at))
                .Bind(15, OptMillis(d.uploaded_at));
            s.Bind(16, d.signed_blob_key)
                .Bind(17, d.signed_size)
                .Bind(18, d.signed_sha256_hex)
                .Bind(19, d.signature_count);
            FIRMO_CHECK(s.Run());
        }
        return {};
    }

    Result<void> InsertRequest(const SignatureRequest& r) override {
        FIRMO_TRY(auto s, conn_->Prepare(kInsertRequest));
        FIRMO_CHECK(BindRequest(s, r));
        FIRMO_CHECK(s.Run());
        return WriteChildren(r);
    }

    Result<void> UpdateRequest(const SignatureRequest& r) override {
        {
            FIRMO_TRY(auto s, conn_->Prepare(kUpdateRequest));
            FIRMO_CHECK(BindRequest(s, r));
            FIRMO_CHECK(s.Run());
        }
        if (sqlite3_changes(conn_->raw()) != 1) {
            return Fail(ErrorCode::kNotFound, "signature request " + r.id + " not found");
        }
        return WriteChildren(r);
    }

    Result<SignatureRequest> ReadRequest(const Statement& s) {
        SignatureRequest r;
        r.id = s.Text(0);
        r.issuer_id = s.Text(1);
        r.dossier_id = s.Text(2);
        auto status = ParseRequestStatus(s.Text(3));
        if (!status) return Fail(ErrorCode::kInternal, "corrupt request status");
        r.status = *status;
        r.expires_at = FromUnixMillis(s.Int(4));
        r.reference = s.OptText(5);
        r.created_at = FromUnixMillis(s.Int(6));
        r.updated_at = FromUnixMillis(s.Int(7));
        r.signed_at = OptTime(s, 8);
        r.rejected_at = OptTime(s, 9);
        r.reject_reason = s.OptText(10);
        r.cancelled_at = OptTime(s, 11);
        r.expired_at = OptTime(s, 12);
        if (auto text = s.OptText(13)) r.redirect = codec::RedirectUrlsFromText(*text);
        r.notification_id = s.OptText(14);
        r.auto_notify = s.Int(15) != 0;
        return r;
    }

    Result<void> LoadChildren(SignatureRequest& r) {
        {
            FIRMO_TRY(auto s, conn_->Prepare(kListRequestSigners));
            s.Bind(1, r.id);
            while (true) {
                FIRMO_TRY(bool row, s.Step());
                if (!row) break;
                auto status = ParseSignerStatus(s.Text(2));
                if (!status) return Fail(ErrorCode::kInternal, "corrupt signer status");
                RequestSigner x;
                x.signer_id = s.Text(0);
                x.order = static_cast<int>(s.Int(1));
                x.status = *status;
                x.signed_at = OptTime(s, 3);
                x.rejected_at = OptTime(s, 4);
                x.accepted_fields = codec::FieldRefsFromText(s.Text(5));
                x.accepted_at = OptTime(s, 6);
                x.confirmed_at = OptTime(s, 7);
                x.signing_name = s.Text(8);
                x.failed_code_attempts = static_cast<int>(s.Int(9));
                x.reject_reason = s.OptText(10);
                r.signers.push_back(std::move(x));
            }
        }
        FIRMO_TRY(auto s, conn_->Prepare(kListDocuments));
        s.Bind(1, r.id);
        while (true) {
            FIRMO_TRY(bool row, s.Step());
            if (!row) break;
            Document d;
            d.id = s.Text(0);
            d.index = static_cast<int>(s.Int(1));
            FIRMO_TRY(d.metadata, codec::DocumentMetadataFromText(s.Text(2)));
            auto status = ParseDocumentStatus(s.Text(3));
            if (!status) return Fail(ErrorCode::kInternal, "corrupt document status");
            d.status = *status;
            d.reject_reason = s.Text(4);
            d.violations = codec::ViolationsFromJson(codec::Json::parse(s.Text(5), nullptr, false));
            d.upload_generation = s.Int(6);
            d.blob_key = s.OptText(7);
            d.size = s.Int(8);
            d.sha256_hex = s.Text(9);
            d.page_count = static_cast<int>(s.Int(10));
            d.created_at = FromUnixMillis(s.Int(11));
            d.updated_at = FromUnixMillis(s.Int(12));
            d.uploaded_at = OptTime(s, 13);
            d.signed_blob_key = s.OptText(14);
            d.signed_size = s.Int(15);
            d.signed_sha256_hex = s.Text(16);
            d.signature_count = static_cast<int>(s.Int(17));
            r.documents.push_back(std::move(d));
        }
        return {};
    }

    Result<std::optional<SignatureRequest>> FindRequest(const std::string& issuer_id,
                                                        const std::string& id) override {
        SignatureRequest r;
        {
            FIRMO_TRY(auto s, conn_->Prepare(kFindRequest));
            s.Bind(1, issuer_id).Bind(2, id);
            FIRMO_TRY(bool row, s.Step());
            if (!row) return std::optional<SignatureRequest>();
            FIRMO_TRY(r, ReadRequest(s));
        }
        FIRMO_CHECK(LoadChildren(r));
        return std::make_optional(std::move(r));
    }

    Result<std::optional<SignatureRequest>> FindRequestForSigner(const std::string& id) override {
        SignatureRequest r;
        {
            FIRMO_TRY(auto s, conn_->Prepare(kFindRequestForSigner));
            s.Bind(1, id);
            FIRMO_TRY(bool row, s.Step());
            if (!row) return std::optional<SignatureRequest>();
            FIRMO_TRY(r, ReadRequest(s));
        }
        FIRMO_CHECK(LoadChildren(r));
        return std::make_optional(std::move(r));
    }

    void BindSession(Statement& s, const PortalSession& x) {
        s.Bind(1, x.id_hash).Bind(2, x.csrf_token).Bind(3, x.auth_method);
        if (x.identity_kind) {
            s.Bind(4, ToString(*x.identity_kind));
        } else {
            s.BindNull(4);
        }
        s.Bind(5, x.identity).Bind(6, x.full_name).Bind(7, x.request_id).Bind(8, x.signer_id);
        s.Bind(9, OptMillis(x.authenticated_at)).Bind(10, OptMillis(x.reauthenticated_at));
        s.Bind(11, x.pending_json).Bind(12, ToUnixMillis(x.created_at));
        s.Bind(13, ToUnixMillis(x.expires_at)).Bind(14, x.ip).Bind(15, x.user_agent);
    }

    Result<void> InsertSession(const PortalSession& x) override {
        FIRMO_TRY(auto s, conn_->Prepare(kInsertSession));
        BindSession(s, x);
        return s.Run();
    }

    Result<std::optional<PortalSession>> FindSession(const std::string& id_hash) override {
        FIRMO_TRY(auto s, conn_->Prepare(kFindSession));
        s.Bind(1, id_hash);
        FIRMO_TRY(bool row, s.Step());
        if (!row) return std::optional<PortalSession>();
        PortalSession x;
        x.id_hash = s.Text(0);
        x.csrf_token = s.Text(1);
        x.auth_method = s.Text(2);
        if (auto kind = s.OptText(3)) x.identity_kind = ParseIdentifierKind(*kind);
        x.identity = s.Text(4);
        x.full_name = s.Text(5);
        x.request_id = s.Text(6);
        x.signer_id = s.Text(7);
        x.authenticated_at = OptTime(s, 8);
        x.reauthenticated_at = OptTime(s, 9);
        x.pending_json = s.Text(10);
        x.created_at = FromUnixMillis(s.Int(11));
        x.expires_at = FromUnixMillis(s.Int(12));
        x.ip = s.Text(13);
        x.user_agent = s.Text(14);
        return std::make_optional(std::move(x));
    }

    Result<void> UpdateSession(const PortalSession& x) override {
        FIRMO_TRY(auto s, conn_->Prepare(kUpdateSession));
        BindSession(s, x);
        FIRMO_CHECK(s.Run());
        if (sqlite3_changes(conn_->raw()) != 1) {
            return Fail(ErrorCode::kNotFound, "session not found");
        }
        return {};
    }

    Result<void> DeleteSession(const std::string& id_hash) override {
        FIRMO_TRY(auto s, conn_->Prepare(kDeleteSession));
        s.Bind(1, id_hash);
        return s.Run();
    }

    Result<void> InsertCode(const OneTimeCode& c) override {
        FIRMO_TRY(auto s, conn_->Prepare(kInsertCode));
        s.Bind(1, c.id).Bind(2, c.request_id).Bind(3, c.signer_id).Bind(4, ToString(c.kind));
        s.Bind(5, c.code_hash).Bind(6, ToUnixMillis(c.created_at));
        s.Bind(7, ToUnixMillis(c.expires_at)).Bind(8, OptMillis(c.used_at));
        return s.Run();
    }

    Result<std::optional<OneTimeCode>> FindLatestCode(const std::string& request_id,
                                                      const std::string& signer_id,
                                                      CodeKind kind) override {
        FIRMO_TRY(auto s, conn_->Prepare(kFindLatestCode));
        s.Bind(1, request_id).Bind(2, signer_id).Bind(3, ToString(kind));
        FIRMO_TRY(bool row, s.Step());
        if (!row) return std::optional<OneTimeCode>();
        OneTimeCode c;
        c.id = s.Text(0);
        c.request_id = s.Text(1);
        c.signer_id = s.Text(2);
        c.kind = ParseCodeKind(s.Text(3)).value_or(CodeKind::kLogin);
        c.code_hash = s.Text(4);
        c.created_at = FromUnixMillis(s.Int(5));
        c.expires_at = FromUnixMillis(s.Int(6));
        c.used_at = OptTime(s, 7);
        return std::make_optional(std::move(c));
    }

    Result<bool> ChangedOne(const char* sql, const std::string& key, Timestamp at) {
        FIRMO_TRY(auto s, conn_->Prepare(sql));
        s.Bind(1, key).Bind(2, ToUnixMillis(at));
        FIRMO_CHECK(s.Run());
        return sqlite3_changes(conn_->raw()) == 1;
    }

    Result<bool> UseCode(const std::string& id, Timestamp at) override {
        return ChangedOne(kUseCode, id, at);
    }

    Result<void> InsertSignerToken(const SignerToken& t) override {
        FIRMO_TRY(auto s, conn_->Prepare(kInsertSignerToken));
        s.Bind(1, t.token_hash).Bind(2, ToString(t.kind)).Bind(3, t.request_id);
        s.Bind(4, t.signer_id).Bind(5, ToUnixMillis(t.created_at));
        s.Bind(6, ToUnixMillis(t.expires_at)).Bind(7, OptMillis(t.used_at));
        return s.Run();
    }

    Result<std::optional<SignerToken>> FindSignerToken(const std::string& token_hash) override {
        FIRMO_TRY(auto s, conn_->Prepare(kFindSignerToken));
        s.Bind(1, token_hash);
        FIRMO_TRY(bool row, s.Step());
        if (!row) return std::optional<SignerToken>();
        auto kind = ParseSignerTokenKind(s.Text(1));
        if (!kind) return Fail(ErrorCode::kInternal, "corrupt signer token kind");
        return std::make_optional(SignerToken{s.Text(0), *kind, s.Text(2), s.Text(3),
                                              FromUnixMillis(s.Int(4)), FromUnixMillis(s.Int(5)),
                                              OptTime(s, 6)});
    }

    Result<bool> UseSignerToken(const std::string& token_hash, Timestamp at) override {
        return ChangedOne(kUseSignerToken, token_hash, at);
    }

    Result<void> RevokeSignerTokens(const std::string& request_id, const std::string& signer_id,
                                    SignerTokenKind kind, Timestamp at) override {
        FIRMO_TRY(auto s, conn_->Prepare(kRevokeSignerTokens));
        s.Bind(1, request_id).Bind(2, signer_id).Bind(3, ToString(kind)).Bind(4, ToUnixMillis(at));
        return s.Run();
    }

    Result<void> InsertMessage(const InboxMessage& m) override {
        FIRMO_TRY(auto s, conn_->Prepare(kInsertMessage));
        s.Bind(1, m.id).Bind(2, ToString(m.identity_kind)).Bind(3, m.identity);
        s.Bind(4, m.issuer_id).Bind(5, m.request_id).Bind(6, m.signer_id);
        s.Bind(7, ToString(m.kind)).Bind(8, m.title).Bind(9, ToUnixMillis(m.created_at));
        s.Bind(10, OptMillis(m.read_at));
        return s.Run();
    }

    Result<Page<InboxMessage>> ListMessages(IdentifierKind kind, const std::string& identity,
                                            const PageQuery& page) override {
        FIRMO_TRY(auto s, conn_->Prepare(kListMessages));
        s.Bind(1, ToString(kind)).Bind(2, identity).Bind(3, page.after_id).Bind(4, page.limit + 1);
        Page<InboxMessage> out;
        while (true) {
            FIRMO_TRY(bool row, s.Step());
            if (!row) break;
            InboxMessage m;
            m.id = s.Text(0);
            m.identity_kind = ParseIdentifierKind(s.Text(1)).value_or(kind);
            m.identity = s.Text(2);
            m.issuer_id = s.Text(3);
            m.request_id = s.Text(4);
            m.signer_id = s.Text(5);
            m.kind = ParseMessageKind(s.Text(6)).value_or(MessageKind::kSignRequest);
            m.title = s.Text(7);
            m.created_at = FromUnixMillis(s.Int(8));
            m.read_at = OptTime(s, 9);
            out.items.push_back(std::move(m));
        }
        return Paginate(std::move(out), page.limit);
    }

    Result<bool> HasMessage(const std::string& request_id, const std::string& signer_id,
                            MessageKind kind) override {
        FIRMO_TRY(auto s, conn_->Prepare(kHasMessage));
        s.Bind(1, request_id).Bind(2, signer_id).Bind(3, ToString(kind));
        FIRMO_TRY(bool row, s.Step());
        return row && s.Int(0) > 0;
    }

    Result<std::int64_t> PurgeSignerSide(Timestamp now) override {
        std::int64_t removed = 0;
        for (const char* sql : {kPurgeSessions, kPurgeCodes, kPurgeSignerTokens}) {
            FIRMO_TRY(auto s, conn_->Prepare(sql));
            s.Bind(1, ToUnixMillis(now));
            FIRMO_CHECK(s.Run());
            removed += sqlite3_changes(conn_->raw());
        }
        return removed;
    }

    Result<RateLimitCount> CountRateLimitHit(const std::string& bucket, Timestamp window_start,
                                             std::chrono::milliseconds window) override {
        FIRMO_TRY(auto s, conn_->Prepare(kCountRateLimitHit));
        s.Bind(1, bucket).Bind(2, ToUnixMillis(window_start)).Bind(3, window.count());
        FIRMO_TRY(auto counted, s.OneRow([](const Statement& r) {
            return RateLimitCount{FromUnixMillis(r.Int(0)), r.Int(1), r.Int(2)};
        }));
        if (!counted) return Fail(ErrorCode::kInternal, "rate limit upsert returned no row");
        // Step to the end: outside a transaction, that is where SQLite commits (and may fail).
        FIRMO_CHECK(s.Run());
        return *counted;
    }

    Result<std::int64_t> PurgeRateLimits(Timestamp now) override {
        FIRMO_TRY(auto s, conn_->Prepare(kPurgeRateLimits));
        s.Bind(1, ToUnixMillis(now));
        FIRMO_CHECK(s.Run());
        return sqlite3_changes(conn_->raw());
    }

    static OutboxMessage ReadOutbox(const Statement& s) {
        OutboxMessage m;
        m.id = s.Int(0);
        m.event_id = s.Text(1);
        m.issuer_id = s.Text(2);
        m.request_id = s.Text(3);
        m.channel = ParseChannel(s.Text(4)).value_or(Channel::kEmail);
        m.destination = s.Text(5);
        m.template_name = s.Text(6);
        m.language = s.Text(7);
        m.payload_json = s.Text(8);
        m.endpoint_id = s.Text(9);
        m.attempts = static_cast<int>(s.Int(10));
        m.created_at = FromUnixMillis(s.Int(11));
        m.next_attempt_at = FromUnixMillis(s.Int(12));
        m.delivered_at = OptTime(s, 13);
        m.abandoned_at = OptTime(s, 14);
        m.last_error = s.Text(15);
        m.last_response = s.Text(16);
        return m;
    }

    Result<bool> InsertOutbox(const OutboxMessage& m) override {
        FIRMO_TRY(auto s, conn_->Prepare(kInsertOutbox));
        s.Bind(1, m.event_id).Bind(2, m.issuer_id).Bind(3, m.request_id);
        s.Bind(4, ToString(m.channel)).Bind(5, m.destination).Bind(6, m.template_name);
        s.Bind(7, m.language).Bind(8, m.payload_json).Bind(9, m.endpoint_id);
        s.Bind(10, ToUnixMillis(m.created_at)).Bind(11, ToUnixMillis(m.next_attempt_at));
        FIRMO_CHECK(s.Run());
        return sqlite3_changes(conn_->raw()) == 1;
    }

    Result<std::optional<OutboxMessage>> ClaimOutbox(Timestamp now,
                                                     std::chrono::milliseconds lease) override {
        OutboxMessage m;
        {
            FIRMO_TRY(auto s, conn_->Prepare(kFindDueOutbox));
            s.Bind(1, ToUnixMillis(now));
            FIRMO_TRY(bool row, s.Step());
            if (!row) return std::optional<OutboxMessage>();
            m = ReadOutbox(s);
        }
        FIRMO_TRY(auto s, conn_->Prepare(kLeaseOutbox));
        s.Bind(1, m.id).Bind(2, ToUnixMillis(now + lease));
        FIRMO_CHECK(s.Run());
        return std::make_optional(std::move(m));
    }

    Result<void> UpdateOutbox(const OutboxMessage& m) override {
        FIRMO_TRY(auto s, conn_->Prepare(kUpdateOutbox));
        s.Bind(1, m.id).Bind(2, m.attempts).Bind(3, ToUnixMillis(m.next_attempt_at));
        s.Bind(4, OptMillis(m.delivered_at)).Bind(5, OptMillis(m.abandoned_at));
        s.Bind(6, m.last_error).Bind(7, m.last_response);
        return s.Run();
    }

    Result<std::optional<OutboxMessage>> FindOutbox(const std::string& issuer_id,
                                                    std::int64_t id) override {
        FIRMO_TRY(auto s, conn_->Prepare(kFindOutbox));
        s.Bind(1, issuer_id).Bind(2, id);
        FIRMO_TRY(bool row, s.Step());
        if (!row) return std::optional<OutboxMessage>();
        return std::make_optional(ReadOutbox(s));
    }

    Result<Page<OutboxMessage>> ListOutbox(const std::string& issuer_id, Channel channel,
                                           const PageQuery& page) override {
        FIRMO_TRY(auto s, conn_->Prepare(kListOutbox));
        s.Bind(1, issuer_id).Bind(2, ToString(channel));
        std::optional<std::int64_t> after;
        if (page.after_id) {
            try {
                after = std::stoll(*page.after_id);
            } catch (...) {
                return Fail(ErrorCode::kInvalidArgument, "bad continuation token");
            }
        }
        s.Bind(3, after).Bind(4, page.limit + 1);
        Page<OutboxMessage> out;
        while (true) {
            FIRMO_TRY(bool row, s.Step());
            if (!row) break;
            out.items.push_back(ReadOutbox(s));
        }
        if (out.items.size() > static_cast<std::size_t>(page.limit)) {
            out.items.resize(static_cast<std::size_t>(page.limit));
            out.next_after_id = std::to_string(out.items.back().id);
        }
        return out;
    }

    Result<void> InsertWebhook(const WebhookEndpoint& w) override {
        FIRMO_TRY(auto s, conn_->Prepare(kInsertWebhook));
        codec::Json events = codec::Json::array();
        for (const auto& e : w.events) events.push_back(e);
        s.Bind(1, w.id).Bind(2, w.issuer_id).Bind(3, w.url).Bind(4, w.secret);
        s.Bind(5, events.dump()).Bind(6, ToUnixMillis(w.created_at));
        return s.Run();
    }

    Result<std::vector<WebhookEndpoint>> ListWebhooks(const std::string& issuer_id) override {
        FIRMO_TRY(auto s, conn_->Prepare(kListWebhooks));
        s.Bind(1, issuer_id);
        std::vector<WebhookEndpoint> out;
        while (true) {
            FIRMO_TRY(bool row, s.Step());
            if (!row) break;
            WebhookEndpoint w;
            w.id = s.Text(0);
            w.issuer_id = s.Text(1);
            w.url = s.Text(2);
            w.secret = s.Text(3);
            const auto events = codec::Json::parse(s.Text(4), nullptr, false);
            if (events.is_array()) {
                for (const auto& e : events) {
                    if (e.is_string()) w.events.push_back(e.get<std::string>());
                }
            }
            w.created_at = FromUnixMillis(s.Int(5));
            out.push_back(std::move(w));
        }
        return out;
    }

    Result<bool> DeleteWebhook(const std::string& issuer_id, const std::string& id) override {
        FIRMO_TRY(auto s, conn_->Prepare(kDeleteWebhook));
        s.Bind(1, issuer_id).Bind(2, id);
        FIRMO_CHECK(s.Run());
        return sqlite3_changes(conn_->raw()) == 1;
    }

    Result<void> InsertStatusChange(const StatusChange& c) override {
        FIRMO_TRY(auto s, conn_->Prepare(kInsertStatusChange));
        s.Bind(1, c.issuer_id).Bind(2, c.event_id).Bind(3, c.type).Bind(4, c.request_id);
        s.Bind(5, c.payload_json).Bind(6, ToUnixMillis(c.created_at));
        s.Bind(7, ToUnixMillis(c.visible_at));
        return s.Run();
    }

    Result<std::optional<StatusChange>> NextStatusChange(const std::string& issuer_id,
                                                         Timestamp now) override {
        FIRMO_TRY(auto s, conn_->Prepare(kNextStatusChange));
        s.Bind(1, issuer_id).Bind(2, ToUnixMillis(now));
        FIRMO_TRY(bool row, s.Step());
        if (!row) return std::optional<StatusChange>();
        return std::make_optional(StatusChange{s.Int(0), s.Text(1), s.Text(2), s.Text(3), s.Text(4),
                                               s.Text(5), FromUnixMillis(s.Int(6)),
                                               FromUnixMillis(s.Int(7))});
    }

    Result<void> HideStatusChange(std::int64_t seq, Timestamp until) override {
        FIRMO_TRY(auto s, conn_->Prepare(kHideStatusChange));
        s.Bind(1, seq).Bind(2, ToUnixMillis(until));
        return s.Run();
    }

    Result<bool> ConfirmStatusChange(const std::string& issuer_id, std::int64_t seq,
                                     Timestamp at) override {
        FIRMO_TRY(auto s, conn_->Prepare(kConfirmStatusChange));
        s.Bind(1, issuer_id).Bind(2, seq).Bind(3, ToUnixMillis(at));
        FIRMO_CHECK(s.Run());
        return sqlite3_changes(conn_->raw()) == 1;
    }

    Result<std::optional<Timestamp>> NextPollAt(const std::string& issuer_id) override {
        FIRMO_TRY(auto s, conn_->Prepare(kGetNextPoll));
        s.Bind(1, issuer_id);
        FIRMO_TRY(bool row, s.Step());
        if (!row) return std::optional<Timestamp>();
        return std::make_optional(FromUnixMillis(s.Int(0)));
    }

    Result<void> SetNextPollAt(const std::string& issuer_id, Timestamp at) override {
        FIRMO_TRY(auto s, conn_->Prepare(kSetNextPoll));
        s.Bind(1, issuer_id).Bind(2, ToUnixMillis(at));
        return s.Run();
    }

    // (issuer id, request id) rows of a query bound to a time and a limit.
    Result<std::vector<std::pair<std::string, std::string>>> IssuerRequestPairs(const char* sql,
                                                                                Timestamp at,
                                                                                int limit) {
        FIRMO_TRY(auto s, conn_->Prepare(sql));
        s.Bind(1, ToUnixMillis(at)).Bind(2, limit);
        std::vector<std::pair<std::string, std::string>> out;
        while (true) {
            FIRMO_TRY(bool row, s.Step());
            if (!row) break;
            out.emplace_back(s.Text(0), s.Text(1));
        }
        return out;
    }

    Result<std::vector<std::pair<std::string, std::string>>> ListRemindable(Timestamp before,
                                                                            int limit) override {
        return IssuerRequestPairs(kListRemindable, before, limit);
    }

    Result<Page<SignatureRequest>> ListRequests(const std::string& issuer_id,
                                                const RequestFilter& filter,
                                                const PageQuery& page) override {
        Page<SignatureRequest> out;
        {
            FIRMO_TRY(auto s, conn_->Prepare(kListRequests));
            s.Bind(1, issuer_id).Bind(2, page.after_id).Bind(3, filter.dossier_id);
            if (filter.status) {
                s.Bind(4, ToString(*filter.status));
            } else {
                s.BindNull(4);
            }
            s.Bind(5, page.limit + 1);
            while (true) {
                FIRMO_TRY(bool row, s.Step());
                if (!row) break;
                FIRMO_TRY(auto r, ReadRequest(s));
                out.items.push_back(std::move(r));
            }
        }
        out = Paginate(std::move(out), page.limit);
        for (auto& r : out.items) FIRMO_CHECK(LoadChildren(r));
        return out;
    }

    Result<std::vector<std::pair<std::string, std::string>>> ListExpired(Timestamp now,
                                                                         int limit) override {
        return IssuerRequestPairs(kListExpired, now, limit);
    }

    Result<void> AppendEvent(const AuditEvent& e) override {
        FIRMO_TRY(auto s, conn_->Prepare(kAppendEvent));
        s.Bind(1, e.request_id).Bind(2, ToUnixMillis(e.at)).Bind(3, e.type).Bind(4, e.from_status);
        s.Bind(5, e.to_status)
            .Bind(6, e.document_id)
            .Bind(7, e.signer_id)
            .Bind(8, e.actor)
            .Bind(9, e.detail);
        return s.Run();
    }

    Result<std::vector<AuditEvent>> ListEvents(const std::string& request_id) override {
        FIRMO_TRY(auto s, conn_->Prepare(kListEvents));
        s.Bind(1, request_id);
        std::vector<AuditEvent> out;
        while (true) {
            FIRMO_TRY(bool row, s.Step());
            if (!row) break;
            out.push_back(AuditEvent{s.Int(0), s.Text(1), FromUnixMillis(s.Int(2)), s.Text(3),
                                     s.Text(4), s.Text(5), s.Text(6), s.Text(7), s.Text(8),
                                     s.Text(9)});
        }
        return out;
    }

    Result<std::int64_t> EnqueueJob(const Job& j) override {
        FIRMO_TRY(auto s, conn_->Prepare(kEnqueueJob));
        s.Bind(1, ToString(j.kind))
            .Bind(2, j.issuer_id)
            .Bind(3, j.request_id)
            .Bind(4, j.document_id);
        s.Bind(5, j.generation).Bind(6, ToUnixMillis(j.run_at)).Bind(7, j.blob_key);
        s.Bind(8, ToUnixMillis(j.created_at)).Bind(9, ToUnixMillis(j.not_after));
        FIRMO_CHECK(s.Run());
        return static_cast<std::int64_t>(sqlite3_last_insert_rowid(conn_->raw()));
    }

    Result<std::optional<Job>> ClaimJob(Timestamp now, std::chrono::milliseconds lease,
                                        const std::string& worker) override {
        std::optional<Job> job;
        {
            FIRMO_TRY(auto s, conn_->Prepare(kFindDueJob));
            s.Bind(1, ToUnixMillis(now));
            FIRMO_TRY(job, ReadJob(s));
            if (!job) return job;
        }
        job->attempts += 1;
        job->leased_by = worker;
        FIRMO_TRY(auto s, conn_->Prepare(kLeaseJob));
        s.Bind(1, job->id).Bind(2, ToUnixMillis(now + lease)).Bind(3, worker);
        FIRMO_CHECK(s.Run());
        return job;
    }

    Result<std::optional<Job>> FindOpenJob(JobKind kind, const std::string& request_id,
                                           const std::string& document_id) override {
        FIRMO_TRY(auto s, conn_->Prepare(kFindOpenJob));
        s.Bind(1, ToString(kind)).Bind(2, request_id).Bind(3, document_id);
        return ReadJob(s);
    }

    Result<void> ExtendJob(std::int64_t job_id, Timestamp not_after) override {
        FIRMO_TRY(auto s, conn_->Prepare(kExtendJob));
        s.Bind(1, job_id).Bind(2, ToUnixMillis(not_after));
        return s.Run();
    }

    // The next row of a statement selecting the job columns in table order.
    static Result<std::optional<Job>> ReadJob(Statement& s) {
        FIRMO_TRY(bool row, s.Step());
        if (!row) return std::optional<Job>();
        auto kind = ParseJobKind(s.Text(1));
        if (!kind) return Fail(ErrorCode::kInternal, "unknown job kind " + s.Text(1));
        return std::make_optional(Job{s.Int(0), *kind, s.Text(2), s.Text(3), s.Text(4), s.Int(5),
                                      static_cast<int>(s.Int(6)), FromUnixMillis(s.Int(7)),
                                      s.Text(8), s.Text(9), s.Text(10), FromUnixMillis(s.Int(11)),
                                      FromUnixMillis(s.Int(12))});
    }

    Result<bool> CompleteJob(const Job& job) override {
        FIRMO_TRY(auto s, conn_->Prepare(kCompleteJob));
        s.Bind(1, job.id).Bind(2, job.leased_by).Bind(3, job.attempts);
        FIRMO_CHECK(s.Run());
        return sqlite3_changes(conn_->raw()) > 0;
    }

    Result<bool> RetryJob(const Job& job, Timestamp run_at, const std::string& error) override {
        FIRMO_TRY(auto s, conn_->Prepare(kRetryJob));
        s.Bind(1, job.id).Bind(2, job.leased_by).Bind(3, job.attempts);
        s.Bind(4, ToUnixMillis(run_at)).Bind(5, error);
        FIRMO_CHECK(s.Run());
        return sqlite3_changes(conn_->raw()) > 0;
    }

    Result<bool> RescheduleJob(const Job& job, Timestamp run_at) override {
        FIRMO_TRY(auto s, conn_->Prepare(kRescheduleJob));
        s.Bind(1, job.id).Bind(2, job.leased_by).Bind(3, job.attempts);
        s.Bind(4, ToUnixMillis(run_at));
        FIRMO_CHECK(s.Run());
        return sqlite3_changes(conn_->raw()) > 0;
    }

    Result<std::optional<IdempotencyRecord>> ClaimIdempotencyKey(const IdempotencyRecord& fresh,
                                                                 Timestamp stale_before) override {
        {
            FIRMO_TRY(auto s, conn_->Prepare(kFindIdempotency));
            s.Bind(1, fresh.issuer_id).Bind(2, fresh.key);
            FIRMO_TRY(bool row, s.Step());
            if (row) {
                IdempotencyRecord found{s.Text(0),
                                        s.Text(1),
                                        s.Text(2),
                                        static_cast<int>(s.Int(3)),
                                        s.Text(4),
                                        s.Text(5),
                                        FromUnixMillis(s.Int(6))};
                if (found.created_at >= stale_before) return std::make_optional(std::move(found));
            }
        }
        {
            FIRMO_CHECK(ReleaseIdempotencyKey(fresh.issuer_id, fresh.key));
            FIRMO_TRY(auto s, conn_->Prepare(kInsertIdempotency));
            s.Bind(1, fresh.issuer_id).Bind(2, fresh.key).Bind(3, fresh.request_hash);
            s.Bind(4, fresh.status)
                .Bind(5, fresh.body)
                .Bind(6, fresh.location)
                .Bind(7, ToUnixMillis(fresh.created_at));
            FIRMO_CHECK(s.Run());
        }
        return std::optional<IdempotencyRecord>();
    }

    Result<void> CompleteIdempotencyKey(const IdempotencyRecord& done) override {
        FIRMO_TRY(auto s, conn_->Prepare(kCompleteIdempotency));
        s.Bind(1, done.issuer_id)
            .Bind(2, done.key)
            .Bind(3, done.status)
            .Bind(4, done.body)
            .Bind(5, done.location);
        return s.Run();
    }

    Result<void> ReleaseIdempotencyKey(const std::string& issuer_id,
                                       const std::string& key) override {
        FIRMO_TRY(auto s, conn_->Prepare(kDeleteIdempotency));
        s.Bind(1, issuer_id).Bind(2, key);
        return s.Run();
    }

    Result<std::int64_t> Purge(Timestamp idempotency_before, Timestamp jobs_before) override {
        std::int64_t removed = 0;
        for (const auto& [sql, before] : {std::pair{kPurgeIdempotency, idempotency_before},
                                          std::pair{kPurgeJobs, jobs_before}}) {
            FIRMO_TRY(auto s, conn_->Prepare(sql));
            s.Bind(1, ToUnixMillis(before));
            FIRMO_CHECK(s.Run());
            removed += sqlite3_changes(conn_->raw());
        }
        return removed;
    }

    Result<std::optional<std::string>> GetSetting(const std::string& key) override {
        FIRMO_TRY(auto s, conn_->Prepare(kGetSetting));
        s.Bind(1, key);
        return s.OneRow([](const Statement& r) { return r.Text(0); });
    }

    Result<std::string> PutSettingIfAbsent(const std::string& key,
                                           const std::string& value) override {
        {
            FIRMO_TRY(auto s, conn_->Prepare(kPutSettingIfAbsent));
            s.Bind(1, key).Bind(2, value);
            FIRMO_CHECK(s.Run());
        }
        FIRMO_TRY(auto stored, GetSetting(key));
        if (!stored) return Fail(ErrorCode::kInternal, "setting vanished: " + key);
        return *stored;
    }

  private:
    SqliteDatabase& db_;
    std::unique_ptr<Connection> conn_;
    std::unique_lock<std::mutex> write_lock_;  // held for the life of a write transaction
    bool open_ = false;
};

}  // namespace

Result<std::unique_ptr<SqliteDatabase>> SqliteDatabase::Open(const std::string& path,
                                                             int pool_size) {
    std::unique_ptr<SqliteDatabase> db(new SqliteDatabase(path, pool_size < 1 ? 1 : pool_size));
    // Open one connection now so a bad path fails at start, not at the first request.
    FIRMO_TRY(auto conn, Connection::Open(path));
    db->idle_.push_back(std::move(conn));
    db->open_ = 1;
    db->checkpointer_ = std::thread([raw = db.get()] { raw->CheckpointLoop(); });
    return db;
}

SqliteDatabase::SqliteDatabase(std::string path, int pool_size)
    : path_(std::move(path)), pool_size_(pool_size) {}

SqliteDatabase::~SqliteDatabase() {
    {
        std::lock_guard lock(checkpoint_mu_);
        stopping_ = true;
    }
    checkpoint_cv_.notify_all();
    if (checkpointer_.joinable()) checkpointer_.join();
}

void SqliteDatabase::NoteWrite() { writes_.fetch_add(1, std::memory_order_relaxed); }

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
            if (auto conn = Acquire()) {
                (void)conn->Exec("PRAGMA wal_checkpoint(PASSIVE)");
                Release(std::move(conn));
                dirty = true;
            }
        } else {
            // A quiet moment: reset the WAL file. TRUNCATE takes SQLite's writer lock, so take
            // ours first -- in the same order as Begin(): writer mutex, then a connection --
            // and skip the round if a writer is active (no deadlock, no waiting).
            std::unique_lock write_lock(write_mu_, std::try_to_lock);
            if (write_lock.owns_lock()) {
                if (auto conn = Acquire()) {
                    if (conn->Exec("PRAGMA wal_checkpoint(TRUNCATE)")) dirty = false;
                    Release(std::move(conn));
                }
            }
        }
        lock.lock();
    }
}

std::unique_ptr<Connection> SqliteDatabase::Acquire() {
    std::unique_lock lock(mu_);
    while (true) {
        if (!idle_.empty()) {
            auto conn = std::move(idle_.back());
            idle_.pop_back();
            return conn;
        }
        if (open_ < pool_size_) {
            ++open_;
            lock.unlock();
            auto conn = Connection::Open(path_);
            if (conn) return std::move(*conn);
            log::Error("sqlite_open_failed", {{"error", conn.error().message}});
            lock.lock();
            --open_;
            return nullptr;
        }
        cv_.wait(lock);
    }
}

void SqliteDatabase::Forget() {
    {
        std::lock_guard lock(mu_);
        --open_;
    }
    cv_.notify_one();
}

void SqliteDatabase::Release(std::unique_ptr<Connection> conn) {
    if (!conn) return;
    {
        std::lock_guard lock(mu_);
        idle_.push_back(std::move(conn));
    }
    cv_.notify_one();
}

Result<std::unique_ptr<domain::Transaction>> SqliteDatabase::Begin(domain::TxMode mode) {
    // Writers of this process queue here instead of in SQLite, whose busy handler makes the
    // losers sleep (1, 2, 5 ... 100 ms) and so sets the tail latency. Other processes (the CLI)
    // still meet the busy timeout. The lock is taken before a pooled connection, so waiting
    // writers do not starve readers of connections.
    std::unique_lock<std::mutex> write_lock;
    if (mode == domain::TxMode::kWrite || mode == domain::TxMode::kSingleWrite) {
        write_lock = std::unique_lock(write_mu_);
    }
    auto conn = Acquire();
    if (!conn) return Fail(ErrorCode::kUnavailable, "cannot open a database connection");
    auto tx = std::make_unique<SqliteTransaction>(*this, std::move(conn), std::move(write_lock));
    FIRMO_CHECK(tx->BeginTx(mode));
    return std::unique_ptr<domain::Transaction>(std::move(tx));
}

Result<void> SqliteDatabase::Ping() {
    auto conn = Acquire();
    if (!conn) return Fail(ErrorCode::kUnavailable, "cannot open a database connection");
    auto result = conn->Exec("SELECT 1");
    Release(std::move(conn));
    return result;
}

Result<int> SqliteDatabase::Migrate() {
    auto conn = Acquire();
    if (!conn) return Fail(ErrorCode::kUnavailable, "cannot open a database connection");
    struct Releaser {
        SqliteDatabase& db;
        std::unique_ptr<Connection>& c;
        ~Releaser() { db.Release(std::move(c)); }
    } releaser{*this, conn};

    FIRMO_CHECK(
        conn->Exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                   "name TEXT NOT NULL, applied_at INTEGER NOT NULL)"));
    {
        std::vector<std::pair<int, std::string>> present;
        FIRMO_TRY(auto s, conn->Prepare("SELECT version, name FROM schema_migrations"));
        for (;;) {
            FIRMO_TRY(bool row, s.Step());
            if (!row) break;
            present.emplace_back(static_cast<int>(s.Int(0)), s.Text(1));
        }
        std::vector<int> known;
        for (const auto& m : Migrations()) known.push_back(m.version);
        if (auto newer = RefuseUnknownMigrations(present, known); !newer) {
            if (!allow_newer_schema_) return Fail(newer.error());
            log::Warn("schema_newer_than_binary", {{"detail", newer.error().message}});
        }
    }
    int applied = 0;
    for (const auto& m : Migrations()) {
        FIRMO_CHECK(conn->Exec("BEGIN IMMEDIATE"));
        auto step = [&]() -> Result<bool> {
            FIRMO_TRY(auto s, conn->Prepare("SELECT 1 FROM schema_migrations WHERE version = ?1"));
            s.Bind(1, m.version);
            FIRMO_TRY(bool present, s.Step());
            if (present) return false;
            FIRMO_CHECK(conn->Exec(m.sql));
            FIRMO_TRY(auto ins,
                      conn->Prepare("INSERT INTO schema_migrations (version, name, applied_at) "
                                    "VALUES (?1, ?2, strftime('%s','now') * 1000)"));
            ins.Bind(1, m.version).Bind(2, std::string_view(m.name));
            FIRMO_CHECK(ins.Run());
            return true;
        }();
        if (!step) {
            (void)conn->Exec("ROLLBACK");
            return Fail(Error{step.error().code, "migration " + std::to_string(m.version) + " (" +
                                                     m.name + "): " + step.error().message});
        }
        FIRMO_CHECK(conn->Exec("COMMIT"));
        if (*step) {
            ++applied;
            log::Info("migration_applied",
                      {{"version", std::to_string(m.version)}, {"name", m.name}});
        }
    }
    return applied;
}

}  // namespace firmo::store::sqlite
