#pragma once
// Firmo's own HTTP request/response values. Handlers see only these (never Beast types), so
// they are tested with plain structs. Header names are matched case-insensitively.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"

namespace firmo::http {

struct CaseInsensitiveLess {
    bool operator()(std::string_view a, std::string_view b) const;
    using is_transparent = void;
};

struct HttpRequest {
    std::string method;  // "GET", "POST", ...
    std::string target;  // as sent: path and query
    std::string path;    // path without the query, as sent (segments are decoded by the router)
    std::multimap<std::string, std::string> query;  // decoded
    std::map<std::string, std::string, CaseInsensitiveLess> headers;
    std::string body;
    std::string remote_ip;
    std::map<std::string, std::string> path_params;  // filled by the router

    std::optional<std::string_view> Header(std::string_view name) const;
    // The Content-Type's media type, lower-cased, without parameters or spaces ("" if none).
    std::string MediaType() const;
    std::optional<std::string> Query(const std::string& name) const;
    std::string_view Param(const std::string& name) const;
};

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
