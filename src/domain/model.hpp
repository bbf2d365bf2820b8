#pragma once
// Firmo's entities as plain values. They carry no behaviour beyond invariants the services
// keep; persistence adapters map them to rows, the API maps them to JSON.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "domain/identifiers.hpp"
#include "domain/signature_field.hpp"
#include "domain/states.hpp"

namespace firmo::domain {

struct Issuer {
    std::string id;
    std::string name;
    std::string email;  // default support e-mail of its dossiers
    Timestamp created_at;
};

struct ApiKey {
    std::string id;
    std::string issuer_id;
    std::string key_hash;  // SHA-256 of the whole key, hex; the key itself is never stored
    std::string prefix;    // first characters, to recognise a key in listings and logs
    Timestamp created_at;
    std::optional<Timestamp> revoked_at;
};

struct Dossier {
    std::string id;
    std::string issuer_id;
    std::string title;
    std::string support_email;
    std::vector<DocumentMetadata> documents;
    Timestamp created_at;
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
};

struct RequestSigner {
    std::string signer_id;
    int order = 0;  // 0-9: lower signs first, equal orders sign in parallel
    SignerStatus status = SignerStatus::kWaiting;
    std::optional<Timestamp> signed_at;
    std::optional<Timestamp> rejected_at;
};

struct Document {
    std::string id;
    int index = 0;  // position in the request's documents_metadata
    DocumentMetadata metadata;
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

enum class JobKind { kValidateDocument };
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
};

}  // namespace firmo::domain
