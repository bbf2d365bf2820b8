#include "pdf/qpdf_validator.hpp"

#include <cstdio>
#include <string>

#include "pdf/qpdf_support.hpp"

namespace firmo::pdf {
namespace {

std::string FormatPoints(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", v);
    std::string s(buf);
    // "595.00" reads worse than "595" in a message shown to integrators.
    while (!s.empty() && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
    return s;
}

std::string Quoted(const std::string& name) { return "'" + name + "'"; }

std::optional<Violation> CheckField(const PdfInfo& info, const domain::FieldByName& by_name,
                                    const std::string& path) {
    const FormField* found = nullptr;
    for (const auto& f : info.fields) {
        if (f.name == by_name.unique_name) {
            found = &f;
            break;
        }
    }
    if (found == nullptr) {
        return Violation{
            path, "no signature field named " + Quoted(by_name.unique_name) + " in the document"};
    }
    if (found->type != FieldType::kSignature) {
        return Violation{path,
                         "the field " + Quoted(by_name.unique_name) + " is not a signature field"};
    }
    if (found->is_signed) {
        return Violation{
            path, "the signature field " + Quoted(by_name.unique_name) + " is already signed"};
    }
    return std::nullopt;
}

std::optional<Violation> CheckField(const PdfInfo& info, const domain::FieldAtPosition& at,
                                    const std::string& path) {
    if (at.page < 0 || at.page >= info.page_count) {
        return Violation{path, "page " + std::to_string(at.page) +
                                   " does not exist (the document has " +
                                   std::to_string(info.page_count) + " pages, counted from 0)"};
    }
    if (!(at.w > 0) || !(at.h > 0)) {
        return Violation{path, "the field's width and height must be greater than zero"};
    }
    const PageInfo& page = info.pages[static_cast<std::size_t>(at.page)];
    if (!PlaceOnPage(page, at.x, at.y, at.w, at.h)) {
        return Violation{path, "the field does not fit inside page " + std::to_string(at.page) +
                                   " (" + FormatPoints(page.DisplayWidth()) + " x " +
                                   FormatPoints(page.DisplayHeight()) + " points)"};
    }
    return std::nullopt;
}

domain::ValidationReport ReportFrom(Result<PdfInfo> info,
                                    const std::vector<domain::SignatureField>& fields) {
    domain::ValidationReport report;
    if (!info) {
        report.violations.push_back(Violation{"file", info.error().message});
        return report;
    }
    report.page_count = info->page_count;
    if (!info->warnings.empty()) {
        // qpdf could read the file only by repairing it; an incremental update on top of a
        // broken cross-reference table would produce a signature validators reject.
        report.violations.push_back(Violation{"file", std::string(internal::kReasonRepaired)});
    }
    if (info->page_count == 0) {
        report.violations.push_back(Violation{"file", std::string(internal::kReasonNoPages)});
    }
    auto field_violations = CheckSignatureFields(*info, fields);
    report.violations.insert(report.violations.end(), field_violations.begin(),
                             field_violations.end());
    report.is_valid = report.violations.empty();
    return report;
}

}  // namespace

QpdfValidator::QpdfValidator(PdfLimits limits) : limits_(limits) {}

std::vector<Violation> CheckSignatureFields(const PdfInfo& info,
                                            const std::vector<domain::SignatureField>& fields) {
    std::vector<Violation> out;
    for (std::size_t i = 0; i < fields.size(); ++i) {
        std::string path = "signature_fields[" + std::to_string(i) + "]";
        auto violation = std::visit(
            [&](const auto& attrs) { return CheckField(info, attrs, path); }, fields[i].attrs);
        if (violation) out.push_back(std::move(*violation));
    }
    return out;
}

domain::ValidationReport QpdfValidator::ValidateFile(
    const std::filesystem::path& pdf, const std::vector<domain::SignatureField>& fields) const {
    try {
        return ReportFrom(InspectPdfFile(pdf, limits_), fields);
    } catch (...) {
        domain::ValidationReport report;
        report.violations.push_back(Violation{"file", std::string(internal::kReasonDamaged)});
        return report;
    }
}

domain::ValidationReport QpdfValidator::ValidateBytes(
    std::string_view pdf, const std::vector<domain::SignatureField>& fields) const {
    try {
        return ReportFrom(InspectPdfBytes(pdf, limits_), fields);
    } catch (...) {
        domain::ValidationReport report;
        report.violations.push_back(Violation{"file", std::string(internal::kReasonDamaged)});
        return report;
    }
}

}  // namespace firmo::pdf
