#pragma once
// The SQL of the repositories, written once for SQLite (3.40: RETURNING, ON CONFLICT, TRUE) and
// PostgreSQL, one named constant per statement (its address is the prepared-statement cache
// key). Parameters are $1, $2, ... (the SQLite driver renumbers them as ?1, ?2). A parameter
// that may be NULL is compared as `CAST($n AS TEXT) IS NULL`, which both dialects type.
// Where the dialects differ, both texts are here and the repository picks by
// Connection::RowLocks(): reads that lock the row in PostgreSQL's write transactions
// (`...ForUpdate`), and claims that skip rows other nodes hold (`...SkipLocked`). The column
// lists are shared with the row readers (rows.hpp), which read columns in this order.

namespace firmo::store::sql {

// Column lists, in the order the row readers read them.
#define FIRMO_ISSUER_COLUMNS \
    "id, name, email, created_at, support_url, brand_color, logo_type, logo_sha256"
#define FIRMO_API_KEY_COLUMNS                                                                   \
    "id, issuer_id, key_hash, prefix, created_at, revoked_at, label, expires_at, allowed_ips, " \
    "last_used_at, last_used_ip, test"
#define FIRMO_DOSSIER_COLUMNS \
    "id, issuer_id, title, support_email, documents_json, created_at, non_sensitive_title"
#define FIRMO_SIGNER_COLUMNS \
    "id, issuer_id, kind, identifier, email, phone, created_at, updated_at, full_name, language"
#define FIRMO_REQUEST_COLUMNS                                                             \
    "id, issuer_id, dossier_id, status, expires_at, reference, created_at, updated_at, "  \
    "signed_at, rejected_at, reject_reason, cancelled_at, expired_at, redirect_json, "    \
    "notification_id, auto_notify, identifier_in_signed_documents, non_sensitive_title, " \
    "activates_at, documents_deleted_at, polling_queue, test"
#define FIRMO_REQUEST_SIGNER_COLUMNS                                                      \
    "signer_id, sign_order, status, signed_at, rejected_at, accepted_json, accepted_at, " \
    "confirmed_at, signing_name, failed_code_attempts, reject_reason, authentication, "   \
    "authenticated_with, on_behalf_of"
#define FIRMO_DOCUMENT_COLUMNS                                                                 \
    "id, position, metadata_json, status, reject_reason, violations_json, upload_generation, " \
    "blob_key, size, sha256, page_count, created_at, updated_at, uploaded_at, "                \
    "signed_blob_key, signed_size, signed_sha256, signature_count"
#define FIRMO_EVENT_COLUMNS \
    "seq, request_id, at, type, from_status, to_status, document_id, signer_id, actor, detail"
#define FIRMO_JOB_COLUMNS                                                                      \
    "id, kind, issuer_id, request_id, document_id, generation, attempts, run_at, last_error, " \
    "leased_by, blob_key, created_at, not_after"
#define FIRMO_IDEMPOTENCY_COLUMNS "issuer_id, key, request_hash, status, body, location, created_at"
#define FIRMO_SESSION_COLUMNS                                                                 \
    "id_hash, csrf_token, auth_method, identity_kind, identity, full_name, request_id, "      \
    "signer_id, authenticated_at, reauthenticated_at, pending_json, created_at, expires_at, " \
    "ip, user_agent, eid_level"
#define FIRMO_CODE_COLUMNS \
    "id, request_id, signer_id, kind, code_hash, created_at, expires_at, used_at"
#define FIRMO_SIGNER_TOKEN_COLUMNS \
    "token_hash, kind, request_id, signer_id, created_at, expires_at, used_at"
#define FIRMO_MESSAGE_COLUMNS                                                                  \
    "id, identity_kind, identity, issuer_id, request_id, signer_id, kind, title, created_at, " \
    "read_at"
#define FIRMO_OUTBOX_COLUMNS                                                           \
    "id, event_id, issuer_id, request_id, channel, destination, template, language, "  \
    "payload_json, endpoint_id, attempts, created_at, next_attempt_at, delivered_at, " \
    "abandoned_at, last_error, last_response"
#define FIRMO_WEBHOOK_COLUMNS "id, issuer_id, url, secret, events_json, created_at"
#define FIRMO_STATUS_CHANGE_COLUMNS                                                      \
    "seq, issuer_id, event_id, type, request_id, payload_json, created_at, visible_at, " \
    "polling_queue"

// ---- Issuers and API keys ---------------------------------------------------------------------
inline constexpr const char* kInsertIssuer =
    "INSERT INTO issuers (" FIRMO_ISSUER_COLUMNS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
inline constexpr const char* kFindIssuer =
    "SELECT " FIRMO_ISSUER_COLUMNS " FROM issuers WHERE id = $1";
inline constexpr const char* kCountIssuers = "SELECT count(*) FROM issuers";
inline constexpr const char* kUpdateIssuer =
    "UPDATE issuers SET name = $2, email = $3, support_url = $4, brand_color = $5, "
    "logo_type = $6, logo_sha256 = $7 WHERE id = $1";
inline constexpr const char* kInsertApiKey =
    "INSERT INTO api_keys (id, issuer_id, key_hash, prefix, created_at, label, expires_at, "
    "allowed_ips, test) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
inline constexpr const char* kFindApiKeyByHash =
    "SELECT " FIRMO_API_KEY_COLUMNS " FROM api_keys WHERE key_hash = $1";
inline constexpr const char* kRevokeApiKey =
    "UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL";
inline constexpr const char* kListApiKeys = "SELECT " FIRMO_API_KEY_COLUMNS
                                            " FROM api_keys WHERE issuer_id = $1 "
                                            "ORDER BY created_at DESC, id DESC";
inline constexpr const char* kRecordApiKeyUse =
    "UPDATE api_keys SET last_used_at = $2, last_used_ip = $3 "
    "WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2)";

// ---- Dossiers -------------------------------------------------------------------------------
inline constexpr const char* kInsertDossier =
    "INSERT INTO dossiers (" FIRMO_DOSSIER_COLUMNS ") VALUES ($1, $2, $3, $4, $5, $6, $7)";
inline constexpr const char* kFindDossier =
    "SELECT " FIRMO_DOSSIER_COLUMNS " FROM dossiers WHERE issuer_id = $1 AND id = $2";
inline constexpr const char* kListDossiers =
    "SELECT " FIRMO_DOSSIER_COLUMNS
    " FROM dossiers WHERE issuer_id = $1 "
    "AND (CAST($2 AS TEXT) IS NULL OR id < $2) ORDER BY id DESC LIMIT $3";

// ---- Signers --------------------------------------------------------------------------------
inline constexpr const char* kInsertSigner = "INSERT INTO signers (" FIRMO_SIGNER_COLUMNS
                                             ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
inline constexpr const char* kUpdateSignerContact =
    "UPDATE signers SET email = $3, phone = $4, updated_at = $5, full_name = $6, language = $7 "
    "WHERE issuer_id = $1 AND id = $2";
#define FIRMO_FIND_SIGNER \
    "SELECT " FIRMO_SIGNER_COLUMNS " FROM signers WHERE issuer_id = $1 AND id = $2"
inline constexpr const char* kFindSigner = FIRMO_FIND_SIGNER;
inline constexpr const char* kFindSignerForUpdate = FIRMO_FIND_SIGNER " FOR UPDATE";
#define FIRMO_FIND_SIGNER_BY_IDENTIFIER \
    "SELECT " FIRMO_SIGNER_COLUMNS      \
    " FROM signers "                    \
    "WHERE issuer_id = $1 AND kind = $2 AND identifier = $3"
inline constexpr const char* kFindSignerByIdentifier = FIRMO_FIND_SIGNER_BY_IDENTIFIER;
inline constexpr const char* kFindSignerByIdentifierForUpdate =
    FIRMO_FIND_SIGNER_BY_IDENTIFIER " FOR UPDATE";

// ---- Signature requests, their signers and documents ---------------------------------------
inline constexpr const char* kInsertRequest =
    "INSERT INTO signature_requests (" FIRMO_REQUEST_COLUMNS
    ") "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, "
    "$20, $21, $22)";
// The key columns (id, issuer, dossier, creation) never change: they select the row. Every
// update counts in `version`, which a cached copy of the aggregate is checked against (children
// are only ever written with their request: Insert and Update write all three tables).
inline constexpr const char* kUpdateRequest =
    "UPDATE signature_requests SET status = $4, expires_at = $5, reference = $6, "
    "updated_at = $8, signed_at = $9, rejected_at = $10, reject_reason = $11, "
    "cancelled_at = $12, expired_at = $13, redirect_json = $14, notification_id = $15, "
    "auto_notify = $16, identifier_in_signed_documents = $17, non_sensitive_title = $18, "
    "activates_at = $19, documents_deleted_at = $20, polling_queue = $21, version = version + 1 "
    "WHERE id = $1 AND "
    "issuer_id = $2 AND dossier_id = $3 AND created_at = $7 AND test = $22";
#define FIRMO_FIND_REQUEST \
    "SELECT " FIRMO_REQUEST_COLUMNS " FROM signature_requests WHERE issuer_id = $1 AND id = $2"
inline constexpr const char* kFindRequestForUpdate = FIRMO_FIND_REQUEST " FOR UPDATE";
#define FIRMO_FIND_REQUEST_FOR_SIGNER \
    "SELECT " FIRMO_REQUEST_COLUMNS " FROM signature_requests WHERE id = $1"
inline constexpr const char* kFindRequestForSignerForUpdate =
    FIRMO_FIND_REQUEST_FOR_SIGNER " FOR UPDATE";
inline constexpr const char* kListRequests =
    "SELECT " FIRMO_REQUEST_COLUMNS
    " FROM signature_requests WHERE issuer_id = $1 "
    "AND (CAST($2 AS TEXT) IS NULL OR id < $2) AND (CAST($3 AS TEXT) IS NULL OR dossier_id = $3) "
    "AND (CAST($4 AS TEXT) IS NULL OR status = $4) "
    "AND (CAST($6 AS BOOLEAN) IS NULL OR test = $6) ORDER BY id DESC LIMIT $5";
inline constexpr const char* kListExpired =
    "SELECT issuer_id, id FROM signature_requests WHERE expires_at <= $1 "
    "AND status IN ('DRAFT', 'READY', 'WAIT_FOR_SIGNATURE') ORDER BY expires_at LIMIT $2";
inline constexpr const char* kListRemindable =
    "SELECT issuer_id, id FROM signature_requests WHERE expires_at <= $1 "
    "AND status IN ('READY', 'WAIT_FOR_SIGNATURE') AND notification_id IS NOT NULL "
    "ORDER BY expires_at LIMIT $2";
inline constexpr const char* kListDocumentsRetained =
    "SELECT issuer_id, id FROM signature_requests WHERE updated_at <= $1 "
    "AND status IN ('SIGNED', 'REJECTED', 'CANCELLED', 'EXPIRED', 'FAILED') "
    "AND documents_deleted_at IS NULL ORDER BY updated_at LIMIT $2";
inline constexpr const char* kUpsertRequestSigner =
    "INSERT INTO request_signers (request_id, position, " FIRMO_REQUEST_SIGNER_COLUMNS
    ") "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) "
    "ON CONFLICT (request_id, position) DO UPDATE "
    "SET status = excluded.status, signed_at = excluded.signed_at, "
    "rejected_at = excluded.rejected_at, accepted_json = excluded.accepted_json, "
    "accepted_at = excluded.accepted_at, confirmed_at = excluded.confirmed_at, "
    "signing_name = excluded.signing_name, failed_code_attempts = excluded.failed_code_attempts, "
    "reject_reason = excluded.reject_reason, authenticated_with = excluded.authenticated_with";
inline constexpr const char* kListRequestSigners = "SELECT " FIRMO_REQUEST_SIGNER_COLUMNS
                                                   " FROM request_signers WHERE request_id = $1 "
                                                   "ORDER BY position";
// A document never moves to another request (the WHERE keeps an id clash from doing it).
inline constexpr const char* kUpsertDocument =
    "INSERT INTO documents (request_id, " FIRMO_DOCUMENT_COLUMNS
    ") "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, "
    "$19) ON CONFLICT (id) DO UPDATE SET status = excluded.status, "
    "reject_reason = excluded.reject_reason, violations_json = excluded.violations_json, "
    "upload_generation = excluded.upload_generation, blob_key = excluded.blob_key, "
    "size = excluded.size, sha256 = excluded.sha256, page_count = excluded.page_count, "
    "updated_at = excluded.updated_at, uploaded_at = excluded.uploaded_at, "
    "signed_blob_key = excluded.signed_blob_key, signed_size = excluded.signed_size, "
    "signed_sha256 = excluded.signed_sha256, signature_count = excluded.signature_count "
    "WHERE documents.request_id = excluded.request_id";
inline constexpr const char* kListDocuments =
    "SELECT " FIRMO_DOCUMENT_COLUMNS " FROM documents WHERE request_id = $1 ORDER BY position";
// The request with its signers and documents in one statement (one snapshot, one round trip):
// a row of kind 0 for the request, 1 per signer, 2 per document, in that order and each by
// position (the request's row has its version there); every row has the columns of all three
// (the others NULL), starting at the offsets kAggregate*Offset. The first branch types the NULLs of
// the document columns, which the union of the first two branches would otherwise make TEXT.
// Children are read even when the request is another issuer's (and dropped: without the request row
// nothing is returned). No FOR UPDATE form (PostgreSQL refuses it on a UNION): locking reads use
// kFindRequestForUpdate.
#define FIRMO_NO_REQUEST_COLUMNS                                                                 \
    "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, " \
    "NULL, NULL, NULL, NULL, NULL, NULL, NULL"
#define FIRMO_NO_REQUEST_SIGNER_COLUMNS \
    "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL"
#define FIRMO_NO_DOCUMENT_COLUMNS_TYPED                                                      \
    "CAST(NULL AS TEXT), CAST(NULL AS BIGINT), CAST(NULL AS TEXT), CAST(NULL AS TEXT), "     \
    "CAST(NULL AS TEXT), CAST(NULL AS TEXT), CAST(NULL AS BIGINT), CAST(NULL AS TEXT), "     \
    "CAST(NULL AS BIGINT), CAST(NULL AS TEXT), CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), " \
    "CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), CAST(NULL AS TEXT), CAST(NULL AS BIGINT), " \
    "CAST(NULL AS TEXT), CAST(NULL AS BIGINT)"
#define FIRMO_NO_DOCUMENT_COLUMNS                                                                \
    "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, " \
    "NULL, NULL, NULL"
#define FIRMO_REQUEST_AGGREGATE(request_where, child_request_id)                                 \
    "SELECT 0, version, " FIRMO_REQUEST_COLUMNS ", " FIRMO_NO_REQUEST_SIGNER_COLUMNS             \
    ", " FIRMO_NO_DOCUMENT_COLUMNS_TYPED " FROM signature_requests WHERE " request_where         \
    " UNION ALL SELECT 1, position, " FIRMO_NO_REQUEST_COLUMNS ", " FIRMO_REQUEST_SIGNER_COLUMNS \
    ", " FIRMO_NO_DOCUMENT_COLUMNS " FROM request_signers WHERE request_id = " child_request_id  \
    " UNION ALL SELECT 2, position, " FIRMO_NO_REQUEST_COLUMNS                                   \
    ", " FIRMO_NO_REQUEST_SIGNER_COLUMNS ", " FIRMO_DOCUMENT_COLUMNS                             \
    " FROM documents WHERE request_id = " child_request_id
inline constexpr const char* kFindRequestAggregate =
    FIRMO_REQUEST_AGGREGATE("issuer_id = $1 AND id = $2", "$2");
inline constexpr const char* kFindRequestAggregateForSigner =
    FIRMO_REQUEST_AGGREGATE("id = $1", "$1");
inline constexpr int kAggregateRequestOffset = 2;
inline constexpr int kAggregateSignerOffset = 2 + 22;
inline constexpr int kAggregateDocumentOffset = 2 + 22 + 14;
// What a cached aggregate is checked against: one narrow indexed read.
inline constexpr const char* kRequestVersion =
    "SELECT version FROM signature_requests WHERE issuer_id = $1 AND id = $2";
inline constexpr const char* kRequestVersionForSigner =
    "SELECT version FROM signature_requests WHERE id = $1";

// ---- Audit log ------------------------------------------------------------------------------
inline constexpr const char* kAppendEvent =
    "INSERT INTO request_events (request_id, at, type, from_status, to_status, document_id, "
    "signer_id, actor, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
inline constexpr const char* kListEvents =
    "SELECT " FIRMO_EVENT_COLUMNS " FROM request_events WHERE request_id = $1 ORDER BY seq";

// ---- Jobs -----------------------------------------------------------------------------------
inline constexpr const char* kEnqueueJob =
    "INSERT INTO jobs (kind, issuer_id, request_id, document_id, generation, run_at, blob_key, "
    "created_at, not_after) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id";
// A claim takes the oldest due job nobody holds and leases it, in one statement (atomic in
// autocommit too). RETURNING yields the attempts after the increment.
#define FIRMO_CLAIM_JOB(lock)                                                                \
    "UPDATE jobs SET lease_until = $2, leased_by = $3, attempts = attempts + 1 WHERE id = (" \
    "SELECT id FROM jobs WHERE NOT done AND run_at <= $1 AND lease_until <= $1 "             \
    "ORDER BY run_at, id LIMIT 1" lock ") RETURNING " FIRMO_JOB_COLUMNS
inline constexpr const char* kClaimJob = FIRMO_CLAIM_JOB("");
inline constexpr const char* kClaimJobSkipLocked = FIRMO_CLAIM_JOB(" FOR UPDATE SKIP LOCKED");
// Completion, retry and reschedule are fenced by the lease: only the claim that still holds
// the job (same worker, same attempt) changes it.
inline constexpr const char* kCompleteJob =
    "UPDATE jobs SET done = TRUE, lease_until = 0 WHERE id = $1 AND leased_by = $2 "
    "AND attempts = $3";
inline constexpr const char* kRetryJob =
    "UPDATE jobs SET run_at = $4, last_error = $5, lease_until = 0 WHERE id = $1 "
    "AND leased_by = $2 AND attempts = $3";
inline constexpr const char* kRescheduleJob =
    "UPDATE jobs SET run_at = $4, lease_until = 0, "
    "attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END "
    "WHERE id = $1 AND leased_by = $2 AND attempts = $3";
inline constexpr const char* kFindOpenJob =
    "SELECT " FIRMO_JOB_COLUMNS
    " FROM jobs WHERE NOT done AND kind = $1 AND request_id = $2 "
    "AND document_id = $3 ORDER BY id DESC LIMIT 1";
inline constexpr const char* kExtendJob = "UPDATE jobs SET not_after = $2 WHERE id = $1";
inline constexpr const char* kPurgeJobs = "DELETE FROM jobs WHERE done AND run_at < $1";
// For monitoring, at every scrape: the scan covers the pending jobs alone (the partial index
// jobs_pending, `WHERE NOT done` on both stores since migration 7).
inline constexpr const char* kPendingJobs =
    "SELECT kind, count(*), min(run_at) FROM jobs WHERE NOT done GROUP BY kind ORDER BY kind";

// ---- Idempotency keys -----------------------------------------------------------------------
#define FIRMO_FIND_IDEMPOTENCY \
    "SELECT " FIRMO_IDEMPOTENCY_COLUMNS " FROM idempotency_keys WHERE issuer_id = $1 AND key = $2"
inline constexpr const char* kFindIdempotency = FIRMO_FIND_IDEMPOTENCY;
inline constexpr const char* kFindIdempotencyForUpdate = FIRMO_FIND_IDEMPOTENCY " FOR UPDATE";
// Where a concurrent claim inserted the key first, this waits for it (PostgreSQL) and inserts
// nothing.
inline constexpr const char* kInsertIdempotency =
    "INSERT INTO idempotency_keys (" FIRMO_IDEMPOTENCY_COLUMNS
    ") "
    "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (issuer_id, key) DO NOTHING";
inline constexpr const char* kReplaceIdempotency =
    "UPDATE idempotency_keys SET request_hash = $3, status = $4, body = $5, location = $6, "
    "created_at = $7 WHERE issuer_id = $1 AND key = $2";
inline constexpr const char* kCompleteIdempotency =
    "UPDATE idempotency_keys SET status = $3, body = $4, location = $5 "
    "WHERE issuer_id = $1 AND key = $2";
inline constexpr const char* kDeleteIdempotency =
    "DELETE FROM idempotency_keys WHERE issuer_id = $1 AND key = $2";
inline constexpr const char* kPurgeIdempotency =
    "DELETE FROM idempotency_keys WHERE created_at < $1";

// ---- Signer side ----------------------------------------------------------------------------
inline constexpr const char* kInsertSession =
    "INSERT INTO portal_sessions (" FIRMO_SESSION_COLUMNS
    ") "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)";
#define FIRMO_FIND_SESSION \
    "SELECT " FIRMO_SESSION_COLUMNS " FROM portal_sessions WHERE id_hash = $1"
inline constexpr const char* kFindSession = FIRMO_FIND_SESSION;
inline constexpr const char* kFindSessionForUpdate = FIRMO_FIND_SESSION " FOR UPDATE";
inline constexpr const char* kUpdateSession =
    "UPDATE portal_sessions SET csrf_token = $2, auth_method = $3, identity_kind = $4, "
    "identity = $5, full_name = $6, request_id = $7, signer_id = $8, authenticated_at = $9, "
    "reauthenticated_at = $10, pending_json = $11, expires_at = $13, ip = $14, user_agent = $15, "
    "eid_level = $16 WHERE id_hash = $1 AND created_at = $12";
inline constexpr const char* kDeleteSession = "DELETE FROM portal_sessions WHERE id_hash = $1";
inline constexpr const char* kPurgeSessions = "DELETE FROM portal_sessions WHERE expires_at < $1";
inline constexpr const char* kInsertCode =
    "INSERT INTO one_time_codes (" FIRMO_CODE_COLUMNS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
inline constexpr const char* kFindLatestCode =
    "SELECT " FIRMO_CODE_COLUMNS
    " FROM one_time_codes WHERE request_id = $1 AND signer_id = $2 "
    "AND kind = $3 AND used_at IS NULL ORDER BY id DESC LIMIT 1";
inline constexpr const char* kUseCode =
    "UPDATE one_time_codes SET used_at = $2 WHERE id = $1 AND used_at IS NULL";
inline constexpr const char* kPurgeCodes = "DELETE FROM one_time_codes WHERE expires_at < $1";
inline constexpr const char* kInsertSignerToken =
    "INSERT INTO signer_tokens (" FIRMO_SIGNER_TOKEN_COLUMNS
    ") "
    "VALUES ($1, $2, $3, $4, $5, $6, $7)";
inline constexpr const char* kFindSignerToken =
    "SELECT " FIRMO_SIGNER_TOKEN_COLUMNS " FROM signer_tokens WHERE token_hash = $1";
inline constexpr const char* kUseSignerToken =
    "UPDATE signer_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL";
inline constexpr const char* kRevokeSignerTokens =
    "UPDATE signer_tokens SET used_at = $4 WHERE request_id = $1 AND signer_id = $2 "
    "AND kind = $3 AND used_at IS NULL";
inline constexpr const char* kPurgeSignerTokens = "DELETE FROM signer_tokens WHERE expires_at < $1";
inline constexpr const char* kInsertMessage = "INSERT INTO inbox_messages (" FIRMO_MESSAGE_COLUMNS
                                              ") "
                                              "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
inline constexpr const char* kListMessages =
    "SELECT " FIRMO_MESSAGE_COLUMNS
    " FROM inbox_messages WHERE identity_kind = $1 "
    "AND identity = $2 AND (CAST($3 AS TEXT) IS NULL OR id < $3) ORDER BY id DESC LIMIT $4";
inline constexpr const char* kHasMessage =
    "SELECT count(*) FROM inbox_messages WHERE request_id = $1 AND signer_id = $2 AND kind = $3";

// ---- Outbox, webhook endpoints, polling queue ---------------------------------------------
inline constexpr const char* kInsertOutbox =
    "INSERT INTO outbox (event_id, issuer_id, request_id, channel, destination, template, "
    "language, payload_json, endpoint_id, created_at, next_attempt_at) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) "
    "ON CONFLICT (event_id, channel, destination) DO NOTHING";
// Round robin over the issuers (outbox_turns, migration 9): the first issuer in turn order that
// has a due message, then its oldest due message. Both lookups are index searches, so a claim
// costs the same with a backlog of 100,000 messages.
#define FIRMO_OUTBOX_DUE                                                               \
    "o.issuer_id = t.issuer_id AND o.delivered_at IS NULL AND o.abandoned_at IS NULL " \
    "AND o.next_attempt_at <= $1 AND o.lease_until <= $1"
#define FIRMO_CLAIM_OUTBOX(lock)                                   \
    "UPDATE outbox SET lease_until = $2 WHERE id = ("              \
    "SELECT (SELECT o.id FROM outbox o WHERE " FIRMO_OUTBOX_DUE    \
    " ORDER BY o.next_attempt_at, o.id LIMIT 1" lock               \
    ") FROM outbox_turns t "                                       \
    "WHERE EXISTS (SELECT 1 FROM outbox o WHERE " FIRMO_OUTBOX_DUE \
    ") "                                                           \
    "ORDER BY t.turn, t.issuer_id LIMIT 1) RETURNING " FIRMO_OUTBOX_COLUMNS
inline constexpr const char* kClaimOutbox = FIRMO_CLAIM_OUTBOX("");
inline constexpr const char* kClaimOutboxSkipLocked = FIRMO_CLAIM_OUTBOX(" FOR UPDATE SKIP LOCKED");
// An issuer at rest (turn 2^60: nothing pending) comes to the front with a new or requeued
// message; an active one keeps its place.
#define FIRMO_RESTING_TURN "1152921504606846976"
inline constexpr const char* kWakeOutboxTurn =
    "INSERT INTO outbox_turns (issuer_id, turn) VALUES ($1, 0) ON CONFLICT (issuer_id) "
    "DO UPDATE SET turn = 0 WHERE outbox_turns.turn >= " FIRMO_RESTING_TURN;
// The claimed message's issuer goes to the back of the round.
inline constexpr const char* kPassOutboxTurn =
    "UPDATE outbox_turns SET turn = (SELECT COALESCE(MAX(turn), 0) + 1 FROM outbox_turns "
    "WHERE turn < " FIRMO_RESTING_TURN ") WHERE issuer_id = $1";
// After an attempt on message $1: its issuer wakes when the message is still pending (retried,
// deferred, redelivered), and rests when it has nothing pending any more.
inline constexpr const char* kWakeOutboxTurnOf =
    "INSERT INTO outbox_turns (issuer_id, turn) SELECT issuer_id, 0 FROM outbox WHERE id = $1 "
    "ON CONFLICT (issuer_id) DO UPDATE SET turn = 0 WHERE outbox_turns.turn >= " FIRMO_RESTING_TURN;
inline constexpr const char* kRestOutboxTurnOf =
    "UPDATE outbox_turns SET turn = " FIRMO_RESTING_TURN
    " WHERE issuer_id = (SELECT issuer_id FROM outbox WHERE id = $1) AND NOT EXISTS ("
    "SELECT 1 FROM outbox WHERE outbox.issuer_id = outbox_turns.issuer_id "
    "AND delivered_at IS NULL AND abandoned_at IS NULL)";
inline constexpr const char* kUpdateOutbox =
    "UPDATE outbox SET attempts = $2, next_attempt_at = $3, delivered_at = $4, "
    "abandoned_at = $5, last_error = $6, last_response = $7, lease_until = 0 WHERE id = $1";
inline constexpr const char* kFindOutbox =
    "SELECT " FIRMO_OUTBOX_COLUMNS " FROM outbox WHERE issuer_id = $1 AND id = $2";
inline constexpr const char* kListOutbox =
    "SELECT " FIRMO_OUTBOX_COLUMNS
    " FROM outbox WHERE issuer_id = $1 AND channel = $2 "
    "AND (CAST($3 AS BIGINT) IS NULL OR id < $3) ORDER BY id DESC LIMIT $4";
// For monitoring, at every scrape: the scan covers the undelivered messages alone (the
// partial index outbox_due, whose WHERE this repeats word for word).
inline constexpr const char* kPendingOutbox =
    "SELECT channel, count(*), min(next_attempt_at) FROM outbox "
    "WHERE delivered_at IS NULL AND abandoned_at IS NULL GROUP BY channel ORDER BY channel";
inline constexpr const char* kInsertWebhook =
    "INSERT INTO webhook_endpoints (" FIRMO_WEBHOOK_COLUMNS ") VALUES ($1, $2, $3, $4, $5, $6)";
inline constexpr const char* kListWebhooks =
    "SELECT " FIRMO_WEBHOOK_COLUMNS " FROM webhook_endpoints WHERE issuer_id = $1 ORDER BY id";
inline constexpr const char* kDeleteWebhook =
    "DELETE FROM webhook_endpoints WHERE issuer_id = $1 AND id = $2";
inline constexpr const char* kInsertStatusChange =
    "INSERT INTO status_changes (issuer_id, event_id, type, request_id, payload_json, "
    "created_at, visible_at, polling_queue) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
    "ON CONFLICT (event_id) DO NOTHING";
#define FIRMO_NEXT_STATUS_CHANGE                 \
    "SELECT " FIRMO_STATUS_CHANGE_COLUMNS        \
    " FROM status_changes WHERE issuer_id = $1 " \
    "AND polling_queue = $3 AND confirmed_at IS NULL AND visible_at <= $2 ORDER BY seq LIMIT 1"
inline constexpr const char* kNextStatusChange = FIRMO_NEXT_STATUS_CHANGE;
inline constexpr const char* kNextStatusChangeForUpdate = FIRMO_NEXT_STATUS_CHANGE " FOR UPDATE";
inline constexpr const char* kHideStatusChange =
    "UPDATE status_changes SET visible_at = $2 WHERE seq = $1";
inline constexpr const char* kStatusChangeQueue =
    "SELECT polling_queue FROM status_changes WHERE issuer_id = $1 AND seq = $2";
inline constexpr const char* kConfirmStatusChange =
    "UPDATE status_changes SET confirmed_at = $3 WHERE issuer_id = $1 AND seq = $2 "
    "AND confirmed_at IS NULL";
#define FIRMO_GET_NEXT_POLL \
    "SELECT next_poll_at FROM poll_queues WHERE issuer_id = $1 AND polling_queue = $2"
inline constexpr const char* kGetNextPoll = FIRMO_GET_NEXT_POLL;
inline constexpr const char* kGetNextPollForUpdate = FIRMO_GET_NEXT_POLL " FOR UPDATE";
inline constexpr const char* kSetNextPoll =
    "INSERT INTO poll_queues (issuer_id, polling_queue, next_poll_at) VALUES ($1, $2, $3) "
    "ON CONFLICT (issuer_id, polling_queue) DO UPDATE SET next_poll_at = excluded.next_poll_at";

// ---- Rate limits ----------------------------------------------------------------------------
// One row per bucket and window length. When the stored window is this call's, or a newer one
// (the calling node's clock is behind), the call counts there; otherwise the row moves to this
// call's window and keeps the stored calls as previous_calls only if that was the window just
// before. (SET expressions all see the row as it was.) In autocommit (kSingleWrite) it is one
// round trip; on PostgreSQL concurrent calls on one bucket queue on its row lock, and each then
// updates the latest version of the row (ON CONFLICT DO UPDATE under READ COMMITTED).
// $4 may be negative (calls given back): excluded.calls is then 0, and only the stored window
// $2 itself takes it.
inline constexpr const char* kAddRateLimitCalls =
    "INSERT INTO rate_limits (bucket, window_ms, window_start, calls, previous_calls) "
    "VALUES ($1, $3, $2, CASE WHEN CAST($4 AS BIGINT) > 0 THEN CAST($4 AS BIGINT) ELSE 0 END, 0) "
    "ON CONFLICT (bucket, window_ms) DO UPDATE SET "
    "calls = CASE WHEN rate_limits.window_start = excluded.window_start "
    "THEN rate_limits.calls + CAST($4 AS BIGINT) "
    "WHEN rate_limits.window_start > excluded.window_start "
    "THEN rate_limits.calls + excluded.calls ELSE excluded.calls END, "
    "previous_calls = CASE WHEN rate_limits.window_start >= excluded.window_start "
    "THEN rate_limits.previous_calls "
    "WHEN rate_limits.window_start = excluded.window_start - excluded.window_ms "
    "THEN rate_limits.calls ELSE 0 END, "
    "window_start = CASE WHEN rate_limits.window_start >= excluded.window_start "
    "THEN rate_limits.window_start ELSE excluded.window_start END "
    "RETURNING window_start, calls, previous_calls";
inline constexpr const char* kPurgeRateLimits =
    "DELETE FROM rate_limits WHERE window_start + 2 * window_ms <= $1";

// ---- Settings -------------------------------------------------------------------------------
inline constexpr const char* kGetSetting = "SELECT value FROM settings WHERE key = $1";
inline constexpr const char* kPutSettingIfAbsent =
    "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING";

// ---- Certificate revocations (the built-in CA) ---------------------------------------------
inline constexpr const char* kInsertRevocation =
    "INSERT INTO certificate_revocations (serial, revoked_at, reason) VALUES ($1, $2, $3) "
    "ON CONFLICT (serial) DO NOTHING";
inline constexpr const char* kFindRevocation =
    "SELECT serial, revoked_at, reason FROM certificate_revocations WHERE serial = $1";
inline constexpr const char* kListRevocations =
    "SELECT serial, revoked_at, reason FROM certificate_revocations ORDER BY revoked_at, serial";

// ---- QTSP credential authorizations (CSC API v2) -------------------------------------------
#define FIRMO_QTSP_AUTHORIZATION_COLUMNS                                                      \
    "state_hash, request_id, signer_id, credential_id, hashes, sealed_verifier, created_at, " \
    "expires_at, finished_at, outcome, sealed_code, sealed_token, token_expires_at"
inline constexpr const char* kInsertQtspAuthorization =
    "INSERT INTO qtsp_authorizations (" FIRMO_QTSP_AUTHORIZATION_COLUMNS
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, '', '', '', NULL)";
inline constexpr const char* kFindQtspAuthorization =
    "SELECT " FIRMO_QTSP_AUTHORIZATION_COLUMNS " FROM qtsp_authorizations WHERE state_hash = $1";
inline constexpr const char* kFinishQtspAuthorization =
    "UPDATE qtsp_authorizations SET finished_at = $3, outcome = $2 "
    "WHERE state_hash = $1 AND finished_at IS NULL AND expires_at > $3";
inline constexpr const char* kDeleteExpiredQtspAuthorizations =
    "DELETE FROM qtsp_authorizations WHERE expires_at < $1";
inline constexpr const char* kKeepQtspSecrets =
    "UPDATE qtsp_authorizations SET sealed_code = $2, sealed_token = $3, token_expires_at = $4 "
    "WHERE state_hash = $1";
inline constexpr const char* kForgetExpiredQtspTokens =
    "UPDATE qtsp_authorizations SET sealed_token = '', token_expires_at = NULL "
    "WHERE token_expires_at < $1";
// ---- Staff of the sender portal (issue 17) --------------------------------------------------
#define FIRMO_STAFF_USER_COLUMNS                                                      \
    "id, issuer_id, email, role, password_hash, setup_token_hash, setup_expires_at, " \
    "created_at, updated_at, disabled_at, totp_secret, totp_enabled_at, totp_last_step"
inline constexpr const char* kInsertStaffUser =
    "INSERT INTO staff_users (" FIRMO_STAFF_USER_COLUMNS
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";
inline constexpr const char* kFindStaffUser =
    "SELECT " FIRMO_STAFF_USER_COLUMNS " FROM staff_users WHERE issuer_id = $1 AND id = $2";
inline constexpr const char* kFindStaffUserByEmail =
    "SELECT " FIRMO_STAFF_USER_COLUMNS " FROM staff_users WHERE email = $1";
inline constexpr const char* kFindStaffUserBySetupToken =
    "SELECT " FIRMO_STAFF_USER_COLUMNS " FROM staff_users WHERE setup_token_hash = $1";
inline constexpr const char* kUpdateStaffUser =
    "UPDATE staff_users SET role = $4, password_hash = $5, setup_token_hash = $6, "
    "setup_expires_at = $7, updated_at = $9, disabled_at = $10, totp_secret = $11, "
    "totp_enabled_at = $12, totp_last_step = $13 "
    "WHERE id = $1 AND issuer_id = $2 AND email = $3 AND created_at = $8";
inline constexpr const char* kListStaffUsers =
    "SELECT " FIRMO_STAFF_USER_COLUMNS " FROM staff_users WHERE issuer_id = $1 ORDER BY email";
#define FIRMO_STAFF_SESSION_COLUMNS \
    "id_hash, user_id, issuer_id, csrf_token, created_at, expires_at, ip, user_agent"
inline constexpr const char* kInsertStaffSession =
    "INSERT INTO staff_sessions (" FIRMO_STAFF_SESSION_COLUMNS
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
inline constexpr const char* kFindStaffSession =
    "SELECT " FIRMO_STAFF_SESSION_COLUMNS " FROM staff_sessions WHERE id_hash = $1";
inline constexpr const char* kDeleteStaffSession = "DELETE FROM staff_sessions WHERE id_hash = $1";
inline constexpr const char* kDeleteStaffSessionsOf =
    "DELETE FROM staff_sessions WHERE user_id = $1";
inline constexpr const char* kPurgeStaffSessions =
    "DELETE FROM staff_sessions WHERE expires_at < $1";
inline constexpr const char* kAppendStaffAudit =
    "INSERT INTO staff_audit (issuer_id, at, actor, action, subject, detail) "
    "VALUES ($1, $2, $3, $4, $5, $6)";
inline constexpr const char* kListStaffAudit =
    "SELECT seq, issuer_id, at, actor, action, subject, detail FROM staff_audit "
    "WHERE issuer_id = $1 ORDER BY seq DESC LIMIT $2";

// ---- The database as a whole: transaction ends, readiness, migration bookkeeping ----------
// (BEGIN differs: each driver has its own, see Connection::Begin.)
inline constexpr const char* kCommit = "COMMIT";
inline constexpr const char* kRollback = "ROLLBACK";
inline constexpr const char* kPing = "SELECT 1";
inline constexpr const char* kCreateMigrationsTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
    "name TEXT NOT NULL, applied_at BIGINT NOT NULL)";
inline constexpr const char* kListMigrations =
    "SELECT version, name FROM schema_migrations ORDER BY version";
inline constexpr const char* kMigrationApplied =
    "SELECT 1 FROM schema_migrations WHERE version = $1";
inline constexpr const char* kRecordMigration =
    "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)";

}  // namespace firmo::store::sql
