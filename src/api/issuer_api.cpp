#include "api/issuer_api.hpp"

#include "api/json_response.hpp"
#include "api/problem.hpp"
#include "api/views.hpp"
#include "core/encoding.hpp"

namespace firmo::api {

using codec::Json;
using codec::Reader;
using http::HttpRequest;
using http::HttpResponse;
using namespace firmo::domain;

std::string ActorOf(const Principal& p) { return "issuer:" + p.key_prefix; }

namespace {

HttpResponse ValidationProblem(std::vector<Violation> violations) {
    return Problem(FailValidation(std::move(violations)).value());
}

// Runs `fn` on a parsed JSON object body, or answers the parse/type problem.
template <typename Fn>
HttpResponse WithObjectBody(const HttpRequest& req, Fn&& fn) {
    auto body = ParseJsonBody(req);
    if (!body) return Problem(body.error());
    if (!body->is_object()) return ValidationProblem({{"body", "must be a JSON object"}});
    return fn(*body);
}

// limit + continuation token (both spellings: Firma con IO uses continuationToken).
Result<PageQuery> ReadPage(const HttpRequest& req) {
    PageQuery page;
    if (auto limit = req.Query("limit")) {
        char* end = nullptr;
        const long v = std::strtol(limit->c_str(), &end, 10);
        if (limit->empty() || *end != '\0' || v < 1 || v > 100) {
            return FailValidation({{"limit", "must be an integer from 1 to 100"}});
        }
        page.limit = static_cast<int>(v);
    }
    auto token = req.Query("continuation_token");
    if (!token) token = req.Query("continuationToken");
    if (token) {
        auto decoded = Base64UrlDecode(*token);
        if (!decoded || decoded->empty() || decoded->size() > 64) {
            return FailValidation({{"continuation_token", "is not a token this API returned"}});
        }
        page.after_id = *decoded;
    }
    return page;
}

template <typename T, typename View>
Json PageView(const Page<T>& page, View view) {
    Json items = Json::array();
    for (const auto& item : page.items) items.push_back(view(item));
    Json j = {{"items", std::move(items)}};
    j["continuation_token"] =
        page.next_after_id ? Json(Base64UrlEncode(*page.next_after_id)) : Json(nullptr);
    return j;
}

}  // namespace

void IssuerApi::Register(const std::function<void(std::string, std::string, AuthedHandler)>& add) {
    const auto bind = [this](Res (IssuerApi::*fn)(Req&, const P&)) {
        return [this, fn](Req& req, const P& p) { return (this->*fn)(req, p); };
    };
    add("POST", "/api/v1/dossiers", bind(&IssuerApi::CreateDossier));
    add("GET", "/api/v1/dossiers", bind(&IssuerApi::ListDossiers));
    add("GET", "/api/v1/dossiers/{id}", bind(&IssuerApi::GetDossier));
    add("GET", "/api/v1/dossiers/{id}/signature-requests", bind(&IssuerApi::ListDossierRequests));
    add("POST", "/api/v1/signers", bind(&IssuerApi::CreateSigner));
    add("GET", "/api/v1/signers/{id}", bind(&IssuerApi::GetSigner));
    add("POST", "/api/v1/signature-requests", bind(&IssuerApi::CreateRequest));
    add("GET", "/api/v1/signature-requests", bind(&IssuerApi::ListRequests));
    add("GET", "/api/v1/signature-requests/{id}", bind(&IssuerApi::GetRequest));
    add("GET", "/api/v1/signature-requests/{id}/events", bind(&IssuerApi::ListEvents));
    add("GET", "/api/v1/signature-requests/{id}/documents/{doc_id}/upload_url",
        bind(&IssuerApi::GetUploadUrl));
    add("PUT", "/api/v1/signature-requests/{id}/status", bind(&IssuerApi::PutStatus));
}

HttpResponse IssuerApi::CreateDossier(Req& req, const P& p) {
    return WithObjectBody(req, [&](const Json& body) {
        std::vector<Violation> violations;
        Reader r(violations);
        r.NoUnknownMembers(body, {"title", "support_email", "documents_metadata"}, "");
        NewDossier input;
        auto title = r.String(body, "title", "");
        input.support_email = r.OptString(body, "support_email", "");
        std::optional<std::vector<DocumentMetadata>> docs;
        if (const Json* arr = r.Array(body, "documents_metadata", "")) {
            docs = codec::ParseDocumentsMetadata(*arr, "documents_metadata", r);
        }
        if (!violations.empty()) return ValidationProblem(std::move(violations));
        input.title = *title;
        input.documents = std::move(*docs);
        auto dossier = s_.dossiers.Create(p.issuer_id, input);
        if (!dossier) return Problem(dossier.error());
        return JsonResponse(201, DossierView(*dossier));
    });
}

HttpResponse IssuerApi::GetDossier(Req& req, const P& p) {
    auto dossier = s_.dossiers.Get(p.issuer_id, std::string(req.Param("id")));
    if (!dossier) return Problem(dossier.error());
    return JsonResponse(200, DossierView(*dossier));
}

HttpResponse IssuerApi::ListDossiers(Req& req, const P& p) {
    auto page = ReadPage(req);
    if (!page) return Problem(page.error());
    auto result = s_.dossiers.List(p.issuer_id, *page);
    if (!result) return Problem(result.error());
    return JsonResponse(200, PageView(*result, DossierView));
}

HttpResponse IssuerApi::ListRequestsFiltered(Req& req, const P& p, RequestFilter filter) {
    auto page = ReadPage(req);
    if (!page) return Problem(page.error());
    if (auto status = req.Query("status")) {
        filter.status = ParseRequestStatus(*status);
        if (!filter.status) {
            return ValidationProblem({{"status", "is not a signature request status"}});
        }
    }
    auto result = s_.requests.List(p.issuer_id, filter, *page);
    if (!result) return Problem(result.error());
    return JsonResponse(200, PageView(*result, RequestView));
}

HttpResponse IssuerApi::ListDossierRequests(Req& req, const P& p) {
    return ListRequestsFiltered(req, p, RequestFilter{std::string(req.Param("id")), std::nullopt});
}

HttpResponse IssuerApi::ListRequests(Req& req, const P& p) {
    return ListRequestsFiltered(req, p, RequestFilter{});
}

HttpResponse IssuerApi::CreateSigner(Req& req, const P& p) {
    return WithObjectBody(req, [&](const Json& body) {
        std::vector<Violation> violations;
        Reader r(violations);
        r.NoUnknownMembers(
            body, {"fiscal_code", "national_identity_number", "country", "email", "phone"}, "");
        NewSigner input;
        auto fiscal = r.OptString(body, "fiscal_code", "");
        auto nin = r.OptString(body, "national_identity_number", "");
        auto country = r.OptString(body, "country", "");
        input.email = r.OptString(body, "email", "");
        input.phone = r.OptString(body, "phone", "");
        if (fiscal && nin) {
            r.Add("fiscal_code", "give either fiscal_code or national_identity_number, not both");
        } else if (fiscal) {
            if (country && *country != "IT")
                r.Add("country", "a fiscal code is Italian: use IT or omit");
            input.kind = IdentifierKind::kItFiscalCode;
            input.identifier = *fiscal;
        } else if (nin) {
            if (!country || *country != "NO") {
                r.Add("country", "must be \"NO\" with a national_identity_number");
            }
            input.kind = IdentifierKind::kNoNationalId;
            input.identifier = *nin;
        } else if (violations.empty()) {
            r.Add("fiscal_code", "is required (or national_identity_number with country \"NO\")");
        }
        if (!violations.empty()) return ValidationProblem(std::move(violations));
        auto resolved = s_.signers.Resolve(p.issuer_id, input);
        if (!resolved) return Problem(resolved.error());
        return JsonResponse(resolved->created ? 201 : 200, Json{{"id", resolved->signer.id}});
    });
}

HttpResponse IssuerApi::GetSigner(Req& req, const P& p) {
    auto signer = s_.signers.Get(p.issuer_id, std::string(req.Param("id")));
    if (!signer) return Problem(signer.error());
    return JsonResponse(200, SignerView(*signer));
}

HttpResponse IssuerApi::CreateRequest(Req& req, const P& p) {
    return WithObjectBody(req, [&](const Json& body) {
        std::vector<Violation> violations;
        Reader r(violations);
        r.NoUnknownMembers(
            body,
            {"dossier_id", "signer_id", "signers", "expires_at", "reference", "documents_metadata"},
            "");
        NewSignatureRequest input;
        auto dossier_id = r.String(body, "dossier_id", "");
        auto signer_id = r.OptString(body, "signer_id", "");
        const bool has_list = body.contains("signers") && !body["signers"].is_null();
        if (signer_id && has_list) {
            r.Add("signers", "give either signer_id or signers, not both");
        } else if (signer_id) {
            input.signers.push_back({*signer_id, 0});
        } else if (has_list) {
            const Json& list = body["signers"];
            if (!list.is_array()) {
                r.Add("signers", "must be an array");
            } else {
                for (std::size_t i = 0; i < list.size(); ++i) {
                    const std::string path = "signers[" + std::to_string(i) + "]";
                    if (!list[i].is_object()) {
                        r.Add(path, "must be an object");
                        continue;
                    }
                    r.NoUnknownMembers(list[i], {"signer_id", "order"}, path);
                    auto id = r.String(list[i], "signer_id", path);
                    auto order = r.OptInteger(list[i], "order", path);
                    if (id) input.signers.push_back({*id, order.value_or(0)});
                }
            }
        } else {
            r.Add("signer_id", "is required (or signers)");
        }
        if (auto expires = r.OptString(body, "expires_at", "")) {
            input.expires_at = ParseRfc3339(*expires);
            if (!input.expires_at) r.Add("expires_at", "must be an RFC 3339 date-time");
        }
        input.reference = r.OptString(body, "reference", "");
        if (body.contains("documents_metadata") && !body["documents_metadata"].is_null()) {
            input.documents =
                codec::ParseDocumentsMetadata(body["documents_metadata"], "documents_metadata", r);
        }
        if (!violations.empty()) return ValidationProblem(std::move(violations));
        input.dossier_id = *dossier_id;
        auto request = s_.requests.Create(p.issuer_id, input, ActorOf(p));
        if (!request) return Problem(request.error());
        auto response = JsonResponse(201, RequestView(*request));
        response.Set("Location", "/api/v1/signature-requests/" + request->id);
        return response;
    });
}

HttpResponse IssuerApi::GetRequest(Req& req, const P& p) {
    auto request = s_.requests.Get(p.issuer_id, std::string(req.Param("id")));
    if (!request) return Problem(request.error());
    return JsonResponse(200, RequestView(*request));
}

HttpResponse IssuerApi::ListEvents(Req& req, const P& p) {
    auto events = s_.requests.Events(p.issuer_id, std::string(req.Param("id")));
    if (!events) return Problem(events.error());
    Json items = Json::array();
    for (const auto& e : *events) items.push_back(EventView(e));
    return JsonResponse(200, Json{{"items", std::move(items)}});
}

HttpResponse IssuerApi::GetUploadUrl(Req& req, const P& p) {
    const std::string request_id(req.Param("id"));
    const std::string document_id(req.Param("doc_id"));
    if (auto ok = s_.requests.CheckUploadable(p.issuer_id, request_id, document_id); !ok) {
        return Problem(ok.error());
    }
    const Timestamp expires = clock_.Now() + options_.upload_url_ttl;
    const std::string token =
        urls_.Sign(Grant{"upload", p.issuer_id, request_id, document_id, expires});
    // As in Firma con IO, the body is the URL itself as a JSON string.
    auto response = JsonResponse(200, Json(options_.public_url + "/api/v1/uploads/" + token));
    response.Set("Expires-At", FormatRfc3339(expires));
    return response;
}

HttpResponse IssuerApi::Upload(Req& req) {
    auto grant = urls_.Verify(std::string(req.Param("token")), "upload", clock_.Now());
    if (!grant) return Problem(grant.error());
    if (req.MediaType() != "application/pdf") {
        return Problem(ErrorCode::kUnsupportedMediaType,
                       "upload the raw PDF with Content-Type: application/pdf");
    }
    auto doc = s_.requests.UploadDocument(grant->issuer_id, grant->request_id, grant->document_id,
                                          domain::Upload{req.body, "upload-url"});
    if (!doc) return Problem(doc.error());
    return JsonResponse(202, DocumentView(*doc));
}

HttpResponse IssuerApi::PutStatus(Req& req, const P& p) {
    auto body = ParseJsonBody(req);
    if (!body) return Problem(body.error());
    std::optional<std::string> wanted;
    if (body->is_string()) {
        wanted = body->get<std::string>();
    } else if (body->is_object() && body->size() == 1 && body->contains("status") &&
               (*body)["status"].is_string()) {
        wanted = (*body)["status"].get<std::string>();
    }
    RequestedStatus status;
    if (wanted == "READY") {
        status = RequestedStatus::kReady;
    } else if (wanted == "CANCELLED") {
        status = RequestedStatus::kCancelled;
    } else {
        return ValidationProblem(
            {{"status", "must be the JSON string \"READY\" or \"CANCELLED\""}});
    }
    auto result =
        s_.requests.ChangeStatus(p.issuer_id, std::string(req.Param("id")), status, ActorOf(p));
    if (!result) return Problem(result.error());
    HttpResponse response;
    response.status = 204;
    return response;
}

}  // namespace firmo::api
