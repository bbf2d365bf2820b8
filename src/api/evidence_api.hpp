#pragma once
// GET /api/v1/signature-requests/{id}/evidence: the sealed signature report of a final
// request (domain/services/evidence_service.hpp) as application/pdf. Builds a PDF and signs
// it: register on the heavy lane.

#include <functional>
#include <string>

#include "api/issuer_api.hpp"
#include "domain/services/evidence_service.hpp"

namespace firmo::api {

class EvidenceApi {
  public:
    explicit EvidenceApi(domain::EvidenceService& evidence) : evidence_(evidence) {}

    void Register(const std::function<void(std::string method, std::string pattern,
                                           IssuerApi::AuthedHandler handler)>& add);

    // The report as a download (also the sender portal's link), or the service's error.
    static http::HttpResponse PdfResponse(const std::string& request_id, std::string pdf);

  private:
    domain::EvidenceService& evidence_;
};

}  // namespace firmo::api
