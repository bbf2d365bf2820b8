#pragma once
// The state machines of Firmo, as pure functions of (state, event). Every status change of a
// signature request, a document or a signer goes through these; services record each applied
// transition in the request's audit log in the same transaction.

#include <optional>
#include <string_view>

#include "core/error.hpp"

namespace firmo::domain {

enum class RequestStatus {
    kDraft,
    kReady,
    kWaitForSignature,
    kWaitForQtsp,
    kSigned,
    kRejected,
    kCancelled,
    kExpired,
    kFailed,
};
inline constexpr RequestStatus kAllRequestStatuses[] = {
    RequestStatus::kDraft,       RequestStatus::kReady,   RequestStatus::kWaitForSignature,
    RequestStatus::kWaitForQtsp, RequestStatus::kSigned,  RequestStatus::kRejected,
    RequestStatus::kCancelled,   RequestStatus::kExpired, RequestStatus::kFailed};

enum class RequestEvent {
    kMarkReady,          // issuer: every document is READY
    kSendForSignature,   // the signers were notified / the first signer opened the request
    kSubmitToQtsp,       // a signer confirmed; the trust service is signing
    kSignerSigned,       // one signer done, others remain
    kAllSigned,          // the last signer is done
    kSigningFailed,      // the trust service failed for good
    kReject,             // a signer rejected
    kCancel,             // issuer cancelled
    kExpire,             // expires_at passed
    kSignerBlocked,      // a signer entered too many wrong codes: the request cannot complete
    kQtspNotAuthorized,  // the signer denied (or let expire) the QTSP's authorization: their turn
};
inline constexpr RequestEvent kAllRequestEvents[] = {
    RequestEvent::kMarkReady,     RequestEvent::kSendForSignature, RequestEvent::kSubmitToQtsp,
    RequestEvent::kSignerSigned,  RequestEvent::kAllSigned,        RequestEvent::kSigningFailed,
    RequestEvent::kReject,        RequestEvent::kCancel,           RequestEvent::kExpire,
    RequestEvent::kSignerBlocked, RequestEvent::kQtspNotAuthorized};

enum class DocumentStatus { kWaitForUpload, kWaitForValidation, kReady, kRejected };
inline constexpr DocumentStatus kAllDocumentStatuses[] = {
    DocumentStatus::kWaitForUpload, DocumentStatus::kWaitForValidation, DocumentStatus::kReady,
    DocumentStatus::kRejected};

enum class DocumentEvent { kUpload, kValidationPassed, kValidationFailed };
inline constexpr DocumentEvent kAllDocumentEvents[] = {
    DocumentEvent::kUpload, DocumentEvent::kValidationPassed, DocumentEvent::kValidationFailed};

// kNotApplicable (as Posten signering): the request ended (another signer rejected or was
// blocked, the issuer cancelled, it expired, signing failed) while this signer was WAITING and
// their status no longer applies; in particular signers whose turn never came.
enum class SignerStatus {
    kWaiting,
    kSigned,
    kRejected,
    kExpired,
    kCancelled,
    kBlocked,
    kNotApplicable
};
inline constexpr SignerStatus kAllSignerStatuses[] = {
    SignerStatus::kWaiting,      SignerStatus::kSigned,    SignerStatus::kRejected,
    SignerStatus::kExpired,      SignerStatus::kCancelled, SignerStatus::kBlocked,
    SignerStatus::kNotApplicable};

enum class SignerEvent { kSign, kReject, kExpire, kCancel, kBlock, kNotApplicable };
inline constexpr SignerEvent kAllSignerEvents[] = {
    SignerEvent::kSign,   SignerEvent::kReject, SignerEvent::kExpire,
    SignerEvent::kCancel, SignerEvent::kBlock,  SignerEvent::kNotApplicable};

// Transitions: the next state, or kConflict naming the event and the current state.
[[nodiscard]] Result<RequestStatus> Transition(RequestStatus from, RequestEvent event);
[[nodiscard]] Result<DocumentStatus> Transition(DocumentStatus from, DocumentEvent event);
[[nodiscard]] Result<SignerStatus> Transition(SignerStatus from, SignerEvent event);

bool IsTerminal(RequestStatus status);
bool IsTerminal(SignerStatus status);

// Wire names: "DRAFT", "WAIT_FOR_SIGNATURE", ...; events "signature_request.ready", ...
std::string_view ToString(RequestStatus status);
std::string_view ToString(DocumentStatus status);
std::string_view ToString(SignerStatus status);
std::string_view ToString(RequestEvent event);
std::string_view ToString(DocumentEvent event);
std::string_view ToString(SignerEvent event);
std::optional<RequestStatus> ParseRequestStatus(std::string_view text);
std::optional<DocumentStatus> ParseDocumentStatus(std::string_view text);
std::optional<SignerStatus> ParseSignerStatus(std::string_view text);

}  // namespace firmo::domain
