#pragma once
// The HTTP client the OpenID Connect relying party talks to the provider through: one blocking
// request/response call, so tests hand in a scripted fake and production uses libcurl.

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace firmo::oidc {

struct HttpCall {
    std::string method = "GET";        // "GET" or "POST"
    std::string url;                   // http:// or https:// only
    std::vector<std::string> headers;  // "Name: value"
    std::string body;                  // sent with POST
};

struct HttpReply {
    long status = 0;
    std::string content_type;  // as sent, may be empty
    std::string body;
};

class HttpFetcher {
  public:
    virtual ~HttpFetcher() = default;
    HttpFetcher() = default;
    HttpFetcher(const HttpFetcher&) = delete;
    HttpFetcher& operator=(const HttpFetcher&) = delete;
    // Any HTTP status is a reply; kUnavailable when no reply came (connection, timeout, too
    // large), kInvalidArgument for a URL that is not http(s). Thread-safe; blocking.
    [[nodiscard]] virtual Result<HttpReply> Fetch(const HttpCall& call) = 0;
};

// libcurl, one easy handle per call. Redirects are not followed (an OpenID provider has no
// reason to redirect its back-channel endpoints, and following them would let a redirect send
// the client secret elsewhere); bodies over `max_body` bytes abort the transfer.
class CurlHttpFetcher final : public HttpFetcher {
  public:
    explicit CurlHttpFetcher(std::chrono::milliseconds timeout = std::chrono::seconds(10),
                             std::size_t max_body = std::size_t{1} << 20);
    [[nodiscard]] Result<HttpReply> Fetch(const HttpCall& call) override;

  private:
    std::chrono::milliseconds timeout_;
    std::size_t max_body_;
};

}  // namespace firmo::oidc
