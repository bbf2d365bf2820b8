#include "http/throttled_log.hpp"

namespace firmo::http {

bool ThrottledLog::Note(std::string_view reason, std::string_view example) {
    total_.fetch_add(1, std::memory_order_relaxed);
    since_line_.fetch_add(1, std::memory_order_relaxed);
    const std::int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                 std::chrono::steady_clock::now().time_since_epoch())
                                 .count();
    std::int64_t last = last_line_ns_.load(std::memory_order_relaxed);
    if (last >= 0 && now - last < interval_ns_) return false;
    // One thread wins the line for this interval.
    if (!last_line_ns_.compare_exchange_strong(last, now, std::memory_order_relaxed)) return false;
    const auto events = static_cast<std::int64_t>(since_line_.exchange(0));
    log::Warn(event_, {{"reason", reason},
                       {"example", example},
                       {"events", events},
                       {"interval_s", interval_ns_ / 1'000'000'000}});
    return true;
}

}  // namespace firmo::http
