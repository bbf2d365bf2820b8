#pragma once
// Verification of the signatures of a PDF: for each one, who signed and when (as claimed or
// time-stamped), whether the signed digest matches the bytes, whether its /ByteRange covers
// exactly its revision, what later revisions changed in the document as a reader sees it (with
// the modification level and whether DocMDP, FieldMDP or the default rules allow it), and
// whether the signer's chain leads to a configured trust anchor. Document time-stamps are
// reported like signatures. docs/VERIFICATION.md has the rules. Thread-safe; never throws.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "crypto/cms_verify.hpp"
#include "pdf/inspect.hpp"

namespace firmo::pdf {

// How far later revisions changed the document, as pyHanko grades it: NONE (nothing),
// LTA_UPDATES (DSS, document time-stamps, metadata), FORM_FILLING (signing fields, filling in
// forms), ANNOTATIONS (comments), OTHER (anything else: content, pages, structure).
enum class ModificationLevel { kNone, kLtaUpdates, kFormFilling, kAnnotations, kOther };
std::string_view ToString(ModificationLevel level);

// The PAdES baseline level a valid signature reaches (ETSI EN 319 142-1 6): B-B (a signature),
// B-T (a proven time: a signature time-stamp or a later document time-stamp), B-LT (the file
// carries revocation data for the signer's chain and that time-stamp's), B-LTA (a document
// time-stamp covers that data). kNone when the signature is not valid.
enum class PadesLevel { kNone, kB, kT, kLt, kLta };
std::string_view ToString(PadesLevel level);  // "B-B", ... ("" for kNone)

// One thing a later revision changed in what a reader of the signed revision sees.
struct Difference {
    ModificationLevel level = ModificationLevel::kOther;
    bool allowed = false;  // by DocMDP, FieldMDP or the default rules for this signature
    std::string where;     // "page 1", "field 'Signature2'", "the catalog", ...
    std::string what;      // plain English
    std::string ToString() const { return where + ": " + what; }
};

struct SignatureReport {
    std::string field_name;
    std::string sub_filter;  // "ETSI.CAdES.detached", "adbe.pkcs7.detached", "ETSI.RFC3161"
    bool is_document_timestamp = false;      // /Type /DocTimeStamp: the TSA is the "signer"
    std::optional<int> certification_level;  // DocMDP /P when this signature certifies
    std::string signer_name;                 // certificate commonName
    std::string signer_subject;              // the whole subject (RFC 2253)
    std::string signer_serial_number;        // e.g. "TINIT-RSSMRA80A01H501U"
    std::optional<Timestamp> signing_time;   // /M, else the CMS signingTime; claimed, not proven
    std::string reason;
    std::vector<std::uint64_t> byte_range;
    std::uint64_t revision_end = 0;  // where the signed revision ends (byte_range[2] + [3])
    int revision = -1;               // which revision (0: the original), when it ends one

    bool digest_matches = false;     // the signed digest is the digest of the byte ranges
    bool signature_valid = false;    // the CMS signature verifies with the signer's key
    bool covers_revision = false;    // the ranges cover the revision except exactly /Contents
    bool covers_whole_file = false;  // ... and that revision is the whole file
    bool modified_after = false;     // a later revision made a change that is not allowed
    bool chain_trusted = false;
    // PAdES B-T: a signature time-stamp, its validity, and the time it proves.
    bool timestamped = false;
    bool timestamp_valid = false;
    std::optional<Timestamp> timestamp_time;
    std::string timestamp_authority;
    // Everything later revisions changed, and the highest level among those changes.
    ModificationLevel modification_level = ModificationLevel::kNone;
    std::vector<Difference> differences;
    std::vector<std::string> changes_after;  // the differences that are not allowed
    std::vector<std::string> problems;       // plain English; empty when valid
    // The validation model: the earliest time proven for this signature (its time-stamp, or a
    // later document time-stamp), the time its chain was checked at (that time, or the
    // validation time without one), a revocation of its certificate after that time (which
    // leaves it valid), and until when the proof holds (the expiry of the chain of the last
    // valid time-stamp covering it; the signer's own without one).
    PadesLevel level = PadesLevel::kNone;
    std::optional<Timestamp> proven_time;
    std::optional<Timestamp> chain_checked_at;
    std::optional<Timestamp> revoked_after;
    std::optional<Timestamp> proof_until;

    bool is_valid() const { return problems.empty(); }
};

struct VerificationReport {
    std::vector<SignatureReport> signatures;  // in the order they were applied
    int revisions = 0;                        // the original and each incremental update
    std::vector<std::string> problems;        // about the document as a whole
    // Worth knowing, not making anything invalid: quirks of the signed revisions that qpdf
    // read around, bytes of a final unsigned revision that only added allowed changes.
    std::vector<std::string> remarks;
    // When the document was validated (VerifyOptions::validation_time, else now), the lowest
    // level of its signatures (document time-stamps aside; kNone when one is not valid), and
    // the earliest proof_until among them.
    Timestamp validation_time{};
    PadesLevel level = PadesLevel::kNone;
    std::optional<Timestamp> proof_until;
    // The chain (DER, the authority's certificate first) of the last valid time-stamp: what a
    // renewal (an archive time-stamp) adds validation data for. Empty when none is valid.
    std::vector<std::string> last_timestamp_chain;
    // At least one signature, and every signature valid.
    bool all_valid() const;
};

struct VerifyOptions {
    PdfLimits limits;
    // The time of validation (now when not given): the last valid time-stamp's chain, and a
    // signature no time-stamp proves, are checked at this time; every other chain at the time
    // the next time-stamp proves (docs/VERIFICATION.md, "Validation at a point in time").
    std::optional<Timestamp> validation_time;
    // Each signature costs a hash of its revision and a re-parse of it: a document with more
    // signed fields than this is reported, not verified.
    int max_signatures = 100;
};

// Errors only when the file cannot be read as a PDF at all (same codes as InspectPdfBytes);
// everything about signatures is in the report.
[[nodiscard]] Result<VerificationReport> VerifyPdfBytes(std::string_view pdf,
                                                        const crypto::TrustAnchors& anchors,
                                                        const VerifyOptions& options = {});
[[nodiscard]] Result<VerificationReport> VerifyPdfFile(const std::filesystem::path& pdf,
                                                       const crypto::TrustAnchors& anchors,
                                                       const VerifyOptions& options = {});

}  // namespace firmo::pdf
