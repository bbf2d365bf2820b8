#pragma once
// Signing metrics around any DocumentSigner: firmo_signing_duration_seconds{outcome}, the time
// one signature of one document took (reading the PDF, the incremental update, the signing
// session's signature value, writing the result), outcome `signed` or `failed`. A request's
// whole signing job (every document, storage, the audit log) is firmo_job_duration_seconds
// {kind="sign_documents"} (jobs/worker.cpp). Thread-safe and blocking as the signer it wraps.

#include <filesystem>

#include "core/metrics.hpp"
#include "domain/ports/document_signer.hpp"

namespace firmo::pdf {

class MeteredSigner final : public domain::DocumentSigner {
  public:
    // `inner` must outlive this signer.
    MeteredSigner(const domain::DocumentSigner& inner, metrics::Registry& registry);

    [[nodiscard]] Result<void> SignFile(const std::filesystem::path& in,
                                        const std::filesystem::path& out,
                                        const domain::SignatureField& field,
                                        const domain::SignatureDetails& details,
                                        domain::SigningSession& session) const override;
    // Not timed: the post-sign stage is part of the job's duration.
    [[nodiscard]] Result<bool> AddLongTermProof(const std::filesystem::path& in,
                                                const std::filesystem::path& out) const override {
        return inner_.AddLongTermProof(in, out);
    }

  private:
    const domain::DocumentSigner& inner_;
    metrics::Histogram& signed_;
    metrics::Histogram& failed_;
};

}  // namespace firmo::pdf
