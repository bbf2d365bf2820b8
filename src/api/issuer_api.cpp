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
    add("PUT", "/api/v1/signature-requests/{id}/notification", bind(&IssuerApi::PutNotification));
    add("POST", "/api/v1/signature-requests/{id}/signers/{signer_id}/redirect-url",
        bind(&IssuerApi::NewRedirectUrl));
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
    return JsonResponse(200,
                        PageView(*result, [this](const SignatureRequest& r) { return View(r); }));
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
            body, {"fiscal_code", "national_identity_number", "country", "email", "phone", "name"},
            "");
        NewSigner input;
        auto fiscal = r.OptString(body, "fiscal_code", "");
        auto nin = r.OptString(body, "national_identity_number", "");
        auto country = r.OptString(body, "country", "");
        input.email = r.OptString(body, "email", "");
        input.phone = r.OptString(body, "phone", "");
        input.full_name = r.OptString(body, "name", "");
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
        } else if (input.email) {
            // Reached by a link and a one-time code: the address is the identifier.
            input.kind = IdentifierKind::kEmail;
        } else if (input.phone) {
            input.kind = IdentifierKind::kPhone;
        } else if (violations.empty()) {
            r.Add("fiscal_code",
                  "is required (or national_identity_number with country \"NO\", or only an "
                  "email or phone for a signer reached by link and one-time code)");
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
        r.NoUnknownMembers(body,
                           {"dossier_id", "signer_id", "signers", "expires_at", "reference",
                            "documents_metadata", "redirect"},
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
        if (body.contains("auto_notify") && !body["auto_notify"].is_null()) {
            if (!body["auto_notify"].is_boolean()) {
                r.Add("auto_notify", "must be true or false");
            } else {
                input.auto_notify = body["auto_notify"].get<bool>();
            }
        }
        if (body.contains("documents_metadata") && !body["documents_metadata"].is_null()) {
            input.documents =
                codec::ParseDocumentsMetadata(body["documents_metadata"], "documents_metadata", r);
        }
        if (body.contains("redirect") && !body["redirect"].is_null()) {
            if (const Json* redirect = r.Object(body, "redirect", "")) {
                r.NoUnknownMembers(*redirect, {"completion_url", "rejection_url", "error_url"},
                                   "redirect");
                auto completion = r.String(*redirect, "completion_url", "redirect");
                auto rejection = r.String(*redirect, "rejection_url", "redirect");
                auto error = r.String(*redirect, "error_url", "redirect");
                if (completion && rejection && error) {
                    input.redirect = RedirectUrls{*completion, *rejection, *error};
                }
            }
        }
        if (!violations.empty()) return ValidationProblem(std::move(violations));
        input.dossier_id = *dossier_id;
        auto request = s_.requests.Create(p.issuer_id, input, ActorOf(p));
        if (!request) return Problem(request.error());
        Json view = View(*request);
        if (request->redirect) {
            // The one-time redirect URLs are shown here once (they are stored hashed).
            auto tokens = s_.requests.IssueRedirectTokens(p.issuer_id, request->id, std::nullopt,
                                                          options_.redirect_url_ttl);
            if (!tokens) return Problem(tokens.error());
            for (auto& js : view["signers"]) {
                for (const auto& [sid, token] : *tokens) {
                    if (js["signer_id"] == sid) {
                        js["redirect_url"] = options_.public_url + "/d/" + token;
                    }
                }
            }
        }
        auto response = JsonResponse(201, view);
        response.Set("Location", "/api/v1/signature-requests/" + request->id);
        return response;
    });
}

HttpResponse IssuerApi::GetRequest(Req& req, const P& p) {
    const std::string id(req.Param("id"));
    // Direct flow: the token the signer's browser brought back to the issuer's exit URL.
    auto request =
        req.Query("status_query_token")
            ? s_.requests.GetWithStatusQueryToken(p.issuer_id, id, *req.Query("status_query_token"))
            : s_.requests.Get(p.issuer_id, id);
    if (!request) return Problem(request.error());
    return JsonResponse(200, View(*request));
}

Json IssuerApi::View(const SignatureRequest& r) const {
    Json j = RequestView(r);
    const std::string base = options_.public_url;
    j["signing_url"] = base + "/s/" + r.id;
    const std::string qr = urls_.Sign(Grant{"qr", r.issuer_id, r.id, "", r.expires_at});
    j["qr_code_url"] = base + "/api/v1/qr/" + qr + ".svg";
    j["qr_code_png_url"] = base + "/api/v1/qr/" + qr + ".png";
    if (!IsTerminal(r.status)) {
        for (auto& js : j["signers"]) {
            js["portal_url"] =
                base + SignerLinkPath(urls_, r.issuer_id, r.id, js["signer_id"].get<std::string>(),
                                      r.expires_at);
        }
    }
    if (r.notification_id) j["notification"] = {{"io_message_id", *r.notification_id}};
    if (r.status == RequestStatus::kSigned) {
        const Timestamp expires = clock_.Now() + options_.download_url_ttl;
        for (auto& jd : j["documents"]) {
            const std::string doc_id = jd["id"].get<std::string>();
            const Document* doc = r.FindDocument(doc_id);
            auto direct = doc ? s_.requests.SignedDocumentDirectUrl(*doc, options_.download_url_ttl)
                              : std::nullopt;
            jd["url"] = direct
                            ? *direct
                            : base + "/api/v1/downloads/" +
                                  urls_.Sign(Grant{"download", r.issuer_id, r.id, doc_id, expires});
        }
    }
    return j;
}

HttpResponse IssuerApi::Download(Req& req) {
    auto grant = urls_.Verify(std::string(req.Param("token")), "download", clock_.Now());
    if (!grant) return Problem(grant.error());
    auto bytes =
        s_.requests.SignedDocument(grant->issuer_id, grant->request_id, grant->document_id);
    if (!bytes) return Problem(bytes.error());
    auto response = HttpResponse::Text(200, std::move(*bytes), "application/pdf");
    response.Set("Content-Disposition",
                 "attachment; filename=\"" + grant->document_id + "-signed.pdf\"");
    return response;
}

HttpResponse IssuerApi::PutNotification(Req& req, const P& p) {
    auto id = s_.requests.Notify(p.issuer_id, std::string(req.Param("id")), ActorOf(p));
    if (!id) return Problem(id.error());
    return JsonResponse(201, Json{{"io_message_id", *id}});
}

HttpResponse IssuerApi::NewRedirectUrl(Req& req, const P& p) {
    auto tokens = s_.requests.IssueRedirectTokens(p.issuer_id, std::string(req.Param("id")),
                                                  std::string(req.Param("signer_id")),
                                                  options_.redirect_url_ttl);
    if (!tokens) return Problem(tokens.error());
    return JsonResponse(
        201, Json{{"signer_id", tokens->front().first},
                  {"redirect_url", options_.public_url + "/d/" + tokens->front().second},
                  {"expires_at", FormatRfc3339(clock_.Now() + options_.redirect_url_ttl)}});
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
    std::string url;
    if (s_.requests.DirectUploads()) {
        // A pre-signed PUT straight to the object store (Content-Type: application/pdf).
        auto direct = s_.requests.BeginDirectUpload(p.issuer_id, request_id, document_id,
                                                    options_.upload_url_ttl);
        if (!direct) return Problem(direct.error());
        url = std::move(*direct);
    } else {
        url = options_.public_url + "/api/v1/uploads/" +
              urls_.Sign(Grant{"upload", p.issuer_id, request_id, document_id, expires});
    }
    // As in Firma con IO, the body is the URL itself as a JSON string.
    auto response = JsonResponse(200, Json(url));
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
