#pragma once
// The sender portal's staff accounts (issue 17): an issuer's people, each with a role, who log in
// to /app with an e-mail address and a password. An account is created without a password (by
// `firmo user create` or an admin) together with a one-time setup token (24 h, stored hashed,
// single use) whose page lets the person choose one; logging in opens a session held in the
// database (any node serves it; the browser keeps only a random token whose hash is the key).
// Logins are throttled per address and per account (RateLimitService) and every change to an
// account, every login and every refused login is in the issuer's staff audit log.
//
// The optional second factor (TOTP, RFC 6238): an account enrols from its account page (a secret
// shown once, enabled only after one right code); from then on a right password only opens a
// second step (`StaffLogin` without a session) that a right code completes. A code is good once
// (the last accepted time step is kept), codes are throttled like passwords, turning the factor
// off needs a code, and an admin can reset another account's. With `require_totp` every account
// without one must enrol in that second step before it gets a session.
//
// Thread-safe as its ports are. Blocking: database work, and password hashing (tens of
// milliseconds of CPU and ~19 MiB each) in SetPassword and Login: never on an I/O thread.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "domain/ports/password_hasher.hpp"
#include "domain/ports/staff_identity_provider.hpp"
#include "domain/ports/staff_repository.hpp"
#include "domain/ports/totp_authenticator.hpp"
#include "domain/services/context.hpp"
#include "domain/services/rate_limit_service.hpp"
#include "domain/services/signer_session_service.hpp"

namespace firmo::domain {

struct StaffOptions {
    std::chrono::hours setup_ttl{24};
    std::chrono::hours session_ttl{8};  // from login; a working day
    std::size_t min_password_length = 12;
    std::size_t max_password_length = 256;  // hashing cost must not be the caller's to choose
    bool require_totp = false;  // staff.require_totp: every account enrols at its next login
    std::chrono::minutes second_step_ttl{5};  // from the right password to the code
    std::string totp_issuer = "Firmo";        // the name authenticator apps show
};

// A new account (or a new setup token for one) and the token, here only, once.
struct StaffInvite {
    StaffUser user;
    std::string setup_token;
};

// A staff session and the token the browser keeps (only here, once).
struct StaffSessionHandle {
    std::string token;
    StaffSession session;
    StaffUser user;
};

// What a right password leads to: a session, or a second step (the account has a second factor,
// or must enrol one: `enrol`) that the caller binds to the browser until `expires_at` and that
// CompleteSecondStep finishes.
struct StaffLogin {
    std::optional<StaffSessionHandle> session;
    StaffUser user;
    bool enrol = false;
    Timestamp expires_at;
};

// A second factor being set up: the secret (base32), shown once, and the same as an otpauth://
// URI for a QR code.
struct TotpEnrolment {
    std::string secret_base32;
    std::string uri;
};

// staff_oidc.role_map: a value of the provider's role claim and the role it gives.
using StaffRoleMap = std::vector<std::pair<std::string, StaffRole>>;
// The role `values` give through `map`: the most powerful one named; none: nullopt.
std::optional<StaffRole> MapStaffRole(const std::vector<std::string>& values,
                                      const StaffRoleMap& map);

// Who is calling: a live session of an enabled account.
struct StaffPrincipal {
    StaffSession session;
    StaffUser user;

    bool may_send() const { return user.role != StaffRole::kViewer; }
    bool is_admin() const { return user.role == StaffRole::kAdmin; }
};

class StaffService {
  public:
    // `login_limits`: counts login attempts (buckets "staff-login-ip:<addr>" and
    // "staff-login:<email>"); none: not throttled (tests).
    StaffService(ServiceContext& ctx, const PasswordHasher& passwords,
                 const TotpAuthenticator& second_factor, RateLimitService* login_limits,
                 StaffOptions options = {})
        : ctx_(ctx),
          passwords_(passwords),
          totp_(second_factor),
          login_limits_(login_limits),
          options_(std::move(options)) {}

    const StaffOptions& options() const { return options_; }

    // A new account without a password, and its setup token. `actor`: "cli" or "staff:<id>".
    // kNotFound for an unknown issuer; kInvalidArgument for a malformed address;
    // kAlreadyExists when the address has an account already.
    [[nodiscard]] Result<StaffInvite> CreateUser(const std::string& issuer_id,
                                                 std::string_view email, StaffRole role,
                                                 const std::string& actor);

    // The account a setup token belongs to: kNotFound for an unknown or used token, kGone once
    // it expired.
    [[nodiscard]] Result<StaffUser> SetupAccount(std::string_view setup_token);
    // Sets the password, uses up the token, ends any other session of the account and logs the
    // person in. kInvalidArgument (violation "password") for a password too short or too long.
    [[nodiscard]] Result<StaffSessionHandle> CompleteSetup(std::string_view setup_token,
                                                           std::string_view password,
                                                           const ClientInfo& client);

    // kUnauthenticated for any wrong combination (never telling whether the address exists);
    // kRateLimited when the address or the account tried too often. A right password opens a
    // session, or only a second step (see StaffLogin).
    [[nodiscard]] Result<StaffLogin> Login(std::string_view email, std::string_view password,
                                           const ClientInfo& client);
    // The second step of a login whose password was right (the caller checked that the step is
    // this browser's and not expired): the account's current code, or, for an account that must
    // enrol, the first code of the secret BeginTotp gave it. Opens the session.
    // kUnauthenticated for a wrong or used code; kRateLimited as Login.
    [[nodiscard]] Result<StaffSessionHandle> CompleteSecondStep(const std::string& issuer_id,
                                                                const std::string& user_id,
                                                                std::string_view code,
                                                                const ClientInfo& client);

    // A person the institution's own provider vouched for (staff_oidc): the account of
    // `issuer_id` with that e-mail address, created on the first login (audited, actor "oidc"),
    // its role set from the provider's role claim through `role_map` on every login (audited
    // when it changes). The provider's login replaces the password and the TOTP step (its own
    // factors apply). kForbidden when no value maps to a role, or the address belongs to another
    // issuer's or a disabled account; kUnauthenticated for a malformed address.
    [[nodiscard]] Result<StaffSessionHandle> LoginWithProvider(const std::string& issuer_id,
                                                               const StaffIdentity& identity,
                                                               const StaffRoleMap& role_map,
                                                               const ClientInfo& client);

    // The second factor of one's own account. BeginTotp: a new secret, pending until
    // ConfirmTotp gets a right code for it (kConflict when one is on already). DisableTotp needs
    // a current code (kConflict when `require_totp`). kUnauthenticated for a wrong or used code;
    // kRateLimited as Login. Each change is in the staff audit log.
    [[nodiscard]] Result<TotpEnrolment> BeginTotp(const std::string& issuer_id,
                                                  const std::string& user_id);
    [[nodiscard]] Result<StaffUser> ConfirmTotp(const std::string& issuer_id,
                                                const std::string& user_id, std::string_view code,
                                                const ClientInfo& client);
    [[nodiscard]] Result<StaffUser> DisableTotp(const std::string& issuer_id,
                                                const std::string& user_id, std::string_view code,
                                                const ClientInfo& client);
    // An admin removes another account's second factor (a lost phone); the account enrols again
    // (at its next login when `require_totp`). kConflict for the admin's own account.
    [[nodiscard]] Result<StaffUser> ResetTotp(const std::string& issuer_id,
                                              const std::string& user_id, const std::string& actor);
    // kUnauthenticated when the token is unknown, the session expired or the account is
    // disabled.
    [[nodiscard]] Result<StaffPrincipal> Authenticate(std::string_view token);
    [[nodiscard]] Result<void> Logout(std::string_view token, const ClientInfo& client);

    // The issuer's staff audit log, newest first.
    [[nodiscard]] Result<std::vector<StaffAuditEntry>> Audit(const std::string& issuer_id,
                                                             int limit);

    // Administration (the admin pages). An issuer's accounts, by e-mail address.
    [[nodiscard]] Result<std::vector<StaffUser>> ListUsers(const std::string& issuer_id);
    // A new role for an account, or the account disabled (its sessions end; it can no longer
    // log in or use a setup link). `actor` is the admin ("staff:<id>"): an admin cannot demote
    // or disable their own account (kConflict), so the issuer keeps an admin who can act.
    // kNotFound for an account of another issuer. Both recorded in the staff audit log.
    [[nodiscard]] Result<StaffUser> ChangeRole(const std::string& issuer_id,
                                               const std::string& user_id, StaffRole role,
                                               const std::string& actor);
    [[nodiscard]] Result<StaffUser> DisableUser(const std::string& issuer_id,
                                                const std::string& user_id,
                                                const std::string& actor);
    // Records an administration done through another service (an API key, a webhook).
    [[nodiscard]] Result<void> Record(const std::string& issuer_id, const std::string& actor,
                                      const std::string& action, const std::string& subject,
                                      const std::string& detail);

    // A random URL-safe token (32 bytes) and its stored hash.
    std::string NewToken() const;
    std::string HashToken(std::string_view token) const { return ctx_.hasher.Sha256Hex(token); }

  private:
    [[nodiscard]] Result<StaffSessionHandle> OpenSession(Transaction& tx, const StaffUser& user,
                                                         const ClientInfo& client);
    // The throttle of passwords and codes: kRateLimited when `ip` or `account` tried too often.
    [[nodiscard]] Result<void> Throttle(const std::string& ip, const std::string& account);
    // Checks `code` against `user`'s secret (confirmed, or pending when `pending`) and records
    // its time step in `user` (not stored); kUnauthenticated for a wrong or already used code.
    [[nodiscard]] Result<void> AcceptCode(StaffUser& user, std::string_view code,
                                          bool pending) const;
    // Reads the account, accepts its code (AcceptCode) and runs `then` on it, in one write
    // transaction; a refused code is in the staff audit log.
    template <typename T, typename Then>
    [[nodiscard]] Result<T> WithCode(const std::string& issuer_id, const std::string& user_id,
                                     std::string_view code, bool pending, const ClientInfo& client,
                                     Then then);

    ServiceContext& ctx_;
    const PasswordHasher& passwords_;
    const TotpAuthenticator& totp_;
    RateLimitService* login_limits_;
    StaffOptions options_;
};

// "staff:<user id>", for audit logs.
std::string StaffActor(const std::string& user_id);
// Lower case, trimmed; empty when it is not an address (one '@', a dot in the domain, no
// spaces or controls, at most 254 characters).
std::string NormalizedStaffEmail(std::string_view email);

}  // namespace firmo::domain
