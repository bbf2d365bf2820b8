#pragma once
// JSON <-> domain values, shared by the issuer API (wire format) and the stores (which keep a
// document's signature fields as one JSON column). Parsing collects precise violations
// ("documents_metadata[0].signature_fields[1].attrs.page: must be an integer") instead of
// stopping at the first problem.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "domain/model.hpp"
#include "domain/signature_field.hpp"

namespace firmo::codec {

using Json = nlohmann::json;

// Typed field access that records a violation at `path` when the type is wrong.
class Reader {
  public:
    explicit Reader(std::vector<Violation>& violations) : violations_(violations) {}

    // Required members: nullopt (and a violation) when missing or mistyped.
    std::optional<std::string> String(const Json& obj, const char* key, const std::string& path);
    std::optional<double> Number(const Json& obj, const char* key, const std::string& path);
    std::optional<int> Integer(const Json& obj, const char* key, const std::string& path);
    const Json* Object(const Json& obj, const char* key, const std::string& path);
    const Json* Array(const Json& obj, const char* key, const std::string& path);
    // Optional members: nullopt without a violation when absent or null.
    std::optional<std::string> OptString(const Json& obj, const char* key, const std::string& path);
    std::optional<int> OptInteger(const Json& obj, const char* key, const std::string& path);
    // A violation for every member of `obj` not in `known` (typos should not pass silently).
    void NoUnknownMembers(const Json& obj, std::initializer_list<const char*> known,
                          const std::string& path);

    void Add(std::string field, std::string reason) {
        violations_.push_back({std::move(field), std::move(reason)});
    }

  private:
    std::vector<Violation>& violations_;
};

std::string Join(const std::string& path, const char* key);

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
[[nodiscard]] Result<std::vector<domain::DocumentMetadata>> DocumentsMetadataFromText(
    const std::string& text);

}  // namespace firmo::codec
