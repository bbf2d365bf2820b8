#pragma once
// Validation data for PAdES B-LT (ETSI EN 319 142-1 5.4.2, the Document Security Store): the
// certificates found in signatures and time-stamps, and for each one that is not a root an
// OCSP response (or, when its issuer names no OCSP responder, a CRL). Certificates the node's
// own CA issued are answered in process, by the same code that serves /pki/ocsp and
// /pki/ca.crl; others over HTTP at the URLs their certificates name (libcurl, with timeouts).
// Thread-safe (const); blocking.

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "crypto/openssl_util.hpp"

namespace firmo::crypto {

// What goes into the DSS: DER certificates, DER OCSPResponses, DER CRLs.
struct ValidationData {
    std::vector<std::string> certificates;
    std::vector<std::string> ocsp_responses;
    std::vector<std::string> crls;
    bool empty() const { return certificates.empty() && ocsp_responses.empty() && crls.empty(); }
    void Append(const ValidationData& other);
};

// Every certificate in a DER CMS SignedData (a PDF signature's /Contents, or an RFC 3161 token)
// and in the time-stamp tokens it carries as signature-time-stamp attributes, DER, each once.
// kMalformed when `cms` is not a SignedData.
[[nodiscard]] Result<std::vector<std::string>> CertificatesInSignature(std::string_view cms);

// The built-in CA, answered without HTTP.
struct LocalIssuer {
    X509* certificate = nullptr;  // the issuer whose certificates are answered here
    // A DER OCSPResponse to a DER OCSPRequest (CertificateAuthority::AnswerOcsp); kNotFound
    // sends the request to the OCSP URL the certificate names instead.
    std::function<Result<std::string>(std::string_view request)> ocsp;
    // The current DER CRL (CertificateAuthority::Crl), or null for none.
    std::function<Result<std::string>()> crl;
};

struct ValidationDataOptions {
    LocalIssuer local;  // certificate null: everything goes over HTTP
    std::chrono::milliseconds http_timeout{std::chrono::seconds(10)};
};

class ValidationDataCollector {
  public:
    explicit ValidationDataCollector(ValidationDataOptions options)
        : options_(std::move(options)) {}

    // `certificates` (DER; duplicates ignored) and, for each that is not self-signed, its
    // revocation status: an OCSP response, or a CRL when its issuer names no OCSP responder. An
    // issuer missing from the list and from `stored` (certificates the DSS already has, not
    // added again) is fetched from the certificate's caIssuers URL and added.
    // kUnavailable when a status cannot be obtained (no issuer, no OCSP or CRL location, a
    // responder that fails or answers unsuccessfully): B-LT would then be a claim, not a proof.
    [[nodiscard]] Result<ValidationData> Collect(const std::vector<std::string>& certificates,
                                                 const std::vector<std::string>& stored = {}) const;

  private:
    ValidationDataOptions options_;
};

}  // namespace firmo::crypto
