#include "pdf/long_term_signer.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <qpdf/QPDF.hh>
#include <qpdf/QPDFExc.hh>
#include <set>

#include "pdf/qpdf_support.hpp"

namespace firmo::pdf {
namespace {

constexpr int kMaxFieldDepth = 32;
constexpr std::array<std::string_view, 4> kLevelNames = {"b-b", "b-t", "b-lt", "b-lta"};

// The /Contents of every signed signature field (signatures and document time-stamps).
void CollectContents(QPDFObjectHandle fields, int depth, std::set<QPDFObjGen>& seen,
                     std::vector<std::string>& out) {
    if (!fields.isArray() || depth > kMaxFieldDepth) return;
    for (auto& field : fields.aitems()) {
        if (!field.isDictionary()) continue;
        if (field.isIndirect() && !seen.insert(field.getObjGen()).second) continue;
        CollectContents(field.getKey("/Kids"), depth + 1, seen, out);
        QPDFObjectHandle value = field.getKey("/V");
        if (value.isDictionary() && value.getKey("/Contents").isString()) {
            out.push_back(value.getKey("/Contents").getStringValue());
        }
    }
}

}  // namespace

std::optional<SignatureLevel> ParseSignatureLevel(std::string_view text) {
    std::string lower;
    for (char c : text) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (std::size_t i = 0; i < kLevelNames.size(); ++i) {
        if (lower == kLevelNames[i]) return static_cast<SignatureLevel>(i);
    }
    return std::nullopt;
}

std::string_view ToString(SignatureLevel level) {
    return kLevelNames.at(static_cast<std::size_t>(level));
}

Result<DocumentCertificates> CertificatesToValidate(std::string_view pdf_bytes) {
    try {
        FIRMO_TRY(auto qpdf, internal::OpenMemory(pdf_bytes));
        QPDFObjectHandle root = qpdf->getRoot();
        std::vector<std::string> contents;
        std::set<QPDFObjGen> seen;
        CollectContents(root.getKeyIfDict("/AcroForm").getKeyIfDict("/Fields"), 0, seen, contents);
        DocumentCertificates out;
        std::set<std::string> stored;
        QPDFObjectHandle certs = root.getKeyIfDict("/DSS").getKeyIfDict("/Certs");
        if (certs.isArray()) {
            for (auto& c : certs.aitems()) {
                if (!c.isStream()) continue;
                auto data = c.getRawStreamData();
                std::string der(reinterpret_cast<const char*>(data->getBuffer()), data->getSize());
                if (stored.insert(der).second) out.stored.push_back(std::move(der));
            }
        }
        for (const auto& cms : contents) {
            FIRMO_TRY(auto found, crypto::CertificatesInSignature(cms));
            for (auto& der : found) {
                if (stored.count(der) == 0 &&
                    std::find(out.missing.begin(), out.missing.end(), der) == out.missing.end()) {
                    out.missing.push_back(std::move(der));
                }
            }
        }
        return out;
    } catch (const QPDFExc&) {
        return Fail(ErrorCode::kMalformed, std::string(internal::kReasonDamaged));
    } catch (const std::exception& e) {
        return Fail(ErrorCode::kInternal,
                    std::string("reading the signatures' certificates failed: ") + e.what());
    }
}

LongTermSigner::LongTermSigner(const PadesSigner& pades, SignatureLevel level,
                               const crypto::ValidationDataCollector& validation,
                               std::shared_ptr<crypto::TimestampAuthority> tsa, Random& random)
    : pades_(pades),
      level_(level),
      validation_(validation),
      tsa_(std::move(tsa)),
      random_(random) {}

Result<void> LongTermSigner::SignFile(const std::filesystem::path& in,
                                      const std::filesystem::path& out,
                                      const domain::SignatureField& field,
                                      const domain::SignatureDetails& details,
                                      domain::SigningSession& session) const {
    return pades_.SignFile(in, out, field, details, session);
}

Result<bool> LongTermSigner::AddLongTermProof(const std::filesystem::path& in,
                                              const std::filesystem::path& out) const {
    if (level_ < SignatureLevel::kLt) return false;
    if (level_ == SignatureLevel::kLta && !tsa_) {
        return Fail(ErrorCode::kInternal, "B-LTA needs a time-stamp authority");
    }
    FIRMO_TRY(auto mapped, internal::MappedFile::Open(in));
    FIRMO_TRY(DocumentCertificates certificates, CertificatesToValidate(mapped->bytes()));
    mapped.reset();
    FIRMO_TRY(crypto::ValidationData data,
              validation_.Collect(certificates.missing, certificates.stored));
    std::filesystem::path with_dss = out;
    with_dss += ".dss";
    const std::filesystem::path& lt_out = level_ == SignatureLevel::kLt ? out : with_dss;
    const std::filesystem::path* stamped_from = &in;
    if (!data.empty()) {
        FIRMO_CHECK(pades_.AddValidationData(in, lt_out, data));
        stamped_from = &lt_out;
    } else if (level_ == SignatureLevel::kLt) {
        return false;  // everything is in the DSS already
    }
    if (level_ == SignatureLevel::kLta) {
        auto stamped = pades_.AddDocumentTimestamp(*stamped_from, out, *tsa_, random_);
        std::error_code ec;
        std::filesystem::remove(with_dss, ec);
        FIRMO_CHECK(stamped);
    }
    return true;
}

}  // namespace firmo::pdf
