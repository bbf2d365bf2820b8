#include "web/page_kit.hpp"

#include <algorithm>
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

namespace {

std::string ProblemKey(ErrorCode code) {
    std::string key = "problem." + std::string(ErrorSlug(code));
    std::replace(key.begin(), key.end(), '-', '_');  // catalogue keys have no '-'
    return key;
}

constexpr std::string_view kProblemPrefix = "urn:firmo:problem:";

// The ErrorCode of a problem+json body (its `type`), if it is one of ours.
std::optional<ErrorCode> CodeOfProblem(std::string_view body) {
    const auto at = body.find(kProblemPrefix);
    if (at == std::string_view::npos) return std::nullopt;
    const std::string_view rest = body.substr(at + kProblemPrefix.size());
    const std::string_view slug = rest.substr(0, rest.find('"'));
    for (const ErrorKind& kind : AllErrorKinds()) {
        if (kind.slug == slug) return kind.code;
    }
    return std::nullopt;
}

bool WantsPage(const http::HttpRequest& req) {
    if (req.path.starts_with("/api/") || req.path.starts_with("/pki/")) return false;
    const auto accept = req.Header("Accept");
    return accept && accept->find("text/html") != std::string_view::npos;
}

std::string Escaped(std::string_view text) {
    std::string out;
    for (const char c : text) {
        switch (c) {
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '&':
                out += "&amp;";
                break;
            case '"':
                out += "&quot;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

}  // namespace

std::string ProblemText(std::string_view language, ErrorCode code) {
    return i18n::Catalog::Builtin().Text(language, ProblemKey(code));
}

std::string ProblemTexts(std::string_view language) {
    std::string out = "{";
    for (const ErrorKind& kind : AllErrorKinds()) {
        if (out.size() > 1) out += ',';
        out +=
            JsonQuote(ProblemType(kind.code)) + ":" + JsonQuote(ProblemText(language, kind.code));
    }
    return out + "}";
}

void ProblemAsPage(const http::HttpRequest& req, http::HttpResponse& problem) {
    if (!WantsPage(req)) return;
    bool is_problem = false;
    for (auto& [name, value] : problem.headers) {
        if (name == "Content-Type" && value == "application/problem+json") {
            is_problem = true;
            value = "text/html; charset=utf-8";
        }
    }
    if (!is_problem) return;
    const auto code = CodeOfProblem(problem.body);
    const LanguageChoice choice = ChooseLanguage(req, "firmo_lang");
    const std::string language = !choice.chosen.empty()    ? choice.chosen
                                 : !choice.browser.empty() ? choice.browser
                                                           : std::string(i18n::kDefaultLanguage);
    const std::string text = Escaped(ProblemText(language, code.value_or(ErrorCode::kInternal)));
    const i18n::Catalog& catalog = i18n::Catalog::Builtin();
    const std::string home = req.path.starts_with("/app") ? "/app" : "/";
    problem.body = "<!doctype html>\n<html lang=\"" + language +
                   "\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
                   "content=\"width=device-width, initial-scale=1\"><title>" +
                   text +
                   "</title><link rel=\"stylesheet\" href=\"/static/firmo/portal.css\"></head>"
                   "<body><main id=\"main\"><h1>" +
                   text + "</h1><p><a href=\"" + home + "\">" +
                   Escaped(catalog.Text(language, "problem.home")) +
                   "</a></p></main></body></html>\n";
    SetPageSecurityHeaders(problem);
}

PreSession OpenPreSession(const http::HttpRequest& req, std::string_view cookie,
                          const api::UrlSigner& urls, const std::string& purpose,
                          const std::function<std::string()>& new_token, Timestamp expires_at) {
    PreSession out;
    if (auto pre = CookieValue(req, cookie); pre && WellFormedPreCookie(*pre)) {
        out.pre = *pre;
    } else {
        out.pre = new_token();
        out.set_pre = true;
    }
    out.csrf = PreSessionCsrf(urls, purpose, out.pre, expires_at);
    return out;
}

}  // namespace firmo::web
