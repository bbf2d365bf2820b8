#pragma once
// The DocumentValidator port implemented with qpdf: checks that an uploaded PDF can be signed
// (a readable, unencrypted PDF within limits) and that each requested signature field exists
// and is empty, or fits on its page. Thread-safe (no shared state); never throws.

#include <filesystem>
#include <string_view>
#include <vector>

#include "domain/ports/document_validator.hpp"
#include "pdf/inspect.hpp"

namespace firmo::pdf {

class QpdfValidator final : public domain::DocumentValidator {
  public:
    explicit QpdfValidator(PdfLimits limits = {});

    [[nodiscard]] domain::ValidationReport ValidateFile(
        const std::filesystem::path& pdf,
        const std::vector<domain::SignatureField>& fields) const override;
    [[nodiscard]] domain::ValidationReport ValidateBytes(
        std::string_view pdf, const std::vector<domain::SignatureField>& fields) const override;

  private:
    PdfLimits limits_;
};

// The field checks alone, against an inspected document (used by the signer too).
std::vector<Violation> CheckSignatureFields(const PdfInfo& info,
                                            const std::vector<domain::SignatureField>& fields);

}  // namespace firmo::pdf
