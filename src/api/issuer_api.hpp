#pragma once
// The issuer REST API v1: thin handlers that translate HTTP to service calls and back. Every
// handler receives the authenticated issuer; nothing here touches storage directly.

#include <chrono>
#include <string>

#include "api/contract.hpp"
#include "api/url_signer.hpp"
#include "api/views.hpp"
#include "codec/json.hpp"
#include "domain/services/dossier_service.hpp"
#include "domain/services/issuer_service.hpp"
#include "domain/services/request_service.hpp"
#include "domain/services/signer_service.hpp"
#include "http/router.hpp"

namespace firmo::api {

struct Services {
    domain::IssuerService& issuers;
    domain::DossierService& dossiers;
    domain::SignerService& signers;
    domain::RequestService& requests;
};

struct IssuerApiOptions {
    std::string public_url = "http://127.0.0.1:8080";  // base of the links we hand out
    std::chrono::minutes upload_url_ttl{15};
    std::chrono::minutes download_url_ttl{15};
    std::chrono::minutes redirect_url_ttl{60};
};

class IssuerApi {
  public:
    IssuerApi(Services services, const UrlSigner& urls, const Clock& clock,
              IssuerApiOptions options)
        : s_(services), urls_(urls), clock_(clock), options_(std::move(options)) {}

    // Adds the authenticated routes (the caller wraps them with authentication).
    using AuthedHandler =
        std::function<http::HttpResponse(http::HttpRequest&, const domain::Principal&)>;
    void Register(const std::function<void(std::string method, std::string pattern,
                                           AuthedHandler handler)>& add);
    // PUT /api/v1/uploads/{token}: authorised by the token, not by an API key.
    http::HttpResponse Upload(http::HttpRequest& request);
    // What Upload checks before it looks at the body (the token, the media type): called by
    // the front door from the headers alone, so that nothing is read for a bad token.
    // The grant of the token when both are good.
    [[nodiscard]] Result<Grant> CheckUpload(const http::HttpRequest& request) const;
    // GET /api/v1/downloads/{token}: a signed document, authorised by the token.
    http::HttpResponse Download(http::HttpRequest& request);

  private:
    using Req = http::HttpRequest;
    using Res = http::HttpResponse;
    using P = domain::Principal;
    Res CreateDossier(Req& req, const P& p);
    Res GetDossier(Req& req, const P& p);
    Res ListDossiers(Req& req, const P& p);
    Res ListDossierRequests(Req& req, const P& p);
    Res CreateSigner(Req& req, const P& p);
    Res GetSigner(Req& req, const P& p);
    Res CreateRequest(Req& req, const P& p);
    Res GetRequest(Req& req, const P& p);
    Res ListRequests(Req& req, const P& p);
    Res ListEvents(Req& req, const P& p);
    Res GetUploadUrl(Req& req, const P& p);
    Res PutStatus(Req& req, const P& p);
    Res PatchRequest(Req& req, const P& p);
    Res PutNotification(Req& req, const P& p);
    Res NewRedirectUrl(Req& req, const P& p);
    // The links of this API in a request's answer: signers' portal links, the QR code and
    // universal link, and once SIGNED the documents' download URLs.
    RequestLinks Links(const domain::SignatureRequest& request) const;
    // The request's answer as JSON text, with Links().
    std::string View(const domain::SignatureRequest& request) const;
    Res ListRequestsFiltered(Req& req, const P& p, const QuerySpec& spec,
                             domain::RequestFilter filter);

    Services s_;
    const UrlSigner& urls_;
    const Clock& clock_;
    IssuerApiOptions options_;
};

// "issuer:<key prefix>" for the audit log.
std::string ActorOf(const domain::Principal& p);
// A page of a list from `limit` and the continuation token (continuation_token or Firma con
// IO's continuationToken), as the endpoint's query parameters parsed them.
[[nodiscard]] Result<domain::PageQuery> ReadPage(const QueryValues& query);
// The request's QR code (an SVG of its signing link), valid until the request expires.
std::string QrCodeUrl(const UrlSigner& urls, const std::string& public_url,
                      const domain::SignatureRequest& r);

}  // namespace firmo::api
