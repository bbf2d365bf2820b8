#pragma once
// Port: signs one signature field of a PDF for one signer, by incremental update, with a
// signing session of the trust service. Implemented by the PDF engine (src/pdf). The document
// is read as a stream; only its digest reaches the session.

#include <filesystem>
#include <string>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "domain/ports/trust_service.hpp"
#include "domain/signature_field.hpp"

namespace firmo::domain {

struct SignatureDetails {
    std::string signer_name;  // /Name, and the visible appearance
    Timestamp signing_time;   // /M of the signature dictionary
    std::string reason;       // /Reason; the clause title when empty
    std::string location;     // /Location, optional
    std::string field_name;   // the name of a new field; "Signature<n>" when empty
    bool visible = true;      // false: an invisible widget (/Rect [0 0 0 0], no appearance)
};

class DocumentSigner {
  public:
    virtual ~DocumentSigner() = default;
    DocumentSigner() = default;
    DocumentSigner(const DocumentSigner&) = delete;
    DocumentSigner& operator=(const DocumentSigner&) = delete;

    // Writes `out` (never the same file as `in`) as `in` plus one incremental update holding
    // the signature. Thread-safe; blocking.
    [[nodiscard]] virtual Result<void> SignFile(const std::filesystem::path& in,
                                                const std::filesystem::path& out,
                                                const SignatureField& field,
                                                const SignatureDetails& details,
                                                SigningSession& session) const = 0;

    // Post-sign (PAdES B-LT, B-LTA): writes `out` as `in` plus incremental updates that add
    // the validation data of every signature in it and, for B-LTA, a document time-stamp;
    // earlier signatures stay valid. Returns false, writing nothing, when this signer makes
    // B-B/B-T signatures only (the default). Thread-safe; blocking.
    [[nodiscard]] virtual Result<bool> AddLongTermProof(
        const std::filesystem::path& /*in*/, const std::filesystem::path& /*out*/) const {
        return false;
    }
};

}  // namespace firmo::domain
