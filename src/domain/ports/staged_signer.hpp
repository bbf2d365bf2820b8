#pragma once
// Port: the staged signing pipeline (docs/DEVELOPING.md, "Signing is staged") seen from a
// signer who answers later, a QTSP: prepare a signature now, keep it as text, embed the
// signature value when it arrives (minutes later, maybe on another node). Implemented by
// pdf::StagedPadesSigner (PadesSigner::Prepare / Embed, with the configured TSA for B-T).

#include <filesystem>
#include <string>

#include "core/error.hpp"
#include "domain/ports/document_signer.hpp"
#include "domain/ports/hash_signer.hpp"

namespace firmo::domain {

struct StagedSignature {
    std::string prepared;  // the serialised prepared signature: keep where only the server writes
    std::string digest;    // raw SHA-256 of its signed attributes: what the signer authorizes
};

class StagedDocumentSigner {
  public:
    virtual ~StagedDocumentSigner() = default;
    StagedDocumentSigner() = default;
    StagedDocumentSigner(const StagedDocumentSigner&) = delete;
    StagedDocumentSigner& operator=(const StagedDocumentSigner&) = delete;

    // Reads `in`, writes nothing. Thread-safe; blocking.
    [[nodiscard]] virtual Result<StagedSignature> Prepare(
        const std::filesystem::path& in, const SignatureField& field,
        const SignatureDetails& details, const SignerCredential& credential) const = 0;
    // Writes `out` as `in` (still the prepared file: kConflict otherwise) plus the prepared
    // update carrying `signature_value`. Thread-safe; blocking (a TSA may be asked).
    [[nodiscard]] virtual Result<void> Embed(const std::filesystem::path& in,
                                             const std::filesystem::path& out,
                                             const std::string& prepared,
                                             const std::string& signature_value) const = 0;
};

}  // namespace firmo::domain
