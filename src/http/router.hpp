#pragma once
// Maps (method, path pattern) to a handler. Patterns are literal segments and `{name}`
// captures: "/api/v1/dossiers/{id}". An unknown path is 404, a known path with another method
// 405 (with Allow). Matching is exact per segment; no regexes on the hot path.

#include <functional>
#include <string>
#include <vector>

#include "http/message.hpp"

namespace firmo::http {

using Handler = std::function<HttpResponse(HttpRequest&)>;

class Router {
  public:
    void Add(std::string method, std::string pattern, Handler handler);

    enum class Match { kFound, kNoPath, kNoMethod };
    struct Result {
        Match match = Match::kNoPath;
        const Handler* handler = nullptr;
        std::string allow;  // for kNoMethod: the methods the path accepts
    };
    // On kFound, fills request.path_params.
    Result Find(HttpRequest& request) const;

  private:
    struct Route {
        std::string method;
        std::vector<std::string> segments;  // "{x}" for a capture
        Handler handler;
    };
    std::vector<Route> routes_;
};

std::vector<std::string_view> SplitPath(std::string_view path);

}  // namespace firmo::http
