#pragma once
// The post-sign stage of the pipeline (docs/DEVELOPING.md, "Signing pipeline"): after the
// signatures of a document, a Document Security Store update with the certificates and
// OCSP responses/CRLs of every signature's and time-stamp's chain (PAdES B-LT), then a
// document time-stamp over the whole file (B-LTA), each an incremental update. A
// domain::DocumentSigner around PadesSigner; the signature time-stamp (B-T) comes from the
// signing session (crypto::TimestampingSession).

#include <memory>
#include <optional>
#include <string_view>

#include "core/random.hpp"
#include "crypto/timestamp.hpp"
#include "crypto/validation_data.hpp"
#include "pdf/pades_signer.hpp"

namespace firmo::pdf {

// PAdES baseline levels (ETSI EN 319 142-1 6), in order.
enum class SignatureLevel { kB, kT, kLt, kLta };
// "b-b", "b-t", "b-lt", "b-lta" (any case).
std::optional<SignatureLevel> ParseSignatureLevel(std::string_view text);
std::string_view ToString(SignatureLevel level);

// The certificates of a PDF's signatures and time-stamps (DER, each once): those its DSS lacks,
// and those it has.
struct DocumentCertificates {
    std::vector<std::string> missing;
    std::vector<std::string> stored;
};
[[nodiscard]] Result<DocumentCertificates> CertificatesToValidate(std::string_view pdf_bytes);

class LongTermSigner final : public domain::DocumentSigner {
  public:
    // `level` kLt or kLta (kB/kT: AddLongTermProof does nothing). `tsa` stamps the documents
    // (B-LTA); it may be null below kLta. All must outlive the signer.
    LongTermSigner(const PadesSigner& pades, SignatureLevel level,
                   const crypto::ValidationDataCollector& validation,
                   std::shared_ptr<crypto::TimestampAuthority> tsa, Random& random);

    [[nodiscard]] Result<void> SignFile(const std::filesystem::path& in,
                                        const std::filesystem::path& out,
                                        const domain::SignatureField& field,
                                        const domain::SignatureDetails& details,
                                        domain::SigningSession& session) const override;
    [[nodiscard]] Result<bool> AddLongTermProof(const std::filesystem::path& in,
                                                const std::filesystem::path& out) const override;

  private:
    const PadesSigner& pades_;
    SignatureLevel level_;
    const crypto::ValidationDataCollector& validation_;
    std::shared_ptr<crypto::TimestampAuthority> tsa_;
    Random& random_;
};

}  // namespace firmo::pdf
