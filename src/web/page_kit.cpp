#include "web/page_kit.hpp"

#include <cctype>

#include "core/encoding.hpp"
#include "i18n/catalog.hpp"

namespace firmo::web {

namespace {

// No inline script or style anywhere; pdf.js needs its worker and (for JPEG 2000) WebAssembly.
constexpr const char* kCsp =
    "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
    "worker-src 'self' blob:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

}  // namespace

std::optional<std::string> CookieValue(const http::HttpRequest& req, std::string_view name) {
    const auto header = req.Header("Cookie");
    if (!header) return std::nullopt;
    std::string_view rest = *header;
    while (!rest.empty()) {
        const auto semi = rest.find(';');
        std::string_view part = rest.substr(0, semi);
        rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
        while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
        const auto eq = part.find('=');
        if (eq != std::string_view::npos && part.substr(0, eq) == name) {
            return std::string(part.substr(eq + 1));
        }
    }
    return std::nullopt;
}

void SetPageSecurityHeaders(http::HttpResponse& r) {
    r.Set("Content-Security-Policy", kCsp);
    r.Set("X-Frame-Options", "DENY");
    r.Set("Referrer-Policy", "no-referrer");
    r.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()");
}

void AddCookie(http::HttpResponse& r, std::string cookie, bool secure, std::string_view path) {
    cookie += "; Path=" + std::string(path) + "; HttpOnly; SameSite=Lax";
    if (secure) cookie += "; Secure";
    r.headers.emplace_back("Set-Cookie", std::move(cookie));
}

std::string QueryWithoutLanguage(std::string_view target) {
    const auto question = target.find('?');
    if (question == std::string_view::npos) return {};
    std::string out;
    std::string_view rest = target.substr(question + 1);
    while (!rest.empty()) {
        const auto amp = rest.find('&');
        const std::string_view part = rest.substr(0, amp);
        rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
        if (part.empty() || part == "lang" || part.starts_with("lang=")) continue;
        if (!out.empty()) out += '&';
        out += part;
    }
    return out;
}

LanguageChoice ChooseLanguage(const http::HttpRequest& req, std::string_view cookie) {
    const i18n::Catalog& catalog = i18n::Catalog::Builtin();
    LanguageChoice out;
    if (req.method == "GET") {
        out.here = req.path;
        if (const std::string query = QueryWithoutLanguage(req.target); !query.empty()) {
            out.here += "?" + query;
        }
        if (auto lang = req.Query("lang")) {
            out.chosen = catalog.Supported(*lang);
            out.remember = !out.chosen.empty();
        }
    }
    if (out.chosen.empty()) {
        if (auto value = CookieValue(req, cookie)) out.chosen = catalog.Supported(*value);
    }
    if (auto header = req.Header("Accept-Language")) {
        out.browser = catalog.FromAcceptLanguage(*header);
    }
    return out;
}

std::vector<LanguageLink> LanguageLinks(const std::string& here, const std::string& current) {
    const i18n::Catalog& catalog = i18n::Catalog::Builtin();
    const std::string back = here.empty() ? std::string("/") : here;
    std::vector<LanguageLink> out;
    for (const std::string& code : catalog.Languages()) {
        out.push_back(LanguageLink{
            .code = code,
            .name = catalog.Text(code, "language.name"),
            .href = back + (back.find('?') == std::string::npos ? "?" : "&") + "lang=" + code,
            .current = code == current});
    }
    return out;
}

bool WellFormedPreCookie(std::string_view value) {
    if (value.size() != 43) return false;  // 32 random bytes, base64url
    for (char c : value) {
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) return false;
    }
    return true;
}

std::string PreSessionCsrf(const api::UrlSigner& urls, const std::string& purpose,
                           const std::string& pre, Timestamp expires_at) {
    return urls.Sign(api::Grant{purpose, "", pre, "", expires_at});
}

bool PreSessionCsrfOk(const api::UrlSigner& urls, const std::string& purpose,
                      const std::string& sent, const std::string& pre, Timestamp now) {
    if (sent.empty() || pre.empty()) return false;
    auto grant = urls.Verify(sent, purpose, now);
    return grant && ConstantTimeEquals(grant->request_id, pre);
}

}  // namespace firmo::web
