#pragma once
// Where a signature goes in a document, and the clause the signer accepts there. Shared by
// dossiers (templates), signature requests (instances) and the PDF engine (which validates
// and fills the fields).

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/error.hpp"

namespace firmo::domain {

enum class ClauseType { kRequired, kOptional, kUnfair };
std::string_view ToString(ClauseType type);
std::optional<ClauseType> ParseClauseType(std::string_view text);

struct Clause {
    std::string title;
    ClauseType type = ClauseType::kRequired;
    friend bool operator==(const Clause&, const Clause&) = default;
};

// An existing, empty AcroForm signature field, by its fully qualified name.
struct FieldByName {
    std::string unique_name;
    friend bool operator==(const FieldByName&, const FieldByName&) = default;
};

// A new field. Pages count from 0; x/y are from the page's top-left corner in PDF points
// (the engine converts: y_pdf = page_height - y - h), as in Firma con IO's API.
struct FieldAtPosition {
    int page = 0;
    double x = 0;
    double y = 0;
    double w = 0;
    double h = 0;
    friend bool operator==(const FieldAtPosition&, const FieldAtPosition&) = default;
};

struct SignatureField {
    std::variant<FieldByName, FieldAtPosition> attrs;
    Clause clause;
    // Who signs it when a request has several signers: a position in the request's `signers`
    // (0 when absent). A signer with no field in a document signs it invisibly.
    std::optional<int> signer_index;
    friend bool operator==(const SignatureField&, const SignatureField&) = default;
};

struct DocumentMetadata {
    std::string title;
    std::vector<SignatureField> signature_fields;
    friend bool operator==(const DocumentMetadata&, const DocumentMetadata&) = default;
};

// Limits of the model (documented in docs/openapi.yaml).
inline constexpr std::size_t kDocumentTitleMin = 3;
inline constexpr std::size_t kDocumentTitleMax = 60;
inline constexpr std::size_t kClauseTitleMin = 5;
inline constexpr std::size_t kClauseTitleMax = 80;
inline constexpr std::size_t kMaxDocumentsPerDossier = 20;
inline constexpr std::size_t kMaxFieldsPerDocument = 50;
inline constexpr std::size_t kUniqueNameMax = 255;
inline constexpr int kMaxSignerIndex = 10;
inline constexpr int kMaxPageIndex = 99'999;
inline constexpr double kMaxCoordinate = 14'400;  // PDF's largest page side, in points

// Structural checks that need no PDF (lengths, ranges, "at least one REQUIRED or UNFAIR clause
// when fields are present"). `path` prefixes violation field names, e.g. "documents_metadata[0]".
std::vector<Violation> CheckDocumentMetadata(const DocumentMetadata& doc, const std::string& path);
// The field rules of CheckDocumentMetadata, for a list of fields alone (validate-document):
// at most kMaxFieldsPerDocument (more: that one violation, the fields are not looked at),
// clause titles, names, positions, a binding clause. `path` names the list, e.g.
// "signature_fields".
std::vector<Violation> CheckSignatureFields(const std::vector<SignatureField>& fields,
                                            const std::string& path);

}  // namespace firmo::domain
