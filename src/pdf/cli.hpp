#pragma once
// The command-line faces of the PDF engine, as library functions so src/app only dispatches:
// `firmo sign`, `firmo verify` and `firmo ca init|cert`. Each parses its own flags (after the
// subcommand word), prints --help, writes results to `out` and diagnostics to `err`.
// Exit codes: 0 success, 1 the operation failed (or a signature is not valid), 2 bad usage.

#include <ostream>
#include <string>
#include <vector>

#include "pdf/verify.hpp"

namespace firmo::pdf {

// The report as `firmo verify --json` prints it: {"is_valid", "revisions", "signatures":
// [{"field", "sub_filter", "document_timestamp", "certification_level", "signer",
// "signer_subject", "signer_serial_number", "signing_time" (RFC 3339 or null), "byte_range",
// "revision", "digest_matches", "signature_valid", "covers_revision", "covers_whole_file",
// "modified_after", "modification_level", "differences": [{"level", "allowed", "where",
// "what"}], "changes_after", "chain_trusted", "timestamped", "timestamp_valid",
// "timestamp_time", "timestamp_authority", "is_valid", "problems"}], "problems", "remarks"}.
// `indent` < 0 gives one line.
std::string VerificationReportToJson(const VerificationReport& report, int indent = -1);

// firmo sign --data-dir DIR --in IN.pdf --out OUT.pdf --name "Mario Rossi"
//            (--fiscal-code CODE | --nin NUMBER | --serial-number TEXT)
//            (--field NAME | --page N --x X --y Y --w W --h H) [--clause TEXT] [--reason TEXT]
//            [--location TEXT] [--field-name NAME] [--invisible] [--given-name G] [--surname S]
//            [--email E] [--country CC] [--passphrase-file FILE] [--tsa-url URL]
int RunSignCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

// firmo verify [--data-dir DIR] [--trust CA.pem]... [--json] FILE.pdf
// Exit 0 only when the document has signatures and every one is valid.
int RunVerifyCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

// firmo ca init --data-dir DIR [--key-type ecdsa-p256|rsa-3072] [--common-name CN]
//               [--organization O] [--country CC] [--validity-days N] [--passphrase-file FILE]
// firmo ca cert --data-dir DIR           (prints the CA certificate, PEM)
// The passphrase comes from --passphrase-file, else the FIRMO_CA_PASSPHRASE environment
// variable; without either the key is stored unencrypted (mode 0600) and a warning printed.
int RunCaCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace firmo::pdf
