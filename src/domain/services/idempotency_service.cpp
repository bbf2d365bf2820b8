#include "domain/services/idempotency_service.hpp"

#include "core/log.hpp"
#include "domain/text.hpp"

namespace firmo::domain {

Result<std::optional<StoredResponse>> IdempotencyService::Begin(const std::string& issuer_id,
                                                                const std::string& key,
                                                                std::string_view request) {
    if (key.empty() || key.size() > kMaxKeyLength || !IsPrintableUtf8(key)) {
        return FailValidation({{"Idempotency-Key", "must be 1-255 printable characters"}});
    }
    const Timestamp now = ctx_.clock.Now();
    IdempotencyRecord fresh{issuer_id, key, ctx_.hasher.Sha256Hex(request), 0, "", "", now};
    FIRMO_TRY(auto existing, InWriteTransaction(ctx_.db, [&](Transaction& tx) {
                  return tx.idempotency().Claim(fresh, now - kRetention);
              }));
    if (!existing) return std::optional<StoredResponse>();
    if (existing->request_hash != fresh.request_hash) {
        return FailValidation(
            {{"Idempotency-Key", "was already used for a different request; use a new key"}});
    }
    if (existing->status == 0 && existing->created_at < now - kInProgressTimeout) {
        // The first call's process died (or could not record its answer): run it again.
        auto reclaimed = InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<void> {
            FIRMO_CHECK(tx.idempotency().Release(issuer_id, key));
            FIRMO_TRY(auto again, tx.idempotency().Claim(fresh, now - kRetention));
            if (again)
                return Fail(ErrorCode::kConflict, "the Idempotency-Key was just taken; retry");
            return {};
        });
        if (!reclaimed) return Fail(std::move(reclaimed).error());
        return std::optional<StoredResponse>();
    }
    if (existing->status == 0) {
        return Fail(ErrorCode::kConflict,
                    "a request with this Idempotency-Key is still being processed; retry later");
    }
    return std::make_optional(StoredResponse{existing->status, existing->body, existing->location});
}

void IdempotencyService::Finish(const std::string& issuer_id, const std::string& key,
                                const StoredResponse& answer) {
    auto done = InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<void> {
        if (answer.status >= 500) return tx.idempotency().Release(issuer_id, key);
        return tx.idempotency().Complete(
            IdempotencyRecord{issuer_id, key, "", answer.status, answer.body, answer.location, {}});
    });
    if (!done) log::Warn("idempotency_finish_failed", {{"error", done.error().message}});
}

}  // namespace firmo::domain
