#include "api/frontend.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <exception>

#include "api/json_response.hpp"
#include "api/problem.hpp"
#include "core/encoding.hpp"
#include "core/log.hpp"
#include "crypto/digest.hpp"
#include "crypto/seal.hpp"

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

namespace {

// POSTs that check a PDF and store nothing: under an Idempotency-Key their answer is recorded,
// but they run outside the unit of work (seconds of PDF work must not hold a write
// transaction, which on SQLite is every writer's lock).
bool StoresNothing(std::string_view pattern) {
    return pattern == "/api/v1/validate-document" || pattern == "/api/v1/verify";
}

}  // namespace

void Frontend::AddAuthed(std::string method, std::string pattern,
                         IssuerApi::AuthedHandler handler) {
    const auto effect =
        StoresNothing(pattern) ? domain::CallEffect::kStoresNothing : domain::CallEffect::kChanges;
    router_.Add(std::move(method), std::move(pattern),
                [this, effect, handler = std::move(handler)](HttpRequest& req) {
                    return Authenticated(req, handler, effect);
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

HttpResponse Frontend::Authenticated(HttpRequest& req, const IssuerApi::AuthedHandler& handler,
                                     domain::CallEffect effect) {
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

    // The claim of the key, the handler's change and the recorded answer commit together
    // (domain/services/idempotency_service.hpp).
    const std::string key_text(*idempotency_key);
    const std::string context = principal->issuer_id + "\n" + key_text;
    HttpResponse response;
    auto replay = idempotency_.Run(
        principal->issuer_id, key_text, req.method + " " + req.path + "\n" + req.body,
        [&] {
            response = handler(req, *principal);
            return Recorded(response, *key, context);
        },
        effect);
    if (!replay) return Problem(replay.error());
    if (*replay) return Replayed(**replay, *key, context);
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
