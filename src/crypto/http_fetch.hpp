#pragma once
// The one HTTP exchange the PKI clients need (RFC 3161 time-stamps, OCSP, CRL and issuer
// certificate downloads): a blocking libcurl request with a timeout and a bounded body.

#include <chrono>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace firmo::crypto {

// Answers larger than this are refused: no legitimate TSA, OCSP responder or CRL comes near it.
inline constexpr std::size_t kMaxFetchBytes = 8 << 20;

// POSTs `body` as `content_type` to `url`, or GETs it when `content_type` is empty. Returns the
// body of a 200 answer; kUnavailable (naming `what` and the URL) for anything else. Blocking.
[[nodiscard]] Result<std::string> HttpFetch(const std::string& url, std::string_view content_type,
                                            std::string_view body,
                                            std::chrono::milliseconds timeout,
                                            std::string_view what);

}  // namespace firmo::crypto
