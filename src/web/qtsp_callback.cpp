#include "web/qtsp_callback.hpp"

namespace firmo::web {

void QtspCallbackPage::Register(
    const std::function<void(std::string, std::string, http::Handler)>& add) {
    add("GET", "/qtsp/callback", [this](http::HttpRequest& req) { return Callback(req); });
}

http::HttpResponse QtspCallbackPage::Callback(const http::HttpRequest& req) {
    domain::QtspCallback callback;
    callback.state = req.Query("state").value_or("");
    callback.code = req.Query("code");
    callback.error = req.Query("error");
    callback.error_description = req.Query("error_description");
    auto outcome = qtsp_.Callback(callback);
    if (!outcome) return http::ProblemResponse(outcome.error());
    // Authorized: the page that waits for the signature (a job signs). Denied: the request's
    // page, where the signer may start again.
    http::HttpResponse res;
    res.status = 303;
    res.Set("Location", "/s/" + outcome->request_id + (outcome->authorized ? "/done" : ""));
    res.Set("Cache-Control", "no-store");
    return res;
}

}  // namespace firmo::web
