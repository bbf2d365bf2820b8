#pragma once
// Port: the sender portal's staff (issue 17): people of an issuer who log in to /app with an
// e-mail address and a password, their browser sessions, and the log of what they (or the
// command line) did to accounts. Passwords are stored as Argon2id strings (PasswordHasher), setup
// tokens and session tokens as SHA-256 hashes; nothing here holds a secret in clear. Every read of
// a user by id is scoped by issuer, so one issuer can never reach another's staff.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "domain/model.hpp"

namespace firmo::domain {

// admin: users, keys, webhooks, settings, and everything a sender does; sender: create, send,
// follow, cancel, download; viewer: follow and download.
enum class StaffRole { kAdmin, kSender, kViewer };
std::string_view ToString(StaffRole role);  // "admin" | "sender" | "viewer"
std::optional<StaffRole> ParseStaffRole(std::string_view text);

struct StaffUser {
    std::string id;
    std::string issuer_id;
    std::string email;  // lower case; unique across the installation (it is the login name)
    StaffRole role = StaffRole::kViewer;
    std::string password_hash;     // Argon2id (PHC string); empty until the person sets one
    std::string setup_token_hash;  // SHA-256 of a pending one-time setup token; empty: none
    std::optional<Timestamp> setup_expires_at;
    Timestamp created_at;
    Timestamp updated_at;
    std::optional<Timestamp> disabled_at;
    // The optional TOTP second factor: the shared secret sealed (TotpAuthenticator::Seal,
    // base64url); empty: none. Without totp_enabled_at it is an enrolment not yet confirmed by a
    // code.
    // totp_last_step: the last time step whose code was accepted (a code is good once).
    std::string totp_secret;
    std::optional<Timestamp> totp_enabled_at;
    std::int64_t totp_last_step = 0;

    bool has_totp() const { return totp_enabled_at.has_value(); }
    bool operator==(const StaffUser&) const = default;
};

struct StaffSession {
    std::string id_hash;  // SHA-256 (hex) of the cookie's token; the token is never stored
    std::string user_id;
    std::string issuer_id;
    std::string csrf_token;
    Timestamp created_at;
    Timestamp expires_at;
    std::string ip;
    std::string user_agent;

    bool operator==(const StaffSession&) const = default;
};

// One thing done to an issuer's staff accounts or settings, by whom.
struct StaffAuditEntry {
    std::int64_t seq = 0;  // assigned by the store, increasing
    std::string issuer_id;
    Timestamp at;
    std::string actor;    // "staff:<user id>", "cli"
    std::string action;   // "staff_user.created", "staff_user.password_set", "staff.login", ...
    std::string subject;  // what it was done to (a user id), or empty
    std::string detail;

    bool operator==(const StaffAuditEntry&) const = default;
};

class StaffRepository {
  public:
    virtual ~StaffRepository() = default;
    StaffRepository() = default;
    StaffRepository(const StaffRepository&) = delete;
    StaffRepository& operator=(const StaffRepository&) = delete;

    // kAlreadyExists when the id or the e-mail address is taken.
    [[nodiscard]] virtual Result<void> InsertUser(const StaffUser& user) = 0;
    [[nodiscard]] virtual Result<std::optional<StaffUser>> FindUser(const std::string& issuer_id,
                                                                    const std::string& id) = 0;
    [[nodiscard]] virtual Result<std::optional<StaffUser>> FindUserByEmail(
        const std::string& email) = 0;
    [[nodiscard]] virtual Result<std::optional<StaffUser>> FindUserBySetupToken(
        const std::string& token_hash) = 0;
    // Every field but id, issuer_id, email and created_at; kNotFound when gone.
    [[nodiscard]] virtual Result<void> UpdateUser(const StaffUser& user) = 0;
    // An issuer's staff, by e-mail address.
    [[nodiscard]] virtual Result<std::vector<StaffUser>> ListUsers(
        const std::string& issuer_id) = 0;

    [[nodiscard]] virtual Result<void> InsertSession(const StaffSession& session) = 0;
    [[nodiscard]] virtual Result<std::optional<StaffSession>> FindSession(
        const std::string& id_hash) = 0;
    [[nodiscard]] virtual Result<void> DeleteSession(const std::string& id_hash) = 0;
    // Ends every session of a user (a new password, a disabled account).
    [[nodiscard]] virtual Result<void> DeleteSessionsOf(const std::string& user_id) = 0;
    [[nodiscard]] virtual Result<std::int64_t> PurgeExpiredSessions(Timestamp now) = 0;

    // The store assigns seq; entry.seq is ignored.
    [[nodiscard]] virtual Result<void> AppendAudit(const StaffAuditEntry& entry) = 0;
    // An issuer's newest `limit` entries, newest first.
    [[nodiscard]] virtual Result<std::vector<StaffAuditEntry>> ListAudit(
        const std::string& issuer_id, int limit) = 0;
};

}  // namespace firmo::domain
