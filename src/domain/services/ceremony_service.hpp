#pragma once
// The signing ceremony, the signer's side of a request: open it (only when it is this signer's
// turn, by the signing order), read the documents, accept the clauses (REQUIRED and each
// UNFAIR one must be accepted, OPTIONAL ones freely), confirm with a second factor, and have
// the trust service sign every document at this signer's fields (a background job, so a crash
// loses nothing); or reject with a reason. Also the inbox and the direct flow's exits. Every
// step is in the request's audit log with time, IP and user agent.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "domain/ports/document_signer.hpp"
#include "domain/ports/qtsp.hpp"
#include "domain/ports/staged_signer.hpp"
#include "domain/ports/trust_service.hpp"
#include "domain/services/qtsp_service.hpp"
#include "domain/services/request_steps.hpp"
#include "domain/services/signer_session_service.hpp"

namespace firmo::domain {

inline constexpr std::size_t kRejectReasonMax = 500;  // characters of a signer's reason
inline constexpr std::chrono::minutes kExitTokenReuse{10};

// One signature field as a signer sees it.
struct CeremonyField {
    FieldRef ref;
    const SignatureField* field = nullptr;  // into the request's documents
    bool mine = false;                      // this signer signs it
    bool accepted = false;                  // accepted in this ceremony already
};

struct CeremonyDocument {
    const Document* document = nullptr;
    std::vector<CeremonyField> fields;
};

enum class SecondFactor { kCode, kReauthentication };

// A document as the signer downloads it.
struct DocumentContent {
    std::string bytes;
    std::string title;  // the document's title, for the file name
};

// What the signer sees of a request. Move-only: `documents` points into `access.request`.
struct CeremonyView {
    CeremonyView() = default;
    CeremonyView(CeremonyView&&) = default;
    CeremonyView& operator=(CeremonyView&&) = default;
    CeremonyView(const CeremonyView&) = delete;
    CeremonyView& operator=(const CeremonyView&) = delete;

    SignerAccess access;
    std::string issuer_name;
    Issuer issuer;          // as signers see it (issue 16): name, contact, logo
    std::string title;      // the dossier's title
    bool my_turn = false;   // every earlier signer (lower order) has signed
    bool can_sign = false;  // my turn, request open, this signer still WAITING, not confirmed
    std::vector<CeremonyDocument> documents;  // pointers into access.request
    SecondFactor second_factor = SecondFactor::kCode;
    // The signer must log in with eID (at request_signer().authentication) before confirming:
    // this session has not proved that level.
    bool eid_required = false;
};

struct AcceptOutcome {
    SecondFactor second_factor = SecondFactor::kCode;
    std::optional<CodeSent> code;  // when a confirmation code was sent
};

// signing.provider = "csc" (docs/QTSP.md): the signature values come from a QTSP. All null
// (the default): the built-in trust service signs.
struct QtspSigning {
    QtspService* service = nullptr;
    QtspGateway* gateway = nullptr;
    const StagedDocumentSigner* staged = nullptr;
    bool user_id_from_email = false;  // csc.user_id_from: the e-mail, not the identifier
};

struct ConfirmOutcome {
    // With a QTSP: where the signer's browser goes to authorize the signatures.
    std::optional<std::string> qtsp_authorization_url;
};

class CeremonyService final : public QtspContinuation {
  public:
    CeremonyService(ServiceContext& ctx, SignerSessionService& sessions, TrustService& trust,
                    const DocumentSigner& signer)
        : ctx_(ctx), sessions_(sessions), trust_(trust), signer_(signer) {}

    // The request as this session's signer sees it. The first look of the first signer moves
    // a READY request to WAIT_FOR_SIGNATURE. Later signers see only that it is not their
    // turn yet (kForbidden), whatever link they hold.
    [[nodiscard]] Result<CeremonyView> Open(const PortalSession& session,
                                            const std::string& request_id,
                                            const ClientInfo& client);
    // The same view without side effects (no audit line, no status change).
    [[nodiscard]] Result<CeremonyView> Look(const PortalSession& session,
                                            const std::string& request_id);
    // Records the accepted clauses and starts the second factor (sends a code, or asks for
    // re-authentication with the eID).
    [[nodiscard]] Result<AcceptOutcome> Accept(const PortalSession& session,
                                               const std::string& request_id,
                                               const std::vector<FieldRef>& accepted,
                                               const ClientInfo& client);
    // The second factor: `code` for a code, empty for a fresh eID re-authentication. Then the
    // request goes to WAIT_FOR_QTSP and a signing job is queued; with a QTSP, every document
    // is prepared with the provider's certificate and the outcome carries the URL where the
    // signer authorizes the signatures (the job is queued by the provider's callback).
    [[nodiscard]] Result<ConfirmOutcome> Confirm(const PortalSession& session,
                                                 const std::string& request_id,
                                                 std::string_view code, const ClientInfo& client);
    [[nodiscard]] Result<void> Reject(const PortalSession& session, const std::string& request_id,
                                      const std::string& reason, const ClientInfo& client);

    // The bytes of a document as the signer may read them (the latest signed version).
    [[nodiscard]] Result<DocumentContent> DocumentBytes(const PortalSession& session,
                                                        const std::string& request_id,
                                                        const std::string& document_id);
    [[nodiscard]] Result<Page<InboxMessage>> Inbox(const PortalSession& session, PageQuery page);

    // Direct flow: where to send the browser now that the ceremony ended (with a
    // status_query_token), or nullopt while it has not ended or without exit URLs. The same
    // URL for kExitTokenReuse after a token was handed out (a reload or a prefetch must not
    // revoke the token the issuer is about to check); then a new token, revoking the old.
    [[nodiscard]] Result<std::optional<std::string>> ExitUrl(const PortalSession& session,
                                                             const std::string& request_id);

    // Worker: signs for every signer who confirmed; idempotent and safe to run twice at once
    // (a signed version is stored only if no other signature was added meanwhile).
    [[nodiscard]] Result<void> RunSigning(const Job& job);
    // After the last failed attempt: the request becomes FAILED.
    [[nodiscard]] Result<void> AbandonSigning(const Job& job, const std::string& error);

    // --- signing.provider = "csc" (ceremony_qtsp.cpp) ---
    void UseQtsp(QtspSigning qtsp) { qtsp_ = qtsp; }
    bool UsesQtsp() const { return qtsp_.service != nullptr; }
    // The provider URL of this signer's pending authorization, while it is pending and not
    // expired; nullopt otherwise.
    [[nodiscard]] Result<std::optional<std::string>> QtspAuthorizationUrl(
        const PortalSession& session, const std::string& request_id);
    // Records in the audit log that this signer accepted the provider's terms.
    [[nodiscard]] Result<void> AcceptQtspTerms(const PortalSession& session,
                                               const std::string& request_id,
                                               const ClientInfo& client);
    // QtspContinuation: the callback's code is sealed and kept on the authorization's row, and
    // a signing job queued, in the claiming transaction; a denial (or an expired authorization)
    // gives the signer their turn back.
    [[nodiscard]] Result<void> Authorized(Transaction& tx, const QtspAuthorization& authorization,
                                          const std::string& code) override;
    [[nodiscard]] Result<void> Denied(const QtspAuthorization& authorization) override;

  private:
    struct SignedDocument {
        std::string document_id;
        std::string key;
        BlobInfo info;
        int expected_count = 0;
        int signatures = 0;
    };
    // Stores the signed versions of one signer's documents and moves the request on (next
    // signer or SIGNED, events, messages, archive jobs). False when the signer is no longer
    // waiting for it (the blobs are removed).
    [[nodiscard]] Result<void> StoreSigned(const std::string& request_id,
                                           const std::string& signer_id,
                                           const std::vector<SignedDocument>& results,
                                           const std::string& certificate_note, Timestamp now);
    [[nodiscard]] Result<std::string> BeginQtsp(const std::string& request_id,
                                                const std::string& signer_id);
    [[nodiscard]] Result<void> ReturnTurn(const std::string& request_id,
                                          const std::string& signer_id, const std::string& why);
    // A signer whose authorization expired (or was swept) gets their turn back.
    [[nodiscard]] Result<void> ReclaimExpired(const std::string& request_id,
                                              const std::string& signer_id);
    [[nodiscard]] Result<void> RunQtspSigning(const Job& job);
    [[nodiscard]] Result<CeremonyView> Build(SignerAccess access, Transaction& tx) const;
    [[nodiscard]] Result<void> SignFor(const std::string& request_id, const std::string& signer_id);

    ServiceContext& ctx_;
    SignerSessionService& sessions_;
    TrustService& trust_;
    const DocumentSigner& signer_;
    QtspSigning qtsp_;
};

// Whether `rs` requires an eID level this session has not proved yet.
bool EidRequired(const PortalSession& session, const RequestSigner& rs);

// Which signer (position) signs a field: its signer_index when in range, else the first.
std::size_t FieldSignerPosition(const SignatureField& field, const SignatureRequest& request);

}  // namespace firmo::domain
