#include "domain/model.hpp"

#include "domain/ports/delivery.hpp"

namespace firmo::domain {

const Document* SignatureRequest::FindDocument(std::string_view document_id) const {
    for (const auto& d : documents) {
        if (d.id == document_id) return &d;
    }
    return nullptr;
}

Document* SignatureRequest::FindDocument(std::string_view document_id) {
    for (auto& d : documents) {
        if (d.id == document_id) return &d;
    }
    return nullptr;
}

std::string_view ToString(JobKind kind) {
    switch (kind) {
        case JobKind::kValidateDocument:
            return "validate_document";
        case JobKind::kSignDocuments:
            return "sign_documents";
        case JobKind::kAwaitUpload:
            return "await_upload";
        case JobKind::kArchiveTimestamp:
            return "archive_timestamp";
        case JobKind::kActivateRequest:
            return "activate_request";
    }
    return "";
}

std::optional<JobKind> ParseJobKind(std::string_view text) {
    if (text == "validate_document") return JobKind::kValidateDocument;
    if (text == "sign_documents") return JobKind::kSignDocuments;
    if (text == "await_upload") return JobKind::kAwaitUpload;
    if (text == "archive_timestamp") return JobKind::kArchiveTimestamp;
    if (text == "activate_request") return JobKind::kActivateRequest;
    return std::nullopt;
}

std::string_view ToString(OnBehalfOf value) {
    return value == OnBehalfOf::kOther ? "other" : "self";
}

std::optional<OnBehalfOf> ParseOnBehalfOf(std::string_view text) {
    if (text == "self") return OnBehalfOf::kSelf;
    if (text == "other") return OnBehalfOf::kOther;
    return std::nullopt;
}

std::string_view ToString(CodeKind kind) { return kind == CodeKind::kLogin ? "login" : "confirm"; }

std::optional<CodeKind> ParseCodeKind(std::string_view text) {
    if (text == "login") return CodeKind::kLogin;
    if (text == "confirm") return CodeKind::kConfirm;
    return std::nullopt;
}

std::string_view ToString(SignerTokenKind kind) {
    return kind == SignerTokenKind::kRedirect ? "redirect" : "status_query";
}

std::optional<SignerTokenKind> ParseSignerTokenKind(std::string_view text) {
    if (text == "redirect") return SignerTokenKind::kRedirect;
    if (text == "status_query") return SignerTokenKind::kStatusQuery;
    return std::nullopt;
}

std::string_view ToString(MessageKind kind) {
    return kind == MessageKind::kSignRequest ? "sign_request" : "signed_documents";
}

std::optional<MessageKind> ParseMessageKind(std::string_view text) {
    if (text == "sign_request") return MessageKind::kSignRequest;
    if (text == "signed_documents") return MessageKind::kSignedDocuments;
    return std::nullopt;
}

std::string_view ToString(Channel channel) {
    switch (channel) {
        case Channel::kEmail:
            return "email";
        case Channel::kSms:
            return "sms";
        case Channel::kWebhook:
            return "webhook";
    }
    return "email";
}

std::optional<Channel> ParseChannel(std::string_view text) {
    if (text == "email") return Channel::kEmail;
    if (text == "sms") return Channel::kSms;
    if (text == "webhook") return Channel::kWebhook;
    return std::nullopt;
}

}  // namespace firmo::domain
