#pragma once
// Stateless document checks for issuers: validate-document (is this PDF fit for these
// signature fields? as Firma con IO recommends before creating requests) and verify (report
// every signature of a signed PDF). Nothing is stored.

#include <functional>
#include <optional>
#include <string>

#include "api/issuer_api.hpp"
#include "codec/json.hpp"
#include "core/clock.hpp"
#include "domain/ports/document_validator.hpp"

namespace firmo::api {

// Verifies a PDF's signatures at `at` (now when absent) and returns the report as JSON
// ({is_valid, level, signatures[], ...}); an error when the bytes are not a readable PDF.
using VerifyFunction =
    std::function<Result<codec::Json>(std::string_view pdf, std::optional<Timestamp> at)>;

class DocumentApi {
  public:
    DocumentApi(domain::DossierService& dossiers, const domain::DocumentValidator& validator,
                VerifyFunction verify)
        : dossiers_(dossiers), validator_(validator), verify_(std::move(verify)) {}

    void Register(const std::function<void(std::string method, std::string pattern,
                                           IssuerApi::AuthedHandler handler)>& add);

  private:
    http::HttpResponse Validate(http::HttpRequest& req, const domain::Principal& p);
    http::HttpResponse Verify(http::HttpRequest& req, const domain::Principal& p);

    domain::DossierService& dossiers_;
    const domain::DocumentValidator& validator_;
    VerifyFunction verify_;
};

}  // namespace firmo::api
