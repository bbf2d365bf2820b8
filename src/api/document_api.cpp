#include "api/document_api.hpp"

#include "api/contract.hpp"
#include "api/json_response.hpp"
#include "api/problem.hpp"
#include "domain/signature_field.hpp"
#include "http/multipart.hpp"

namespace firmo::api {

using codec::Json;
using http::HttpRequest;
using http::HttpResponse;

namespace {

// The PDF of a request: a raw application/pdf body, or the `file` (or `document`) part of a
// multipart body. `parts` receives the multipart parts, if any.
Result<std::string_view> PdfOf(const HttpRequest& req, std::vector<http::Part>& parts) {
    const std::string type = req.MediaType();
    if (type == "application/pdf") return std::string_view(req.body);
    if (type != "multipart/form-data") {
        return Fail(
            ErrorCode::kUnsupportedMediaType,
            "send multipart/form-data with a `file` part, or the raw PDF as application/pdf");
    }
    FIRMO_TRY(parts, http::ParseMultipart(*req.Header("Content-Type"), req.body));
    for (const auto& part : parts) {
        if (part.name == "file" || part.name == "document") return part.body;
    }
    return FailValidation({{"file", "the multipart body needs a `file` part with the PDF"}});
}

const http::Part* FindPart(const std::vector<http::Part>& parts, std::string_view name) {
    for (const auto& p : parts) {
        if (p.name == name) return &p;
    }
    return nullptr;
}

}  // namespace

void DocumentApi::Register(
    const std::function<void(std::string, std::string, IssuerApi::AuthedHandler)>& add) {
    Route(add, "POST", "/api/v1/validate-document",
          IssuerApi::AuthedHandler(
              [this](HttpRequest& req, const domain::Principal& p) { return Validate(req, p); }));
    Route(add, "POST", "/api/v1/verify",
          IssuerApi::AuthedHandler(
              [this](HttpRequest& req, const domain::Principal& p) { return Verify(req, p); }));
}

HttpResponse DocumentApi::Validate(HttpRequest& req, const domain::Principal& p) {
    std::vector<http::Part> parts;
    auto pdf = PdfOf(req, parts);
    if (!pdf) return Problem(pdf.error());

    // The fields to check: a `signature_fields` JSON part, or a dossier's document
    // (`dossier_id` + `document_index` parts or query parameters; a part wins), or none. The
    // parts are read as the query parameters they stand for.
    const Endpoint& endpoint = *FindEndpoint("POST", "/api/v1/validate-document");
    std::multimap<std::string, std::string> params = req.query;
    for (const char* name : {"dossier_id", "document_index"}) {
        if (const http::Part* part = FindPart(parts, name)) {
            params.erase(name);
            params.emplace(name, std::string(part->body));
        }
    }
    auto query = ParseQueryParams(endpoint.query, params);
    if (!query) return Problem(query.error());
    const std::optional<std::string> dossier_id = query->Text("dossier_id");
    const http::Part* fields_part = FindPart(parts, "signature_fields");
    if (fields_part && dossier_id) {
        return Problem(
            FailValidation({{"signature_fields", "give signature_fields or dossier_id, not both"}})
                .value());
    }
    std::vector<domain::SignatureField> fields;
    if (fields_part) {
        const Json j = Json::parse(fields_part->body, nullptr, false);
        if (j.is_discarded())
            return Problem(ErrorCode::kMalformed, "signature_fields is not valid JSON");
        std::vector<Violation> violations;
        codec::Reader reader(violations);
        auto parsed = codec::SignatureFieldsSpec().Parse(j, "signature_fields", reader);
        if (!parsed) return Problem(FailValidation(std::move(violations)).value());
        // The rules a dossier's fields follow (API.md: "same rules as dossiers").
        violations = domain::CheckSignatureFields(*parsed, "signature_fields");
        if (!violations.empty()) return Problem(FailValidation(std::move(violations)).value());
        fields = std::move(*parsed);
    } else if (dossier_id) {
        auto dossier = dossiers_.Get(p.issuer_id, *dossier_id);
        if (!dossier) return Problem(dossier.error());
        const auto index = static_cast<std::size_t>(query->Integer("document_index").value_or(0));
        if (index >= dossier->documents.size()) {
            return Problem(
                FailValidation(
                    {{"document_index", "must be an index into the dossier's documents_metadata"}})
                    .value());
        }
        fields = dossier->documents[index].signature_fields;
    }
    const auto report = validator_.ValidateBytes(*pdf, fields);
    return JsonResponse(200, Json{{"is_valid", report.is_valid},
                                  {"page_count", report.page_count},
                                  {"violations", codec::ToJson(report.violations)}});
}

HttpResponse DocumentApi::Verify(HttpRequest& req, const domain::Principal&) {
    std::vector<http::Part> parts;
    auto pdf = PdfOf(req, parts);
    if (!pdf) return Problem(pdf.error());
    // The validation time: an `at` part or query parameter (a part wins), RFC 3339.
    std::optional<std::string> at_text;
    if (const http::Part* part = FindPart(parts, "at")) {
        at_text = std::string(part->body);
    } else if (auto it = req.query.find("at"); it != req.query.end()) {
        at_text = it->second;
    }
    std::optional<Timestamp> at;
    if (at_text) {
        at = ParseRfc3339(*at_text);
        if (!at) {
            return Problem(
                FailValidation({{"at", "must be an RFC 3339 time, e.g. 2031-01-01T00:00:00Z"}})
                    .value());
        }
    }
    auto report = verify_(*pdf, at);
    if (!report) {
        // Not a readable PDF: the client's input, not our failure.
        if (report.error().code == ErrorCode::kInternal) return Problem(report.error());
        return Problem(FailValidation({{"file", report.error().message}}).value());
    }
    return JsonResponse(200, *report);
}

}  // namespace firmo::api
