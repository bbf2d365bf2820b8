#pragma once
// domain::StagedDocumentSigner over PadesSigner::Prepare / Embed: room for the signature
// time-stamp is reserved at prepare, and Embed adds it (PAdES B-T) from the configured TSA, as
// the one-pass path does for built-in signatures.

#include <memory>

#include "crypto/timestamp.hpp"
#include "domain/ports/staged_signer.hpp"
#include "pdf/pades_signer.hpp"

namespace firmo::pdf {

class StagedPadesSigner final : public domain::StagedDocumentSigner {
  public:
    // `tsa` may be null (B-B); `signer` and `random` must outlive this.
    StagedPadesSigner(const PadesSigner& signer, std::shared_ptr<crypto::TimestampAuthority> tsa,
                      Random& random)
        : signer_(signer), tsa_(std::move(tsa)), random_(random) {}

    [[nodiscard]] Result<domain::StagedSignature> Prepare(
        const std::filesystem::path& in, const domain::SignatureField& field,
        const domain::SignatureDetails& details,
        const domain::SignerCredential& credential) const override;
    [[nodiscard]] Result<void> Embed(const std::filesystem::path& in,
                                     const std::filesystem::path& out, const std::string& prepared,
                                     const std::string& signature_value) const override;

  private:
    const PadesSigner& signer_;
    std::shared_ptr<crypto::TimestampAuthority> tsa_;
    Random& random_;
};

}  // namespace firmo::pdf
