#pragma once
// The archive job's PDF engine (domain::ArchiveTimestamper): the proof's end from the PAdES
// validation model (pdf/verify.hpp), and its renewal: a DSS update with the chain of the last
// valid time-stamp and its revocation status (crypto::ValidationDataCollector, as for every
// signature: in process for the built-in CA, over HTTP for another CA's certificates), then a
// document time-stamp from the node's time-stamp authority. Thread-safe if the TSA is; blocking.

#include <functional>
#include <memory>

#include "core/random.hpp"
#include "crypto/cms_verify.hpp"
#include "crypto/timestamp.hpp"
#include "crypto/validation_data.hpp"
#include "domain/ports/archive_timestamper.hpp"
#include "pdf/inspect.hpp"
#include "pdf/pades_signer.hpp"
#include "pdf/verify.hpp"

namespace firmo::pdf {

struct ArchiveTimestamperDeps {
    // The trust anchors the proof is checked against (read per call: verify.trust_anchors).
    std::function<Result<crypto::TrustAnchors>()> anchors;
    std::shared_ptr<crypto::TimestampAuthority> tsa;
    // The revocation status of the last time-stamp's chain (as for every signature's DSS).
    const crypto::ValidationDataCollector* validation = nullptr;
    PdfLimits limits;
};

class PdfArchiveTimestamper final : public domain::ArchiveTimestamper {
  public:
    PdfArchiveTimestamper(ArchiveTimestamperDeps deps, Random& random)
        : deps_(std::move(deps)), random_(random) {}

    [[nodiscard]] Result<std::optional<Timestamp>> ProofUntil(const std::filesystem::path& pdf,
                                                              Timestamp now) const override;
    [[nodiscard]] Result<std::optional<Timestamp>> Renew(const std::filesystem::path& in,
                                                         const std::filesystem::path& out,
                                                         Timestamp now) const override;

  private:
    [[nodiscard]] Result<VerificationReport> Check(const std::filesystem::path& pdf,
                                                   Timestamp now) const;

    ArchiveTimestamperDeps deps_;
    Random& random_;
    PadesSigner signer_;
};

}  // namespace firmo::pdf
