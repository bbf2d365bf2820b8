#include "api/frontend.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <exception>

#include "api/json_response.hpp"
#include "api/problem.hpp"
#include "core/log.hpp"

namespace firmo::api {

using http::HttpRequest;
using http::HttpResponse;

Frontend::Frontend(domain::IssuerService& issuers, domain::IdempotencyService& idempotency,
                   domain::RateLimitService& rate_limits, domain::Database& db,
                   FrontendOptions options)
    : issuers_(issuers),
      idempotency_(idempotency),
      rate_limits_(rate_limits),
      db_(db),
      options_(options) {
    AddPublic("GET", "/healthz", [](HttpRequest&) {
        return JsonResponse(200, codec::Json{{"status", "ok"}});
    });
    AddPublic("GET", "/readyz", [this](HttpRequest&) {
        if (auto ok = db_.Ping(); !ok) {
            log::Warn("not_ready", {{"error", ok.error().message}});
            return Problem(ErrorCode::kUnavailable, "the database is not reachable");
        }
        return JsonResponse(200, codec::Json{{"status", "ready"}});
    });
    AddPublic("GET", "/api/v1/openapi.yaml", [](HttpRequest&) {
        return HttpResponse::Text(200, std::string(OpenApiYaml()), "application/yaml");
    });
}

void Frontend::AddAuthed(std::string method, std::string pattern,
                         IssuerApi::AuthedHandler handler) {
    router_.Add(std::move(method), std::move(pattern),
                [this, handler = std::move(handler)](HttpRequest& req) {
                    return Authenticated(req, handler);
                });
}

void Frontend::AddPublic(std::string method, std::string pattern, http::Handler handler) {
    router_.Add(std::move(method), std::move(pattern), std::move(handler));
}

namespace {
HttpResponse TooMany(const std::string& detail, std::chrono::milliseconds retry) {
    auto r = Problem(ErrorCode::kRateLimited, detail);
    const auto seconds = std::chrono::ceil<std::chrono::seconds>(retry).count();
    r.Set("Retry-After", std::to_string(std::max<std::int64_t>(1, seconds)));
    return r;
}
}  // namespace

HttpResponse Frontend::Authenticated(HttpRequest& req, const IssuerApi::AuthedHandler& handler) {
    const auto key = req.Header("X-Api-Key");
    auto principal = issuers_.Authenticate(key ? *key : std::string_view());
    if (!principal) {
        // Failed attempts spend the caller's address budget: key guessing is slowed down. Not
        // when the key could not be checked (database down): that is not the caller's doing.
        if (principal.error().code == ErrorCode::kUnauthenticated) {
            if (auto d = rate_limits_.Allow("ip:" + req.remote_ip); !d.allowed) {
                return TooMany("too many failed authentication attempts; slow down", d.retry_after);
            }
        }
        return Problem(principal.error());
    }
    if (auto d = rate_limits_.Allow("key:" + principal->key_id); !d.allowed) {
        return TooMany("too many calls with this API key; slow down", d.retry_after);
    }
    const auto idempotency_key = req.Header("Idempotency-Key");
    if (req.method != "POST" || !idempotency_key) return handler(req, *principal);

    const std::string key_text(*idempotency_key);
    auto replay = idempotency_.Begin(principal->issuer_id, key_text,
                                     req.method + " " + req.path + "\n" + req.body);
    if (!replay) return Problem(replay.error());
    if (*replay) {
        auto r =
            JsonResponse((*replay)->status, codec::Json::parse((*replay)->body, nullptr, false));
        r.body = (*replay)->body;
        if ((*replay)->status >= 400) r.headers[0].second = "application/problem+json";
        if (!(*replay)->location.empty()) r.Set("Location", (*replay)->location);
        r.Set("Idempotent-Replayed", "true");
        return r;
    }
    HttpResponse response;
    try {
        response = handler(req, *principal);
    } catch (...) {
        idempotency_.Finish(principal->issuer_id, key_text, {500, "", ""});
        throw;
    }
    std::string location;
    for (const auto& [name, value] : response.headers) {
        if (name == "Location") location = value;
    }
    idempotency_.Finish(principal->issuer_id, key_text, {response.status, response.body, location});
    return response;
}

std::size_t Frontend::BodyLimit(std::string_view method, std::string_view target) const {
    if (method == "PUT" && target.starts_with("/api/v1/uploads/")) {
        return options_.max_document_bytes;
    }
    const std::string_view path = target.substr(0, target.find('?'));
    if (method == "POST" && (path == "/api/v1/validate-document" || path == "/api/v1/verify")) {
        return options_.max_document_bytes + 1024 * 1024;  // the PDF plus multipart and fields
    }
    return options_.max_json_bytes;
}

HttpResponse Frontend::Dispatch(HttpRequest& request) {
    const auto found = router_.Find(request);
    switch (found.match) {
        case http::Router::Match::kFound:
            return (*found.handler)(request);
        case http::Router::Match::kNoMethod: {
            auto r = Problem(ErrorCode::kMethodNotAllowed,
                             request.method + " is not allowed here; use " + found.allow);
            r.Set("Allow", found.allow);
            return r;
        }
        case http::Router::Match::kNoPath:
            break;
    }
    return Problem(ErrorCode::kNotFound, "no such endpoint: " + request.path);
}

HttpResponse Frontend::Handle(HttpRequest& request) {
    const auto start = std::chrono::steady_clock::now();
    if (!options_.trusted_proxies.empty()) {
        request.remote_ip = options_.trusted_proxies.ClientAddress(
            request.remote_ip, request.Header("X-Forwarded-For").value_or(""));
    }
    HttpResponse response;
    try {
        response = Dispatch(request);
    } catch (const std::exception& e) {
        // A bug: answer 500 without details, log the cause.
        log::Error("handler_exception", {{"path", request.path}, {"what", e.what()}});
        response = Problem(ErrorCode::kInternal, "");
    } catch (...) {
        log::Error("handler_exception", {{"path", request.path}});
        response = Problem(ErrorCode::kInternal, "");
    }
    response.Set("X-Content-Type-Options", "nosniff");
    response.Set("Cache-Control", "no-store");
    if (options_.access_log && log::Enabled(log::Level::kInfo)) {
        const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                            std::chrono::steady_clock::now() - start)
                            .count();
        // Upload tokens are credentials: never log them.
        std::string path = request.path;
        for (const char* prefix :
             {"/api/v1/uploads/", "/api/v1/downloads/", "/api/v1/qr/", "/l/", "/d/"}) {
            if (path.starts_with(prefix)) path = std::string(prefix) + "<token>";
        }
        log::Info("http_request", {{"method", request.method},
                                   {"path", path},
                                   {"status", std::to_string(response.status)},
                                   {"us", std::to_string(us)},
                                   {"ip", request.remote_ip}});
    }
    return response;
}

}  // namespace firmo::api
