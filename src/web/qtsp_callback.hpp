#pragma once
// GET /qtsp/callback: where a QTSP sends the signer's browser back after the credential
// authorization (CSC API v2 section 8.4.2): `state` with `code`, or with `error`
// (`access_denied`: the signer said no, and may start again). Registered only with
// signing.provider = "csc". Success and denial lead back to the signing page of the request;
// anything else is an application/problem+json answer.

#include <functional>
#include <string>

#include "domain/services/qtsp_service.hpp"
#include "http/message.hpp"
#include "http/router.hpp"

namespace firmo::web {

class QtspCallbackPage {
  public:
    explicit QtspCallbackPage(domain::QtspService& qtsp) : qtsp_(qtsp) {}

    void Register(const std::function<void(std::string, std::string, http::Handler)>& add);
    http::HttpResponse Callback(const http::HttpRequest& req);

  private:
    domain::QtspService& qtsp_;
};

}  // namespace firmo::web
