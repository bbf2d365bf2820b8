#include "domain/services/signer_session_service.hpp"

#include "core/encoding.hpp"
#include "core/ids.hpp"
#include "core/log.hpp"
#include "domain/services/request_steps.hpp"

namespace firmo::domain {

std::string SignerActor(const std::string& signer_id) { return "signer:" + signer_id; }

std::string ClientDetail(const ClientInfo& client) {
    // The user agent is the client's to choose: quoted as a JSON string, so that no value of
    // it can end the field and plant another (` ip=...`). The address is the socket's (or a
    // trusted proxy's parse); quoted too should it ever hold anything but an address.
    const bool plain_ip =
        !client.ip.empty() &&
        client.ip.find_first_not_of("0123456789abcdefABCDEF:.%") == std::string::npos;
    return "ip=" + (plain_ip ? client.ip : JsonQuote(client.ip)) +
           " ua=" + JsonQuote(client.user_agent.substr(0, 200));
}

Result<SignerAccess> LoadSignerAccess(Transaction& tx, const std::string& request_id,
                                      const std::string& signer_id) {
    FIRMO_TRY(auto request, tx.requests().FindForSigner(request_id));
    if (!request) return Fail(ErrorCode::kNotFound, "signature request not found");
    for (std::size_t i = 0; i < request->signers.size(); ++i) {
        if (request->signers[i].signer_id != signer_id) continue;
        FIRMO_TRY(auto signer, tx.signers().Find(request->issuer_id, signer_id));
        if (!signer) return Fail(ErrorCode::kNotFound, "signature request not found");
        return SignerAccess{std::move(*request), i, std::move(*signer)};
    }
    return Fail(ErrorCode::kNotFound, "signature request not found");
}

std::string SignerSessionService::NewToken() const {
    return Base64UrlEncode(ctx_.random.Bytes(32));
}

std::string SignerSessionService::HashToken(std::string_view token) const {
    return ctx_.hasher.Sha256Hex(token);
}

std::string SignerSessionService::HashCode(const std::string& code_id,
                                           std::string_view code) const {
    // The id salts each code; the pepper (not in the codes table) keeps a copied table from
    // being brute-forced offline over the million possible codes.
    return ctx_.hasher.Sha256Hex(options_.code_pepper + ":" + code_id + ":" + std::string(code));
}

Result<SessionHandle> SignerSessionService::NewSession(
    const ClientInfo& client, const std::function<void(PortalSession&)>& fill,
    std::string_view old_token) {
    const Timestamp now = ctx_.clock.Now();
    SessionHandle handle;
    handle.token = NewToken();
    PortalSession& s = handle.session;
    s.id_hash = HashToken(handle.token);
    s.csrf_token = Base64UrlEncode(ctx_.random.Bytes(24));
    s.created_at = now;
    s.expires_at = now + options_.anonymous_ttl;
    s.ip = client.ip;
    s.user_agent = client.user_agent.substr(0, 300);
    fill(s);
    FIRMO_CHECK(InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<void> {
        if (!old_token.empty()) FIRMO_CHECK(tx.sessions().Delete(HashToken(old_token)));
        return tx.sessions().Insert(s);
    }));
    return handle;
}

Result<SessionHandle> SignerSessionService::Start(const ClientInfo& client) {
    return NewSession(
        client, [](PortalSession&) {}, "");
}

Result<PortalSession> SignerSessionService::Find(std::string_view token) {
    if (token.empty() || token.size() > 128) {
        return Fail(ErrorCode::kUnauthenticated, "no session");
    }
    FIRMO_TRY(auto session, InReadTransaction(ctx_.db, [&](Transaction& tx) {
                  return tx.sessions().Find(HashToken(token));
              }));
    if (!session || session->expires_at <= ctx_.clock.Now()) {
        return Fail(ErrorCode::kUnauthenticated, "the session expired; please log in again");
    }
    return std::move(*session);
}

Result<void> SignerSessionService::Save(const PortalSession& session) {
    return InWriteTransaction(ctx_.db,
                              [&](Transaction& tx) { return tx.sessions().Update(session); });
}

Result<void> SignerSessionService::End(std::string_view token) {
    return InWriteTransaction(
        ctx_.db, [&](Transaction& tx) { return tx.sessions().Delete(HashToken(token)); });
}

Result<SessionHandle> SignerSessionService::LoginWithIdentity(std::string_view old_token,
                                                              const VerifiedIdentity& identity,
                                                              const ClientInfo& client) {
    const Timestamp now = ctx_.clock.Now();
    auto handle = NewSession(
        client,
        [&](PortalSession& s) {
            s.auth_method = "oidc";
            s.identity_kind = identity.kind;
            s.identity = identity.identifier;
            s.full_name = identity.full_name;
            s.eid_level = identity.level;
            s.authenticated_at = now;
            // The login is not the second factor: confirming needs an eID login of its own,
            // after the clauses are accepted (Reauthenticated).
            s.expires_at = now + options_.session_ttl;
        },
        old_token);
    if (handle) {
        log::Info("signer_login", {{"method", "oidc"}, {"ip", client.ip}});
    }
    return handle;
}

Result<void> SignerSessionService::Reauthenticated(std::string_view token,
                                                   const VerifiedIdentity& identity) {
    FIRMO_TRY(auto session, Find(token));
    bool same = false;
    if (session.identity_kind) {
        same = *session.identity_kind == identity.kind && session.identity == identity.identifier;
    } else if (!session.request_id.empty()) {
        // A link or redirect session: the eID must be the signer's own identifier.
        FIRMO_TRY(auto access, InReadTransaction(ctx_.db, [&](Transaction& tx) {
                      return LoadSignerAccess(tx, session.request_id, session.signer_id);
                  }));
        same =
            access.signer.kind == identity.kind && access.signer.identifier == identity.identifier;
    }
    if (!same) {
        return Fail(ErrorCode::kForbidden,
                    "the eID used to confirm is not the signer's; confirm as the same person");
    }
    // When it completed, by this node's clock (the provider checked that the person logged in
    // again after this re-authentication began): compared with when the clauses were
    // accepted, also by our clock, never with the provider's.
    session.reauthenticated_at = ctx_.clock.Now();
    session.eid_level = identity.level;
    if (session.full_name.empty()) session.full_name = identity.full_name;
    return Save(session);
}

namespace {
constexpr const char* kCopyLocked =
    "too many wrong codes: this link no longer opens your copy; ask the sender for it";
}  // namespace

Result<CodeSent> SignerSessionService::SendCode(const std::string& request_id,
                                                const std::string& signer_id, CodeKind kind,
                                                const ClientInfo& client) {
    const Timestamp now = ctx_.clock.Now();
    const std::string code = [&] {
        // 6 digits, uniform: reject the top of the 32-bit range.
        while (true) {
            const std::string raw = ctx_.random.Bytes(4);
            std::uint32_t v = 0;
            for (char c : raw) v = (v << 8) | static_cast<unsigned char>(c);
            if (v >= 4'294'000'000u) continue;
            std::string digits = std::to_string(v % 1'000'000);
            return std::string(6 - digits.size(), '0') + digits;
        }
    }();
    CodeMessage message;
    CodeSent sent;
    bool test = false;  // a test request's code is recorded, not sent
    FIRMO_CHECK(InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<void> {
        FIRMO_TRY(auto access, LoadSignerAccess(tx, request_id, signer_id));
        const RequestSigner& rs = access.request_signer();
        if (rs.status == SignerStatus::kBlocked) {
            return Fail(ErrorCode::kForbidden,
                        "too many wrong codes: this signer is blocked; ask the sender for help");
        }
        // A signer who signed logs in again with a code for their copy (issue 16).
        const bool copy = !access.may_sign() && access.has_copy();
        if (!access.may_sign() && !copy) {
            return Fail(ErrorCode::kConflict, "this request cannot be signed any more");
        }
        if (copy) {
            FIRMO_CHECK(CheckSignerCopyKept(access.request, options_.signer_copy_ttl, now));
            if (rs.failed_code_attempts >= options_.max_code_attempts) {
                return Fail(ErrorCode::kForbidden, kCopyLocked);
            }
        } else if (now >= access.request.expires_at) {
            // The request's current deadline closes the link (not the one it was sent with).
            return Fail(ErrorCode::kGone, "the request has expired: this link is closed");
        }
        if (!copy) FIRMO_CHECK(CheckActive(access.request, now));
        FIRMO_TRY(auto latest, tx.codes().FindLatest(request_id, signer_id, kind));
        // Resending waits a little (mail bombing), but never longer than a code lives.
        const auto wait =
            std::min<std::chrono::seconds>(options_.code_resend_interval, options_.code_ttl);
        if (latest && now < latest->created_at + wait) {
            return Fail(ErrorCode::kRateLimited,
                        "a code was sent moments ago; wait a little before asking again");
        }
        if (access.signer.email) {
            message.channel = CodeChannel::kEmail;
            message.to = *access.signer.email;
            sent.masked_destination = MaskContact(message.to);
        } else if (access.signer.phone) {
            message.channel = CodeChannel::kSms;
            message.to = *access.signer.phone;
            sent.masked_destination = MaskContact(message.to);
        } else {
            return Fail(ErrorCode::kConflict,
                        "the sender gave no e-mail address or phone number for this signer");
        }
        OneTimeCode c;
        c.id = NewUlid(now, ctx_.random);
        c.request_id = request_id;
        c.signer_id = signer_id;
        c.kind = kind;
        c.code_hash = HashCode(c.id, code);
        c.created_at = now;
        c.expires_at = now + options_.code_ttl;
        FIRMO_CHECK(tx.codes().Insert(c));
        FIRMO_TRY(auto issuer, tx.issuers().Find(access.request.issuer_id));
        message.code = code;
        message.purpose = kind == CodeKind::kLogin ? CodePurpose::kLogin : CodePurpose::kConfirm;
        message.title = issuer ? issuer->name : std::string();
        message.language = SignerLanguage(access.signer);
        message.expires_at = c.expires_at;
        if (ctx_.notifications.signer_zone) {
            message.zone = ctx_.notifications.signer_zone(access.signer);
        }
        sent.channel = message.channel;
        sent.expires_at = c.expires_at;
        if (access.request.test) {
            // Issue 17: recorded in the outbox, where delivery never sends a test request's
            // message (EventService::DeliverOne); the integrator reads the code in the
            // notification delivery log.
            test = true;
            OutboxMessage m;
            m.event_id = "code_" + c.id;
            m.issuer_id = access.request.issuer_id;
            m.request_id = request_id;
            m.channel = message.channel == CodeChannel::kEmail ? Channel::kEmail : Channel::kSms;
            m.destination = message.to;
            m.template_name = kind == CodeKind::kLogin ? "login_code" : "confirm_code";
            m.language = message.language;
            m.payload_json = "{\"code\":" + JsonQuote(code) + "}";
            m.created_at = now;
            m.next_attempt_at = now;
            FIRMO_CHECK(tx.outbox().Insert(m));
        }
        return tx.audit().Append(AuditEvent{
            0, request_id, now, "signer.code_sent", "", "", "", signer_id, SignerActor(signer_id),
            std::string(ToString(kind)) + " code to " + sent.masked_destination + " " +
                ClientDetail(client)});
    }));
    if (test) return sent;
    // Sent after the commit: a code that was never stored must not reach anyone. A failed
    // send leaves an unusable code behind, which expires.
    FIRMO_CHECK(codes_.Send(message));
    return sent;
}

Result<void> SignerSessionService::CheckCode(const std::string& request_id,
                                             const std::string& signer_id, CodeKind kind,
                                             std::string_view code, const ClientInfo& client) {
    const Timestamp now = ctx_.clock.Now();
    std::optional<Error> outcome;
    FIRMO_CHECK(InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<void> {
        FIRMO_TRY(auto access, LoadSignerAccess(tx, request_id, signer_id));
        RequestSigner& rs = access.request.signers[access.position];
        if (rs.status == SignerStatus::kBlocked) {
            outcome =
                Error{ErrorCode::kForbidden,
                      "too many wrong codes: this signer is blocked; ask the sender for help"};
            return {};
        }
        const bool copy = !access.may_sign() && access.has_copy();
        if (!access.may_sign() && !copy) {
            outcome = Error{ErrorCode::kConflict, "this request cannot be signed any more"};
            return {};
        }
        if (copy) {
            if (auto kept = CheckSignerCopyKept(access.request, options_.signer_copy_ttl, now);
                !kept) {
                outcome = kept.error();
                return {};
            }
            if (rs.failed_code_attempts >= options_.max_code_attempts) {
                outcome = Error{ErrorCode::kForbidden, kCopyLocked};
                return {};
            }
        } else if (now >= access.request.expires_at) {
            outcome = Error{ErrorCode::kGone, "the request has expired: this link is closed"};
            return {};
        }
        FIRMO_TRY(auto latest, tx.codes().FindLatest(request_id, signer_id, kind));
        const bool well_formed =
            code.size() == 6 && code.find_first_not_of("0123456789") == std::string_view::npos;
        if (latest && well_formed &&
            ConstantTimeEquals(latest->code_hash, HashCode(latest->id, code))) {
            if (now >= latest->expires_at) {
                outcome = Error{ErrorCode::kGone, "the code expired; ask for a new one"};
                return {};
            }
            FIRMO_TRY(bool used, tx.codes().Use(latest->id, now));
            if (!used) {
                outcome = Error{ErrorCode::kUnauthenticated, "the code was used already"};
                return {};
            }
            if (rs.failed_code_attempts != 0) {
                rs.failed_code_attempts = 0;
                FIRMO_CHECK(tx.requests().Update(access.request));
            }
            return tx.audit().Append(AuditEvent{
                0, request_id, now, "signer.code_accepted", "", "", "", signer_id,
                SignerActor(signer_id), std::string(ToString(kind)) + " " + ClientDetail(client)});
        }
        rs.failed_code_attempts += 1;
        const int left = options_.max_code_attempts - rs.failed_code_attempts;
        FIRMO_CHECK(tx.audit().Append(AuditEvent{
            0, request_id, now, "signer.code_rejected", "", "", "", signer_id,
            SignerActor(signer_id),
            "attempt " + std::to_string(rs.failed_code_attempts) + " " + ClientDetail(client)}));
        if (copy) {
            // A final request keeps its signers as they were: too many wrong codes close the
            // login to the copy, they do not block a signer who signed.
            outcome = left <= 0 ? Error{ErrorCode::kForbidden, kCopyLocked}
                                : Error{ErrorCode::kUnauthenticated,
                                        "wrong or expired code; " + std::to_string(left) +
                                            (left == 1 ? " try" : " tries") + " left"};
            return tx.requests().Update(access.request);
        }
        if (left <= 0) {
            FIRMO_CHECK(BlockSigner(ctx_, tx, access.request, access.position,
                                    std::to_string(rs.failed_code_attempts) + " wrong codes", now));
            outcome = Error{ErrorCode::kForbidden,
                            "too many wrong codes: this signer is now blocked; ask the sender "
                            "for help"};
        } else {
            outcome = Error{ErrorCode::kUnauthenticated,
                            "wrong or expired code; " + std::to_string(left) +
                                (left == 1 ? " try" : " tries") + " left"};
        }
        access.request.updated_at = now;
        return tx.requests().Update(access.request);
    }));
    if (outcome) return tl::unexpected<Error>(std::move(*outcome));
    return {};
}

Result<SessionHandle> SignerSessionService::LoginWithCode(std::string_view old_token,
                                                          const std::string& request_id,
                                                          const std::string& signer_id,
                                                          std::string_view code,
                                                          const ClientInfo& client) {
    FIRMO_CHECK(CheckCode(request_id, signer_id, CodeKind::kLogin, code, client));
    const Timestamp now = ctx_.clock.Now();
    return NewSession(
        client,
        [&](PortalSession& s) {
            s.auth_method = "code";
            s.request_id = request_id;
            s.signer_id = signer_id;
            s.authenticated_at = now;
            s.expires_at = now + options_.session_ttl;
        },
        old_token);
}

Result<SessionHandle> SignerSessionService::LoginWithRedirect(std::string_view old_token,
                                                              std::string_view redirect_token,
                                                              const ClientInfo& client) {
    const Timestamp now = ctx_.clock.Now();
    const std::string hash = HashToken(redirect_token);
    std::optional<Error> refused;
    SignerToken token;
    FIRMO_CHECK(InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<void> {
        FIRMO_TRY(auto found, tx.signer_tokens().Find(hash));
        if (!found || found->kind != SignerTokenKind::kRedirect) {
            refused = Error{ErrorCode::kForbidden, "this link is not valid"};
            return {};
        }
        token = *found;
        if (token.used_at) {
            refused = Error{ErrorCode::kGone,
                            "this link was used already; go back to the sender's site and start "
                            "again"};
            return {};
        }
        if (now >= token.expires_at) {
            refused = Error{ErrorCode::kGone,
                            "this link expired; go back to the sender's site and start again"};
            return {};
        }
        FIRMO_TRY(bool used, tx.signer_tokens().Use(hash, now));
        if (!used) {
            refused = Error{ErrorCode::kGone, "this link was used already"};
            return {};
        }
        return tx.audit().Append(AuditEvent{0, token.request_id, now, "signer.redirected", "", "",
                                            "", token.signer_id, SignerActor(token.signer_id),
                                            ClientDetail(client)});
    }));
    if (refused) return tl::unexpected<Error>(std::move(*refused));
    return NewSession(
        client,
        [&](PortalSession& s) {
            s.auth_method = "redirect";
            s.request_id = token.request_id;
            s.signer_id = token.signer_id;
            s.authenticated_at = now;
            s.expires_at = now + options_.session_ttl;
        },
        old_token);
}

Result<std::pair<SignerAccess, Issuer>> SignerSessionService::Lookup(const std::string& request_id,
                                                                     const std::string& signer_id) {
    return InReadTransaction(
        ctx_.db, [&](Transaction& tx) -> Result<std::pair<SignerAccess, Issuer>> {
            FIRMO_TRY(auto access, LoadSignerAccess(tx, request_id, signer_id));
            FIRMO_TRY(auto issuer, tx.issuers().Find(access.request.issuer_id));
            return std::make_pair(std::move(access), issuer.value_or(Issuer{}));
        });
}

Result<SignerAccess> SignerSessionService::Access(const PortalSession& session,
                                                  const std::string& request_id) {
    if (!session.authenticated()) {
        return Fail(ErrorCode::kUnauthenticated, "please log in first");
    }
    return InReadTransaction(ctx_.db, [&](Transaction& tx) -> Result<SignerAccess> {
        if (!session.request_id.empty()) {
            if (session.request_id != request_id) {
                return Fail(ErrorCode::kNotFound, "signature request not found");
            }
            return LoadSignerAccess(tx, request_id, session.signer_id);
        }
        if (!session.identity_kind)
            return Fail(ErrorCode::kNotFound, "signature request not found");
        FIRMO_TRY(auto request, tx.requests().FindForSigner(request_id));
        if (!request) return Fail(ErrorCode::kNotFound, "signature request not found");
        for (std::size_t i = 0; i < request->signers.size(); ++i) {
            FIRMO_TRY(auto signer,
                      tx.signers().Find(request->issuer_id, request->signers[i].signer_id));
            if (signer && signer->kind == *session.identity_kind &&
                signer->identifier == session.identity) {
                return SignerAccess{std::move(*request), i, std::move(*signer)};
            }
        }
        return Fail(ErrorCode::kNotFound, "signature request not found");
    });
}

std::optional<Timestamp> SignerCopyUntil(const SignatureRequest& request, std::chrono::hours ttl) {
    if (!IsTerminal(request.status)) return std::nullopt;
    const std::optional<Timestamp> ended = request.signed_at      ? request.signed_at
                                           : request.rejected_at  ? request.rejected_at
                                           : request.cancelled_at ? request.cancelled_at
                                           : request.expired_at
                                               ? request.expired_at
                                               : std::optional<Timestamp>(request.updated_at);
    return *ended + ttl;
}

Result<void> CheckSignerCopyKept(const SignatureRequest& request, std::chrono::hours ttl,
                                 Timestamp now) {
    FIRMO_CHECK(CheckDocumentsKept(request));
    const auto until = SignerCopyUntil(request, ttl);
    if (until && now >= *until) {
        return Fail(ErrorCode::kGone, "the signers' copies of this request were kept until " +
                                          FormatRfc3339(*until) + "; ask the sender for them");
    }
    return {};
}

}  // namespace firmo::domain
