#pragma once
// A circuit breaker per webhook endpoint: after `failures_to_open` failed calls in a row the
// endpoint is "open" and its messages fail at once, without a call, for `open_for`; then one
// call goes through as a probe ("half-open"): its success closes the circuit, its failure
// opens it again. A dead endpoint then costs one delivery thread one timeout per `open_for`,
// not one per message. The state is this node's (in memory): each node learns on its own.
// Thread-safe.

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "core/clock.hpp"

namespace firmo::domain {

struct BreakerOptions {
    int failures_to_open = 5;  // 0: never open
    std::chrono::milliseconds open_for{60'000};
};

enum class CircuitState { kClosed, kOpen, kHalfOpen };
std::string_view ToString(CircuitState state);  // "closed" | "open" | "half_open"

class CircuitBreakers {
  public:
    explicit CircuitBreakers(BreakerOptions options) : options_(options) {}

    struct Admission {
        bool call = true;        // false: the circuit is open, fail without calling
        Timestamp open_until{};  // when !call: when the next probe may go
        int failures = 0;        // when !call: the failures in a row that opened it
        // The state changed on this admission (open -> half-open): for metrics.
        std::optional<CircuitState> changed_to;
    };
    // Whether a call to `endpoint` may go at `now`. An open circuit whose time is up lets one
    // call through (the probe) and holds the others until that call reports back.
    [[nodiscard]] Admission Admit(const std::string& endpoint, Timestamp now);
    // What an admitted call did; the state it moved the circuit to, if it changed.
    std::optional<CircuitState> Succeeded(const std::string& endpoint);
    std::optional<CircuitState> Failed(const std::string& endpoint, Timestamp now);

    [[nodiscard]] CircuitState StateOf(const std::string& endpoint) const;
    // Endpoints whose circuit is not closed.
    [[nodiscard]] std::size_t NotClosed() const;

  private:
    struct Entry {
        int failures = 0;  // in a row
        CircuitState state = CircuitState::kClosed;
        Timestamp open_until{};
        // Half-open: the probe's deadline; past it (a probe that never reported) another goes.
        Timestamp probe_until{};
    };

    const BreakerOptions options_;
    mutable std::mutex mu_;
    std::map<std::string, Entry> entries_;  // only endpoints that failed since their last success
};

}  // namespace firmo::domain
