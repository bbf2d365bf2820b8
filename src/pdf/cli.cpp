#include "pdf/cli.hpp"

#include <charconv>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>

#include "core/clock.hpp"
#include "core/random.hpp"
#include "crypto/builtin_trust_service.hpp"
#include "crypto/certificate_authority.hpp"
#include "crypto/cms_verify.hpp"
#include "crypto/timestamp.hpp"
#include "domain/identifiers.hpp"
#include "pdf/pades_signer.hpp"
#include "pdf/verify.hpp"

namespace firmo::pdf {
namespace {

constexpr int kOk = 0;
constexpr int kFailed = 1;
constexpr int kUsage = 2;
constexpr std::string_view kPassphraseEnv = "FIRMO_CA_PASSPHRASE";

constexpr std::string_view kSignHelp =
    R"(Usage: firmo sign --data-dir DIR --in IN.pdf --out OUT.pdf --name NAME
                  (--fiscal-code CODE | --nin NUMBER | --serial-number TEXT)
                  (--field NAME | --page N --x X --y Y --w W --h H) [options]

Signs one signature field of IN.pdf with a short-lived certificate from the CA in DIR
(PAdES B-B, incremental update) and writes OUT.pdf.

  --field NAME         an existing, empty signature field (fully qualified name)
  --page/--x/--y/--w/--h  a new field: page from 0, points from the page's top-left
  --clause TEXT        the clause shown in the appearance (and /Reason by default)
  --reason TEXT        /Reason of the signature
  --location TEXT      /Location of the signature
  --field-name NAME    name of the new field (default Signature<n>)
  --invisible          no visible appearance
  --given-name, --surname, --email, --country   more of the certificate's subject
  --passphrase-file F  the CA key's passphrase (default: $FIRMO_CA_PASSPHRASE)
  --tsa-url URL        time-stamp each signature at this RFC 3161 TSA (PAdES B-T)
  --pkcs11-module LIB  PKCS#11 library, when the CA key is in a token (PIN as passphrase)
)";

constexpr std::string_view kVerifyHelp =
    R"(Usage: firmo verify [--data-dir DIR] [--trust CA.pem]... [--json] FILE.pdf

Verifies every signature of FILE.pdf: digest, byte range, changes made after it, and the
certificate chain against the CA in DIR and/or the --trust certificates.
Exits 0 only when the document is signed and every signature is valid.
)";

constexpr std::string_view kCaHelp =
    R"(Usage: firmo ca init --data-dir DIR [--key-type ecdsa-p256|rsa-3072] [--common-name CN]
                     [--organization O] [--country CC] [--validity-days N]
                     [--passphrase-file FILE] [--pkcs11-uri URI [--pkcs11-module LIB]]
       firmo ca cert --data-dir DIR

init creates the built-in CA (DIR/ca/ca-key.pem, mode 0600, encrypted with the passphrase
from --passphrase-file or $FIRMO_CA_PASSPHRASE; DIR/ca/ca-cert.pem). cert prints the CA
certificate (PEM), to give to verifiers as a trust anchor. With --pkcs11-uri the CA key is an
existing private key in a PKCS#11 token (e.g. "pkcs11:token=firmo;object=ca;type=private"),
the passphrase is the token PIN, and only the URI is stored (DIR/ca/ca-key.uri).
)";

// "--flag value", "--flag=value", boolean "--flag", and positional arguments.
class Flags {
  public:
    Flags(const std::vector<std::string>& args, std::set<std::string> booleans,
          std::set<std::string> repeated = {}) {
        for (std::size_t i = 0; i < args.size(); ++i) {
            const std::string& a = args[i];
            if (a.rfind("--", 0) != 0 || a == "--") {
                positional_.push_back(a);
                continue;
            }
            std::string name = a.substr(2);
            std::optional<std::string> value;
            if (auto eq = name.find('='); eq != std::string::npos) {
                value = name.substr(eq + 1);
                name = name.substr(0, eq);
            }
            if (booleans.count(name) > 0) {
                values_[name].push_back(value.value_or("true"));
                continue;
            }
            if (!value) {
                if (i + 1 >= args.size()) {
                    error_ = "--" + name + " needs a value";
                    return;
                }
                value = args[++i];
            }
            if (!values_[name].empty() && repeated.count(name) == 0) {
                error_ = "--" + name + " given twice";
                return;
            }
            values_[name].push_back(*value);
        }
    }
    const std::string& error() const { return error_; }
    bool Has(const std::string& name) const { return values_.count(name) > 0; }
    std::string Get(const std::string& name, std::string fallback = "") const {
        auto it = values_.find(name);
        return it == values_.end() ? fallback : it->second.front();
    }
    std::vector<std::string> All(const std::string& name) const {
        auto it = values_.find(name);
        return it == values_.end() ? std::vector<std::string>{} : it->second;
    }
    const std::vector<std::string>& positional() const { return positional_; }
    // Names given that are not in `known`.
    std::optional<std::string> Unknown(const std::set<std::string>& known) const {
        for (const auto& [name, v] : values_) {
            if (known.count(name) == 0) return name;
        }
        return std::nullopt;
    }

  private:
    std::map<std::string, std::vector<std::string>> values_;
    std::vector<std::string> positional_;
    std::string error_;
};

std::optional<double> ParseNumber(const std::string& text) {
    double v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return v;
}

int Usage(std::ostream& err, std::string_view help, const std::string& problem) {
    err << "error: " << problem << "\n\n" << help;
    return kUsage;
}

// The passphrase from a file (first line) or the environment; empty when neither.
Result<std::string> Passphrase(const Flags& flags) {
    if (flags.Has("passphrase-file")) {
        std::ifstream in(flags.Get("passphrase-file"));
        if (!in) return Fail(ErrorCode::kNotFound, "cannot read " + flags.Get("passphrase-file"));
        std::string line;
        std::getline(in, line);
        return line;
    }
    const char* env = std::getenv(std::string(kPassphraseEnv).c_str());
    return std::string(env != nullptr ? env : "");
}

std::string FormatTime(const std::optional<Timestamp>& t) {
    return t ? FormatRfc3339(*t) : std::string("unknown");
}

nlohmann::json ToJson(const VerificationReport& report) {
    nlohmann::json sigs = nlohmann::json::array();
    for (const auto& s : report.signatures) {
        nlohmann::json differences = nlohmann::json::array();
        for (const auto& d : s.differences) {
            differences.push_back({{"level", ToString(d.level)},
                                   {"allowed", d.allowed},
                                   {"where", d.where},
                                   {"what", d.what}});
        }
        sigs.push_back({
            {"field", s.field_name},
            {"sub_filter", s.sub_filter},
            {"document_timestamp", s.is_document_timestamp},
            {"certification_level", s.certification_level ? nlohmann::json(*s.certification_level)
                                                          : nlohmann::json(nullptr)},
            {"signer", s.signer_name},
            {"signer_subject", s.signer_subject},
            {"signer_serial_number", s.signer_serial_number},
            {"signing_time", s.signing_time ? nlohmann::json(FormatRfc3339(*s.signing_time))
                                            : nlohmann::json(nullptr)},
            {"byte_range", s.byte_range},
            {"revision", s.revision >= 0 ? nlohmann::json(s.revision) : nlohmann::json(nullptr)},
            {"digest_matches", s.digest_matches},
            {"signature_valid", s.signature_valid},
            {"covers_revision", s.covers_revision},
            {"covers_whole_file", s.covers_whole_file},
            {"modified_after", s.modified_after},
            {"modification_level", ToString(s.modification_level)},
            {"differences", differences},
            {"changes_after", s.changes_after},
            {"chain_trusted", s.chain_trusted},
            {"timestamped", s.timestamped},
            {"timestamp_valid", s.timestamp_valid},
            {"timestamp_time", s.timestamp_time ? nlohmann::json(FormatRfc3339(*s.timestamp_time))
                                                : nlohmann::json(nullptr)},
            {"timestamp_authority", s.timestamp_authority},
            {"is_valid", s.is_valid()},
            {"problems", s.problems},
        });
    }
    return {{"is_valid", report.all_valid()},
            {"revisions", report.revisions},
            {"signatures", sigs},
            {"problems", report.problems},
            {"remarks", report.remarks}};
}

}  // namespace

std::string VerificationReportToJson(const VerificationReport& report, int indent) {
    return ToJson(report).dump(indent);
}

int RunSignCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
    Flags flags(args, {"help", "invisible"});
    if (flags.Has("help")) {
        out << kSignHelp;
        return kOk;
    }
    if (!flags.error().empty()) return Usage(err, kSignHelp, flags.error());
    static const std::set<std::string> kKnown = {"help",
                                                 "invisible",
                                                 "data-dir",
                                                 "in",
                                                 "out",
                                                 "name",
                                                 "fiscal-code",
                                                 "nin",
                                                 "serial-number",
                                                 "field",
                                                 "page",
                                                 "x",
                                                 "y",
                                                 "w",
                                                 "h",
                                                 "clause",
                                                 "reason",
                                                 "location",
                                                 "field-name",
                                                 "given-name",
                                                 "surname",
                                                 "email",
                                                 "country",
                                                 "passphrase-file",
                                                 "tsa-url",
                                                 "pkcs11-module"};
    if (auto unknown = flags.Unknown(kKnown))
        return Usage(err, kSignHelp, "unknown flag --" + *unknown);
    if (!flags.positional().empty()) {
        return Usage(err, kSignHelp, "unexpected argument " + flags.positional().front());
    }
    for (const char* required : {"data-dir", "in", "out", "name"}) {
        if (!flags.Has(required))
            return Usage(err, kSignHelp, std::string("--") + required + " is required");
    }

    domain::SignerIdentity signer;
    signer.full_name = flags.Get("name");
    signer.given_name = flags.Get("given-name");
    signer.surname = flags.Get("surname");
    signer.email = flags.Get("email");
    signer.country = flags.Get("country");
    int identifiers = (flags.Has("fiscal-code") ? 1 : 0) + (flags.Has("nin") ? 1 : 0) +
                      (flags.Has("serial-number") ? 1 : 0);
    if (identifiers != 1) {
        return Usage(err, kSignHelp, "give exactly one of --fiscal-code, --nin, --serial-number");
    }
    std::string why;
    if (flags.Has("fiscal-code")) {
        auto code = domain::NormalizeFiscalCode(flags.Get("fiscal-code"), &why);
        if (!code) return Usage(err, kSignHelp, "invalid fiscal code: " + why);
        signer.serial_number =
            std::string(domain::EtsiPrefix(domain::IdentifierKind::kItFiscalCode)) + *code;
        if (signer.country.empty()) signer.country = "IT";
    } else if (flags.Has("nin")) {
        auto nin = domain::NormalizeNorwegianNin(flags.Get("nin"), &why);
        if (!nin) return Usage(err, kSignHelp, "invalid national identity number: " + why);
        signer.serial_number =
            std::string(domain::EtsiPrefix(domain::IdentifierKind::kNoNationalId)) + *nin;
        if (signer.country.empty()) signer.country = "NO";
    } else {
        signer.serial_number = flags.Get("serial-number");
    }

    domain::SignatureField field;
    field.clause.title = flags.Get("clause");
    bool by_position =
        flags.Has("page") || flags.Has("x") || flags.Has("y") || flags.Has("w") || flags.Has("h");
    if (flags.Has("field") == by_position) {
        return Usage(err, kSignHelp, "give either --field or --page/--x/--y/--w/--h");
    }
    if (flags.Has("field")) {
        field.attrs = domain::FieldByName{flags.Get("field")};
    } else {
        domain::FieldAtPosition at;
        auto page = ParseNumber(flags.Get("page", "0"));
        auto x = ParseNumber(flags.Get("x", "0"));
        auto y = ParseNumber(flags.Get("y", "0"));
        auto w = ParseNumber(flags.Get("w", flags.Has("invisible") ? "1" : ""));
        auto h = ParseNumber(flags.Get("h", flags.Has("invisible") ? "1" : ""));
        if (!page || !x || !y || !w || !h || *page != static_cast<int>(*page)) {
            return Usage(err, kSignHelp, "--page, --x, --y, --w and --h must be numbers");
        }
        at.page = static_cast<int>(*page);
        at.x = *x;
        at.y = *y;
        at.w = *w;
        at.h = *h;
        field.attrs = at;
    }

    auto passphrase = Passphrase(flags);
    if (!passphrase) {
        err << "error: " << passphrase.error().message << "\n";
        return kFailed;
    }
    crypto::CaOptions ca_options;
    ca_options.pkcs11_module = flags.Get("pkcs11-module");
    auto ca = crypto::CertificateAuthority::Load(flags.Get("data-dir"), *passphrase, ca_options);
    if (!ca) {
        err << "error: " << ca.error().message << "\n";
        return kFailed;
    }
    SystemClock clock;
    SystemRandom random;
    crypto::BuiltinTrustService trust(
        std::make_shared<const crypto::CertificateAuthority>(std::move(*ca)), clock, random);
    auto session = trust.OpenSession(signer);
    if (!session) {
        err << "error: " << session.error().message << "\n";
        return kFailed;
    }
    if (flags.Has("tsa-url")) {
        *session = std::make_unique<crypto::TimestampingSession>(
            std::move(*session),
            std::make_shared<crypto::HttpTimestampAuthority>(flags.Get("tsa-url")), random);
    }
    domain::SignatureDetails details;
    details.signer_name = signer.full_name;
    details.signing_time = clock.Now();
    details.reason = flags.Get("reason");
    details.location = flags.Get("location");
    details.field_name = flags.Get("field-name");
    details.visible = !flags.Has("invisible");
    PadesSigner signer_engine;
    auto outcome = signer_engine.Sign(flags.Get("in"), flags.Get("out"), field, details, **session);
    if (!outcome) {
        err << "error: " << outcome.error().message << "\n";
        for (const auto& v : outcome.error().violations)
            err << "  " << v.field << ": " << v.reason << "\n";
        return kFailed;
    }
    out << "signed " << flags.Get("out") << ": field '" << outcome->field_name << "', signer '"
        << signer.full_name << "' (" << signer.serial_number << "), " << outcome->signature_bytes
        << "-byte signature\n";
    return kOk;
}

int RunVerifyCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
    Flags flags(args, {"help", "json"}, {"trust"});
    if (flags.Has("help")) {
        out << kVerifyHelp;
        return kOk;
    }
    if (!flags.error().empty()) return Usage(err, kVerifyHelp, flags.error());
    if (auto unknown = flags.Unknown({"help", "json", "data-dir", "trust"})) {
        return Usage(err, kVerifyHelp, "unknown flag --" + *unknown);
    }
    if (flags.positional().size() != 1) return Usage(err, kVerifyHelp, "give one PDF file");
    std::vector<std::filesystem::path> anchor_files;
    if (flags.Has("data-dir")) {
        anchor_files.push_back(
            crypto::CertificateAuthority::CertificatePath(flags.Get("data-dir")));
    }
    for (const auto& t : flags.All("trust")) anchor_files.emplace_back(t);
    crypto::TrustAnchors anchors;
    if (!anchor_files.empty()) {
        auto loaded = crypto::TrustAnchors::FromFiles(anchor_files);
        if (!loaded) {
            err << "error: " << loaded.error().message << "\n";
            return kUsage;
        }
        anchors = std::move(*loaded);
    } else {
        err << "warning: no trust anchors (--data-dir or --trust); no chain can be trusted\n";
    }
    auto report = VerifyPdfFile(flags.positional().front(), anchors);
    if (!report) {
        err << "error: " << report.error().message << "\n";
        return kUsage;
    }
    if (flags.Has("json")) {
        out << VerificationReportToJson(*report, 2) << "\n";
        return report->all_valid() ? kOk : kFailed;
    }
    int n = 0;
    for (const auto& s : report->signatures) {
        out << "Signature " << ++n << " (field '" << s.field_name << "', " << s.sub_filter
            << "): " << (s.is_valid() ? "VALID" : "NOT VALID") << "\n"
            << "  signer:        " << s.signer_name;
        if (!s.signer_serial_number.empty()) out << " (" << s.signer_serial_number << ")";
        out << "\n  signing time:  " << FormatTime(s.signing_time) << " (claimed)\n"
            << "  digest:        " << (s.digest_matches ? "matches" : "DOES NOT MATCH") << "\n"
            << "  byte range:    "
            << (s.covers_whole_file ? "covers the whole file"
                : s.covers_revision ? "covers its revision"
                                    : "DOES NOT COVER its revision")
            << "\n  later changes: " << ToString(s.modification_level)
            << (s.modified_after        ? " (NOT ALLOWED)"
                : s.differences.empty() ? ""
                                        : " (allowed)")
            << "\n  certificate:   " << (s.chain_trusted ? "trusted" : "NOT TRUSTED") << "\n";
        if (s.timestamped) {
            out << "  time-stamp:    " << FormatTime(s.timestamp_time)
                << (s.timestamp_valid ? " (valid, " + s.timestamp_authority + ")" : " (NOT VALID)")
                << "\n";
        }
        for (const auto& d : s.differences) {
            if (d.allowed) out << "  change:  " << d.ToString() << "\n";
        }
        for (const auto& p : s.problems) out << "  problem: " << p << "\n";
    }
    for (const auto& p : report->problems) out << "problem: " << p << "\n";
    for (const auto& r : report->remarks) out << "remark: " << r << "\n";
    out << (report->all_valid() ? "All signatures are valid.\n"
                                : "The document is NOT validly signed.\n");
    return report->all_valid() ? kOk : kFailed;
}

int RunCaCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
    Flags flags(args, {"help"});
    if (flags.Has("help") || args.empty()) {
        out << kCaHelp;
        return args.empty() ? kUsage : kOk;
    }
    if (!flags.error().empty()) return Usage(err, kCaHelp, flags.error());
    if (flags.positional().size() != 1) return Usage(err, kCaHelp, "give init or cert");
    const std::string& action = flags.positional().front();
    if (!flags.Has("data-dir")) return Usage(err, kCaHelp, "--data-dir is required");
    std::filesystem::path data_dir = flags.Get("data-dir");
    if (action == "cert") {
        if (auto unknown = flags.Unknown({"help", "data-dir"})) {
            return Usage(err, kCaHelp, "unknown flag --" + *unknown);
        }
        std::ifstream in(crypto::CertificateAuthority::CertificatePath(data_dir));
        if (!in) {
            err << "error: no CA in " << data_dir.string() << " (run `firmo ca init`)\n";
            return kFailed;
        }
        out << in.rdbuf();
        return kOk;
    }
    if (action != "init") return Usage(err, kCaHelp, "unknown action " + action);
    if (auto unknown =
            flags.Unknown({"help", "data-dir", "key-type", "common-name", "organization", "country",
                           "validity-days", "passphrase-file", "pkcs11-uri", "pkcs11-module"})) {
        return Usage(err, kCaHelp, "unknown flag --" + *unknown);
    }
    crypto::CaOptions options;
    if (flags.Has("key-type")) {
        auto type = crypto::ParseKeyType(flags.Get("key-type"));
        if (!type) return Usage(err, kCaHelp, "--key-type is ecdsa-p256 or rsa-3072");
        options.key_type = *type;
    }
    options.common_name = flags.Get("common-name", options.common_name);
    options.organization = flags.Get("organization", options.organization);
    options.country = flags.Get("country");
    if (flags.Has("validity-days")) {
        auto days = ParseNumber(flags.Get("validity-days"));
        if (!days || *days < 1 || *days > 36500) {
            return Usage(err, kCaHelp, "--validity-days must be between 1 and 36500");
        }
        options.validity = std::chrono::days(static_cast<int>(*days));
    }
    auto passphrase = Passphrase(flags);
    if (!passphrase) {
        err << "error: " << passphrase.error().message << "\n";
        return kFailed;
    }
    options.pkcs11_module = flags.Get("pkcs11-module");
    SystemClock clock;
    SystemRandom random;
    if (flags.Has("pkcs11-uri")) {
        auto in_token = crypto::CertificateAuthority::CreateInToken(
            data_dir, options, flags.Get("pkcs11-uri"), *passphrase, clock, random);
        if (!in_token) {
            err << "error: " << in_token.error().message << "\n";
            return kFailed;
        }
        out << "created the CA with the key in the token " << flags.Get("pkcs11-uri") << " in "
            << (data_dir / "ca").string() << "\n";
        return kOk;
    }
    if (passphrase->empty()) {
        err << "warning: no passphrase (--passphrase-file or $" << kPassphraseEnv
            << "): the CA key is stored unencrypted, readable by its owner only\n";
    }
    auto ca = crypto::CertificateAuthority::Create(data_dir, options, *passphrase, clock, random);
    if (!ca) {
        err << "error: " << ca.error().message << "\n";
        return kFailed;
    }
    out << "created the CA (" << crypto::ToString(options.key_type) << ") in "
        << (data_dir / "ca").string() << "\n";
    return kOk;
}

}  // namespace firmo::pdf
