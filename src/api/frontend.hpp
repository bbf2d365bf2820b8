#pragma once
// Everything between the HTTP server and the handlers: routing, the lane each route runs on
// (http/lanes.hpp), API-key authentication, rate limiting, the 404/405/500/503 problems,
// security headers, health and readiness, metrics (GET /metrics and the request metrics), the
// OpenAPI document, and one access-log line per request. The last-resort catch lives here too.
//
// A request is routed on the I/O thread that read it; a route on an inline lane runs right
// there, the others are handed to their lane's pool, and a heavy route whose queue is full is
// refused with 503 and Retry-After without waiting.
//
// Before that, once its headers are read, a request with a body is admitted (Admit): an issuer
// route needs its API key, an upload its token, a body needs a route; without them it is
// answered at once (401/403/404/405/415) and its body is never read, so memory is not spent on
// anyone who cannot use it.

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/issuer_api.hpp"
#include "core/metrics.hpp"
#include "domain/ports/database.hpp"
#include "domain/services/idempotency_service.hpp"
#include "domain/services/rate_limit_service.hpp"
#include "http/forwarded.hpp"
#include "http/lanes.hpp"
#include "http/router.hpp"
#include "http/server.hpp"

namespace firmo::api {

// The sender portal's "send" (POST /app/send) carries at most this many PDFs of
// max_document_bytes each: its body limit (web/staff_send.cpp refuses more documents).
inline constexpr std::size_t kPortalSendDocuments = 4;

struct FrontendOptions {
    std::size_t max_json_bytes = 1024 * 1024;
    std::size_t max_document_bytes = 10 * 1024 * 1024;
    bool access_log = true;
    // Peers whose X-Forwarded-For is believed for the client address (audit log, sessions,
    // rate limits by address, access log, metrics_allow).
    http::TrustedProxies trusted_proxies;
    // Clients (after trusted_proxies) that may read GET /metrics; others get 403.
    http::AddressList metrics_allow = *http::AddressList::Parse("127.0.0.0/8, ::1");
    // Retry-After of the 503 a heavy request gets when its lane's queue is full.
    std::chrono::seconds busy_retry_after{2};
    // Applied to every answer on its way out: turns a problem+json a browser gets for a page
    // into a page in the visitor's language (web::ProblemAsPage); null: answers stay as they are.
    std::function<void(const http::HttpRequest&, http::HttpResponse&)> page_problem;
};

class Frontend {
  public:
    // `rate_limits` counts the calls of each API key, and the failed authentications of each
    // client address, across all nodes. `lanes` run the routes that are not inline; `metrics`
    // receives the request metrics and is what GET /metrics renders.
    Frontend(domain::IssuerService& issuers, domain::IdempotencyService& idempotency,
             domain::RateLimitService& rate_limits, domain::Database& db, http::Lanes& lanes,
             metrics::Registry& metrics, FrontendOptions options);
    ~Frontend();
    Frontend(const Frontend&) = delete;
    Frontend& operator=(const Frontend&) = delete;

    // A route behind API-key authentication, rate limiting and idempotency keys. Its lane is
    // kDatabase unless it says otherwise (kHeavy for PDF work and document bytes).
    void AddAuthed(std::string method, std::string pattern, IssuerApi::AuthedHandler handler,
                   http::Lane lane = http::Lane::kDatabase);
    // A credential checked from the headers alone (an upload's token): an error refuses the
    // request before its body is read. Runs on the I/O thread: must not block.
    using HeaderCheck = std::function<Result<void>(const http::HttpRequest& request)>;

    // A route anyone may call (health, uploads authorised by their own token). With `check`,
    // requests with a body are admitted only when it passes. With `check_blocks` the check may
    // block (a session looked up in the database): it runs on the database lane (or inline
    // where database work does), and the body is read only once it has passed.
    void AddPublic(std::string method, std::string pattern, http::Handler handler,
                   http::Lane lane = http::Lane::kDatabase, HeaderCheck check = {},
                   bool check_blocks = false);

    // The server's handler: routes on the calling I/O thread and answers through `respond`,
    // from the route's lane.
    void Handle(http::HttpRequest& request, http::Responder respond);
    // The same on the calling thread, whatever the lane (tests).
    http::HttpResponse Handle(http::HttpRequest& request);
    // The body limit for a request, decided from its method and target before the body is read.
    std::size_t BodyLimit(std::string_view method, std::string_view target) const;
    // The server's admission hook (http::ServerOptions::admit), on the I/O thread once the
    // headers are read. A request with a body is refused now, answered and counted like any
    // other, when it has no route, when an issuer route's API key is missing or malformed (or
    // unknown or revoked: checked here when database work runs on the I/O threads, i.e. on
    // SQLite; on PostgreSQL it is checked with the body, which then counts as unauthenticated),
    // or when its route's HeaderCheck fails.
    http::Admission Admit(http::HttpRequest& request);

  private:
    using Clock = std::chrono::steady_clock;
    struct RouteMetrics;

    // A HeaderCheck's verdict as an admission (a refusal is answered, counted and logged).
    http::Admission Checked(http::HttpRequest& request, const http::Router::Result& found,
                            const HeaderCheck& check, http::Admission admission,
                            Clock::time_point start);

    // Resolves the client address, finds the route; sets request.route.
    http::Router::Result Route(http::HttpRequest& request) const;
    // Runs the route (or answers 404/405) with the last-resort catch, then Finish().
    http::HttpResponse Run(http::HttpRequest& request, const http::Router::Result& found,
                           Clock::time_point start);
    // The route run on this (I/O) thread inside a no_wait::Scope (core/no_wait.hpp), then
    // Finish(); none when something would have waited (a statement, a connection, a count):
    // the caller then hands the request to the route's lane, where it runs again from the
    // start. Nothing of the attempt is kept, counted or logged.
    std::optional<http::HttpResponse> TryWithoutWaiting(http::HttpRequest& request,
                                                        const http::Router::Result& found,
                                                        Clock::time_point start);
    // Security headers, metrics and the access line, on the way out.
    void Finish(const http::HttpRequest& request, const http::Router::Result& found,
                http::HttpResponse& response, Clock::time_point start);
    // The caller of an issuer route from its API key; the answer when there is none. A failed
    // attempt spends the client address's rate-limit budget.
    tl::expected<domain::Principal, http::HttpResponse> CheckApiKey(
        const http::HttpRequest& request);
    // API key, rate limit and Idempotency-Key around an issuer API handler.
    http::HttpResponse Authenticated(http::HttpRequest& request,
                                     const IssuerApi::AuthedHandler& handler,
                                     domain::CallEffect effect);
    http::HttpResponse Metrics(const http::HttpRequest& request) const;

    domain::IssuerService& issuers_;
    domain::IdempotencyService& idempotency_;
    domain::RateLimitService& rate_limits_;
    domain::Database& db_;
    http::Lanes& lanes_;
    metrics::Registry& metrics_;
    FrontendOptions options_;
    http::Router router_;
    metrics::Family<metrics::Counter>& requests_total_;
    metrics::Family<metrics::Histogram>& request_seconds_;
    metrics::Gauge& in_flight_;
    metrics::Family<metrics::Counter>& tried_inline_;
    metrics::Counter& served_inline_;
    metrics::Counter& handed_on_;
    std::vector<std::unique_ptr<RouteMetrics>> route_metrics_;  // by route index
    // What admits a request with a body, by route index: an API key (authed routes), a
    // HeaderCheck, or nothing (public routes: the body counts as unauthenticated).
    struct Gate {
        bool api_key = false;
        HeaderCheck check;
        bool check_blocks = false;
        // Tried on the I/O thread first (TryWithoutWaiting), for reads usually answered from
        // memory; see TriesInlineFirst() in the .cpp.
        bool inline_first = false;
    };
    const Gate& GateOf(const http::Router::Result& found) const {
        return gates_[static_cast<std::size_t>(found.route - router_.routes().data())];
    }
    std::vector<Gate> gates_;
    std::unique_ptr<RouteMetrics> unmatched_metrics_;
};

// The OpenAPI document (docs/openapi.yaml), embedded at build time.
std::string_view OpenApiYaml();

}  // namespace firmo::api
