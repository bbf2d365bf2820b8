#include "api/rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace firmo::api {

bool RateLimiter::Allow(const std::string& key, std::chrono::seconds* retry_after) {
    if (burst_ <= 0) return true;
    const Timestamp now = clock_.Now();
    const double per_ms = static_cast<double>(burst_) / static_cast<double>(window_.count());
    std::lock_guard lock(mu_);
    if (buckets_.size() >= kPruneAt) {
        // A bucket idle for a whole window is full again: forgetting it changes nothing, and
        // keeps memory bounded when many addresses fail to authenticate.
        std::erase_if(buckets_,
                      [&](const auto& entry) { return now - entry.second.updated >= window_; });
    }
    auto [it, inserted] = buckets_.try_emplace(key, Bucket{static_cast<double>(burst_), now});
    Bucket& b = it->second;
    const auto elapsed = static_cast<double>((now - b.updated).count());
    b.tokens = std::min(static_cast<double>(burst_), b.tokens + std::max(0.0, elapsed) * per_ms);
    b.updated = now;
    if (b.tokens >= 1.0) {
        b.tokens -= 1.0;
        return true;
    }
    if (retry_after) {
        *retry_after =
            std::chrono::seconds(static_cast<long>(std::ceil((1.0 - b.tokens) / per_ms / 1000.0)));
    }
    return false;
}

}  // namespace firmo::api
