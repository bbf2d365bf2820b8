#pragma once
// The direct flow's exit URLs (completion, rejection, error): where Firmo sends a signer's
// browser with a status_query_token. Checked when a request is created, so that no URL reaches
// a Location header or a meta refresh that a browser would read differently from us: no
// user:pass@ (phishing, and credentials in logs), no backslash (browsers read it as a slash:
// "https://a.example\@b.example" goes to b), no empty host, no control characters. Pure.

#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace firmo::domain {

inline constexpr std::size_t kExitUrlMax = 2000;

// The violations of `url` as an exit URL, each naming `field` ("redirect.completion_url");
// none when it is an absolute http(s) URL with a host, optional port, and nothing a browser
// could read as another host.
std::vector<Violation> CheckExitUrl(std::string_view url, const std::string& field);

}  // namespace firmo::domain
