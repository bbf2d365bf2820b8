#pragma once
// Port: API rate-limit counters shared by every node (see RateLimitService), one row per
// bucket and window length: another window length counts apart.

#include <chrono>
#include <cstdint>
#include <string>

#include "core/error.hpp"
#include "domain/model.hpp"

namespace firmo::domain {

class RateLimitRepository {
  public:
    virtual ~RateLimitRepository() = default;
    RateLimitRepository() = default;
    RateLimitRepository(const RateLimitRepository&) = delete;
    RateLimitRepository& operator=(const RateLimitRepository&) = delete;

    // Adds `calls` in the fixed window of length `window` starting at `window_start` and
    // returns the row's counts, these calls included. The row rolls over to a new window (its
    // calls become previous_calls when the windows are adjacent, else 0); calls for a window
    // older than the stored one (a node whose clock is behind) count in the stored window.
    // `calls` may be negative (calls a node reserved and gives back, see RateLimitService):
    // then only the stored window `window_start` itself changes; calls given back to a window
    // that is gone stay counted there. One atomic statement: concurrent adds lose nothing;
    // made for TxMode::kSingleWrite.
    [[nodiscard]] virtual Result<RateLimitCount> Add(const std::string& bucket,
                                                     Timestamp window_start,
                                                     std::chrono::milliseconds window,
                                                     std::int64_t calls) = 0;
    // Deletes the buckets that count nothing at `now` any more (their latest window ended at
    // least a window ago); returns how many went.
    [[nodiscard]] virtual Result<std::int64_t> Purge(Timestamp now) = 0;
};

}  // namespace firmo::domain
