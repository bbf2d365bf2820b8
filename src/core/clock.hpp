#pragma once
// Time as the rest of Firmo sees it: an injectable Clock (so tests are deterministic) and
// RFC 3339 formatting/parsing of UTC instants, the only time format on the wire.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace firmo {

using Timestamp = std::chrono::sys_time<std::chrono::milliseconds>;

class Clock {
  public:
    virtual ~Clock() = default;
    virtual Timestamp Now() const = 0;
};

class SystemClock final : public Clock {
  public:
    Timestamp Now() const override;
};

// A clock that only moves when told to; thread-safe.
class ManualClock final : public Clock {
  public:
    explicit ManualClock(Timestamp start);
    Timestamp Now() const override;
    void Advance(std::chrono::milliseconds by);
    void Set(Timestamp t);

  private:
    std::atomic<std::int64_t> ms_;
};

// "2026-11-23T10:15:30.123Z" (milliseconds only when non-zero).
std::string FormatRfc3339(Timestamp t);
// Accepts "YYYY-MM-DDTHH:MM:SS[.fff...](Z|±HH:MM)"; nullopt when malformed or out of range.
std::optional<Timestamp> ParseRfc3339(std::string_view text);

inline std::int64_t ToUnixMillis(Timestamp t) { return t.time_since_epoch().count(); }
inline Timestamp FromUnixMillis(std::int64_t ms) {
    return Timestamp(std::chrono::milliseconds(ms));
}

}  // namespace firmo
