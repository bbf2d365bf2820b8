#include "domain/services/evidence_service.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "core/ids.hpp"
#include "core/scratch_dir.hpp"
#include "domain/states.hpp"

namespace firmo::domain {

namespace fs = std::filesystem;

namespace {

// The identifier as the API's signer view names it.
std::string IdentifierAsApi(const Signer& s) {
    switch (s.kind) {
        case IdentifierKind::kItFiscalCode:
            return "fiscal_code " + s.identifier;
        case IdentifierKind::kNoNationalId:
            return "national_identity_number " + s.identifier + " (NO)";
        default:
            return std::string(ToString(s.kind)) + " " + s.identifier;
    }
}

std::optional<Timestamp> ClosedAt(const SignatureRequest& r) {
    if (r.signed_at) return r.signed_at;
    if (r.rejected_at) return r.rejected_at;
    if (r.cancelled_at) return r.cancelled_at;
    if (r.expired_at) return r.expired_at;
    return std::nullopt;
}

Result<void> WriteAll(const fs::path& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) return Fail(ErrorCode::kInternal, "cannot write " + path.string());
    return {};
}

Result<std::string> ReadAll(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Fail(ErrorCode::kInternal, "cannot read " + path.string());
    return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

std::string AuditDetailIp(const std::string& detail, std::string* rest) {
    if (rest) *rest = detail;
    // The last `ip=` field outside quoted values: a quoted reason or user agent may contain
    // " ip=" (the signer side quotes what it did not write itself).
    std::size_t start = std::string::npos;
    bool quoted = false;
    for (std::size_t i = 0; i < detail.size(); ++i) {
        const char c = detail[i];
        if (quoted) {
            if (c == '\\') {
                ++i;
            } else if (c == '"') {
                quoted = false;
            }
        } else if (c == '"') {
            quoted = true;
        } else if ((i == 0 || detail[i - 1] == ' ') && detail.compare(i, 3, "ip=") == 0) {
            start = i;
        }
    }
    if (start == std::string::npos) return "";
    const std::size_t value = start + 3;
    std::size_t end = value;
    if (value < detail.size() && detail[value] == '"') {
        // A quoted (odd) address: up to the closing quote, escapes kept as written.
        end = value + 1;
        while (end < detail.size() && detail[end] != '"') end += detail[end] == '\\' ? 2 : 1;
        end = std::min(end + 1, detail.size());
    } else {
        end = std::min(detail.find(' ', value), detail.size());
    }
    const std::string ip = detail.substr(value, end - value);
    if (rest) {
        std::string without = detail.substr(0, start);
        while (!without.empty() && without.back() == ' ') without.pop_back();
        if (end < detail.size()) without += (without.empty() ? "" : " ") + detail.substr(end + 1);
        *rest = without;
    }
    return ip;
}

Result<EvidenceReport> EvidenceService::Collect(const RequestScope& scope,
                                                const std::string& request_id) {
    const std::string& issuer_id = scope.issuer_id;
    FIRMO_TRY(SignatureRequest r, requests_.Get(scope, request_id));
    if (!IsTerminal(r.status)) {
        return Fail(ErrorCode::kNotFinal,
                    "the evidence report exists once the request is final (now " +
                        std::string(ToString(r.status)) + ")");
    }
    FIRMO_TRY(auto events, requests_.Events(scope, request_id));
    EvidenceReport report;
    report.issuer_id = issuer_id;
    if (auto issuer = issuers_.Find(issuer_id)) report.issuer_name = issuer->name;
    report.request_id = r.id;
    if (auto dossier = dossiers_.Get(issuer_id, r.dossier_id)) report.title = dossier->title;
    report.reference = r.reference.value_or("");
    report.status = std::string(ToString(r.status));
    report.created_at = r.created_at;
    report.expires_at = r.expires_at;
    report.closed_at = ClosedAt(r);
    report.reject_reason = r.reject_reason.value_or("");
    report.documents_deleted_at = r.documents_deleted_at;
    report.generated_at = ctx_.clock.Now();
    report.time_zone = options_.time_zone;

    for (const Document& d : r.documents) {
        EvidenceDocument doc;
        doc.id = d.id;
        doc.title = d.metadata.title;
        doc.status = std::string(ToString(d.status));
        doc.original_sha256 = d.sha256_hex;
        doc.signed_sha256 = d.signed_sha256_hex;
        doc.signatures = d.signature_count;
        if (!d.signed_blob_key) {
            doc.note = "never signed";
        } else if (r.documents_deleted_at) {
            doc.note = "the document's bytes were deleted; the hashes above remain";
        } else {
            auto bytes = ctx_.blobs.Get(*d.signed_blob_key);
            if (!bytes) {
                doc.note = "the signed PDF could not be read: " + bytes.error().message;
            } else {
                auto check = checker_(*bytes);
                if (check) {
                    doc.check = std::move(*check);
                } else {
                    doc.note = "the signed PDF could not be verified: " + check.error().message;
                }
            }
        }
        report.documents.push_back(std::move(doc));
    }
    for (const RequestSigner& rs : r.signers) {
        EvidenceSigner s;
        s.id = rs.signer_id;
        if (auto signer = signers_.Get(issuer_id, rs.signer_id)) {
            s.name = signer->full_name.value_or("");
            s.identifier = IdentifierAsApi(*signer);
            s.email = signer->email.value_or("");
            s.phone = signer->phone.value_or("");
        }
        s.on_behalf_of = std::string(ToString(rs.on_behalf_of));
        s.order = rs.order;
        s.status = std::string(ToString(rs.status));
        s.authentication_required = std::string(ToString(rs.authentication));
        if (rs.authenticated_with) s.authenticated_with = ToString(*rs.authenticated_with);
        s.confirmed_at = rs.confirmed_at;
        s.signed_at = rs.signed_at;
        s.rejected_at = rs.rejected_at;
        s.reject_reason = rs.reject_reason.value_or("");
        s.signing_name = rs.signing_name;
        if (s.name.empty()) s.name = rs.signing_name;
        report.signers.push_back(std::move(s));
    }
    for (const AuditEvent& e : events) {
        EvidenceStep step{.at = e.at,
                          .type = e.type,
                          .from_status = e.from_status,
                          .to_status = e.to_status,
                          .actor = e.actor,
                          .ip = {},
                          .detail = {},
                          .document_id = e.document_id,
                          .signer_id = e.signer_id};
        step.ip = AuditDetailIp(e.detail, &step.detail);
        report.steps.push_back(std::move(step));
    }
    return report;
}

Result<std::string> EvidenceService::Build(const RequestScope& scope,
                                           const std::string& request_id) {
    FIRMO_TRY(EvidenceReport report, Collect(scope, request_id));
    FIRMO_TRY(std::string pdf, renderer_.Render(report));
    return Seal(pdf, report);
}

Result<std::string> EvidenceService::Seal(const std::string& pdf, const EvidenceReport& report) {
    FIRMO_TRY(auto scratch, ScratchDir::Create("firmo-evidence"));
    const fs::path report_path = scratch.path() / "report.pdf";
    const fs::path sealed_path = scratch.path() / "sealed.pdf";
    const fs::path proved_path = scratch.path() / "proved.pdf";
    FIRMO_CHECK(WriteAll(report_path, pdf));

    // The ceremony's path: a session of the trust service, one signature by the PDF signer,
    // then its post-sign stage (validation data, a document time-stamp) when it has one.
    SignerIdentity seal;
    seal.full_name = options_.seal_name;
    FIRMO_TRY(auto session, trust_.OpenSession(seal));
    SignatureDetails details;
    details.signer_name = options_.seal_name;
    details.signing_time = report.generated_at;
    details.reason = "Signature report of request " + report.request_id;
    details.field_name = "FirmoSeal";
    details.visible = false;
    // Invisible (/Rect [0 0 0 0] is written for it), but the field needs a size to be valid.
    const SignatureField field{FieldAtPosition{0, 0, 0, 1, 1}, Clause{"", ClauseType::kRequired},
                               std::nullopt};
    FIRMO_CHECK(signer_.SignFile(report_path, sealed_path, field, details, *session));
    FIRMO_TRY(bool proved, signer_.AddLongTermProof(sealed_path, proved_path));
    return ReadAll(proved ? proved_path : sealed_path);
}

}  // namespace firmo::domain
