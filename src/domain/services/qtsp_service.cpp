#include "domain/services/qtsp_service.hpp"

#include "core/encoding.hpp"
#include "domain/services/signer_session_service.hpp"

namespace firmo::domain {
namespace {

constexpr std::size_t kMaxDetail = 300;

std::string Clip(std::string text) {
    if (text.size() > kMaxDetail) text.resize(kMaxDetail);
    return ToValidUtf8(text);
}

}  // namespace

QtspService::QtspService(ServiceContext& ctx, QtspGateway& gateway, QtspContinuation* continuation,
                         std::chrono::seconds ttl)
    : ctx_(ctx), gateway_(gateway), continuation_(continuation), ttl_(ttl) {}

Result<QtspBegun> QtspService::Begin(const std::string& request_id, const std::string& signer_id,
                                     const std::string& credential_id,
                                     const std::vector<std::string>& digests) {
    FIRMO_TRY(QtspAuthorizationStart start, gateway_.StartAuthorization(credential_id, digests));
    const Timestamp now = ctx_.clock.Now();
    QtspAuthorization a{.state_hash = ctx_.hasher.Sha256Hex(start.state),
                        .request_id = request_id,
                        .signer_id = signer_id,
                        .credential_id = credential_id,
                        .sealed_verifier = start.sealed_verifier,
                        .created_at = now,
                        .expires_at = now + ttl_};
    for (const auto& d : digests) a.hashes.push_back(Base64UrlEncode(d));
    FIRMO_CHECK(InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<void> {
        FIRMO_CHECK(tx.qtsp_authorizations().Insert(a));
        FIRMO_CHECK(tx.audit().Append(AuditEvent{0, request_id, now, "signer.qtsp_redirected", "",
                                                 "", "", signer_id, SignerActor(signer_id),
                                                 "credential " + credential_id + ", " +
                                                     std::to_string(digests.size()) +
                                                     " signature(s) to authorize"}));
        return Result<void>{};
    }));
    return QtspBegun{start.url, a.state_hash};
}

Result<std::optional<QtspAuthorization>> QtspService::Find(const std::string& state_hash) {
    return InReadTransaction(
        ctx_.db, [&](Transaction& tx) { return tx.qtsp_authorizations().Find(state_hash); });
}

Result<std::int64_t> QtspService::Sweep(std::chrono::seconds keep) {
    const Timestamp before = ctx_.clock.Now() - keep;
    return InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<std::int64_t> {
        FIRMO_CHECK(tx.qtsp_authorizations().ForgetExpiredTokens(ctx_.clock.Now()));
        return tx.qtsp_authorizations().DeleteExpired(before);
    });
}

// Finishes the pending authorization of `state_hash` with `outcome` and records it: exactly once.
// `then` runs in the same transaction: it commits with the claim, or neither does.
Result<QtspAuthorization> QtspService::Claim(
    const std::string& state_hash, const std::string& outcome, const std::string& detail,
    const std::function<Result<void>(Transaction&, const QtspAuthorization&)>& then) {
    return InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<QtspAuthorization> {
        FIRMO_TRY(auto found, tx.qtsp_authorizations().Find(state_hash));
        if (!found) return Fail(ErrorCode::kNotFound, "no such QTSP authorization");
        const Timestamp now = ctx_.clock.Now();
        FIRMO_TRY(bool finished, tx.qtsp_authorizations().Finish(state_hash, outcome, now));
        if (!finished) {
            return Fail(ErrorCode::kGone, found->finished_at
                                              ? "this QTSP authorization was used already"
                                              : "this QTSP authorization has expired");
        }
        FIRMO_CHECK(tx.audit().Append(
            AuditEvent{0, found->request_id, now, "signer.qtsp_" + outcome, "", "", "",
                       found->signer_id, SignerActor(found->signer_id), Clip(detail)}));
        found->finished_at = now;
        found->outcome = outcome;
        if (then) FIRMO_CHECK(then(tx, *found));
        return *found;
    });
}

Result<QtspCallbackOutcome> QtspService::Callback(const QtspCallback& callback) {
    if (callback.state.empty()) return FailValidation({{"state", "is missing"}});
    if (!callback.error && (!callback.code || callback.code->empty())) {
        return FailValidation({{"code", "is missing (and no error was given)"}});
    }
    const std::string state_hash = ctx_.hasher.Sha256Hex(callback.state);
    FIRMO_TRY(auto known, Find(state_hash));
    if (!known) return Fail(ErrorCode::kNotFound, "no such QTSP authorization");
    if (continuation_ == nullptr) {
        return Fail(ErrorCode::kUnavailable,
                    "signatures through a QTSP are not wired into the signing pipeline: the "
                    "authorization is kept unused");
    }
    if (!known->finished_at && known->expires_at <= ctx_.clock.Now()) {
        // Too late: the signer gets their turn back (again, if the sweep or a look did it).
        FIRMO_CHECK(continuation_->Denied(*known));
        return Fail(ErrorCode::kGone, "this QTSP authorization has expired");
    }
    if (callback.error) {
        // Denied at the provider (or refused there): the signer may start again.
        FIRMO_TRY(
            QtspAuthorization a,
            Claim(state_hash, "denied",
                  *callback.error + (callback.error_description ? ": " + *callback.error_description
                                                                : std::string()),
                  nullptr));
        FIRMO_CHECK(continuation_->Denied(a));
        return QtspCallbackOutcome{a.request_id, a.signer_id, false};
    }
    // The claim and what the continuation queues (the signing job) commit together: if queueing
    // fails, the authorization stays pending and the signer is not left waiting for nothing.
    FIRMO_TRY(QtspAuthorization a, Claim(state_hash, "authorized", "code received",
                                         [&](Transaction& tx, const QtspAuthorization& claimed) {
                                             return continuation_->Authorized(tx, claimed,
                                                                              *callback.code);
                                         }));
    ctx_.db.AfterCommit(ctx_.on_job_enqueued);
    return QtspCallbackOutcome{a.request_id, a.signer_id, true};
}

}  // namespace firmo::domain
