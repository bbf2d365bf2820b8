#pragma once
// The signer portal: server-rendered pages (mustache templates compiled into the binary) for
// every way in (eID login, link + one-time code, direct-flow redirect, universal link / QR
// code) and the ceremony (read, accept clauses, confirm, sign or reject, download), plus the
// static files. Handlers are thin: sessions, codes and the ceremony live in the domain
// services. Every page carries a strict Content-Security-Policy; every POST needs the
// session's CSRF token; the session cookie is HttpOnly, SameSite=Lax and Secure (off only on
// plain-HTTP loopback).
//
// Nothing is written for a visitor who has not started to log in: before a session exists,
// the CSRF token is stateless (a signed grant bound to a random `firmo_pre` cookie), and the
// session row is written only by a login (code, redirect, eID start). Pages and logins count
// against api::SignerLimits (calls per address and per request, logins per address).

#include <filesystem>
#include <functional>
#include <string>

#include "api/signer_api.hpp"
#include "api/url_signer.hpp"
#include "domain/ports/identity_provider.hpp"
#include "domain/services/ceremony_service.hpp"
#include "http/router.hpp"
#include "i18n/catalog.hpp"

namespace firmo::web {

struct PortalOptions {
    std::string public_url = "http://127.0.0.1:8080";
    std::filesystem::path assets_dir;  // holds pdfjs/ (see cmake/web_assets.cmake)
    bool secure_cookies = false;       // decided by the app from public_url and config
    bool access_log_tokens = false;    // never: tokens in paths are credentials
    // signing.provider = "csc": the provider's terms (csc.terms_text / csc.terms_url), shown
    // before the signer's browser goes to the provider. Both empty: none.
    std::string qtsp_terms_text;
    std::string qtsp_terms_url;
};

class Portal {
  public:
    Portal(domain::SignerSessionService& sessions, domain::CeremonyService& ceremony,
           domain::IdentityProvider* eid, const api::UrlSigner& urls, const Clock& clock,
           PortalOptions options, api::SignerLimits* limits = nullptr)
        : sessions_(sessions),
          ceremony_(ceremony),
          eid_(eid),
          urls_(urls),
          clock_(clock),
          options_(std::move(options)),
          limits_(limits) {}

    void Register(const std::function<void(std::string, std::string, http::Handler)>& add);

    // The link a signer gets (unique per request and signer, valid until the request expires).
    std::string SignerLink(const std::string& issuer_id, const std::string& request_id,
                           const std::string& signer_id, Timestamp expires_at) const;

  private:
    using Req = http::HttpRequest;
    using Res = http::HttpResponse;
    struct Ctx;  // the request's session (if any), its CSRF token, and response cookies

    Res Home(Req& req);
    Res LoginPage(Req& req);
    Res OidcStart(Req& req);
    Res OidcCallback(Req& req);
    Res Logout(Req& req);
    Res Inbox(Req& req);
    Res LinkPage(Req& req);
    Res LinkSendCode(Req& req);
    Res LinkLogin(Req& req);
    Res Direct(Req& req);
    Res Ceremony(Req& req);
    Res Accept(Req& req);
    Res ConfirmPage(Req& req);
    Res Confirm(Req& req);
    Res Reauth(Req& req);
    Res Reject(Req& req);
    Res Done(Req& req);
    // signing.provider = "csc": the step between the confirmation and the provider's page
    // (the provider's terms, when configured, then the redirect).
    Res QtspPage(Req& req);
    Res QtspAccept(Req& req);
    Res RenderQtsp(Ctx& ctx, const std::string& request_id, const std::string& url, bool go,
                   const std::string& error, int status);
    // GET /s/{id}/status: JSON {status, signer_status, waiting} for the "Signing…" page's script.
    Res Status(Req& req);
    Res DocumentFile(Req& req);
    Res Static(Req& req);
    Res QrCode(Req& req);
    Res PdfJs(Req& req);

    // `refresh`: the content of a <meta http-equiv="refresh">, e.g. "2" or "0; url=...".
    Res Page(Ctx& ctx, int status, const std::string& title, const std::string& body,
             const std::string& refresh = "", bool viewer = false) const;
    // An error page (status >= 400) also says what to do next (`next`) and whom to ask: the
    // institution's name and contact when known (issue 16).
    Res Message(Ctx& ctx, int status, const std::string& heading, const std::string& text,
                const std::string& next = "") const;
    // A page of its own from the catalogue: `key`.heading, `key`.text and `key`.next if any.
    Res MessageOf(Ctx& ctx, int status, std::string_view key, const i18n::Args& args = {}) const;
    Res ErrorPage(Ctx& ctx, const Error& error) const;
    // Sets the page's institution from the request, for an error page's "whom to ask", and
    // the signer's language (an error page speaks as the pages before it).
    void LearnInstitution(Ctx& ctx, const std::string& request_id,
                          const std::string& signer_id) const;
    // The page when the session store cannot be read (503, in the browser's language).
    Res Unavailable(Req& req) const;
    // The signer's copy is no longer kept (retention.signer_copy_days passed, or the documents
    // were deleted): 410, until when it was kept, and whom to ask (issue 16).
    Res CopyGone(Ctx& ctx, const domain::SignatureRequest& request,
                 const std::string& issuer_name) const;
    Res RenderCeremony(Ctx& ctx, const domain::CeremonyView& view, const std::string& error,
                       const std::vector<Violation>& violations, int status);
    Res RenderConfirm(Ctx& ctx, const std::string& request_id, const std::optional<Error>& error,
                      int status);
    Res RenderLink(Ctx& ctx, const std::string& token, const api::Grant& grant, bool sent,
                   const std::optional<Error>& error, int status);
    // What a code form says about a refused code, in the page's language.
    std::string CodeError(const Ctx& ctx, const Error& error,
                          const domain::RequestSigner& rs) const;
    // The page's language from the request: ?lang= (the switch), the cookie, Accept-Language.
    static void DetectLanguage(Ctx& ctx, const Req& req);
    Res StartEid(Ctx& ctx, const std::string& return_to, bool reauthentication,
                 domain::AuthLevel min_level);
    Res SeeOther(Ctx& ctx, const std::string& location) const;
    Res TooMany(Ctx& ctx, const api::SignerRefusal& refusal) const;
    // Before a login opens a session: the limit on sessions per address.
    std::optional<api::SignerRefusal> MayOpenSession(const std::string& ip) const;
    [[nodiscard]] Result<Ctx> Open(Req& req);
    bool CsrfOk(const Ctx& ctx, const Req& req) const;
    domain::ClientInfo Client(const Req& req) const;

    domain::SignerSessionService& sessions_;
    domain::CeremonyService& ceremony_;
    domain::IdentityProvider* eid_;
    const api::UrlSigner& urls_;
    const Clock& clock_;
    PortalOptions options_;
    api::SignerLimits* limits_;  // none in tests that do not count
};

// The portal's templates, stylesheet and script, compiled in (empty if unknown).
std::string_view EmbeddedFile(std::string_view name);

}  // namespace firmo::web
