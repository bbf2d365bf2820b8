#pragma once
// The sender portal (issue 17) under /app: server-rendered pages for an institution's staff, on
// the same services as the issuer API. So far: the one-time setup link where a new account
// chooses its password (/app/setup/{token}), login and logout; the lists of the issuer's
// requests by state with a search (/app), and a request's page with its signers, a timeline
// from the audit log and the actions (notify, change the deadline, cancel; viewers cannot act),
// and the signed PDFs. Sessions, passwords, throttling and the audit log live in
// domain::StaffService; the cookie, CSRF and header rules are the signer portal's (page_kit.hpp):
// the session cookie `firmo_staff` is HttpOnly, SameSite=Lax, Secure off only on plain-HTTP
// loopback, and limited to Path=/app; every POST needs the session's CSRF token, or before a
// session the stateless token bound to the `firmo_staff_pre` cookie. Texts from the catalogues'
// `staff.*` keys.
//
// Handlers block (database, password hashing): register them on a non-inline lane.

#include <functional>
#include <string>

#include "api/url_signer.hpp"
#include "domain/ports/document_validator.hpp"
#include "domain/services/dossier_service.hpp"
#include "domain/services/event_service.hpp"
#include "domain/services/evidence_service.hpp"
#include "domain/services/issuer_service.hpp"
#include "domain/services/request_service.hpp"
#include "domain/services/signer_service.hpp"
#include "domain/services/staff_service.hpp"
#include "http/router.hpp"

namespace firmo::web {

struct StaffPortalOptions {
    std::string public_url = "http://127.0.0.1:8080";
    bool secure_cookies = false;
    std::string time_zone = "UTC";  // the institution's clock, for times on the pages
    // staff_oidc: login with the institution's own OpenID provider (null: off), "Sign in with
    // <oidc_name>"; its people are staff of `oidc_issuer_id`, their role from `oidc_roles`.
    domain::StaffIdentityProvider* oidc = nullptr;
    std::string oidc_name;
    std::string oidc_issuer_id;
    domain::StaffRoleMap oidc_roles;
};

// The issuer-side services the pages act through (the API's own).
struct StaffServices {
    domain::RequestService& requests;
    domain::DossierService& dossiers;
    domain::SignerService& signers;
    domain::EvidenceService& evidence;  // the signature report of a final request
    // The admin pages (staff_admin.cpp).
    domain::EventService& events;
    domain::IssuerService& issuers;
    const domain::DocumentValidator& validator;  // the sending pages' (staff_send.cpp)
};

class StaffPortal {
  public:
    StaffPortal(domain::StaffService& staff, StaffServices services, const api::UrlSigner& urls,
                const Clock& clock, StaffPortalOptions options)
        : staff_(staff), s_(services), urls_(urls), clock_(clock), options_(std::move(options)) {}

    void Register(const std::function<void(std::string, std::string, http::Handler)>& add);
    // The routes whose body is read only for a session that may send (POST /app/send, up to
    // kPortalSendDocuments PDFs): `add` registers each with SenderFromHeaders as the check the
    // front door runs on the headers (it blocks: the session is looked up).
    using HeaderCheck = std::function<Result<void>(const http::HttpRequest&)>;
    void RegisterChecked(
        const std::function<void(std::string, std::string, http::Handler, HeaderCheck)>& add);
    // kUnauthenticated without a live session cookie, kForbidden for a viewer; the CSRF token,
    // inside the body, is checked by the handler.
    [[nodiscard]] Result<void> SenderFromHeaders(const http::HttpRequest& req) const;

    // "{public_url}/app/setup/{token}": what `firmo user create` prints.
    static std::string SetupUrl(const std::string& public_url, const std::string& setup_token);

  private:
    using Req = http::HttpRequest;
    using Res = http::HttpResponse;
    struct Ctx;  // the visitor's session (if any), CSRF token, language and cookies to set

    Res Home(Req& req);
    Res LoginPage(Req& req);
    Res Login(Req& req);
    Res Logout(Req& req);
    Res SetupPage(Req& req);
    Res Setup(Req& req);
    Res Static(Req& req);
    // Following (the request page and its actions; Home is the lists).
    Res RequestPage(Req& req);
    Res Cancel(Req& req);
    Res Deadline(Req& req);
    Res NotifySigners(Req& req);
    Res SignedFile(Req& req);
    Res Evidence(Req& req);
    // Administration (staff_admin.cpp): admins only.
    struct AdminData;  // a page's template data
    Res AdminHome(Req& req);
    Res AdminUsers(Req& req);
    Res AdminInvite(Req& req);
    Res AdminRole(Req& req);
    Res AdminDisable(Req& req);
    Res AdminWebhooks(Req& req);
    Res AdminAddWebhook(Req& req);
    Res AdminDeleteWebhook(Req& req);
    Res AdminKeys(Req& req);
    Res AdminAddKey(Req& req);
    Res AdminRevokeKey(Req& req);
    Res AdminAudit(Req& req);
    std::optional<Res> RefuseAdmin(Ctx& ctx, bool post) const;
    Res AdminPage(Ctx& ctx, const Req& req, const std::string& section, AdminData& page) const;
    // A secret shown once (a setup link, a webhook secret, an API key).
    Res AdminOnce(Ctx& ctx, const std::string& heading, const std::string& text,
                  const std::string& value, const std::string& back) const;

    Ctx Open(const Req& req) const;
    bool CsrfOk(const Ctx& ctx) const;
    Res Page(Ctx& ctx, int status, const std::string& title, const std::string& body) const;
    Res Message(Ctx& ctx, int status, const std::string& key) const;
    Res ErrorPage(Ctx& ctx, const Error& error) const;
    Res SeeOther(Ctx& ctx, const std::string& location) const;
    Res RenderLogin(Ctx& ctx, int status, const std::string& email, const std::string& error);
    Res RenderSetup(Ctx& ctx, int status, const std::string& token, const domain::StaffUser& user,
                    const std::string& error);

    struct Names;  // titles and signers read for one page
    std::string TitleOf(Names& names, const std::string& issuer_id,
                        const domain::SignatureRequest& request);
    std::string SignerName(Names& names, const std::string& issuer_id,
                           const std::string& signer_id);
    // Why a POST on a request may not act (no session, bad CSRF token, a viewer), if it may not.
    std::optional<Res> RefuseAction(Ctx& ctx) const;
    Res AfterAction(Ctx& ctx, const std::string& request_id, const Result<void>& done) const;

    // Sending (staff_send.cpp): the new-request page, its validate / save / send POST, and
    // "send" for a draft.
    struct SendPlan;
    Res SendPage(Req& req);
    Res SendPost(Req& req);
    Res SendDraft(Req& req);
    Res SendStatic(std::string_view file) const;
    Result<SendPlan> ReadPlan(const Req& req, Ctx& ctx, std::vector<Violation>& problems) const;
    void CheckPlan(SendPlan& plan, std::vector<Violation>& problems,
                   std::string_view language) const;
    Result<domain::SignatureRequest> SendPlanNow(SendPlan& plan, const domain::StaffPrincipal& who,
                                                 std::vector<Violation>& problems);
    Res SendBulk(Ctx& ctx, SendPlan& plan, std::vector<Violation>& problems);
    Result<void> MakeReadyAndNotify(const std::string& issuer_id, const std::string& id,
                                    const std::string& actor);

    // The second factor (staff_account.cpp): the login's second step (/app/login/code, bound to
    // the browser by a short-lived signed cookie), the account page where a person turns a TOTP
    // authenticator on or off, and an admin's reset of another account's.
    struct SecondStep;
    std::optional<SecondStep> ReadSecondStep(const Req& req) const;
    std::string SecondStepCookie(const domain::StaffLogin& login) const;
    Res CodePage(Req& req);
    Res Code(Req& req);
    Res RenderCode(Ctx& ctx, int status, const SecondStep& step, const std::string& error);
    Res AccountPage(Req& req);
    Res AccountTotpBegin(Req& req);
    Res AccountTotpConfirm(Req& req);
    Res AccountTotpDisable(Req& req);
    Res RenderAccount(Ctx& ctx, int status, const std::optional<domain::TotpEnrolment>& enrolment,
                      const std::string& message, bool alert);
    Res AdminResetTotp(Req& req);
    // staff_oidc (staff_account.cpp): to the provider, and back.
    Res OidcStart(Req& req);
    Res OidcCallback(Req& req);

    domain::StaffService& staff_;
    StaffServices s_;
    const api::UrlSigner& urls_;
    const Clock& clock_;
    StaffPortalOptions options_;
};

}  // namespace firmo::web
