#include "pdf/staged_pades_signer.hpp"

namespace firmo::pdf {

Result<domain::StagedSignature> StagedPadesSigner::Prepare(
    const std::filesystem::path& in, const domain::SignatureField& field,
    const domain::SignatureDetails& details, const domain::SignerCredential& credential) const {
    FIRMO_TRY(PreparedSignature prepared,
              signer_.Prepare(in, field, details, credential,
                              tsa_ ? kTimestampTokenReserve : std::size_t{0}));
    return domain::StagedSignature{prepared.Serialize(), prepared.DigestToSign()};
}

Result<void> StagedPadesSigner::Embed(const std::filesystem::path& in,
                                      const std::filesystem::path& out, const std::string& prepared,
                                      const std::string& signature_value) const {
    FIRMO_TRY(PreparedSignature parsed, PreparedSignature::Parse(prepared));
    EmbedOptions embed;
    if (tsa_) {
        embed.tsa = tsa_.get();
        embed.random = &random_;
    }
    FIRMO_CHECK(signer_.Embed(in, out, parsed, signature_value, embed));
    return {};
}

}  // namespace firmo::pdf
