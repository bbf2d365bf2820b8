#include "web/staff_portal.hpp"

#include <algorithm>
#include <cctype>
#include <kainjow/mustache.hpp>
#include <map>
#include <set>

#include "core/encoding.hpp"
#include "core/log.hpp"
#include "http/message.hpp"
#include "i18n/catalog.hpp"
#include "i18n/zone.hpp"
#include "web/page_kit.hpp"
#include "web/portal.hpp"
#include "web/staff_portal_kit.hpp"

namespace firmo::web {

std::string StaffPortal::SetupUrl(const std::string& public_url, const std::string& setup_token) {
    return public_url + kPath + "/setup/" + setup_token;
}

StaffPortal::Ctx StaffPortal::Open(const Req& req) const {
    Ctx ctx;
    const auto ua = req.Header("User-Agent");
    ctx.client = ClientInfo{req.remote_ip, ua ? std::string(*ua) : std::string()};
    ctx.language = ChooseLanguage(req, kLanguageCookie);
    if (req.MediaType() == "application/x-www-form-urlencoded") {
        ctx.form = http::ParseQuery(req.body);
    }
    if (auto token = CookieValue(req, kCookie); token && !token->empty()) {
        auto principal = staff_.Authenticate(*token);
        if (principal) {
            ctx.principal = std::move(*principal);
            ctx.token = *token;
            ctx.csrf = ctx.principal->session.csrf_token;
            return ctx;
        }
        if (principal.error().code != ErrorCode::kUnauthenticated) {
            ctx.failure = principal.error();
        }
        ctx.clear_session = true;  // unknown or expired: forget it
    }
    PreSession pre = OpenPreSession(
        req, kPreCookie, urls_, kPreCsrfPurpose, [this] { return staff_.NewToken(); },
        clock_.Now() + kPreSessionTtl);
    ctx.pre = std::move(pre.pre);
    ctx.set_pre = pre.set_pre;
    ctx.csrf = std::move(pre.csrf);
    return ctx;
}

bool StaffPortal::CsrfOk(const Ctx& ctx) const {
    const std::string sent = FormValue(ctx.form, "csrf");
    if (sent.empty()) return false;
    if (ctx.principal) return ConstantTimeEquals(sent, ctx.principal->session.csrf_token);
    return PreSessionCsrfOk(urls_, kPreCsrfPurpose, sent, ctx.pre, clock_.Now());
}

HttpResponse StaffPortal::Page(Ctx& ctx, int status, const std::string& title,
                               const std::string& body) const {
    mu::data data;
    data.set("title", title);
    data.set("body", body);
    data.set("lang", ctx.Language());
    data.set("c", ctx.Texts("staff.common."));
    mu::list languages;
    for (const LanguageLink& link : LanguageLinks(ctx.language.here, ctx.Language())) {
        mu::data item;
        item.set("code", link.code);
        item.set("name", link.name);
        item.set("href", link.href);
        item.set("current", link.current);
        languages.push_back(item);
    }
    data.set("languages", languages);
    data.set("csrf", ctx.csrf);
    data.set("logged_in", ctx.principal.has_value());
    if (ctx.principal) data.set("email", ctx.principal->user.email);
    data.set("is_admin", ctx.principal && ctx.principal->is_admin());
    HttpResponse r = HttpResponse::Text(status, Render("staff_layout.mustache", data),
                                        "text/html; charset=utf-8");
    SetPageSecurityHeaders(r);
    r.Set("Cache-Control", "no-store");
    const bool secure = options_.secure_cookies;
    if (!ctx.new_token.empty()) {
        AddCookie(r,
                  std::string(kCookie) + "=" + ctx.new_token + "; Max-Age=" +
                      std::to_string(std::chrono::seconds(staff_.options().session_ttl).count()),
                  secure, kPath);
    } else if (ctx.clear_session) {
        AddCookie(r, std::string(kCookie) + "=; Max-Age=0", secure, kPath);
    }
    if (!ctx.principal && ctx.new_token.empty() && ctx.set_pre) {
        AddCookie(r, std::string(kPreCookie) + "=" + ctx.pre, secure, kPath);
    }
    for (const std::string& cookie : ctx.cookies) AddCookie(r, cookie, secure, kPath);
    if (ctx.language.remember) {
        AddCookie(r,
                  std::string(kLanguageCookie) + "=" + ctx.language.chosen +
                      "; Max-Age=" + std::to_string(kLanguageCookieSeconds),
                  secure);
    }
    return r;
}

HttpResponse StaffPortal::SeeOther(Ctx& ctx, const std::string& location) const {
    HttpResponse r = Page(ctx, 303, ctx.T("staff.common.redirecting"), "");
    r.body.clear();
    r.Set("Location", location);
    return r;
}

HttpResponse StaffPortal::Message(Ctx& ctx, int status, const std::string& key) const {
    mu::data data;
    data.set("heading", ctx.T(key + ".heading"));
    data.set("text", ctx.T(key + ".text"));
    data.set("alert", status >= 400);
    return Page(ctx, status, ctx.T(key + ".heading"), Render("message.mustache", data));
}

HttpResponse StaffPortal::ErrorPage(Ctx& ctx, const Error& e) const {
    const int status = HttpStatusOf(e.code);
    switch (e.code) {
        case ErrorCode::kNotFound:
            return Message(ctx, status, "staff.error.not_found");
        case ErrorCode::kGone:
            return Message(ctx, status, "staff.error.gone");
        case ErrorCode::kForbidden:
            return Message(ctx, status, "staff.error.forbidden");
        case ErrorCode::kNotFinal:
            return Message(ctx, status, "staff.error.not_final");
        default:
            log::Error("staff_portal_error",
                       {{"error", e.message}, {"type", std::string(ErrorSlug(e.code))}});
            return Message(ctx, status, "staff.error.internal");
    }
}

void StaffPortal::Register(
    const std::function<void(std::string, std::string, http::Handler)>& add) {
    const auto bind = [this](Res (StaffPortal::*fn)(Req&)) {
        return [this, fn](Req& req) { return (this->*fn)(req); };
    };
    add("GET", "/app", bind(&StaffPortal::Home));
    add("GET", "/app/login", bind(&StaffPortal::LoginPage));
    add("POST", "/app/login", bind(&StaffPortal::Login));
    add("POST", "/app/logout", bind(&StaffPortal::Logout));
    add("GET", "/app/setup/{token}", bind(&StaffPortal::SetupPage));
    add("POST", "/app/setup/{token}", bind(&StaffPortal::Setup));
    add("GET", "/app/static/{file}", bind(&StaffPortal::Static));
    add("GET", "/app/requests/{id}", bind(&StaffPortal::RequestPage));
    add("POST", "/app/requests/{id}/cancel", bind(&StaffPortal::Cancel));
    add("POST", "/app/requests/{id}/deadline", bind(&StaffPortal::Deadline));
    add("POST", "/app/requests/{id}/notify", bind(&StaffPortal::NotifySigners));
    add("GET", "/app/requests/{id}/documents/{doc_id}/signed", bind(&StaffPortal::SignedFile));
    add("GET", "/app/requests/{id}/evidence", bind(&StaffPortal::Evidence));
    add("GET", "/app/admin", bind(&StaffPortal::AdminHome));
    add("GET", "/app/admin/users", bind(&StaffPortal::AdminUsers));
    add("POST", "/app/admin/users", bind(&StaffPortal::AdminInvite));
    add("POST", "/app/admin/users/{user_id}/role", bind(&StaffPortal::AdminRole));
    add("POST", "/app/admin/users/{user_id}/disable", bind(&StaffPortal::AdminDisable));
    add("GET", "/app/admin/webhooks", bind(&StaffPortal::AdminWebhooks));
    add("POST", "/app/admin/webhooks", bind(&StaffPortal::AdminAddWebhook));
    add("POST", "/app/admin/webhooks/{webhook_id}/delete", bind(&StaffPortal::AdminDeleteWebhook));
    add("GET", "/app/admin/keys", bind(&StaffPortal::AdminKeys));
    add("POST", "/app/admin/keys", bind(&StaffPortal::AdminAddKey));
    add("POST", "/app/admin/keys/{key_id}/revoke", bind(&StaffPortal::AdminRevokeKey));
    add("GET", "/app/admin/audit", bind(&StaffPortal::AdminAudit));
    // Sending (staff_send.cpp).
    add("GET", "/app/send", bind(&StaffPortal::SendPage));
    add("POST", "/app/requests/{id}/send", bind(&StaffPortal::SendDraft));
    // The second factor (staff_account.cpp).
    add("GET", "/app/login/code", bind(&StaffPortal::CodePage));
    add("POST", "/app/login/code", bind(&StaffPortal::Code));
    add("GET", "/app/account", bind(&StaffPortal::AccountPage));
    add("POST", "/app/account/totp", bind(&StaffPortal::AccountTotpBegin));
    add("POST", "/app/account/totp/confirm", bind(&StaffPortal::AccountTotpConfirm));
    add("POST", "/app/account/totp/disable", bind(&StaffPortal::AccountTotpDisable));
    add("POST", "/app/admin/users/{user_id}/totp/reset", bind(&StaffPortal::AdminResetTotp));
    add("GET", "/app/login/oidc", bind(&StaffPortal::OidcStart));
    add("GET", "/app/login/oidc/callback", bind(&StaffPortal::OidcCallback));
}

HttpResponse StaffPortal::RenderLogin(Ctx& ctx, int status, const std::string& email,
                                      const std::string& error) {
    mu::data data;
    data.set("t", ctx.Texts("staff.login."));
    data.set("csrf", ctx.csrf);
    data.set("email", email);
    if (!error.empty()) data.set("error", error);
    if (options_.oidc) {
        data.set("oidc", ctx.T("staff.login.oidc", {{"name", options_.oidc_name}}));
    }
    return Page(ctx, status, ctx.T("staff.login.title"), Render("staff_login.mustache", data));
}

HttpResponse StaffPortal::LoginPage(Req& req) {
    FIRMO_STAFF_CTX(ctx, req);
    if (ctx.principal) return SeeOther(ctx, "/app");
    return RenderLogin(ctx, 200, "", "");
}

HttpResponse StaffPortal::Login(Req& req) {
    FIRMO_STAFF_CTX(ctx, req);
    if (!CsrfOk(ctx)) return Message(ctx, 403, "staff.error.form_expired");
    const std::string email = FormValue(ctx.form, "email");
    auto handle = staff_.Login(email, FormValue(ctx.form, "password"), ctx.client);
    if (!handle) {
        if (handle.error().code == ErrorCode::kRateLimited) {
            HttpResponse r = RenderLogin(ctx, 429, email, ctx.T("staff.login.too_many"));
            r.Set("Retry-After", "60");
            return r;
        }
        if (handle.error().code == ErrorCode::kUnauthenticated) {
            return RenderLogin(ctx, 401, email, ctx.T("staff.login.wrong"));
        }
        return ErrorPage(ctx, handle.error());
    }
    if (!handle->session) {
        // The password was right; the code (or the enrolment) comes next, on its own page.
        ctx.cookies.push_back(SecondStepCookie(*handle));
        return SeeOther(ctx, "/app/login/code");
    }
    // A new session, a new token (no fixation); the old one, if any, is ended.
    if (!ctx.token.empty()) (void)staff_.Logout(ctx.token, ctx.client);
    const StaffSessionHandle& session = *handle->session;
    ctx.principal = StaffPrincipal{session.session, session.user};
    ctx.new_token = session.token;
    ctx.csrf = session.session.csrf_token;
    return SeeOther(ctx, "/app");
}

HttpResponse StaffPortal::Logout(Req& req) {
    FIRMO_STAFF_CTX(ctx, req);
    if (!ctx.principal || !CsrfOk(ctx)) return Message(ctx, 403, "staff.error.form_expired");
    if (auto ended = staff_.Logout(ctx.token, ctx.client); !ended) {
        return ErrorPage(ctx, ended.error());
    }
    ctx.principal.reset();
    ctx.token.clear();
    ctx.clear_session = true;
    return SeeOther(ctx, "/app/login");
}

HttpResponse StaffPortal::RenderSetup(Ctx& ctx, int status, const std::string& token,
                                      const StaffUser& user, const std::string& error) {
    mu::data data;
    data.set("t",
             ctx.Texts("staff.setup.",
                       {{"email", user.email},
                        {"min", static_cast<std::int64_t>(staff_.options().min_password_length)}}));
    data.set("csrf", ctx.csrf);
    data.set("token", token);
    data.set("email", user.email);
    data.set("min", std::to_string(staff_.options().min_password_length));
    data.set("max", std::to_string(staff_.options().max_password_length));
    if (!error.empty()) data.set("error", error);
    return Page(ctx, status, ctx.T("staff.setup.title"), Render("staff_setup.mustache", data));
}

HttpResponse StaffPortal::SetupPage(Req& req) {
    FIRMO_STAFF_CTX(ctx, req);
    const std::string token(req.Param("token"));
    auto user = staff_.SetupAccount(token);
    if (!user) return ErrorPage(ctx, user.error());
    return RenderSetup(ctx, 200, token, *user, "");
}

HttpResponse StaffPortal::Setup(Req& req) {
    FIRMO_STAFF_CTX(ctx, req);
    if (!CsrfOk(ctx)) return Message(ctx, 403, "staff.error.form_expired");
    const std::string token(req.Param("token"));
    auto user = staff_.SetupAccount(token);
    if (!user) return ErrorPage(ctx, user.error());
    const std::string password = FormValue(ctx.form, "password");
    if (password != FormValue(ctx.form, "password_again")) {
        return RenderSetup(ctx, 422, token, *user, ctx.T("staff.setup.mismatch"));
    }
    auto handle = staff_.CompleteSetup(token, password, ctx.client);
    if (!handle) {
        if (handle.error().code == ErrorCode::kInvalidArgument) {
            return RenderSetup(
                ctx, 422, token, *user,
                ctx.T("staff.setup.length",
                      {{"min", static_cast<std::int64_t>(staff_.options().min_password_length)},
                       {"max", static_cast<std::int64_t>(staff_.options().max_password_length)}}));
        }
        return ErrorPage(ctx, handle.error());
    }
    if (!ctx.token.empty()) (void)staff_.Logout(ctx.token, ctx.client);
    if (staff_.options().require_totp && !handle->user.has_totp()) {
        // staff.require_totp: not even the setup link's login skips the second factor; the
        // new password stands, and the person sets up the factor before any session.
        (void)staff_.Logout(handle->token, ctx.client);
        ctx.cookies.push_back(SecondStepCookie(
            StaffLogin{.user = handle->user,
                       .enrol = true,
                       .expires_at = clock_.Now() + staff_.options().second_step_ttl}));
        return SeeOther(ctx, "/app/login/code");
    }
    ctx.principal = StaffPrincipal{handle->session, handle->user};
    ctx.new_token = handle->token;
    ctx.csrf = handle->session.csrf_token;
    return SeeOther(ctx, "/app");
}

HttpResponse StaffPortal::Static(Req& req) {
    const std::string_view file = req.Param("file");
    if (file.ends_with(".js")) return SendStatic(file);
    if (file != "staff.css") return HttpResponse::Text(404, "not found");
    HttpResponse r =
        HttpResponse::Text(200, std::string(EmbeddedFile(file)), "text/css; charset=utf-8");
    r.Set("Cache-Control", "public, max-age=3600");
    return r;
}

// ---- Following: the lists and the request page (item 2) ---------------------------------------

namespace {

constexpr int kListLimit = 50;

struct TabInfo {
    const char* name;  // ?tab= and the catalogue key staff.tab.<name>
    std::vector<RequestStatus> statuses;
};

const std::vector<TabInfo>& Tabs() {
    static const std::vector<TabInfo> kTabs = {
        {"progress",
         {RequestStatus::kReady, RequestStatus::kWaitForSignature, RequestStatus::kWaitForQtsp}},
        {"signed", {RequestStatus::kSigned}},
        {"stopped",
         {RequestStatus::kRejected, RequestStatus::kCancelled, RequestStatus::kExpired,
          RequestStatus::kFailed}},
        {"drafts", {RequestStatus::kDraft}},
    };
    return kTabs;
}

std::string Lower(std::string_view text) {
    std::string out(text);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string StatusKey(RequestStatus s) { return "staff.status." + Lower(ToString(s)); }
std::string SignerStatusKey(SignerStatus s) { return "staff.signer_status." + Lower(ToString(s)); }

// The audit events the timeline names in words; others show their type.
bool KnownEvent(std::string_view type) {
    static const std::set<std::string, std::less<>> kKnown = {"signature_request.created",
                                                              "signature_request.ready",
                                                              "signature_request.sent",
                                                              "signature_request.signed",
                                                              "signature_request.rejected",
                                                              "signature_request.cancelled",
                                                              "signature_request.expired",
                                                              "signature_request.failed",
                                                              "signature_request.updated",
                                                              "document.uploaded",
                                                              "document.ready",
                                                              "document.rejected",
                                                              "document.signed",
                                                              "signer.code_sent",
                                                              "signer.opened",
                                                              "signer.code_accepted",
                                                              "signer.clauses_accepted",
                                                              "signer.confirmed",
                                                              "signer.signed",
                                                              "signer.rejected",
                                                              "signer.blocked",
                                                              "signature_request.submitted_to_qtsp",
                                                              "signature_request.signer_signed"};
    return kKnown.contains(type);
}

std::string EventKey(std::string_view type) {
    std::string key = "staff.event.";
    for (char c : type) key += c == '.' ? '_' : c;
    return key;
}

std::string FileName(const std::string& title) {
    std::string out;
    for (char c : title) {
        out += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ? c : '_';
    }
    return (out.empty() ? std::string("document") : out) + "-signed.pdf";
}

}  // namespace

// What the pages say about a request: its title and its signers, read once per page.
struct StaffPortal::Names {
    std::map<std::string, std::string> dossiers;  // id -> title
    std::map<std::string, Signer> signers;        // id -> signer
};

std::string StaffPortal::TitleOf(Names& names, const std::string& issuer_id,
                                 const SignatureRequest& r) {
    auto it = names.dossiers.find(r.dossier_id);
    if (it == names.dossiers.end()) {
        auto dossier = s_.dossiers.Get(issuer_id, r.dossier_id);
        it = names.dossiers.emplace(r.dossier_id, dossier ? dossier->title : r.dossier_id).first;
    }
    return it->second;
}

std::string StaffPortal::SignerName(Names& names, const std::string& issuer_id,
                                    const std::string& signer_id) {
    auto it = names.signers.find(signer_id);
    if (it == names.signers.end()) {
        auto signer = s_.signers.Get(issuer_id, signer_id);
        Signer s = signer ? *signer : Signer{.id = signer_id};
        it = names.signers.emplace(signer_id, std::move(s)).first;
    }
    const Signer& s = it->second;
    if (s.full_name) return *s.full_name;
    if (!s.identifier.empty()) return s.identifier;
    if (s.email) return *s.email;
    if (s.phone) return *s.phone;
    return signer_id;
}

HttpResponse StaffPortal::Home(Req& req) {
    FIRMO_STAFF_CTX(ctx, req);
    if (!ctx.principal) return SeeOther(ctx, "/app/login");
    const StaffUser& user = ctx.principal->user;
    const std::string tab_name = req.Query("tab").value_or("progress");
    const TabInfo* tab = &Tabs().front();
    for (const TabInfo& t : Tabs()) {
        if (tab_name == t.name) tab = &t;
    }
    const std::string query(req.Query("q").value_or(""));
    const std::string needle = Lower(query.substr(0, 200));
    std::vector<SignatureRequest> found;
    for (RequestStatus status : tab->statuses) {
        auto page = s_.requests.List(user.issuer_id, RequestFilter{std::nullopt, status},
                                     PageQuery{kListLimit * 4, std::nullopt});
        if (!page) return ErrorPage(ctx, page.error());
        for (auto& r : page->items) found.push_back(std::move(r));
    }
    // Newest first across the tab's statuses (ids are ULIDs: time-ordered).
    std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.id > b.id; });
    Names names;
    mu::list rows;
    std::size_t shown = 0;
    for (const SignatureRequest& r : found) {
        const std::string title = TitleOf(names, user.issuer_id, r);
        std::vector<std::string> signer_names;
        for (const RequestSigner& rs : r.signers) {
            signer_names.push_back(SignerName(names, user.issuer_id, rs.signer_id));
        }
        if (!needle.empty()) {
            bool match = Lower(title).find(needle) != std::string::npos ||
                         Lower(r.reference.value_or("")).find(needle) != std::string::npos;
            for (const RequestSigner& rs : r.signers) {
                const Signer& s = names.signers[rs.signer_id];
                for (const std::string& field : {s.identifier, s.email.value_or(""),
                                                 s.phone.value_or(""), s.full_name.value_or("")}) {
                    match = match || Lower(field).find(needle) != std::string::npos;
                }
            }
            if (!match) continue;
        }
        if (++shown > static_cast<std::size_t>(kListLimit)) break;
        mu::data row;
        row.set("id", r.id);
        row.set("title", title);
        row.set("reference", r.reference.value_or(""));
        row.set("test", r.test);
        row.set("status", ctx.T(StatusKey(r.status)));
        std::string joined;
        for (const auto& n : signer_names) joined += (joined.empty() ? "" : ", ") + n;
        row.set("signers", joined);
        row.set("created",
                i18n::Catalog::Builtin().Date(ctx.Language(), r.created_at, options_.time_zone));
        rows.push_back(row);
    }
    mu::list tabs;
    for (const TabInfo& t : Tabs()) {
        mu::data item;
        item.set("name", ctx.T(std::string("staff.tab.") + t.name));
        item.set("href", std::string("/app?tab=") + t.name);
        item.set("current", &t == tab);
        tabs.push_back(item);
    }
    mu::data data;
    data.set("t", ctx.Texts("staff.home.", {{"email", user.email}}));
    data.set("role", ctx.T("staff.role." + std::string(ToString(user.role))));
    data.set("may_send", ctx.principal->may_send());
    data.set("tabs", tabs);
    data.set("tab", std::string(tab->name));
    data.set("q", query);
    data.set("rows", rows);
    data.set("empty", rows.empty());
    return Page(ctx, 200, ctx.T("staff.home.title"), Render("staff_home.mustache", data));
}

HttpResponse StaffPortal::RequestPage(Req& req) {
    FIRMO_STAFF_CTX(ctx, req);
    if (!ctx.principal) return SeeOther(ctx, "/app/login");
    const std::string& issuer = ctx.principal->user.issuer_id;
    const std::string id(req.Param("id"));
    auto r = s_.requests.Get(issuer, id);
    if (!r) return ErrorPage(ctx, r.error());
    auto events = s_.requests.Events(issuer, id);
    if (!events) return ErrorPage(ctx, events.error());
    const i18n::Catalog& catalog = i18n::Catalog::Builtin();
    const std::string& zone = options_.time_zone;
    Names names;
    mu::list signers;
    for (const RequestSigner& rs : r->signers) {
        mu::data item;
        item.set("name", SignerName(names, issuer, rs.signer_id));
        item.set("order", std::to_string(rs.order + 1));
        item.set("status", ctx.T(SignerStatusKey(rs.status)));
        if (rs.signed_at) item.set("when", catalog.DateTime(ctx.Language(), *rs.signed_at, zone));
        signers.push_back(item);
    }
    mu::list documents;
    for (const Document& d : r->documents) {
        mu::data item;
        item.set("title", d.metadata.title);
        item.set("signed", r->status == RequestStatus::kSigned && d.signed_blob_key.has_value());
        item.set("href", "/app/requests/" + r->id + "/documents/" + d.id + "/signed");
        documents.push_back(item);
    }
    mu::list timeline;
    for (const AuditEvent& e : *events) {
        mu::data item;
        item.set("when", catalog.DateTime(ctx.Language(), e.at, zone));
        item.set("what", KnownEvent(e.type) ? ctx.T(EventKey(e.type)) : e.type);
        if (!e.signer_id.empty()) item.set("who", SignerName(names, issuer, e.signer_id));
        timeline.push_back(item);
    }
    const bool live = !IsTerminal(r->status);
    mu::data data;
    data.set("t", ctx.Texts("staff.request."));
    data.set("id", r->id);
    data.set("title", TitleOf(names, issuer, *r));
    data.set("reference", r->reference.value_or(""));
    data.set("has_reference", r->reference.has_value() && !r->reference->empty());
    data.set("test", r->test);
    data.set("status", ctx.T(StatusKey(r->status)));
    data.set("expires", catalog.DateTime(ctx.Language(), r->expires_at, zone));
    data.set("signers", signers);
    data.set("documents", documents);
    data.set("timeline", timeline);
    data.set("csrf", ctx.csrf);
    data.set("act", live && ctx.principal->may_send());
    data.set("final", !live);
    data.set("notifiable", live && r->status != RequestStatus::kDraft && ctx.principal->may_send());
    data.set("sendable", r->status == RequestStatus::kDraft && ctx.principal->may_send());
    if (auto error = req.Query("error")) data.set("error", ctx.T("staff.request.refused"));
    return Page(ctx, 200, TitleOf(names, issuer, *r), Render("staff_request.mustache", data));
}

// The POSTs of a request page: a session, its CSRF token and a role that may act.
std::optional<HttpResponse> StaffPortal::RefuseAction(Ctx& ctx) const {
    if (!ctx.principal) return SeeOther(ctx, "/app/login");
    if (!CsrfOk(ctx)) return Message(ctx, 403, "staff.error.form_expired");
    if (!ctx.principal->may_send()) return Message(ctx, 403, "staff.error.forbidden");
    return std::nullopt;
}

HttpResponse StaffPortal::AfterAction(Ctx& ctx, const std::string& id,
                                      const Result<void>& done) const {
    if (done) return SeeOther(ctx, "/app/requests/" + id);
    if (done.error().code == ErrorCode::kNotFound) return ErrorPage(ctx, done.error());
    // A refusal by the rules (final request, date in the past...): the page says so.
    if (done.error().code == ErrorCode::kConflict ||
        done.error().code == ErrorCode::kInvalidArgument) {
        return SeeOther(ctx, "/app/requests/" + id + "?error=1");
    }
    return ErrorPage(ctx, done.error());
}

HttpResponse StaffPortal::Cancel(Req& req) {
    FIRMO_STAFF_CTX(ctx, req);
    if (auto refused = RefuseAction(ctx)) return std::move(*refused);
    const std::string id(req.Param("id"));
    auto done =
        s_.requests.ChangeStatus(ctx.principal->user.issuer_id, id, RequestedStatus::kCancelled,
                                 StaffActor(ctx.principal->user.id));
    return AfterAction(ctx, id, done ? Result<void>() : Result<void>(tl::unexpected(done.error())));
}

HttpResponse StaffPortal::Deadline(Req& req) {
    FIRMO_STAFF_CTX(ctx, req);
    if (auto refused = RefuseAction(ctx)) return std::move(*refused);
    const std::string id(req.Param("id"));
    const auto at = EndOfDay(FormValue(ctx.form, "expires_on"), options_.time_zone);
    if (!at) return SeeOther(ctx, "/app/requests/" + id + "?error=1");
    auto done = s_.requests.ChangeDeadline(ctx.principal->user.issuer_id, id, *at,
                                           StaffActor(ctx.principal->user.id));
    return AfterAction(ctx, id, done ? Result<void>() : Result<void>(tl::unexpected(done.error())));
}

HttpResponse StaffPortal::NotifySigners(Req& req) {
    FIRMO_STAFF_CTX(ctx, req);
    if (auto refused = RefuseAction(ctx)) return std::move(*refused);
    const std::string id(req.Param("id"));
    auto done =
        s_.requests.Notify(ctx.principal->user.issuer_id, id, StaffActor(ctx.principal->user.id));
    return AfterAction(ctx, id, done ? Result<void>() : Result<void>(tl::unexpected(done.error())));
}

HttpResponse StaffPortal::SignedFile(Req& req) {
    FIRMO_STAFF_CTX(ctx, req);
    if (!ctx.principal) return SeeOther(ctx, "/app/login");
    const std::string& issuer = ctx.principal->user.issuer_id;
    const std::string id(req.Param("id"));
    const std::string doc_id(req.Param("doc_id"));
    auto r = s_.requests.Get(issuer, id);
    if (!r) return ErrorPage(ctx, r.error());
    const Document* doc = r->FindDocument(doc_id);
    if (!doc) return ErrorPage(ctx, Error{ErrorCode::kNotFound, "no such document"});
    auto bytes = s_.requests.SignedDocument(issuer, id, doc_id);
    if (!bytes) return ErrorPage(ctx, bytes.error());
    HttpResponse res = HttpResponse::Text(200, std::move(*bytes), "application/pdf");
    res.Set("Content-Disposition",
            "attachment; filename=\"" + FileName(doc->metadata.title) + "\"");
    res.Set("Cache-Control", "no-store");
    res.Set("X-Content-Type-Options", "nosniff");
    return res;
}

// The signature report (any role, like the signed PDFs); a request not yet final: 409 page.
HttpResponse StaffPortal::Evidence(Req& req) {
    FIRMO_STAFF_CTX(ctx, req);
    if (!ctx.principal) return SeeOther(ctx, "/app/login");
    const std::string id(req.Param("id"));
    auto pdf = s_.evidence.Build(ctx.principal->user.issuer_id, id);
    if (!pdf) return ErrorPage(ctx, pdf.error());
    HttpResponse res = HttpResponse::Text(200, std::move(*pdf), "application/pdf");
    res.Set("Content-Disposition", "attachment; filename=\"" + id + "-signature-report.pdf\"");
    res.Set("Cache-Control", "no-store");
    res.Set("X-Content-Type-Options", "nosniff");
    return res;
}

}  // namespace firmo::web
