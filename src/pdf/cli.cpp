#include "pdf/cli.hpp"

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "core/clock.hpp"
#include "core/random.hpp"
#include "crypto/builtin_trust_service.hpp"
#include "crypto/certificate_authority.hpp"
#include "crypto/cms_verify.hpp"
#include "crypto/timestamp.hpp"
#include "domain/identifiers.hpp"
#include "pdf/long_term_signer.hpp"
#include "pdf/pades_signer.hpp"
#include "pdf/verify.hpp"

namespace firmo::pdf {
namespace {

constexpr int kOk = 0;
constexpr int kFailed = 1;
constexpr int kUsage = 2;
constexpr std::string_view kPassphraseEnv = "FIRMO_CA_PASSPHRASE";

// Options that parse but do not fit together.
int Usage(std::ostream& err, std::string_view command, const std::string& problem) {
    err << "error: " << problem << "\n"
        << "Run `firmo " << command << " --help` for the options.\n";
    return kUsage;
}

// The passphrase from a file (first line) or the environment; empty when neither.
Result<std::string> Passphrase(const PassphraseSource& source) {
    if (source.passphrase_file) {
        std::ifstream in(*source.passphrase_file);
        if (!in)
            return Fail(ErrorCode::kNotFound, "cannot read " + source.passphrase_file->string());
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

nlohmann::json TimeOrNull(const std::optional<Timestamp>& t) {
    return t ? nlohmann::json(FormatRfc3339(*t)) : nlohmann::json(nullptr);
}

nlohmann::json LevelOrNull(PadesLevel level) {
    return level == PadesLevel::kNone ? nlohmann::json(nullptr) : nlohmann::json(ToString(level));
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
            {"level", LevelOrNull(s.level)},
            {"proven_time", TimeOrNull(s.proven_time)},
            {"chain_checked_at", TimeOrNull(s.chain_checked_at)},
            {"revoked_after", TimeOrNull(s.revoked_after)},
            {"proof_until", TimeOrNull(s.proof_until)},
            {"is_valid", s.is_valid()},
            {"problems", s.problems},
        });
    }
    return {{"is_valid", report.all_valid()},
            {"validation_time", FormatRfc3339(report.validation_time)},
            {"level", LevelOrNull(report.level)},
            {"proof_until", TimeOrNull(report.proof_until)},
            {"revisions", report.revisions},
            {"signatures", sigs},
            {"problems", report.problems},
            {"remarks", report.remarks}};
}

}  // namespace

std::string VerificationReportToJson(const VerificationReport& report, int indent) {
    return ToJson(report).dump(indent);
}

int RunSign(const SignOptions& o, std::ostream& out, std::ostream& err) {
    domain::SignerIdentity signer;
    signer.full_name = o.name;
    signer.given_name = o.given_name;
    signer.surname = o.surname;
    signer.email = o.email;
    signer.country = o.country;
    const int identifiers = (o.fiscal_code ? 1 : 0) + (o.nin ? 1 : 0) + (o.serial_number ? 1 : 0);
    if (identifiers != 1) {
        return Usage(err, "sign", "give exactly one of --fiscal-code, --nin, --serial-number");
    }
    std::string why;
    if (o.fiscal_code) {
        auto code = domain::NormalizeFiscalCode(*o.fiscal_code, &why);
        if (!code) return Usage(err, "sign", "invalid fiscal code: " + why);
        signer.serial_number =
            std::string(domain::EtsiPrefix(domain::IdentifierKind::kItFiscalCode)) + *code;
        if (signer.country.empty()) signer.country = "IT";
    } else if (o.nin) {
        auto nin = domain::NormalizeNorwegianNin(*o.nin, &why);
        if (!nin) return Usage(err, "sign", "invalid national identity number: " + why);
        signer.serial_number =
            std::string(domain::EtsiPrefix(domain::IdentifierKind::kNoNationalId)) + *nin;
        if (signer.country.empty()) signer.country = "NO";
    } else {
        signer.serial_number = *o.serial_number;
    }

    domain::SignatureField field;
    field.clause.title = o.clause;
    const bool by_position = o.page || o.x || o.y || o.w || o.h;
    if (o.field.has_value() == by_position) {
        return Usage(err, "sign", "give either --field or --page/--x/--y/--w/--h");
    }
    if (o.field) {
        field.attrs = domain::FieldByName{*o.field};
    } else {
        domain::FieldAtPosition at;
        const double page = o.page.value_or(0);
        const std::optional<double> size = o.invisible ? std::optional<double>(1) : std::nullopt;
        const auto w = o.w ? o.w : size;
        const auto h = o.h ? o.h : size;
        if (!w || !h || page != static_cast<int>(page)) {
            return Usage(err, "sign", "--page, --x, --y, --w and --h must be numbers");
        }
        const double x = o.x.value_or(0);
        const double y = o.y.value_or(0);
        at.page = static_cast<int>(page);
        at.x = x;
        at.y = y;
        at.w = *w;
        at.h = *h;
        field.attrs = at;
    }

    SignatureLevel level = o.tsa_url ? SignatureLevel::kT : SignatureLevel::kB;
    if (o.level) {
        auto parsed = ParseSignatureLevel(*o.level);
        if (!parsed) return Usage(err, "sign", "--level is one of b-b, b-t, b-lt, b-lta");
        level = *parsed;
    }
    if (level >= SignatureLevel::kT && !o.tsa_url) {
        return Usage(err, "sign",
                     "--level " + std::string(ToString(level)) +
                         " needs a time-stamp authority: give --tsa-url (an RFC 3161 TSA, e.g. "
                         "a Firmo server's /pki/tsa)");
    }
    if (level == SignatureLevel::kB && o.tsa_url) {
        return Usage(err, "sign", "--level b-b signs without a time-stamp: leave out --tsa-url");
    }

    auto passphrase = Passphrase(o.passphrase);
    if (!passphrase) {
        err << "error: " << passphrase.error().message << "\n";
        return kFailed;
    }
    crypto::CaOptions ca_options;
    ca_options.pkcs11_module = o.pkcs11_module;
    auto ca = crypto::CertificateAuthority::Load(o.data_dir, *passphrase, ca_options);
    if (!ca) {
        err << "error: " << ca.error().message << "\n";
        return kFailed;
    }
    SystemClock clock;
    SystemRandom random;
    auto authority = std::make_shared<const crypto::CertificateAuthority>(std::move(*ca));
    crypto::BuiltinTrustService trust(authority, clock, random);
    auto session = trust.OpenSession(signer);
    if (!session) {
        err << "error: " << session.error().message << "\n";
        return kFailed;
    }
    std::shared_ptr<crypto::TimestampAuthority> tsa;
    if (o.tsa_url) {
        tsa = std::make_shared<crypto::HttpTimestampAuthority>(*o.tsa_url);
        *session = std::make_unique<crypto::TimestampingSession>(std::move(*session), tsa, random);
    }
    // The certificate just issued cannot have been revoked yet: the CA answers for it in
    // process. Any other certificate's status (the TSA's) comes from where it says.
    const auto new_cert = crypto::CertificateFromDer((*session)->CertificateDer());
    const std::string new_serial = new_cert ? crypto::SerialOf(new_cert->get()) : "";
    crypto::ValidationDataOptions validation_options;
    validation_options.local.certificate = authority->certificate();
    validation_options.local.ocsp = [&](std::string_view request) {
        return authority->AnswerOcsp(
            request,
            [&](const std::string& serial) -> Result<std::optional<domain::Revocation>> {
                if (serial != new_serial) return Fail(ErrorCode::kNotFound, "not issued here");
                return std::optional<domain::Revocation>();
            },
            clock.Now(), std::chrono::hours(1));
    };
    const crypto::ValidationDataCollector validation(validation_options);
    domain::SignatureDetails details;
    details.signer_name = signer.full_name;
    details.signing_time = clock.Now();
    details.reason = o.reason;
    details.location = o.location;
    details.field_name = o.field_name;
    details.visible = !o.invisible;
    PadesSigner signer_engine;
    std::filesystem::path signed_path = o.out;
    if (level >= SignatureLevel::kLt) signed_path += ".signed";
    auto outcome = signer_engine.Sign(o.in, signed_path, field, details, **session);
    if (!outcome) {
        err << "error: " << outcome.error().message << "\n";
        for (const auto& v : outcome.error().violations)
            err << "  " << v.field << ": " << v.reason << "\n";
        return kFailed;
    }
    if (level >= SignatureLevel::kLt) {
        LongTermSigner long_term(signer_engine, level, validation, tsa, random);
        auto added = long_term.AddLongTermProof(signed_path, o.out);
        std::error_code ec;
        std::filesystem::remove(signed_path, ec);
        if (!added) {
            err << "error: " << added.error().message << "\n";
            return kFailed;
        }
    }
    out << "signed " << o.out.string() << ": field '" << outcome->field_name << "', signer '"
        << signer.full_name << "' (" << signer.serial_number << "), " << outcome->signature_bytes
        << "-byte signature, PAdES " << ToString(level) << "\n";
    return kOk;
}

int RunVerify(const VerifyCommandOptions& o, std::ostream& out, std::ostream& err) {
    std::vector<std::filesystem::path> anchor_files;
    if (o.data_dir)
        anchor_files.push_back(crypto::CertificateAuthority::CertificatePath(*o.data_dir));
    for (const auto& t : o.trust) anchor_files.push_back(t);
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
    VerifyOptions options;
    if (o.at) {
        options.validation_time = ParseRfc3339(*o.at);
        if (!options.validation_time) {
            return Usage(err, "verify", "--at takes an RFC 3339 time, e.g. 2031-01-01T00:00:00Z");
        }
    }
    auto report = VerifyPdfFile(o.file, anchors, options);
    if (!report) {
        err << "error: " << report.error().message << "\n";
        return kUsage;
    }
    if (o.json) {
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
        if (s.chain_checked_at) {
            out << "  checked at:    " << FormatRfc3339(*s.chain_checked_at)
                << (s.proven_time ? " (proven by a time-stamp)" : " (validation time)") << "\n";
        }
        if (s.revoked_after) {
            out << "  revoked:       " << FormatRfc3339(*s.revoked_after)
                << ", after the proven time\n";
        }
        if (s.level != PadesLevel::kNone) {
            out << "  level:         " << ToString(s.level) << ", proof holds until "
                << FormatTime(s.proof_until) << "\n";
        }
        for (const auto& d : s.differences) {
            if (d.allowed) out << "  change:  " << d.ToString() << "\n";
        }
        for (const auto& p : s.problems) out << "  problem: " << p << "\n";
    }
    for (const auto& p : report->problems) out << "problem: " << p << "\n";
    for (const auto& r : report->remarks) out << "remark: " << r << "\n";
    out << "Validated at " << FormatRfc3339(report->validation_time);
    if (report->level != PadesLevel::kNone) {
        out << ": level " << ToString(report->level) << ", the proof holds until "
            << FormatTime(report->proof_until);
    }
    out << ".\n"
        << (report->all_valid() ? "All signatures are valid.\n"
                                : "The document is NOT validly signed.\n");
    return report->all_valid() ? kOk : kFailed;
}

int RunCaCert(const std::filesystem::path& data_dir, std::ostream& out, std::ostream& err) {
    std::ifstream in(crypto::CertificateAuthority::CertificatePath(data_dir));
    if (!in) {
        err << "error: no CA in " << data_dir.string() << " (run `firmo ca init`)\n";
        return kFailed;
    }
    out << in.rdbuf();
    return kOk;
}

int RunCaInit(const CaInitOptions& o, std::ostream& out, std::ostream& err) {
    const std::filesystem::path& data_dir = o.data_dir;
    crypto::CaOptions options;
    options.key_type = o.key_type;
    options.common_name = o.common_name.value_or(options.common_name);
    options.organization = o.organization.value_or(options.organization);
    options.country = o.country;
    if (o.validity_days) {
        if (*o.validity_days < 1 || *o.validity_days > 36500) {
            return Usage(err, "ca init", "--validity-days must be between 1 and 36500");
        }
        options.validity = std::chrono::days(*o.validity_days);
    }
    auto passphrase = Passphrase(o.passphrase);
    if (!passphrase) {
        err << "error: " << passphrase.error().message << "\n";
        return kFailed;
    }
    options.pkcs11_module = o.pkcs11_module;
    SystemClock clock;
    SystemRandom random;
    if (o.pkcs11_uri) {
        auto in_token = crypto::CertificateAuthority::CreateInToken(
            data_dir, options, *o.pkcs11_uri, *passphrase, clock, random);
        if (!in_token) {
            err << "error: " << in_token.error().message << "\n";
            return kFailed;
        }
        out << "created the CA with the key in the token " << *o.pkcs11_uri << " in "
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
