#include "api/issuer_identity_api.hpp"

#include <algorithm>
#include <cmath>
#include <optional>

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

namespace {

// The sRGB channel's linear value (WCAG 2 relative luminance).
double Linear(int channel) {
    const double c = channel / 255.0;
    return c <= 0.04045 ? c / 12.92 : std::pow((c + 0.055) / 1.055, 2.4);
}

std::optional<double> Luminance(std::string_view hex) {
    if (hex.size() != 7 || hex[0] != '#') return std::nullopt;
    int rgb[3];
    for (int i = 0; i < 3; ++i) {
        const std::string_view part = hex.substr(1 + 2 * i, 2);
        int value = 0;
        for (char c : part) {
            int digit;
            if (c >= '0' && c <= '9') {
                digit = c - '0';
            } else if (c >= 'a' && c <= 'f') {
                digit = c - 'a' + 10;
            } else if (c >= 'A' && c <= 'F') {
                digit = c - 'A' + 10;
            } else {
                return std::nullopt;
            }
            value = value * 16 + digit;
        }
        rgb[i] = value;
    }
    return 0.2126 * Linear(rgb[0]) + 0.7152 * Linear(rgb[1]) + 0.0722 * Linear(rgb[2]);
}

}  // namespace

double ContrastRatio(std::string_view a, std::string_view b) {
    const auto la = Luminance(a);
    const auto lb = Luminance(b);
    if (!la || !lb) return 1.0;
    return (std::max(*la, *lb) + 0.05) / (std::min(*la, *lb) + 0.05);
}

std::string IssuerThemeCss(std::string_view brand_color) {
    if (!Luminance(brand_color)) return {};
    const std::string color(brand_color);
    const bool white_ink = ContrastRatio(color, "#ffffff") >= ContrastRatio(color, "#000000");
    std::string css = "/* The institution's colour (issue 16). */\n:root { --brand: " + color +
                      "; --brand-ink: " + (white_ink ? "#ffffff" : "#000000") + "; }\n";
    // Links are text on white: the brand colour only when it reads there.
    if (ContrastRatio(color, "#ffffff") < 4.5) {
        css += "a, button.link { color: #0b5cad; }\n";
    }
    return css;
}

std::string IssuerThemeUrl(const domain::Issuer& issuer) {
    if (!Luminance(issuer.brand_color)) return {};
    return "/issuers/" + issuer.id + "/theme.css?v=" + issuer.brand_color.substr(1);
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
    Route(add, "GET", "/issuers/{id}/theme.css",
          http::Handler([this](Req& req) { return GetTheme(req); }));
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

HttpResponse IssuerIdentityApi::GetTheme(Req& req) {
    auto issuer = issuers_.Find(std::string(req.Param("id")));
    if (!issuer) return Problem(issuer.error());
    // No colour: an empty sheet (the portal's own colours stay).
    const std::string css = IssuerThemeCss(issuer->brand_color);
    const std::string etag =
        "\"" + (css.empty() ? std::string("none") : issuer->brand_color.substr(1)) + "\"";
    if (const auto match = req.Header("If-None-Match"); match && *match == etag) {
        HttpResponse r = HttpResponse::Text(304, "", "text/css; charset=utf-8");
        r.Set("ETag", etag);
        r.Set("Cache-Control", "public, max-age=300");
        return r;
    }
    HttpResponse r = HttpResponse::Text(200, css, "text/css; charset=utf-8");
    r.Set("X-Content-Type-Options", "nosniff");
    // The page links it with ?v=<colour>, so a new colour is a new URL; without it, a browser
    // revalidates after five minutes.
    r.Set("Cache-Control", "public, max-age=300");
    r.Set("ETag", etag);
    return r;
}

}  // namespace firmo::api
