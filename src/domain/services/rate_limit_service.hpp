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
//
// Reservations: a node does not write once per call. It reserves a chunk of calls in the
// shared count with one RateLimitRepository::Add() and admits the next calls of that bucket
// from the chunk, locally.
// The chunk starts at 1 and doubles while the bucket keeps using them up within a window
// (and starts where the last window's use says), up to `calls` / 16. Reserved calls count
// for every node the moment they are reserved, so:
//   - never more than the limit is admitted, however many nodes (the shared count includes
//     what each node reserved);
//   - a client may be refused early by what other nodes reserved and have not used: at most
//     (nodes - 1) x (calls / 16 - 1) calls per window (with 150 per 5 s and 2 nodes, 8; a
//     node's unused calls are given back when it is refused or the chunk is cut by the
//     limit, and expire with their window);
//   - a bucket at its limit costs no write at all (the refusal cache below); a busy bucket
//     one write per chunk (150 per 5 s: one per 9 calls); a quiet one one write per call,
//     as before.
// Limits below 32 calls per window get no chunks: every call is counted by one write.

#include <chrono>
#include <cstdint>
#include <memory>
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
    // must not grow memory without bound); as many reservations at most.
    RateLimitService(Database& db, const Clock& clock, RateLimit limit,
                     std::size_t max_remembered = kMaxRemembered);
    ~RateLimitService();

    // Counts a call of `bucket` and says whether it may proceed. Never fails: when the database
    // cannot count, the call is allowed (see the .cpp for why).
    // Inside a no_wait::Scope (core/no_wait.hpp) it only takes from the bucket's reservation;
    // when that is empty it refuses the wait and counts nothing.
    RateDecision Allow(const std::string& bucket);
    // Gives back the call Allow() just took from the reservation, for a call that will be made
    // again elsewhere (its no_wait attempt was refused later on): counted once, not twice.
    void GiveBack(const std::string& bucket);

    // The decision for a bucket's counts at `now` (pure; Allow's arithmetic, for tests).
    static RateDecision Decide(const RateLimitCount& counted, Timestamp now, RateLimit limit);
    // How many of the last `reserved` calls in `counted` fit within the limit at `now` (0 to
    // `reserved`; for one call, whether Decide() allows it).
    static std::int64_t Usable(const RateLimitCount& counted, std::int64_t reserved, Timestamp now,
                               RateLimit limit);
    // The fixed window holding `now`.
    static Timestamp WindowStart(Timestamp now, std::chrono::milliseconds window);

    // Denied buckets in the cache now.
    std::size_t remembered() const {
        std::lock_guard lock(mu_);
        return denied_until_.size();
    }

  private:
    void WarnUnavailable(const Error& error, Timestamp now);
    // Takes one call from the bucket's reservation; otherwise says how many to reserve.
    // With `plan` false, an empty reservation is left as it is.
    bool TakeReserved(const std::string& bucket, Timestamp window_start, std::int64_t& chunk,
                      bool plan = true);
    void KeepReserved(const std::string& bucket, Timestamp window_start, std::int64_t left);

    // Adds `calls` to the bucket's shared count (one single-statement write).
    Result<RateLimitCount> Add(const std::string& bucket, Timestamp window_start,
                               std::int64_t calls);

    Database& db_;
    const Clock& clock_;
    RateLimit limit_;
    std::size_t max_remembered_;
    std::int64_t max_chunk_;  // 1: no reservations
    mutable std::mutex mu_;
    // A cache, and only that: bucket -> denied until. Calls before then are refused without
    // writing to the database. Losing it (a restart, another node) costs one more counted call.
    std::unordered_map<std::string, Timestamp> denied_until_;
    // Calls this node reserved in the shared count and has not used yet, per bucket.
    struct Reservation {
        Timestamp window_start;
        std::int64_t left = 0;
        std::int64_t chunk = 0;      // the last chunk reserved in this window
        std::int64_t used = 0;       // calls admitted in this window
        std::int64_t used_last = 0;  // ... and in the window before
    };
    std::unordered_map<std::string, Reservation> reserved_;
    Timestamp next_warning_{};
    std::int64_t unwarned_failures_ = 0;
};

}  // namespace firmo::domain
