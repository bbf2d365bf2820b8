#pragma once
// The evidence report of a signature request (issue 17): a "signature report" PDF saying what
// was signed (each document's title and the SHA-256 of its original and signed bytes), by whom
// (name, identifier as the API shows it, on whose behalf), how they were authenticated, every
// step of the audit trail with its time and client address, and what the verifier finds in
// each signed PDF; sealed by the server with its own trust service and PDF signer (the
// signing path of the ceremony: no second signer). Only for final requests.
//
// Thread-safe; blocking (database, PDF work, signing): never call on an I/O thread.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "domain/ports/document_signer.hpp"
#include "domain/ports/trust_service.hpp"
#include "domain/services/context.hpp"
#include "domain/services/dossier_service.hpp"
#include "domain/services/issuer_service.hpp"
#include "domain/services/request_service.hpp"
#include "domain/services/signer_service.hpp"

namespace firmo::domain {

// What the verifier found in one signed PDF, in plain words.
struct PdfCheck {
    bool valid = false;              // at least one signature, and every one valid
    std::string level;               // the PAdES level reached ("B-LTA"), "" when not valid
    std::vector<std::string> lines;  // one per signature, then the document's problems
};
using PdfChecker = std::function<Result<PdfCheck>(std::string_view pdf)>;

struct EvidenceDocument {
    std::string id;
    std::string title;
    std::string status;
    std::string original_sha256;  // hex; empty when nothing was uploaded
    std::string signed_sha256;    // hex; empty when never signed
    int signatures = 0;
    std::optional<PdfCheck> check;  // of the signed PDF, when its bytes are still kept
    std::string note;               // why there is no check
};

struct EvidenceSigner {
    std::string id;
    std::string name;
    std::string identifier;  // "fiscal_code RSSMRA80A01H501U", "national_identity_number ..."
    std::string email;
    std::string phone;
    std::string on_behalf_of;  // "self" | "other"
    int order = 0;
    std::string status;
    std::string authentication_required;    // "code" | "eid_substantial" | "eid_high"
    std::string authenticated_with;         // the same; empty when never confirmed
    std::optional<Timestamp> confirmed_at;  // the second factor
    std::optional<Timestamp> signed_at;
    std::optional<Timestamp> rejected_at;
    std::string reject_reason;
    std::string signing_name;  // the name in the certificate
};

struct EvidenceStep {
    Timestamp at;
    std::string type;
    std::string from_status, to_status;
    std::string actor;
    std::string ip;      // the client address recorded with the step; empty when none
    std::string detail;  // the rest of what was recorded
    std::string document_id, signer_id;
};

struct EvidenceReport {
    std::string issuer_id, issuer_name;
    std::string request_id;
    std::string title;
    std::string reference;
    std::string status;
    Timestamp created_at;
    Timestamp expires_at;
    std::optional<Timestamp> closed_at;  // signed, rejected, cancelled or expired at
    std::string reject_reason;
    std::optional<Timestamp> documents_deleted_at;
    std::vector<EvidenceDocument> documents;
    std::vector<EvidenceSigner> signers;
    std::vector<EvidenceStep> steps;
    Timestamp generated_at;
    std::string time_zone;  // the institution's, for the second column of times
};

// Port: lays the report out as a PDF (src/pdf/evidence_report.hpp).
class EvidenceRenderer {
  public:
    virtual ~EvidenceRenderer() = default;
    EvidenceRenderer() = default;
    EvidenceRenderer(const EvidenceRenderer&) = delete;
    EvidenceRenderer& operator=(const EvidenceRenderer&) = delete;
    [[nodiscard]] virtual Result<std::string> Render(const EvidenceReport& report) const = 0;
};

struct EvidenceOptions {
    std::string time_zone = "UTC";
    // Who the seal's certificate names.
    std::string seal_name = "Firmo signature report seal";
};

// The IP address in an audit detail written by the signer side ("... ip=203.0.113.7 ua=..."
// or ip="..." when quoted), "" when none; `rest` gets the detail without it.
std::string AuditDetailIp(const std::string& detail, std::string* rest = nullptr);

class EvidenceService {
  public:
    EvidenceService(ServiceContext& ctx, RequestService& requests, DossierService& dossiers,
                    SignerService& signers, IssuerService& issuers,
                    const EvidenceRenderer& renderer, PdfChecker checker, TrustService& trust,
                    const DocumentSigner& signer, EvidenceOptions options = {})
        : ctx_(ctx),
          requests_(requests),
          dossiers_(dossiers),
          signers_(signers),
          issuers_(issuers),
          renderer_(renderer),
          checker_(std::move(checker)),
          trust_(trust),
          signer_(signer),
          options_(std::move(options)) {}

    // What the report says. kNotFound for another issuer's request, kNotFinal for a request
    // that is not final.
    [[nodiscard]] Result<EvidenceReport> Collect(const RequestScope& scope,
                                                 const std::string& request_id);
    // The sealed PDF: Collect, render, then one invisible signature by the server.
    [[nodiscard]] Result<std::string> Build(const RequestScope& scope,
                                            const std::string& request_id);

  private:
    [[nodiscard]] Result<std::string> Seal(const std::string& pdf, const EvidenceReport& report);

    ServiceContext& ctx_;
    RequestService& requests_;
    DossierService& dossiers_;
    SignerService& signers_;
    IssuerService& issuers_;
    const EvidenceRenderer& renderer_;
    PdfChecker checker_;
    TrustService& trust_;
    const DocumentSigner& signer_;
    EvidenceOptions options_;
};

}  // namespace firmo::domain
