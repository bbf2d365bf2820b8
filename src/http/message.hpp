#pragma once
// Firmo's own HTTP request/response values. Handlers see only these (never Beast types), so
// they are tested with plain structs. Header names are matched case-insensitively.
//
// A connection reuses one HttpRequest for all its requests: the header and parameter lists
// keep their strings between requests, so a keep-alive request allocates nothing for them
// once the strings are long enough.

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"

namespace firmo::http {

bool EqualsIgnoreCase(std::string_view a, std::string_view b);

// An ordered list of (name, value) pairs with lookup by name, case-insensitive or not. A
// handful of entries: a linear scan beats a tree, and clear() keeps the strings' storage.
template <bool kIgnoreCase>
class FieldList {
  public:
    using value_type = std::pair<std::string, std::string>;
    using const_iterator = typename std::vector<value_type>::const_iterator;

    // The value of the last field with this name (a repeated field: the last one wins).
    const std::string* Find(std::string_view name) const {
        for (std::size_t i = size_; i-- > 0;) {
            if (Same(fields_[i].first, name)) return &fields_[i].second;
        }
        return nullptr;
    }
    // The value of the last field with this name, added empty when there is none.
    std::string& operator[](std::string_view name) {
        for (std::size_t i = size_; i-- > 0;) {
            if (Same(fields_[i].first, name)) return fields_[i].second;
        }
        return Add(name, {});
    }
    std::string& Add(std::string_view name, std::string_view value) {
        if (size_ == fields_.size()) fields_.emplace_back();
        auto& field = fields_[size_++];
        field.first.assign(name);
        field.second.assign(value);
        return field.second;
    }
    void clear() { size_ = 0; }
    std::size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    const_iterator begin() const { return fields_.begin(); }
    const_iterator end() const { return fields_.begin() + static_cast<std::ptrdiff_t>(size_); }

  private:
    static bool Same(std::string_view a, std::string_view b) {
        if constexpr (kIgnoreCase) {
            return EqualsIgnoreCase(a, b);
        } else {
            return a == b;
        }
    }
    std::vector<value_type> fields_;  // [0, size_) in use; the rest kept for reuse
    std::size_t size_ = 0;
};
using Headers = FieldList<true>;
using Params = FieldList<false>;

// A request body kept in an anonymous temporary file instead of memory: a large upload while
// it is received and while it waits for its lane. The file has no name (O_TMPFILE, or unlinked
// at once) and disappears with the last reference.
class BodyFile {
  public:
    explicit BodyFile(int fd) : fd_(fd) {}
    ~BodyFile();
    BodyFile(const BodyFile&) = delete;
    BodyFile& operator=(const BodyFile&) = delete;

    // Appends; false when the disk refuses (full, I/O error).
    [[nodiscard]] bool Append(std::string_view bytes);
    std::size_t size() const { return size_; }
    // The whole body (blocking file I/O: call it where blocking is allowed).
    [[nodiscard]] Result<std::string> ReadAll() const;

  private:
    int fd_;
    std::size_t size_ = 0;
};

// A new body file in `dir` (created if missing), readable only by this process's user.
[[nodiscard]] Result<std::shared_ptr<BodyFile>> OpenBodyFile(const std::filesystem::path& dir);

struct HttpRequest {
    std::string method;  // "GET", "POST", ...
    std::string target;  // as sent: path and query
    std::string path;    // path without the query, as sent (segments are decoded by the router)
    std::multimap<std::string, std::string> query;  // decoded
    Headers headers;
    std::string body;
    // Set instead of `body` for a large body (ServerOptions::spill_body_bytes) until the front
    // door reads it in (LoadSpilledBody), where the route runs.
    std::shared_ptr<BodyFile> body_file;
    std::string remote_ip;
    Params path_params;      // filled by the router
    std::string route;       // the matched route's pattern ("/api/v1/dossiers/{id}"); "" if none
    std::string request_id;  // X-Request-Id as received (when well-formed) or generated
    int version = 11;        // 10 for HTTP/1.0, 11 for HTTP/1.1
    bool keep_alive = true;  // the client allows another request on this connection

    std::optional<std::string_view> Header(std::string_view name) const;
    // The Content-Type's media type, lower-cased, without parameters or spaces ("" if none).
    std::string MediaType() const;
    std::optional<std::string> Query(const std::string& name) const;
    std::string_view Param(std::string_view name) const;
    // Empties the request for the next one on the same connection, keeping storage.
    void Reset();
};

// Moves a body kept in a file (body_file) into `body`; nothing to do without one. Blocking.
[[nodiscard]] Result<void> LoadSpilledBody(HttpRequest& request);

struct HttpResponse {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    bool close = false;  // ask the server to close the connection after this response

    HttpResponse& Set(std::string name, std::string value) {
        headers.emplace_back(std::move(name), std::move(value));
        return *this;
    }
    static HttpResponse Text(int status, std::string body,
                             std::string type = "text/plain; charset=utf-8");
};

// An RFC 9457 application/problem+json answer for `error`: status, type and title from the one
// error table (core/error.hpp). Used by the API handlers and by the server for its own errors.
HttpResponse ProblemResponse(const Error& error);

// Splits "a=1&b=x%20y" into decoded pairs; malformed escapes are kept verbatim.
std::multimap<std::string, std::string> ParseQuery(std::string_view query);

}  // namespace firmo::http
