#pragma once
// Port: checks an uploaded PDF against the signature fields it must carry. Implemented by the
// PDF engine (src/pdf, qpdf); used by the upload worker and the validate-document endpoint.
// Implementations are thread-safe and never throw: a broken PDF is a report, not an error.

#include <filesystem>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "domain/signature_field.hpp"

namespace firmo::domain {

struct ValidationReport {
    bool is_valid = false;
    int page_count = 0;
    // `field` names the input that is wrong: "file" for the PDF as a whole, or
    // "signature_fields[i]" for one field; `reason` says what is wrong in plain words.
    std::vector<Violation> violations;
};

class DocumentValidator {
  public:
    virtual ~DocumentValidator() = default;
    DocumentValidator() = default;
    DocumentValidator(const DocumentValidator&) = delete;
    DocumentValidator& operator=(const DocumentValidator&) = delete;

    [[nodiscard]] virtual ValidationReport ValidateFile(
        const std::filesystem::path& pdf, const std::vector<SignatureField>& fields) const = 0;
    [[nodiscard]] virtual ValidationReport ValidateBytes(
        std::string_view pdf, const std::vector<SignatureField>& fields) const = 0;
};

}  // namespace firmo::domain
