#include "domain/exit_url.hpp"

#include <cctype>

namespace firmo::domain {

namespace {

bool IsHostChar(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
}

// The reason `url` is not an exit URL, or empty.
std::string Problem(std::string_view url) {
    if (url.size() > kExitUrlMax) {
        return "must be at most " + std::to_string(kExitUrlMax) + " characters";
    }
    for (unsigned char c : url) {
        if (c < 0x20 || c == 0x7f) return "must not contain control characters";
        if (c == ' ') return "must not contain spaces (percent-encode them)";
        if (c == '\\') return "must not contain a backslash (browsers read it as '/')";
        if (c == '<' || c == '>' || c == '"') return "must not contain <, > or \"";
    }
    std::string_view rest;
    if (url.starts_with("https://")) {
        rest = url.substr(8);
    } else if (url.starts_with("http://")) {
        rest = url.substr(7);
    } else {
        return "must be an absolute http(s) URL";
    }
    const std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
    if (authority.find('@') != std::string_view::npos) {
        return "must not carry a user name or password (user:pass@)";
    }
    std::string_view host = authority;
    std::string_view port;
    if (host.starts_with('[')) {
        const auto close = host.find(']');
        if (close == std::string_view::npos) return "has an IPv6 host without its closing ']'";
        for (char c : host.substr(1, close - 1)) {
            if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.') {
                return "has an IPv6 host that is not an address";
            }
        }
        if (close == 1) return "must name a host";
        const std::string_view after = host.substr(close + 1);
        if (!after.empty() && !after.starts_with(':')) return "has characters after the IPv6 host";
        if (!after.empty()) port = after.substr(1);
        host = host.substr(0, close + 1);
    } else {
        const auto colon = host.find(':');
        if (colon != std::string_view::npos) {
            port = host.substr(colon + 1);
            host = host.substr(0, colon);
            if (port.empty()) return "has an empty port";
        }
        if (host.empty()) return "must name a host";
        for (char c : host) {
            if (!IsHostChar(c)) {
                return "has a host with characters other than letters, digits, '.', '-' and '_' "
                       "(use punycode for other names)";
            }
        }
    }
    if (!port.empty()) {
        if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos ||
            std::stoi(std::string(port)) == 0 || std::stoi(std::string(port)) > 65535) {
            return "has a port that is not a number from 1 to 65535";
        }
    }
    return "";
}

}  // namespace

std::vector<Violation> CheckExitUrl(std::string_view url, const std::string& field) {
    std::string reason = Problem(url);
    if (reason.empty()) return {};
    return {{field, std::move(reason)}};
}

}  // namespace firmo::domain
