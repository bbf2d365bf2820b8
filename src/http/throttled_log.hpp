#pragma once
// A warning about something that can happen thousands of times a second under attack or
// overload (connections refused, accept() out of descriptors, bodies beyond a budget): counted
// always, logged at most once per interval with how many happened since the last line, so a
// flood costs one line per interval instead of one per event (and no CPU spent formatting).
//
// Thread-safe, lock-free; never blocks beyond the one log line it may write.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/log.hpp"

namespace firmo::http {

class ThrottledLog {
  public:
    explicit ThrottledLog(std::string event,
                          std::chrono::milliseconds interval = std::chrono::seconds(10))
        : event_(std::move(event)), interval_ns_(interval.count() * 1'000'000) {}

    // Counts one event; writes a warning with `reason`, `example` (e.g. the client address
    // or error of this event) and `events` (how many since the last line, this one included)
    // when the last line is at least an interval old. True when it wrote one.
    bool Note(std::string_view reason, std::string_view example = {});

    std::uint64_t total() const { return total_.load(std::memory_order_relaxed); }

  private:
    std::string event_;
    std::int64_t interval_ns_;
    std::atomic<std::int64_t> last_line_ns_{-1};  // steady clock; -1: never
    std::atomic<std::uint64_t> since_line_{0};
    std::atomic<std::uint64_t> total_{0};
};

}  // namespace firmo::http
