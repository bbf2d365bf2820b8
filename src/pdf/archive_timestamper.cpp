#include "pdf/archive_timestamper.hpp"

#include "pdf/verify.hpp"

namespace firmo::pdf {

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
    // The last time-stamp's chain and its revocation status, collected as for any signature's
    // DSS (in process for the built-in CA, at the responders' URLs for others).
    FIRMO_TRY(ValidationData data, deps_.validation->Collect(report.last_timestamp_chain));
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
