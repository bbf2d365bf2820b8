#pragma once
// The signer API (JSON), what a mobile app uses instead of the portal's pages: log in with the
// signer's link and a one-time code (or a direct-flow redirect token), read the request and its
// documents, accept the clauses, confirm with a fresh code, or reject. The session token travels
// as `Authorization: Bearer`, never in a cookie, so no CSRF token is needed. eID login stays
// in the browser (the app opens the portal). Thin handlers over the domain services.

#include <array>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>

#include "api/url_signer.hpp"
#include "core/metrics.hpp"
#include "domain/services/ceremony_service.hpp"
#include "domain/services/rate_limit_service.hpp"
#include "http/router.hpp"

namespace firmo::api {

// The signer side's limits (portal pages and the signer API, which need no API key): calls per
// client address, calls per signature request (or link), and sessions opened per client
// address. Each is a domain::RateLimitService, so every node counts against the same budget.
// A refusal is counted in /metrics (firmo_signer_limited_total{limit}) and logged once per
// interval with how many refusals it stands for, never once per refusal. A limit of 0 calls
// is off. Thread-safe; writes to the database (one small upsert per counted call).
struct SignerLimitOptions {
    domain::RateLimit per_ip{600, std::chrono::minutes(1)};
    domain::RateLimit per_request{300, std::chrono::minutes(1)};
    domain::RateLimit sessions_per_ip{30, std::chrono::minutes(1)};
    std::chrono::seconds log_interval{10};
};

enum class SignerLimit { kIp, kRequest, kSessions };

struct SignerRefusal {
    SignerLimit limit = SignerLimit::kIp;
    std::chrono::milliseconds retry_after{1000};
    std::string message;
};

class SignerLimits {
  public:
    SignerLimits(domain::Database& db, const Clock& clock, metrics::Registry& metrics,
                 SignerLimitOptions options);

    // A call to the signer side, routed (its `id` or `token` parameter names the request).
    std::optional<SignerRefusal> AllowCall(const http::HttpRequest& request);
    // A login about to open a session for the client at `ip`.
    std::optional<SignerRefusal> AllowNewSession(const std::string& ip);

  private:
    std::optional<SignerRefusal> Refuse(SignerLimit limit, std::chrono::milliseconds retry,
                                        std::string message);

    const Clock& clock_;
    domain::RateLimitService per_ip_;
    domain::RateLimitService per_request_;
    domain::RateLimitService sessions_;
    metrics::Family<metrics::Counter>& refused_;
    std::chrono::seconds log_interval_;
    std::mutex mu_;
    Timestamp next_log_{};
    std::array<std::int64_t, 3> unlogged_{};
};

// The 429 problem for a refusal, with Retry-After in whole seconds.
http::HttpResponse TooManySignerCalls(const SignerRefusal& refusal);

class SignerApi {
  public:
    SignerApi(domain::SignerSessionService& sessions, domain::CeremonyService& ceremony,
              const UrlSigner& urls, const Clock& clock, SignerLimits* limits = nullptr)
        : sessions_(sessions), ceremony_(ceremony), urls_(urls), clock_(clock), limits_(limits) {}

    void Register(const std::function<void(std::string, std::string, http::Handler)>& add);
    // signing.provider = "csc" with terms (csc.terms_text / csc.terms_url): the request's view
    // carries them ("qtsp_terms": {text, url}) for the app to show, and confirm requires
    // "accept_qtsp_terms": true, and records the acceptance.
    void RequireQtspTerms(std::string text, std::string url) {
        qtsp_terms_text_ = std::move(text);
        qtsp_terms_url_ = std::move(url);
        qtsp_terms_ = !qtsp_terms_text_.empty() || !qtsp_terms_url_.empty();
    }

  private:
    using Req = http::HttpRequest;
    using Res = http::HttpResponse;
    Res SendCode(Req& req);
    Res CreateSession(Req& req);
    Res EndSession(Req& req);
    Res Inbox(Req& req);
    Res GetRequest(Req& req);
    Res DocumentContent(Req& req);
    // The signer's copy (issue 16): the signed PDF once the request is SIGNED, kept for
    // retention.signer_copy_days (410 after); 409 before.
    Res SignedContent(Req& req);
    Res Accept(Req& req);
    Res Confirm(Req& req);
    Res Reject(Req& req);

    [[nodiscard]] Result<domain::PortalSession> Session(const Req& req) const;
    domain::ClientInfo Client(const Req& req) const;

    domain::SignerSessionService& sessions_;
    domain::CeremonyService& ceremony_;
    const UrlSigner& urls_;
    const Clock& clock_;
    SignerLimits* limits_;  // none in tests that do not count
    bool qtsp_terms_ = false;
    std::string qtsp_terms_text_;
    std::string qtsp_terms_url_;
};

}  // namespace firmo::api
