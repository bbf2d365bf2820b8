#pragma once
// Signature requests: creation from a dossier, reading (with expiry applied on read), listing,
// uploads, document validation results, READY / CANCELLED, expiry, and the audit log. Every
// status change goes through the pure transitions of domain/states.hpp and is logged in the
// same transaction.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/immutable_cache.hpp"
#include "domain/exit_url.hpp"
#include "domain/services/context.hpp"

namespace firmo::domain {

struct NewRequestSigner {
    std::string signer_id;
    int order = 0;
    std::optional<AuthLevel> authentication;  // DefaultAuthentication when absent
    OnBehalfOf on_behalf_of = OnBehalfOf::kSelf;
};

struct NewSignatureRequest {
    std::string dossier_id;
    std::vector<NewRequestSigner> signers;
    std::optional<Timestamp> expires_at;
    std::optional<std::string> reference;
    std::optional<std::vector<DocumentMetadata>> documents;  // overrides the dossier's
    std::optional<RedirectUrls> redirect;                    // direct flow
    bool auto_notify = false;  // notify the signers by itself when READY
    // io-sign compatibility (/api/v1/sign): any future expires_at, without limits.max_expiry.
    bool uncapped_expiry = false;
    IdentifierInSignedDocuments identifier_in_signed_documents =
        IdentifierInSignedDocuments::kIdentifierAndName;
    std::optional<std::string> non_sensitive_title;  // overrides the dossier's
    // Opens for signing only then: in the future and before expires_at.
    std::optional<Timestamp> activates_at;
    // Where its status changes go (CheckPollingQueue); none: the default queue.
    std::optional<std::string> polling_queue;
};

inline constexpr int kMaxSignerOrder = 9;
inline constexpr std::size_t kReferenceMax = 100;
inline constexpr std::size_t kRedirectUrlMax = kExitUrlMax;

// kReadyForSignature is io-sign's READY (/api/v1/sign): READY, then at once WAIT_FOR_SIGNATURE
// without a notification, because io-sign's clients wait for WAIT_FOR_SIGNATURE before they
// notify or hand out the QR code. Firmo's own READY waits for a notification or a signer.
enum class RequestedStatus { kReady, kCancelled, kReadyForSignature };

struct Upload {
    std::string_view bytes;
    std::string actor;
};

struct RequestOptions {
    bool eid_login = false;  // this server offers eID login (an IdentityProvider is configured)
};

// The fields of `metadata` whose signer_index names no signer of a request with
// `signer_count` signers; `path` names the list ("documents_metadata").
std::vector<Violation> CheckFieldSigners(const std::vector<DocumentMetadata>& metadata,
                                         std::size_t signer_count, const std::string& path);

class RequestService {
  public:
    explicit RequestService(ServiceContext& ctx, RequestOptions options = {})
        : ctx_(ctx), options_(options) {}

    [[nodiscard]] Result<SignatureRequest> Create(const RequestScope& scope,
                                                  const NewSignatureRequest& input,
                                                  const std::string& actor);
    // Every check Create makes before it reads the store (signers' orders and levels, expiry,
    // reference, documents...): the sender portal's "validate" shows them, creating nothing.
    [[nodiscard]] std::vector<Violation> Check(const NewSignatureRequest& input) const;
    // The size rules of an upload (at most limits.max_document_bytes, not empty).
    [[nodiscard]] Result<void> CheckUploadSize(std::string_view bytes) const;
    // Applies expiry first when expires_at has passed.
    [[nodiscard]] Result<SignatureRequest> Get(const RequestScope& scope, const std::string& id);
    [[nodiscard]] Result<Page<SignatureRequest>> List(const RequestScope& scope,
                                                      const RequestFilter& filter, PageQuery page);
    [[nodiscard]] Result<std::vector<AuditEvent>> Events(const RequestScope& scope,
                                                         const std::string& id);

    // Checks that the document may receive an upload now (request DRAFT, document exists).
    [[nodiscard]] Result<void> CheckUploadable(const RequestScope& scope,
                                               const std::string& request_id,
                                               const std::string& document_id);
    // Stores the bytes, moves the document to WAIT_FOR_VALIDATION and enqueues validation.
    [[nodiscard]] Result<Document> UploadDocument(const RequestScope& scope,
                                                  const std::string& request_id,
                                                  const std::string& document_id,
                                                  const Upload& upload);

    // Direct uploads, when the blob store hands out pre-signed URLs: the issuer PUTs the PDF
    // to the object store, and an await_upload job (one per document, extended by each new
    // URL) looks for it until the last URL has expired, then treats it as an upload. Each
    // URL of a document points at the same staging key.
    bool DirectUploads() const { return ctx_.blobs.SupportsDirectUrls(); }
    [[nodiscard]] Result<std::string> BeginDirectUpload(const RequestScope& scope,
                                                        const std::string& request_id,
                                                        const std::string& document_id,
                                                        std::chrono::seconds ttl);
    // The signed document's direct download URL (nothing when the store has none).
    [[nodiscard]] std::optional<std::string> SignedDocumentDirectUrl(const Document& doc,
                                                                     std::chrono::seconds ttl);
    [[nodiscard]] Result<SignatureRequest> ChangeStatus(const RequestScope& scope,
                                                        const std::string& id,
                                                        RequestedStatus status,
                                                        const std::string& actor);

    // Moves the deadline of a request that is not final (as Posten signering's deadline
    // change): later or earlier, but in the future and at most limits.max_expiry ahead;
    // kConflict when the request is final, expired or being signed by the trust service.
    // Recorded in the audit log and as the issuer event signature_request.updated.
    [[nodiscard]] Result<SignatureRequest> ChangeDeadline(const RequestScope& scope,
                                                          const std::string& id,
                                                          Timestamp expires_at,
                                                          const std::string& actor);

    // Puts "a document to sign" in the inbox of the signers whose turn it is (national
    // identifiers) and returns the notification id; a second call returns the same id.
    [[nodiscard]] Result<std::string> Notify(const RequestScope& scope, const std::string& id,
                                             const std::string& actor);
    // Direct flow: a fresh one-time redirect token per signer (all signers, or one), replacing
    // any earlier one. Only for requests created with `redirect`.
    [[nodiscard]] Result<std::vector<std::pair<std::string, std::string>>> IssueRedirectTokens(
        const RequestScope& scope, const std::string& id,
        const std::optional<std::string>& signer_id, std::chrono::minutes ttl);
    // The request, when `token` is a status_query_token handed out for it; else kForbidden.
    [[nodiscard]] Result<SignatureRequest> GetWithStatusQueryToken(const RequestScope& scope,
                                                                   const std::string& id,
                                                                   const std::string& token);
    // The signed PDF of a SIGNED request's document.
    [[nodiscard]] Result<std::string> SignedDocument(const RequestScope& scope,
                                                     const std::string& id,
                                                     const std::string& document_id);

    // The bytes of a READY document as they are now: the latest signed version, else the
    // validated upload (io-sign's document `url`).
    [[nodiscard]] Result<std::string> DocumentContent(const RequestScope& scope,
                                                      const std::string& id,
                                                      const std::string& document_id);

    // Deletes the documents' bytes of a final request (every upload and signed version) from
    // the blob store; metadata and audit log stay, downloads answer kDocumentsDeleted.
    // kNotFinal when the request is not final; a second call changes nothing. Recorded in the
    // audit log and as the issuer event signature_request.documents_deleted.
    [[nodiscard]] Result<SignatureRequest> DeleteDocuments(const RequestScope& scope,
                                                           const std::string& id,
                                                           const std::string& actor);
    // Worker sweep: DeleteDocuments for the final requests that have kept their documents
    // for limits.documents_retention (actor "retention"). Safe when nodes sweep at once.
    [[nodiscard]] Result<int> DeleteRetainedDocuments(int limit);

    // Worker sweep: queues the reminders due by the schedule (once per entry and signer).
    [[nodiscard]] Result<int> SendReminders(int limit);

    // Worker steps. Both are idempotent: re-running them after a crash changes nothing twice.
    [[nodiscard]] Result<void> RunValidation(const Job& job);
    // One look for a direct upload: when to look again, or nothing when the job is over.
    [[nodiscard]] Result<std::optional<Timestamp>> RunAwaitUpload(const Job& job);
    [[nodiscard]] Result<int> ExpireDue(int limit);
    // A request notified before its activates_at: its signers' messages go out now.
    [[nodiscard]] Result<void> RunActivation(const Job& job);
    // After the last failed attempt: the document becomes REJECTED instead of waiting forever.
    [[nodiscard]] Result<void> AbandonValidation(const Job& job, const std::string& error);

    // How long after a URL's expiry an upload started just before it may still land.
    static constexpr std::chrono::minutes kDirectUploadGrace{15};

  private:
    [[nodiscard]] Result<Document> AcceptUpload(const std::string& issuer_id,
                                                const std::string& request_id,
                                                const std::string& document_id,
                                                const std::string& blob_key, const BlobInfo& info,
                                                const std::string& actor);
    [[nodiscard]] Result<void> RejectDirectUpload(const Job& job, const std::string& reason);
    [[nodiscard]] Result<SignatureRequest> Load(Transaction& tx, const RequestScope& scope,
                                                const std::string& id);
    // Applies an event to the request (and cascades to its waiting signers), logging both.
    [[nodiscard]] Result<void> Apply(Transaction& tx, SignatureRequest& request, RequestEvent event,
                                     const std::string& actor, const std::string& detail);
    [[nodiscard]] Result<void> ApplyToDocument(Transaction& tx, SignatureRequest& request,
                                               Document& document, DocumentEvent event,
                                               const std::string& actor, const std::string& detail);
    [[nodiscard]] Result<bool> ExpireIfDue(Transaction& tx, SignatureRequest& request);
    [[nodiscard]] Result<void> NotifyIn(Transaction& tx, SignatureRequest& request,
                                        const std::string& actor);
    bool IsExpiryDue(const SignatureRequest& request) const;

    // Dossiers and signers' identifier kinds never change once created and are never deleted:
    // a create reads them from the database once per process (on PostgreSQL a round trip
    // each). Keyed by issuer and id.
    [[nodiscard]] Result<std::shared_ptr<const Dossier>> FindDossier(Transaction& tx,
                                                                     const std::string& issuer_id,
                                                                     const std::string& id);
    [[nodiscard]] Result<std::optional<IdentifierKind>> FindSignerKind(Transaction& tx,
                                                                       const std::string& issuer_id,
                                                                       const std::string& id);

    ServiceContext& ctx_;
    RequestOptions options_;
    ImmutableCache<std::shared_ptr<const Dossier>> dossiers_{1024};
    ImmutableCache<IdentifierKind> signer_kinds_{16384};
};

}  // namespace firmo::domain
