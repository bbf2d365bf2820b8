#pragma once
// JSON <-> domain values, shared by the issuer API (wire format) and the stores (which keep a
// document's signature fields as one JSON column). Parsing follows the descriptions of
// codec/schema.hpp and collects precise violations ("documents_metadata[0].signature_fields[1]
// .attrs.page: must be an integer") instead of stopping at the first problem.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "domain/model.hpp"
#include "domain/signature_field.hpp"

namespace firmo::codec {

using Json = nlohmann::json;

// Collects the violations of one parse. A violation of the whole value (path "") is reported
// as the field "body".
class Reader {
  public:
    explicit Reader(std::vector<Violation>& violations) : violations_(violations) {}

    void Add(std::string field, std::string reason) {
        if (field.empty()) field = "body";
        violations_.push_back({std::move(field), std::move(reason)});
    }
    std::size_t count() const { return violations_.size(); }

  private:
    std::vector<Violation>& violations_;
};

std::string Join(const std::string& path, const char* key);

// The descriptions (codec/schema.hpp) of the signature fields and documents a dossier or a
// request lists; the parsers below are theirs.
template <typename T>
class Spec;
const Spec<domain::SignatureField>& SignatureFieldSpec();
const Spec<std::vector<domain::SignatureField>>& SignatureFieldsSpec();
const Spec<domain::DocumentMetadata>& DocumentMetadataSpec();
const Spec<std::vector<domain::DocumentMetadata>>& DocumentsMetadataSpec();

std::optional<domain::SignatureField> ParseSignatureField(const Json& j, const std::string& path,
                                                          Reader& r);
std::optional<domain::DocumentMetadata> ParseDocumentMetadata(const Json& j,
                                                              const std::string& path, Reader& r);
std::optional<std::vector<domain::DocumentMetadata>> ParseDocumentsMetadata(const Json& j,
                                                                            const std::string& path,
                                                                            Reader& r);
std::optional<std::vector<domain::SignatureField>> ParseSignatureFields(const Json& j,
                                                                        const std::string& path,
                                                                        Reader& r);

Json ToJson(const domain::SignatureField& field);
Json ToJson(const domain::DocumentMetadata& doc);
Json ToJson(const std::vector<domain::SignatureField>& fields);
Json ToJson(const std::vector<Violation>& violations);
std::vector<Violation> ViolationsFromJson(const Json& j);

// Stored shapes of the signer side: accepted fields as [[document, field], ...], redirect URLs.
Json ToJson(const std::vector<domain::FieldRef>& fields);
std::vector<domain::FieldRef> FieldRefsFromText(std::string_view text);
Json ToJson(const domain::RedirectUrls& urls);
std::optional<domain::RedirectUrls> RedirectUrlsFromText(std::string_view text);

// For stored values written by ToJson: kInternal on a corrupt value.
[[nodiscard]] Result<domain::DocumentMetadata> DocumentMetadataFromText(const std::string& text);
// The same without the per-thread memo of recently parsed texts DocumentMetadataFromText keeps.
[[nodiscard]] Result<domain::DocumentMetadata> ParseStoredDocumentMetadata(const std::string& text);
[[nodiscard]] Result<std::vector<domain::DocumentMetadata>> DocumentsMetadataFromText(
    const std::string& text);

}  // namespace firmo::codec
