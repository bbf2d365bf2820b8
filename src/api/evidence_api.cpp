#include "api/evidence_api.hpp"

#include "api/contract.hpp"
#include "api/problem.hpp"

namespace firmo::api {

using http::HttpRequest;
using http::HttpResponse;

void EvidenceApi::Register(
    const std::function<void(std::string, std::string, IssuerApi::AuthedHandler)>& add) {
    Route(add, "GET", "/api/v1/signature-requests/{id}/evidence",
          IssuerApi::AuthedHandler([this](HttpRequest& req, const domain::Principal& p) {
              const std::string id(req.Param("id"));
              auto pdf = evidence_.Build(p.Scope(), id);
              if (!pdf) return Problem(pdf.error());
              return PdfResponse(id, std::move(*pdf));
          }));
}

HttpResponse EvidenceApi::PdfResponse(const std::string& request_id, std::string pdf) {
    auto response = HttpResponse::Text(200, std::move(pdf), "application/pdf");
    response.Set("Content-Disposition",
                 "attachment; filename=\"" + request_id + "-signature-report.pdf\"");
    return response;
}

}  // namespace firmo::api
