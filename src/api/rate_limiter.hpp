#pragma once
// Token-bucket rate limiting per API key (Firma con IO: 150 calls per 5 seconds per key).
// In memory, per node: with N nodes an issuer gets at most N times the rate.

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/clock.hpp"

namespace firmo::api {

class RateLimiter {
  public:
    // `burst` calls at once, refilled at burst/window.
    RateLimiter(const Clock& clock, int burst, std::chrono::milliseconds window)
        : clock_(clock), burst_(burst), window_(window) {}

    // True when the call may proceed; otherwise `retry_after` says when it may.
    bool Allow(const std::string& key, std::chrono::seconds* retry_after);
    std::size_t size() const {
        std::lock_guard lock(mu_);
        return buckets_.size();
    }

    static constexpr std::size_t kPruneAt = 50'000;

  private:
    struct Bucket {
        double tokens;
        Timestamp updated;
    };
    const Clock& clock_;
    int burst_;
    std::chrono::milliseconds window_;
    mutable std::mutex mu_;
    std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace firmo::api
