#pragma once
// Issue 16: the institution as signers see it. The issuer reads and changes its display name,
// support contact and brand colour (GET/PATCH /api/v1/issuer) and uploads its logo
// (PUT /api/v1/issuer/logo); anyone reads the logo at its public URL (GET /issuers/{id}/logo),
// which the portal's pages and the e-mails show.
//
// A logo may be SVG, which can hold script. It is only ever answered as an image, with
// "Content-Security-Policy: sandbox" (no script, no same origin, even when opened on its own)
// and "X-Content-Type-Options: nosniff"; the pages and e-mails show it with <img>, where no
// browser runs an SVG's script anyway.

#include <functional>
#include <string>
#include <string_view>

#include "api/issuer_api.hpp"
#include "domain/services/issuer_service.hpp"
#include "http/router.hpp"

namespace firmo::api {

// The logo's public URL: `public_url` + "/issuers/<id>/logo?v=<version>"; empty when the issuer
// has no logo. The version changes with the logo, so the answer may be cached for long.
std::string IssuerLogoUrl(const std::string& public_url, const domain::Issuer& issuer);

// The issuer's brand colour in the portal (issue 16): a style sheet of its own, so the pages'
// CSP keeps style-src 'self' (no inline style). `brand_color` "#rrggbb" becomes the header and
// buttons' colour; their text is black or white, whichever contrasts more (WCAG 2 contrast
// ratio, always >= 4.5:1 for one of the two); links keep the default blue unless the brand
// colour itself reads on white (>= 4.5:1). Empty for an empty or malformed colour.
std::string IssuerThemeCss(std::string_view brand_color);
// The WCAG 2 contrast ratio of two "#rrggbb" colours (1 to 21); 1 when either is malformed.
double ContrastRatio(std::string_view a, std::string_view b);
// The theme's URL path: "/issuers/<id>/theme.css?v=<colour without #>"; empty without a colour.
std::string IssuerThemeUrl(const domain::Issuer& issuer);

class IssuerIdentityApi {
  public:
    IssuerIdentityApi(domain::IssuerService& issuers, std::string public_url)
        : issuers_(issuers), public_url_(std::move(public_url)) {}

    // GET/PATCH /api/v1/issuer, PUT /api/v1/issuer/logo.
    void Register(
        const std::function<void(std::string, std::string, IssuerApi::AuthedHandler)>& add_authed);
    // GET /issuers/{id}/logo and /issuers/{id}/theme.css (no credentials).
    void RegisterPublic(const std::function<void(std::string, std::string, http::Handler)>& add);

  private:
    using Req = http::HttpRequest;
    using Res = http::HttpResponse;
    using P = domain::Principal;
    Res Get(Req& req, const P& p);
    Res Patch(Req& req, const P& p);
    Res PutLogo(Req& req, const P& p);
    Res GetLogo(Req& req);
    Res GetTheme(Req& req);
    Res View(const domain::Issuer& issuer) const;

    domain::IssuerService& issuers_;
    std::string public_url_;
};

}  // namespace firmo::api
