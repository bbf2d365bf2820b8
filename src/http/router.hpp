#pragma once
// Maps (method, path pattern) to a handler. Patterns are literal segments and `{name}`
// captures: "/api/v1/dossiers/{id}". An unknown path is 404, a known path with another method
// 405 (with Allow). Matching is exact per segment; no regexes and no allocation on the hot
// path (captures are copied into the request's reused parameter list). Each route also
// declares the lane it runs on (http/lanes.hpp).

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "http/lanes.hpp"
#include "http/message.hpp"

namespace firmo::http {

using Handler = std::function<HttpResponse(HttpRequest&)>;

class Router {
  public:
    struct Route {
        std::string method;
        std::string pattern;
        std::vector<std::string> segments;  // "{x}" for a capture
        Handler handler;
        Lane lane = Lane::kDatabase;
    };

    void Add(std::string method, std::string pattern, Handler handler, Lane lane = Lane::kDatabase);

    enum class Match { kFound, kNoPath, kNoMethod };
    struct Result {
        Match match = Match::kNoPath;
        const Route* route = nullptr;      // kFound
        const Handler* handler = nullptr;  // kFound: &route->handler
        std::string allow;                 // for kNoMethod: the methods the path accepts
    };
    // On kFound, fills request.path_params.
    Result Find(HttpRequest& request) const;

    const std::vector<Route>& routes() const { return routes_; }

  private:
    std::vector<Route> routes_;
};

std::vector<std::string_view> SplitPath(std::string_view path);

}  // namespace firmo::http
