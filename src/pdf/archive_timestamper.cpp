#include "pdf/archive_timestamper.hpp"

#include <openssl/ocsp.h>

#include "pdf/verify.hpp"

namespace firmo::pdf {
namespace {

using OcspRequestPtr = crypto::OpensslPtr<OCSP_REQUEST, OCSP_REQUEST_free>;

// How long the OCSP responses added to the DSS are "in force" (they are evidence, read later).
constexpr std::chrono::hours kOcspNextUpdate{24};

}  // namespace

Result<VerificationReport> PdfArchiveTimestamper::Check(const std::filesystem::path& pdf,
                                                        Timestamp now) const {
    FIRMO_TRY(auto anchors, deps_.anchors());
    VerifyOptions options;
    options.limits = deps_.limits;
    options.validation_time = now;
    return VerifyPdfFile(pdf, anchors, options);
}

Result<std::optional<Timestamp>> PdfArchiveTimestamper::ProofUntil(const std::filesystem::path& pdf,
                                                                   Timestamp now) const {
    FIRMO_TRY(auto report, Check(pdf, now));
    if (report.last_timestamp_chain.empty()) return std::optional<Timestamp>();
    return report.proof_until;
}

Result<std::optional<Timestamp>> PdfArchiveTimestamper::Renew(const std::filesystem::path& in,
                                                              const std::filesystem::path& out,
                                                              Timestamp now) const {
    FIRMO_TRY(auto report, Check(in, now));
    if (report.last_timestamp_chain.empty()) {
        return Fail(ErrorCode::kConflict, "no valid time-stamp to renew");
    }
    ValidationData data;
    const auto& chain = report.last_timestamp_chain;
    for (std::size_t i = 0; i < chain.size(); ++i) {
        data.certificates.push_back(chain[i]);
        if (i + 1 >= chain.size() || !deps_.ca) continue;
        FIRMO_TRY(auto cert, crypto::CertificateFromDer(chain[i]));
        FIRMO_TRY(auto issuer, crypto::CertificateFromDer(chain[i + 1]));
        if (X509_cmp(issuer.get(), deps_.ca->certificate()) != 0) continue;
        OcspRequestPtr request(OCSP_REQUEST_new());
        OCSP_CERTID* id = OCSP_cert_to_id(EVP_sha1(), cert.get(), issuer.get());
        if (!request || id == nullptr || OCSP_request_add0_id(request.get(), id) == nullptr) {
            OCSP_CERTID_free(id);
            return Fail(crypto::OpensslError("cannot build an OCSP request"));
        }
        FIRMO_TRY(auto request_der, crypto::ToDer(request.get(), i2d_OCSP_REQUEST, "request"));
        FIRMO_TRY(auto response,
                  deps_.ca->AnswerOcsp(request_der, deps_.revocations, now, kOcspNextUpdate));
        data.ocsp_responses.push_back(std::move(response));
    }
    const std::filesystem::path with_data = out.string() + ".lt";
    FIRMO_CHECK(signer_.AddValidationData(in, with_data, data));
    auto stamped = signer_.AddDocumentTimestamp(with_data, out, *deps_.tsa, random_);
    std::error_code ec;
    std::filesystem::remove(with_data, ec);
    FIRMO_CHECK(stamped);
    FIRMO_TRY(auto renewed, Check(out, now));
    if (!renewed.all_valid()) {
        return Fail(ErrorCode::kInternal,
                    "the re-time-stamped document does not verify: " +
                        (renewed.problems.empty() ? std::string("a signature is not valid")
                                                  : renewed.problems.front()));
    }
    return renewed.proof_until;
}

}  // namespace firmo::pdf
