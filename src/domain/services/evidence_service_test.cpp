#include "domain/services/evidence_service.hpp"

#include <gtest/gtest.h>

#include "domain/services/testing/signer_side_fixture.hpp"

namespace firmo::domain {
namespace {

TEST(AuditDetailIp, TakesThePlainAddressOutOfTheDetail) {
    std::string rest;
    EXPECT_EQ(AuditDetailIp("via code ip=203.0.113.7 ua=\"curl\"", &rest), "203.0.113.7");
    EXPECT_EQ(rest, "via code ua=\"curl\"");
    EXPECT_EQ(AuditDetailIp("ip=2001:db8::1", &rest), "2001:db8::1");
    EXPECT_EQ(rest, "");
    EXPECT_EQ(AuditDetailIp("confirm ip=::1", &rest), "::1");
    EXPECT_EQ(rest, "confirm");
}

TEST(AuditDetailIp, KeepsAQuotedAddressWholeAndIgnoresOneInsideAQuotedReason) {
    std::string rest;
    // The signer side quotes an odd address; the user agent may contain " ip=" too, quoted.
    EXPECT_EQ(AuditDetailIp(R"(no ip="a b\" c" ua="x")", &rest), R"("a b\" c")");
    EXPECT_EQ(rest, R"(no ua="x")");
    // As the ceremony writes it for a forged reason and user agent (ceremony_service_test).
    EXPECT_EQ(
        AuditDetailIp(R"(reason="no\" ip=6.6.6.6" ip=203.0.113.7 ua="agent\" ip=6.6.6.6 ua=\"x")",
                      &rest),
        "203.0.113.7");
    EXPECT_EQ(rest, R"(reason="no\" ip=6.6.6.6" ua="agent\" ip=6.6.6.6 ua=\"x")");
    EXPECT_EQ(AuditDetailIp("1 pages", &rest), "");
    EXPECT_EQ(rest, "1 pages");
}

// Renders nothing but a PDF header and keeps what it was given.
class CapturingRenderer final : public EvidenceRenderer {
  public:
    Result<std::string> Render(const EvidenceReport& report) const override {
        last = report;
        return std::string("%PDF-1.7\n% report\n");
    }
    mutable EvidenceReport last;
};

class EvidenceServiceTest : public fixtures::SignerSideTest {
  protected:
    void SetUp() override {
        SignerSideTest::SetUp();
        dossiers_ = std::make_unique<DossierService>(*ctx_);
        signers_ = std::make_unique<SignerService>(*ctx_);
        issuers_ = std::make_unique<IssuerService>(*ctx_);
        evidence_ = std::make_unique<EvidenceService>(
            *ctx_, *requests_, *dossiers_, *signers_, *issuers_, renderer_,
            [this](std::string_view pdf) -> Result<PdfCheck> {
                checked_.emplace_back(pdf);
                return PdfCheck{.valid = true, .level = "B-B", .lines = {"signature: fine"}};
            },
            trust_, document_signer_, EvidenceOptions{.time_zone = "Europe/Rome"});
    }

    CapturingRenderer renderer_;
    std::vector<std::string> checked_;
    std::unique_ptr<DossierService> dossiers_;
    std::unique_ptr<SignerService> signers_;
    std::unique_ptr<IssuerService> issuers_;
    std::unique_ptr<EvidenceService> evidence_;
};

TEST_F(EvidenceServiceTest, OnlyAFinalRequestOfTheIssuerHasAReport) {
    auto r = MakeReadyRequest({{.identifier = fixtures::kMario, .email = "m@example.org"}});
    auto not_final = evidence_->Build(issuer_, r.id);
    ASSERT_FALSE(not_final);
    EXPECT_EQ(not_final.error().code, ErrorCode::kNotFinal);
    MakeIssuer("ISSUER-B", "Oslo kommune");
    auto other = evidence_->Build("ISSUER-B", r.id);
    ASSERT_FALSE(other);
    EXPECT_EQ(other.error().code, ErrorCode::kNotFound);
    EXPECT_TRUE(trust_.identities.empty());  // nothing sealed
}

TEST_F(EvidenceServiceTest, ASignedRequestsReportSaysWhatWhoHowAndIsSealedByTheServer) {
    auto r = MakeReadyRequest(
        {{.identifier = fixtures::kMario, .email = "m@example.org", .full_name = "Mario Rossi"}});
    SignAs(r, 0, LoginByCode(r, 0));
    r = Reload(r);
    ASSERT_EQ(r.status, RequestStatus::kSigned);
    const std::size_t signatures_before = document_signer_.calls.size();

    auto pdf = evidence_->Build(issuer_, r.id);
    ASSERT_TRUE(pdf) << pdf.error().message;
    // Sealed: one more (invisible) signature by the document signer, for the seal's identity.
    ASSERT_EQ(document_signer_.calls.size(), signatures_before + 1);
    EXPECT_FALSE(document_signer_.calls.back().details.visible);
    EXPECT_EQ(trust_.identities.back().full_name, "Firmo signature report seal");
    EXPECT_TRUE(trust_.identities.back().serial_number.empty());
    EXPECT_NE(pdf->find("%signed by Firmo signature report seal"), std::string::npos);

    const EvidenceReport& report = renderer_.last;
    EXPECT_EQ(report.status, "SIGNED");
    EXPECT_EQ(report.issuer_name, "Comune di Roma");
    EXPECT_EQ(report.title, "Contratto di lavoro");
    EXPECT_EQ(report.time_zone, "Europe/Rome");
    ASSERT_EQ(report.documents.size(), 1u);
    EXPECT_EQ(report.documents[0].original_sha256, r.documents[0].sha256_hex);
    EXPECT_EQ(report.documents[0].signed_sha256, r.documents[0].signed_sha256_hex);
    ASSERT_TRUE(report.documents[0].check);  // the signed bytes went to the verifier
    ASSERT_EQ(checked_.size(), 1u);
    EXPECT_EQ(checked_[0], Blob(*r.documents[0].signed_blob_key));
    ASSERT_EQ(report.signers.size(), 1u);
    EXPECT_EQ(report.signers[0].identifier, std::string("fiscal_code ") + fixtures::kMario);
    EXPECT_EQ(report.signers[0].name, "Mario Rossi");
    EXPECT_EQ(report.signers[0].on_behalf_of, "self");
    EXPECT_EQ(report.signers[0].authenticated_with, "code");
    EXPECT_TRUE(report.signers[0].signed_at);
    // Every audit step, with the signer's address where the step recorded one.
    EXPECT_EQ(report.steps.size(), Events(r).size());
    bool with_ip = false;
    for (const auto& step : report.steps) {
        if (step.ip == client_.ip) with_ip = true;
        EXPECT_EQ(step.detail.find("ip="), std::string::npos) << step.detail;
    }
    EXPECT_TRUE(with_ip);
}

TEST_F(EvidenceServiceTest, ACancelledRequestSaysNothingWasSigned) {
    auto r = MakeReadyRequest({{.identifier = fixtures::kMario, .email = "m@example.org"}});
    ASSERT_TRUE(requests_->ChangeStatus(issuer_, r.id, RequestedStatus::kCancelled, "test"));
    auto pdf = evidence_->Build(issuer_, r.id);
    ASSERT_TRUE(pdf) << pdf.error().message;
    const EvidenceReport& report = renderer_.last;
    EXPECT_EQ(report.status, "CANCELLED");
    EXPECT_TRUE(report.closed_at);
    ASSERT_EQ(report.documents.size(), 1u);
    EXPECT_FALSE(report.documents[0].check);
    EXPECT_EQ(report.documents[0].note, "never signed");
    EXPECT_TRUE(checked_.empty());
}

}  // namespace
}  // namespace firmo::domain
