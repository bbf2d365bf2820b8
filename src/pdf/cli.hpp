#pragma once
// The command-line faces of the PDF engine, as library functions taking typed options, so
// src/app only parses (with CLI11) and dispatches: `firmo sign`, `firmo verify` and
// `firmo ca init|cert`. Each writes results to `out` and diagnostics to `err`.
// Exit codes: 0 success, 1 the operation failed (or a signature is not valid), 2 bad usage
// (options that parse but do not fit together, e.g. two signer identifiers).

#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "crypto/certificate_authority.hpp"
#include "pdf/verify.hpp"

namespace firmo::pdf {

// The report as `firmo verify --json` prints it: {"is_valid", "revisions", "signatures":
// [{"field", "sub_filter", "document_timestamp", "certification_level", "signer",
// "signer_subject", "signer_serial_number", "signing_time" (RFC 3339 or null), "byte_range",
// "revision", "digest_matches", "signature_valid", "covers_revision", "covers_whole_file",
// "modified_after", "modification_level", "differences": [{"level", "allowed", "where",
// "what"}], "changes_after", "chain_trusted", "timestamped", "timestamp_valid",
// "timestamp_time", "timestamp_authority", "level" ("B-B".."B-LTA" or null), "proven_time",
// "chain_checked_at", "revoked_after", "proof_until", "is_valid", "problems"}], "problems",
// "remarks", "validation_time", "level", "proof_until"}.
// `indent` < 0 gives one line.
std::string VerificationReportToJson(const VerificationReport& report, int indent = -1);

// The CA key's passphrase: the first line of `passphrase_file` when given, else the
// FIRMO_CA_PASSPHRASE environment variable, else empty (an unencrypted key).
struct PassphraseSource {
    std::optional<std::filesystem::path> passphrase_file;
};

// firmo sign: one signature field of `in` signed with a short-lived certificate from the CA in
// `data_dir` (incremental update), written to `out`, at a PAdES baseline level: B-B, B-T (a
// signature time-stamp from --tsa-url), B-LT (then a DSS update: certificates and OCSP
// responses, the new certificate's answered by the CA in process, others at the URLs their
// certificates name), B-LTA (then a document time-stamp).
struct SignOptions {
    std::filesystem::path data_dir;
    std::filesystem::path in;
    std::filesystem::path out;
    std::string name;  // the signer's full name
    // Exactly one identifier.
    std::optional<std::string> fiscal_code;
    std::optional<std::string> nin;
    std::optional<std::string> serial_number;
    // Either an existing empty field, or a new one at page/x/y/w/h (w and h default to 1 when
    // invisible); page from 0, points from the page's top-left.
    std::optional<std::string> field;
    std::optional<double> page, x, y, w, h;
    std::string clause;
    std::string reason;
    std::string location;
    std::string field_name;
    bool invisible = false;
    std::string given_name, surname, email, country;
    PassphraseSource passphrase;
    std::optional<std::string> tsa_url;  // time-stamp each signature (PAdES B-T)
    // "b-b", "b-t", "b-lt" or "b-lta"; default b-t with a TSA, else b-b.
    std::optional<std::string> level;
    std::string pkcs11_module;  // when the CA key is in a PKCS#11 token
};
int RunSign(const SignOptions& options, std::ostream& out, std::ostream& err);

// firmo verify: every signature of `file`, against the CA in `data_dir` and the `trust`
// certificates. Exit 0 only when the document has signatures and every one is valid.
struct VerifyCommandOptions {
    std::optional<std::filesystem::path> data_dir;
    std::vector<std::filesystem::path> trust;
    bool json = false;
    std::filesystem::path file;
    // Validate at this time (RFC 3339) instead of now: VerifyOptions::validation_time.
    std::optional<std::string> at;
};
int RunVerify(const VerifyCommandOptions& options, std::ostream& out, std::ostream& err);

// firmo ca init: creates the built-in CA in DATA_DIR/ca (key mode 0600, encrypted with the
// passphrase; without one it is stored unencrypted and a warning printed). With `pkcs11_uri`
// the key is an existing private key in a token, the passphrase is its PIN.
struct CaInitOptions {
    std::filesystem::path data_dir;
    crypto::KeyType key_type = crypto::KeyType::kEcdsaP256;
    std::optional<std::string> common_name;
    std::optional<std::string> organization;
    std::string country;
    std::optional<int> validity_days;  // 1..36500
    PassphraseSource passphrase;
    std::optional<std::string> pkcs11_uri;
    std::string pkcs11_module;
};
int RunCaInit(const CaInitOptions& options, std::ostream& out, std::ostream& err);

// firmo ca cert: prints the CA certificate (PEM) of `data_dir`.
int RunCaCert(const std::filesystem::path& data_dir, std::ostream& out, std::ostream& err);

}  // namespace firmo::pdf
