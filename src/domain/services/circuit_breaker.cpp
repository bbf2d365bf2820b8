#include "domain/services/circuit_breaker.hpp"

namespace firmo::domain {

std::string_view ToString(CircuitState state) {
    switch (state) {
        case CircuitState::kClosed:
            return "closed";
        case CircuitState::kOpen:
            return "open";
        case CircuitState::kHalfOpen:
            return "half_open";
    }
    return "closed";
}

CircuitBreakers::Admission CircuitBreakers::Admit(const std::string& endpoint, Timestamp now) {
    std::lock_guard lock(mu_);
    auto it = entries_.find(endpoint);
    if (it == entries_.end()) return {};
    Entry& e = it->second;
    Admission held{.call = false, .open_until = e.open_until, .failures = e.failures};
    switch (e.state) {
        case CircuitState::kClosed:
            return {};
        case CircuitState::kOpen:
            if (now < e.open_until) return held;
            e.state = CircuitState::kHalfOpen;
            e.probe_until = now + options_.open_for;
            return {.changed_to = CircuitState::kHalfOpen};
        case CircuitState::kHalfOpen:
            if (now < e.probe_until) {
                held.open_until = e.probe_until;
                return held;
            }
            e.probe_until = now + options_.open_for;  // the last probe never reported
            return {};
    }
    return {};
}

std::optional<CircuitState> CircuitBreakers::Succeeded(const std::string& endpoint) {
    std::lock_guard lock(mu_);
    auto it = entries_.find(endpoint);
    if (it == entries_.end()) return std::nullopt;
    const bool was_closed = it->second.state == CircuitState::kClosed;
    entries_.erase(it);
    if (was_closed) return std::nullopt;
    return CircuitState::kClosed;
}

std::optional<CircuitState> CircuitBreakers::Failed(const std::string& endpoint, Timestamp now) {
    if (options_.failures_to_open <= 0) return std::nullopt;
    std::lock_guard lock(mu_);
    Entry& e = entries_[endpoint];
    e.failures += 1;
    if (e.state == CircuitState::kHalfOpen ||
        (e.state == CircuitState::kClosed && e.failures >= options_.failures_to_open)) {
        e.state = CircuitState::kOpen;
        e.open_until = now + options_.open_for;
        return CircuitState::kOpen;
    }
    return std::nullopt;
}

CircuitState CircuitBreakers::StateOf(const std::string& endpoint) const {
    std::lock_guard lock(mu_);
    auto it = entries_.find(endpoint);
    return it == entries_.end() ? CircuitState::kClosed : it->second.state;
}

std::size_t CircuitBreakers::NotClosed() const {
    std::lock_guard lock(mu_);
    std::size_t n = 0;
    for (const auto& [id, e] : entries_) n += e.state == CircuitState::kClosed ? 0 : 1;
    return n;
}

}  // namespace firmo::domain
