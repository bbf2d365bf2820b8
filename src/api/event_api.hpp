#pragma once
// Issuer API v1 for events: webhook endpoints, the delivery logs (webhooks, e-mail/SMS) with
// manual redelivery, and the polling queue (as Posten signering). Thin handlers over
// EventService.

#include <functional>
#include <string>

#include "api/issuer_api.hpp"
#include "domain/services/event_service.hpp"

namespace firmo::api {

class EventApi {
  public:
    explicit EventApi(domain::EventService& events) : events_(events) {}

    void Register(const std::function<void(std::string method, std::string pattern,
                                           IssuerApi::AuthedHandler handler)>& add);

  private:
    using Req = http::HttpRequest;
    using Res = http::HttpResponse;
    using P = domain::Principal;
    Res AddWebhook(Req& req, const P& p);
    Res ListWebhooks(Req& req, const P& p);
    Res DeleteWebhook(Req& req, const P& p);
    Res Deliveries(const QueryValues& query, const P& p, domain::Channel channel);
    Res Redeliver(Req& req, const P& p);
    Res Poll(Req& req, const P& p);
    Res Confirm(Req& req, const P& p);

    domain::EventService& events_;
};

}  // namespace firmo::api
