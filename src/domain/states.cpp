#include "domain/states.hpp"

#include <string>

namespace firmo::domain {

namespace {

template <typename Status, typename Event>
tl::unexpected<Error> Refuse(Status from, Event event) {
    return Fail(ErrorCode::kConflict, std::string("cannot apply '") + std::string(ToString(event)) +
                                          "' in status " + std::string(ToString(from)));
}

}  // namespace

Result<RequestStatus> Transition(RequestStatus from, RequestEvent event) {
    using S = RequestStatus;
    using E = RequestEvent;
    switch (event) {
        case E::kMarkReady:
            if (from == S::kDraft) return S::kReady;
            break;
        case E::kSendForSignature:
            if (from == S::kReady) return S::kWaitForSignature;
            break;
        case E::kSubmitToQtsp:
            if (from == S::kReady || from == S::kWaitForSignature) return S::kWaitForQtsp;
            break;
        case E::kSignerSigned:
            if (from == S::kWaitForQtsp) return S::kWaitForSignature;
            break;
        case E::kAllSigned:
            if (from == S::kWaitForQtsp) return S::kSigned;
            break;
        case E::kSigningFailed:
            if (from == S::kWaitForQtsp) return S::kFailed;
            break;
        case E::kReject:
            if (from == S::kReady || from == S::kWaitForSignature) return S::kRejected;
            break;
        case E::kCancel:
            // Not while the trust service is signing: the outcome would race the cancel
            // (a known flaw of the reference service). The issuer retries after it settles.
            if (from == S::kDraft || from == S::kReady || from == S::kWaitForSignature) {
                return S::kCancelled;
            }
            break;
        case E::kExpire:
            if (from == S::kDraft || from == S::kReady || from == S::kWaitForSignature) {
                return S::kExpired;
            }
            break;
        case E::kSignerBlocked:
            // Not from WAIT_FOR_QTSP: the signing in progress settles first (the ceremony
            // fails the request once it is back in WAIT_FOR_SIGNATURE).
            if (from == S::kReady || from == S::kWaitForSignature) return S::kFailed;
            break;
        case E::kQtspNotAuthorized:
            // signing.provider = "csc": the signer said no at the provider, or never came back.
            if (from == S::kWaitForQtsp) return S::kWaitForSignature;
            break;
    }
    return Refuse(from, event);
}

Result<DocumentStatus> Transition(DocumentStatus from, DocumentEvent event) {
    using S = DocumentStatus;
    switch (event) {
        case DocumentEvent::kUpload:
            // Re-upload replaces the file in any state; the request must still be DRAFT,
            // which the service checks.
            return S::kWaitForValidation;
        case DocumentEvent::kValidationPassed:
            if (from == S::kWaitForValidation) return S::kReady;
            break;
        case DocumentEvent::kValidationFailed:
            if (from == S::kWaitForValidation) return S::kRejected;
            break;
    }
    return Refuse(from, event);
}

Result<SignerStatus> Transition(SignerStatus from, SignerEvent event) {
    using S = SignerStatus;
    if (from != S::kWaiting) return Refuse(from, event);
    switch (event) {
        case SignerEvent::kSign:
            return S::kSigned;
        case SignerEvent::kReject:
            return S::kRejected;
        case SignerEvent::kExpire:
            return S::kExpired;
        case SignerEvent::kCancel:
            return S::kCancelled;
        case SignerEvent::kBlock:
            return S::kBlocked;
        case SignerEvent::kNotApplicable:
            return S::kNotApplicable;
    }
    return Refuse(from, event);
}

bool IsTerminal(RequestStatus s) {
    return s == RequestStatus::kSigned || s == RequestStatus::kRejected ||
           s == RequestStatus::kCancelled || s == RequestStatus::kExpired ||
           s == RequestStatus::kFailed;
}

bool IsTerminal(SignerStatus s) { return s != SignerStatus::kWaiting; }

std::string_view ToString(RequestStatus s) {
    switch (s) {
        case RequestStatus::kDraft:
            return "DRAFT";
        case RequestStatus::kReady:
            return "READY";
        case RequestStatus::kWaitForSignature:
            return "WAIT_FOR_SIGNATURE";
        case RequestStatus::kWaitForQtsp:
            return "WAIT_FOR_QTSP";
        case RequestStatus::kSigned:
            return "SIGNED";
        case RequestStatus::kRejected:
            return "REJECTED";
        case RequestStatus::kCancelled:
            return "CANCELLED";
        case RequestStatus::kExpired:
            return "EXPIRED";
        case RequestStatus::kFailed:
            return "FAILED";
    }
    return "DRAFT";
}

std::string_view ToString(DocumentStatus s) {
    switch (s) {
        case DocumentStatus::kWaitForUpload:
            return "WAIT_FOR_UPLOAD";
        case DocumentStatus::kWaitForValidation:
            return "WAIT_FOR_VALIDATION";
        case DocumentStatus::kReady:
            return "READY";
        case DocumentStatus::kRejected:
            return "REJECTED";
    }
    return "WAIT_FOR_UPLOAD";
}

std::string_view ToString(SignerStatus s) {
    switch (s) {
        case SignerStatus::kWaiting:
            return "WAITING";
        case SignerStatus::kSigned:
            return "SIGNED";
        case SignerStatus::kRejected:
            return "REJECTED";
        case SignerStatus::kExpired:
            return "EXPIRED";
        case SignerStatus::kCancelled:
            return "CANCELLED";
        case SignerStatus::kBlocked:
            return "BLOCKED";
        case SignerStatus::kNotApplicable:
            return "NOT_APPLICABLE";
    }
    return "WAITING";
}

std::string_view ToString(RequestEvent e) {
    switch (e) {
        case RequestEvent::kMarkReady:
            return "signature_request.ready";
        case RequestEvent::kSendForSignature:
            return "signature_request.sent";
        case RequestEvent::kSubmitToQtsp:
            return "signature_request.submitted_to_qtsp";
        case RequestEvent::kSignerSigned:
            return "signature_request.signer_signed";
        case RequestEvent::kAllSigned:
            return "signature_request.signed";
        case RequestEvent::kSigningFailed:
            return "signature_request.failed";
        case RequestEvent::kReject:
            return "signature_request.rejected";
        case RequestEvent::kCancel:
            return "signature_request.cancelled";
        case RequestEvent::kExpire:
            return "signature_request.expired";
        case RequestEvent::kSignerBlocked:
            return "signature_request.signer_blocked";
        case RequestEvent::kQtspNotAuthorized:
            return "signature_request.qtsp_not_authorized";
    }
    return "";
}

std::string_view ToString(DocumentEvent e) {
    switch (e) {
        case DocumentEvent::kUpload:
            return "document.uploaded";
        case DocumentEvent::kValidationPassed:
            return "document.ready";
        case DocumentEvent::kValidationFailed:
            return "document.rejected";
    }
    return "";
}

std::string_view ToString(SignerEvent e) {
    switch (e) {
        case SignerEvent::kSign:
            return "signer.signed";
        case SignerEvent::kReject:
            return "signer.rejected";
        case SignerEvent::kExpire:
            return "signer.expired";
        case SignerEvent::kCancel:
            return "signer.cancelled";
        case SignerEvent::kBlock:
            return "signer.blocked";
        case SignerEvent::kNotApplicable:
            return "signer.not_applicable";
    }
    return "";
}

std::optional<RequestStatus> ParseRequestStatus(std::string_view text) {
    for (auto s : kAllRequestStatuses) {
        if (ToString(s) == text) return s;
    }
    return std::nullopt;
}

std::optional<DocumentStatus> ParseDocumentStatus(std::string_view text) {
    for (auto s : kAllDocumentStatuses) {
        if (ToString(s) == text) return s;
    }
    return std::nullopt;
}

std::optional<SignerStatus> ParseSignerStatus(std::string_view text) {
    for (auto s : kAllSignerStatuses) {
        if (ToString(s) == text) return s;
    }
    return std::nullopt;
}

}  // namespace firmo::domain
