#include "domain/services/idempotency_service.hpp"

#include "core/fault.hpp"
#include "core/log.hpp"
#include "domain/text.hpp"

namespace firmo::domain {

namespace {

IdempotencyRecord Answered(IdempotencyRecord record, const StoredResponse& answer) {
    record.status = answer.status;
    record.body = answer.body;
    record.location = answer.location;
    return record;
}

}  // namespace

Result<std::optional<StoredResponse>> IdempotencyService::Claim(Transaction& tx,
                                                                const IdempotencyRecord& fresh) {
    FIRMO_TRY(auto existing, tx.idempotency().Claim(fresh, fresh.created_at - kRetention));
    if (!existing) return std::optional<StoredResponse>();
    if (existing->request_hash != fresh.request_hash) {
        return FailValidation(
            {{"Idempotency-Key", "was already used for a different request; use a new key"}});
    }
    if (existing->status != 0) {
        return std::make_optional(
            StoredResponse{existing->status, existing->body, existing->location});
    }
    // Status 0 is a claim an older release committed before running its call (it recorded the
    // answer in a later transaction). Still running, or dead when it is old: then run again.
    if (existing->created_at >= fresh.created_at - kInProgressTimeout) {
        return Fail(ErrorCode::kConflict,
                    "a request with this Idempotency-Key is still being processed; retry later");
    }
    FIRMO_CHECK(tx.idempotency().Release(fresh.issuer_id, fresh.key));
    FIRMO_TRY(auto again, tx.idempotency().Claim(fresh, fresh.created_at - kRetention));
    if (again) return Fail(ErrorCode::kConflict, "the Idempotency-Key was just taken; retry");
    return std::optional<StoredResponse>();
}

Result<std::optional<StoredResponse>> IdempotencyService::Run(
    const std::string& issuer_id, const std::string& key, std::string_view request,
    const std::function<StoredResponse()>& call, CallEffect effect) {
    if (key.empty() || key.size() > kMaxKeyLength || !IsPrintableUtf8(key)) {
        return FailValidation({{"Idempotency-Key", "must be 1-255 printable characters"}});
    }
    const IdempotencyRecord fresh{issuer_id,       key, ctx_.hasher.Sha256Hex(request), 0, "", "",
                                  ctx_.clock.Now()};
    return effect == CallEffect::kChanges ? RunInUnit(fresh, call) : RunOutside(fresh, call);
}

Result<std::optional<StoredResponse>> IdempotencyService::RunInUnit(
    const IdempotencyRecord& fresh, const std::function<StoredResponse()>& call) {
    FIRMO_TRY(auto unit, UnitOfWork::Begin(ctx_.db));
    // A concurrent duplicate waits here until the unit that claimed the key first has ended.
    FIRMO_TRY(auto first, Claim(unit->tx(), fresh));
    if (first) return first;
    fault::Point("idempotency.after_claim");

    const StoredResponse answer = call();  // an exception rolls the unit back
    fault::Point("idempotency.after_change");
    if (answer.status >= 500 || unit->aborted()) {
        unit.reset();  // rolls back the claim and whatever the call did
        if (answer.status >= 500) return std::optional<StoredResponse>();
        if (answer.status >= 400) {
            RecordAlone(fresh, answer);
            return std::optional<StoredResponse>();
        }
        log::Error("idempotent_call_aborted", {{"status", std::to_string(answer.status)}});
        return Fail(ErrorCode::kInternal, "the change could not be completed");
    }
    FIRMO_CHECK(unit->tx().idempotency().Complete(Answered(fresh, answer)));
    fault::Point("idempotency.after_record");
    FIRMO_CHECK(unit->Commit());
    fault::Point("idempotency.after_commit");
    return std::optional<StoredResponse>();
}

Result<std::optional<StoredResponse>> IdempotencyService::RunOutside(
    const IdempotencyRecord& fresh, const std::function<StoredResponse()>& call) {
    {
        FIRMO_TRY(auto unit, UnitOfWork::Begin(ctx_.db));
        FIRMO_TRY(auto first, Claim(unit->tx(), fresh));
        if (first) return first;
    }  // the claim is rolled back: nothing waits on the call
    const StoredResponse answer = call();
    if (answer.status < 500) RecordAlone(fresh, answer);
    return std::optional<StoredResponse>();
}

void IdempotencyService::RecordAlone(const IdempotencyRecord& fresh, const StoredResponse& answer) {
    auto recorded = [&]() -> Result<void> {
        FIRMO_TRY(auto unit, UnitOfWork::Begin(ctx_.db));
        auto first = Claim(unit->tx(), fresh);
        // A duplicate took the key since the rollback: it records its own answer.
        if (!first || *first) return {};
        FIRMO_CHECK(unit->tx().idempotency().Complete(Answered(fresh, answer)));
        return unit->Commit();
    }();
    if (!recorded) log::Warn("idempotency_record_failed", {{"error", recorded.error().message}});
}

}  // namespace firmo::domain
