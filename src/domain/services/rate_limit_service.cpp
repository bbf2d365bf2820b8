#include "domain/services/rate_limit_service.hpp"

#include <algorithm>
#include <utility>

#include "core/log.hpp"
#include "core/no_wait.hpp"

namespace firmo::domain {

namespace {

using std::chrono::milliseconds;

// While the database cannot count, one warning per node this often (not one per call).
constexpr milliseconds kWarningInterval{10'000};

}  // namespace

RateLimitService::RateLimitService(Database& db, const Clock& clock, RateLimit limit,
                                   std::size_t max_remembered)
    : db_(db),
      clock_(clock),
      limit_(limit),
      max_remembered_(max_remembered),
      max_chunk_(std::max<std::int64_t>(1, limit.calls / 16)) {}

RateLimitService::~RateLimitService() = default;

Result<RateLimitCount> RateLimitService::Add(const std::string& bucket, Timestamp window_start,
                                             std::int64_t calls) {
    FIRMO_TRY(auto tx, db_.Begin(TxMode::kSingleWrite));
    return tx->rate_limits().Add(bucket, window_start, limit_.window, calls);
}

Timestamp RateLimitService::WindowStart(Timestamp now, milliseconds window) {
    const std::int64_t ms = ToUnixMillis(now);
    const std::int64_t w = window.count();
    return FromUnixMillis(ms - ((ms % w) + w) % w);  // floor, also before 1970
}

RateDecision RateLimitService::Decide(const RateLimitCount& counted, Timestamp now,
                                      RateLimit limit) {
    const std::int64_t w = limit.window.count();
    const std::int64_t b = limit.calls;
    const std::int64_t start = ToUnixMillis(counted.window_start);
    const std::int64_t now_ms = ToUnixMillis(now);
    // How far into its window the call is. A node whose clock is behind may get a window that
    // has not begun for it: then the previous window counts in full.
    const std::int64_t elapsed = std::clamp<std::int64_t>(now_ms - start, 0, w);
    // previous * (w - elapsed) / w + calls <= b, multiplied by w to stay in integers.
    if (counted.previous_calls * (w - elapsed) + counted.calls * w <= b * w) return {};

    // Denied. The earliest time one more call would be allowed if nobody called meanwhile (this
    // call is counted already):
    std::int64_t at = 0;
    if (counted.calls < b) {
        // later in this window, once enough of the previous one has slid out (previous > 0, or
        // the call would have been allowed): previous * (w - e) + (calls + 1) * w <= b * w.
        at = start + w - (b - counted.calls - 1) * w / counted.previous_calls;
    } else {
        // in the next window, where this window's calls are the previous ones:
        // calls * (w - e) + w <= b * w.
        at = start + w + w - (b - 1) * w / counted.calls;
    }
    return {false, milliseconds(std::max<std::int64_t>(at - now_ms, 1))};
}

std::int64_t RateLimitService::Usable(const RateLimitCount& counted, std::int64_t reserved,
                                      Timestamp now, RateLimit limit) {
    const std::int64_t w = limit.window.count();
    const std::int64_t elapsed =
        std::clamp<std::int64_t>(ToUnixMillis(now) - ToUnixMillis(counted.window_start), 0, w);
    // The j-th reserved call fits while previous * (w - e) + (before + j) * w <= b * w.
    const std::int64_t room = limit.calls * w - counted.previous_calls * (w - elapsed);
    if (room < 0) return 0;
    const std::int64_t before = counted.calls - reserved;
    return std::clamp<std::int64_t>(room / w - before, 0, reserved);
}

bool RateLimitService::TakeReserved(const std::string& bucket, Timestamp window_start,
                                    std::int64_t& chunk, bool plan) {
    std::lock_guard lock(mu_);
    if (reserved_.size() >= max_remembered_ && !reserved_.count(bucket)) {
        std::erase_if(reserved_,
                      [&](const auto& e) { return e.second.window_start < window_start; });
        if (reserved_.size() >= max_remembered_) reserved_.clear();
    }
    Reservation& r = reserved_[bucket];
    if (r.window_start != window_start) {
        // A new window: what was left is counted in the old one, and lost.
        r.used_last = r.window_start == window_start - limit_.window ? r.used : 0;
        r = Reservation{window_start, 0, 0, 0, r.used_last};
    }
    if (r.left > 0) {
        --r.left;
        ++r.used;
        return true;
    }
    if (!plan) return false;
    chunk = std::clamp<std::int64_t>(std::max(r.used_last / 8, r.chunk * 2), 1, max_chunk_);
    r.chunk = chunk;
    return false;
}

void RateLimitService::GiveBack(const std::string& bucket) {
    const Timestamp window_start = WindowStart(clock_.Now(), limit_.window);
    std::lock_guard lock(mu_);
    const auto it = reserved_.find(bucket);
    // A window that ended meanwhile counted the call in the old one: nothing to give back.
    if (it == reserved_.end() || it->second.window_start != window_start || it->second.used == 0) {
        return;
    }
    ++it->second.left;
    --it->second.used;
}

void RateLimitService::KeepReserved(const std::string& bucket, Timestamp window_start,
                                    std::int64_t left) {
    std::lock_guard lock(mu_);
    auto it = reserved_.find(bucket);
    if (it == reserved_.end() || it->second.window_start != window_start) return;
    it->second.left += left;
    ++it->second.used;
}

RateDecision RateLimitService::Allow(const std::string& bucket) {
    if (limit_.calls <= 0) return {};
    const Timestamp now = clock_.Now();
    const Timestamp window_start = WindowStart(now, limit_.window);
    {
        std::lock_guard lock(mu_);
        if (auto it = denied_until_.find(bucket); it != denied_until_.end()) {
            if (now < it->second) return {false, it->second - now};
            denied_until_.erase(it);
        }
    }
    std::int64_t chunk = 1;
    if (no_wait::Active()) {
        // Counting in the database would wait: only a reservation serves here.
        if (max_chunk_ > 1 && TakeReserved(bucket, window_start, chunk, /*plan=*/false)) return {};
        (void)no_wait::Refuse("a rate-limit count");
        return {};  // dropped: the call is made again where it may wait, and counted there
    }
    if (max_chunk_ > 1 && TakeReserved(bucket, window_start, chunk)) return {};
    auto counted = Add(bucket, window_start, chunk);
    if (!counted) {
        // Fail open, deliberately. The limit protects the service from clients that call too
        // much; it guarantees nothing to anyone. Failing closed would answer 429 to every client
        // during a database hiccup, telling well-behaved ones they did wrong; and the call needs
        // the database anyway (its API key was just looked up there; its handler will fail on
        // its own if the database is really gone). Buckets already denied stay denied (cache).
        WarnUnavailable(counted.error(), now);
        return {};
    }
    const std::int64_t usable = Usable(*counted, chunk, now, limit_);
    if (chunk > 1 && usable < chunk) {
        // Cut by the limit: give back what cannot be used (a refused call stays counted, as
        // without reservations), so other nodes are not refused for it.
        const std::int64_t back = chunk - std::max<std::int64_t>(usable, 1);
        if (back > 0) (void)Add(bucket, window_start, -back);
    }
    if (usable > 0) {
        if (max_chunk_ > 1) KeepReserved(bucket, window_start, usable - 1);
        return {};
    }
    // Refused: the wait is that of one counted call.
    RateLimitCount one = *counted;
    one.calls -= chunk - 1;
    const RateDecision decision = Decide(one, now, limit_);
    if (!decision.allowed) {
        std::lock_guard lock(mu_);
        if (denied_until_.size() >= max_remembered_) {
            std::erase_if(denied_until_, [&](const auto& entry) { return entry.second <= now; });
            // Still full (a flood from very many addresses): forget them all. It is a cache:
            // their next calls are counted in the database again, and denied there.
            if (denied_until_.size() >= max_remembered_) denied_until_.clear();
        }
        denied_until_[bucket] = now + decision.retry_after;
    }
    return decision;
}

void RateLimitService::WarnUnavailable(const Error& error, Timestamp now) {
    std::int64_t failures = 0;
    {
        std::lock_guard lock(mu_);
        ++unwarned_failures_;
        if (now < next_warning_) return;
        next_warning_ = now + kWarningInterval;
        failures = std::exchange(unwarned_failures_, 0);
    }
    log::Warn("rate_limit_unavailable",
              {{"error", error.message}, {"calls_allowed_unchecked", std::to_string(failures)}});
}

}  // namespace firmo::domain
