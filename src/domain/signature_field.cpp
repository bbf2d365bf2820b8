#include "domain/signature_field.hpp"

#include <cmath>
#include <set>

#include "domain/text.hpp"

namespace firmo::domain {

std::string_view ToString(ClauseType type) {
    switch (type) {
        case ClauseType::kRequired:
            return "REQUIRED";
        case ClauseType::kOptional:
            return "OPTIONAL";
        case ClauseType::kUnfair:
            return "UNFAIR";
    }
    return "REQUIRED";
}

std::optional<ClauseType> ParseClauseType(std::string_view text) {
    if (text == "REQUIRED") return ClauseType::kRequired;
    if (text == "OPTIONAL") return ClauseType::kOptional;
    if (text == "UNFAIR") return ClauseType::kUnfair;
    return std::nullopt;
}

std::vector<Violation> CheckDocumentMetadata(const DocumentMetadata& doc, const std::string& path) {
    std::vector<Violation> out;
    CheckLength(doc.title, kDocumentTitleMin, kDocumentTitleMax, path + ".title", out);
    auto fields = CheckSignatureFields(doc.signature_fields, path + ".signature_fields");
    out.insert(out.end(), fields.begin(), fields.end());
    return out;
}

std::vector<Violation> CheckSignatureFields(const std::vector<SignatureField>& fields,
                                            const std::string& path) {
    static const std::string kRange = "must be from 0 to 14400 points";
    static const std::string kPositive = "must be more than 0 and at most 14400 points";
    std::vector<Violation> out;
    if (fields.size() > kMaxFieldsPerDocument) {
        // Not one violation per field of a list that is refused anyway.
        out.push_back({path, "at most " + std::to_string(kMaxFieldsPerDocument) + " fields"});
        return out;
    }
    bool has_binding_clause = false;
    std::set<std::string> names;
    for (std::size_t i = 0; i < fields.size(); ++i) {
        const auto& field = fields[i];
        const std::string fpath = path + "[" + std::to_string(i) + "]";
        CheckLength(field.clause.title, kClauseTitleMin, kClauseTitleMax, fpath + ".clause.title",
                    out);
        if (field.clause.type != ClauseType::kOptional) has_binding_clause = true;
        if (const auto* by_name = std::get_if<FieldByName>(&field.attrs)) {
            if (by_name->unique_name.empty() || by_name->unique_name.size() > kUniqueNameMax ||
                !IsPrintableUtf8(by_name->unique_name)) {
                out.push_back(
                    {fpath + ".attrs.unique_name",
                     "must be 1-" + std::to_string(kUniqueNameMax) + " printable characters"});
            }
            // Two clauses may share a field, so repeated names are allowed; nothing to check.
            names.insert(by_name->unique_name);
        } else {
            const auto& pos = std::get<FieldAtPosition>(field.attrs);
            if (pos.page < 0 || pos.page > kMaxPageIndex) {
                out.push_back({fpath + ".attrs.page",
                               "must be a page index from 0 to " + std::to_string(kMaxPageIndex)});
            }
            const auto finite_in = [](double v, double lo) {
                return std::isfinite(v) && v >= lo && v <= kMaxCoordinate;
            };
            if (!finite_in(pos.x, 0)) out.push_back({fpath + ".attrs.coordinates.x", kRange});
            if (!finite_in(pos.y, 0)) out.push_back({fpath + ".attrs.coordinates.y", kRange});
            if (!finite_in(pos.w, 0) || pos.w <= 0) {
                out.push_back({fpath + ".attrs.size.w", kPositive});
            }
            if (!finite_in(pos.h, 0) || pos.h <= 0) {
                out.push_back({fpath + ".attrs.size.h", kPositive});
            }
        }
    }
    if (!fields.empty() && !has_binding_clause) {
        out.push_back({path, "must contain at least one REQUIRED or UNFAIR clause"});
    }
    return out;
}

}  // namespace firmo::domain
