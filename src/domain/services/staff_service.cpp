#include "domain/services/staff_service.hpp"

#include <algorithm>
#include <cctype>

#include "core/encoding.hpp"
#include "core/ids.hpp"

namespace firmo::domain {

std::string_view ToString(StaffRole role) {
    switch (role) {
        case StaffRole::kAdmin:
            return "admin";
        case StaffRole::kSender:
            return "sender";
        case StaffRole::kViewer:
            return "viewer";
    }
    return "viewer";
}

std::optional<StaffRole> ParseStaffRole(std::string_view text) {
    if (text == "admin") return StaffRole::kAdmin;
    if (text == "sender") return StaffRole::kSender;
    if (text == "viewer") return StaffRole::kViewer;
    return std::nullopt;
}

std::string StaffActor(const std::string& user_id) { return "staff:" + user_id; }

std::string NormalizedStaffEmail(std::string_view email) {
    while (!email.empty() && email.front() == ' ') email.remove_prefix(1);
    while (!email.empty() && email.back() == ' ') email.remove_suffix(1);
    if (email.empty() || email.size() > 254) return {};
    std::string out;
    out.reserve(email.size());
    for (char c : email) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u == 0x7f || c == '<' || c == '>' || c == ',' || c == ';') return {};
        out += static_cast<char>(std::tolower(u));
    }
    const auto at = out.find('@');
    if (at == 0 || at == std::string::npos || out.find('@', at + 1) != std::string::npos) {
        return {};
    }
    const std::string_view domain = std::string_view(out).substr(at + 1);
    const auto dot = domain.find('.');
    if (dot == std::string_view::npos || dot == 0 || domain.back() == '.') return {};
    return out;
}

namespace {

// A hash no password matches, verified when the address is unknown so that a login for an
// unknown address costs what a wrong password costs (no timing tells which addresses exist).
constexpr std::string_view kNoAccountHash =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$"
    "J3iNvY6lCk3mFX4o0s8yGtG3sA0Q0y3u2Tq4t3R5bqs";

}  // namespace

std::string StaffService::NewToken() const { return Base64UrlEncode(ctx_.random.Bytes(32)); }

Result<StaffInvite> StaffService::CreateUser(const std::string& issuer_id, std::string_view email,
                                             StaffRole role, const std::string& actor) {
    const std::string address = NormalizedStaffEmail(email);
    if (address.empty()) {
        return FailValidation({{"email", "must be an e-mail address"}});
    }
    const Timestamp now = ctx_.clock.Now();
    StaffInvite invite;
    invite.setup_token = NewToken();
    StaffUser& u = invite.user;
    u.id = NewUlid(now, ctx_.random);
    u.issuer_id = issuer_id;
    u.email = address;
    u.role = role;
    u.setup_token_hash = HashToken(invite.setup_token);
    u.setup_expires_at = now + options_.setup_ttl;
    u.created_at = u.updated_at = now;
    FIRMO_CHECK(InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<void> {
        FIRMO_TRY(auto issuer, tx.issuers().Find(issuer_id));
        if (!issuer) return Fail(ErrorCode::kNotFound, "no such issuer: " + issuer_id);
        FIRMO_CHECK(tx.staff().InsertUser(u));
        return tx.staff().AppendAudit(StaffAuditEntry{
            .issuer_id = issuer_id,
            .at = now,
            .actor = actor,
            .action = "staff_user.created",
            .subject = u.id,
            .detail = "email=" + JsonQuote(address) + " role=" + std::string(ToString(role))});
    }));
    return invite;
}

Result<StaffUser> StaffService::SetupAccount(std::string_view setup_token) {
    FIRMO_TRY(auto user, InReadTransaction(ctx_.db, [&](Transaction& tx) {
                  return tx.staff().FindUserBySetupToken(HashToken(setup_token));
              }));
    if (!user) return Fail(ErrorCode::kNotFound, "no such setup link");
    if (!user->setup_expires_at || *user->setup_expires_at <= ctx_.clock.Now()) {
        return Fail(ErrorCode::kGone, "the setup link expired");
    }
    if (user->disabled_at) return Fail(ErrorCode::kNotFound, "no such setup link");
    return std::move(*user);
}

Result<StaffSessionHandle> StaffService::CompleteSetup(std::string_view setup_token,
                                                       std::string_view password,
                                                       const ClientInfo& client) {
    if (password.size() < options_.min_password_length ||
        password.size() > options_.max_password_length) {
        return FailValidation(
            {{"password", "must have " + std::to_string(options_.min_password_length) + " to " +
                              std::to_string(options_.max_password_length) + " characters"}});
    }
    FIRMO_CHECK(SetupAccount(setup_token));  // precise errors before the costly hash
    FIRMO_TRY(auto hash, passwords_.Hash(password));
    const Timestamp now = ctx_.clock.Now();
    return InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<StaffSessionHandle> {
        // Read again inside the transaction: of two concurrent uses of one token, one wins.
        FIRMO_TRY(auto user, tx.staff().FindUserBySetupToken(HashToken(setup_token)));
        if (!user || user->disabled_at) return Fail(ErrorCode::kNotFound, "no such setup link");
        if (!user->setup_expires_at || *user->setup_expires_at <= now) {
            return Fail(ErrorCode::kGone, "the setup link expired");
        }
        user->password_hash = hash;
        user->setup_token_hash.clear();
        user->setup_expires_at.reset();
        user->updated_at = now;
        FIRMO_CHECK(tx.staff().UpdateUser(*user));
        FIRMO_CHECK(tx.staff().DeleteSessionsOf(user->id));
        FIRMO_CHECK(tx.staff().AppendAudit(StaffAuditEntry{.issuer_id = user->issuer_id,
                                                           .at = now,
                                                           .actor = StaffActor(user->id),
                                                           .action = "staff_user.password_set",
                                                           .subject = user->id,
                                                           .detail = ClientDetail(client)}));
        return OpenSession(tx, *user, client);
    });
}

Result<StaffSessionHandle> StaffService::OpenSession(Transaction& tx, const StaffUser& user,
                                                     const ClientInfo& client) {
    const Timestamp now = ctx_.clock.Now();
    StaffSessionHandle handle;
    handle.token = NewToken();
    handle.user = user;
    StaffSession& s = handle.session;
    s.id_hash = HashToken(handle.token);
    s.user_id = user.id;
    s.issuer_id = user.issuer_id;
    s.csrf_token = Base64UrlEncode(ctx_.random.Bytes(24));
    s.created_at = now;
    s.expires_at = now + options_.session_ttl;
    s.ip = client.ip;
    s.user_agent = client.user_agent.substr(0, 300);
    FIRMO_CHECK(tx.staff().InsertSession(s));
    FIRMO_CHECK(tx.staff().AppendAudit(StaffAuditEntry{.issuer_id = user.issuer_id,
                                                       .at = now,
                                                       .actor = StaffActor(user.id),
                                                       .action = "staff.login",
                                                       .subject = user.id,
                                                       .detail = ClientDetail(client)}));
    return handle;
}

Result<void> StaffService::Throttle(const std::string& ip, const std::string& account) {
    if (!login_limits_) return {};
    // Both buckets count every attempt: one address cannot try many accounts, nor many
    // addresses one account.
    const bool by_ip = login_limits_->Allow("staff-login-ip:" + ip).allowed;
    const bool by_account = account.empty() || login_limits_->Allow(account).allowed;
    if (!by_ip || !by_account) {
        return Fail(ErrorCode::kRateLimited, "too many login attempts; wait a few minutes");
    }
    return {};
}

Result<StaffLogin> StaffService::Login(std::string_view email, std::string_view password,
                                       const ClientInfo& client) {
    const std::string address = NormalizedStaffEmail(email);
    FIRMO_CHECK(Throttle(client.ip, address.empty() ? "" : "staff-login:" + address));
    std::optional<StaffUser> user;
    if (!address.empty() && password.size() <= options_.max_password_length) {
        FIRMO_TRY(user, InReadTransaction(ctx_.db, [&](Transaction& tx) {
                      return tx.staff().FindUserByEmail(address);
                  }));
    }
    const bool usable = user && !user->disabled_at && !user->password_hash.empty();
    const bool matches =
        passwords_.Verify(usable ? std::string_view(user->password_hash) : kNoAccountHash,
                          password.substr(0, options_.max_password_length));
    const Timestamp now = ctx_.clock.Now();
    if (!usable || !matches) {
        if (user) {
            // The issuer sees attempts on its accounts; attempts on unknown addresses belong to
            // no issuer (the rate limit and the access log cover them).
            FIRMO_CHECK(InWriteTransaction(ctx_.db, [&](Transaction& tx) {
                return tx.staff().AppendAudit(StaffAuditEntry{.issuer_id = user->issuer_id,
                                                              .at = now,
                                                              .actor = StaffActor(user->id),
                                                              .action = "staff.login_refused",
                                                              .subject = user->id,
                                                              .detail = ClientDetail(client)});
            }));
        }
        return Fail(ErrorCode::kUnauthenticated, "wrong e-mail address or password");
    }
    StaffLogin login;
    if (user->has_totp() || options_.require_totp) {
        login.enrol = !user->has_totp();
        login.expires_at = now + options_.second_step_ttl;
        login.user = std::move(*user);
        return login;
    }
    FIRMO_TRY(login.session,
              InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<StaffSessionHandle> {
                  return OpenSession(tx, *user, client);
              }));
    login.user = login.session->user;
    return login;
}

// ---- The second factor ------------------------------------------------------------------------

namespace {

constexpr std::size_t kTotpSecretBytes = 20;  // 160 bits, as RFC 4226 recommends for SHA-1

std::string TotpContext(const std::string& user_id) { return "staff-totp:" + user_id; }

}  // namespace

Result<void> StaffService::AcceptCode(StaffUser& user, std::string_view code, bool pending) const {
    const auto wrong = [] { return Fail(ErrorCode::kUnauthenticated, "wrong or used code"); };
    if (user.totp_secret.empty() || user.has_totp() == pending) return wrong();
    const auto sealed = Base64UrlDecode(user.totp_secret);
    if (!sealed) return Fail(ErrorCode::kInternal, "a stored second factor is not base64url");
    FIRMO_TRY(std::string secret, totp_.Open(*sealed, TotpContext(user.id)));
    const auto step = totp_.MatchStep(secret, code, ctx_.clock.Now());
    // A code is good once: its step, or an earlier one, was used already.
    if (!step || *step <= user.totp_last_step) return wrong();
    user.totp_last_step = *step;
    return {};
}

template <typename T, typename Then>
Result<T> StaffService::WithCode(const std::string& issuer_id, const std::string& user_id,
                                 std::string_view code, bool pending, const ClientInfo& client,
                                 Then then) {
    FIRMO_CHECK(Throttle(client.ip, "staff-code:" + user_id));
    const Timestamp now = ctx_.clock.Now();
    bool refused = false;
    auto done = InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<T> {
        FIRMO_TRY(auto user, tx.staff().FindUser(issuer_id, user_id));
        if (!user || user->disabled_at) {
            return Fail(ErrorCode::kUnauthenticated, "wrong or used code");
        }
        // Read and written in one transaction: of two uses of one code, one wins.
        if (auto accepted = AcceptCode(*user, code, pending); !accepted) {
            refused = accepted.error().code == ErrorCode::kUnauthenticated;
            return tl::unexpected(accepted.error());
        }
        user->updated_at = now;
        return then(tx, *user);
    });
    if (!done && refused) {
        FIRMO_CHECK(InWriteTransaction(ctx_.db, [&](Transaction& tx) {
            return tx.staff().AppendAudit(StaffAuditEntry{.issuer_id = issuer_id,
                                                          .at = now,
                                                          .actor = StaffActor(user_id),
                                                          .action = "staff.totp_refused",
                                                          .subject = user_id,
                                                          .detail = ClientDetail(client)});
        }));
    }
    return done;
}

Result<StaffSessionHandle> StaffService::CompleteSecondStep(const std::string& issuer_id,
                                                            const std::string& user_id,
                                                            std::string_view code,
                                                            const ClientInfo& client) {
    FIRMO_TRY(auto current, InReadTransaction(ctx_.db, [&](Transaction& tx) {
                  return tx.staff().FindUser(issuer_id, user_id);
              }));
    // An account without a confirmed factor reaches this step only to enrol.
    const bool enrol = current && !current->has_totp();
    if (enrol && !options_.require_totp) {
        return Fail(ErrorCode::kUnauthenticated, "wrong or used code");
    }
    const Timestamp now = ctx_.clock.Now();
    return WithCode<StaffSessionHandle>(
        issuer_id, user_id, code, enrol, client,
        [&](Transaction& tx, StaffUser& user) -> Result<StaffSessionHandle> {
            if (enrol) {
                user.totp_enabled_at = now;
                FIRMO_CHECK(
                    tx.staff().AppendAudit(StaffAuditEntry{.issuer_id = issuer_id,
                                                           .at = now,
                                                           .actor = StaffActor(user.id),
                                                           .action = "staff_user.totp_enabled",
                                                           .subject = user.id,
                                                           .detail = ClientDetail(client)}));
            }
            FIRMO_CHECK(tx.staff().UpdateUser(user));
            return OpenSession(tx, user, client);
        });
}

Result<TotpEnrolment> StaffService::BeginTotp(const std::string& issuer_id,
                                              const std::string& user_id) {
    const std::string secret = ctx_.random.Bytes(kTotpSecretBytes);
    FIRMO_TRY(std::string sealed, totp_.Seal(secret, TotpContext(user_id)));
    const Timestamp now = ctx_.clock.Now();
    FIRMO_TRY(StaffUser user,
              InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<StaffUser> {
                  FIRMO_TRY(auto found, tx.staff().FindUser(issuer_id, user_id));
                  if (!found || found->disabled_at) {
                      return Fail(ErrorCode::kNotFound, "no such account");
                  }
                  if (found->has_totp()) {
                      return Fail(ErrorCode::kConflict, "the second factor is on already");
                  }
                  found->totp_secret = Base64UrlEncode(sealed);
                  found->updated_at = now;
                  FIRMO_CHECK(tx.staff().UpdateUser(*found));
                  return std::move(*found);
              }));
    TotpEnrolment out;
    out.secret_base32 = totp_.Base32(secret);
    // Key URI Format (Google Authenticator's, which every app reads): label "Issuer:account".
    const std::string& name = options_.totp_issuer;
    out.uri = "otpauth://totp/" + PercentEncode(name) + ":" + PercentEncode(user.email) +
              "?secret=" + out.secret_base32 + "&issuer=" + PercentEncode(name) +
              "&algorithm=SHA1&digits=6&period=30";
    return out;
}

Result<StaffUser> StaffService::ConfirmTotp(const std::string& issuer_id,
                                            const std::string& user_id, std::string_view code,
                                            const ClientInfo& client) {
    const Timestamp now = ctx_.clock.Now();
    return WithCode<StaffUser>(
        issuer_id, user_id, code, /*pending=*/true, client,
        [&](Transaction& tx, StaffUser& user) -> Result<StaffUser> {
            user.totp_enabled_at = now;
            FIRMO_CHECK(tx.staff().UpdateUser(user));
            FIRMO_CHECK(tx.staff().AppendAudit(StaffAuditEntry{.issuer_id = issuer_id,
                                                               .at = now,
                                                               .actor = StaffActor(user.id),
                                                               .action = "staff_user.totp_enabled",
                                                               .subject = user.id,
                                                               .detail = ClientDetail(client)}));
            return user;
        });
}

Result<StaffUser> StaffService::DisableTotp(const std::string& issuer_id,
                                            const std::string& user_id, std::string_view code,
                                            const ClientInfo& client) {
    if (options_.require_totp) {
        return Fail(ErrorCode::kConflict, "this installation requires a second factor");
    }
    const Timestamp now = ctx_.clock.Now();
    return WithCode<StaffUser>(
        issuer_id, user_id, code, /*pending=*/false, client,
        [&](Transaction& tx, StaffUser& user) -> Result<StaffUser> {
            user.totp_secret.clear();
            user.totp_enabled_at.reset();
            FIRMO_CHECK(tx.staff().UpdateUser(user));
            FIRMO_CHECK(tx.staff().AppendAudit(StaffAuditEntry{.issuer_id = issuer_id,
                                                               .at = now,
                                                               .actor = StaffActor(user.id),
                                                               .action = "staff_user.totp_disabled",
                                                               .subject = user.id,
                                                               .detail = ClientDetail(client)}));
            return user;
        });
}

std::optional<StaffRole> MapStaffRole(const std::vector<std::string>& values,
                                      const StaffRoleMap& map) {
    std::optional<StaffRole> best;
    for (const auto& [value, role] : map) {
        if (std::find(values.begin(), values.end(), value) == values.end()) continue;
        // The enumerators go from the most to the least powerful.
        if (!best || static_cast<int>(role) < static_cast<int>(*best)) best = role;
    }
    return best;
}

Result<StaffSessionHandle> StaffService::LoginWithProvider(const std::string& issuer_id,
                                                           const StaffIdentity& identity,
                                                           const StaffRoleMap& role_map,
                                                           const ClientInfo& client) {
    const std::string address = NormalizedStaffEmail(identity.email);
    if (address.empty()) {
        return Fail(ErrorCode::kUnauthenticated, "the provider's e-mail address is not usable");
    }
    const std::optional<StaffRole> role = MapStaffRole(identity.roles, role_map);
    if (!role) {
        return Fail(ErrorCode::kForbidden,
                    "the provider gave " + address + " no role that staff_oidc.role_map maps");
    }
    const Timestamp now = ctx_.clock.Now();
    const std::string detail =
        "subject=" + JsonQuote(identity.subject) + " " + ClientDetail(client);
    return InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<StaffSessionHandle> {
        FIRMO_TRY(auto found, tx.staff().FindUserByEmail(address));
        StaffUser user;
        if (!found) {
            FIRMO_TRY(auto issuer, tx.issuers().Find(issuer_id));
            if (!issuer) return Fail(ErrorCode::kNotFound, "no such issuer: " + issuer_id);
            user.id = NewUlid(now, ctx_.random);
            user.issuer_id = issuer_id;
            user.email = address;
            user.role = *role;
            user.created_at = user.updated_at = now;
            FIRMO_CHECK(tx.staff().InsertUser(user));
            FIRMO_CHECK(tx.staff().AppendAudit(
                StaffAuditEntry{.issuer_id = issuer_id,
                                .at = now,
                                .actor = "oidc",
                                .action = "staff_user.created",
                                .subject = user.id,
                                .detail = "email=" + JsonQuote(address) +
                                          " role=" + std::string(ToString(*role)) + " " + detail}));
        } else {
            user = std::move(*found);
            if (user.issuer_id != issuer_id || user.disabled_at) {
                return Fail(ErrorCode::kForbidden,
                            address + " is not an enabled account of this institution");
            }
            if (user.role != *role) {
                const std::string from(ToString(user.role));
                user.role = *role;
                user.updated_at = now;
                FIRMO_CHECK(tx.staff().UpdateUser(user));
                FIRMO_CHECK(tx.staff().AppendAudit(StaffAuditEntry{
                    .issuer_id = issuer_id,
                    .at = now,
                    .actor = "oidc",
                    .action = "staff_user.role_changed",
                    .subject = user.id,
                    .detail = "from=" + from + " to=" + std::string(ToString(*role))}));
            }
        }
        return OpenSession(tx, user, client);
    });
}

Result<StaffPrincipal> StaffService::Authenticate(std::string_view token) {
    if (token.empty()) return Fail(ErrorCode::kUnauthenticated, "no session");
    const auto expired = [] {
        return Fail(ErrorCode::kUnauthenticated, "the session expired; please log in again");
    };
    return InReadTransaction(ctx_.db, [&](Transaction& tx) -> Result<StaffPrincipal> {
        FIRMO_TRY(auto session, tx.staff().FindSession(HashToken(token)));
        if (!session || session->expires_at <= ctx_.clock.Now()) return expired();
        FIRMO_TRY(auto user, tx.staff().FindUser(session->issuer_id, session->user_id));
        if (!user || user->disabled_at) return expired();
        return StaffPrincipal{std::move(*session), std::move(*user)};
    });
}

Result<void> StaffService::Logout(std::string_view token, const ClientInfo& client) {
    const Timestamp now = ctx_.clock.Now();
    return InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<void> {
        const std::string id_hash = HashToken(token);
        FIRMO_TRY(auto session, tx.staff().FindSession(id_hash));
        if (!session) return {};
        FIRMO_CHECK(tx.staff().DeleteSession(id_hash));
        return tx.staff().AppendAudit(StaffAuditEntry{.issuer_id = session->issuer_id,
                                                      .at = now,
                                                      .actor = StaffActor(session->user_id),
                                                      .action = "staff.logout",
                                                      .subject = session->user_id,
                                                      .detail = ClientDetail(client)});
    });
}

Result<std::vector<StaffAuditEntry>> StaffService::Audit(const std::string& issuer_id, int limit) {
    return InReadTransaction(ctx_.db, [&](Transaction& tx) {
        return tx.staff().ListAudit(issuer_id, std::clamp(limit, 1, 1000));
    });
}

Result<std::vector<StaffUser>> StaffService::ListUsers(const std::string& issuer_id) {
    return InReadTransaction(ctx_.db,
                             [&](Transaction& tx) { return tx.staff().ListUsers(issuer_id); });
}

namespace {

// The account `user_id` of `issuer_id`, which `actor` may change (not the admin's own).
Result<StaffUser> ChangeableUser(Transaction& tx, const std::string& issuer_id,
                                 const std::string& user_id, const std::string& actor) {
    FIRMO_TRY(auto user, tx.staff().FindUser(issuer_id, user_id));
    if (!user) return Fail(ErrorCode::kNotFound, "no such account");
    if (StaffActor(user->id) == actor) {
        return Fail(ErrorCode::kConflict,
                    "an admin cannot demote or disable their own account: another admin can");
    }
    return std::move(*user);
}

}  // namespace

Result<StaffUser> StaffService::ChangeRole(const std::string& issuer_id, const std::string& user_id,
                                           StaffRole role, const std::string& actor) {
    const Timestamp now = ctx_.clock.Now();
    return InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<StaffUser> {
        FIRMO_TRY(StaffUser user, ChangeableUser(tx, issuer_id, user_id, actor));
        if (user.role == role) return user;
        const std::string from(ToString(user.role));
        user.role = role;
        user.updated_at = now;
        FIRMO_CHECK(tx.staff().UpdateUser(user));
        FIRMO_CHECK(tx.staff().AppendAudit(
            StaffAuditEntry{.issuer_id = issuer_id,
                            .at = now,
                            .actor = actor,
                            .action = "staff_user.role_changed",
                            .subject = user.id,
                            .detail = "from=" + from + " to=" + std::string(ToString(role))}));
        return user;
    });
}

Result<StaffUser> StaffService::DisableUser(const std::string& issuer_id,
                                            const std::string& user_id, const std::string& actor) {
    const Timestamp now = ctx_.clock.Now();
    return InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<StaffUser> {
        FIRMO_TRY(StaffUser user, ChangeableUser(tx, issuer_id, user_id, actor));
        if (user.disabled_at) return user;
        user.disabled_at = now;
        user.updated_at = now;
        user.setup_token_hash.clear();  // a pending setup link dies with the account
        user.setup_expires_at.reset();
        FIRMO_CHECK(tx.staff().UpdateUser(user));
        FIRMO_CHECK(tx.staff().DeleteSessionsOf(user.id));
        FIRMO_CHECK(
            tx.staff().AppendAudit(StaffAuditEntry{.issuer_id = issuer_id,
                                                   .at = now,
                                                   .actor = actor,
                                                   .action = "staff_user.disabled",
                                                   .subject = user.id,
                                                   .detail = "email=" + JsonQuote(user.email)}));
        return user;
    });
}

Result<StaffUser> StaffService::ResetTotp(const std::string& issuer_id, const std::string& user_id,
                                          const std::string& actor) {
    const Timestamp now = ctx_.clock.Now();
    return InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<StaffUser> {
        FIRMO_TRY(auto user, tx.staff().FindUser(issuer_id, user_id));
        if (!user) return Fail(ErrorCode::kNotFound, "no such account");
        // One's own factor goes off only with a code (DisableTotp), never by the admin's role.
        if (StaffActor(user->id) == actor) {
            return Fail(ErrorCode::kConflict,
                        "an admin cannot reset their own second factor: another admin can");
        }
        if (user->totp_secret.empty() && !user->has_totp()) return std::move(*user);
        user->totp_secret.clear();
        user->totp_enabled_at.reset();
        user->updated_at = now;
        FIRMO_CHECK(tx.staff().UpdateUser(*user));
        FIRMO_CHECK(
            tx.staff().AppendAudit(StaffAuditEntry{.issuer_id = issuer_id,
                                                   .at = now,
                                                   .actor = actor,
                                                   .action = "staff_user.totp_reset",
                                                   .subject = user->id,
                                                   .detail = "email=" + JsonQuote(user->email)}));
        return std::move(*user);
    });
}

Result<void> StaffService::Record(const std::string& issuer_id, const std::string& actor,
                                  const std::string& action, const std::string& subject,
                                  const std::string& detail) {
    const Timestamp now = ctx_.clock.Now();
    return InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<void> {
        return tx.staff().AppendAudit(StaffAuditEntry{.issuer_id = issuer_id,
                                                      .at = now,
                                                      .actor = actor,
                                                      .action = action,
                                                      .subject = subject,
                                                      .detail = detail});
    });
}

}  // namespace firmo::domain
