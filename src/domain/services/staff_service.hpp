#pragma once
// The sender portal's staff accounts (issue 17): an issuer's people, each with a role, who log in
// to /app with an e-mail address and a password. An account is created without a password (by
// `firmo user create` or an admin) together with a one-time setup token (24 h, stored hashed,
// single use) whose page lets the person choose one; logging in opens a session held in the
// database (any node serves it; the browser keeps only a random token whose hash is the key).
// Logins are throttled per address and per account (RateLimitService) and every change to an
// account, every login and every refused login is in the issuer's staff audit log.
//
// Thread-safe as its ports are. Blocking: database work, and password hashing (tens of
// milliseconds of CPU and ~19 MiB each) in SetPassword and Login: never on an I/O thread.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "domain/ports/password_hasher.hpp"
#include "domain/ports/staff_repository.hpp"
#include "domain/services/context.hpp"
#include "domain/services/rate_limit_service.hpp"
#include "domain/services/signer_session_service.hpp"

namespace firmo::domain {

struct StaffOptions {
    std::chrono::hours setup_ttl{24};
    std::chrono::hours session_ttl{8};  // from login; a working day
    std::size_t min_password_length = 12;
    std::size_t max_password_length = 256;  // hashing cost must not be the caller's to choose
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
                 RateLimitService* login_limits, StaffOptions options = {})
        : ctx_(ctx), passwords_(passwords), login_limits_(login_limits), options_(options) {}

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
    // kRateLimited when the address or the account tried too often.
    [[nodiscard]] Result<StaffSessionHandle> Login(std::string_view email,
                                                   std::string_view password,
                                                   const ClientInfo& client);
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

    ServiceContext& ctx_;
    const PasswordHasher& passwords_;
    RateLimitService* login_limits_;
    StaffOptions options_;
};

// "staff:<user id>", for audit logs.
std::string StaffActor(const std::string& user_id);
// Lower case, trimmed; empty when it is not an address (one '@', a dot in the domain, no
// spaces or controls, at most 254 characters).
std::string NormalizedStaffEmail(std::string_view email);

}  // namespace firmo::domain
