#pragma once
// Everything between the HTTP server and the handlers: routing, API-key authentication, rate
// limiting, the 404/405/500 problems, security headers, health and readiness, the OpenAPI
// document, and one access-log line per request. The last-resort catch lives here too.

#include <memory>
#include <string>

#include "api/issuer_api.hpp"
#include "domain/ports/database.hpp"
#include "domain/services/idempotency_service.hpp"
#include "domain/services/rate_limit_service.hpp"
#include "http/forwarded.hpp"
#include "http/router.hpp"

namespace firmo::api {

struct FrontendOptions {
    std::size_t max_json_bytes = 1024 * 1024;
    std::size_t max_document_bytes = 10 * 1024 * 1024;
    bool access_log = true;
    // Peers whose X-Forwarded-For is believed for the client address (audit log, sessions,
    // rate limits by address, access log).
    http::TrustedProxies trusted_proxies;
};

class Frontend {
  public:
    // `rate_limits` counts the calls of each API key, and the failed authentications of each
    // client address, across all nodes.
    Frontend(domain::IssuerService& issuers, domain::IdempotencyService& idempotency,
             domain::RateLimitService& rate_limits, domain::Database& db, FrontendOptions options);

    // A route behind API-key authentication, rate limiting and idempotency keys.
    void AddAuthed(std::string method, std::string pattern, IssuerApi::AuthedHandler handler);
    // A route anyone may call (health, uploads authorised by their own token).
    void AddPublic(std::string method, std::string pattern, http::Handler handler);

    http::HttpResponse Handle(http::HttpRequest& request);
    // The body limit for a request, decided from its method and target before the body is read.
    std::size_t BodyLimit(std::string_view method, std::string_view target) const;

  private:
    http::HttpResponse Dispatch(http::HttpRequest& request);
    // API key, rate limit and Idempotency-Key around an issuer API handler.
    http::HttpResponse Authenticated(http::HttpRequest& request,
                                     const IssuerApi::AuthedHandler& handler,
                                     domain::CallEffect effect);

    domain::IssuerService& issuers_;
    domain::IdempotencyService& idempotency_;
    domain::RateLimitService& rate_limits_;
    domain::Database& db_;
    FrontendOptions options_;
    http::Router router_;
};

// The OpenAPI document (docs/openapi.yaml), embedded at build time.
std::string_view OpenApiYaml();

}  // namespace firmo::api
