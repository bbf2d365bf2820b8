#pragma once
// The signer side's sessions and logins: anonymous sessions (only to carry an eID login's
// state to the provider and back: the portal's forms need none before login), login by eID (an
// IdentityProvider's verified identity), by a link plus a one-time code, or by a direct-flow
// redirect URL; one-time codes (stored hashed, expiring, single use; after too many wrong codes the
// signer is BLOCKED). Sessions live in the database, so any node serves them; the browser holds
// only a random token whose hash is the session's key.

#include <chrono>
#include <optional>
#include <string>

#include "domain/ports/code_sender.hpp"
#include "domain/ports/identity_provider.hpp"
#include "domain/services/context.hpp"

namespace firmo::domain {

struct SignerSideOptions {
    std::chrono::minutes session_ttl{60};    // an authenticated session, from login
    std::chrono::minutes anonymous_ttl{30};  // a session before login
    std::chrono::seconds code_ttl{600};
    std::chrono::seconds code_resend_interval{30};
    int max_code_attempts = 5;  // wrong codes in a row before the signer is BLOCKED
    std::chrono::minutes redirect_ttl{60};
    std::chrono::hours status_query_ttl{24 * 7};
    std::chrono::minutes reauthentication_max_age{10};
    std::string code_pepper;  // secret mixed into code hashes (shared by nodes, from settings)
    bool eid_login = false;   // an IdentityProvider is configured
    // The signer's copy (issue 16): how long after a request ended its signers may still log
    // in with their link and download the documents (retention.signer_copy_days).
    std::chrono::hours signer_copy_ttl{24 * 30};
};

struct ClientInfo {
    std::string ip;
    std::string user_agent;
};

// A session and the token the client keeps (only here, once: it is stored hashed).
struct SessionHandle {
    std::string token;
    PortalSession session;
};

// Where a one-time code went, masked for display ("m***@example.com", "+47 *** ** 123").
struct CodeSent {
    CodeChannel channel = CodeChannel::kEmail;
    std::string masked_destination;
    Timestamp expires_at;
};

// The request and the signer (position in request.signers) a session acts for.
struct SignerAccess {
    SignatureRequest request;
    std::size_t position = 0;
    Signer signer;

    const RequestSigner& request_signer() const { return request.signers[position]; }
    // Whether the signer can still log in with a code and sign: their turn is open (waiting)
    // and the request is not final. The one test behind the link page and the code senders.
    bool may_sign() const {
        return request_signer().status == SignerStatus::kWaiting && !IsTerminal(request.status);
    }
    // Whether the signer has a copy to fetch (issue 16): the request ended SIGNED, this signer
    // signed it for themselves (who signed for an organisation keeps none). Whether it is still
    // kept is SignerCopyUntil's.
    bool has_copy() const {
        return request.status == RequestStatus::kSigned &&
               request_signer().status == SignerStatus::kSigned &&
               request_signer().on_behalf_of != OnBehalfOf::kOther;
    }
};

// Until when the signers of an ended request may fetch its documents (its end plus `ttl`);
// nullopt while the request is open.
std::optional<Timestamp> SignerCopyUntil(const SignatureRequest& request, std::chrono::hours ttl);
// kGone once SignerCopyUntil has passed, kDocumentsDeleted once the documents are deleted.
[[nodiscard]] Result<void> CheckSignerCopyKept(const SignatureRequest& request,
                                               std::chrono::hours ttl, Timestamp now);

class SignerSessionService {
  public:
    SignerSessionService(ServiceContext& ctx, CodeSender& codes, SignerSideOptions options)
        : ctx_(ctx), codes_(codes), options_(std::move(options)) {}

    const SignerSideOptions& options() const { return options_; }

    [[nodiscard]] Result<SessionHandle> Start(const ClientInfo& client);
    // kUnauthenticated when the token is unknown or the session expired.
    [[nodiscard]] Result<PortalSession> Find(std::string_view token);
    [[nodiscard]] Result<void> Save(const PortalSession& session);
    [[nodiscard]] Result<void> End(std::string_view token);

    // eID login: a new session for the person (the old one is dropped: no session fixation).
    [[nodiscard]] Result<SessionHandle> LoginWithIdentity(std::string_view old_token,
                                                          const VerifiedIdentity& identity,
                                                          const ClientInfo& client);
    // Second factor by eID: the identity must be the session's person, or the signer the
    // session acts for; records the time on the session.
    [[nodiscard]] Result<void> Reauthenticated(std::string_view token,
                                               const VerifiedIdentity& identity);

    // Link + code. The link (verified by the caller) names the request and the signer.
    [[nodiscard]] Result<CodeSent> SendCode(const std::string& request_id,
                                            const std::string& signer_id, CodeKind kind,
                                            const ClientInfo& client);
    [[nodiscard]] Result<SessionHandle> LoginWithCode(std::string_view old_token,
                                                      const std::string& request_id,
                                                      const std::string& signer_id,
                                                      std::string_view code,
                                                      const ClientInfo& client);
    // Checks (and uses up) a code of `kind`; a wrong code counts towards BLOCKED.
    [[nodiscard]] Result<void> CheckCode(const std::string& request_id,
                                         const std::string& signer_id, CodeKind kind,
                                         std::string_view code, const ClientInfo& client);

    // What a signer's link shows before login: the signer, the request, the issuer's name.
    [[nodiscard]] Result<std::pair<SignerAccess, Issuer>> Lookup(const std::string& request_id,
                                                                 const std::string& signer_id);

    // Direct flow: the one-time redirect token opens a session for that signer.
    [[nodiscard]] Result<SessionHandle> LoginWithRedirect(std::string_view old_token,
                                                          std::string_view redirect_token,
                                                          const ClientInfo& client);

    // The request and signer the session may act for, or kNotFound (never telling whether
    // the request exists for someone else).
    [[nodiscard]] Result<SignerAccess> Access(const PortalSession& session,
                                              const std::string& request_id);

    // A random URL-safe token and its stored hash.
    std::string NewToken() const;
    std::string HashToken(std::string_view token) const;

  private:
    [[nodiscard]] Result<SessionHandle> NewSession(const ClientInfo& client,
                                                   const std::function<void(PortalSession&)>& fill,
                                                   std::string_view old_token);
    std::string HashCode(const std::string& code_id, std::string_view code) const;

    ServiceContext& ctx_;
    CodeSender& codes_;
    SignerSideOptions options_;
};

// "signer:<id>" plus where from, for the audit log.
std::string SignerActor(const std::string& signer_id);
std::string ClientDetail(const ClientInfo& client);

// Loads a request by id for the signer side and finds the signer on it (by id).
[[nodiscard]] Result<SignerAccess> LoadSignerAccess(Transaction& tx, const std::string& request_id,
                                                    const std::string& signer_id);

}  // namespace firmo::domain
