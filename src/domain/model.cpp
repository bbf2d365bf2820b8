#include "domain/model.hpp"

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
    }
    return "";
}

std::optional<JobKind> ParseJobKind(std::string_view text) {
    if (text == "validate_document") return JobKind::kValidateDocument;
    return std::nullopt;
}

}  // namespace firmo::domain
