#pragma once
// The io-sign-compatible root /api/v1/sign: Firma con IO's issuer API (pagopa/io-sign,
// apps/io-func-sign-issuer/openapi.yaml) as its clients call it, so that they switch to Firmo
// by changing only their base URL and key. A thin adapter over the services the issuer API
// uses (no second implementation of the domain): it maps io-sign's paths, bodies, answers and
// status codes to Firmo's, and hands out upload URLs with Azure block-blob semantics (PUT with
// x-ms-blob-type, any Content-Type, 201 with the headers the Azure Storage SDK reads).
//
// Where io-sign's contract is looser than Firmo's own /api/v1 (JSON without Content-Type,
// unknown members, optional signature_fields, no cap on expires_at, 400 for state conflicts),
// this root follows io-sign; /api/v1 keeps its documented semantics. docs/API.md, section
// "io-sign compatibility", lists every difference. Handlers never block an I/O thread: the
// front door runs them on their lanes.

#include <chrono>
#include <functional>
#include <string>

#include "api/issuer_api.hpp"
#include "api/url_signer.hpp"
#include "codec/json.hpp"
#include "domain/ports/document_validator.hpp"
#include "http/lanes.hpp"

namespace firmo::api {

struct IoSignApiOptions {
    std::string public_url = "http://127.0.0.1:8080";  // base of the links we hand out
    std::chrono::minutes upload_url_ttl{15};
    std::chrono::minutes download_url_ttl{15};
    std::string version;  // GET /api/v1/sign/info
};

class IoSignApi {
  public:
    static constexpr std::string_view kRoot = "/api/v1/sign";

    IoSignApi(Services services, const domain::DocumentValidator& validator, const UrlSigner& urls,
              const Clock& clock, IoSignApiOptions options)
        : s_(services),
          validator_(validator),
          urls_(urls),
          clock_(clock),
          options_(std::move(options)) {}

    // Adds the routes behind the API key (accepted as Ocp-Apim-Subscription-Key under kRoot),
    // each with its lane.
    using AddAuthed = std::function<void(std::string method, std::string pattern,
                                         IssuerApi::AuthedHandler handler, http::Lane lane)>;
    void Register(const AddAuthed& add);

    // GET /api/v1/sign/info: public, as io-sign's health check.
    http::HttpResponse Info(http::HttpRequest& request) const;
    // PUT /api/v1/sign/uploads/{token}: an Azure "Put Blob" of a BlockBlob, authorised by the
    // token of the upload URL.
    http::HttpResponse Upload(http::HttpRequest& request);
    // What Upload checks from the headers alone (token, x-ms-blob-type), before the body.
    [[nodiscard]] Result<Grant> CheckUpload(const http::HttpRequest& request) const;
    // GET /api/v1/sign/documents/{token}: a READY document's bytes (io-sign's document `url`).
    http::HttpResponse Document(http::HttpRequest& request);

  private:
    using Req = http::HttpRequest;
    using Res = http::HttpResponse;
    using P = domain::Principal;
    Res CreateDossier(Req& req, const P& p);
    Res GetDossier(Req& req, const P& p);
    Res ListDossierRequests(Req& req, const P& p);
    Res CreateSigner(Req& req, const P& p);
    Res CreateRequest(Req& req, const P& p);
    Res GetRequest(Req& req, const P& p);
    Res PutStatus(Req& req, const P& p);
    Res GetUploadUrl(Req& req, const P& p);
    Res PutNotification(Req& req, const P& p);
    Res ValidateDocument(Req& req, const P& p);

    codec::Json RequestView(const domain::SignatureRequest& r) const;
    codec::Json DocumentView(const domain::SignatureRequest& r, const domain::Document& d) const;

    Services s_;
    const domain::DocumentValidator& validator_;
    const UrlSigner& urls_;
    const Clock& clock_;
    IoSignApiOptions options_;
};

// io-sign's name for a request status: WAIT_FOR_QTSP (a signature being made) is still
// WAIT_FOR_SIGNATURE to io-sign's issuers; the others keep their names (io-sign's list is
// extensible: EXPIRED and FAILED are Firmo's additions).
std::string_view IoSignStatus(domain::RequestStatus status);

// Removes, at every depth, the object members `schema` (a codec::Spec's JSON Schema) does not
// describe: io-sign ignores members it does not know, Firmo's own API refuses them.
void DropUnknownMembers(codec::Json& value, const codec::Json& schema);

}  // namespace firmo::api
