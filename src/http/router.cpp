#include "http/router.hpp"

#include "core/encoding.hpp"

namespace firmo::http {

std::vector<std::string_view> SplitPath(std::string_view path) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < path.size()) {
        if (path[i] == '/') {
            ++i;
            continue;
        }
        const auto end = path.find('/', i);
        const std::size_t stop = end == std::string_view::npos ? path.size() : end;
        out.push_back(path.substr(i, stop - i));
        i = stop;
    }
    return out;
}

void Router::Add(std::string method, std::string pattern, Handler handler) {
    Route route{std::move(method), {}, std::move(handler)};
    for (auto seg : SplitPath(pattern)) route.segments.emplace_back(seg);
    routes_.push_back(std::move(route));
}

Router::Result Router::Find(HttpRequest& request) const {
    const auto parts = SplitPath(request.path);
    Result result;
    for (const auto& route : routes_) {
        if (route.segments.size() != parts.size()) continue;
        bool ok = true;
        for (std::size_t i = 0; i < parts.size() && ok; ++i) {
            const auto& seg = route.segments[i];
            const bool capture = seg.size() > 2 && seg.front() == '{' && seg.back() == '}';
            ok = capture ? !parts[i].empty() : seg == parts[i];
        }
        if (!ok) continue;
        if (route.method != request.method &&
            !(request.method == "HEAD" && route.method == "GET")) {
            if (!result.allow.empty()) result.allow += ", ";
            result.allow += route.method;
            result.match = Match::kNoMethod;
            continue;
        }
        request.path_params.clear();
        for (std::size_t i = 0; i < parts.size(); ++i) {
            const auto& seg = route.segments[i];
            if (seg.front() == '{') {
                auto decoded = PercentDecode(parts[i], false);
                request.path_params[seg.substr(1, seg.size() - 2)] =
                    decoded ? *decoded : std::string(parts[i]);
            }
        }
        return Result{Match::kFound, &route.handler, {}};
    }
    return result;
}

}  // namespace firmo::http
