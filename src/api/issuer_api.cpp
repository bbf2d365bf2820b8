#include "api/issuer_api.hpp"

#include "api/contract.hpp"
#include "api/json_response.hpp"
#include "api/problem.hpp"
#include "api/views.hpp"
#include "core/encoding.hpp"

namespace firmo::api {

using codec::Json;
using http::HttpRequest;
using http::HttpResponse;
using namespace firmo::domain;

std::string ActorOf(const Principal& p) { return "issuer:" + p.key_prefix; }

// limit + continuation token (both spellings: Firma con IO uses continuationToken), from the
// endpoint's parsed query parameters.
Result<PageQuery> ReadPage(const QueryValues& query) {
    PageQuery page;
    if (auto limit = query.Integer("limit")) page.limit = *limit;
    auto token = query.Text("continuation_token");
    if (!token) token = query.Text("continuationToken");
    if (token) {
        auto decoded = Base64UrlDecode(*token);
        if (!decoded || decoded->empty() || decoded->size() > 64) {
            return FailValidation({{"continuation_token", "is not a token this API returned"}});
        }
        page.after_id = *decoded;
    }
    return page;
}

std::string QrCodeUrl(const UrlSigner& urls, const std::string& public_url,
                      const SignatureRequest& r) {
    return public_url + "/api/v1/qr/" +
           urls.Sign(Grant{"qr", r.issuer_id, r.id, "", r.expires_at}) + ".svg";
}

namespace {

template <typename T, typename Write>
std::string PageText(const Page<T>& page, Write write) {
    std::string out;
    out.reserve(512 + 1536 * page.items.size());
    codec::JsonWriter w(out);
    w.BeginObject().Key("items").BeginArray();
    for (const auto& item : page.items) write(w, item);
    w.EndArray().Key("continuation_token");
    if (page.next_after_id) {
        w.String(Base64UrlEncode(*page.next_after_id));
    } else {
        w.Null();
    }
    w.EndObject();
    return out;
}

}  // namespace

void IssuerApi::Register(const std::function<void(std::string, std::string, AuthedHandler)>& add) {
    const auto route = [this, &add](std::string method, std::string pattern,
                                    Res (IssuerApi::*fn)(Req&, const P&)) {
        Route(add, std::move(method), std::move(pattern),
              AuthedHandler([this, fn](Req& req, const P& p) { return (this->*fn)(req, p); }));
    };
    route("POST", "/api/v1/dossiers", &IssuerApi::CreateDossier);
    route("GET", "/api/v1/dossiers", &IssuerApi::ListDossiers);
    route("GET", "/api/v1/dossiers/{id}", &IssuerApi::GetDossier);
    route("GET", "/api/v1/dossiers/{id}/signature-requests", &IssuerApi::ListDossierRequests);
    route("POST", "/api/v1/signers", &IssuerApi::CreateSigner);
    route("GET", "/api/v1/signers/{id}", &IssuerApi::GetSigner);
    route("POST", "/api/v1/signature-requests", &IssuerApi::CreateRequest);
    route("GET", "/api/v1/signature-requests", &IssuerApi::ListRequests);
    route("GET", "/api/v1/signature-requests/{id}", &IssuerApi::GetRequest);
    route("GET", "/api/v1/signature-requests/{id}/events", &IssuerApi::ListEvents);
    route("GET", "/api/v1/signature-requests/{id}/documents/{doc_id}/upload_url",
          &IssuerApi::GetUploadUrl);
    route("PUT", "/api/v1/signature-requests/{id}/status", &IssuerApi::PutStatus);
    route("PATCH", "/api/v1/signature-requests/{id}", &IssuerApi::PatchRequest);
    route("PUT", "/api/v1/signature-requests/{id}/notification", &IssuerApi::PutNotification);
    route("POST", "/api/v1/signature-requests/{id}/signers/{signer_id}/redirect-url",
          &IssuerApi::NewRedirectUrl);
    route("DELETE", "/api/v1/signature-requests/{id}/documents", &IssuerApi::DeleteDocuments);
}

HttpResponse IssuerApi::CreateDossier(Req& req, const P& p) {
    auto input = ParseBody(req, DossierBodySpec());
    if (!input) return Problem(input.error());
    auto dossier = s_.dossiers.Create(p.issuer_id, *input);
    if (!dossier) return Problem(dossier.error());
    return JsonTextResponse(201, ViewText(*dossier, WriteDossier));
}

HttpResponse IssuerApi::GetDossier(Req& req, const P& p) {
    auto dossier = s_.dossiers.Get(p.issuer_id, std::string(req.Param("id")));
    if (!dossier) return Problem(dossier.error());
    return JsonTextResponse(200, ViewText(*dossier, WriteDossier));
}

HttpResponse IssuerApi::ListDossiers(Req& req, const P& p) {
    auto query = ParseQueryParams(QueryOf("GET", "/api/v1/dossiers"), req.query);
    if (!query) return Problem(query.error());
    auto page = ReadPage(*query);
    if (!page) return Problem(page.error());
    auto result = s_.dossiers.List(p.issuer_id, *page);
    if (!result) return Problem(result.error());
    return JsonTextResponse(200, PageText(*result, WriteDossier));
}

HttpResponse IssuerApi::ListRequestsFiltered(Req& req, const P& p, const QuerySpec& spec,
                                             RequestFilter filter) {
    auto query = ParseQueryParams(spec, req.query);
    if (!query) return Problem(query.error());
    auto page = ReadPage(*query);
    if (!page) return Problem(page.error());
    if (auto status = query->Text("status")) filter.status = ParseRequestStatus(*status);
    auto result = s_.requests.List(p.Scope(), filter, *page);
    if (!result) return Problem(result.error());
    return JsonTextResponse(
        200, PageText(*result, [this](codec::JsonWriter& w, const SignatureRequest& r) {
            WriteRequest(w, r, Links(r));
        }));
}

HttpResponse IssuerApi::ListDossierRequests(Req& req, const P& p) {
    return ListRequestsFiltered(req, p, QueryOf("GET", "/api/v1/dossiers/{id}/signature-requests"),
                                RequestFilter{std::string(req.Param("id")), std::nullopt});
}

HttpResponse IssuerApi::ListRequests(Req& req, const P& p) {
    return ListRequestsFiltered(req, p, QueryOf("GET", "/api/v1/signature-requests"),
                                RequestFilter{});
}

HttpResponse IssuerApi::CreateSigner(Req& req, const P& p) {
    auto body = ParseBody(req, SignerBodySpec());
    if (!body) return Problem(body.error());
    auto resolved = s_.signers.Resolve(p.issuer_id, body->ToInput());
    if (!resolved) return Problem(resolved.error());
    return JsonResponse(resolved->created ? 201 : 200, Json{{"id", resolved->signer.id}});
}

HttpResponse IssuerApi::GetSigner(Req& req, const P& p) {
    auto signer = s_.signers.Get(p.issuer_id, std::string(req.Param("id")));
    if (!signer) return Problem(signer.error());
    return JsonTextResponse(200, ViewText(*signer, WriteSigner));
}

HttpResponse IssuerApi::CreateRequest(Req& req, const P& p) {
    auto body = ParseBody(req, SignatureRequestBodySpec());
    if (!body) return Problem(body.error());
    const NewSignatureRequest input = body->ToInput();
    auto request = s_.requests.Create(p.Scope(), input, ActorOf(p));
    if (!request) return Problem(request.error());
    RequestLinks links = Links(*request);
    if (request->redirect) {
        // The one-time redirect URLs are shown here once (they are stored hashed).
        auto tokens = s_.requests.IssueRedirectTokens(p.Scope(), request->id, std::nullopt,
                                                      options_.redirect_url_ttl);
        if (!tokens) return Problem(tokens.error());
        links.redirect_urls.resize(request->signers.size());
        for (std::size_t i = 0; i < request->signers.size(); ++i) {
            for (const auto& [sid, token] : *tokens) {
                if (request->signers[i].signer_id == sid) {
                    links.redirect_urls[i] = options_.public_url + "/d/" + token;
                }
            }
        }
    }
    auto response =
        JsonTextResponse(201, ViewText(*request, [&links](codec::JsonWriter& w, const auto& r) {
                             WriteRequest(w, r, links);
                         }));
    response.Set("Location", "/api/v1/signature-requests/" + request->id);
    return response;
}

HttpResponse IssuerApi::GetRequest(Req& req, const P& p) {
    auto query = ParseQueryParams(QueryOf("GET", "/api/v1/signature-requests/{id}"), req.query);
    if (!query) return Problem(query.error());
    const std::string id(req.Param("id"));
    // Direct flow: the token the signer's browser brought back to the issuer's exit URL.
    const auto token = query->Text("status_query_token");
    auto request = token ? s_.requests.GetWithStatusQueryToken(p.Scope(), id, *token)
                         : s_.requests.Get(p.Scope(), id);
    if (!request) return Problem(request.error());
    return JsonTextResponse(200, View(*request));
}

RequestLinks IssuerApi::Links(const SignatureRequest& r) const {
    RequestLinks links;
    const std::string& base = options_.public_url;
    links.signing_url = base + "/s/" + r.id;
    links.qr_code_url = QrCodeUrl(urls_, base, r);
    if (!IsTerminal(r.status)) {
        links.portal_urls.reserve(r.signers.size());
        for (const auto& s : r.signers) {
            links.portal_urls.push_back(
                base + SignerLinkPath(urls_, r.issuer_id, r.id, s.signer_id, r.expires_at));
        }
    }
    if (r.status == RequestStatus::kSigned && !r.documents_deleted_at) {
        const Timestamp expires = clock_.Now() + options_.download_url_ttl;
        links.document_urls.reserve(r.documents.size());
        for (const auto& doc : r.documents) {
            auto direct = s_.requests.SignedDocumentDirectUrl(doc, options_.download_url_ttl);
            links.document_urls.push_back(
                direct ? *direct
                       : base + "/api/v1/downloads/" +
                             urls_.Sign(Grant{"download", r.issuer_id, r.id, doc.id, expires}));
        }
    }
    return links;
}

std::string IssuerApi::View(const SignatureRequest& r) const {
    const RequestLinks links = Links(r);
    return ViewText(r, [&links](codec::JsonWriter& w, const SignatureRequest& request) {
        WriteRequest(w, request, links);
    });
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
    auto id = s_.requests.Notify(p.Scope(), std::string(req.Param("id")), ActorOf(p));
    if (!id) return Problem(id.error());
    return JsonResponse(201, Json{{"io_message_id", *id}});
}

HttpResponse IssuerApi::NewRedirectUrl(Req& req, const P& p) {
    auto tokens = s_.requests.IssueRedirectTokens(p.Scope(), std::string(req.Param("id")),
                                                  std::string(req.Param("signer_id")),
                                                  options_.redirect_url_ttl);
    if (!tokens) return Problem(tokens.error());
    return JsonResponse(
        201, Json{{"signer_id", tokens->front().first},
                  {"redirect_url", options_.public_url + "/d/" + tokens->front().second},
                  {"expires_at", FormatRfc3339(clock_.Now() + options_.redirect_url_ttl)}});
}

HttpResponse IssuerApi::ListEvents(Req& req, const P& p) {
    auto events = s_.requests.Events(p.Scope(), std::string(req.Param("id")));
    if (!events) return Problem(events.error());
    std::string out;
    codec::JsonWriter w(out);
    w.BeginObject().Key("items").BeginArray();
    for (const auto& e : *events) WriteEvent(w, e);
    w.EndArray().EndObject();
    return JsonTextResponse(200, std::move(out));
}

HttpResponse IssuerApi::GetUploadUrl(Req& req, const P& p) {
    const std::string request_id(req.Param("id"));
    const std::string document_id(req.Param("doc_id"));
    if (auto ok = s_.requests.CheckUploadable(p.Scope(), request_id, document_id); !ok) {
        return Problem(ok.error());
    }
    const Timestamp expires = clock_.Now() + options_.upload_url_ttl;
    std::string url;
    if (s_.requests.DirectUploads()) {
        // A pre-signed PUT straight to the object store (Content-Type: application/pdf).
        auto direct = s_.requests.BeginDirectUpload(p.Scope(), request_id, document_id,
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

Result<Grant> IssuerApi::CheckUpload(const Req& req) const {
    FIRMO_TRY(Grant grant, urls_.Verify(std::string(req.Param("token")), "upload", clock_.Now()));
    if (req.MediaType() != "application/pdf") {
        return Fail(ErrorCode::kUnsupportedMediaType,
                    "upload the raw PDF with Content-Type: application/pdf");
    }
    return grant;
}

HttpResponse IssuerApi::Upload(Req& req) {
    auto grant = CheckUpload(req);
    if (!grant) return Problem(grant.error());
    auto doc = s_.requests.UploadDocument(grant->issuer_id, grant->request_id, grant->document_id,
                                          domain::Upload{req.body, "upload-url"});
    if (!doc) return Problem(doc.error());
    return JsonTextResponse(
        202, ViewText(*doc, [](codec::JsonWriter& w, const Document& d) { WriteDocument(w, d); }));
}

HttpResponse IssuerApi::PutStatus(Req& req, const P& p) {
    auto status = ParseBody(req, StatusBodySpec());
    if (!status) return Problem(status.error());
    auto result =
        s_.requests.ChangeStatus(p.Scope(), std::string(req.Param("id")), *status, ActorOf(p));
    if (!result) return Problem(result.error());
    HttpResponse response;
    response.status = 204;
    return response;
}

HttpResponse IssuerApi::PatchRequest(Req& req, const P& p) {
    auto patch = ParseBody(req, RequestPatchBodySpec());
    if (!patch) return Problem(patch.error());
    auto result = s_.requests.ChangeDeadline(p.Scope(), std::string(req.Param("id")),
                                             patch->expires_at, ActorOf(p));
    if (!result) return Problem(result.error());
    return JsonTextResponse(200, View(*result));
}

HttpResponse IssuerApi::DeleteDocuments(Req& req, const P& p) {
    auto result = s_.requests.DeleteDocuments(p.Scope(), std::string(req.Param("id")), ActorOf(p));
    if (!result) return Problem(result.error());
    return JsonTextResponse(200, View(*result));
}

}  // namespace firmo::api
