#include "api/document_api.hpp"

#include "api/json_response.hpp"
#include "api/problem.hpp"
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
    add("POST", "/api/v1/validate-document",
        [this](HttpRequest& req, const domain::Principal& p) { return Validate(req, p); });
    add("POST", "/api/v1/verify",
        [this](HttpRequest& req, const domain::Principal& p) { return Verify(req, p); });
}

HttpResponse DocumentApi::Validate(HttpRequest& req, const domain::Principal& p) {
    std::vector<http::Part> parts;
    auto pdf = PdfOf(req, parts);
    if (!pdf) return Problem(pdf.error());

    // The fields to check: a `signature_fields` JSON part, or a dossier's document
    // (`dossier_id` + `document_index` parts or query parameters), or none.
    std::vector<domain::SignatureField> fields;
    std::vector<Violation> violations;
    codec::Reader reader(violations);
    const http::Part* fields_part = FindPart(parts, "signature_fields");
    const http::Part* dossier_part = FindPart(parts, "dossier_id");
    const http::Part* index_part = FindPart(parts, "document_index");
    std::optional<std::string> dossier_id = req.Query("dossier_id");
    std::optional<std::string> index_text = req.Query("document_index");
    if (dossier_part) dossier_id = std::string(dossier_part->body);
    if (index_part) index_text = std::string(index_part->body);
    if (fields_part && dossier_id) {
        return Problem(
            FailValidation({{"signature_fields", "give signature_fields or dossier_id, not both"}})
                .value());
    }
    if (fields_part) {
        const Json j = Json::parse(fields_part->body, nullptr, false);
        if (j.is_discarded())
            return Problem(ErrorCode::kMalformed, "signature_fields is not valid JSON");
        auto parsed = codec::ParseSignatureFields(j, "signature_fields", reader);
        if (!parsed) return Problem(FailValidation(std::move(violations)).value());
        fields = std::move(*parsed);
    } else if (dossier_id) {
        auto dossier = dossiers_.Get(p.issuer_id, *dossier_id);
        if (!dossier) return Problem(dossier.error());
        std::size_t index = 0;
        if (index_text) {
            const bool digits = !index_text->empty() && index_text->size() <= 3 &&
                                index_text->find_first_not_of("0123456789") == std::string::npos;
            const long v = digits ? std::strtol(index_text->c_str(), nullptr, 10) : -1;
            if (v < 0 || static_cast<std::size_t>(v) >= dossier->documents.size()) {
                return Problem(
                    FailValidation({{"document_index",
                                     "must be an index into the dossier's documents_metadata"}})
                        .value());
            }
            index = static_cast<std::size_t>(v);
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
    auto report = verify_(*pdf);
    if (!report) {
        // Not a readable PDF: the client's input, not our failure.
        if (report.error().code == ErrorCode::kInternal) return Problem(report.error());
        return Problem(FailValidation({{"file", report.error().message}}).value());
    }
    return JsonResponse(200, *report);
}

}  // namespace firmo::api
