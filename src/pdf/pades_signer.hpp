#pragma once
// PAdES baseline signing by incremental update: the original bytes stay untouched and a new
// revision adds the signature dictionary, the widget (visible appearance or invisible), the
// page's /Annots and the AcroForm, with a cross-reference section of the same kind as the
// original's last one. The file is hashed while it is copied, so memory does not grow with it.

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/random.hpp"
#include "crypto/timestamp.hpp"
#include "crypto/validation_data.hpp"
#include "domain/ports/document_signer.hpp"
#include "domain/ports/hash_signer.hpp"
#include "pdf/inspect.hpp"

namespace firmo::pdf {

enum class FontEmbedding {
    kForPdfA,  // embed when the document claims PDF/A (which requires embedded fonts)
    kAlways,
    kNever,  // the standard Helvetica, not embedded
};

struct SignerOptions {
    // Documents are validated on upload; signing re-reads structure but, unless asked, does
    // not decode every stream again.
    PdfLimits limits = DefaultSigningLimits();
    // Bytes reserved in /Contents beyond the session's bound (room for a later timestamp).
    std::size_t extra_reserve = 0;
    FontEmbedding embed_font = FontEmbedding::kForPdfA;
    // A Type 1 font (PFA or PFB) with its .afm beside it; Debian's fonts-urw-base35.
    std::filesystem::path appearance_font =
        "/usr/share/fonts/type1/urw-base35/NimbusSans-Regular.t1";
    // Read/write buffer for copying and hashing the original (small enough to stay in cache).
    std::size_t chunk_bytes = 256 * 1024;

    static PdfLimits DefaultSigningLimits() {
        PdfLimits limits;
        limits.scan_streams = false;
        return limits;
    }
};

// What the signer wrote, for logs and tests.
struct SignOutcome {
    std::string field_name;
    std::uint64_t byte_range[4] = {0, 0, 0, 0};
    std::size_t reserved_bytes = 0;  // of /Contents, binary
    std::size_t signature_bytes = 0;
    XrefKind xref_kind = XrefKind::kTable;
};

// Room reserved in /Contents for a signature time-stamp token (TSA certificates included).
inline constexpr std::size_t kTimestampTokenReserve = 8192;

// The prepare stage's result: what the embed stage needs besides the original file and the
// signature value. Serialisable, so that prepare and embed may run in different requests or
// processes (a remote signer answers minutes later). Nothing in it is secret, but Embed trusts
// it to describe a signature the server meant to make: keep it where only the server writes.
struct PreparedSignature {
    std::uint64_t original_size = 0;  // of the file the update goes after
    std::string update;               // the incremental update: /ByteRange filled, /Contents 0s
    std::size_t contents_at = 0;      // offset of /Contents' '<' in `update`
    std::string content_sha256;       // of the signed byte ranges: the CMS messageDigest
    std::string signed_attributes;    // DER SET OF the CMS signed attributes
    domain::SignerCredential credential;
    SignOutcome outcome;  // field name, byte range, reserved bytes, xref kind

    // What the signer signs: SHA-256 of the signed attributes.
    std::string DigestToSign() const;
    // A self-describing text (JSON, binary fields in base64url) and back; kMalformed for a text
    // that is not one.
    std::string Serialize() const;
    [[nodiscard]] static Result<PreparedSignature> Parse(std::string_view text);
};

struct EmbedOptions {
    // Post-sign, step B-T: a signature time-stamp from `tsa` over the signature value, added to
    // the CMS before it is embedded. Both or neither.
    crypto::TimestampAuthority* tsa = nullptr;
    Random* random = nullptr;  // the time-stamp request's nonce
};

// Validation data for the Document Security Store (ETSI EN 319 142-1 5.4.2, PAdES B-LT): DER
// certificates, OCSP responses and CRLs of the signer's and the time-stamps' chains.
using ValidationData = crypto::ValidationData;

class PadesSigner final : public domain::DocumentSigner {
  public:
    explicit PadesSigner(SignerOptions options = {});

    [[nodiscard]] Result<void> SignFile(const std::filesystem::path& in,
                                        const std::filesystem::path& out,
                                        const domain::SignatureField& field,
                                        const domain::SignatureDetails& details,
                                        domain::SigningSession& session) const override;

    // SignFile with what was written. Errors: kInvalidArgument (with violations) when the
    // field cannot be signed; kMalformed/kUnsupportedMediaType/kPayloadTooLarge for the file.
    [[nodiscard]] Result<SignOutcome> Sign(const std::filesystem::path& in,
                                           const std::filesystem::path& out,
                                           const domain::SignatureField& field,
                                           const domain::SignatureDetails& details,
                                           domain::SigningSession& session) const;

    // Sign in memory, in one pass: `out` becomes `in` plus the update holding the signature
    // (no file is created; for a caller that holds the document's bytes, as a blob store
    // hands them over). Same errors as Sign.
    [[nodiscard]] Result<SignOutcome> SignBytes(std::string_view in, std::string& out,
                                                const domain::SignatureField& field,
                                                const domain::SignatureDetails& details,
                                                domain::SigningSession& session) const;
    // The same on the caller's buffer: the update is appended to `pdf` (no copy of the
    // document when its capacity has room); on failure `pdf` is left as it was.
    [[nodiscard]] Result<SignOutcome> SignAppending(std::string& pdf,
                                                    const domain::SignatureField& field,
                                                    const domain::SignatureDetails& details,
                                                    domain::SigningSession& session) const;

    // The staged pipeline (docs/DEVELOPING.md, "Signing pipeline"). Prepare: the incremental
    // update for `field` with room for a CMS of `credential` (+ `extra_reserve`, e.g.
    // kTimestampTokenReserve for B-T) and the signed attributes; reads `in`, writes nothing.
    [[nodiscard]] Result<PreparedSignature> Prepare(const std::filesystem::path& in,
                                                    const domain::SignatureField& field,
                                                    const domain::SignatureDetails& details,
                                                    const domain::SignerCredential& credential,
                                                    std::size_t extra_reserve = 0) const;
    // Embed: writes `out` as `in` (which must still be the prepared file: kConflict otherwise)
    // plus the prepared update, with the CMS of `signature_value` and the credential's chain
    // (and a signature time-stamp per `embed`) in /Contents.
    [[nodiscard]] Result<SignOutcome> Embed(const std::filesystem::path& in,
                                            const std::filesystem::path& out,
                                            const PreparedSignature& prepared,
                                            std::string_view signature_value,
                                            const EmbedOptions& embed = {}) const;
    // Prepare, the signer's signature value, Embed: for a signer that answers at once.
    [[nodiscard]] Result<SignOutcome> Sign(const std::filesystem::path& in,
                                           const std::filesystem::path& out,
                                           const domain::SignatureField& field,
                                           const domain::SignatureDetails& details,
                                           domain::HashSigner& signer,
                                           const EmbedOptions& embed = {}) const;

    // Writes `out` as `in` plus one incremental update holding a document time-stamp
    // (/Type /DocTimeStamp, /SubFilter /ETSI.RFC3161: the PAdES B-LTA archive time-stamp) from
    // `tsa` over the whole file, in a new invisible field (`field_name`, or "Signature<n>").
    // Earlier signatures stay valid. Blocking (the TSA is asked once).
    [[nodiscard]] Result<SignOutcome> AddDocumentTimestamp(
        const std::filesystem::path& in, const std::filesystem::path& out,
        crypto::TimestampAuthority& tsa, Random& random, const std::string& field_name = "") const;

    // Writes `out` as `in` plus one incremental update that adds `data` to the catalog's /DSS
    // (/Certs, /OCSPs, /CRLs: each a stream; an existing DSS keeps what it had). Earlier
    // signatures stay valid (a DSS update is an LTA update). Blocking.
    [[nodiscard]] Result<void> AddValidationData(const std::filesystem::path& in,
                                                 const std::filesystem::path& out,
                                                 const ValidationData& data) const;

  private:
    [[nodiscard]] Result<SignOutcome> Write(const std::filesystem::path& in,
                                            const std::filesystem::path& out,
                                            const domain::SignatureField& field,
                                            const domain::SignatureDetails& details,
                                            domain::SigningSession& session,
                                            bool document_timestamp) const;

    SignerOptions options_;
};

}  // namespace firmo::pdf
