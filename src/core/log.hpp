#pragma once
// Structured logging to stderr: one line per event, thread-safe, in one of two formats:
//   text  ts=2026-11-23T10:15:30.123Z level=info event=http_request node=web1-42 method=GET ...
//   json  {"ts":"2026-11-23T10:15:30.123Z","level":"info","event":"http_request","node":...}
// Every line carries the node id (SetNode) and, while a request is being handled on the
// calling thread (RequestScope), its request id. Never log secrets (API keys, tokens, one-time
// codes) or document contents.
//
// Cost: Write() formats into a per-thread buffer and writes the line at once (one write(2)),
// after any access lines still buffered, so the order of lines is kept. Access() (one line per
// HTTP request, the hot path) only appends to an in-memory buffer that a background thread
// writes out every 50 ms or every 64 KiB; a crash can lose the last 50 ms of access lines,
// never another line. When stderr cannot keep up, access lines beyond 1 MiB of backlog are
// dropped and counted (a warning says how many), instead of slowing requests down.

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "core/clock.hpp"

namespace firmo::log {

enum class Level { kDebug, kInfo, kWarn, kError };
enum class Format { kText, kJson };

// One field of a line: a string, or a number (unquoted in JSON).
struct Field {
    Field(std::string_view k, std::string_view v) : key(k), text(v) {}
    Field(std::string_view k, const char* v) : key(k), text(v) {}
    Field(std::string_view k, const std::string& v) : key(k), text(v) {}
    Field(std::string_view k, std::int64_t v) : key(k), number(v), is_number(true) {}
    Field(std::string_view k, int v) : Field(k, static_cast<std::int64_t>(v)) {}

    std::string_view key;
    std::string_view text;
    std::int64_t number = 0;
    bool is_number = false;
};
using Fields = std::initializer_list<Field>;

void SetLevel(Level level);
bool Enabled(Level level);
// The settings below are read by every line; set them at start-up, before other threads log.
void SetFormat(Format format);
Format CurrentFormat();
void SetNode(std::string node);  // e.g. "web1-4711"; "" leaves the field out

void Write(Level level, std::string_view event, Fields fields = {});
inline void Info(std::string_view event, Fields f = {}) { Write(Level::kInfo, event, f); }
inline void Warn(std::string_view event, Fields f = {}) { Write(Level::kWarn, event, f); }
inline void Error(std::string_view event, Fields f = {}) { Write(Level::kError, event, f); }
inline void Debug(std::string_view event, Fields f = {}) { Write(Level::kDebug, event, f); }

// The access line of one HTTP request (event "http_request", level info), buffered (see top).
void Access(Fields fields);
// Writes the buffered access lines now (at shutdown; tests).
void Flush();

// While alive, lines written by this thread carry `request_id` (the view must outlive the
// scope). Scopes nest; the innermost wins.
class RequestScope {
  public:
    explicit RequestScope(std::string_view request_id);
    ~RequestScope();
    RequestScope(const RequestScope&) = delete;
    RequestScope& operator=(const RequestScope&) = delete;

  private:
    std::string_view previous_;
};
// The id of the request this thread is handling ("" when none).
std::string_view CurrentRequestId();

// One formatted line, newline included: what Write() prints (for tests).
std::string FormatLine(Format format, Level level, Timestamp ts, std::string_view node,
                       std::string_view request_id, std::string_view event, Fields fields);

}  // namespace firmo::log
