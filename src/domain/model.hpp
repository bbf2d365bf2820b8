#pragma once
// Firmo's entities as plain values. They carry no behaviour beyond invariants the services
// keep; persistence adapters map them to rows, the API maps them to JSON.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/clock.hpp"
#include "domain/authentication.hpp"
#include "domain/identifiers.hpp"
#include "domain/signature_field.hpp"
#include "domain/states.hpp"

namespace firmo::domain {

struct Issuer {
    std::string id;
    std::string name;
    std::string email;  // default support e-mail of its dossiers
    Timestamp created_at;
    // Issue 16: how signers recognise the institution (`name` is its display name, `email` its
    // support address). Empty: none.
    std::string support_url;
    std::string brand_color;  // "#rrggbb"
    std::string logo_type;    // "image/png" or "image/svg+xml"
    std::string logo_sha256;  // of the logo's bytes: the version in its public URL
};

struct ApiKey {
    std::string id;
    std::string issuer_id;
    std::string key_hash;  // SHA-256 of the whole key, hex; the key itself is never stored
    std::string prefix;    // first characters, to recognise a key in listings and logs
    Timestamp created_at;
    std::optional<Timestamp> revoked_at;
    std::string label;                    // what it is for, given by who created it
    std::optional<Timestamp> expires_at;  // refused from then on; none: never expires
    // Where calls may come from: addresses or CIDR networks, IPv4 or IPv6, ", "-separated (as
    // http::AddressList::Parse reads them); empty: anywhere.
    std::string allowed_ips;
    // The last call and its client address, written at most once a minute per key
    // (IssuerService::FlushKeyUses): approximate to a minute.
    std::optional<Timestamp> last_used_at;
    std::string last_used_ip;
    // A test key (issue 17): its requests are test requests (SignatureRequest::test), and it
    // reaches no other. Keys made before modes existed are live keys.
    bool test = false;
};

struct Dossier {
    std::string id;
    std::string issuer_id;
    std::string title;
    std::string support_email;
    std::vector<DocumentMetadata> documents;
    Timestamp created_at;
    // Shown to signers in e-mails, SMS and the inbox instead of `title` (as Posten signering's
    // nonsensitive-title): those channels are not private enough for every title.
    std::optional<std::string> non_sensitive_title;
};

struct Signer {
    std::string id;
    std::string issuer_id;
    IdentifierKind kind = IdentifierKind::kItFiscalCode;
    std::string identifier;  // normalised
    std::optional<std::string> email;
    std::optional<std::string> phone;
    Timestamp created_at;
    Timestamp updated_at;
    std::optional<std::string> full_name;  // given by the issuer; the eID login's name wins
    std::optional<std::string> language;   // "it" | "en" | "nb", given by the issuer
};

// Whom a signer signs for: themselves, or another party (an organisation they represent).
enum class OnBehalfOf { kSelf, kOther };
std::string_view ToString(OnBehalfOf value);  // "self" | "other"
std::optional<OnBehalfOf> ParseOnBehalfOf(std::string_view text);

// A signature field of a request, named by document and position in its signature_fields.
struct FieldRef {
    int document = 0;
    int field = 0;
    friend bool operator==(const FieldRef&, const FieldRef&) = default;
    friend auto operator<=>(const FieldRef&, const FieldRef&) = default;
};

struct RequestSigner {
    std::string signer_id;
    int order = 0;  // 0-9: lower signs first, equal orders sign in parallel
    SignerStatus status = SignerStatus::kWaiting;
    std::optional<Timestamp> signed_at;
    std::optional<Timestamp> rejected_at;
    // The ceremony: which clauses were accepted, when the second factor confirmed it (the
    // trust service signs from then on), how many wrong codes were entered.
    std::vector<FieldRef> accepted_fields;
    std::optional<Timestamp> accepted_at;
    std::optional<Timestamp> confirmed_at;
    std::string signing_name;  // the name the certificate will carry
    int failed_code_attempts = 0;
    std::optional<std::string> reject_reason;
    // The level this signer must reach to confirm, and the level the confirmation proved (an
    // eID level only when the eID named this signer's identifier); the certificate names the
    // national identifier only after an eID confirmation.
    AuthLevel authentication = AuthLevel::kCode;
    std::optional<AuthLevel> authenticated_with;
    // Signing for an organisation (as Posten signering's on-behalf-of OTHER): the signed
    // documents are the organisation's, so the signer gets no personal copy of them.
    OnBehalfOf on_behalf_of = OnBehalfOf::kSelf;
};

// Direct flow (as Posten signering): where the signer's browser goes after the ceremony.
struct RedirectUrls {
    std::string completion_url;
    std::string rejection_url;
    std::string error_url;
    friend bool operator==(const RedirectUrls&, const RedirectUrls&) = default;
};

struct Document {
    std::string id;
    int index = 0;  // position in the request's documents_metadata
    DocumentMetadata metadata;
    // `metadata` as the store keeps it (JSON text), when read from a store: answers and writes
    // use it as is instead of serialising again. Metadata never changes after creation.
    std::string metadata_json;
    DocumentStatus status = DocumentStatus::kWaitForUpload;
    std::string reject_reason;           // set when REJECTED
    std::vector<Violation> violations;   // set when REJECTED by validation
    std::int64_t upload_generation = 0;  // bumped by every upload; stale validations are ignored
    std::optional<std::string> blob_key;
    std::int64_t size = 0;
    std::string sha256_hex;
    int page_count = 0;
    Timestamp created_at;
    Timestamp updated_at;
    std::optional<Timestamp> uploaded_at;
    // The latest signed version: every signer adds an incremental update to the previous one.
    std::optional<std::string> signed_blob_key;
    std::int64_t signed_size = 0;
    std::string signed_sha256_hex;
    int signature_count = 0;  // also the version checked when a signed version is stored

    // The bytes a reader or the next signer gets: the latest signed version, else the upload.
    const std::optional<std::string>& CurrentBlobKey() const {
        return signed_blob_key ? signed_blob_key : blob_key;
    }
};

struct SignatureRequest {
    std::string id;
    std::string issuer_id;
    std::string dossier_id;
    RequestStatus status = RequestStatus::kDraft;
    std::vector<RequestSigner> signers;
    std::vector<Document> documents;
    Timestamp expires_at;
    std::optional<std::string> reference;
    Timestamp created_at;
    Timestamp updated_at;
    std::optional<Timestamp> signed_at;
    std::optional<Timestamp> rejected_at;
    std::optional<std::string> reject_reason;
    std::optional<Timestamp> cancelled_at;
    std::optional<Timestamp> expired_at;
    std::optional<RedirectUrls> redirect;        // direct flow
    std::optional<std::string> notification_id;  // PUT .../notification, once
    bool auto_notify = false;  // notify the signers by itself when the request becomes READY
    IdentifierInSignedDocuments identifier_in_signed_documents =
        IdentifierInSignedDocuments::kIdentifierAndName;
    std::optional<std::string> non_sensitive_title;  // overrides the dossier's (see Dossier)
    // Opens for signing only from then (as Posten signering's activation-time): notifying
    // before it is scheduled, not refused, and the signer's link says when it opens.
    std::optional<Timestamp> activates_at;
    // When the documents' bytes were deleted (DELETE .../documents or the retention sweep, as
    // Posten signering): metadata and the audit log remain, downloads answer 410.
    std::optional<Timestamp> documents_deleted_at;
    // The polling queue its status changes go to (as Posten signering's polling-queue); empty:
    // the default queue.
    std::string polling_queue;
    // Created with a test key: only test keys reach it, its e-mails and SMS are recorded and
    // not sent, and its signatures' certificates say TEST (docs/API.md "Test keys"). Never
    // changes.
    bool test = false;

    const Document* FindDocument(std::string_view document_id) const;
    Document* FindDocument(std::string_view document_id);
};

// One line of a request's audit log.
struct AuditEvent {
    std::int64_t seq = 0;  // assigned by the store, increasing
    std::string request_id;
    Timestamp at;
    std::string type;  // "signature_request.ready", "document.uploaded", ...
    std::string from_status;
    std::string to_status;
    std::string document_id;  // empty when the event is not about one document
    std::string signer_id;    // empty when the event is not about one signer
    std::string actor;        // "issuer:<key prefix>", "worker", "system", "signer:<id>"
    std::string detail;
};

// kAwaitUpload watches the object store for a document the issuer PUTs through a pre-signed
// URL (direct uploads), then hands it to validation.
// kArchiveTimestamp: one open job per signed document, rescheduled for the next renewal of its
// document time-stamp (domain/services/archive_service.hpp). kActivateRequest sends the
// notification of a request notified before its activates_at, at that time.
enum class JobKind {
    kValidateDocument,
    kSignDocuments,
    kAwaitUpload,
    kArchiveTimestamp,
    kActivateRequest
};
std::string_view ToString(JobKind kind);
std::optional<JobKind> ParseJobKind(std::string_view text);

// Background work, claimed with a lease so any node may run it and a dead node's work is
// picked up again when its lease runs out.
struct Job {
    std::int64_t id = 0;
    JobKind kind = JobKind::kValidateDocument;
    std::string issuer_id;
    std::string request_id;
    std::string document_id;
    std::int64_t generation = 0;
    int attempts = 0;
    Timestamp run_at;
    std::string last_error;
    std::string leased_by;  // the worker holding the lease (set by ClaimJob)
    // kAwaitUpload: where the upload lands, when the job began and when it gives up.
    std::string blob_key;
    Timestamp created_at;
    Timestamp not_after;
};

// A POST remembered under the client's Idempotency-Key, so that a retry gets the first answer
// instead of creating a second object.
struct IdempotencyRecord {
    std::string issuer_id;
    std::string key;
    std::string request_hash;  // of method, path and body: a key reused for another call is refused
    int status = 0;            // 0 while the first call is still running
    std::string body;
    std::string location;
    Timestamp created_at;
};

// What one rate-limit bucket has counted (see RateLimitService): the calls in the fixed window
// that holds its latest call, and in the window just before that one.
struct RateLimitCount {
    Timestamp window_start;
    std::int64_t calls = 0;           // in the window starting at window_start
    std::int64_t previous_calls = 0;  // in the window before it
};

// What waits in a queue (jobs, the outbox), for monitoring: the unfinished items of one kind
// (a job kind or a channel, as stored) and the earliest time one of them is due (run_at,
// next_attempt_at; in the future when none is due yet).
struct PendingCount {
    std::string kind;
    std::int64_t count = 0;
    Timestamp oldest_due;
};

// A browser or app session of the signer side. Anonymous until a login (eID, link + code,
// direct-flow redirect) authenticates it; then it names a person (eID) or one signer of one
// request (link, redirect). Kept in the database so that any node serves it.
struct PortalSession {
    std::string id_hash;  // SHA-256 (hex) of the session token; the token is never stored
    std::string csrf_token;
    std::string auth_method;                      // "" anonymous | "oidc" | "code" | "redirect"
    std::optional<IdentifierKind> identity_kind;  // eID login
    std::string identity;
    std::string full_name;
    std::string request_id;  // link / redirect sessions: the one request and signer
    std::string signer_id;
    std::optional<Timestamp> authenticated_at;
    std::optional<Timestamp> reauthenticated_at;  // the latest eID re-authentication
    // The level of the latest eID authentication (login or re-authentication), from its acr.
    std::optional<AuthLevel> eid_level;
    std::string pending_json;  // an OIDC login in progress (state, nonce, verifier, return path)
    Timestamp created_at;
    Timestamp expires_at;
    std::string ip;
    std::string user_agent;

    bool authenticated() const { return !auth_method.empty(); }
};

enum class CodeKind { kLogin, kConfirm };
std::string_view ToString(CodeKind kind);  // "login" | "confirm"
std::optional<CodeKind> ParseCodeKind(std::string_view text);

// A one-time code, stored hashed; valid until expires_at, once.
struct OneTimeCode {
    std::string id;
    std::string request_id;
    std::string signer_id;
    CodeKind kind = CodeKind::kLogin;
    std::string code_hash;
    Timestamp created_at;
    Timestamp expires_at;
    std::optional<Timestamp> used_at;
};

// One-time capability tokens of a signer (stored hashed): the direct flow's redirect URL and the
// status_query_token handed back to the issuer through the signer's browser.
enum class SignerTokenKind { kRedirect, kStatusQuery };
std::string_view ToString(SignerTokenKind kind);  // "redirect" | "status_query"
std::optional<SignerTokenKind> ParseSignerTokenKind(std::string_view text);

struct SignerToken {
    std::string token_hash;
    SignerTokenKind kind = SignerTokenKind::kRedirect;
    std::string request_id;
    std::string signer_id;
    Timestamp created_at;
    Timestamp expires_at;
    std::optional<Timestamp> used_at;
};

// The signer's inbox: "a document to sign", then "your signed documents".
enum class MessageKind { kSignRequest, kSignedDocuments };
std::string_view ToString(MessageKind kind);  // "sign_request" | "signed_documents"
std::optional<MessageKind> ParseMessageKind(std::string_view text);

struct InboxMessage {
    std::string id;
    IdentifierKind identity_kind = IdentifierKind::kItFiscalCode;
    std::string identity;
    std::string issuer_id;
    std::string request_id;
    std::string signer_id;
    MessageKind kind = MessageKind::kSignRequest;
    std::string title;  // the issuer's non-sensitive title of the request
    Timestamp created_at;
    std::optional<Timestamp> read_at;
};

// An issuer's webhook endpoint: events are POSTed there, signed with its secret.
struct WebhookEndpoint {
    std::string id;
    std::string issuer_id;
    std::string url;
    std::string secret;               // shown once at creation
    std::vector<std::string> events;  // empty: every event
    Timestamp created_at;
};

// One entry of an issuer's polling queue (as Posten signering): served until confirmed; a
// served entry becomes visible again after a timeout.
struct StatusChange {
    std::int64_t seq = 0;
    std::string issuer_id;
    std::string event_id;
    std::string type;  // "signature_request.signed", ...
    std::string request_id;
    std::string payload_json;  // the same body a webhook gets
    Timestamp created_at;
    Timestamp visible_at;
    std::string polling_queue;  // the request's; empty: the default queue
};

struct PageQuery {
    int limit = 25;
    std::optional<std::string> after_id;  // exclusive: return items older than this id
};

template <typename T>
struct Page {
    std::vector<T> items;
    std::optional<std::string> next_after_id;  // present when more items may follow
};

struct RequestFilter {
    std::optional<std::string> dossier_id;
    std::optional<RequestStatus> status;
    std::optional<bool> test;  // only test (true) or live (false) requests; none: both
};

// Which of an issuer's requests a caller reaches: an API key only those of its mode (a test key
// test requests, a live key live ones), the sender portal's staff and the worker all. Every
// issuer-scoped read of a request checks it (RequestService::Load and List): a request outside
// the scope is not found, as another issuer's is. From an issuer id alone: both modes.
struct RequestScope {
    RequestScope(std::string issuer) : issuer_id(std::move(issuer)) {}  // NOLINT: implicit
    RequestScope(const char* issuer) : issuer_id(issuer) {}             // NOLINT: implicit
    RequestScope(std::string issuer, bool test_mode)
        : issuer_id(std::move(issuer)), test(test_mode) {}

    std::string issuer_id;
    std::optional<bool> test;  // none: both modes

    bool Covers(const SignatureRequest& request) const {
        return request.issuer_id == issuer_id && (!test || *test == request.test);
    }
};

// The polling queue a request's status changes are stored in: a test request's in queues of
// their own ("test:" + name; CheckPollingQueue allows no ':' in a name), so a test key polls
// only test requests' changes and a live key only live ones.
inline std::string StoredPollingQueue(const std::string& queue, bool test) {
    return test ? "test:" + queue : queue;
}

}  // namespace firmo::domain
