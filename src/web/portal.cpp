#include "web/portal.hpp"

#include <fstream>
#include <kainjow/mustache.hpp>
#include <mutex>
#include <unordered_map>

#include "codec/json.hpp"
#include "core/encoding.hpp"
#include "core/log.hpp"
#include "http/message.hpp"
#include "web/qr.hpp"

namespace firmo::web {

namespace mu = kainjow::mustache;
using codec::Json;
using http::HttpRequest;
using http::HttpResponse;
using namespace firmo::domain;

namespace {

constexpr const char* kCookie = "firmo_session";
// Before a session exists: a random value the pre-session CSRF token is bound to (nothing
// about it is stored on the server).
constexpr const char* kPreCookie = "firmo_pre";
constexpr const char* kPreCsrfPurpose = "portal-csrf";

bool WellFormedPre(std::string_view value) {
    if (value.size() != 43) return false;  // 32 random bytes, base64url
    for (char c : value) {
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) return false;
    }
    return true;
}

// No inline script or style anywhere; pdf.js needs its worker and (for JPEG 2000) WebAssembly.
constexpr const char* kCsp =
    "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
    "worker-src 'self' blob:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

std::string Render(std::string_view template_name, const mu::data& data) {
    mu::mustache tmpl{std::string(EmbeddedFile(template_name))};
    return tmpl.render(data);
}

std::optional<std::string> CookieValue(const HttpRequest& req, std::string_view name) {
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

bool SafeReturnPath(const std::string& path) {
    if (path.empty() || path.front() != '/' || path.size() > 200) return false;
    if (path.size() > 1 && path[1] == '/') return false;
    for (char c : path) {
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '_' || c == '-')) {
            return false;
        }
    }
    return true;
}

std::string StatusText(RequestStatus s) {
    switch (s) {
        case RequestStatus::kDraft:
            return "being prepared";
        case RequestStatus::kReady:
        case RequestStatus::kWaitForSignature:
            return "waiting for signatures";
        case RequestStatus::kWaitForQtsp:
            return "being signed";
        case RequestStatus::kSigned:
            return "signed";
        case RequestStatus::kRejected:
            return "rejected";
        case RequestStatus::kCancelled:
            return "cancelled by the sender";
        case RequestStatus::kExpired:
            return "expired";
        case RequestStatus::kFailed:
            return "failed";
    }
    return "";
}

std::string FileName(const std::string& title) {
    std::string out;
    for (char c : title) {
        out += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ? c : '_';
    }
    return (out.empty() ? std::string("document") : out) + ".pdf";
}

std::vector<FieldRef> ParseAccepted(const std::multimap<std::string, std::string>& form) {
    std::vector<FieldRef> out;
    auto [lo, hi] = form.equal_range("accept");
    for (auto it = lo; it != hi; ++it) {
        const auto colon = it->second.find(':');
        if (colon == std::string::npos) continue;
        try {
            out.push_back(
                {std::stoi(it->second.substr(0, colon)), std::stoi(it->second.substr(colon + 1))});
        } catch (...) {
            out.push_back({-1, -1});  // refused by the service as "not one of your clauses"
        }
    }
    return out;
}

std::string FormValue(const std::multimap<std::string, std::string>& form, const char* key) {
    auto it = form.find(key);
    return it == form.end() ? std::string() : it->second;
}

// What the link page says when the signer can no longer log in and sign (SignerAccess::may_sign
// is false): why, and what to do, instead of a "Send me a code" that can only fail.
struct ClosedLink {
    int status;
    std::string heading;
    std::string text;
};

ClosedLink WhyClosed(const SignerAccess& access, const std::string& issuer) {
    const std::string who = issuer.empty() ? std::string("the sender") : issuer;
    if (access.request_signer().status == SignerStatus::kBlocked) {
        return {403, "Not possible",
                "Too many wrong codes were entered, so this link is blocked. Ask " + who +
                    " for help."};
    }
    const std::string heading = "No longer open for signing";
    switch (access.request.status) {
        case RequestStatus::kCancelled:
            return {410, heading,
                    who +
                        " cancelled this request. There is nothing for you to do; if this "
                        "surprises you, contact " +
                        who + "."};
        case RequestStatus::kExpired:
            return {410, heading,
                    "The deadline for signing has passed. If you still need to sign, ask " + who +
                        " to send a new request."};
        case RequestStatus::kRejected:
            return {410, heading,
                    access.request_signer().status == SignerStatus::kRejected
                        ? std::string("You declined this request. Nothing more is needed from you.")
                        : "Another signer declined this request, so it cannot be signed any more."};
        default:
            return {410, heading,
                    "This request cannot be signed any more. If you have questions, contact " +
                        who + "."};
    }
}

}  // namespace

struct Portal::Ctx {
    PortalSession session;             // without a session (token empty): only csrf_token is set
    std::string token;                 // the session's token; empty when the visitor has none
    std::vector<std::string> cookies;  // session tokens to set
    std::string pre;                   // the firmo_pre value (no session)
    bool set_pre = false;              // ... to be set by this answer
    bool clear_session = false;        // the session ended: drop the cookie
    ClientInfo client;
    std::multimap<std::string, std::string> form;
};

domain::ClientInfo Portal::Client(const Req& req) const {
    const auto ua = req.Header("User-Agent");
    return ClientInfo{req.remote_ip, ua ? std::string(*ua) : std::string()};
}

std::string Portal::SignerLink(const std::string& issuer_id, const std::string& request_id,
                               const std::string& signer_id, Timestamp expires_at) const {
    return options_.public_url +
           api::SignerLinkPath(urls_, issuer_id, request_id, signer_id, expires_at);
}

Result<Portal::Ctx> Portal::Open(Req& req) {
    Ctx ctx;
    ctx.client = Client(req);
    if (req.MediaType() == "application/x-www-form-urlencoded")
        ctx.form = http::ParseQuery(req.body);
    if (auto token = CookieValue(req, kCookie)) {
        auto session = sessions_.Find(*token);
        if (session) {
            ctx.session = std::move(*session);
            ctx.token = *token;
            return ctx;
        }
        if (session.error().code != ErrorCode::kUnauthenticated) {
            return tl::unexpected(session.error());
        }
        ctx.clear_session = true;  // unknown or expired: forget it
    }
    // No session, and none is written for a visitor who only looks: the CSRF token is a signed
    // grant naming the firmo_pre cookie, checked without any state (CsrfOk).
    if (auto pre = CookieValue(req, kPreCookie); pre && WellFormedPre(*pre)) {
        ctx.pre = *pre;
    } else {
        ctx.pre = sessions_.NewToken();
        ctx.set_pre = true;
    }
    ctx.session.csrf_token = urls_.Sign(api::Grant{
        kPreCsrfPurpose, "", ctx.pre, "", clock_.Now() + sessions_.options().anonymous_ttl});
    return ctx;
}

bool Portal::CsrfOk(const Ctx& ctx, const Req& req) const {
    (void)req;
    const std::string sent = FormValue(ctx.form, "csrf");
    if (sent.empty()) return false;
    if (!ctx.token.empty()) return ConstantTimeEquals(sent, ctx.session.csrf_token);
    auto grant = urls_.Verify(sent, kPreCsrfPurpose, clock_.Now());
    return grant && ConstantTimeEquals(grant->request_id, ctx.pre);
}

std::optional<api::SignerRefusal> Portal::MayOpenSession(const std::string& ip) const {
    if (!limits_) return std::nullopt;
    return limits_->AllowNewSession(ip);
}

HttpResponse Portal::TooMany(const api::SignerRefusal& refusal) const {
    Ctx ctx;
    HttpResponse r = Message(ctx, HttpStatusOf(ErrorCode::kRateLimited), "Please wait",
                             "Too many attempts from your connection. Wait a moment, then "
                             "reload this page.");
    const auto seconds = std::chrono::ceil<std::chrono::seconds>(refusal.retry_after).count();
    r.Set("Retry-After", std::to_string(std::max<std::int64_t>(1, seconds)));
    return r;
}

HttpResponse Portal::Page(Ctx& ctx, int status, const std::string& title, const std::string& body,
                          const std::string& refresh, bool viewer) const {
    mu::data data;
    data.set("title", title);
    data.set("body", body);
    data.set("csrf", ctx.session.csrf_token);
    data.set("logged_in", ctx.session.authenticated());
    data.set("viewer", viewer);
    if (!refresh.empty()) data.set("refresh", refresh);
    HttpResponse r =
        HttpResponse::Text(status, Render("layout.mustache", data), "text/html; charset=utf-8");
    r.Set("Content-Security-Policy", kCsp);
    r.Set("X-Frame-Options", "DENY");
    r.Set("Referrer-Policy", "no-referrer");
    r.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()");
    const auto set_cookie = [&](std::string cookie) {
        cookie += "; Path=/; HttpOnly; SameSite=Lax";
        if (options_.secure_cookies) cookie += "; Secure";
        r.headers.emplace_back("Set-Cookie", std::move(cookie));
    };
    for (const auto& token : ctx.cookies) {
        set_cookie(std::string(kCookie) + "=" + token + "; Max-Age=" +
                   std::to_string(std::chrono::seconds(sessions_.options().session_ttl).count()));
    }
    if (ctx.cookies.empty() && ctx.clear_session) set_cookie(std::string(kCookie) + "=; Max-Age=0");
    if (ctx.token.empty() && ctx.set_pre) set_cookie(std::string(kPreCookie) + "=" + ctx.pre);
    return r;
}

HttpResponse Portal::SeeOther(Ctx& ctx, const std::string& location) const {
    HttpResponse r = Page(ctx, 303, "Redirecting", "");
    r.body.clear();
    r.Set("Location", location);
    return r;
}

HttpResponse Portal::Message(Ctx& ctx, int status, const std::string& heading,
                             const std::string& text) const {
    mu::data data;
    data.set("heading", heading);
    data.set("text", text);
    data.set("alert", status >= 400);
    return Page(ctx, status, heading, Render("message.mustache", data));
}

HttpResponse Portal::ErrorPage(Ctx& ctx, const Error& e) const {
    // The status is the error table's (core/error.hpp), as in the API; the words are the page's.
    const int status = HttpStatusOf(e.code);
    switch (e.code) {
        case ErrorCode::kNotFound:
            return Message(ctx, status, "Not found",
                           "There is nothing to sign here for you. Check that you are logged in "
                           "as the right person.");
        case ErrorCode::kForbidden:
            return Message(ctx, status, "Not possible", e.message);
        case ErrorCode::kGone:
            return Message(ctx, status, "Link no longer valid", e.message);
        case ErrorCode::kConflict:
        case ErrorCode::kAlreadyExists:
            return Message(ctx, status, "Not possible now", e.message);
        case ErrorCode::kUnauthenticated:
            return Message(ctx, status, "Please log in", e.message);
        case ErrorCode::kRateLimited:
            return Message(ctx, status, "Please wait", e.message);
        case ErrorCode::kInvalidArgument:
            return Message(ctx, status, "Please check", e.message);
        case ErrorCode::kAuthenticationRequired:
            // An eID login below the level this signature needs: say which, not "went wrong".
            return Message(ctx, status, "A stronger eID login is needed", e.message);
        default:
            log::Error("portal_error",
                       {{"error", e.message}, {"type", std::string(ErrorSlug(e.code))}});
            return Message(ctx, status, "Something went wrong",
                           "We could not complete this step. Please try again in a moment.");
    }
}

void Portal::Register(const std::function<void(std::string, std::string, http::Handler)>& add) {
    // Pages count against the signer-side limits; the static files (fixed, no database) do
    // not: a viewer loads dozens of them.
    const auto bind = [this](Res (Portal::*fn)(Req&)) {
        return [this, fn](Req& req) {
            if (limits_) {
                if (auto refused = limits_->AllowCall(req)) return TooMany(*refused);
            }
            return (this->*fn)(req);
        };
    };
    const auto bind_static = [this](Res (Portal::*fn)(Req&)) {
        return [this, fn](Req& req) { return (this->*fn)(req); };
    };
    add("GET", "/", bind(&Portal::Home));
    add("GET", "/login", bind(&Portal::LoginPage));
    add("GET", "/login/oidc", bind(&Portal::OidcStart));
    add("GET", "/oidc/callback", bind(&Portal::OidcCallback));
    add("POST", "/logout", bind(&Portal::Logout));
    add("GET", "/inbox", bind(&Portal::Inbox));
    add("GET", "/l/{token}", bind(&Portal::LinkPage));
    add("POST", "/l/{token}/code", bind(&Portal::LinkSendCode));
    add("POST", "/l/{token}/login", bind(&Portal::LinkLogin));
    add("GET", "/d/{token}", bind(&Portal::Direct));
    add("GET", "/s/{id}", bind(&Portal::Ceremony));
    add("POST", "/s/{id}/accept", bind(&Portal::Accept));
    add("GET", "/s/{id}/confirm", bind(&Portal::ConfirmPage));
    add("POST", "/s/{id}/confirm", bind(&Portal::Confirm));
    add("GET", "/s/{id}/reauth", bind(&Portal::Reauth));
    add("POST", "/s/{id}/reject", bind(&Portal::Reject));
    add("GET", "/s/{id}/done", bind(&Portal::Done));
    add("GET", "/s/{id}/documents/{doc_id}/file", bind(&Portal::DocumentFile));
    add("GET", "/static/firmo/{file}", bind_static(&Portal::Static));
    // Browsers ask every origin for an icon; "no icon" is 204, not a 404 in their console.
    add("GET", "/favicon.ico", [](Req&) {
        auto response = HttpResponse::Text(204, "", "image/x-icon");
        response.Set("Cache-Control", "public, max-age=86400");
        return response;
    });
    add("GET", "/api/v1/qr/{file}", bind(&Portal::QrCode));
    add("GET", "/static/pdfjs/{file}", bind_static(&Portal::PdfJs));
    add("GET", "/static/pdfjs/{dir}/{file}", bind_static(&Portal::PdfJs));
}

#define FIRMO_PORTAL_CTX(ctx, req)                                               \
    auto ctx##_opened = Open(req);                                               \
    if (!ctx##_opened) {                                                         \
        log::Error("portal_session", {{"error", ctx##_opened.error().message}}); \
        return HttpResponse::Text(HttpStatusOf(ErrorCode::kUnavailable),         \
                                  "temporarily unavailable");                    \
    }                                                                            \
    Ctx& ctx = *ctx##_opened

HttpResponse Portal::Home(Req& req) {
    FIRMO_PORTAL_CTX(ctx, req);
    return SeeOther(ctx,
                    ctx.session.authenticated() && ctx.session.identity_kind ? "/inbox" : "/login");
}

HttpResponse Portal::LoginPage(Req& req) {
    FIRMO_PORTAL_CTX(ctx, req);
    std::string return_to = req.Query("return_to").value_or("/inbox");
    if (!SafeReturnPath(return_to)) return_to = "/inbox";
    mu::data data;
    data.set("eid", eid_ != nullptr);
    data.set("return_to", return_to);
    return Page(ctx, 200, "Log in", Render("login.mustache", data));
}

HttpResponse Portal::StartEid(Ctx& ctx, const std::string& return_to, bool reauthentication,
                              AuthLevel min_level) {
    if (!eid_) {
        return Message(ctx, 404, "Not available", "Login with eID is not configured here.");
    }
    auto start =
        eid_->BeginLogin(options_.public_url + "/oidc/callback", reauthentication, min_level);
    if (!start) return ErrorPage(ctx, start.error());
    if (ctx.token.empty()) {
        // The login's state must survive the trip to the provider: the first session row
        // this visitor costs.
        if (auto refused = MayOpenSession(ctx.client.ip)) return TooMany(*refused);
        auto handle = sessions_.Start(ctx.client);
        if (!handle) return ErrorPage(ctx, handle.error());
        ctx.session = std::move(handle->session);
        ctx.token = handle->token;
        ctx.cookies.push_back(handle->token);
    }
    ctx.session.pending_json = Json{
        {"state", start->state},
        {"nonce", start->nonce},
        {"verifier", start->code_verifier},
        {"started_at", ToUnixMillis(start->started_at)},
        {"reauthentication", reauthentication},
        {"min_level", std::string(ToString(start->min_level))},
        {"return_to", return_to}}.dump();
    if (auto saved = sessions_.Save(ctx.session); !saved) return ErrorPage(ctx, saved.error());
    return SeeOther(ctx, start->authorize_url);
}

HttpResponse Portal::OidcStart(Req& req) {
    FIRMO_PORTAL_CTX(ctx, req);
    std::string return_to = req.Query("return_to").value_or("/inbox");
    if (!SafeReturnPath(return_to)) return_to = "/inbox";
    return StartEid(ctx, return_to, false, AuthLevel::kEidSubstantial);
}

HttpResponse Portal::OidcCallback(Req& req) {
    FIRMO_PORTAL_CTX(ctx, req);
    const Json pending = Json::parse(ctx.session.pending_json, nullptr, false);
    const auto state = req.Query("state");
    if (!eid_ || !pending.is_object() || !state || pending.value("state", "") != *state) {
        return Message(ctx, 400, "Login not completed",
                       "This login answer does not belong to your session. Please start again.");
    }
    ctx.session.pending_json.clear();
    (void)sessions_.Save(ctx.session);  // the state is single use
    if (auto error = req.Query("error")) {
        return Message(ctx, 401, "Login not completed", "The identity provider said: " + *error);
    }
    const auto code = req.Query("code");
    if (!code) return Message(ctx, 400, "Login not completed", "The answer carried no code.");
    LoginStart start;
    start.state = *state;
    start.nonce = pending.value("nonce", "");
    start.code_verifier = pending.value("verifier", "");
    start.started_at = FromUnixMillis(pending.value("started_at", std::int64_t{0}));
    start.reauthentication = pending.value("reauthentication", false);
    start.min_level =
        ParseAuthLevel(pending.value("min_level", "")).value_or(AuthLevel::kEidSubstantial);
    auto identity = eid_->CompleteLogin(*code, options_.public_url + "/oidc/callback", start);
    if (!identity) return ErrorPage(ctx, identity.error());
    const std::string return_to = pending.value("return_to", "/inbox");
    const ClientInfo client = Client(req);
    if (start.reauthentication) {
        if (auto ok = sessions_.Reauthenticated(ctx.token, *identity); !ok) {
            return ErrorPage(ctx, ok.error());
        }
        // return_to is /s/{id}: the eID confirmation completes the ceremony.
        const std::string request_id = return_to.substr(3);
        auto fresh = sessions_.Find(ctx.token);
        if (!fresh) return ErrorPage(ctx, fresh.error());
        ctx.session = std::move(*fresh);
        if (auto ok = ceremony_.Confirm(ctx.session, request_id, "", client); !ok) {
            return ErrorPage(ctx, ok.error());
        }
        return SeeOther(ctx, return_to + "/done");
    }
    auto handle = sessions_.LoginWithIdentity(ctx.token, *identity, client);
    if (!handle) return ErrorPage(ctx, handle.error());
    ctx.session = std::move(handle->session);
    ctx.token = handle->token;
    ctx.cookies = {handle->token};
    return SeeOther(ctx, SafeReturnPath(return_to) ? return_to : "/inbox");
}

HttpResponse Portal::Logout(Req& req) {
    FIRMO_PORTAL_CTX(ctx, req);
    if (!CsrfOk(ctx, req))
        return Message(ctx, 403, "Not possible", "The form expired; reload the page.");
    if (!ctx.token.empty()) (void)sessions_.End(ctx.token);
    // No new session: the next visit starts without one, like a first.
    ctx.session = PortalSession{};
    ctx.token.clear();
    ctx.cookies.clear();
    ctx.clear_session = true;
    return Message(ctx, 200, "Logged out", "You are logged out. You can close this page.");
}

HttpResponse Portal::Inbox(Req& req) {
    FIRMO_PORTAL_CTX(ctx, req);
    if (!ctx.session.authenticated()) return SeeOther(ctx, "/login?return_to=/inbox");
    if (!ctx.session.identity_kind) return SeeOther(ctx, "/s/" + ctx.session.request_id);
    auto page = ceremony_.Inbox(ctx.session, PageQuery{50, std::nullopt});
    if (!page) return ErrorPage(ctx, page.error());
    mu::list messages;
    for (const auto& m : page->items) {
        mu::data item;
        item.set("request_id",
                 m.kind == MessageKind::kSignedDocuments ? m.request_id + "/done" : m.request_id);
        item.set("text", m.kind == MessageKind::kSignRequest ? "You have a document to sign"
                                                             : "Here is your signed document");
        item.set("title", m.title);
        item.set("issuer_title", m.kind == MessageKind::kSignRequest ? "To sign" : "Signed");
        item.set("date", FormatRfc3339(m.created_at).substr(0, 10));
        messages.push_back(item);
    }
    mu::data data;
    data.set("messages", messages);
    data.set("name", ctx.session.full_name);
    return Page(ctx, 200, "Your messages", Render("inbox.mustache", data));
}

HttpResponse Portal::RenderLink(Ctx& ctx, const std::string& token, const api::Grant& grant,
                                bool sent, const std::string& error, int status) {
    auto info = sessions_.Lookup(grant.request_id, grant.document_id);
    if (!info) return ErrorPage(ctx, info.error());
    // A signer who has signed keeps the page as it is (their copy follows the documents
    // message); anyone else whose turn is over is told why instead of being offered a code.
    if (!info->first.may_sign() && info->first.request_signer().status != SignerStatus::kSigned) {
        const ClosedLink closed = WhyClosed(info->first, info->second);
        return Message(ctx, closed.status, closed.heading, closed.text);
    }
    const Signer& signer = info->first.signer;
    const std::string destination = signer.email   ? *signer.email
                                    : signer.phone ? *signer.phone
                                                   : std::string();
    mu::data data;
    data.set("issuer", info->second);
    data.set("token", token);
    data.set("csrf", ctx.session.csrf_token);
    data.set("eid", eid_ != nullptr && IsNationalIdentifier(signer.kind));
    data.set("return_to", "/s/" + grant.request_id);
    // A signer who must sign with eID is offered the eID login, not a code.
    const bool eid_only = eid_ != nullptr && IsEid(info->first.request_signer().authentication);
    data.set("code", !destination.empty() && !eid_only);
    data.set("sent", sent);
    data.set("destination", MaskContact(destination));
    data.set("minutes", std::to_string(std::max<long>(
                            1, static_cast<long>(sessions_.options().code_ttl.count() / 60))));
    if (!error.empty()) data.set("error", error);
    return Page(ctx, status, sent ? "Enter your code" : "Documents to sign",
                Render("link.mustache", data));
}

HttpResponse Portal::LinkPage(Req& req) {
    FIRMO_PORTAL_CTX(ctx, req);
    const std::string token(req.Param("token"));
    auto grant = urls_.Verify(token, "signer-link", clock_.Now());
    if (!grant) return ErrorPage(ctx, grant.error());
    if (ctx.session.authenticated() && ctx.session.request_id == grant->request_id &&
        ctx.session.signer_id == grant->document_id) {
        return SeeOther(ctx, "/s/" + grant->request_id);
    }
    return RenderLink(ctx, token, *grant, false, "", 200);
}

HttpResponse Portal::LinkSendCode(Req& req) {
    FIRMO_PORTAL_CTX(ctx, req);
    if (!CsrfOk(ctx, req))
        return Message(ctx, 403, "Not possible", "The form expired; reload the page.");
    const std::string token(req.Param("token"));
    auto grant = urls_.Verify(token, "signer-link", clock_.Now());
    if (!grant) return ErrorPage(ctx, grant.error());
    auto sent =
        sessions_.SendCode(grant->request_id, grant->document_id, CodeKind::kLogin, Client(req));
    if (!sent && sent.error().code != ErrorCode::kRateLimited) return ErrorPage(ctx, sent.error());
    return RenderLink(ctx, token, *grant, true, sent ? "" : sent.error().message, 200);
}

HttpResponse Portal::LinkLogin(Req& req) {
    FIRMO_PORTAL_CTX(ctx, req);
    if (!CsrfOk(ctx, req))
        return Message(ctx, 403, "Not possible", "The form expired; reload the page.");
    const std::string token(req.Param("token"));
    auto grant = urls_.Verify(token, "signer-link", clock_.Now());
    if (!grant) return ErrorPage(ctx, grant.error());
    if (auto refused = MayOpenSession(ctx.client.ip)) return TooMany(*refused);
    auto handle = sessions_.LoginWithCode(ctx.token, grant->request_id, grant->document_id,
                                          FormValue(ctx.form, "code"), Client(req));
    if (!handle) {
        if (handle.error().code != ErrorCode::kUnauthenticated &&
            handle.error().code != ErrorCode::kGone) {
            return ErrorPage(ctx, handle.error());
        }
        return RenderLink(ctx, token, *grant, true, handle.error().message, 401);
    }
    ctx.session = std::move(handle->session);
    ctx.token = handle->token;
    ctx.cookies = {handle->token};
    return SeeOther(ctx, "/s/" + grant->request_id);
}

HttpResponse Portal::Direct(Req& req) {
    FIRMO_PORTAL_CTX(ctx, req);
    if (auto refused = MayOpenSession(ctx.client.ip)) return TooMany(*refused);
    auto handle = sessions_.LoginWithRedirect(ctx.token, req.Param("token"), Client(req));
    if (!handle) return ErrorPage(ctx, handle.error());
    ctx.session = std::move(handle->session);
    ctx.token = handle->token;
    ctx.cookies = {handle->token};
    return SeeOther(ctx, "/s/" + ctx.session.request_id);
}

HttpResponse Portal::RenderCeremony(Ctx& ctx, const CeremonyView& view, const std::string& error,
                                    const std::vector<Violation>& violations, int status) {
    const SignatureRequest& r = view.access.request;
    mu::data data;
    data.set("rid", r.id);
    data.set("csrf", ctx.session.csrf_token);
    data.set("issuer", view.issuer_name);
    data.set("title", view.title);
    data.set("status_text", StatusText(r.status));
    data.set("expires", FormatRfc3339(r.expires_at).substr(0, 10));
    data.set("can_sign", view.can_sign);
    if (!view.can_sign) {
        data.set("notice", view.access.request_signer().confirmed_at
                               ? "You have confirmed; your signature is being applied."
                               : "You can read these documents; they cannot be signed now.");
    }
    if (!error.empty()) {
        data.set("error", error);
        if (!violations.empty()) {
            mu::list items;
            for (const auto& v : violations) items.push_back(mu::data(v.reason));
            mu::data vd;
            vd.set("items", items);
            data.set("violations", vd);
        }
    }
    mu::list documents;
    for (const auto& cd : view.documents) {
        mu::data d;
        d.set("index", std::to_string(cd.document->index));
        d.set("id", cd.document->id);
        d.set("rid", r.id);
        d.set("doc_title", cd.document->metadata.title);
        d.set("pages", std::to_string(cd.document->page_count));
        mu::list fields;
        for (const auto& f : cd.fields) {
            if (!f.mine) continue;
            mu::data fd;
            fd.set("key", std::to_string(f.ref.document) + ":" + std::to_string(f.ref.field));
            fd.set("clause", f.field->clause.title);
            const ClauseType type = f.field->clause.type;
            fd.set("kind", type == ClauseType::kUnfair     ? "unfair"
                           : type == ClauseType::kOptional ? "optional"
                                                           : "required");
            fd.set("kind_text", type == ClauseType::kUnfair ? "Unfair term — accept explicitly"
                                : type == ClauseType::kOptional ? "Optional"
                                                                : "Required");
            fd.set("required", type != ClauseType::kOptional);
            fd.set("checked", f.accepted);
            fd.set("enabled", view.can_sign);
            fields.push_back(fd);
        }
        d.set("has_fields", !fields.empty());
        d.set("fields", fields);
        documents.push_back(d);
    }
    data.set("documents", documents);
    return Page(ctx, status, view.title, Render("ceremony.mustache", data), "", true);
}

HttpResponse Portal::Ceremony(Req& req) {
    FIRMO_PORTAL_CTX(ctx, req);
    const std::string id(req.Param("id"));
    if (!ctx.session.authenticated()) return SeeOther(ctx, "/login?return_to=/s/" + id);
    auto view = ceremony_.Open(ctx.session, id, Client(req));
    if (!view) {
        if (view.error().code == ErrorCode::kForbidden) {
            return Message(ctx, 403, "Not your turn yet", view.error().message);
        }
        return ErrorPage(ctx, view.error());
    }
    const RequestSigner& rs = view->access.request_signer();
    if (rs.confirmed_at || rs.status != SignerStatus::kWaiting ||
        IsTerminal(view->access.request.status)) {
        return SeeOther(ctx, "/s/" + id + "/done");
    }
    return RenderCeremony(ctx, *view, "", {}, 200);
}

HttpResponse Portal::Accept(Req& req) {
    FIRMO_PORTAL_CTX(ctx, req);
    const std::string id(req.Param("id"));
    if (!CsrfOk(ctx, req))
        return Message(ctx, 403, "Not possible", "The form expired; reload the page.");
    auto outcome = ceremony_.Accept(ctx.session, id, ParseAccepted(ctx.form), Client(req));
    if (!outcome) {
        if (outcome.error().code == ErrorCode::kInvalidArgument) {
            auto view = ceremony_.Look(ctx.session, id);
            if (!view) return ErrorPage(ctx, view.error());
            return RenderCeremony(ctx, *view, "Please accept every required and unfair clause.",
                                  outcome.error().violations, 422);
        }
        return ErrorPage(ctx, outcome.error());
    }
    return SeeOther(ctx, "/s/" + id + "/confirm");
}

HttpResponse Portal::RenderConfirm(Ctx& ctx, const std::string& id, const std::string& error,
                                   int status) {
    auto view = ceremony_.Look(ctx.session, id);
    if (!view) return ErrorPage(ctx, view.error());
    mu::data data;
    data.set("rid", id);
    data.set("csrf", ctx.session.csrf_token);
    data.set("issuer", view->issuer_name);
    data.set("title", view->title);
    data.set("count", std::to_string(view->documents.size()));
    data.set("code", view->second_factor == SecondFactor::kCode);
    data.set("reauth", view->second_factor == SecondFactor::kReauthentication && eid_ != nullptr);
    data.set("eid_required", view->eid_required);
    std::string message = error;
    if (view->eid_required && eid_ == nullptr && message.empty()) {
        message =
            "This document must be signed after a login with eID, which this service does "
            "not offer; please contact the sender.";
    }
    const Signer& signer = view->access.signer;
    data.set("destination", MaskContact(signer.email   ? *signer.email
                                        : signer.phone ? *signer.phone
                                                       : ""));
    if (!message.empty()) data.set("error", message);
    return Page(ctx, status, "Confirm", Render("confirm.mustache", data));
}

HttpResponse Portal::ConfirmPage(Req& req) {
    FIRMO_PORTAL_CTX(ctx, req);
    const std::string id(req.Param("id"));
    if (!ctx.session.authenticated()) return SeeOther(ctx, "/login?return_to=/s/" + id);
    return RenderConfirm(ctx, id, "", 200);
}

HttpResponse Portal::Confirm(Req& req) {
    FIRMO_PORTAL_CTX(ctx, req);
    const std::string id(req.Param("id"));
    if (!CsrfOk(ctx, req))
        return Message(ctx, 403, "Not possible", "The form expired; reload the page.");
    auto ok = ceremony_.Confirm(ctx.session, id, FormValue(ctx.form, "code"), Client(req));
    if (!ok) {
        const auto code = ok.error().code;
        if (code == ErrorCode::kUnauthenticated || code == ErrorCode::kGone) {
            return RenderConfirm(ctx, id, ok.error().message, 401);
        }
        if (code == ErrorCode::kAuthenticationRequired) {
            // The page offers the eID login instead of the code.
            return RenderConfirm(ctx, id, ok.error().message, HttpStatusOf(code));
        }
        return ErrorPage(ctx, ok.error());
    }
    return SeeOther(ctx, "/s/" + id + "/done");
}

HttpResponse Portal::Reauth(Req& req) {
    FIRMO_PORTAL_CTX(ctx, req);
    const std::string id(req.Param("id"));
    if (!ctx.session.authenticated()) return SeeOther(ctx, "/login?return_to=/s/" + id);
    // Asks the provider for the level this signer must reach.
    auto view = ceremony_.Look(ctx.session, id);
    if (!view) return ErrorPage(ctx, view.error());
    return StartEid(ctx, "/s/" + id, true, view->access.request_signer().authentication);
}

HttpResponse Portal::Reject(Req& req) {
    FIRMO_PORTAL_CTX(ctx, req);
    const std::string id(req.Param("id"));
    if (!CsrfOk(ctx, req))
        return Message(ctx, 403, "Not possible", "The form expired; reload the page.");
    auto ok = ceremony_.Reject(ctx.session, id, FormValue(ctx.form, "reason"), Client(req));
    if (!ok) return ErrorPage(ctx, ok.error());
    return SeeOther(ctx, "/s/" + id + "/done");
}

HttpResponse Portal::Done(Req& req) {
    FIRMO_PORTAL_CTX(ctx, req);
    const std::string id(req.Param("id"));
    if (!ctx.session.authenticated()) return SeeOther(ctx, "/login?return_to=/s/" + id);
    auto view = ceremony_.Look(ctx.session, id);
    if (!view) return ErrorPage(ctx, view.error());
    const SignatureRequest& r = view->access.request;
    const RequestSigner& rs = view->access.request_signer();
    if (rs.status == SignerStatus::kWaiting && !rs.confirmed_at && !IsTerminal(r.status)) {
        return SeeOther(ctx, "/s/" + id);
    }
    auto exit = ceremony_.ExitUrl(ctx.session, id);
    if (!exit) return ErrorPage(ctx, exit.error());
    if (*exit) {
        // Not a 303: when this page follows a form POST (reject), Chromium applies the CSP's
        // form-action to the whole redirect chain and would block the institution's URL.
        mu::data data;
        data.set("heading", rs.status == SignerStatus::kSigned ? "Signed" : "Finished");
        data.set("text", "Taking you back to the sender's site…");
        data.set("exit", **exit);
        data.set("issuer", view->issuer_name);
        return Page(ctx, 200, "Done", Render("done.mustache", data), "0; url=" + **exit);
    }
    mu::data data;
    std::string refresh;
    if (rs.status == SignerStatus::kSigned) {
        data.set("heading", "Signed");
        data.set("text", r.status == RequestStatus::kSigned
                             ? "Every signature is in place. Download your signed copies below."
                             : "Your signature is in place. Others still have to sign; download "
                               "the document as it is now below.");
        mu::list items;
        for (const auto& cd : view->documents) {
            mu::data d;
            d.set("rid", id);
            d.set("id", cd.document->id);
            d.set("title", cd.document->metadata.title);
            items.push_back(d);
        }
        mu::data docs;
        docs.set("items", items);
        data.set("documents", docs);
    } else if (rs.status == SignerStatus::kWaiting && rs.confirmed_at &&
               r.status == RequestStatus::kWaitForQtsp) {
        data.set("heading", "Signing…");
        data.set("text", "Your signature is being applied. This page updates by itself.");
        refresh = "2";
    } else if (rs.status == SignerStatus::kRejected) {
        data.set("heading", "Rejected");
        data.set("text", "You rejected this request. The sender has been told.");
    } else {
        data.set("heading", "Not signed");
        data.set("text", "This request is " + StatusText(r.status) + ".");
    }
    return Page(ctx, 200, "Done", Render("done.mustache", data), refresh);
}

HttpResponse Portal::DocumentFile(Req& req) {
    FIRMO_PORTAL_CTX(ctx, req);
    const std::string id(req.Param("id"));
    if (!ctx.session.authenticated()) return Message(ctx, 401, "Please log in", "Log in first.");
    auto content = ceremony_.DocumentBytes(ctx.session, id, std::string(req.Param("doc_id")));
    if (!content) return ErrorPage(ctx, content.error());
    HttpResponse r = HttpResponse::Text(200, std::move(content->bytes), "application/pdf");
    r.Set("Content-Disposition", std::string(req.Query("download") ? "attachment" : "inline") +
                                     "; filename=\"" + FileName(content->title) + "\"");
    r.Set("Content-Security-Policy", "default-src 'none'; sandbox");
    return r;
}

HttpResponse Portal::QrCode(Req& req) {
    std::string file(req.Param("file"));
    const bool png = file.ends_with(".png");
    if (!png && !file.ends_with(".svg")) return HttpResponse::Text(404, "not found");
    file.resize(file.size() - 4);
    auto grant = urls_.Verify(file, "qr", clock_.Now());
    if (!grant) {
        return HttpResponse::Text(HttpStatusOf(grant.error().code), grant.error().message);
    }
    // The universal link: opens the request in the portal, after login.
    const std::string link = options_.public_url + "/s/" + grant->request_id;
    auto image = png ? QrPng(link, 8) : QrSvg(link, 8, "Sign with Firmo: " + link);
    if (!image)
        return HttpResponse::Text(HttpStatusOf(ErrorCode::kInternal), "cannot draw the QR code");
    return HttpResponse::Text(200, std::move(*image), png ? "image/png" : "image/svg+xml");
}

HttpResponse Portal::Static(Req& req) {
    const std::string_view file = req.Param("file");
    if (file != "portal.css" && file != "portal.js" && file != "button.js") {
        return HttpResponse::Text(404, "not found");
    }
    HttpResponse r = HttpResponse::Text(
        200, std::string(EmbeddedFile(file)),
        file.ends_with(".css") ? "text/css; charset=utf-8" : "text/javascript; charset=utf-8");
    // The sign button is loaded by other sites as <script type="module">, which browsers fetch
    // with CORS: without this header they refuse to run it. The file is public and static.
    if (file == "button.js") r.Set("Access-Control-Allow-Origin", "*");
    return r;
}

HttpResponse Portal::PdfJs(Req& req) {
    static std::mutex mu;
    static std::unordered_map<std::string, std::string> cache;
    const auto safe = [](std::string_view s) {
        if (s.empty() || s.front() == '.' || s.size() > 100) return false;
        for (char c : s) {
            if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' ||
                  c == '-')) {
                return false;
            }
        }
        return true;
    };
    std::string dir(req.Param("dir"));
    const std::string file(req.Param("file"));
    const bool dir_ok =
        dir.empty() || dir == "standard_fonts" || dir == "cmaps" || dir == "wasm" || dir == "iccs";
    if (!dir_ok || !safe(file)) return HttpResponse::Text(404, "not found");
    const std::string rel = dir.empty() ? file : dir + "/" + file;
    std::string body;
    {
        std::lock_guard lock(mu);
        if (auto it = cache.find(rel); it != cache.end()) body = it->second;
    }
    if (body.empty()) {
        std::ifstream in(options_.assets_dir / "pdfjs" / rel, std::ios::binary);
        if (!in) return HttpResponse::Text(404, "not found");
        body.assign(std::istreambuf_iterator<char>(in), {});
        std::lock_guard lock(mu);
        cache[rel] = body;
    }
    std::string type = "application/octet-stream";
    if (file.ends_with(".mjs") || file.ends_with(".js")) type = "text/javascript; charset=utf-8";
    if (file.ends_with(".wasm")) type = "application/wasm";
    return HttpResponse::Text(200, std::move(body), type);
}

}  // namespace firmo::web
