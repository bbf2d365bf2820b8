#pragma once
// Port: the shared count behind the API rate limits (see RateLimitService): per bucket and
// window length, the calls of the current fixed window and of the one before, as every node
// sees them.

#include <chrono>
#include <cstdint>
#include <string>

#include "core/error.hpp"
#include "domain/model.hpp"

namespace firmo::domain {

class RateLimitCounter {
  public:
    virtual ~RateLimitCounter() = default;
    RateLimitCounter() = default;
    RateLimitCounter(const RateLimitCounter&) = delete;
    RateLimitCounter& operator=(const RateLimitCounter&) = delete;

    // Adds `calls` to `bucket` in the fixed window of length `window` starting at
    // `window_start`, with Transaction::CountRateLimitHit's rules (the row rolls over to a
    // newer window; a call for an older window counts in the stored one), and returns the
    // counts after. `calls` may be negative (reserved calls given back): then it changes the
    // stored window only if that is `window_start` itself (calls given back to a window that
    // is gone stay counted there). |calls| <= max_batch(). One atomic statement; concurrent
    // adds lose nothing.
    [[nodiscard]] virtual Result<RateLimitCount> Add(const std::string& bucket,
                                                     Timestamp window_start,
                                                     std::chrono::milliseconds window,
                                                     std::int64_t calls) = 0;
    // The largest |calls| one Add() accepts: 1 while the store can only count one call at a
    // time, and then every call is counted one by one.
    virtual std::int64_t max_batch() const = 0;
};

}  // namespace firmo::domain
