#pragma once
// The signer API (JSON), what a mobile app uses instead of the portal's pages: log in with the
// signer's link and a one-time code (or a direct-flow redirect token), read the request and its
// documents, accept the clauses, confirm with a fresh code, or reject. The session token travels
// as `Authorization: Bearer`, never in a cookie, so no CSRF token is needed. eID login stays
// in the browser (the app opens the portal). Thin handlers over the domain services.

#include <string>

#include "api/url_signer.hpp"
#include "domain/services/ceremony_service.hpp"
#include "http/router.hpp"

namespace firmo::api {

class SignerApi {
  public:
    SignerApi(domain::SignerSessionService& sessions, domain::CeremonyService& ceremony,
              const UrlSigner& urls, const Clock& clock)
        : sessions_(sessions), ceremony_(ceremony), urls_(urls), clock_(clock) {}

    void Register(const std::function<void(std::string, std::string, http::Handler)>& add);

  private:
    using Req = http::HttpRequest;
    using Res = http::HttpResponse;
    Res SendCode(Req& req);
    Res CreateSession(Req& req);
    Res EndSession(Req& req);
    Res Inbox(Req& req);
    Res GetRequest(Req& req);
    Res DocumentContent(Req& req);
    Res Accept(Req& req);
    Res Confirm(Req& req);
    Res Reject(Req& req);

    [[nodiscard]] Result<domain::PortalSession> Session(const Req& req) const;
    domain::ClientInfo Client(const Req& req) const;

    domain::SignerSessionService& sessions_;
    domain::CeremonyService& ceremony_;
    const UrlSigner& urls_;
    const Clock& clock_;
};

}  // namespace firmo::api
