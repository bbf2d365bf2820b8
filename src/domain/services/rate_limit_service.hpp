#pragma once
// API rate limits shared by every node: each bucket (an API key, or the address that failed to
// authenticate) may make `calls` calls per `window`, counted in the database, so N nodes do not
// give a client N times the rate. Thread-safe; one instance per node.
//
// Algorithm: a sliding-window counter. Time is cut into fixed windows (multiples of `window`
// since the epoch); the database keeps, per bucket, the calls of the current window and of the
// previous one, and a call is allowed while
//     previous_calls * (part of the previous window still inside the sliding window) + calls
// stays within the limit (this call included). Why this one: a fixed window alone lets twice
// the limit through across a boundary; a log of call times needs a row per call; a token bucket
// needs its refill arithmetic inside a conditional update, i.e. the policy in SQL twice (SQLite,
// PostgreSQL). Here the database only counts -- one single-row upsert per call returns both
// counts -- and the policy stays in this file, at the price of assuming the previous window's
// calls were evenly spread.

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/clock.hpp"
#include "domain/ports/database.hpp"

namespace firmo::domain {

struct RateLimit {
    int calls = 150;  // per window and bucket; 0 turns the limit off
    std::chrono::milliseconds window{5000};
};

struct RateDecision {
    bool allowed = true;
    std::chrono::milliseconds retry_after{0};  // when denied: until a call would be allowed
};

class RateLimitService {
  public:
    static constexpr std::size_t kMaxRemembered = 50'000;

    // `max_remembered`: denied buckets kept in the cache at most (a flood from many addresses
    // must not grow memory without bound).
    RateLimitService(Database& db, const Clock& clock, RateLimit limit,
                     std::size_t max_remembered = kMaxRemembered);

    // Counts a call of `bucket` and says whether it may proceed. Never fails: when the database
    // cannot count, the call is allowed (see the .cpp for why).
    RateDecision Allow(const std::string& bucket);

    // The decision for a bucket's counts at `now` (pure; Allow's arithmetic, for tests).
    static RateDecision Decide(const RateLimitCount& counted, Timestamp now, RateLimit limit);
    // The fixed window holding `now`.
    static Timestamp WindowStart(Timestamp now, std::chrono::milliseconds window);

    // Denied buckets in the cache now.
    std::size_t remembered() const {
        std::lock_guard lock(mu_);
        return denied_until_.size();
    }

  private:
    void WarnUnavailable(const Error& error, Timestamp now);

    Database& db_;
    const Clock& clock_;
    RateLimit limit_;
    std::size_t max_remembered_;
    mutable std::mutex mu_;
    // A cache, and only that: bucket -> denied until. Calls before then are refused without
    // writing to the database. Losing it (a restart, another node) costs one more counted call.
    std::unordered_map<std::string, Timestamp> denied_until_;
    Timestamp next_warning_{};
    std::int64_t unwarned_failures_ = 0;
};

}  // namespace firmo::domain
