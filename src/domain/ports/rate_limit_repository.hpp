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

    // Counts one call in the fixed window of length `window` starting at `window_start` and
    // returns the row's counts, this call included. The row rolls over to a new window (its
    // calls become previous_calls when the windows are adjacent, else 0); a call for a window
    // older than the stored one (a node whose clock is behind) counts in the stored window.
    // One atomic statement: concurrent calls lose no increments; made for TxMode::kSingleWrite.
    [[nodiscard]] virtual Result<RateLimitCount> CountHit(const std::string& bucket,
                                                          Timestamp window_start,
                                                          std::chrono::milliseconds window) = 0;
    // Deletes the buckets that count nothing at `now` any more (their latest window ended at
    // least a window ago); returns how many went.
    [[nodiscard]] virtual Result<std::int64_t> Purge(Timestamp now) = 0;
};

}  // namespace firmo::domain
