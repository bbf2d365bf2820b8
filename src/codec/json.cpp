#include "codec/json.hpp"

#include <cmath>
#include <limits>

namespace firmo::codec {

std::string Join(const std::string& path, const char* key) {
    return path.empty() ? std::string(key) : path + "." + key;
}

namespace {

std::string TypeName(const Json& j) {
    return j.type_name();  // "null", "object", "array", "string", "number", "boolean"
}

}  // namespace

std::optional<std::string> Reader::String(const Json& obj, const char* key,
                                          const std::string& path) {
    const auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) {
        Add(Join(path, key), "is required");
        return std::nullopt;
    }
    if (!it->is_string()) {
        Add(Join(path, key), "must be a string, not " + TypeName(*it));
        return std::nullopt;
    }
    return it->get<std::string>();
}

std::optional<double> Reader::Number(const Json& obj, const char* key, const std::string& path) {
    const auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) {
        Add(Join(path, key), "is required");
        return std::nullopt;
    }
    if (!it->is_number()) {
        Add(Join(path, key), "must be a number, not " + TypeName(*it));
        return std::nullopt;
    }
    return it->get<double>();
}

std::optional<int> Reader::Integer(const Json& obj, const char* key, const std::string& path) {
    const auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) {
        Add(Join(path, key), "is required");
        return std::nullopt;
    }
    return OptInteger(obj, key, path);
}

std::optional<int> Reader::OptInteger(const Json& obj, const char* key, const std::string& path) {
    const auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return std::nullopt;
    if (it->is_number_integer()) {
        const auto v = it->get<std::int64_t>();
        if (v >= std::numeric_limits<int>::min() && v <= std::numeric_limits<int>::max()) {
            return static_cast<int>(v);
        }
    } else if (it->is_number_float()) {
        const double d = it->get<double>();
        if (std::isfinite(d) && d == std::floor(d) && std::abs(d) < 1e9) return static_cast<int>(d);
    }
    Add(Join(path, key), "must be an integer");
    return std::nullopt;
}

std::optional<std::string> Reader::OptString(const Json& obj, const char* key,
                                             const std::string& path) {
    const auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return std::nullopt;
    if (!it->is_string()) {
        Add(Join(path, key), "must be a string, not " + TypeName(*it));
        return std::nullopt;
    }
    return it->get<std::string>();
}

const Json* Reader::Object(const Json& obj, const char* key, const std::string& path) {
    const auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) {
        Add(Join(path, key), "is required");
        return nullptr;
    }
    if (!it->is_object()) {
        Add(Join(path, key), "must be an object, not " + TypeName(*it));
        return nullptr;
    }
    return &*it;
}

const Json* Reader::Array(const Json& obj, const char* key, const std::string& path) {
    const auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) {
        Add(Join(path, key), "is required");
        return nullptr;
    }
    if (!it->is_array()) {
        Add(Join(path, key), "must be an array, not " + TypeName(*it));
        return nullptr;
    }
    return &*it;
}

void Reader::NoUnknownMembers(const Json& obj, std::initializer_list<const char*> known,
                              const std::string& path) {
    for (const auto& [key, value] : obj.items()) {
        bool ok = false;
        for (const char* k : known) ok |= (key == k);
        if (!ok) Add(Join(path, key.c_str()), "is not a known field");
    }
}

std::optional<domain::SignatureField> ParseSignatureField(const Json& j, const std::string& path,
                                                          Reader& r) {
    if (!j.is_object()) {
        r.Add(path, "must be an object");
        return std::nullopt;
    }
    r.NoUnknownMembers(j, {"attrs", "clause", "signer_index"}, path);
    domain::SignatureField field;
    bool ok = true;
    if (auto index = r.OptInteger(j, "signer_index", path)) {
        if (*index < 0 || *index >= domain::kMaxSignerIndex) {
            r.Add(Join(path, "signer_index"), "must be 0-9 (a position in the request's signers)");
            ok = false;
        } else {
            field.signer_index = static_cast<int>(*index);
        }
    }
    if (const Json* clause = r.Object(j, "clause", path)) {
        const std::string cpath = Join(path, "clause");
        r.NoUnknownMembers(*clause, {"title", "type"}, cpath);
        auto title = r.String(*clause, "title", cpath);
        auto type = r.String(*clause, "type", cpath);
        if (type && !domain::ParseClauseType(*type)) {
            r.Add(Join(cpath, "type"), "must be REQUIRED, OPTIONAL or UNFAIR");
            ok = false;
        }
        if (title && type && domain::ParseClauseType(*type)) {
            field.clause = domain::Clause{*title, *domain::ParseClauseType(*type)};
        } else {
            ok = false;
        }
    } else {
        ok = false;
    }
    const Json* attrs = r.Object(j, "attrs", path);
    if (!attrs) return std::nullopt;
    const std::string apath = Join(path, "attrs");
    if (attrs->contains("unique_name")) {
        r.NoUnknownMembers(*attrs, {"unique_name"}, apath);
        auto name = r.String(*attrs, "unique_name", apath);
        if (!name) return std::nullopt;
        field.attrs = domain::FieldByName{*name};
    } else if (attrs->contains("coordinates") || attrs->contains("page") ||
               attrs->contains("size")) {
        r.NoUnknownMembers(*attrs, {"coordinates", "page", "size"}, apath);
        domain::FieldAtPosition pos;
        auto page = r.Integer(*attrs, "page", apath);
        const Json* coords = r.Object(*attrs, "coordinates", apath);
        const Json* size = r.Object(*attrs, "size", apath);
        std::optional<double> x, y, w, h;
        if (coords) {
            x = r.Number(*coords, "x", Join(apath, "coordinates"));
            y = r.Number(*coords, "y", Join(apath, "coordinates"));
        }
        if (size) {
            w = r.Number(*size, "w", Join(apath, "size"));
            h = r.Number(*size, "h", Join(apath, "size"));
        }
        if (!page || !x || !y || !w || !h) return std::nullopt;
        pos.page = *page;
        pos.x = *x;
        pos.y = *y;
        pos.w = *w;
        pos.h = *h;
        field.attrs = pos;
    } else {
        r.Add(apath, "must hold either unique_name or page, coordinates and size");
        return std::nullopt;
    }
    if (!ok) return std::nullopt;
    return field;
}

namespace {

// Parses every element with `parse`; nullopt if any failed (each failure left its violations).
template <typename T, typename Parse>
std::optional<std::vector<T>> ParseArray(const Json& j, const std::string& path, Reader& r,
                                         Parse parse) {
    if (!j.is_array()) {
        r.Add(path, "must be an array");
        return std::nullopt;
    }
    std::vector<T> out;
    bool ok = true;
    for (std::size_t i = 0; i < j.size(); ++i) {
        auto item = parse(j[i], path + "[" + std::to_string(i) + "]", r);
        if (item) {
            out.push_back(std::move(*item));
        } else {
            ok = false;
        }
    }
    if (!ok) return std::nullopt;
    return out;
}

}  // namespace

std::optional<std::vector<domain::SignatureField>> ParseSignatureFields(const Json& j,
                                                                        const std::string& path,
                                                                        Reader& r) {
    return ParseArray<domain::SignatureField>(j, path, r, ParseSignatureField);
}

std::optional<domain::DocumentMetadata> ParseDocumentMetadata(const Json& j,
                                                              const std::string& path, Reader& r) {
    if (!j.is_object()) {
        r.Add(path, "must be an object");
        return std::nullopt;
    }
    r.NoUnknownMembers(j, {"title", "signature_fields"}, path);
    auto title = r.String(j, "title", path);
    std::optional<std::vector<domain::SignatureField>> fields;
    if (const Json* arr = r.Array(j, "signature_fields", path)) {
        fields = ParseSignatureFields(*arr, Join(path, "signature_fields"), r);
    }
    if (!title || !fields) return std::nullopt;
    return domain::DocumentMetadata{*title, std::move(*fields)};
}

std::optional<std::vector<domain::DocumentMetadata>> ParseDocumentsMetadata(const Json& j,
                                                                            const std::string& path,
                                                                            Reader& r) {
    return ParseArray<domain::DocumentMetadata>(j, path, r, ParseDocumentMetadata);
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
