#include "core/log.hpp"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>
#include <utility>

#include "core/encoding.hpp"

namespace firmo::log {

namespace {

std::atomic<int> g_level{static_cast<int>(Level::kInfo)};
std::atomic<int> g_format{static_cast<int>(Format::kText)};
std::string g_node;  // set at start-up only (see SetNode)
thread_local std::string_view t_request_id;

constexpr std::size_t kFlushBytes = 64 * 1024;
constexpr std::size_t kMaxBacklog = 1024 * 1024;
constexpr auto kFlushInterval = std::chrono::milliseconds(50);

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

// "2026-11-23T10:15:30.123Z", with the part up to the seconds formatted once per second and
// thread (FormatRfc3339 leaves out a zero millisecond part; log lines keep a fixed width).
void AppendTimestamp(std::string& out, Timestamp ts) {
    thread_local std::int64_t cached_second = INT64_MIN;
    thread_local std::string cached;  // "2026-11-23T10:15:30"
    const std::int64_t ms = ToUnixMillis(ts);
    const std::int64_t second = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
    if (second != cached_second) {
        cached = FormatRfc3339(FromUnixMillis(second * 1000));
        cached.resize(cached.size() - 1);  // the 'Z'
        cached_second = second;
    }
    const auto milli = static_cast<int>(ms - second * 1000);
    out.append(cached);
    const char frac[] = {'.', static_cast<char>('0' + milli / 100),
                         static_cast<char>('0' + milli / 10 % 10),
                         static_cast<char>('0' + milli % 10), 'Z'};
    out.append(frac, sizeof frac);
}

void AppendNumber(std::string& out, std::int64_t n) {
    char buf[24];
    char* end = buf + sizeof buf;
    char* p = end;
    const bool negative = n < 0;
    auto u = negative ? 0 - static_cast<std::uint64_t>(n) : static_cast<std::uint64_t>(n);
    do {
        *--p = static_cast<char>('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (negative) *--p = '-';
    out.append(p, static_cast<std::size_t>(end - p));
}

// A text value: bare when it is a plain token, else quoted with \" \\ \n \r \t and \xNN for
// other control bytes, so one event is always one line.
void AppendTextValue(std::string& out, std::string_view v) {
    bool plain = !v.empty();
    for (char c : v) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u == 0x7F || c == '"' || c == '=' || c == '\\') {
            plain = false;
            break;
        }
    }
    if (plain) {
        out.append(v);
        return;
    }
    static constexpr char kHex[] = "0123456789abcdef";
    out.push_back('"');
    for (char c : v) {
        const auto u = static_cast<unsigned char>(c);
        switch (c) {
            case '"':
                out.append("\\\"");
                break;
            case '\\':
                out.append("\\\\");
                break;
            case '\n':
                out.append("\\n");
                break;
            case '\r':
                out.append("\\r");
                break;
            case '\t':
                out.append("\\t");
                break;
            default:
                if (u < 0x20 || u == 0x7F) {
                    out.append("\\x");
                    out.push_back(kHex[u >> 4]);
                    out.push_back(kHex[u & 0xf]);
                } else {
                    out.push_back(c);
                }
        }
    }
    out.push_back('"');
}

void AppendLine(std::string& out, Format format, Level level, Timestamp ts, std::string_view node,
                std::string_view request_id, std::string_view event, Fields fields) {
    if (format == Format::kJson) {
        out.append("{\"ts\":\"");
        AppendTimestamp(out, ts);
        out.append("\",\"level\":\"").append(LevelName(level)).append("\",\"event\":");
        AppendJsonQuoted(out, event);
        if (!node.empty()) {
            out.append(",\"node\":");
            AppendJsonQuoted(out, node);
        }
        if (!request_id.empty()) {
            out.append(",\"request_id\":");
            AppendJsonQuoted(out, request_id);
        }
        for (const Field& f : fields) {
            out.push_back(',');
            AppendJsonQuoted(out, f.key);
            out.push_back(':');
            if (f.is_number) {
                AppendNumber(out, f.number);
            } else {
                AppendJsonQuoted(out, f.text);
            }
        }
        out.append("}\n");
        return;
    }
    out.append("ts=");
    AppendTimestamp(out, ts);
    out.append(" level=").append(LevelName(level)).append(" event=");
    AppendTextValue(out, event);
    if (!node.empty()) {
        out.append(" node=");
        AppendTextValue(out, node);
    }
    if (!request_id.empty()) {
        out.append(" request_id=");
        AppendTextValue(out, request_id);
    }
    for (const Field& f : fields) {
        out.push_back(' ');
        out.append(f.key).push_back('=');
        if (f.is_number) {
            AppendNumber(out, f.number);
        } else {
            AppendTextValue(out, f.text);
        }
    }
    out.push_back('\n');
}

void WriteAll(const std::string& text) {
    const char* p = text.data();
    std::size_t left = text.size();
    while (left > 0) {
        const ssize_t n = ::write(STDERR_FILENO, p, left);
        if (n < 0) {
            if (errno == EINTR) continue;
            return;  // nowhere to report it
        }
        p += n;
        left -= static_cast<std::size_t>(n);
    }
}

// Lines on their way to stderr. `write_mu` orders the writes; `mu` guards the buffer and is
// held only to append or swap, never during a write(2).
struct Sink {
    std::mutex write_mu;
    std::mutex mu;
    std::condition_variable cv;
    std::string pending;
    std::uint64_t dropped = 0;
    bool flusher_started = false;

    // Writes everything pending, then `line` (may be empty). Caller holds nothing.
    void WriteThrough(std::string_view line) {
        std::lock_guard write_lock(write_mu);
        std::string out;
        std::uint64_t lost = 0;
        {
            std::lock_guard lock(mu);
            out.swap(pending);
            lost = std::exchange(dropped, 0);
        }
        if (lost > 0) {
            AppendLine(out, static_cast<Format>(g_format.load()), Level::kWarn, SystemClock().Now(),
                       g_node, "", "log_lines_dropped",
                       {{"count", static_cast<std::int64_t>(lost)},
                        {"reason", "stderr could not keep up with the access log"}});
        }
        out.append(line);
        if (!out.empty()) WriteAll(out);
    }

    void Buffer(std::string_view line) {
        bool wake = false;
        {
            std::lock_guard lock(mu);
            if (!flusher_started) {
                flusher_started = true;
                std::thread([this] { FlushLoop(); }).detach();
                std::atexit([] { Flush(); });
            }
            if (pending.size() + line.size() > kMaxBacklog) {
                ++dropped;
                return;
            }
            const bool was_empty = pending.empty();
            pending.append(line);
            wake = was_empty || pending.size() >= kFlushBytes;
        }
        if (wake) cv.notify_one();
    }

    [[noreturn]] void FlushLoop() {
        for (;;) {
            {
                std::unique_lock lock(mu);
                cv.wait(lock, [this] { return !pending.empty(); });
                cv.wait_for(lock, kFlushInterval, [this] { return pending.size() >= kFlushBytes; });
            }
            WriteThrough({});
        }
    }
};

// Never destroyed: the detached flusher thread may still use it while the process exits.
Sink& TheSink() {
    static Sink* sink = new Sink;
    return *sink;
}

std::string& LineBuffer() {
    thread_local std::string line;
    line.clear();
    return line;
}

}  // namespace

void SetLevel(Level level) { g_level = static_cast<int>(level); }
bool Enabled(Level level) { return static_cast<int>(level) >= g_level.load(); }
void SetFormat(Format format) { g_format = static_cast<int>(format); }
Format CurrentFormat() { return static_cast<Format>(g_format.load()); }
void SetNode(std::string node) { g_node = std::move(node); }

void Write(Level level, std::string_view event, Fields fields) {
    if (!Enabled(level)) return;
    std::string& line = LineBuffer();
    AppendLine(line, CurrentFormat(), level, SystemClock().Now(), g_node, t_request_id, event,
               fields);
    TheSink().WriteThrough(line);
}

void Access(Fields fields) {
    if (!Enabled(Level::kInfo)) return;
    std::string& line = LineBuffer();
    AppendLine(line, CurrentFormat(), Level::kInfo, SystemClock().Now(), g_node, t_request_id,
               "http_request", fields);
    TheSink().Buffer(line);
}

void Flush() { TheSink().WriteThrough({}); }

RequestScope::RequestScope(std::string_view request_id) : previous_(t_request_id) {
    t_request_id = request_id;
}
RequestScope::~RequestScope() { t_request_id = previous_; }

std::string_view CurrentRequestId() { return t_request_id; }

std::string FormatLine(Format format, Level level, Timestamp ts, std::string_view node,
                       std::string_view request_id, std::string_view event, Fields fields) {
    std::string out;
    AppendLine(out, format, level, ts, node, request_id, event, fields);
    return out;
}

}  // namespace firmo::log
