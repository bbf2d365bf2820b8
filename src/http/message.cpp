#include "http/message.hpp"

#include <algorithm>
#include <cctype>

#include "core/encoding.hpp"

namespace firmo::http {

bool CaseInsensitiveLess::operator()(std::string_view a, std::string_view b) const {
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
        return std::tolower(static_cast<unsigned char>(x)) <
               std::tolower(static_cast<unsigned char>(y));
    });
}

std::optional<std::string_view> HttpRequest::Header(std::string_view name) const {
    const auto it = headers.find(name);
    if (it == headers.end()) return std::nullopt;
    return std::string_view(it->second);
}

std::string HttpRequest::MediaType() const {
    const auto type = Header("Content-Type");
    if (!type) return {};
    std::string out;
    for (char c : type->substr(0, type->find(';'))) {
        if (c != ' ' && c != '\t')
            out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
    return out;
}

std::optional<std::string> HttpRequest::Query(const std::string& name) const {
    const auto it = query.find(name);
    if (it == query.end()) return std::nullopt;
    return it->second;
}

std::string_view HttpRequest::Param(const std::string& name) const {
    const auto it = path_params.find(name);
    if (it == path_params.end()) return {};
    return it->second;
}

HttpResponse HttpResponse::Text(int status, std::string body, std::string type) {
    HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    r.Set("Content-Type", std::move(type));
    return r;
}

HttpResponse ProblemResponse(const Error& error) {
    return HttpResponse::Text(HttpStatusOf(error.code), ProblemJson(error),
                              "application/problem+json");
}

std::multimap<std::string, std::string> ParseQuery(std::string_view query) {
    std::multimap<std::string, std::string> out;
    while (!query.empty()) {
        const auto amp = query.find('&');
        const std::string_view pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
        if (pair.empty()) continue;
        const auto eq = pair.find('=');
        const std::string_view k = pair.substr(0, eq);
        const std::string_view v =
            eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
        auto dk = PercentDecode(k, true);
        auto dv = PercentDecode(v, true);
        out.emplace(dk ? *dk : std::string(k), dv ? *dv : std::string(v));
    }
    return out;
}

}  // namespace firmo::http
