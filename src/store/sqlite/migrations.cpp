#include "store/sqlite/migrations.hpp"

namespace firmo::store::sqlite {

namespace {

// Timestamps are INTEGER milliseconds since the Unix epoch (UTC).
constexpr const char* kInitial = R"sql(
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE issuers (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    email      TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    issuer_id  TEXT NOT NULL REFERENCES issuers(id),
    key_hash   TEXT NOT NULL UNIQUE,
    prefix     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE TABLE dossiers (
    id             TEXT PRIMARY KEY,
    issuer_id      TEXT NOT NULL REFERENCES issuers(id),
    title          TEXT NOT NULL,
    support_email  TEXT NOT NULL,
    documents_json TEXT NOT NULL,
    created_at     INTEGER NOT NULL
);
CREATE INDEX dossiers_by_issuer ON dossiers (issuer_id, id);
CREATE TABLE signers (
    id         TEXT PRIMARY KEY,
    issuer_id  TEXT NOT NULL REFERENCES issuers(id),
    kind       TEXT NOT NULL,
    identifier TEXT NOT NULL,
    email      TEXT,
    phone      TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (issuer_id, kind, identifier)
);
CREATE TABLE signature_requests (
    id            TEXT PRIMARY KEY,
    issuer_id     TEXT NOT NULL REFERENCES issuers(id),
    dossier_id    TEXT NOT NULL REFERENCES dossiers(id),
    status        TEXT NOT NULL,
    expires_at    INTEGER NOT NULL,
    reference     TEXT,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    signed_at     INTEGER,
    rejected_at   INTEGER,
    reject_reason TEXT,
    cancelled_at  INTEGER,
    expired_at    INTEGER
);
CREATE INDEX requests_by_issuer ON signature_requests (issuer_id, id);
CREATE INDEX requests_by_status ON signature_requests (issuer_id, status, id);
CREATE INDEX requests_by_dossier ON signature_requests (issuer_id, dossier_id, id);
CREATE INDEX requests_live_by_expiry ON signature_requests (expires_at)
    WHERE status IN ('DRAFT', 'READY', 'WAIT_FOR_SIGNATURE');
CREATE TABLE request_signers (
    request_id  TEXT NOT NULL REFERENCES signature_requests(id),
    position    INTEGER NOT NULL,
    signer_id   TEXT NOT NULL REFERENCES signers(id),
    sign_order  INTEGER NOT NULL,
    status      TEXT NOT NULL,
    signed_at   INTEGER,
    rejected_at INTEGER,
    PRIMARY KEY (request_id, position)
);
CREATE TABLE documents (
    id                TEXT PRIMARY KEY,
    request_id        TEXT NOT NULL REFERENCES signature_requests(id),
    position          INTEGER NOT NULL,
    metadata_json     TEXT NOT NULL,
    status            TEXT NOT NULL,
    reject_reason     TEXT NOT NULL DEFAULT '',
    violations_json   TEXT NOT NULL DEFAULT '[]',
    upload_generation INTEGER NOT NULL DEFAULT 0,
    blob_key          TEXT,
    size              INTEGER NOT NULL DEFAULT 0,
    sha256            TEXT NOT NULL DEFAULT '',
    page_count        INTEGER NOT NULL DEFAULT 0,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    uploaded_at       INTEGER
);
CREATE UNIQUE INDEX documents_by_request ON documents (request_id, position);
CREATE TABLE request_events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id  TEXT NOT NULL REFERENCES signature_requests(id),
    at          INTEGER NOT NULL,
    type        TEXT NOT NULL,
    from_status TEXT NOT NULL,
    to_status   TEXT NOT NULL,
    document_id TEXT NOT NULL,
    signer_id   TEXT NOT NULL,
    actor       TEXT NOT NULL,
    detail      TEXT NOT NULL
);
CREATE INDEX events_by_request ON request_events (request_id, seq);
CREATE TABLE jobs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT NOT NULL,
    issuer_id   TEXT NOT NULL,
    request_id  TEXT NOT NULL,
    document_id TEXT NOT NULL,
    generation  INTEGER NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    run_at      INTEGER NOT NULL,
    lease_until INTEGER NOT NULL DEFAULT 0,
    leased_by   TEXT NOT NULL DEFAULT '',
    last_error  TEXT NOT NULL DEFAULT '',
    done        INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX jobs_pending ON jobs (run_at) WHERE done = 0;
)sql";

constexpr const char* kIdempotency = R"sql(
CREATE TABLE idempotency_keys (
    issuer_id    TEXT NOT NULL REFERENCES issuers(id),
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status       INTEGER NOT NULL,
    body         TEXT NOT NULL,
    location     TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (issuer_id, key)
);
)sql";

// The signer side: ceremony columns, signed versions of documents, direct-flow exits, and the
// tables of sessions, one-time codes, capability tokens and inbox messages.
constexpr const char* kSignerSide = R"sql(
ALTER TABLE signers ADD COLUMN full_name TEXT;
ALTER TABLE signature_requests ADD COLUMN redirect_json TEXT;
ALTER TABLE signature_requests ADD COLUMN notification_id TEXT;
ALTER TABLE request_signers ADD COLUMN accepted_json TEXT NOT NULL DEFAULT '[]';
ALTER TABLE request_signers ADD COLUMN accepted_at INTEGER;
ALTER TABLE request_signers ADD COLUMN confirmed_at INTEGER;
ALTER TABLE request_signers ADD COLUMN signing_name TEXT NOT NULL DEFAULT '';
ALTER TABLE request_signers ADD COLUMN failed_code_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE request_signers ADD COLUMN reject_reason TEXT;
CREATE INDEX request_signers_by_signer ON request_signers (signer_id);
ALTER TABLE documents ADD COLUMN signed_blob_key TEXT;
ALTER TABLE documents ADD COLUMN signed_size INTEGER NOT NULL DEFAULT 0;
ALTER TABLE documents ADD COLUMN signed_sha256 TEXT NOT NULL DEFAULT '';
ALTER TABLE documents ADD COLUMN signature_count INTEGER NOT NULL DEFAULT 0;
CREATE TABLE portal_sessions (
    id_hash            TEXT PRIMARY KEY,
    csrf_token         TEXT NOT NULL,
    auth_method        TEXT NOT NULL,
    identity_kind      TEXT,
    identity           TEXT NOT NULL,
    full_name          TEXT NOT NULL,
    request_id         TEXT NOT NULL,
    signer_id          TEXT NOT NULL,
    authenticated_at   INTEGER,
    reauthenticated_at INTEGER,
    pending_json       TEXT NOT NULL,
    created_at         INTEGER NOT NULL,
    expires_at         INTEGER NOT NULL,
    ip                 TEXT NOT NULL,
    user_agent         TEXT NOT NULL
);
CREATE INDEX portal_sessions_by_expiry ON portal_sessions (expires_at);
CREATE TABLE one_time_codes (
    id         TEXT PRIMARY KEY,
    request_id TEXT NOT NULL REFERENCES signature_requests(id),
    signer_id  TEXT NOT NULL,
    kind       TEXT NOT NULL,
    code_hash  TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX one_time_codes_by_signer ON one_time_codes (request_id, signer_id, kind, id);
CREATE TABLE signer_tokens (
    token_hash TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    request_id TEXT NOT NULL REFERENCES signature_requests(id),
    signer_id  TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX signer_tokens_by_signer ON signer_tokens (request_id, signer_id, kind);
CREATE TABLE inbox_messages (
    id            TEXT PRIMARY KEY,
    identity_kind TEXT NOT NULL,
    identity      TEXT NOT NULL,
    issuer_id     TEXT NOT NULL REFERENCES issuers(id),
    request_id    TEXT NOT NULL REFERENCES signature_requests(id),
    signer_id     TEXT NOT NULL,
    kind          TEXT NOT NULL,
    title         TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    read_at       INTEGER,
    UNIQUE (request_id, signer_id, kind)
);
CREATE INDEX inbox_by_identity ON inbox_messages (identity_kind, identity, id);
)sql";

// Issue 5: the outbox (e-mail, SMS, webhooks), webhook endpoints, the polling queue.
constexpr const char* kOutbox = R"sql(
ALTER TABLE signature_requests ADD COLUMN auto_notify INTEGER NOT NULL DEFAULT 0;
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id        TEXT NOT NULL,
    issuer_id       TEXT NOT NULL,
    request_id      TEXT NOT NULL,
    channel         TEXT NOT NULL,
    destination     TEXT NOT NULL,
    template        TEXT NOT NULL,
    language        TEXT NOT NULL,
    payload_json    TEXT NOT NULL,
    endpoint_id     TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    lease_until     INTEGER NOT NULL DEFAULT 0,
    delivered_at    INTEGER,
    abandoned_at    INTEGER,
    last_error      TEXT NOT NULL DEFAULT '',
    last_response   TEXT NOT NULL DEFAULT '',
    UNIQUE (event_id, channel, destination)
);
CREATE INDEX outbox_due ON outbox (next_attempt_at)
    WHERE delivered_at IS NULL AND abandoned_at IS NULL;
CREATE INDEX outbox_by_issuer ON outbox (issuer_id, channel, id);
CREATE TABLE webhook_endpoints (
    id          TEXT PRIMARY KEY,
    issuer_id   TEXT NOT NULL REFERENCES issuers(id),
    url         TEXT NOT NULL,
    secret      TEXT NOT NULL,
    events_json TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX webhooks_by_issuer ON webhook_endpoints (issuer_id, id);
CREATE TABLE status_changes (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    issuer_id    TEXT NOT NULL,
    event_id     TEXT NOT NULL UNIQUE,
    type         TEXT NOT NULL,
    request_id   TEXT NOT NULL,
    payload_json TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    visible_at   INTEGER NOT NULL,
    confirmed_at INTEGER
);
CREATE INDEX status_changes_open ON status_changes (issuer_id, seq) WHERE confirmed_at IS NULL;
CREATE TABLE poll_state (
    issuer_id    TEXT PRIMARY KEY,
    next_poll_at INTEGER NOT NULL
);
)sql";

// Issue 6: API rate limits shared by every node. One row per bucket ("key:<api key id>",
// "ip:<address>") and window length, with the calls of its latest fixed window and of the window
// before, which is all the sliding-window estimate needs (domain/services/rate_limit_service.hpp):
// each call is one upsert of one row. The window length is part of the key so that nodes
// configured with different windows (during a rolling change) count apart instead of resetting
// each other's counts. WITHOUT ROWID keeps the row in the primary key's b-tree alone, so the
// upsert writes one b-tree, not a table and its index. The purge scans the table (one row per
// active key or failing address: small).
constexpr const char* kRateLimits = R"sql(
CREATE TABLE rate_limits (
    bucket         TEXT NOT NULL,
    window_ms      INTEGER NOT NULL,
    window_start   INTEGER NOT NULL,
    calls          INTEGER NOT NULL,
    previous_calls INTEGER NOT NULL,
    PRIMARY KEY (bucket, window_ms)
) WITHOUT ROWID;
)sql";

constexpr const char* kDirectUploads = R"sql(
ALTER TABLE jobs ADD COLUMN blob_key TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN not_after INTEGER NOT NULL DEFAULT 0;
)sql";

// The jobs_pending index of migration 1 is `WHERE done = 0`, and SQLite uses a partial index
// only for a query that repeats its WHERE: the statements say `NOT done` (PostgreSQL has no
// boolean = integer), so claims and the monitoring counts scanned the whole table. Now the
// index says what the statements say, as on PostgreSQL.
constexpr const char* kPendingJobsIndex = R"sql(
DROP INDEX jobs_pending;
CREATE INDEX jobs_pending ON jobs (run_at) WHERE NOT done;
)sql";

// Issue 11: PostgreSQL's migration 8 makes API-key changes notify the nodes' key caches; on
// SQLite the processes share a counter file instead (store/filesystem/shared_counter.hpp), so
// the step only keeps the version numbers of both backends alike.
constexpr const char* kApiKeyNotifications = "-- nothing to do on SQLite";

// Issue 12: whose turn it is in the outbox. Claims go round robin over the issuers with due
// messages (the lowest turn first; an issuer's turn moves to the back when one of its messages is
// claimed), so one issuer's backlog or unresponsive endpoint does not hold up another's messages.
// An issuer with nothing pending rests at turn 2^60, behind every active one; its next message
// brings it to the front (turn 0).
constexpr const char* kOutboxTurns = R"sql(
CREATE TABLE outbox_turns (
    issuer_id TEXT PRIMARY KEY,
    turn      INTEGER NOT NULL
);
CREATE INDEX outbox_turns_in_order ON outbox_turns (turn, issuer_id);
CREATE INDEX outbox_pending_by_issuer ON outbox (issuer_id, next_attempt_at)
    WHERE delivered_at IS NULL AND abandoned_at IS NULL;
INSERT INTO outbox_turns (issuer_id, turn)
    SELECT issuer_id, CASE WHEN count(*) FILTER (WHERE delivered_at IS NULL AND abandoned_at IS NULL) > 0
                           THEN 0 ELSE 1152921504606846976 END
    FROM outbox GROUP BY issuer_id;
)sql";

// Issue 14: the built-in CA's revocations, read by its CRL and OCSP responder (serial as
// upper-case hex; reason an RFC 5280 CRLReason code; revoked_at in Unix milliseconds).
constexpr const char* kCertificateRevocations = R"sql(
CREATE TABLE certificate_revocations (
    serial     TEXT PRIMARY KEY,
    revoked_at INTEGER NOT NULL,
    reason     INTEGER NOT NULL
);
)sql";

// Issue 14: authentication levels. What each signer must reach to confirm (existing signers keep
// the code they could always use), what the confirmation proved, the level of a session's latest
// eID authentication, and whether certificates may name the national identifier.
constexpr const char* kAuthenticationLevels = R"sql(
ALTER TABLE request_signers ADD COLUMN authentication TEXT NOT NULL DEFAULT 'code';
ALTER TABLE request_signers ADD COLUMN authenticated_with TEXT;
ALTER TABLE signature_requests ADD COLUMN identifier_in_signed_documents TEXT NOT NULL
    DEFAULT 'identifier_and_name';
ALTER TABLE portal_sessions ADD COLUMN eid_level TEXT;
)sql";

// Issue 18 (Posten signering's lifecycle): the title signers' e-mails and SMS show instead of the
// dossier's title (dossier or request), and the time a request opens for signing.
constexpr const char* kPostenLifecycle = R"sql(
ALTER TABLE dossiers ADD COLUMN non_sensitive_title TEXT;
ALTER TABLE signature_requests ADD COLUMN non_sensitive_title TEXT;
ALTER TABLE signature_requests ADD COLUMN activates_at INTEGER;
)sql";

// Issue 16: the language a signer is addressed in (it, en, nb; none: chosen from the
// identifier's country, then the browser).
constexpr const char* kSignerLanguage = R"sql(
ALTER TABLE signers ADD COLUMN language TEXT;
)sql";

// Issue 16: the institution as signers see it (its logo is a blob, issuers/<id>/logo).
constexpr const char* kIssuerIdentity = R"sql(
ALTER TABLE issuers ADD COLUMN support_url TEXT NOT NULL DEFAULT '';
ALTER TABLE issuers ADD COLUMN brand_color TEXT NOT NULL DEFAULT '';
ALTER TABLE issuers ADD COLUMN logo_type TEXT NOT NULL DEFAULT '';
ALTER TABLE issuers ADD COLUMN logo_sha256 TEXT NOT NULL DEFAULT '';
)sql";

// Issue 18 (Posten signering's lifecycle, part 2): when a final request's documents were
// deleted (DELETE .../documents or retention); named polling queues (the request's queue, each
// change's, each queue's next permitted poll: poll_state, per issuer, is left for a node of the
// previous release); whom a signer signs for.
constexpr const char* kPostenLifecycle2 = R"sql(
ALTER TABLE signature_requests ADD COLUMN documents_deleted_at INTEGER;
ALTER TABLE signature_requests ADD COLUMN polling_queue TEXT NOT NULL DEFAULT '';
ALTER TABLE status_changes ADD COLUMN polling_queue TEXT NOT NULL DEFAULT '';
DROP INDEX status_changes_open;
CREATE INDEX status_changes_open ON status_changes (issuer_id, polling_queue, seq)
    WHERE confirmed_at IS NULL;
CREATE TABLE poll_queues (
    issuer_id     TEXT NOT NULL,
    polling_queue TEXT NOT NULL,
    next_poll_at  INTEGER NOT NULL,
    PRIMARY KEY (issuer_id, polling_queue)
);
INSERT INTO poll_queues (issuer_id, polling_queue, next_poll_at)
    SELECT issuer_id, '', next_poll_at FROM poll_state;
ALTER TABLE request_signers ADD COLUMN on_behalf_of TEXT NOT NULL DEFAULT 'self';
)sql";

// Issue 15: pending credential authorizations at a QTSP (CSC API v2): the hash of the
// `state` sent to the provider, the hashes the signer authorizes (base64url, comma-separated),
// the sealed PKCE verifier; finished once (the callback), expired rows swept.
constexpr const char* kQtspAuthorizations = R"sql(
CREATE TABLE qtsp_authorizations (
    state_hash      TEXT PRIMARY KEY,
    request_id      TEXT NOT NULL,
    signer_id       TEXT NOT NULL,
    credential_id   TEXT NOT NULL,
    hashes          TEXT NOT NULL,
    sealed_verifier TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    finished_at     INTEGER,
    outcome         TEXT NOT NULL DEFAULT ''
);
CREATE INDEX qtsp_authorizations_expires ON qtsp_authorizations (expires_at);
)sql";

// Issue 17: the sender portal's staff. Accounts per issuer with a role (the e-mail address is
// the login name, unique across the installation), an Argon2id password set through a one-time
// setup token (SHA-256, 24 h), browser sessions (token SHA-256), and the staff audit log.
constexpr const char* kStaffAccounts = R"sql(
CREATE TABLE staff_users (
    id               TEXT PRIMARY KEY,
    issuer_id        TEXT NOT NULL REFERENCES issuers(id),
    email            TEXT NOT NULL UNIQUE,
    role             TEXT NOT NULL,
    password_hash    TEXT NOT NULL DEFAULT '',
    setup_token_hash TEXT,
    setup_expires_at INTEGER,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    disabled_at      INTEGER
);
CREATE INDEX staff_users_by_issuer ON staff_users (issuer_id, email);
CREATE UNIQUE INDEX staff_users_by_setup_token ON staff_users (setup_token_hash);
CREATE TABLE staff_sessions (
    id_hash    TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES staff_users(id),
    issuer_id  TEXT NOT NULL,
    csrf_token TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    ip         TEXT NOT NULL,
    user_agent TEXT NOT NULL
);
CREATE INDEX staff_sessions_by_user ON staff_sessions (user_id);
CREATE INDEX staff_sessions_by_expiry ON staff_sessions (expires_at);
CREATE TABLE staff_audit (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    issuer_id TEXT NOT NULL,
    at        INTEGER NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    subject   TEXT NOT NULL,
    detail    TEXT NOT NULL
);
CREATE INDEX staff_audit_by_issuer ON staff_audit (issuer_id, seq);
)sql";

// Issue 17: API keys get a label and an expiry (the sender portal's admin pages).
constexpr const char* kApiKeyLabels = R"sql(
ALTER TABLE api_keys ADD COLUMN label TEXT NOT NULL DEFAULT '';
ALTER TABLE api_keys ADD COLUMN expires_at INTEGER;
CREATE INDEX api_keys_by_issuer ON api_keys (issuer_id, created_at);
)sql";

// Issue 15: what the QTSP signing job needs, on the authorization's row where every node sees
// it: the callback's code (sealed), and the token it was exchanged for (sealed) with its expiry,
// so that a retried signHash on any node, or after a restart, does not spend the code twice.
constexpr const char* kQtspSecrets = R"sql(
ALTER TABLE qtsp_authorizations ADD COLUMN sealed_code TEXT NOT NULL DEFAULT '';
ALTER TABLE qtsp_authorizations ADD COLUMN sealed_token TEXT NOT NULL DEFAULT '';
ALTER TABLE qtsp_authorizations ADD COLUMN token_expires_at INTEGER;
)sql";

// Issue 17: an API key's allowed client addresses, and its last use (written at most once a
// minute per key).
constexpr const char* kApiKeyUse = R"sql(
ALTER TABLE api_keys ADD COLUMN allowed_ips TEXT NOT NULL DEFAULT '';
ALTER TABLE api_keys ADD COLUMN last_used_at INTEGER;
ALTER TABLE api_keys ADD COLUMN last_used_ip TEXT NOT NULL DEFAULT '';
)sql";

// Issue 17: the sender portal's optional TOTP second factor (the secret sealed, the time it was
// confirmed, the last accepted time step so that a code is good once).
constexpr const char* kStaffTotp = R"sql(
ALTER TABLE staff_users ADD COLUMN totp_secret TEXT NOT NULL DEFAULT '';
ALTER TABLE staff_users ADD COLUMN totp_enabled_at INTEGER;
ALTER TABLE staff_users ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;
)sql";

// Issue 11: a request counts its updates, so that a node can keep a read copy of the aggregate
// and check it with one narrow read (store/sql/request_cache.hpp).
constexpr const char* kRequestVersions = R"sql(
ALTER TABLE signature_requests ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
)sql";

// Issue 17: test and live API keys. A test key's requests are test requests; keys and requests
// made before are live.
constexpr const char* kTestMode = R"sql(
ALTER TABLE api_keys ADD COLUMN test INTEGER NOT NULL DEFAULT 0;
ALTER TABLE signature_requests ADD COLUMN test INTEGER NOT NULL DEFAULT 0;
)sql";

// One migration a line, so that each new one is a one-line change (clang-format would pack them).
// clang-format off
constexpr sql::Migration kMigrations[] = {
    {1, "initial schema", kInitial},
    {2, "idempotency keys", kIdempotency},
    {3, "signer side", kSignerSide},
    {4, "outbox, webhooks, polling queue", kOutbox},
    {5, "rate limits", kRateLimits},
    {6, "direct uploads", kDirectUploads},
    {7, "pending jobs index", kPendingJobsIndex},
    {8, "api key notifications", kApiKeyNotifications},
    {9, "outbox turns", kOutboxTurns},
    {10, "certificate revocations", kCertificateRevocations},
    {11, "authentication levels", kAuthenticationLevels},
    {12, "posten lifecycle", kPostenLifecycle},
    {13, "signer language", kSignerLanguage},
    {15, "issuer identity", kIssuerIdentity},
    {16, "posten lifecycle 2", kPostenLifecycle2},
    {17, "staff accounts", kStaffAccounts},
    {18, "qtsp authorizations", kQtspAuthorizations},
    {21, "api key labels", kApiKeyLabels},
    {20, "qtsp secrets", kQtspSecrets},
    {19, "api key use", kApiKeyUse},
    {22, "staff totp", kStaffTotp},
    {23, "request versions", kRequestVersions},
    {24, "test mode", kTestMode},
};
// clang-format on

}  // namespace

std::span<const sql::Migration> Migrations() { return kMigrations; }

}  // namespace firmo::store::sqlite
