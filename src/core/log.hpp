#pragma once
// Minimal structured logging to stderr: one line per event, `key=value` pairs, thread-safe.
// Never log secrets (API keys, tokens, one-time codes) or document contents.

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace firmo::log {

enum class Level { kDebug, kInfo, kWarn, kError };

void SetLevel(Level level);
bool Enabled(Level level);
void Write(Level level, std::string_view event,
           std::initializer_list<std::pair<std::string_view, std::string_view>> fields = {});

inline void Info(std::string_view event,
                 std::initializer_list<std::pair<std::string_view, std::string_view>> f = {}) {
    Write(Level::kInfo, event, f);
}
inline void Warn(std::string_view event,
                 std::initializer_list<std::pair<std::string_view, std::string_view>> f = {}) {
    Write(Level::kWarn, event, f);
}
inline void Error(std::string_view event,
                  std::initializer_list<std::pair<std::string_view, std::string_view>> f = {}) {
    Write(Level::kError, event, f);
}
inline void Debug(std::string_view event,
                  std::initializer_list<std::pair<std::string_view, std::string_view>> f = {}) {
    Write(Level::kDebug, event, f);
}

}  // namespace firmo::log
