#include "codec/json.hpp"

#include <unordered_map>

#include "codec/schema.hpp"

namespace firmo::codec {

std::string Join(const std::string& path, const char* key) {
    return path.empty() ? std::string(key) : path + "." + key;
}

const Spec<domain::SignatureField>& SignatureFieldSpec() {
    using domain::FieldAtPosition;
    using domain::FieldByName;
    using domain::SignatureField;
    using Attrs = decltype(SignatureField::attrs);
    static const Spec<SignatureField> spec = [] {
        const Object<FieldByName> by_name = Object<FieldByName>().Required(
            "unique_name", &FieldByName::unique_name,
            String({.min_length = 1, .max_length = domain::kUniqueNameMax, .by = By::kDomain}));
        const NumberLimits coordinate{
            .minimum = 0, .maximum = domain::kMaxCoordinate, .by = By::kDomain};
        const NumberLimits extent{
            .exclusive_minimum = 0, .maximum = domain::kMaxCoordinate, .by = By::kDomain};
        const Object<FieldAtPosition> at_position =
            Object<FieldAtPosition>()
                .Required(
                    "page", &FieldAtPosition::page,
                    Integer({.minimum = 0, .maximum = domain::kMaxPageIndex, .by = By::kDomain}))
                .Nested("coordinates", Object<FieldAtPosition>()
                                           .Required("x", &FieldAtPosition::x, Number(coordinate))
                                           .Required("y", &FieldAtPosition::y, Number(coordinate)))
                .Nested("size", Object<FieldAtPosition>()
                                    .Required("w", &FieldAtPosition::w, Number(extent))
                                    .Required("h", &FieldAtPosition::h, Number(extent)));
        const Spec<Attrs> attrs =
            OneOf<Attrs>("must hold either unique_name or page, coordinates and size")
                .When({"unique_name"}, Spec<FieldByName>(by_name))
                .When({"page", "coordinates", "size"}, Spec<FieldAtPosition>(at_position));
        const Object<domain::Clause> clause =
            Object<domain::Clause>()
                .Required("title", &domain::Clause::title,
                          String({.min_length = domain::kClauseTitleMin,
                                  .max_length = domain::kClauseTitleMax,
                                  .by = By::kDomain}))
                .Required("type", &domain::Clause::type,
                          Enum<domain::ClauseType>({{"REQUIRED", domain::ClauseType::kRequired},
                                                    {"OPTIONAL", domain::ClauseType::kOptional},
                                                    {"UNFAIR", domain::ClauseType::kUnfair}}));
        return Object<SignatureField>()
            .Optional("signer_index", &SignatureField::signer_index,
                      Integer({.minimum = 0, .maximum = domain::kMaxSignerIndex - 1}))
            .Required("attrs", &SignatureField::attrs, attrs)
            .Required("clause", &SignatureField::clause, Spec<domain::Clause>(clause));
    }();
    return spec;
}

const Spec<std::vector<domain::SignatureField>>& SignatureFieldsSpec() {
    static const auto spec = ArrayOf(
        SignatureFieldSpec(), {.max_items = domain::kMaxFieldsPerDocument, .by = By::kDomain});
    return spec;
}

const Spec<domain::DocumentMetadata>& DocumentMetadataSpec() {
    using domain::DocumentMetadata;
    static const Spec<DocumentMetadata> spec =
        Object<DocumentMetadata>()
            .Required("title", &DocumentMetadata::title,
                      String({.min_length = domain::kDocumentTitleMin,
                              .max_length = domain::kDocumentTitleMax,
                              .by = By::kDomain}))
            .Required("signature_fields", &DocumentMetadata::signature_fields,
                      SignatureFieldsSpec());
    return spec;
}

const Spec<std::vector<domain::DocumentMetadata>>& DocumentsMetadataSpec() {
    static const auto spec =
        ArrayOf(DocumentMetadataSpec(),
                {.min_items = 1, .max_items = domain::kMaxDocumentsPerDossier, .by = By::kDomain});
    return spec;
}

std::optional<domain::SignatureField> ParseSignatureField(const Json& j, const std::string& path,
                                                          Reader& r) {
    return SignatureFieldSpec().Parse(j, path, r);
}

std::optional<std::vector<domain::SignatureField>> ParseSignatureFields(const Json& j,
                                                                        const std::string& path,
                                                                        Reader& r) {
    return SignatureFieldsSpec().Parse(j, path, r);
}

std::optional<domain::DocumentMetadata> ParseDocumentMetadata(const Json& j,
                                                              const std::string& path, Reader& r) {
    return DocumentMetadataSpec().Parse(j, path, r);
}

std::optional<std::vector<domain::DocumentMetadata>> ParseDocumentsMetadata(const Json& j,
                                                                            const std::string& path,
                                                                            Reader& r) {
    return DocumentsMetadataSpec().Parse(j, path, r);
}

Json ToJson(const domain::SignatureField& field) {
    Json attrs;
    if (const auto* by_name = std::get_if<domain::FieldByName>(&field.attrs)) {
        attrs = {{"unique_name", by_name->unique_name}};
    } else {
        const auto& p = std::get<domain::FieldAtPosition>(field.attrs);
        attrs = {{"page", p.page},
                 {"coordinates", {{"x", p.x}, {"y", p.y}}},
                 {"size", {{"w", p.w}, {"h", p.h}}}};
    }
    Json j = {
        {"attrs", std::move(attrs)},
        {"clause",
         {{"title", field.clause.title}, {"type", std::string(ToString(field.clause.type))}}}};
    if (field.signer_index) j["signer_index"] = *field.signer_index;
    return j;
}

Json ToJson(const std::vector<domain::SignatureField>& fields) {
    Json arr = Json::array();
    for (const auto& f : fields) arr.push_back(ToJson(f));
    return arr;
}

Json ToJson(const domain::DocumentMetadata& doc) {
    return {{"title", doc.title}, {"signature_fields", ToJson(doc.signature_fields)}};
}

Json ToJson(const std::vector<Violation>& violations) {
    Json arr = Json::array();
    for (const auto& v : violations) arr.push_back({{"field", v.field}, {"reason", v.reason}});
    return arr;
}

std::vector<Violation> ViolationsFromJson(const Json& j) {
    std::vector<Violation> out;
    if (!j.is_array()) return out;
    for (const auto& v : j) {
        if (v.is_object()) {
            out.push_back({v.value("field", ""), v.value("reason", "")});
        }
    }
    return out;
}

Result<domain::DocumentMetadata> DocumentMetadataFromText(const std::string& text) {
    // The documents of one dossier's requests share their metadata text: a small memo per
    // thread spares parsing it on every read of a request (the hottest read of the API).
    struct Memo {
        std::unordered_map<std::string, domain::DocumentMetadata> parsed;
    };
    thread_local Memo memo;
    if (const auto it = memo.parsed.find(text); it != memo.parsed.end()) return it->second;
    FIRMO_TRY(auto doc, ParseStoredDocumentMetadata(text));
    if (memo.parsed.size() >= 256) memo.parsed.clear();
    memo.parsed.emplace(text, doc);
    return doc;
}

Result<domain::DocumentMetadata> ParseStoredDocumentMetadata(const std::string& text) {
    const Json j = Json::parse(text, nullptr, false);
    std::vector<Violation> violations;
    Reader r(violations);
    auto doc = j.is_discarded() ? std::nullopt : ParseDocumentMetadata(j, "", r);
    if (!doc) return Fail(ErrorCode::kInternal, "corrupt stored document metadata");
    return std::move(*doc);
}

Result<std::vector<domain::DocumentMetadata>> DocumentsMetadataFromText(const std::string& text) {
    const Json j = Json::parse(text, nullptr, false);
    std::vector<Violation> violations;
    Reader r(violations);
    auto docs = j.is_discarded() ? std::nullopt : ParseDocumentsMetadata(j, "", r);
    if (!docs) return Fail(ErrorCode::kInternal, "corrupt stored documents metadata");
    return std::move(*docs);
}

Json ToJson(const std::vector<domain::FieldRef>& fields) {
    Json out = Json::array();
    for (const auto& f : fields) out.push_back(Json::array({f.document, f.field}));
    return out;
}

std::vector<domain::FieldRef> FieldRefsFromText(std::string_view text) {
    std::vector<domain::FieldRef> out;
    const Json j = Json::parse(text, nullptr, false);
    if (!j.is_array()) return out;
    for (const auto& item : j) {
        if (item.is_array() && item.size() == 2 && item[0].is_number_integer() &&
            item[1].is_number_integer()) {
            out.push_back({item[0].get<int>(), item[1].get<int>()});
        }
    }
    return out;
}

Json ToJson(const domain::RedirectUrls& urls) {
    return {{"completion_url", urls.completion_url},
            {"rejection_url", urls.rejection_url},
            {"error_url", urls.error_url}};
}

std::optional<domain::RedirectUrls> RedirectUrlsFromText(std::string_view text) {
    const Json j = Json::parse(text, nullptr, false);
    if (!j.is_object()) return std::nullopt;
    domain::RedirectUrls urls;
    urls.completion_url = j.value("completion_url", "");
    urls.rejection_url = j.value("rejection_url", "");
    urls.error_url = j.value("error_url", "");
    return urls;
}

}  // namespace firmo::codec
