#pragma once
// The evidence report's layout (issue 17): domain::EvidenceReport as lines of text, and those
// lines as a PDF written with qpdf: A4 pages, the standard fonts Helvetica, Helvetica-Bold and
// Courier (WinAnsiEncoding, not embedded), long lines wrapped, as many pages as it takes. The
// server seals the result afterwards (domain/services/evidence_service.hpp). Thread-safe.

#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "domain/services/evidence_service.hpp"
#include "pdf/verify.hpp"

namespace firmo::pdf {

struct TextLine {
    enum class Style { kTitle, kHeading, kBody, kMono, kGap };
    Style style = Style::kBody;
    std::string text;  // UTF-8
    int indent = 0;    // levels of 12 points
};

// UTF-8 to the bytes of WinAnsiEncoding (Latin-1 and the CP1252 extras such as the euro sign);
// a character the encoding lacks becomes '?', invalid UTF-8 too.
std::string ToWinAnsi(std::string_view utf8);
// A PDF literal string "(...)" of WinAnsi bytes: \, ( and ) escaped, control bytes octal.
std::string PdfLiteral(std::string_view winansi);

// One PDF with `lines` laid out top to bottom over as many A4 pages as they need (each page
// numbered "page n of m" at its foot), `title` in the document information.
[[nodiscard]] Result<std::string> TextPdf(const std::vector<TextLine>& lines,
                                          const std::string& title);

// What the report says, line by line: times in UTC and in the report's time zone.
std::vector<TextLine> EvidenceLines(const domain::EvidenceReport& report);

// The verifier's report in the words of the evidence report.
domain::PdfCheck CheckOf(const VerificationReport& report);

class PdfEvidenceRenderer final : public domain::EvidenceRenderer {
  public:
    [[nodiscard]] Result<std::string> Render(const domain::EvidenceReport& report) const override;
};

}  // namespace firmo::pdf
