#include "api/iosign_api.hpp"

#include <ctime>
#include <initializer_list>

#include "api/contract.hpp"
#include "api/json_response.hpp"
#include "api/problem.hpp"
#include "core/encoding.hpp"
#include "crypto/digest.hpp"
#include "domain/signature_field.hpp"
#include "http/multipart.hpp"

namespace firmo::api {

using codec::Json;
using http::HttpRequest;
using http::HttpResponse;
using namespace firmo::domain;

std::string_view IoSignStatus(RequestStatus status) {
    if (status == RequestStatus::kWaitForQtsp) return ToString(RequestStatus::kWaitForSignature);
    return ToString(status);
}

void DropUnknownMembers(Json& value, const Json& schema) {
    if (!schema.is_object()) return;
    if (const auto one_of = schema.find("oneOf"); one_of != schema.end() && one_of->is_array()) {
        // The members of every alternative (codec::OneOf picks one by the members present).
        Json merged = {{"properties", Json::object()}};
        for (const auto& alternative : *one_of) {
            const auto properties = alternative.find("properties");
            if (properties == alternative.end() || !properties->is_object()) continue;
            for (const auto& [name, member] : properties->items()) {
                if (!merged["properties"].contains(name)) merged["properties"][name] = member;
            }
        }
        DropUnknownMembers(value, merged);
        return;
    }
    if (value.is_array()) {
        const auto items = schema.find("items");
        if (items == schema.end()) return;
        for (auto& item : value) DropUnknownMembers(item, *items);
        return;
    }
    const auto properties = schema.find("properties");
    if (!value.is_object() || properties == schema.end() || !properties->is_object()) return;
    for (auto it = value.begin(); it != value.end();) {
        const auto member = properties->find(it.key());
        if (member == properties->end()) {
            it = value.erase(it);
        } else {
            DropUnknownMembers(it.value(), *member);
            ++it;
        }
    }
}

namespace {

// io-sign answers a state conflict (its ActionNotAllowedError) with 400; notifying a request
// that is not WAIT_FOR_SIGNATURE fails its body validation, 422. The problem's `status` says
// the same as the answer.
HttpResponse IoProblem(const Error& error, int conflict_status = 400) {
    HttpResponse response = Problem(error);
    if (error.code != ErrorCode::kConflict) return response;
    response.status = conflict_status;
    Json body = Json::parse(response.body, nullptr, false);
    if (!body.is_discarded()) {
        body["status"] = conflict_status;
        response.body = body.dump(-1, ' ', false, Json::error_handler_t::replace);
    }
    return response;
}

// The JSON body as io-sign reads it: whatever the Content-Type, only the members io-sign's
// contract names at the top (`keep`; Firmo's extensions are not part of this root), unknown
// members dropped at every depth, and documents without `signature_fields` signed as a whole.
template <typename T>
Result<T> ParseIoBody(const HttpRequest& req, const codec::Spec<T>& spec,
                      std::initializer_list<const char*> keep) {
    FIRMO_TRY(Json j, ParseJsonText(req.body));
    if (j.is_object()) {
        for (auto it = j.begin(); it != j.end();) {
            bool kept = false;
            for (const char* name : keep) kept = kept || it.key() == name;
            it = kept ? std::next(it) : j.erase(it);
        }
        if (auto docs = j.find("documents_metadata"); docs != j.end() && docs->is_array()) {
            for (auto& doc : *docs) {
                if (doc.is_object() &&
                    (!doc.contains("signature_fields") || doc["signature_fields"].is_null())) {
                    doc["signature_fields"] = Json::array();
                }
            }
        }
    }
    DropUnknownMembers(j, spec.schema());
    return codec::ParseWith(spec, j);
}

Json IoDossierView(const Dossier& d) {
    Json docs = Json::array();
    for (const auto& doc : d.documents) docs.push_back(codec::ToJson(doc));
    Json j = {{"id", d.id},
              {"title", d.title},
              {"documents_metadata", std::move(docs)},
              {"created_at", FormatRfc3339(d.created_at)},
              // Dossiers never change after creation.
              {"updated_at", FormatRfc3339(d.created_at)}};
    if (!d.support_email.empty()) j["support_email"] = d.support_email;
    return j;
}

void PutTime(Json& j, const char* key, const std::optional<Timestamp>& t) {
    if (t) j[key] = FormatRfc3339(*t);
}

// RFC 9110 IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), as Azure's Last-Modified.
std::string HttpDate(Timestamp t) {
    const std::time_t seconds = std::chrono::system_clock::to_time_t(
        std::chrono::time_point_cast<std::chrono::system_clock::duration>(t));
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    char out[40];
    const std::size_t n = std::strftime(out, sizeof out, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return std::string(out, n);
}

// Standard base64 with padding (Content-MD5), from the URL-safe unpadded encoding.
std::string Base64(std::string_view bytes) {
    std::string s = Base64UrlEncode(bytes);
    for (char& c : s) {
        if (c == '-') c = '+';
        if (c == '_') c = '/';
    }
    while (s.size() % 4 != 0) s += '=';
    return s;
}

}  // namespace

void IoSignApi::Register(const AddAuthed& add) {
    const auto route = [this, &add](std::string method, std::string_view path,
                                    Res (IoSignApi::*fn)(Req&, const P&),
                                    http::Lane lane = http::Lane::kDatabase) {
        add(std::move(method), std::string(kRoot) + std::string(path),
            IssuerApi::AuthedHandler(
                [this, fn](Req& req, const P& p) { return (this->*fn)(req, p); }),
            lane);
    };
    route("POST", "/dossiers", &IoSignApi::CreateDossier);
    route("GET", "/dossiers/{id}", &IoSignApi::GetDossier);
    route("GET", "/dossiers/{id}/signature-requests", &IoSignApi::ListDossierRequests);
    route("POST", "/signers", &IoSignApi::CreateSigner);
    route("POST", "/signature-requests", &IoSignApi::CreateRequest);
    route("GET", "/signature-requests/{id}", &IoSignApi::GetRequest);
    route("PUT", "/signature-requests/{id}/status", &IoSignApi::PutStatus);
    route("GET", "/signature-requests/{id}/documents/{doc_id}/upload_url",
          &IoSignApi::GetUploadUrl);
    route("PUT", "/signature-requests/{id}/notification", &IoSignApi::PutNotification);
    route("POST", "/validate-document", &IoSignApi::ValidateDocument, http::Lane::kHeavy);
}

HttpResponse IoSignApi::Info(Req&) const {
    return JsonResponse(200, Json{{"message", "It's working!"}, {"version", options_.version}});
}

HttpResponse IoSignApi::CreateDossier(Req& req, const P& p) {
    auto input =
        ParseIoBody(req, DossierBodySpec(), {"title", "support_email", "documents_metadata"});
    if (!input) return IoProblem(input.error());
    auto dossier = s_.dossiers.Create(p.issuer_id, *input);
    if (!dossier) return IoProblem(dossier.error());
    return JsonResponse(201, IoDossierView(*dossier));
}

HttpResponse IoSignApi::GetDossier(Req& req, const P& p) {
    auto dossier = s_.dossiers.Get(p.issuer_id, std::string(req.Param("id")));
    if (!dossier) return IoProblem(dossier.error());
    return JsonResponse(200, IoDossierView(*dossier));
}

HttpResponse IoSignApi::ListDossierRequests(Req& req, const P& p) {
    // io-sign ignores query parameters it does not know; the known ones are checked.
    static const QuerySpec kPage = {
        {.name = "limit", .type = QueryParam::Type::kInteger, .minimum = 1, .maximum = 100},
        {.name = "continuationToken", .max_length = 512},
        {.name = "continuation_token", .max_length = 512},
    };
    std::multimap<std::string, std::string> known;
    for (const auto& [name, value] : req.query) {
        for (const auto& param : kPage) {
            if (param.name == name) known.emplace(name, value);
        }
    }
    auto query = ParseQueryParams(kPage, known);
    if (!query) return IoProblem(query.error());
    auto page = ReadPage(*query);
    if (!page) return IoProblem(page.error());
    auto result = s_.requests.List(
        p.Scope(), RequestFilter{.dossier_id = std::string(req.Param("id"))}, *page);
    if (!result) return IoProblem(result.error());
    Json items = Json::array();
    for (const auto& r : result->items) {
        items.push_back({{"id", r.id},
                         {"signer_id", r.signers.empty() ? std::string() : r.signers[0].signer_id},
                         {"dossier_id", r.dossier_id},
                         {"status", std::string(IoSignStatus(r.status))},
                         {"created_at", FormatRfc3339(r.created_at)},
                         {"updated_at", FormatRfc3339(r.updated_at)},
                         {"expires_at", FormatRfc3339(r.expires_at)}});
    }
    Json j = {{"items", std::move(items)}};
    // Absent on the last page (io-sign's SignatureRequestList), never null.
    if (result->next_after_id) j["continuation_token"] = Base64UrlEncode(*result->next_after_id);
    return JsonResponse(200, j);
}

HttpResponse IoSignApi::CreateSigner(Req& req, const P& p) {
    auto body = ParseIoBody(req, SignerBodySpec(), {"fiscal_code"});
    if (!body) return IoProblem(body.error());
    auto resolved = s_.signers.Resolve(p.issuer_id, body->ToInput());
    if (!resolved) return IoProblem(resolved.error());
    // io-sign answers 201 whether or not it knew the fiscal code.
    return JsonResponse(201, Json{{"id", resolved->signer.id}});
}

HttpResponse IoSignApi::CreateRequest(Req& req, const P& p) {
    auto body = ParseIoBody(req, SignatureRequestBodySpec(),
                            {"dossier_id", "signer_id", "expires_at", "documents_metadata"});
    if (!body) return IoProblem(body.error());
    NewSignatureRequest input = body->ToInput();
    input.uncapped_expiry = true;
    auto request = s_.requests.Create(p.Scope(), input, ActorOf(p));
    if (!request) return IoProblem(request.error());
    return JsonResponse(201, RequestView(*request));
}

HttpResponse IoSignApi::GetRequest(Req& req, const P& p) {
    auto request = s_.requests.Get(p.Scope(), std::string(req.Param("id")));
    if (!request) return IoProblem(request.error());
    return JsonResponse(200, RequestView(*request));
}

HttpResponse IoSignApi::PutStatus(Req& req, const P& p) {
    auto status = ParseIoBody(req, StatusBodySpec(), {"status"});
    if (!status) return IoProblem(status.error());
    // io-sign's READY goes on to WAIT_FOR_SIGNATURE by itself (RequestedStatus).
    const RequestedStatus wanted =
        *status == RequestedStatus::kReady ? RequestedStatus::kReadyForSignature : *status;
    auto result =
        s_.requests.ChangeStatus(p.Scope(), std::string(req.Param("id")), wanted, ActorOf(p));
    if (!result) return IoProblem(result.error());
    HttpResponse response;
    response.status = 204;
    return response;
}

HttpResponse IoSignApi::GetUploadUrl(Req& req, const P& p) {
    const std::string request_id(req.Param("id"));
    const std::string document_id(req.Param("doc_id"));
    if (auto ok = s_.requests.CheckUploadable(p.Scope(), request_id, document_id); !ok) {
        return IoProblem(ok.error());
    }
    // Always Firmo's own URL, even over an object store with pre-signed URLs: io-sign's
    // clients PUT as to Azure, which only this route answers.
    const Timestamp expires = clock_.Now() + options_.upload_url_ttl;
    const std::string url =
        options_.public_url + std::string(kRoot) + "/uploads/" +
        urls_.Sign(Grant{"upload", p.issuer_id, request_id, document_id, expires});
    auto response = JsonResponse(200, Json(url));
    response.Set("Expires-At", FormatRfc3339(expires));
    return response;
}

HttpResponse IoSignApi::PutNotification(Req& req, const P& p) {
    auto id = s_.requests.Notify(p.Scope(), std::string(req.Param("id")), ActorOf(p));
    if (!id) return IoProblem(id.error(), 422);
    return JsonResponse(201, Json{{"io_message_id", *id}});
}

HttpResponse IoSignApi::ValidateDocument(Req& req, const P&) {
    if (req.MediaType() != "multipart/form-data") {
        return Problem(ErrorCode::kUnsupportedMediaType,
                       "send multipart/form-data with a `document` part (the PDF) and, "
                       "optionally, a `signature_fields` part (JSON)");
    }
    auto parts = http::ParseMultipart(*req.Header("Content-Type"), req.body);
    if (!parts) return Problem(parts.error());
    const http::Part* document = nullptr;
    const http::Part* fields_part = nullptr;
    for (const auto& part : *parts) {
        if (part.name == "document" || part.name == "file") document = &part;
        if (part.name == "signature_fields") fields_part = &part;
    }
    if (!document) {
        return Problem(FailValidation({{"document", "is required: the PDF to check"}}).value());
    }
    std::vector<SignatureField> fields;
    if (fields_part) {
        auto j = ParseJsonText(fields_part->body);
        if (!j) return Problem(j.error());
        DropUnknownMembers(*j, codec::SignatureFieldsSpec().schema());
        auto parsed = codec::ParseWith(codec::SignatureFieldsSpec(), *j);
        if (!parsed) return Problem(parsed.error());
        auto violations = CheckSignatureFields(*parsed, "signature_fields");
        if (!violations.empty()) return Problem(FailValidation(std::move(violations)).value());
        fields = std::move(*parsed);
    }
    const auto report = validator_.ValidateBytes(document->body, fields);
    // io-sign's violations are sentences, not objects.
    Json violations = Json::array();
    for (const auto& v : report.violations) violations.push_back(v.field + ": " + v.reason);
    return JsonResponse(200, Json{{"is_valid", report.is_valid}, {"violations", violations}});
}

Result<Grant> IoSignApi::CheckUpload(const Req& req) const {
    FIRMO_TRY(Grant grant, urls_.Verify(std::string(req.Param("token")), "upload", clock_.Now()));
    // Azure's Put Blob needs the blob type; any Content-Type is stored as it comes.
    const auto type = req.Header("x-ms-blob-type");
    if (!type) {
        return Fail(ErrorCode::kMalformed,
                    "x-ms-blob-type is required: upload as an Azure Put Blob with "
                    "x-ms-blob-type: BlockBlob");
    }
    if (*type != "BlockBlob") {
        return Fail(ErrorCode::kMalformed, "only x-ms-blob-type: BlockBlob is supported");
    }
    return grant;
}

HttpResponse IoSignApi::Upload(Req& req) {
    auto grant = CheckUpload(req);
    if (!grant) return IoProblem(grant.error());
    const auto md5 = req.Header("Content-MD5");
    if (md5 && Base64(crypto::Md5(req.body)) != *md5) {
        return Problem(ErrorCode::kMalformed, "Content-MD5 does not match the body (Md5Mismatch)");
    }
    auto doc = s_.requests.UploadDocument(grant->issuer_id, grant->request_id, grant->document_id,
                                          domain::Upload{req.body, "upload-url"});
    if (!doc) return IoProblem(doc.error());
    // What Azure answers a Put Blob, and the Azure Storage SDK reads.
    HttpResponse response;
    response.status = 201;
    response.Set("ETag", "\"0x" + doc->sha256_hex.substr(0, 16) + "\"");
    response.Set("Last-Modified", HttpDate(doc->uploaded_at.value_or(clock_.Now())));
    response.Set("x-ms-request-id", req.request_id.empty() ? doc->id : req.request_id);
    response.Set("x-ms-version", std::string(req.Header("x-ms-version").value_or("2021-12-02")));
    if (const auto client_id = req.Header("x-ms-client-request-id")) {
        response.Set("x-ms-client-request-id", std::string(*client_id));
    }
    if (md5) response.Set("Content-MD5", std::string(*md5));
    // Firmo's blob stores keep documents as they are (disk or object-store encryption is the
    // operator's): not encrypted by the server itself.
    response.Set("x-ms-request-server-encrypted", "false");
    return response;
}

HttpResponse IoSignApi::Document(Req& req) {
    auto grant = urls_.Verify(std::string(req.Param("token")), "document", clock_.Now());
    if (!grant) return Problem(grant.error());
    auto bytes =
        s_.requests.DocumentContent(grant->issuer_id, grant->request_id, grant->document_id);
    if (!bytes) return IoProblem(bytes.error());
    auto response = HttpResponse::Text(200, std::move(*bytes), "application/pdf");
    response.Set("Content-Disposition", "attachment; filename=\"" + grant->document_id + ".pdf\"");
    return response;
}

Json IoSignApi::DocumentView(const SignatureRequest& r, const domain::Document& d) const {
    Json j = {{"id", d.id},
              {"metadata", codec::ToJson(d.metadata)},
              {"status", std::string(ToString(d.status))},
              {"created_at", FormatRfc3339(d.created_at)},
              {"updated_at", FormatRfc3339(d.updated_at)}};
    if (d.status != DocumentStatus::kWaitForUpload) {
        j["uploaded_at"] = FormatRfc3339(d.uploaded_at.value_or(d.updated_at));
    }
    if (d.status == DocumentStatus::kReady) {
        const Timestamp expires = clock_.Now() + options_.download_url_ttl;
        j["url"] = options_.public_url + std::string(kRoot) + "/documents/" +
                   urls_.Sign(Grant{"document", r.issuer_id, r.id, d.id, expires});
    }
    if (d.status == DocumentStatus::kRejected) {
        // The rejection is the document's last change.
        j["rejected_at"] = FormatRfc3339(d.updated_at);
        j["reject_reason"] = d.reject_reason;
    }
    return j;
}

Json IoSignApi::RequestView(const SignatureRequest& r) const {
    Json documents = Json::array();
    for (const auto& d : r.documents) documents.push_back(DocumentView(r, d));
    Json j = {{"id", r.id},
              {"status", std::string(IoSignStatus(r.status))},
              {"dossier_id", r.dossier_id},
              {"signer_id", r.signers.empty() ? std::string() : r.signers.front().signer_id},
              {"expires_at", FormatRfc3339(r.expires_at)},
              {"documents", std::move(documents)},
              {"created_at", FormatRfc3339(r.created_at)},
              {"updated_at", FormatRfc3339(r.updated_at)}};
    if (r.notification_id) j["notification"] = {{"io_message_id", *r.notification_id}};
    PutTime(j, "signed_at", r.signed_at);
    PutTime(j, "rejected_at", r.rejected_at);
    if (r.reject_reason) j["reject_reason"] = *r.reject_reason;
    PutTime(j, "cancelled_at", r.cancelled_at);
    if (r.status != RequestStatus::kDraft)
        j["qr_code_url"] = QrCodeUrl(urls_, options_.public_url, r);
    return j;
}

}  // namespace firmo::api
