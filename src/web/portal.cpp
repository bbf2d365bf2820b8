#include "web/portal.hpp"

#include <fstream>
#include <kainjow/mustache.hpp>
#include <mutex>
#include <unordered_map>

#include "api/issuer_identity_api.hpp"
#include "codec/json.hpp"
#include "core/encoding.hpp"
#include "core/log.hpp"
#include "domain/services/request_steps.hpp"
#include "http/message.hpp"
#include "i18n/catalog.hpp"
#include "i18n/zone.hpp"
#include "web/page_kit.hpp"
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
// The signer's own choice of language (the switch on every page), for a year.
constexpr const char* kLanguageCookie = "firmo_lang";
constexpr int kLanguageCookieSeconds = 365 * 24 * 3600;

std::string Render(std::string_view template_name, const mu::data& data) {
    mu::mustache tmpl{std::string(EmbeddedFile(template_name))};
    return tmpl.render(data);
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

// The catalogue key ("page.status.<...>") of a request's status as the signer reads it.
std::string StatusKey(RequestStatus s) {
    switch (s) {
        case RequestStatus::kDraft:
            return "page.status.draft";
        case RequestStatus::kReady:
        case RequestStatus::kWaitForSignature:
            return "page.status.waiting";
        case RequestStatus::kWaitForQtsp:
            return "page.status.being_signed";
        case RequestStatus::kSigned:
            return "page.status.signed";
        case RequestStatus::kRejected:
            return "page.status.rejected";
        case RequestStatus::kCancelled:
            return "page.status.cancelled";
        case RequestStatus::kExpired:
            return "page.status.expired";
        case RequestStatus::kFailed:
            return "page.status.failed";
    }
    return "page.status.failed";
}

mu::data TextsData(const std::map<std::string, std::string>& texts) {
    mu::data data;
    for (const auto& [name, text] : texts) data.set(name, text);
    return data;
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
// is false): why, and what to do, instead of a "Send me a code" that can only fail. The texts
// are the catalogue's "msg.closed.*", with {who}: the institution.
struct ClosedLink {
    int status;
    std::string heading_key;
    std::string text_key;
};

ClosedLink WhyClosed(const SignerAccess& access) {
    if (access.request_signer().status == SignerStatus::kBlocked) {
        return {403, "error.blocked.heading", "msg.closed.blocked"};
    }
    const std::string heading = "msg.closed.heading";
    switch (access.request.status) {
        case RequestStatus::kCancelled:
            return {410, heading, "msg.closed.cancelled"};
        case RequestStatus::kExpired:
            return {410, heading, "msg.closed.expired"};
        case RequestStatus::kRejected:
            return {410, heading,
                    access.request_signer().status == SignerStatus::kRejected
                        ? "msg.closed.declined_by_you"
                        : "msg.closed.declined_by_other"};
        default:
            return {410, heading, "msg.closed.other"};
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
    // The page's language, by precedence: the signer's own choice (?lang= from the switch, or
    // its cookie), what the signer's record says (set by handlers that know the signer), the
    // browser's Accept-Language, English.
    std::string chosen_language;
    bool remember_language = false;  // the choice came with this request: set the cookie
    std::string signer_language;
    std::string browser_language;
    std::string here;  // where the language switch leads back to (a GET page)
    // The confirm page (issue 16) says a code was sent only when this answer or the accept
    // before it sent one; otherwise it offers to send one.
    bool code_sent = false;

    const std::string& Language() const {
        static const std::string kDefault(i18n::kDefaultLanguage);
        if (!chosen_language.empty()) return chosen_language;
        if (!signer_language.empty()) return signer_language;
        if (!browser_language.empty()) return browser_language;
        return kDefault;
    }
    std::string T(std::string_view key, const i18n::Args& args = {}) const {
        return i18n::Catalog::Builtin().Text(Language(), key, args);
    }
    // The messages under `prefix`, for a template's `t`.
    mu::data Texts(std::string_view prefix, const i18n::Args& args = {}) const {
        return TextsData(i18n::Catalog::Builtin().Texts(Language(), prefix, args));
    }
    std::string zone = "UTC";  // the signer's clock, for times on the page

    // The institution the page speaks for (issue 16): its name, logo and contact in the header
    // and footer. None (a page before any request is known): Firmo's own.
    std::optional<Issuer> institution;
    void From(const Issuer& issuer) {
        if (!issuer.id.empty()) institution = issuer;
    }

    // The signer the page is about: their language (unless they chose one) and their clock.
    void For(const Signer& signer) {
        signer_language = KnownSignerLanguage(signer);
        zone = i18n::ZoneOfPerson(signer.phone.value_or(""), SignerCountry(signer));
        if (zone.empty()) zone = "UTC";
    }
};

namespace {

// The pdf.js viewer of one document (viewer.mustache, read by portal.js): its pages with a text
// layer, the zoom buttons, and the signer's fields marked with their clauses (`fields`: JSON,
// empty for none).
template <class C>
std::string ViewerHtml(const C& ctx, const std::string& request_id, const Document& document,
                       const std::string& fields) {
    const i18n::Args args{{"doc_title", document.metadata.title}};
    mu::data data;
    data.set("vid", "viewer-" + std::to_string(document.index));
    data.set("src", "/s/" + request_id + "/documents/" + document.id + "/file");
    data.set("label", ctx.T("page.ceremony.viewer_label", args));
    data.set("page_of", ctx.T("page.ceremony.page_of"));
    data.set("failed", ctx.T("page.ceremony.preview_failed"));
    data.set("zoom_label", ctx.T("page.ceremony.zoom_label", args));
    data.set("zoom_in", ctx.T("page.ceremony.zoom_in"));
    data.set("zoom_out", ctx.T("page.ceremony.zoom_out"));
    data.set("zoom_fit", ctx.T("page.ceremony.zoom_fit"));
    if (!fields.empty()) data.set("fields", fields);
    return Render("viewer.mustache", data);
}

// Where the signer's fields are, for the viewer to mark them: {name} (an existing field of the
// PDF) or {page, x, y, w, h} (points from the top-left), and the words shown with each.
template <class C>
std::string FieldMarks(const C& ctx, const CeremonyDocument& cd) {
    Json marks = Json::array();
    for (const auto& f : cd.fields) {
        if (!f.mine) continue;
        Json mark = {
            {"label", ctx.T("page.ceremony.field_mark", {{"clause", f.field->clause.title}})}};
        if (const auto* named = std::get_if<FieldByName>(&f.field->attrs)) {
            mark["name"] = named->unique_name;
        } else if (const auto* at = std::get_if<FieldAtPosition>(&f.field->attrs)) {
            mark["page"] = at->page;
            mark["x"] = at->x;
            mark["y"] = at->y;
            mark["w"] = at->w;
            mark["h"] = at->h;
        }
        marks.push_back(std::move(mark));
    }
    return marks.empty() ? std::string() : marks.dump();
}

}  // namespace

void Portal::DetectLanguage(Ctx& ctx, const Req& req) {
    LanguageChoice choice = ChooseLanguage(req, kLanguageCookie);
    if (req.method == "GET") ctx.here = std::move(choice.here);
    ctx.chosen_language = std::move(choice.chosen);
    ctx.remember_language = choice.remember;
    ctx.browser_language = std::move(choice.browser);
}

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
    DetectLanguage(ctx, req);
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
    PreSession pre = OpenPreSession(
        req, kPreCookie, urls_, kPreCsrfPurpose, [this] { return sessions_.NewToken(); },
        clock_.Now() + sessions_.options().anonymous_ttl);
    ctx.pre = std::move(pre.pre);
    ctx.set_pre = pre.set_pre;
    ctx.session.csrf_token = std::move(pre.csrf);
    return ctx;
}

bool Portal::CsrfOk(const Ctx& ctx, const Req& req) const {
    (void)req;
    const std::string sent = FormValue(ctx.form, "csrf");
    if (sent.empty()) return false;
    if (!ctx.token.empty()) return ConstantTimeEquals(sent, ctx.session.csrf_token);
    return PreSessionCsrfOk(urls_, kPreCsrfPurpose, sent, ctx.pre, clock_.Now());
}

std::optional<api::SignerRefusal> Portal::MayOpenSession(const std::string& ip) const {
    if (!limits_) return std::nullopt;
    return limits_->AllowNewSession(ip);
}

HttpResponse Portal::TooMany(Ctx& ctx, const api::SignerRefusal& refusal) const {
    HttpResponse r = MessageOf(ctx, HttpStatusOf(ErrorCode::kRateLimited), "msg.too_many");
    const auto seconds = std::chrono::ceil<std::chrono::seconds>(refusal.retry_after).count();
    r.Set("Retry-After", std::to_string(std::max<std::int64_t>(1, seconds)));
    return r;
}

HttpResponse Portal::Page(Ctx& ctx, int status, const std::string& title, const std::string& body,
                          const std::string& refresh, bool viewer) const {
    mu::data data;
    data.set("title", title);
    data.set("body", body);
    data.set("lang", ctx.Language());
    data.set("c", ctx.Texts("page.common."));
    // The language switch: one link per catalogue, each named in its own language.
    mu::list languages;
    for (const LanguageLink& link : LanguageLinks(ctx.here, ctx.Language())) {
        mu::data item;
        item.set("code", link.code);
        item.set("name", link.name);
        item.set("href", link.href);
        item.set("current", link.current);
        languages.push_back(item);
    }
    data.set("languages", languages);
    data.set("csrf", ctx.session.csrf_token);
    data.set("logged_in", ctx.session.authenticated());
    data.set("viewer", viewer);
    if (ctx.institution && !ctx.institution->name.empty()) {
        const Issuer& issuer = *ctx.institution;
        mu::data who;
        who.set("name", issuer.name);
        // Relative: the page's own origin serves it (the CSP's img-src 'self').
        if (const std::string logo = api::IssuerLogoUrl("", issuer); !logo.empty()) {
            who.set("logo", logo);
        }
        // The institution's colour: a style sheet of its own (the CSP has no inline style).
        if (const std::string theme = api::IssuerThemeUrl(issuer); !theme.empty()) {
            data.set("theme", theme);
        }
        who.set("contact", ctx.T("page.common.contact", {{"issuer", issuer.name}}));
        who.set("email", issuer.email);
        if (!issuer.support_url.empty()) {
            who.set("url", issuer.support_url);
            who.set("help", ctx.T("page.common.help", {{"issuer", issuer.name}}));
        }
        data.set("institution", who);
    }
    if (!refresh.empty()) data.set("refresh", refresh);
    HttpResponse r =
        HttpResponse::Text(status, Render("layout.mustache", data), "text/html; charset=utf-8");
    SetPageSecurityHeaders(r);
    const auto set_cookie = [&](std::string cookie) {
        AddCookie(r, std::move(cookie), options_.secure_cookies);
    };
    for (const auto& token : ctx.cookies) {
        set_cookie(std::string(kCookie) + "=" + token + "; Max-Age=" +
                   std::to_string(std::chrono::seconds(sessions_.options().session_ttl).count()));
    }
    if (ctx.cookies.empty() && ctx.clear_session) set_cookie(std::string(kCookie) + "=; Max-Age=0");
    if (ctx.token.empty() && ctx.set_pre) set_cookie(std::string(kPreCookie) + "=" + ctx.pre);
    if (ctx.remember_language) {
        set_cookie(std::string(kLanguageCookie) + "=" + ctx.chosen_language +
                   "; Max-Age=" + std::to_string(kLanguageCookieSeconds));
    }
    return r;
}

HttpResponse Portal::SeeOther(Ctx& ctx, const std::string& location) const {
    HttpResponse r = Page(ctx, 303, ctx.T("page.common.redirecting"), "");
    r.body.clear();
    r.Set("Location", location);
    return r;
}

HttpResponse Portal::Message(Ctx& ctx, int status, const std::string& heading,
                             const std::string& text, const std::string& next) const {
    mu::data data;
    data.set("heading", heading);
    data.set("text", text);
    const bool error = status >= 400;
    data.set("alert", error);
    if (error) {
        // What to do next, and whom to ask (issue 16).
        data.set("next_heading", ctx.T("error.next"));
        data.set("next", next.empty() ? ctx.T("error.next_default") : next);
        if (ctx.institution && !ctx.institution->name.empty()) {
            const Issuer& issuer = *ctx.institution;
            mu::data help;
            help.set("text", ctx.T("error.contact", {{"issuer", issuer.name}}));
            if (!issuer.email.empty()) help.set("email", issuer.email);
            if (!issuer.support_url.empty()) {
                help.set("url", issuer.support_url);
                help.set("url_text", ctx.T("page.common.help", {{"issuer", issuer.name}}));
            }
            data.set("help", help);
        } else {
            mu::data help;
            help.set("text", ctx.T("error.contact_unknown"));
            data.set("help", help);
        }
    }
    return Page(ctx, status, heading, Render("message.mustache", data));
}

HttpResponse Portal::MessageOf(Ctx& ctx, int status, std::string_view key,
                               const i18n::Args& args) const {
    auto texts = i18n::Catalog::Builtin().Texts(ctx.Language(), std::string(key) + ".", args);
    return Message(ctx, status, texts["heading"], texts["text"], texts["next"]);
}

HttpResponse Portal::CopyGone(Ctx& ctx, const SignatureRequest& request,
                              const std::string& issuer_name) const {
    const auto until = SignerCopyUntil(request, sessions_.options().signer_copy_ttl);
    const Timestamp when =
        request.documents_deleted_at && (!until || *request.documents_deleted_at < *until)
            ? *request.documents_deleted_at
            : until.value_or(clock_.Now());
    return MessageOf(
        ctx, HttpStatusOf(ErrorCode::kGone), "msg.copy_gone",
        {{"who", issuer_name.empty() ? ctx.T("msg.closed.the_sender") : issuer_name},
         {"until", i18n::Catalog::Builtin().DateTime(ctx.Language(), when, ctx.zone)}});
}

void Portal::LearnInstitution(Ctx& ctx, const std::string& request_id,
                              const std::string& signer_id) const {
    if (request_id.empty() || signer_id.empty()) return;
    if (ctx.institution && !ctx.signer_language.empty()) return;
    if (auto info = sessions_.Lookup(request_id, signer_id)) {
        if (!ctx.institution) ctx.From(info->second);
        // ... and the signer's language and clock, unless a page set them already.
        if (ctx.signer_language.empty()) ctx.For(info->first.signer);
    }
}

HttpResponse Portal::ErrorPage(Ctx& ctx, const Error& e) const {
    // The status is the error table's (core/error.hpp), as in the API; the words are the page's,
    // in the signer's language (the domain's sentences are English, for logs and integrators).
    const int status = HttpStatusOf(e.code);
    // The institution behind the session's request, for whom to ask (issue 16).
    if (ctx.session.authenticated()) {
        LearnInstitution(ctx, ctx.session.request_id, ctx.session.signer_id);
    }
    switch (e.code) {
        case ErrorCode::kNotFound:
            return MessageOf(ctx, status, "error.not_found");
        case ErrorCode::kForbidden:
            return MessageOf(ctx, status, "error.forbidden");
        case ErrorCode::kGone:
            return MessageOf(ctx, status, "error.gone");
        case ErrorCode::kConflict:
        case ErrorCode::kAlreadyExists:
            return MessageOf(ctx, status, "error.conflict");
        case ErrorCode::kUnauthenticated:
            return MessageOf(ctx, status, "error.unauthenticated");
        case ErrorCode::kRateLimited:
            return MessageOf(ctx, status, "error.rate_limited");
        case ErrorCode::kInvalidArgument:
            return MessageOf(ctx, status, "error.invalid");
        case ErrorCode::kAuthenticationRequired:
            // An eID login below the level this signature needs: say which, not "went wrong".
            return MessageOf(ctx, status, "error.authentication_required");
        case ErrorCode::kDocumentsDeleted:
            return MessageOf(ctx, status, "error.documents_deleted");
        default:
            log::Error("portal_error",
                       {{"error", e.message}, {"type", std::string(ErrorSlug(e.code))}});
            return MessageOf(ctx, status, "error.internal");
    }
}

void Portal::Register(const std::function<void(std::string, std::string, http::Handler)>& add) {
    // Pages count against the signer-side limits; the static files (fixed, no database) do
    // not: a viewer loads dozens of them.
    const auto bind = [this](Res (Portal::*fn)(Req&)) {
        return [this, fn](Req& req) {
            if (limits_) {
                if (auto refused = limits_->AllowCall(req)) {
                    Ctx ctx;
                    DetectLanguage(ctx, req);
                    return TooMany(ctx, *refused);
                }
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
    add("GET", "/s/{id}/qtsp", bind(&Portal::QtspPage));
    add("POST", "/s/{id}/qtsp", bind(&Portal::QtspAccept));
    add("GET", "/s/{id}/status", bind(&Portal::Status));
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
        return Unavailable(req);                                                 \
    }                                                                            \
    Ctx& ctx = *ctx##_opened

HttpResponse Portal::Unavailable(Req& req) const {
    Ctx ctx;
    DetectLanguage(ctx, req);
    HttpResponse r = MessageOf(ctx, HttpStatusOf(ErrorCode::kUnavailable), "error.unavailable");
    r.Set("Retry-After", "5");
    return r;
}

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
    data.set("t", ctx.Texts("page.login."));
    data.set("eid", eid_ != nullptr);
    data.set("return_to", return_to);
    return Page(ctx, 200, ctx.T("page.login.title"), Render("login.mustache", data));
}

HttpResponse Portal::StartEid(Ctx& ctx, const std::string& return_to, bool reauthentication,
                              AuthLevel min_level) {
    if (!eid_) {
        return MessageOf(ctx, 404, "msg.eid_unavailable");
    }
    auto start =
        eid_->BeginLogin(options_.public_url + "/oidc/callback", reauthentication, min_level);
    if (!start) return ErrorPage(ctx, start.error());
    if (ctx.token.empty()) {
        // The login's state must survive the trip to the provider: the first session row
        // this visitor costs.
        if (auto refused = MayOpenSession(ctx.client.ip)) return TooMany(ctx, *refused);
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
        return MessageOf(ctx, 400, "msg.login_foreign");
    }
    ctx.session.pending_json.clear();
    (void)sessions_.Save(ctx.session);  // the state is single use
    if (auto error = req.Query("error")) {
        return MessageOf(ctx, 401, "msg.login_refused", {{"reason", *error}});
    }
    const auto code = req.Query("code");
    if (!code) return MessageOf(ctx, 400, "msg.login_no_code");
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
        auto ok = ceremony_.Confirm(ctx.session, request_id, "", client);
        if (!ok) return ErrorPage(ctx, ok.error());
        if (ok->qtsp_authorization_url) return SeeOther(ctx, return_to + "/qtsp");
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
    if (!CsrfOk(ctx, req)) return MessageOf(ctx, 403, "msg.form_expired");
    if (!ctx.token.empty()) (void)sessions_.End(ctx.token);
    // No new session: the next visit starts without one, like a first.
    ctx.session = PortalSession{};
    ctx.token.clear();
    ctx.cookies.clear();
    ctx.clear_session = true;
    return MessageOf(ctx, 200, "msg.logged_out");
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
        const bool to_sign = m.kind == MessageKind::kSignRequest;
        item.set("text", ctx.T(to_sign ? "page.inbox.to_sign" : "page.inbox.signed"));
        item.set("title", m.title);
        item.set("issuer_title",
                 ctx.T(to_sign ? "page.inbox.tag_to_sign" : "page.inbox.tag_signed"));
        item.set("date", i18n::Catalog::Builtin().Date(ctx.Language(), m.created_at, "UTC"));
        messages.push_back(item);
    }
    mu::data data;
    data.set("t", ctx.Texts("page.inbox.", {{"name", ctx.session.full_name}}));
    data.set("messages", messages);
    data.set("name", ctx.session.full_name);
    return Page(ctx, 200, ctx.T("page.inbox.title"), Render("inbox.mustache", data));
}

std::string Portal::CodeError(const Ctx& ctx, const Error& error, const RequestSigner& rs) const {
    switch (error.code) {
        case ErrorCode::kGone:
            return ctx.T("error.code_expired");
        case ErrorCode::kRateLimited:
            return ctx.T("error.code_wait");
        case ErrorCode::kForbidden:
            return ctx.T("error.blocked.text");
        case ErrorCode::kAuthenticationRequired:
            return ctx.T("error.authentication_required.text");
        default: {
            const int left = sessions_.options().max_code_attempts - rs.failed_code_attempts;
            return ctx.T("error.code_wrong", {{"left", std::int64_t{std::max(left, 0)}}});
        }
    }
}

HttpResponse Portal::RenderLink(Ctx& ctx, const std::string& token, const api::Grant& grant,
                                bool sent, const std::optional<Error>& error, int status) {
    auto info = sessions_.Lookup(grant.request_id, grant.document_id);
    if (!info) return ErrorPage(ctx, info.error());
    ctx.From(info->second);
    const std::string issuer_name = info->second.name;
    const SignatureRequest& request = info->first.request;
    const Timestamp now = clock_.Now();
    // The request's current deadline closes the link, whatever the link was sent with.
    const bool expired = !IsTerminal(request.status) && now >= request.expires_at;
    // Named in the signer's language: call after ctx.For.
    const auto who = [&] {
        return issuer_name.empty() ? ctx.T("msg.closed.the_sender") : issuer_name;
    };
    // A signer who has signed (issue 16): the link of the "signed documents" message leads to
    // their copy (a fresh code, or eID, then the documents) while it is kept; before the
    // request ends it says the copy will follow; after, that it is no longer kept.
    const bool copy =
        info->first.request_signer().status == SignerStatus::kSigned && info->first.has_copy();
    if (info->first.request_signer().status == SignerStatus::kSigned &&
        !IsTerminal(request.status)) {
        ctx.For(info->first.signer);
        return Message(ctx, 200, ctx.T("msg.signed_waiting.heading"),
                       ctx.T("msg.signed_waiting.text", {{"who", who()}}));
    }
    if (copy) {
        ctx.For(info->first.signer);
        if (auto kept = CheckSignerCopyKept(request, sessions_.options().signer_copy_ttl, now);
            !kept) {
            return CopyGone(ctx, request, issuer_name);
        }
    }
    // Anyone else whose turn is over is told why instead of being offered a code.
    if (!copy && (expired || !info->first.may_sign())) {
        ctx.For(info->first.signer);
        const ClosedLink closed = expired
                                      ? ClosedLink{410, "msg.closed.heading", "msg.closed.expired"}
                                      : WhyClosed(info->first);
        return Message(ctx, closed.status, ctx.T(closed.heading_key),
                       ctx.T(closed.text_key, {{"who", who()}}),
                       ctx.T("msg.closed.next", {{"who", who()}}));
    }
    // Before its activation time the request is announced, not offered (no code to ask for).
    if (info->first.may_sign() && !IsActive(request, now)) {
        ctx.For(info->first.signer);
        const std::string when =
            i18n::Catalog::Builtin().DateTime(ctx.Language(), *request.activates_at, ctx.zone);
        return Message(ctx, 200, ctx.T("msg.not_yet.heading"),
                       ctx.T("msg.not_yet.text", {{"who", who()}, {"when", when}}));
    }
    const Signer& signer = info->first.signer;
    ctx.For(signer);
    // Before any code is offered or sent (issue 16): a signer whose turn has not come is told
    // so at once, not after typing a code.
    if (info->first.may_sign() && !IsTurnOf(info->first.request, info->first.position)) {
        return MessageOf(ctx, 403, "msg.not_your_turn");
    }
    ctx.here = "/l/" + token;
    const std::string destination = signer.email   ? *signer.email
                                    : signer.phone ? *signer.phone
                                                   : std::string();
    const auto minutes = std::max<std::int64_t>(
        1, static_cast<std::int64_t>(sessions_.options().code_ttl.count() / 60));
    const i18n::Args args{
        {"issuer", issuer_name}, {"destination", MaskContact(destination)}, {"minutes", minutes}};
    const i18n::Catalog& catalog = i18n::Catalog::Builtin();
    auto texts = catalog.Texts(ctx.Language(), "page.link.", args);
    // The copy's page is the link page with its own words (page.copy.* over page.link.*).
    if (copy) {
        for (auto& [name, text] : catalog.Texts(ctx.Language(), "page.copy.", args)) {
            texts[name] = std::move(text);
        }
    }
    mu::data data;
    data.set("t", TextsData(texts));
    data.set("issuer", issuer_name);
    data.set("token", token);
    data.set("csrf", ctx.session.csrf_token);
    data.set("eid", eid_ != nullptr && IsNationalIdentifier(signer.kind));
    data.set("return_to", "/s/" + grant.request_id);
    // A signer who must sign with eID is offered the eID login, not a code.
    const bool eid_only = eid_ != nullptr && IsEid(info->first.request_signer().authentication);
    data.set("code", !destination.empty() && !eid_only);
    data.set("sent", sent);
    data.set("destination", MaskContact(destination));
    data.set("minutes", std::to_string(minutes));
    if (error) data.set("error", CodeError(ctx, *error, info->first.request_signer()));
    return Page(ctx, status, texts[sent ? "title_code" : "title"], Render("link.mustache", data));
}

HttpResponse Portal::LinkPage(Req& req) {
    FIRMO_PORTAL_CTX(ctx, req);
    const std::string token(req.Param("token"));
    auto grant = api::VerifySignerLink(urls_, token);
    if (!grant) return ErrorPage(ctx, grant.error());
    if (ctx.session.authenticated() && ctx.session.request_id == grant->request_id &&
        ctx.session.signer_id == grant->document_id) {
        return SeeOther(ctx, "/s/" + grant->request_id);
    }
    return RenderLink(ctx, token, *grant, false, std::nullopt, 200);
}

HttpResponse Portal::LinkSendCode(Req& req) {
    FIRMO_PORTAL_CTX(ctx, req);
    if (!CsrfOk(ctx, req)) return MessageOf(ctx, 403, "msg.form_expired");
    const std::string token(req.Param("token"));
    auto grant = api::VerifySignerLink(urls_, token);
    if (!grant) return ErrorPage(ctx, grant.error());
    // Nothing is sent to a signer whose turn has not come (the page says why instead).
    auto info = sessions_.Lookup(grant->request_id, grant->document_id);
    if (!info) return ErrorPage(ctx, info.error());
    if (info->first.may_sign() && !IsTurnOf(info->first.request, info->first.position)) {
        return RenderLink(ctx, token, *grant, false, std::nullopt, 403);
    }
    auto sent =
        sessions_.SendCode(grant->request_id, grant->document_id, CodeKind::kLogin, Client(req));
    if (!sent && sent.error().code != ErrorCode::kRateLimited) {
        ctx.From(info->second);
        if (sent.error().code == ErrorCode::kForbidden) return MessageOf(ctx, 403, "error.blocked");
        return ErrorPage(ctx, sent.error());
    }
    return RenderLink(ctx, token, *grant, true,
                      sent ? std::nullopt : std::optional<Error>(sent.error()), 200);
}

HttpResponse Portal::LinkLogin(Req& req) {
    FIRMO_PORTAL_CTX(ctx, req);
    if (!CsrfOk(ctx, req)) return MessageOf(ctx, 403, "msg.form_expired");
    const std::string token(req.Param("token"));
    auto grant = api::VerifySignerLink(urls_, token);
    if (!grant) return ErrorPage(ctx, grant.error());
    if (auto refused = MayOpenSession(ctx.client.ip)) return TooMany(ctx, *refused);
    auto handle = sessions_.LoginWithCode(ctx.token, grant->request_id, grant->document_id,
                                          FormValue(ctx.form, "code"), Client(req));
    if (!handle) {
        if (handle.error().code == ErrorCode::kForbidden) {
            LearnInstitution(ctx, grant->request_id, grant->document_id);
            return MessageOf(ctx, 403, "error.blocked");
        }
        if (handle.error().code != ErrorCode::kUnauthenticated &&
            handle.error().code != ErrorCode::kGone) {
            return ErrorPage(ctx, handle.error());
        }
        return RenderLink(ctx, token, *grant, true, handle.error(), 401);
    }
    ctx.session = std::move(handle->session);
    ctx.token = handle->token;
    ctx.cookies = {handle->token};
    return SeeOther(ctx, "/s/" + grant->request_id);
}

HttpResponse Portal::Direct(Req& req) {
    FIRMO_PORTAL_CTX(ctx, req);
    if (auto refused = MayOpenSession(ctx.client.ip)) return TooMany(ctx, *refused);
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
    ctx.For(view.access.signer);
    ctx.From(view.issuer);
    ctx.here = "/s/" + r.id;
    const i18n::Catalog& catalog = i18n::Catalog::Builtin();
    const std::string expires = catalog.DateTime(ctx.Language(), r.expires_at, ctx.zone);
    mu::data data;
    data.set("t",
             ctx.Texts("page.ceremony.", {{"issuer", view.issuer_name}, {"expires", expires}}));
    data.set("rid", r.id);
    data.set("csrf", ctx.session.csrf_token);
    data.set("issuer", view.issuer_name);
    data.set("title", view.title);
    data.set("status_text", ctx.T(StatusKey(r.status)));
    data.set("expires", expires);
    data.set("can_sign", view.can_sign);
    if (!view.can_sign) {
        data.set("notice", ctx.T(view.access.request_signer().confirmed_at
                                     ? "page.ceremony.notice_confirmed"
                                     : "page.ceremony.notice_read_only"));
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
        d.set("pages_text",
              ctx.T("page.ceremony.pages", {{"pages", std::int64_t{cd.document->page_count}}}));
        d.set("viewer", ViewerHtml(ctx, r.id, *cd.document, FieldMarks(ctx, cd)));
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
            fd.set("kind_text",
                   ctx.T(type == ClauseType::kUnfair     ? "page.ceremony.kind_unfair"
                         : type == ClauseType::kOptional ? "page.ceremony.kind_optional"
                                                         : "page.ceremony.kind_required"));
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
            return MessageOf(ctx, 403, "msg.not_your_turn");
        }
        return ErrorPage(ctx, view.error());
    }
    const RequestSigner& rs = view->access.request_signer();
    if (rs.confirmed_at && rs.status == SignerStatus::kWaiting && ceremony_.UsesQtsp()) {
        // Confirmed, and the provider still waits for the signer's authorization.
        auto pending = ceremony_.QtspAuthorizationUrl(ctx.session, id);
        if (pending && *pending) return SeeOther(ctx, "/s/" + id + "/qtsp");
    }
    if (rs.confirmed_at || rs.status != SignerStatus::kWaiting ||
        IsTerminal(view->access.request.status)) {
        return SeeOther(ctx, "/s/" + id + "/done");
    }
    return RenderCeremony(ctx, *view, "", {}, 200);
}

HttpResponse Portal::Accept(Req& req) {
    FIRMO_PORTAL_CTX(ctx, req);
    const std::string id(req.Param("id"));
    if (!CsrfOk(ctx, req)) return MessageOf(ctx, 403, "msg.form_expired");
    auto outcome = ceremony_.Accept(ctx.session, id, ParseAccepted(ctx.form), Client(req));
    if (!outcome) {
        if (outcome.error().code == ErrorCode::kInvalidArgument) {
            auto view = ceremony_.Look(ctx.session, id);
            if (!view) return ErrorPage(ctx, view.error());
            return RenderCeremony(ctx, *view, ctx.T("page.ceremony.accept_all"),
                                  outcome.error().violations, 422);
        }
        return ErrorPage(ctx, outcome.error());
    }
    return SeeOther(ctx, "/s/" + id + "/confirm" + (outcome->code ? "?sent" : ""));
}

HttpResponse Portal::RenderConfirm(Ctx& ctx, const std::string& id,
                                   const std::optional<Error>& error, int status) {
    auto view = ceremony_.Look(ctx.session, id);
    if (!view) return ErrorPage(ctx, view.error());
    ctx.For(view->access.signer);
    ctx.From(view->issuer);
    ctx.here = "/s/" + id + "/confirm";
    const Signer& signer = view->access.signer;
    const std::string destination = MaskContact(signer.email   ? *signer.email
                                                : signer.phone ? *signer.phone
                                                               : "");
    mu::data data;
    data.set("t", ctx.Texts("page.confirm.",
                            {{"issuer", view->issuer_name},
                             {"title", view->title},
                             {"count", static_cast<std::int64_t>(view->documents.size())},
                             {"destination", destination}}));
    data.set("rid", id);
    data.set("csrf", ctx.session.csrf_token);
    data.set("issuer", view->issuer_name);
    data.set("title", view->title);
    data.set("count", std::to_string(view->documents.size()));
    data.set("code", view->second_factor == SecondFactor::kCode);
    data.set("reauth", view->second_factor == SecondFactor::kReauthentication && eid_ != nullptr);
    data.set("eid_required", view->eid_required);
    data.set("destination", destination);
    data.set("sent", ctx.code_sent);
    // "You are signing as …" (issue 16): the name the issuer gave, else how we reach them.
    data.set("signing_as",
             ctx.T("page.confirm.signing_as",
                   {{"who", signer.full_name && !signer.full_name->empty() ? *signer.full_name
                                                                           : destination}}));
    if (error && error->code == ErrorCode::kRateLimited) {
        data.set("error", ctx.T("page.confirm.resend_wait"));
    } else if (error) {
        data.set("error", CodeError(ctx, *error, view->access.request_signer()));
    } else if (view->eid_required && eid_ == nullptr) {
        data.set("error", ctx.T("page.confirm.eid_unavailable"));
    }
    return Page(ctx, status, ctx.T("page.confirm.title"), Render("confirm.mustache", data));
}

HttpResponse Portal::ConfirmPage(Req& req) {
    FIRMO_PORTAL_CTX(ctx, req);
    const std::string id(req.Param("id"));
    if (!ctx.session.authenticated()) return SeeOther(ctx, "/login?return_to=/s/" + id);
    // Set by Accept's redirect when it sent a code (a visitor who sets it only misleads
    // themselves: the code is checked, not the page).
    ctx.code_sent = req.query.contains("sent");
    return RenderConfirm(ctx, id, std::nullopt, 200);
}

HttpResponse Portal::Confirm(Req& req) {
    FIRMO_PORTAL_CTX(ctx, req);
    const std::string id(req.Param("id"));
    if (!CsrfOk(ctx, req)) return MessageOf(ctx, 403, "msg.form_expired");
    if (FormValue(ctx.form, "resend") == "1") {
        // "Send a new code": the page then says what really happened (sent, or wait).
        auto view = ceremony_.Look(ctx.session, id);
        if (!view) return ErrorPage(ctx, view.error());
        if (!view->can_sign || view->second_factor != SecondFactor::kCode ||
            !view->access.request_signer().accepted_at) {
            return SeeOther(ctx, "/s/" + id);
        }
        auto sent = sessions_.SendCode(id, view->access.signer.id, CodeKind::kConfirm, Client(req));
        if (!sent && sent.error().code != ErrorCode::kRateLimited) {
            return ErrorPage(ctx, sent.error());
        }
        ctx.code_sent = sent.has_value();
        return RenderConfirm(ctx, id, sent ? std::nullopt : std::optional<Error>(sent.error()),
                             sent ? 200 : HttpStatusOf(ErrorCode::kRateLimited));
    }
    auto ok = ceremony_.Confirm(ctx.session, id, FormValue(ctx.form, "code"), Client(req));
    if (!ok) {
        const auto code = ok.error().code;
        if (code == ErrorCode::kUnauthenticated || code == ErrorCode::kGone) {
            return RenderConfirm(ctx, id, ok.error(), 401);
        }
        if (code == ErrorCode::kForbidden) {
            // Too many wrong codes, or (rarely here) not the signer's turn: the status says.
            auto view = ceremony_.Look(ctx.session, id);
            if (view && view->access.request_signer().status == SignerStatus::kBlocked) {
                ctx.From(view->issuer);
                return MessageOf(ctx, 403, "error.blocked");
            }
        }
        if (code == ErrorCode::kAuthenticationRequired) {
            // The page offers the eID login instead of the code.
            return RenderConfirm(ctx, id, ok.error(), HttpStatusOf(code));
        }
        return ErrorPage(ctx, ok.error());
    }
    // With a QTSP: the provider's terms (if any), then its page.
    if (ok->qtsp_authorization_url) return SeeOther(ctx, "/s/" + id + "/qtsp");
    return SeeOther(ctx, "/s/" + id + "/done");
}

HttpResponse Portal::RenderQtsp(Ctx& ctx, const std::string& id, const std::string& url, bool go,
                                const std::string& error, int status) {
    auto view = ceremony_.Look(ctx.session, id);
    if (!view) return ErrorPage(ctx, view.error());
    ctx.For(view->access.signer);
    ctx.From(view->issuer);
    ctx.here = "/s/" + id + "/qtsp";
    mu::data data;
    data.set("t", ctx.Texts("page.qtsp.", {{"issuer", view->issuer_name}}));
    data.set("rid", id);
    data.set("csrf", ctx.session.csrf_token);
    if (!error.empty()) data.set("error", error);
    if (go) {
        // Not a 303 after the form: the CSP's form-action would block the provider's origin.
        data.set("go", url);
        return Page(ctx, status, ctx.T("page.qtsp.title"), Render("qtsp.mustache", data),
                    "0; url=" + url);
    }
    mu::data terms;
    if (!options_.qtsp_terms_text.empty()) terms.set("text", options_.qtsp_terms_text);
    if (!options_.qtsp_terms_url.empty()) terms.set("url", options_.qtsp_terms_url);
    data.set("terms", terms);
    return Page(ctx, status, ctx.T("page.qtsp.title"), Render("qtsp.mustache", data));
}

HttpResponse Portal::QtspPage(Req& req) {
    FIRMO_PORTAL_CTX(ctx, req);
    const std::string id(req.Param("id"));
    if (!ctx.session.authenticated()) return SeeOther(ctx, "/login?return_to=/s/" + id);
    auto url = ceremony_.QtspAuthorizationUrl(ctx.session, id);
    if (!url) return ErrorPage(ctx, url.error());
    // Nothing pending (expired, denied, or done): the request's page says what is next.
    if (!*url) return SeeOther(ctx, "/s/" + id);
    const bool terms = !options_.qtsp_terms_text.empty() || !options_.qtsp_terms_url.empty();
    return RenderQtsp(ctx, id, **url, !terms, "", 200);
}

HttpResponse Portal::QtspAccept(Req& req) {
    FIRMO_PORTAL_CTX(ctx, req);
    const std::string id(req.Param("id"));
    if (!CsrfOk(ctx, req)) return MessageOf(ctx, 403, "msg.form_expired");
    auto url = ceremony_.QtspAuthorizationUrl(ctx.session, id);
    if (!url) return ErrorPage(ctx, url.error());
    if (!*url) return SeeOther(ctx, "/s/" + id);
    if (FormValue(ctx.form, "accept") != "1") {
        return RenderQtsp(ctx, id, **url, false, ctx.T("page.qtsp.terms_required"), 400);
    }
    if (auto ok = ceremony_.AcceptQtspTerms(ctx.session, id, Client(req)); !ok) {
        return ErrorPage(ctx, ok.error());
    }
    return RenderQtsp(ctx, id, **url, true, "", 200);
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
    if (!CsrfOk(ctx, req)) return MessageOf(ctx, 403, "msg.form_expired");
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
    ctx.For(view->access.signer);
    ctx.From(view->issuer);
    auto exit = ceremony_.ExitUrl(ctx.session, id);
    if (!exit) return ErrorPage(ctx, exit.error());
    mu::data data;
    data.set("t", ctx.Texts("page.done.", {{"issuer", view->issuer_name},
                                           {"status", ctx.T(StatusKey(r.status))}}));
    if (*exit) {
        // Not a 303: when this page follows a form POST (reject), Chromium applies the CSP's
        // form-action to the whole redirect chain and would block the institution's URL.
        data.set("heading", ctx.T(rs.status == SignerStatus::kSigned ? "page.done.signed"
                                                                     : "page.done.finished"));
        data.set("text", ctx.T("page.done.taking_back"));
        data.set("exit", **exit);
        data.set("issuer", view->issuer_name);
        return Page(ctx, 200, ctx.T("page.done.title"), Render("done.mustache", data),
                    "0; url=" + **exit);
    }
    if (rs.status == SignerStatus::kSigned && rs.on_behalf_of == OnBehalfOf::kOther) {
        // Signed for an organisation: no personal copy (CeremonyService::DocumentBytes).
        data.set("heading", ctx.T("page.done.signed"));
        data.set("text", ctx.T("page.done.on_behalf_text", {{"issuer", view->issuer_name}}));
    } else if (rs.status == SignerStatus::kSigned) {
        if (IsTerminal(r.status) &&
            !CheckSignerCopyKept(r, sessions_.options().signer_copy_ttl, clock_.Now())) {
            return CopyGone(ctx, r, view->issuer_name);
        }
        data.set("heading", ctx.T("page.done.signed"));
        data.set("text", ctx.T(r.status == RequestStatus::kSigned ? "page.done.all_signed"
                                                                  : "page.done.partly_signed"));
        const i18n::Catalog& catalog = i18n::Catalog::Builtin();
        if (const auto until = SignerCopyUntil(r, sessions_.options().signer_copy_ttl)) {
            data.set("kept_until",
                     ctx.T("page.done.kept_until",
                           {{"until", catalog.DateTime(ctx.Language(), *until, ctx.zone)}}));
        }
        // Who signed, and when (the signer's copy, issue 16).
        mu::list signers;
        for (std::size_t i = 0; i < r.signers.size(); ++i) {
            const RequestSigner& other = r.signers[i];
            if (other.status != SignerStatus::kSigned || !other.signed_at) continue;
            const std::string name =
                !other.signing_name.empty() ? other.signing_name
                : i == view->access.position && view->access.signer.full_name
                    ? *view->access.signer.full_name
                    : ctx.T("page.done.signer_n", {{"n", static_cast<std::int64_t>(i + 1)}});
            signers.push_back(mu::data(
                ctx.T("page.done.signed_by",
                      {{"name", name},
                       {"when", catalog.DateTime(ctx.Language(), *other.signed_at, ctx.zone)}})));
        }
        if (!signers.empty()) {
            mu::data who;
            who.set("items", signers);
            data.set("signers", who);
        }
        mu::list items;
        for (const auto& cd : view->documents) {
            mu::data d;
            d.set("rid", id);
            d.set("id", cd.document->id);
            d.set("title", cd.document->metadata.title);
            d.set("download",
                  ctx.T("page.done.download", {{"title", cd.document->metadata.title}}));
            // The documents can be read again after signing: the signed version (issue 16).
            d.set("index", std::to_string(cd.document->index));
            d.set("read", ctx.T("page.done.read", {{"title", cd.document->metadata.title}}));
            d.set("viewer", ViewerHtml(ctx, id, *cd.document, ""));
            items.push_back(d);
        }
        mu::data docs;
        docs.set("items", items);
        data.set("documents", docs);
    } else if (rs.status == SignerStatus::kWaiting && rs.confirmed_at &&
               r.status == RequestStatus::kWaitForQtsp) {
        data.set("heading", ctx.T("page.done.signing"));
        data.set("text", ctx.T("page.done.signing_text"));
        // No meta refresh (it reloads under a screen reader's feet, an axe violation): a
        // script of our own asks /s/{id}/status and reloads once the signature is in.
        data.set("waiting", true);
        data.set("rid", id);
    } else if (rs.status == SignerStatus::kRejected) {
        data.set("heading", ctx.T("page.done.rejected"));
        data.set("text", ctx.T("page.done.rejected_text"));
    } else {
        data.set("heading", ctx.T("page.done.not_signed"));
        data.set("text",
                 ctx.T("page.done.not_signed_text", {{"status", ctx.T(StatusKey(r.status))}}));
    }
    // The signed documents are shown with the viewer's script.
    const bool reading =
        rs.status == SignerStatus::kSigned && rs.on_behalf_of != OnBehalfOf::kOther;
    return Page(ctx, 200, ctx.T("page.done.title"), Render("done.mustache", data), "", reading);
}

HttpResponse Portal::Status(Req& req) {
    FIRMO_PORTAL_CTX(ctx, req);
    const std::string id(req.Param("id"));
    auto view = ceremony_.Look(ctx.session, id);
    if (!view) return http::ProblemResponse(view.error());
    const SignatureRequest& r = view->access.request;
    const RequestSigner& rs = view->access.request_signer();
    // Waiting: what the "Signing…" page shows (the trust service is applying this signature).
    const bool waiting = rs.status == SignerStatus::kWaiting && rs.confirmed_at &&
                         r.status == RequestStatus::kWaitForQtsp;
    codec::Json body = {{"status", std::string(ToString(r.status))},
                        {"signer_status", std::string(ToString(rs.status))},
                        {"waiting", waiting}};
    HttpResponse res = HttpResponse::Text(200, body.dump(), "application/json");
    res.Set("Cache-Control", "no-store");
    return res;
}

HttpResponse Portal::DocumentFile(Req& req) {
    FIRMO_PORTAL_CTX(ctx, req);
    const std::string id(req.Param("id"));
    if (!ctx.session.authenticated()) return MessageOf(ctx, 401, "msg.login_first");
    auto content = ceremony_.DocumentBytes(ctx.session, id, std::string(req.Param("doc_id")));
    if (!content) {
        const auto code = content.error().code;
        if (code == ErrorCode::kGone || code == ErrorCode::kDocumentsDeleted) {
            if (auto view = ceremony_.Look(ctx.session, id)) {
                ctx.For(view->access.signer);
                ctx.From(view->issuer);
                return CopyGone(ctx, view->access.request, view->issuer_name);
            }
        }
        return ErrorPage(ctx, content.error());
    }
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
    if (file != "portal.css" && file != "portal.js" && file != "button.js" && file != "wait.js") {
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
