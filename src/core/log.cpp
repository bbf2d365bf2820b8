#include "core/log.hpp"

#include <atomic>
#include <cstdio>
#include <mutex>

#include "core/clock.hpp"

namespace firmo::log {

namespace {
std::atomic<int> g_level{static_cast<int>(Level::kInfo)};
std::mutex g_mu;

std::string_view LevelName(Level l) {
    switch (l) {
        case Level::kDebug:
            return "debug";
        case Level::kInfo:
            return "info";
        case Level::kWarn:
            return "warn";
        case Level::kError:
            return "error";
    }
    return "info";
}

void AppendValue(std::string& out, std::string_view v) {
    const bool quote = v.empty() || v.find_first_of(" \"=\n\t") != std::string_view::npos;
    if (!quote) {
        out.append(v);
        return;
    }
    out.push_back('"');
    for (char c : v) {
        if (c == '"' || c == '\\') out.push_back('\\');
        if (c == '\n') {
            out.append("\\n");
            continue;
        }
        out.push_back(c);
    }
    out.push_back('"');
}
}  // namespace

void SetLevel(Level level) { g_level = static_cast<int>(level); }
bool Enabled(Level level) { return static_cast<int>(level) >= g_level.load(); }

void Write(Level level, std::string_view event,
           std::initializer_list<std::pair<std::string_view, std::string_view>> fields) {
    if (!Enabled(level)) return;
    std::string line = "ts=" + FormatRfc3339(SystemClock().Now());
    line.append(" level=").append(LevelName(level)).append(" event=");
    AppendValue(line, event);
    for (const auto& [k, v] : fields) {
        line.push_back(' ');
        line.append(k).push_back('=');
        AppendValue(line, v);
    }
    line.push_back('\n');
    std::lock_guard lock(g_mu);
    std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace firmo::log
