#include "api/issuer_identity_api.hpp"

#include "api/contract.hpp"
#include "api/json_response.hpp"
#include "api/problem.hpp"
#include "core/encoding.hpp"

namespace firmo::api {

using codec::Json;
using http::HttpResponse;

namespace {
constexpr std::size_t kLogoVersionChars = 16;
// An SVG opened on its own is a document: no script, no plugin, no same origin, no fetches but
// its own inline styles.
constexpr const char* kLogoCsp = "default-src 'none'; style-src 'unsafe-inline'; sandbox";

Json OrNull(const std::string& s) { return s.empty() ? Json(nullptr) : Json(s); }
}  // namespace

std::string IssuerLogoUrl(const std::string& public_url, const domain::Issuer& issuer) {
    if (issuer.logo_type.empty()) return {};
    return public_url + "/issuers/" + issuer.id +
           "/logo?v=" + issuer.logo_sha256.substr(0, kLogoVersionChars);
}

void IssuerIdentityApi::Register(
    const std::function<void(std::string, std::string, IssuerApi::AuthedHandler)>& add_authed) {
    const auto route = [this, &add_authed](std::string method, std::string pattern,
                                           Res (IssuerIdentityApi::*fn)(Req&, const P&)) {
        Route(add_authed, std::move(method), std::move(pattern),
              IssuerApi::AuthedHandler(
                  [this, fn](Req& req, const P& p) { return (this->*fn)(req, p); }));
    };
    route("GET", "/api/v1/issuer", &IssuerIdentityApi::Get);
    route("PATCH", "/api/v1/issuer", &IssuerIdentityApi::Patch);
    route("PUT", "/api/v1/issuer/logo", &IssuerIdentityApi::PutLogo);
}

void IssuerIdentityApi::RegisterPublic(
    const std::function<void(std::string, std::string, http::Handler)>& add) {
    Route(add, "GET", "/issuers/{id}/logo",
          http::Handler([this](Req& req) { return GetLogo(req); }));
}

HttpResponse IssuerIdentityApi::View(const domain::Issuer& issuer) const {
    return JsonResponse(200, Json{{"id", issuer.id},
                                  {"display_name", issuer.name},
                                  {"support_email", issuer.email},
                                  {"support_url", OrNull(issuer.support_url)},
                                  {"brand_color", OrNull(issuer.brand_color)},
                                  {"logo_url", OrNull(IssuerLogoUrl(public_url_, issuer))},
                                  {"created_at", FormatRfc3339(issuer.created_at)}});
}

HttpResponse IssuerIdentityApi::Get(Req&, const P& p) {
    auto issuer = issuers_.Find(p.issuer_id);
    if (!issuer) return Problem(issuer.error());
    return View(*issuer);
}

HttpResponse IssuerIdentityApi::Patch(Req& req, const P& p) {
    auto patch = ParseBody(req, IssuerPatchBodySpec());
    if (!patch) return Problem(patch.error());
    auto issuer = issuers_.UpdateIdentity(p.issuer_id, *patch);
    if (!issuer) return Problem(issuer.error());
    return View(*issuer);
}

HttpResponse IssuerIdentityApi::PutLogo(Req& req, const P& p) {
    auto issuer = issuers_.SetLogo(p.issuer_id, req.MediaType(), req.body);
    if (!issuer) return Problem(issuer.error());
    return View(*issuer);
}

HttpResponse IssuerIdentityApi::GetLogo(Req& req) {
    auto logo = issuers_.Logo(std::string(req.Param("id")));
    if (!logo) return Problem(logo.error());
    HttpResponse r = HttpResponse::Text(200, std::move(logo->bytes), logo->media_type);
    r.Set("Content-Security-Policy", kLogoCsp);
    r.Set("X-Content-Type-Options", "nosniff");
    r.Set("Cache-Control", "public, max-age=86400");
    r.Set("ETag", "\"" + logo->sha256.substr(0, kLogoVersionChars) + "\"");
    return r;
}

}  // namespace firmo::api
