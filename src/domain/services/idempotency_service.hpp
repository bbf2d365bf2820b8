#pragma once
// Idempotency keys on POST: the first call under a key runs and its answer is kept for 24
// hours; a retry with the same key and the same request gets that answer again, a retry while
// the first still runs gets a conflict, and the same key on a different request is refused.

#include <chrono>
#include <optional>
#include <string>

#include "domain/services/context.hpp"

namespace firmo::domain {

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
    // A call still "running" after this long is taken as dead (its node crashed).
    static constexpr std::chrono::minutes kInProgressTimeout{5};

    // nullopt: run the call, then Finish(). A stored answer: replay it. kConflict while the
    // first call runs; kInvalidArgument for a malformed key or one reused for another request.
    [[nodiscard]] Result<std::optional<StoredResponse>> Begin(const std::string& issuer_id,
                                                              const std::string& key,
                                                              std::string_view request);
    // Keeps the answer (or forgets the key when the call failed on our side, so it can be
    // retried).
    void Finish(const std::string& issuer_id, const std::string& key, const StoredResponse& answer);

  private:
    ServiceContext& ctx_;
};

}  // namespace firmo::domain
