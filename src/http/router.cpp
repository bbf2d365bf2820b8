#include "http/router.hpp"

#include <array>

#include "core/encoding.hpp"

namespace firmo::http {

namespace {

// No route has more segments; a longer path matches nothing.
constexpr std::size_t kMaxSegments = 16;

// Splits into at most kMaxSegments segments; false when there are more.
bool Split(std::string_view path, std::array<std::string_view, kMaxSegments>& out,
           std::size_t& count) {
    count = 0;
    std::size_t i = 0;
    while (i < path.size()) {
        if (path[i] == '/') {
            ++i;
            continue;
        }
        const auto end = path.find('/', i);
        const std::size_t stop = end == std::string_view::npos ? path.size() : end;
        if (count == kMaxSegments) return false;
        out[count++] = path.substr(i, stop - i);
        i = stop;
    }
    return true;
}

bool IsCapture(const std::string& seg) {
    return seg.size() > 2 && seg.front() == '{' && seg.back() == '}';
}

}  // namespace

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

void Router::Add(std::string method, std::string pattern, Handler handler, Lane lane) {
    Route route{std::move(method), pattern, {}, std::move(handler), lane};
    for (auto seg : SplitPath(pattern)) route.segments.emplace_back(seg);
    routes_.push_back(std::move(route));
}

Router::Result Router::Find(HttpRequest& request) const {
    std::array<std::string_view, kMaxSegments> parts;
    std::size_t count = 0;
    Result result;
    if (!Split(request.path, parts, count)) return result;
    for (const auto& route : routes_) {
        if (route.segments.size() != count) continue;
        bool ok = true;
        for (std::size_t i = 0; i < count && ok; ++i) {
            const auto& seg = route.segments[i];
            ok = IsCapture(seg) ? !parts[i].empty() : seg == parts[i];
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
        for (std::size_t i = 0; i < count; ++i) {
            const auto& seg = route.segments[i];
            if (!IsCapture(seg)) continue;
            const std::string_view name(seg.data() + 1, seg.size() - 2);
            if (parts[i].find('%') == std::string_view::npos) {
                request.path_params.Add(name, parts[i]);
            } else {
                auto decoded = PercentDecode(parts[i], false);
                request.path_params.Add(name, decoded ? std::string_view(*decoded) : parts[i]);
            }
        }
        return Result{Match::kFound, &route, &route.handler, {}};
    }
    return result;
}

}  // namespace firmo::http
