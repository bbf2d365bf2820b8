#include "api/frontend.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <exception>

#include "api/json_response.hpp"
#include "api/problem.hpp"
#include "core/encoding.hpp"
#include "core/log.hpp"
#include "core/no_wait.hpp"
#include "crypto/digest.hpp"
#include "crypto/seal.hpp"

namespace firmo::api {

using http::HttpRequest;
using http::HttpResponse;

namespace {

// Method labels: a closed set, whatever a client sends.
constexpr std::array<std::string_view, 8> kMethods = {"GET",    "HEAD",  "POST",    "PUT",
                                                      "DELETE", "PATCH", "OPTIONS", "OTHER"};

std::uint32_t MethodIndex(std::string_view method) {
    for (std::uint32_t i = 0; i + 1 < kMethods.size(); ++i) {
        if (kMethods[i] == method) return i;
    }
    return kMethods.size() - 1;
}

constexpr std::string_view kUnmatched = "unmatched";
// The body limit of the public PKI endpoints (api/pki_api.hpp).
constexpr std::size_t kMaxPkiBodyBytes = std::size_t{64} * 1024;

}  // namespace

// One route's children of the request metrics, found without a lock on the hot path.
struct Frontend::RouteMetrics {
    std::string pattern;
    metrics::ChildCache<metrics::Counter, 8> counts;       // by method and status
    metrics::ChildCache<metrics::Histogram, 4> durations;  // by method
};

Frontend::Frontend(domain::IssuerService& issuers, domain::IdempotencyService& idempotency,
                   domain::RateLimitService& rate_limits, domain::Database& db, http::Lanes& lanes,
                   metrics::Registry& metrics, FrontendOptions options)
    : issuers_(issuers),
      idempotency_(idempotency),
      rate_limits_(rate_limits),
      db_(db),
      lanes_(lanes),
      metrics_(metrics),
      options_(std::move(options)),
      requests_total_(
          metrics.AddCounterFamily("firmo_http_requests_total",
                                   "HTTP requests answered, by route pattern, method and status.",
                                   {"route", "method", "status"})),
      request_seconds_(metrics.AddHistogramFamily(
          "firmo_http_request_duration_seconds",
          "Time from routing a request to its answer (queueing on its lane included), by "
          "route pattern and method.",
          {"route", "method"})),
      in_flight_(metrics.AddGauge("firmo_http_requests_in_flight",
                                  "HTTP requests routed and not yet answered.")),
      tried_inline_(metrics.AddCounterFamily(
          "firmo_http_tried_inline_total",
          "Requests of routes tried on the I/O thread first, by outcome: answered there from "
          "memory (served), or handed on to their lane because something would wait.",
          {"outcome"})),
      served_inline_(tried_inline_.With({"served"})),
      handed_on_(tried_inline_.With({"handed_on"})),
      unmatched_metrics_(std::make_unique<RouteMetrics>()) {
    unmatched_metrics_->pattern = kUnmatched;
    AddPublic(
        "GET", "/healthz",
        // A fixed body: the liveness probe builds no JSON.
        [](HttpRequest&) {
            return HttpResponse::Text(200, R"({"status":"ok"})", "application/json");
        },
        http::Lane::kInline);
    AddPublic("GET", "/readyz", [this](HttpRequest&) {
        if (auto ok = db_.Ping(); !ok) {
            log::Warn("not_ready", {{"error", ok.error().message}});
            return Problem(ErrorCode::kUnavailable, "the database is not reachable");
        }
        return JsonResponse(200, codec::Json{{"status", "ready"}});
    });
    AddPublic(
        "GET", "/api/v1/openapi.yaml",
        [](HttpRequest&) {
            return HttpResponse::Text(200, std::string(OpenApiYaml()), "application/yaml");
        },
        http::Lane::kInline);
    // Not inline: scrape callbacks may ask the database (jobs pending, outbox depth).
    AddPublic("GET", "/metrics", [this](HttpRequest& req) { return Metrics(req); });
}

Frontend::~Frontend() = default;

namespace {

// POSTs that check a PDF and store nothing: under an Idempotency-Key their answer is recorded,
// but they run outside the unit of work (seconds of PDF work must not hold a write
// transaction, which on SQLite is every writer's lock).
bool StoresNothing(std::string_view pattern) {
    return pattern == "/api/v1/validate-document" || pattern == "/api/v1/verify" ||
           pattern == "/api/v1/sign/validate-document";
}

// Reads whose answer usually comes from memory, tried on the I/O thread before their lane
// (Frontend::TryWithoutWaiting): a request polled by its issuer, answered from a copy the change
// signal vouches for (store/sql/request_cache.hpp) with a cached API key and a rate-limit
// reservation. Each route listed here was read for what it does before something would wait:
// nothing but the rate limit's token (given back), no log line, no write.
bool TriesInlineFirst(std::string_view method, std::string_view pattern) {
    return method == "GET" && pattern == "/api/v1/signature-requests/{id}";
}

// The API key of a call: X-Api-Key, or under the io-sign root (api/iosign_api.hpp) io-sign's
// Ocp-Apim-Subscription-Key, which its generated clients send.
std::string_view ApiKeyOf(const HttpRequest& request) {
    if (const auto key = request.Header("X-Api-Key")) return *key;
    if (request.path.starts_with("/api/v1/sign/")) {
        if (const auto key = request.Header("Ocp-Apim-Subscription-Key")) return *key;
    }
    return {};
}

}  // namespace

void Frontend::AddAuthed(std::string method, std::string pattern, IssuerApi::AuthedHandler handler,
                         http::Lane lane) {
    const auto effect =
        StoresNothing(pattern) ? domain::CallEffect::kStoresNothing : domain::CallEffect::kChanges;
    AddPublic(
        std::move(method), std::move(pattern),
        [this, effect, handler = std::move(handler)](HttpRequest& req) {
            return Authenticated(req, handler, effect);
        },
        lane);
    gates_.back().api_key = true;
}

void Frontend::AddPublic(std::string method, std::string pattern, http::Handler handler,
                         http::Lane lane, HeaderCheck check, bool check_blocks) {
    auto route_metrics = std::make_unique<RouteMetrics>();
    route_metrics->pattern = pattern;
    route_metrics_.push_back(std::move(route_metrics));
    gates_.push_back(
        Gate{.api_key = false,
             .check = std::move(check),
             .check_blocks = check_blocks,
             .inline_first = lane != http::Lane::kInline && TriesInlineFirst(method, pattern)});
    router_.Add(std::move(method), std::move(pattern), std::move(handler), lane);
}

HttpResponse Frontend::Metrics(const HttpRequest& request) const {
    if (!options_.metrics_allow.Contains(request.remote_ip)) {
        return Problem(ErrorCode::kForbidden,
                       "metrics are served only to the addresses in metrics.allow");
    }
    return HttpResponse::Text(200, metrics_.Render(), "text/plain; version=0.0.4; charset=utf-8");
}

namespace {
HttpResponse TooMany(const std::string& detail, std::chrono::milliseconds retry) {
    auto r = Problem(ErrorCode::kRateLimited, detail);
    const auto seconds = std::chrono::ceil<std::chrono::seconds>(retry).count();
    r.Set("Retry-After", std::to_string(std::max<std::int64_t>(1, seconds)));
    return r;
}

// Answers that hand out a one-time redirect URL (a bearer credential, stored elsewhere only
// hashed) are recorded sealed (AES-256-GCM) under a key derived from the API key of the call,
// which Firmo stores only hashed: the database alone does not reveal the URL, and a retry with
// the same API key replays the answer byte for byte.
constexpr std::string_view kSealedPrefix = "sealed:v1:";
constexpr std::string_view kUnkept = "unkept:v1:";  // could not be sealed: not kept at all

bool HoldsBearerSecret(const HttpResponse& response) {
    return response.body.find("\"redirect_url\"") != std::string::npos;
}

std::string SealKey(std::string_view api_key, const std::string& context) {
    return crypto::HmacSha256(api_key, "firmo idempotency answer\n" + context);
}

domain::StoredResponse Recorded(const HttpResponse& response, std::string_view api_key,
                                const std::string& context) {
    domain::StoredResponse stored{response.status, response.body, ""};
    for (const auto& [name, value] : response.headers) {
        if (name == "Location") stored.location = value;
    }
    if (HoldsBearerSecret(response)) {
        auto sealed = crypto::Seal(SealKey(api_key, context), response.body, context);
        // Never store the secret in clear: without a seal, record only that it is not kept.
        stored.body =
            sealed ? std::string(kSealedPrefix) + Base64UrlEncode(*sealed) : std::string(kUnkept);
    }
    return stored;
}

HttpResponse Replayed(const domain::StoredResponse& stored, std::string_view api_key,
                      const std::string& context) {
    std::string body = stored.body;
    if (body.starts_with(kUnkept)) {
        return Problem(ErrorCode::kConflict,
                       "the first answer under this Idempotency-Key was not kept; use a new key");
    }
    if (body.starts_with(kSealedPrefix)) {
        auto sealed = Base64UrlDecode(std::string_view(body).substr(kSealedPrefix.size()));
        auto opened = sealed ? crypto::Open(SealKey(api_key, context), *sealed, context)
                             : Result<std::string>(Fail(ErrorCode::kInternal, "bad record"));
        if (!opened) {
            return Problem(ErrorCode::kConflict,
                           "the first answer under this Idempotency-Key holds a one-time "
                           "redirect URL and is replayed only to the API key that made the call");
        }
        body = std::move(*opened);
    }
    auto r = JsonResponse(stored.status, codec::Json::parse(body, nullptr, false));
    r.body = std::move(body);
    if (stored.status >= 400) r.headers[0].second = "application/problem+json";
    if (!stored.location.empty()) r.Set("Location", stored.location);
    r.Set("Idempotent-Replayed", "true");
    return r;
}
}  // namespace

tl::expected<domain::Principal, HttpResponse> Frontend::CheckApiKey(const HttpRequest& req) {
    auto principal = issuers_.Authenticate(ApiKeyOf(req));
    if (principal) {
        // The key's IP allow-list, against the client address the server trusts (after
        // server.trusted_proxies). A stored list was checked when the key was made.
        if (!principal->allowed_ips.empty()) {
            const auto allowed = http::AddressList::Parse(principal->allowed_ips);
            if (!allowed || !allowed->Contains(req.remote_ip)) {
                return tl::unexpected(
                    Problem(ErrorCode::kAddressNotAllowed,
                            "this API key may not be used from " + req.remote_ip));
            }
        }
        return std::move(*principal);
    }
    // Failed attempts spend the caller's address budget: key guessing is slowed down. Not
    // when the key could not be checked (database down): that is not the caller's doing.
    if (principal.error().code == ErrorCode::kUnauthenticated) {
        if (auto d = rate_limits_.Allow("ip:" + req.remote_ip); !d.allowed) {
            return tl::unexpected(
                TooMany("too many failed authentication attempts; slow down", d.retry_after));
        }
    }
    return tl::unexpected(Problem(principal.error()));
}

HttpResponse Frontend::Authenticated(HttpRequest& req, const IssuerApi::AuthedHandler& handler,
                                     domain::CallEffect effect) {
    const std::string_view key = ApiKeyOf(req);
    auto principal = CheckApiKey(req);
    if (!principal) return std::move(principal.error());
    const std::string bucket = "key:" + principal->key_id;
    if (auto d = rate_limits_.Allow(bucket); !d.allowed) {
        return TooMany("too many calls with this API key; slow down", d.retry_after);
    }
    // Tried on the I/O thread and the count would wait: the call runs again on its lane.
    if (no_wait::Refused()) return {};
    issuers_.NoteKeyUse(*principal, req.remote_ip);
    const auto idempotency_key = req.Header("Idempotency-Key");
    if (req.method != "POST" || !idempotency_key) {
        auto response = handler(req, *principal);
        // It runs again on its lane, where the call is counted again: once is enough.
        if (no_wait::Refused()) rate_limits_.GiveBack(bucket);
        return response;
    }

    // The claim of the key, the handler's change and the recorded answer commit together
    // (domain/services/idempotency_service.hpp).
    const std::string key_text(*idempotency_key);
    const std::string context = principal->issuer_id + "\n" + key_text;
    HttpResponse response;
    auto replay = idempotency_.Run(
        principal->issuer_id, key_text, req.method + " " + req.path + "\n" + req.body,
        [&] {
            response = handler(req, *principal);
            return Recorded(response, key, context);
        },
        effect);
    if (!replay) return Problem(replay.error());
    if (*replay) return Replayed(**replay, key, context);
    return response;
}

std::size_t Frontend::BodyLimit(std::string_view method, std::string_view target) const {
    if (method == "PUT" &&
        (target.starts_with("/api/v1/uploads/") || target.starts_with("/api/v1/sign/uploads/"))) {
        return options_.max_document_bytes;
    }
    const std::string_view path = target.substr(0, target.find('?'));
    if (method == "POST" && (path == "/api/v1/validate-document" || path == "/api/v1/verify" ||
                             path == "/api/v1/sign/validate-document")) {
        return options_.max_document_bytes + 1024 * 1024;  // the PDF plus multipart and fields
    }
    if (method == "POST" && path == "/app/send") {
        return options_.max_document_bytes * kPortalSendDocuments + 1024 * 1024;
    }
    // OCSP requests and time-stamp queries are a few hundred bytes; anyone may send them.
    if (path.starts_with("/pki/")) return kMaxPkiBodyBytes;
    return options_.max_json_bytes;
}

namespace {

// Whether the request announces a body (a length other than 0, or chunked).
bool HasBody(const HttpRequest& request) {
    if (request.Header("Transfer-Encoding")) return true;
    const auto length = request.Header("Content-Length");
    return length && *length != "0";
}

HttpResponse Unrouted(const HttpRequest& request, const http::Router::Result& found) {
    if (found.match == http::Router::Match::kNoMethod) {
        auto response = Problem(ErrorCode::kMethodNotAllowed,
                                request.method + " is not allowed here; use " + found.allow);
        response.Set("Allow", found.allow);
        return response;
    }
    return Problem(ErrorCode::kNotFound, "no such endpoint: " + request.path);
}

}  // namespace

http::Admission Frontend::Admit(HttpRequest& request) {
    http::Admission admission{.body_limit = BodyLimit(request.method, request.target)};
    // Nothing will be buffered: the request is checked as usual when it is handled.
    if (!HasBody(request)) {
        admission.authenticated = true;
        return admission;
    }
    const auto start = Clock::now();
    const auto found = Route(request);
    std::optional<HttpResponse> refusal;
    if (found.match != http::Router::Match::kFound) {
        refusal = Unrouted(request, found);
    } else {
        const Gate& gate = GateOf(found);
        if (gate.api_key) {
            if (lanes_.RunsInline(http::Lane::kDatabase)) {
                // Database work runs on this thread anyway (SQLite): the full check, now.
                auto principal = CheckApiKey(request);
                if (principal) {
                    admission.authenticated = true;
                } else {
                    refusal = std::move(principal.error());
                }
            } else if (!domain::IssuerService::WellFormedKey(ApiKeyOf(request))) {
                refusal = Problem(ErrorCode::kUnauthenticated, "missing or malformed API key");
            }
        } else if (gate.check && gate.check_blocks && !lanes_.RunsInline(http::Lane::kDatabase)) {
            // The check waits for the database: on its lane, the session waiting meanwhile.
            admission.defer = [this, &request, found, &check = gate.check, admission,
                               start](std::function<void(http::Admission)> decided) {
                auto work = [this, &request, found, &check, admission, start, decided]() {
                    decided(Checked(request, found, check, admission, start));
                };
                if (lanes_.TryPost(http::Lane::kDatabase, work)) return;
                auto busy =
                    Problem(ErrorCode::kUnavailable, "the server is busy; retry in a moment");
                busy.Set("Retry-After", std::to_string(options_.busy_retry_after.count()));
                in_flight_.Add(1);  // Finish counts it out
                Finish(request, found, busy, start);
                http::Admission refused = admission;
                refused.refusal = std::move(busy);
                decided(std::move(refused));
            };
            return admission;
        } else if (gate.check) {
            return Checked(request, found, gate.check, std::move(admission), start);
        }
    }
    if (refusal) {
        in_flight_.Add(1);  // Finish counts it out
        Finish(request, found, *refusal, start);
        admission.refusal = std::move(refusal);
    }
    return admission;
}

http::Admission Frontend::Checked(HttpRequest& request, const http::Router::Result& found,
                                  const HeaderCheck& check, http::Admission admission,
                                  Clock::time_point start) {
    auto ok = check(request);
    if (ok) {
        admission.authenticated = true;
        return admission;
    }
    auto refusal = Problem(ok.error());
    in_flight_.Add(1);  // Finish counts it out
    Finish(request, found, refusal, start);
    admission.refusal = std::move(refusal);
    return admission;
}

http::Router::Result Frontend::Route(HttpRequest& request) const {
    if (!options_.trusted_proxies.empty()) {
        request.remote_ip = options_.trusted_proxies.ClientAddress(
            request.remote_ip, request.Header("X-Forwarded-For").value_or(""));
    }
    auto found = router_.Find(request);
    if (found.match == http::Router::Match::kFound) request.route = found.route->pattern;
    return found;
}

void Frontend::Handle(HttpRequest& request, http::Responder respond) {
    const auto start = Clock::now();
    in_flight_.Add(1);
    auto found = Route(request);
    const http::Lane lane =
        found.match == http::Router::Match::kFound ? found.route->lane : http::Lane::kInline;
    if (lanes_.RunsInline(lane)) {
        respond(Run(request, found, start));
        return;
    }
    if (found.match == http::Router::Match::kFound && GateOf(found).inline_first &&
        !request.body_file) {
        if (auto response = TryWithoutWaiting(request, found, start)) {
            respond(std::move(*response));
            return;
        }
    }
    struct Work {
        Frontend* self;
        HttpRequest* request;
        http::Router::Result found;
        Clock::time_point start;
        http::Responder respond;
        void operator()() { respond(self->Run(*request, found, start)); }
    };
    Work work{this, &request, std::move(found), start, std::move(respond)};
    if (lanes_.TryPost(lane, std::move(work))) return;
    // The lane's queue is full (TryPost left `work` as it was): refuse now, cheaply, rather
    // than queue without end.
    auto busy = Problem(ErrorCode::kUnavailable,
                        "the server is busy with document work; retry in a moment");
    busy.Set("Retry-After", std::to_string(options_.busy_retry_after.count()));
    Finish(request, work.found, busy, start);
    work.respond(std::move(busy));
}

std::optional<HttpResponse> Frontend::TryWithoutWaiting(HttpRequest& request,
                                                        const http::Router::Result& found,
                                                        Clock::time_point start) {
    const log::RequestScope scope(request.request_id);
    HttpResponse response;
    {
        const no_wait::Scope no_wait;
        try {
            response = (*found.handler)(request);
        } catch (...) {
            return std::nullopt;  // on the lane again, which answers and logs it
        }
        if (no_wait.refused()) {
            handed_on_.Inc();
            return std::nullopt;
        }
    }
    served_inline_.Inc();
    Finish(request, found, response, start);
    return response;
}

HttpResponse Frontend::Handle(HttpRequest& request) {
    const auto start = Clock::now();
    in_flight_.Add(1);
    const auto found = Route(request);
    return Run(request, found, start);
}

HttpResponse Frontend::Run(HttpRequest& request, const http::Router::Result& found,
                           Clock::time_point start) {
    const log::RequestScope scope(request.request_id);
    HttpResponse response;
    try {
        switch (found.match) {
            case http::Router::Match::kFound:
                // A large body waited in a file (http::ServerOptions::spill_dir) until now, on
                // the route's lane: memory is spent only while the route runs.
                if (auto loaded = http::LoadSpilledBody(request); !loaded) {
                    response = Problem(loaded.error());
                } else {
                    response = (*found.handler)(request);
                }
                break;
            case http::Router::Match::kNoMethod:
            case http::Router::Match::kNoPath:
                response = Unrouted(request, found);
                break;
        }
    } catch (const std::exception& e) {
        // A bug: answer 500 without details, log the cause.
        log::Error("handler_exception", {{"path", request.path}, {"what", e.what()}});
        response = Problem(ErrorCode::kInternal, "");
    } catch (...) {
        log::Error("handler_exception", {{"path", request.path}});
        response = Problem(ErrorCode::kInternal, "");
    }
    Finish(request, found, response, start);
    return response;
}

void Frontend::Finish(const HttpRequest& request, const http::Router::Result& found,
                      HttpResponse& response, Clock::time_point start) {
    if (options_.page_problem) options_.page_problem(request, response);
    response.Set("X-Content-Type-Options", "nosniff");
    response.Set("Cache-Control", "no-store");
    const auto elapsed = Clock::now() - start;
    in_flight_.Add(-1);

    // Request metrics: the route's cached children, created on first use of a method/status.
    RouteMetrics& rm =
        found.match == http::Router::Match::kFound
            ? *route_metrics_[static_cast<std::size_t>(found.route - router_.routes().data())]
            : *unmatched_metrics_;
    const std::uint32_t method = MethodIndex(request.method);
    const int status = std::clamp(response.status, 100, 999);
    const std::uint32_t key = method * 1000 + static_cast<std::uint32_t>(status);
    metrics::Counter* count = rm.counts.Find(key);
    if (!count) {
        count = &requests_total_.With({rm.pattern, kMethods[method], std::to_string(status)});
        rm.counts.Remember(key, count);
    }
    count->Inc();
    metrics::Histogram* seconds = rm.durations.Find(method);
    if (!seconds) {
        seconds = &request_seconds_.With({rm.pattern, kMethods[method]});
        rm.durations.Remember(method, seconds);
    }
    seconds->Observe(std::chrono::duration<double>(elapsed).count());

    if (options_.access_log && log::Enabled(log::Level::kInfo)) {
        // Upload tokens are credentials: never log them.
        static constexpr std::pair<std::string_view, std::string_view> kMasked[] = {
            {"/api/v1/uploads/", "/api/v1/uploads/<token>"},
            {"/api/v1/downloads/", "/api/v1/downloads/<token>"},
            {"/api/v1/sign/uploads/", "/api/v1/sign/uploads/<token>"},
            {"/api/v1/sign/documents/", "/api/v1/sign/documents/<token>"},
            {"/api/v1/qr/", "/api/v1/qr/<token>"},
            {"/l/", "/l/<token>"},
            {"/d/", "/d/<token>"},
            {"/app/setup/", "/app/setup/<token>"}};
        std::string_view path = request.path;
        for (const auto& [prefix, masked] : kMasked) {
            if (path.starts_with(prefix)) {
                path = masked;
                break;
            }
        }
        const log::RequestScope scope(request.request_id);
        const http::Lane lane =
            found.match == http::Router::Match::kFound ? found.route->lane : http::Lane::kInline;
        log::Access(
            {{"method", request.method},
             {"path", path},
             {"lane", http::ToString(lane)},
             {"status", response.status},
             {"us", static_cast<std::int64_t>(
                        std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count())},
             {"ip", request.remote_ip}});
    }
}

}  // namespace firmo::api
