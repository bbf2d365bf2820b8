#pragma once
// The built-in PKI's public endpoints, which relying parties (PDF readers, validators, pyHanko,
// EU DSS) reach without credentials, as the URLs in the certificates tell them:
//   GET  /pki/ca.crt          the CA certificate (DER, application/pkix-cert)
//   GET  /pki/ca.crl          the CRL (DER, application/pkix-crl), signed on each call
//   POST /pki/ocsp            RFC 6960 (application/ocsp-request -> application/ocsp-response)
//   GET  /pki/ocsp/{request}  the same, the request base64 in the path (RFC 6960 A.1)
//   POST /pki/tsa             RFC 3161 (application/timestamp-query -> timestamp-reply), only
//                             when the built-in time-stamp authority serves (no tsa.url)
// Bodies that are not what the protocol expects get problem+json (400 malformed, 415).
// Metrics: firmo_pki_responses_total{service, outcome}.

#include <array>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "core/clock.hpp"
#include "core/metrics.hpp"
#include "crypto/builtin_tsa.hpp"
#include "crypto/certificate_authority.hpp"
#include "domain/services/revocation_service.hpp"
#include "http/lanes.hpp"
#include "http/message.hpp"
#include "http/router.hpp"

namespace firmo::api {

struct PkiApiOptions {
    std::chrono::seconds crl_validity{std::chrono::hours(24)};  // nextUpdate - thisUpdate
    std::chrono::seconds ocsp_validity{std::chrono::hours(1)};  // of each OCSP answer
};

class PkiApi {
  public:
    // `tsa` may be null: then POST /pki/tsa is not served.
    PkiApi(std::shared_ptr<const crypto::CertificateAuthority> ca,
           std::shared_ptr<crypto::BuiltinTsa> tsa, domain::RevocationService& revocations,
           const Clock& clock, metrics::Registry& metrics, PkiApiOptions options = {});

    // Registers the routes with their lanes: the CRL and OCSP read revocations (kDatabase);
    // the CA certificate and the TSA need no database (kInline: one signature at most).
    void Register(const std::function<void(std::string method, std::string pattern,
                                           http::Handler handler, http::Lane lane)>& add);

    http::HttpResponse CaCertificate(http::HttpRequest& req);
    http::HttpResponse Crl(http::HttpRequest& req);
    http::HttpResponse Ocsp(http::HttpRequest& req);
    http::HttpResponse OcspGet(http::HttpRequest& req);
    http::HttpResponse Tsa(http::HttpRequest& req);

  private:
    http::HttpResponse AnswerOcsp(std::string_view request);
    enum Service { kCa, kCrl, kOcsp, kTsa, kServices };
    // Counts the answer under `service` and returns it.
    http::HttpResponse Counted(Service service, http::HttpResponse response);

    std::shared_ptr<const crypto::CertificateAuthority> ca_;
    std::shared_ptr<crypto::BuiltinTsa> tsa_;
    domain::RevocationService& revocations_;
    const Clock& clock_;
    // firmo_pki_responses_total's children by service and outcome (ok, refused, error),
    // resolved once: Family::With() takes a lock.
    std::array<std::array<metrics::Counter*, 3>, kServices> responses_{};
    PkiApiOptions options_;
};

}  // namespace firmo::api
