#pragma once
// What every server-rendered page of Firmo shares, whichever portal serves it (the signer portal
// in portal.cpp, the sender portal in staff_portal.cpp): reading cookies, the strict
// Content-Security-Policy and security headers, how cookies are set (HttpOnly, SameSite=Lax,
// Secure off only on plain-HTTP loopback), the language switch's return path, and the CSRF token
// of a visitor without a session (a signed grant bound to a random cookie, so that nothing is
// stored for a visitor who only looks). Pure functions; thread-safe.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/url_signer.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "http/message.hpp"

namespace firmo::web {

std::optional<std::string> CookieValue(const http::HttpRequest& req, std::string_view name);

// Content-Security-Policy (no inline script or style; pdf.js's worker and WebAssembly allowed),
// X-Frame-Options, Referrer-Policy, Permissions-Policy.
void SetPageSecurityHeaders(http::HttpResponse& r);

// Adds a Set-Cookie: `cookie` ("name=value; Max-Age=...") with Path, HttpOnly, SameSite=Lax and,
// when `secure`, Secure.
void AddCookie(http::HttpResponse& r, std::string cookie, bool secure, std::string_view path = "/");

// The query string of `target` without its `lang` parameter ("" when nothing is left).
std::string QueryWithoutLanguage(std::string_view target);

// What a request says about the page's language: the visitor's own choice (?lang= from the
// switch on a GET, else the `cookie`), and the browser's Accept-Language; each a supported
// catalogue or empty.
struct LanguageChoice {
    std::string here;       // a GET's path and query without `lang`: where the switch leads back
    std::string chosen;     // ?lang= or the cookie
    bool remember = false;  // chosen by this request's ?lang=: set the cookie
    std::string browser;    // from Accept-Language
};
LanguageChoice ChooseLanguage(const http::HttpRequest& req, std::string_view cookie);

// The language switch: one entry per catalogue (code, name in its own language, href back to
// `here`, current).
struct LanguageLink {
    std::string code;
    std::string name;
    std::string href;
    bool current = false;
};
std::vector<LanguageLink> LanguageLinks(const std::string& here, const std::string& current);

// Before a session exists: the cookie's value is 32 random bytes (base64url), and the form's
// CSRF token a grant of `purpose` naming it, signed with the server's URL secret.
bool WellFormedPreCookie(std::string_view value);
std::string PreSessionCsrf(const api::UrlSigner& urls, const std::string& purpose,
                           const std::string& pre, Timestamp expires_at);
bool PreSessionCsrfOk(const api::UrlSigner& urls, const std::string& purpose,
                      const std::string& sent, const std::string& pre, Timestamp now);

// A problem as a page tells a person, in `language`: the catalogue's `problem.<slug>`. The API's
// application/problem+json stays English (clients match its `type`); pages never show its title
// or detail.
std::string ProblemText(std::string_view language, ErrorCode code);
// Every problem `type` (urn:firmo:problem:<slug>) with its text in `language`, as a JSON object:
// for a page's script that shows a problem+json answer (staff_send.js).
std::string ProblemTexts(std::string_view language);

// The front door's own refusals (no route, a full lane, a credential refused from the headers;
// api::FrontendOptions::page_problem) of a request a browser made for a page (it accepts
// text/html; not under /api/ or /pki/): `problem`, a problem+json answer, becomes a short HTML
// page in the visitor's language (the firmo_lang cookie, else Accept-Language), keeping its
// status and headers. Other requests and answers are left as they are.
void ProblemAsPage(const http::HttpRequest& req, http::HttpResponse& problem);

// A visitor without a session (both portals): the `pre` cookie's value (a new random one when
// the request has none or a malformed one: set it), and the form's CSRF token bound to it.
struct PreSession {
    std::string pre;
    bool set_pre = false;
    std::string csrf;
};
PreSession OpenPreSession(const http::HttpRequest& req, std::string_view cookie,
                          const api::UrlSigner& urls, const std::string& purpose,
                          const std::function<std::string()>& new_token, Timestamp expires_at);

}  // namespace firmo::web
