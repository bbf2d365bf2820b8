#include "api/event_api.hpp"

#include "api/contract.hpp"
#include "api/json_response.hpp"
#include "api/problem.hpp"
#include "core/encoding.hpp"

namespace firmo::api {

using codec::Json;
using http::HttpResponse;
using namespace firmo::domain;

namespace {

Json WebhookView(const WebhookEndpoint& w) {
    Json events = Json::array();
    for (const auto& e : w.events) events.push_back(e);
    return {{"id", w.id},
            {"url", w.url},
            {"events", std::move(events)},
            {"created_at", FormatRfc3339(w.created_at)}};
}

Json DeliveryView(const OutboxMessage& m) {
    Json j = {{"id", m.id},
              {"event_id", m.event_id},
              {"type", m.template_name},
              {"channel", std::string(ToString(m.channel))},
              {"destination", m.destination},
              {"signature_request_id", m.request_id},
              {"attempts", m.attempts},
              {"created_at", FormatRfc3339(m.created_at)}};
    if (m.delivered_at) {
        j["status"] = "delivered";
        j["delivered_at"] = FormatRfc3339(*m.delivered_at);
    } else if (m.abandoned_at && m.last_error == domain::kNotSentTest) {
        // A test request's message, recorded and never sent: the integrator reads the signer's
        // link here instead of in a mailbox (only for test requests: a live message's link is
        // for its signer alone).
        j["status"] = "not_sent_test";
        j["abandoned_at"] = FormatRfc3339(*m.abandoned_at);
        const Json payload = Json::parse(m.payload_json, nullptr, false);
        for (const char* member : {"link", "code"}) {
            if (payload.is_object() && payload.contains(member) && payload[member].is_string()) {
                j[member] = payload[member];
            }
        }
    } else if (m.abandoned_at) {
        j["status"] = "abandoned";
        j["abandoned_at"] = FormatRfc3339(*m.abandoned_at);
    } else {
        j["status"] = "pending";
        j["next_attempt_at"] = FormatRfc3339(m.next_attempt_at);
    }
    if (!m.last_error.empty()) j["last_error"] = m.last_error;
    if (!m.last_response.empty()) j["last_response"] = m.last_response;
    return j;
}

std::optional<std::int64_t> ParseId(std::string_view text) {
    if (text.empty() || text.size() > 18 ||
        text.find_first_not_of("0123456789") != std::string_view::npos) {
        return std::nullopt;
    }
    return std::stoll(std::string(text));
}

}  // namespace

void EventApi::Register(
    const std::function<void(std::string, std::string, IssuerApi::AuthedHandler)>& add) {
    const auto route = [&add](std::string method, std::string pattern,
                              IssuerApi::AuthedHandler handler) {
        Route(add, std::move(method), std::move(pattern), std::move(handler));
    };
    const auto bind = [this](Res (EventApi::*fn)(Req&, const P&)) {
        return [this, fn](Req& req, const P& p) { return (this->*fn)(req, p); };
    };
    route("POST", "/api/v1/webhooks", bind(&EventApi::AddWebhook));
    route("GET", "/api/v1/webhooks", bind(&EventApi::ListWebhooks));
    route("DELETE", "/api/v1/webhooks/{id}", bind(&EventApi::DeleteWebhook));
    route("GET", "/api/v1/webhooks/deliveries", [this](Req& req, const P& p) {
        auto query = ParseQueryParams(QueryOf("GET", "/api/v1/webhooks/deliveries"), req.query);
        if (!query) return Problem(query.error());
        return Deliveries(*query, p, Channel::kWebhook);
    });
    route("POST", "/api/v1/webhooks/deliveries/{id}/redeliver", bind(&EventApi::Redeliver));
    route("GET", "/api/v1/notifications/deliveries", [this](Req& req, const P& p) {
        auto query =
            ParseQueryParams(QueryOf("GET", "/api/v1/notifications/deliveries"), req.query);
        if (!query) return Problem(query.error());
        const auto channel = query->Text("channel");
        return Deliveries(*query, p, channel == "sms" ? Channel::kSms : Channel::kEmail);
    });
    route("GET", "/api/v1/status-changes", bind(&EventApi::Poll));
    route("POST", "/api/v1/status-changes/{id}/confirm", bind(&EventApi::Confirm));
}

HttpResponse EventApi::AddWebhook(Req& req, const P& p) {
    auto input = ParseBody(req, WebhookBodySpec());
    if (!input) return Problem(input.error());
    auto webhook = events_.AddWebhook(p.issuer_id, *input);
    if (!webhook) return Problem(webhook.error());
    Json view = WebhookView(*webhook);
    view["secret"] = webhook->secret;  // shown once
    auto response = JsonResponse(201, view);
    response.Set("Location", "/api/v1/webhooks/" + webhook->id);
    return response;
}

HttpResponse EventApi::ListWebhooks(Req&, const P& p) {
    auto list = events_.Webhooks(p.issuer_id);
    if (!list) return Problem(list.error());
    Json items = Json::array();
    for (const auto& w : *list) items.push_back(WebhookView(w));
    return JsonResponse(200, Json{{"items", std::move(items)}});
}

HttpResponse EventApi::DeleteWebhook(Req& req, const P& p) {
    if (auto ok = events_.RemoveWebhook(p.issuer_id, std::string(req.Param("id"))); !ok) {
        return Problem(ok.error());
    }
    HttpResponse r;
    r.status = 204;
    return r;
}

HttpResponse EventApi::Deliveries(const QueryValues& query, const P& p, Channel channel) {
    PageQuery page;
    if (auto limit = query.Integer("limit")) page.limit = *limit;
    auto token = query.Text("continuation_token");
    if (!token) token = query.Text("continuationToken");
    if (token) {
        auto decoded = Base64UrlDecode(*token);
        if (!decoded || !ParseId(*decoded)) {
            return Problem(
                FailValidation({{"continuation_token", "is not a token this API returned"}})
                    .value());
        }
        page.after_id = *decoded;
    }
    auto result = events_.Deliveries(p.issuer_id, channel, page);
    if (!result) return Problem(result.error());
    Json items = Json::array();
    for (const auto& m : result->items) items.push_back(DeliveryView(m));
    Json j = {{"items", std::move(items)}};
    j["continuation_token"] =
        result->next_after_id ? Json(Base64UrlEncode(*result->next_after_id)) : Json(nullptr);
    return JsonResponse(200, j);
}

HttpResponse EventApi::Redeliver(Req& req, const P& p) {
    auto id = ParseId(req.Param("id"));
    if (!id) return Problem(ErrorCode::kNotFound, "delivery not found");
    auto m = events_.Redeliver(p.issuer_id, *id, p.test);
    if (!m) return Problem(m.error());
    return JsonResponse(202, DeliveryView(*m));
}

namespace {
// Posten signering's name for the header beside Firmo's.
void SetNextPoll(HttpResponse& response, Timestamp at) {
    response.Set("X-Next-Permitted-Poll", FormatRfc3339(at));
    response.Set("X-Next-permitted-poll-time", FormatRfc3339(at));
}
}  // namespace

HttpResponse EventApi::Poll(Req& req, const P& p) {
    auto query = ParseQueryParams(QueryOf("GET", "/api/v1/status-changes"), req.query);
    if (!query) return Problem(query.error());
    const std::string queue = query->Text("polling_queue").value_or("");
    auto result = events_.Poll(p.issuer_id, queue, p.test);
    if (!result) {
        auto response = Problem(result.error());
        if (result.error().code == ErrorCode::kRateLimited) {
            if (auto next = events_.NextPollAt(p.issuer_id, queue, p.test); next && *next) {
                SetNextPoll(response, **next);
                // Retry-After comes from the problem mapping only for the API rate limit.
                response.Set("Retry-After", "1");
            }
        }
        return response;
    }
    HttpResponse response;
    if (result->change) {
        const StatusChange& c = *result->change;
        Json event = Json::parse(c.payload_json, nullptr, false);
        Json j = {{"id", std::to_string(c.seq)},
                  {"confirm_url", "/api/v1/status-changes/" + std::to_string(c.seq) + "/confirm"},
                  {"event", std::move(event)}};
        response = JsonResponse(200, j);
    } else {
        response.status = 204;
    }
    SetNextPoll(response, result->next_poll_at);
    return response;
}

HttpResponse EventApi::Confirm(Req& req, const P& p) {
    auto seq = ParseId(req.Param("id"));
    if (!seq) return Problem(ErrorCode::kNotFound, "status change not found");
    if (auto ok = events_.Confirm(p.issuer_id, *seq, p.test); !ok) return Problem(ok.error());
    HttpResponse r;
    r.status = 204;
    return r;
}

}  // namespace firmo::api
