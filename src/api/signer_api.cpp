#include "api/signer_api.hpp"

#include "api/contract.hpp"
#include "api/json_response.hpp"
#include "api/problem.hpp"
#include "core/log.hpp"

namespace firmo::api {

using codec::Json;
using http::HttpRequest;
using http::HttpResponse;
using namespace firmo::domain;

namespace {

std::string_view ToString(SecondFactor f) {
    return f == SecondFactor::kCode ? "code" : "reauthentication";
}

constexpr std::array<std::string_view, 3> kLimitNames = {"ip", "request", "sessions"};

}  // namespace

SignerLimits::SignerLimits(domain::Database& db, const Clock& clock, metrics::Registry& metrics,
                           SignerLimitOptions options)
    : clock_(clock),
      per_ip_(db, clock, options.per_ip),
      per_request_(db, clock, options.per_request),
      sessions_(db, clock, options.sessions_per_ip),
      refused_(metrics.AddCounterFamily(
          "firmo_signer_limited_total",
          "Signer-side calls refused with 429, by limit: ip (calls per client address), "
          "request (calls per signature request or link), sessions (logins per client address).",
          {"limit"})),
      log_interval_(options.log_interval) {
    for (auto name : kLimitNames) refused_.With({name});  // shown at 0 from the start
}

std::optional<SignerRefusal> SignerLimits::Refuse(SignerLimit limit,
                                                  std::chrono::milliseconds retry,
                                                  std::string message) {
    const auto index = static_cast<std::size_t>(limit);
    refused_.With({kLimitNames[index]}).Inc();
    std::array<std::int64_t, 3> counts{};
    {
        const Timestamp now = clock_.Now();
        std::lock_guard lock(mu_);
        ++unlogged_[index];
        if (now < next_log_) return SignerRefusal{limit, retry, std::move(message)};
        next_log_ = now + log_interval_;
        counts = std::exchange(unlogged_, {});
    }
    log::Warn("signer_limited", {{"ip", counts[0]},
                                 {"request", counts[1]},
                                 {"sessions", counts[2]},
                                 {"interval_s", static_cast<std::int64_t>(log_interval_.count())}});
    return SignerRefusal{limit, retry, std::move(message)};
}

std::optional<SignerRefusal> SignerLimits::AllowCall(const http::HttpRequest& request) {
    if (auto d = per_ip_.Allow("signer-ip:" + request.remote_ip); !d.allowed) {
        return Refuse(SignerLimit::kIp, d.retry_after,
                      "too many calls from this address; slow down");
    }
    std::string_view target = request.Param("id");
    if (target.empty()) target = request.Param("token");
    if (target.empty()) return std::nullopt;
    // A bounded bucket name whatever the client sends.
    if (auto d = per_request_.Allow("signer-req:" + std::string(target.substr(0, 128)));
        !d.allowed) {
        return Refuse(SignerLimit::kRequest, d.retry_after,
                      "too many calls for this signature request; slow down");
    }
    return std::nullopt;
}

std::optional<SignerRefusal> SignerLimits::AllowNewSession(const std::string& ip) {
    if (auto d = sessions_.Allow("signer-session:" + ip); !d.allowed) {
        return Refuse(SignerLimit::kSessions, d.retry_after,
                      "too many logins from this address; wait a little and try again");
    }
    return std::nullopt;
}

HttpResponse TooManySignerCalls(const SignerRefusal& refusal) {
    auto r = Problem(ErrorCode::kRateLimited, refusal.message);
    const auto seconds = std::chrono::ceil<std::chrono::seconds>(refusal.retry_after).count();
    r.Set("Retry-After", std::to_string(std::max<std::int64_t>(1, seconds)));
    return r;
}

void SignerApi::Register(const std::function<void(std::string, std::string, http::Handler)>& add) {
    const auto route = [this, &add](std::string method, std::string pattern,
                                    Res (SignerApi::*fn)(Req&)) {
        http::Handler handler = [this, fn](Req& req) {
            if (limits_) {
                if (auto refused = limits_->AllowCall(req)) return TooManySignerCalls(*refused);
            }
            Res res = (this->*fn)(req);
            // The signer API authenticates with a session token, not an API key.
            for (auto& [name, value] : res.headers) {
                if (name == "WWW-Authenticate") value = "Bearer realm=\"firmo-signer\"";
            }
            return res;
        };
        Route(add, std::move(method), std::move(pattern), std::move(handler));
    };
    route("POST", "/api/v1/signer/codes", &SignerApi::SendCode);
    route("POST", "/api/v1/signer/sessions", &SignerApi::CreateSession);
    route("DELETE", "/api/v1/signer/session", &SignerApi::EndSession);
    route("GET", "/api/v1/signer/inbox", &SignerApi::Inbox);
    route("GET", "/api/v1/signer/signature-requests/{id}", &SignerApi::GetRequest);
    route("GET", "/api/v1/signer/signature-requests/{id}/documents/{doc_id}/content",
          &SignerApi::DocumentContent);
    route("POST", "/api/v1/signer/signature-requests/{id}/acceptance", &SignerApi::Accept);
    route("POST", "/api/v1/signer/signature-requests/{id}/confirmation", &SignerApi::Confirm);
    route("POST", "/api/v1/signer/signature-requests/{id}/rejection", &SignerApi::Reject);
    route("GET", "/api/v1/signer/requests/{id}/documents/{doc_id}/content",
          &SignerApi::SignedContent);
}

ClientInfo SignerApi::Client(const Req& req) const {
    const auto ua = req.Header("User-Agent");
    return ClientInfo{req.remote_ip, ua ? std::string(*ua) : std::string()};
}

Result<PortalSession> SignerApi::Session(const Req& req) const {
    const auto header = req.Header("Authorization");
    constexpr std::string_view kBearer = "Bearer ";
    if (!header || !header->starts_with(kBearer)) {
        return Fail(ErrorCode::kUnauthenticated,
                    "send the session token as 'Authorization: Bearer <session_token>'");
    }
    FIRMO_TRY(auto session, sessions_.Find(header->substr(kBearer.size())));
    if (!session.authenticated()) return Fail(ErrorCode::kUnauthenticated, "not logged in");
    return session;
}

HttpResponse SignerApi::SendCode(Req& req) {
    auto body = ParseBody(req, SendCodeBodySpec());
    if (!body) return Problem(body.error());
    auto grant = VerifySignerLink(urls_, body->link_token);
    if (!grant) return Problem(grant.error());
    auto sent =
        sessions_.SendCode(grant->request_id, grant->document_id, CodeKind::kLogin, Client(req));
    if (!sent) return Problem(sent.error());
    return JsonResponse(202,
                        Json{{"channel", sent->channel == CodeChannel::kEmail ? "email" : "sms"},
                             {"destination", sent->masked_destination},
                             {"expires_at", FormatRfc3339(sent->expires_at)}});
}

HttpResponse SignerApi::CreateSession(Req& req) {
    auto body = ParseBody(req, SessionBodySpec());
    if (!body) return Problem(body.error());
    if (limits_) {
        if (auto refused = limits_->AllowNewSession(req.remote_ip)) {
            return TooManySignerCalls(*refused);
        }
    }
    Result<SessionHandle> handle = Fail(ErrorCode::kInternal, "");
    if (body->redirect_token) {
        handle = sessions_.LoginWithRedirect("", *body->redirect_token, Client(req));
    } else {
        auto grant = VerifySignerLink(urls_, *body->link_token);
        if (!grant) return Problem(grant.error());
        handle = sessions_.LoginWithCode("", grant->request_id, grant->document_id, *body->code,
                                         Client(req));
    }
    if (!handle) return Problem(handle.error());
    return JsonResponse(201, Json{{"session_token", handle->token},
                                  {"expires_at", FormatRfc3339(handle->session.expires_at)},
                                  {"request_id", handle->session.request_id}});
}

HttpResponse SignerApi::EndSession(Req& req) {
    auto session = Session(req);
    if (!session) return Problem(session.error());
    const auto header = req.Header("Authorization");
    if (auto ok = sessions_.End(header->substr(7)); !ok) return Problem(ok.error());
    HttpResponse r;
    r.status = 204;
    return r;
}

HttpResponse SignerApi::Inbox(Req& req) {
    auto session = Session(req);
    if (!session) return Problem(session.error());
    auto page = ceremony_.Inbox(*session, PageQuery{100, std::nullopt});
    if (!page) return Problem(page.error());
    Json items = Json::array();
    for (const auto& m : page->items) {
        items.push_back({{"id", m.id},
                         {"kind", std::string(domain::ToString(m.kind))},
                         {"request_id", m.request_id},
                         {"title", m.title},
                         {"created_at", FormatRfc3339(m.created_at)}});
    }
    return JsonResponse(200, Json{{"items", std::move(items)}});
}

HttpResponse SignerApi::GetRequest(Req& req) {
    auto session = Session(req);
    if (!session) return Problem(session.error());
    const std::string id(req.Param("id"));
    auto view = ceremony_.Open(*session, id, Client(req));
    if (!view) return Problem(view.error());
    const SignatureRequest& r = view->access.request;
    Json documents = Json::array();
    for (const auto& cd : view->documents) {
        Json fields = Json::array();
        for (const auto& f : cd.fields) {
            fields.push_back({{"index", f.ref.field},
                              {"clause",
                               {{"title", f.field->clause.title},
                                {"type", std::string(domain::ToString(f.field->clause.type))}}},
                              {"mine", f.mine},
                              {"accepted", f.accepted}});
        }
        documents.push_back({{"id", cd.document->id},
                             {"index", cd.document->index},
                             {"title", cd.document->metadata.title},
                             {"page_count", cd.document->page_count},
                             {"content_url", "/api/v1/signer/signature-requests/" + r.id +
                                                 "/documents/" + cd.document->id + "/content"},
                             {"fields", std::move(fields)}});
    }
    Json out{{"id", r.id},
             {"status", std::string(domain::ToString(r.status))},
             {"issuer", view->issuer_name},
             {"title", view->title},
             {"expires_at", FormatRfc3339(r.expires_at)},
             {"my_turn", view->my_turn},
             {"can_sign", view->can_sign},
             {"signer_status", std::string(domain::ToString(view->access.request_signer().status))},
             {"second_factor", std::string(ToString(view->second_factor))},
             {"authentication",
              std::string(domain::ToString(view->access.request_signer().authentication))},
             {"eid_required", view->eid_required},
             {"documents", std::move(documents)}};
    if (qtsp_terms_) {
        // What the signer accepts with "accept_qtsp_terms": the app shows it before confirming.
        Json terms = Json::object();
        if (!qtsp_terms_text_.empty()) terms["text"] = qtsp_terms_text_;
        if (!qtsp_terms_url_.empty()) terms["url"] = qtsp_terms_url_;
        out["qtsp_terms"] = std::move(terms);
    }
    return JsonResponse(200, out);
}

HttpResponse SignerApi::DocumentContent(Req& req) {
    auto session = Session(req);
    if (!session) return Problem(session.error());
    auto content = ceremony_.DocumentBytes(*session, std::string(req.Param("id")),
                                           std::string(req.Param("doc_id")));
    if (!content) return Problem(content.error());
    return HttpResponse::Text(200, std::move(content->bytes), "application/pdf");
}

HttpResponse SignerApi::SignedContent(Req& req) {
    auto session = Session(req);
    if (!session) return Problem(session.error());
    const std::string id(req.Param("id"));
    auto view = ceremony_.Look(*session, id);
    if (!view) return Problem(view.error());
    const SignatureRequest& r = view->access.request;
    if (r.status != RequestStatus::kSigned) {
        return Problem(ErrorCode::kConflict,
                       "the signed PDF is ready once every signer has signed (the request is " +
                           std::string(ToString(r.status)) + ")");
    }
    auto content = ceremony_.DocumentBytes(*session, id, std::string(req.Param("doc_id")));
    if (!content) return Problem(content.error());
    HttpResponse res = HttpResponse::Text(200, std::move(content->bytes), "application/pdf");
    res.Set("Cache-Control", "private, no-store");
    return res;
}

HttpResponse SignerApi::Accept(Req& req) {
    auto session = Session(req);
    if (!session) return Problem(session.error());
    auto body = ParseBody(req, AcceptanceBodySpec());
    if (!body) return Problem(body.error());
    std::vector<FieldRef> accepted;
    for (const auto& a : body->accepted) accepted.push_back({a.document_index, a.field_index});
    auto outcome = ceremony_.Accept(*session, std::string(req.Param("id")), accepted, Client(req));
    if (!outcome) return Problem(outcome.error());
    Json j = {{"second_factor", std::string(ToString(outcome->second_factor))}};
    if (outcome->code) j["code_sent_to"] = outcome->code->masked_destination;
    return JsonResponse(200, j);
}

HttpResponse SignerApi::Confirm(Req& req) {
    auto session = Session(req);
    if (!session) return Problem(session.error());
    auto body = ParseBody(req, ConfirmationBodySpec());
    if (!body) return Problem(body.error());
    const std::string id(req.Param("id"));
    if (qtsp_terms_ && !body->accept_qtsp_terms) {
        return Problem(FailValidation({{"accept_qtsp_terms",
                                        "must be true: the signer accepts the trust service "
                                        "provider's terms before they authorize there"}})
                           .value());
    }
    auto ok = ceremony_.Confirm(*session, id, body->code, Client(req));
    if (!ok) return Problem(ok.error());
    Json j{{"status", "WAIT_FOR_QTSP"}};
    if (ok->qtsp_authorization_url) {
        if (qtsp_terms_) {
            if (auto noted = ceremony_.AcceptQtspTerms(*session, id, Client(req)); !noted) {
                return Problem(noted.error());
            }
        }
        j["qtsp_authorization_url"] = *ok->qtsp_authorization_url;
    }
    return JsonResponse(202, j);
}

HttpResponse SignerApi::Reject(Req& req) {
    auto session = Session(req);
    if (!session) return Problem(session.error());
    auto body = ParseBody(req, RejectionBodySpec());
    if (!body) return Problem(body.error());
    if (auto ok =
            ceremony_.Reject(*session, std::string(req.Param("id")), body->reason, Client(req));
        !ok) {
        return Problem(ok.error());
    }
    HttpResponse res;
    res.status = 204;
    return res;
}

}  // namespace firmo::api
