// The sender portal's second factor (issue 17): the login's second step, the account page where a
// person turns a TOTP authenticator on (a secret and its QR code shown once, on only after one
// right code) or off (with a current code), and an admin's reset of another account's. The rules
// (throttling, a code good once, the audit log) are StaffService's; these pages only carry them.
//
// The second step is bound to the browser that gave the right password: a grant signed with the
// server's URL secret, naming the account, in an HttpOnly cookie limited to /app that expires with
// the step (StaffOptions::second_step_ttl).

#include <kainjow/mustache.hpp>

#include "core/encoding.hpp"
#include "web/qr.hpp"
#include "web/staff_portal.hpp"
#include "web/staff_portal_kit.hpp"

namespace firmo::web {

namespace {

constexpr const char* kEnrol = "enrol";
constexpr const char* kCode = "code";

// What a page shows to set up a second factor: the secret, and the QR code of its otpauth://
// URI as markup to inline (the secret must never be in a URL the browser fetches: it would reach
// access logs; no QR when it cannot be drawn).
void ShowEnrolment(mu::data& data, const TotpEnrolment& enrolment, const std::string& qr_title) {
    auto svg = QrSvg(enrolment.uri, 4, qr_title);
    data.set("secret", enrolment.secret_base32);
    data.set("qr", svg ? *svg : std::string());
}

}  // namespace

struct StaffPortal::SecondStep {
    std::string issuer_id;
    std::string user_id;
    bool enrol = false;
};

std::string StaffPortal::SecondStepCookie(const StaffLogin& login) const {
    const std::string grant = urls_.Sign(api::Grant{.purpose = kStepPurpose,
                                                    .issuer_id = login.user.issuer_id,
                                                    .request_id = login.user.id,
                                                    .document_id = login.enrol ? kEnrol : kCode,
                                                    .expires_at = login.expires_at});
    const auto seconds =
        std::chrono::duration_cast<std::chrono::seconds>(login.expires_at - clock_.Now()).count();
    return std::string(kStepCookie) + "=" + grant + "; Max-Age=" + std::to_string(seconds);
}

std::optional<StaffPortal::SecondStep> StaffPortal::ReadSecondStep(const Req& req) const {
    const auto cookie = CookieValue(req, kStepCookie);
    if (!cookie || cookie->empty()) return std::nullopt;
    auto grant = urls_.Verify(*cookie, kStepPurpose, clock_.Now());
    if (!grant) return std::nullopt;
    return SecondStep{grant->issuer_id, grant->request_id, grant->document_id == kEnrol};
}

HttpResponse StaffPortal::RenderCode(Ctx& ctx, int status, const SecondStep& step,
                                     const std::string& error) {
    mu::data data;
    data.set("t", ctx.Texts("staff.code."));
    data.set("csrf", ctx.csrf);
    if (!error.empty()) data.set("error", error);
    if (step.enrol) {
        // A new secret each time the page is shown: one that was never confirmed is worthless.
        auto enrolment = staff_.BeginTotp(step.issuer_id, step.user_id);
        if (!enrolment) return ErrorPage(ctx, enrolment.error());
        data.set("enrol", true);
        ShowEnrolment(data, *enrolment, ctx.T("staff.code.qr"));
    }
    return Page(ctx, status, ctx.T("staff.code.title"), Render("staff_code.mustache", data));
}

HttpResponse StaffPortal::CodePage(Req& req) {
    FIRMO_STAFF_CTX(ctx, req);
    if (ctx.principal) return SeeOther(ctx, "/app");
    const auto step = ReadSecondStep(req);
    if (!step) return SeeOther(ctx, "/app/login");
    return RenderCode(ctx, 200, *step, "");
}

HttpResponse StaffPortal::Code(Req& req) {
    FIRMO_STAFF_CTX(ctx, req);
    if (!CsrfOk(ctx)) return Message(ctx, 403, "staff.error.form_expired");
    const auto step = ReadSecondStep(req);
    if (!step) return SeeOther(ctx, "/app/login");  // expired: the password again
    auto handle = staff_.CompleteSecondStep(step->issuer_id, step->user_id,
                                            FormValue(ctx.form, "code"), ctx.client);
    if (!handle) {
        if (handle.error().code == ErrorCode::kRateLimited) {
            HttpResponse r = RenderCode(ctx, 429, *step, ctx.T("staff.code.too_many"));
            r.Set("Retry-After", "60");
            return r;
        }
        if (handle.error().code == ErrorCode::kUnauthenticated) {
            return RenderCode(ctx, 401, *step, ctx.T("staff.code.wrong"));
        }
        return ErrorPage(ctx, handle.error());
    }
    // As after a password: a new session, a new token; the step is over.
    if (!ctx.token.empty()) (void)staff_.Logout(ctx.token, ctx.client);
    ctx.cookies.push_back(std::string(kStepCookie) + "=; Max-Age=0");
    ctx.principal = StaffPrincipal{handle->session, handle->user};
    ctx.new_token = handle->token;
    ctx.csrf = handle->session.csrf_token;
    return SeeOther(ctx, "/app");
}

// ---- The account page ------------------------------------------------------------------------

HttpResponse StaffPortal::RenderAccount(Ctx& ctx, int status,
                                        const std::optional<TotpEnrolment>& enrolment,
                                        const std::string& message, bool alert) {
    const StaffUser& user = ctx.principal->user;
    mu::data data;
    data.set("t", ctx.Texts("staff.account.", {{"email", user.email}}));
    data.set("csrf", ctx.csrf);
    data.set("email", user.email);
    data.set("role", ctx.T("staff.role." + std::string(ToString(user.role))));
    data.set("totp_on", user.has_totp());
    data.set("may_turn_off", user.has_totp() && !staff_.options().require_totp);
    if (!message.empty()) data.set(alert ? "error" : "notice", message);
    if (enrolment) {
        data.set("enrolling", true);
        ShowEnrolment(data, *enrolment, ctx.T("staff.account.qr"));
    }
    return Page(ctx, status, ctx.T("staff.account.title"), Render("staff_account.mustache", data));
}

HttpResponse StaffPortal::AccountPage(Req& req) {
    FIRMO_STAFF_CTX(ctx, req);
    if (!ctx.principal) return SeeOther(ctx, "/app/login");
    const auto done = req.Query("done");
    std::string notice;
    if (done == "on") notice = ctx.T("staff.account.turned_on");
    if (done == "off") notice = ctx.T("staff.account.turned_off");
    return RenderAccount(ctx, 200, std::nullopt, notice, false);
}

HttpResponse StaffPortal::AccountTotpBegin(Req& req) {
    FIRMO_STAFF_CTX(ctx, req);
    if (!ctx.principal) return SeeOther(ctx, "/app/login");
    if (!CsrfOk(ctx)) return Message(ctx, 403, "staff.error.form_expired");
    const StaffUser& user = ctx.principal->user;
    auto enrolment = staff_.BeginTotp(user.issuer_id, user.id);
    if (!enrolment) {
        if (enrolment.error().code == ErrorCode::kConflict) return SeeOther(ctx, "/app/account");
        return ErrorPage(ctx, enrolment.error());
    }
    return RenderAccount(ctx, 200, *enrolment, "", false);
}

namespace {

// What the account page says after a refused code.
std::string CodeRefusal(const Error& e) {
    return e.code == ErrorCode::kRateLimited ? "staff.account.too_many" : "staff.account.wrong";
}

bool IsCodeRefusal(const Error& e) {
    return e.code == ErrorCode::kUnauthenticated || e.code == ErrorCode::kRateLimited;
}

}  // namespace

HttpResponse StaffPortal::AccountTotpConfirm(Req& req) {
    FIRMO_STAFF_CTX(ctx, req);
    if (!ctx.principal) return SeeOther(ctx, "/app/login");
    if (!CsrfOk(ctx)) return Message(ctx, 403, "staff.error.form_expired");
    const StaffUser& user = ctx.principal->user;
    auto on = staff_.ConfirmTotp(user.issuer_id, user.id, FormValue(ctx.form, "code"), ctx.client);
    if (!on) {
        if (!IsCodeRefusal(on.error())) return ErrorPage(ctx, on.error());
        // The secret is not shown again: the person starts over with a new one.
        return RenderAccount(ctx, on.error().code == ErrorCode::kRateLimited ? 429 : 422,
                             std::nullopt, ctx.T(CodeRefusal(on.error())), true);
    }
    return SeeOther(ctx, "/app/account?done=on");
}

HttpResponse StaffPortal::AccountTotpDisable(Req& req) {
    FIRMO_STAFF_CTX(ctx, req);
    if (!ctx.principal) return SeeOther(ctx, "/app/login");
    if (!CsrfOk(ctx)) return Message(ctx, 403, "staff.error.form_expired");
    const StaffUser& user = ctx.principal->user;
    auto off = staff_.DisableTotp(user.issuer_id, user.id, FormValue(ctx.form, "code"), ctx.client);
    if (!off) {
        if (off.error().code == ErrorCode::kConflict) {
            return RenderAccount(ctx, 409, std::nullopt, ctx.T("staff.account.required"), true);
        }
        if (!IsCodeRefusal(off.error())) return ErrorPage(ctx, off.error());
        return RenderAccount(ctx, off.error().code == ErrorCode::kRateLimited ? 429 : 422,
                             std::nullopt, ctx.T(CodeRefusal(off.error())), true);
    }
    ctx.principal->user = *off;
    return SeeOther(ctx, "/app/account?done=off");
}

HttpResponse StaffPortal::AdminResetTotp(Req& req) {
    FIRMO_STAFF_CTX(ctx, req);
    if (auto refused = RefuseAdmin(ctx, true)) return std::move(*refused);
    auto reset = staff_.ResetTotp(ctx.principal->user.issuer_id, std::string(req.Param("user_id")),
                                  StaffActor(ctx.principal->user.id));
    if (!reset) {
        if (reset.error().code == ErrorCode::kConflict) {
            return SeeOther(ctx, "/app/admin/users?error=1");
        }
        return ErrorPage(ctx, reset.error());
    }
    return SeeOther(ctx, "/app/admin/users");
}

// ---- staff_oidc: the institution's own OpenID provider ----------------------------------------

namespace {

constexpr const char* kOidcCookie = "firmo_staff_oidc";
constexpr const char* kOidcPurpose = "staff-oidc";
constexpr auto kOidcTtl = std::chrono::minutes(10);  // time to log in at the provider

}  // namespace

HttpResponse StaffPortal::OidcStart(Req& req) {
    FIRMO_STAFF_CTX(ctx, req);
    if (!options_.oidc) return Message(ctx, 404, "staff.error.not_found");
    // A link, not a form: the page's CSP (form-action 'self') would stop a form's redirect to
    // the provider. Nothing changes here before the callback, whose state is bound to the
    // cookie set now.
    auto start = options_.oidc->BeginLogin(options_.public_url + "/app/login/oidc/callback");
    if (!start) {
        log::Warn("staff_oidc_start", {{"error", start.error().message}});
        return Message(ctx, 503, "staff.oidc_failed");
    }
    // What the callback needs, kept by the browser under the server's signature (the verifier
    // is no secret from this browser, only from whoever sees the code in transit).
    const std::string grant =
        urls_.Sign(api::Grant{.purpose = kOidcPurpose,
                              .issuer_id = "",
                              .request_id = start->state,
                              .document_id = start->nonce + "." + start->code_verifier,
                              .expires_at = clock_.Now() + kOidcTtl});
    ctx.cookies.push_back(std::string(kOidcCookie) + "=" + grant +
                          "; Max-Age=" + std::to_string(std::chrono::seconds(kOidcTtl).count()));
    return SeeOther(ctx, start->authorize_url);
}

HttpResponse StaffPortal::OidcCallback(Req& req) {
    FIRMO_STAFF_CTX(ctx, req);
    if (!options_.oidc) return Message(ctx, 404, "staff.error.not_found");
    ctx.cookies.push_back(std::string(kOidcCookie) + "=; Max-Age=0");  // one use
    const auto cookie = CookieValue(req, kOidcCookie);
    auto grant = cookie ? urls_.Verify(*cookie, kOidcPurpose, clock_.Now())
                        : Result<api::Grant>(tl::unexpected(Error{ErrorCode::kForbidden, ""}));
    const std::string state = req.Query("state").value_or("");
    const auto dot = grant ? grant->document_id.find('.') : std::string::npos;
    if (!grant || dot == std::string::npos || state.empty() ||
        !ConstantTimeEquals(state, grant->request_id)) {
        return Message(ctx, 400, "staff.oidc_failed");  // not this browser's login, or too late
    }
    if (req.Query("error")) return Message(ctx, 401, "staff.oidc_failed");
    domain::LoginStart pending;
    pending.state = grant->request_id;
    pending.nonce = grant->document_id.substr(0, dot);
    pending.code_verifier = grant->document_id.substr(dot + 1);
    auto identity = options_.oidc->CompleteLogin(
        req.Query("code").value_or(""), options_.public_url + "/app/login/oidc/callback", pending);
    if (!identity) {
        log::Warn("staff_oidc_refused", {{"error", identity.error().message}});
        return Message(ctx, identity.error().code == ErrorCode::kUnavailable ? 503 : 401,
                       "staff.oidc_failed");
    }
    auto handle = staff_.LoginWithProvider(options_.oidc_issuer_id, *identity, options_.oidc_roles,
                                           ctx.client);
    if (!handle) {
        if (handle.error().code == ErrorCode::kForbidden) {
            log::Info("staff_oidc_no_role", {{"error", handle.error().message}});
            return Message(ctx, 403, "staff.oidc_refused");
        }
        if (handle.error().code == ErrorCode::kUnauthenticated) {
            return Message(ctx, 401, "staff.oidc_failed");
        }
        return ErrorPage(ctx, handle.error());
    }
    if (!ctx.token.empty()) (void)staff_.Logout(ctx.token, ctx.client);
    ctx.principal = StaffPrincipal{handle->session, handle->user};
    ctx.new_token = handle->token;
    ctx.csrf = handle->session.csrf_token;
    return SeeOther(ctx, "/app");
}

}  // namespace firmo::web
