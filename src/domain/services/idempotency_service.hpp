#pragma once
// Idempotency keys on POST: the first call under a key runs and its answer is kept for 24
// hours; a retry with the same key and the same request gets that answer again, and the same
// key on a different request is refused.
//
// The claim of the key, the change the call makes and the recorded answer commit together, in
// one unit of work (domain/ports/database.hpp): Run() opens the unit, claims the key, runs the
// call -- whose services' transactions join the unit -- records the answer and commits. So a
// node that dies at any point leaves either nothing (a retry performs the change, once) or the
// change with its answer (a retry gets the answer). A concurrent duplicate waits at the claim
// for the first call's unit to end, then replays its answer (or runs, if the first rolled
// back). A call that fails with a 5xx, or whose services failed half-way, is rolled back whole:
// a 4xx answer is then recorded on its own (nothing changed), a 5xx is not (a retry runs again).
// Calls that store nothing (a PDF check) run outside the unit -- they may take seconds, and a
// write transaction must not wait on them -- and only their answer is recorded afterwards.
// Fault points (core/fault.hpp): idempotency.after_claim, .after_change, .after_record,
// .after_commit.

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "domain/services/context.hpp"

namespace firmo::domain {

// Whether a call changes anything: only then must its change commit with its answer.
enum class CallEffect { kChanges, kStoresNothing };

struct StoredResponse {
    int status = 0;
    std::string body;
    std::string location;
};

class IdempotencyService {
  public:
    explicit IdempotencyService(ServiceContext& ctx) : ctx_(ctx) {}

    static constexpr std::chrono::hours kRetention{24};
    static constexpr std::size_t kMaxKeyLength = 255;
    // A record still "running" (written by a release that recorded answers in a later
    // transaction) is taken as dead after this long.
    static constexpr std::chrono::minutes kInProgressTimeout{5};

    // Runs `call` once for (issuer, key) and `request` (method, path and body: a key reused
    // for another request is refused). `call` returns the answer to record; the caller keeps
    // the response it sends. Returns nothing when `call` ran now (send its response), or the
    // recorded answer of the first call (replay it). Errors: kInvalidArgument for a malformed
    // or reused key; kConflict while a first call of an older release still runs; kUnavailable
    // or kInternal when the change could not be committed (nothing was changed: send the error).
    [[nodiscard]] Result<std::optional<StoredResponse>> Run(
        const std::string& issuer_id, const std::string& key, std::string_view request,
        const std::function<StoredResponse()>& call, CallEffect effect = CallEffect::kChanges);

  private:
    // Claims the key in `tx`: nothing (the key is ours now), or the first call's answer.
    [[nodiscard]] Result<std::optional<StoredResponse>> Claim(Transaction& tx,
                                                              const IdempotencyRecord& fresh);
    [[nodiscard]] Result<std::optional<StoredResponse>> RunInUnit(
        const IdempotencyRecord& fresh, const std::function<StoredResponse()>& call);
    [[nodiscard]] Result<std::optional<StoredResponse>> RunOutside(
        const IdempotencyRecord& fresh, const std::function<StoredResponse()>& call);
    // Records the answer of a call that changed nothing (or was rolled back), in a unit of its
    // own, unless a duplicate recorded one since.
    void RecordAlone(const IdempotencyRecord& fresh, const StoredResponse& answer);

    ServiceContext& ctx_;
};

}  // namespace firmo::domain
