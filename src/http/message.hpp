#pragma once
// Firmo's own HTTP request/response values. Handlers see only these (never Beast types), so
// they are tested with plain structs. Header names are matched case-insensitively.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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

// Splits "a=1&b=x%20y" into decoded pairs; malformed escapes are kept verbatim.
std::multimap<std::string, std::string> ParseQuery(std::string_view query);

}  // namespace firmo::http
