// The archive job's PDF engine on a document time-stamped by a TSA whose certificate expires in
// a month: the proof's end is that expiry; a renewal with the node's current TSA adds the
// validation data and a document time-stamp, leaves every signature valid for pdfsig, and
// makes the document verify (B-LTA) after the first TSA's certificate expired.

#include "pdf/archive_timestamper.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "crypto/builtin_trust_service.hpp"
#include "crypto/builtin_tsa.hpp"
#include "pdf/testing/pdf_fixtures.hpp"
#include "pdf/testing/signing_fixture.hpp"

namespace firmo::pdf {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class ArchiveTimestamperTest : public ::testing::Test {
  protected:
    void SetUp() override {
        FIRMO_REQUIRE_TOOLS("qpdf", "pdfsig", "certutil", "pk12util");
        auto ca = crypto::CertificateAuthority::Create(Path("data"), {}, "pw", clock_, random_);
        ASSERT_TRUE(ca) << ca.error().message;
        ca_ = std::make_shared<const crypto::CertificateAuthority>(std::move(*ca));
        // The TSA of the signature expires in 30 days; the node's TSA now is a newer one.
        auto old_tsa = crypto::BuiltinTsa::LoadOrCreate(Path("old"), *ca_, "pw", clock_, random_,
                                                        {.certificate_validity = 30 * 24h});
        ASSERT_TRUE(old_tsa) << old_tsa.error().message;
        old_tsa_ = *old_tsa;
        auto tsa = crypto::BuiltinTsa::LoadOrCreate(Path("data"), *ca_, "pw", clock_, random_);
        ASSERT_TRUE(tsa) << tsa.error().message;
        tsa_ = *tsa;
        std::string log;
        ASSERT_TRUE(testing::MakeNssDb(
            Path("nss"), crypto::CertificateAuthority::CertificatePath(Path("data")), &log))
            << log;
    }

    fs::path Path(const std::string& name) const { return dir_.path() / name; }

    PdfArchiveTimestamper Timestamper() {
        const fs::path ca_pem = crypto::CertificateAuthority::CertificatePath(Path("data"));
        crypto::ValidationDataOptions options;
        options.local.certificate = ca_->certificate();
        options.local.ocsp = [this](std::string_view request) {
            return ca_->AnswerOcsp(
                request,
                [](const std::string&) -> Result<std::optional<domain::Revocation>> {
                    return std::optional<domain::Revocation>();
                },
                clock_.Now(), 24h);
        };
        validation_ = std::make_unique<crypto::ValidationDataCollector>(std::move(options));
        return PdfArchiveTimestamper(
            {.anchors = [ca_pem] { return crypto::TrustAnchors::FromFiles({ca_pem}); },
             .tsa = tsa_,
             .validation = validation_.get()},
            random_);
    }

    // A B-T signature by the old TSA.
    void SignOld(const fs::path& out) {
        testing::WriteFile(Path("in.pdf"), testing::MakePdf({}));
        crypto::BuiltinTrustService trust(ca_, clock_, random_);
        auto inner = trust.OpenSession(testing::Person("Mario Rossi", "RSSMRA80A01H501U"));
        ASSERT_TRUE(inner);
        crypto::TimestampingSession session(std::move(*inner), old_tsa_, random_);
        domain::SignatureDetails details{
            .signer_name = "Mario Rossi", .signing_time = clock_.Now(), .visible = false};
        ASSERT_TRUE(PadesSigner().Sign(Path("in.pdf"), out, testing::At(0, 10, 10, 1, 1), details,
                                       session));
    }

    testing::TempDir dir_;
    std::unique_ptr<crypto::ValidationDataCollector> validation_;
    ManualClock clock_{SystemClock().Now()};
    SystemRandom random_;
    std::shared_ptr<const crypto::CertificateAuthority> ca_;
    std::shared_ptr<crypto::BuiltinTsa> old_tsa_;
    std::shared_ptr<crypto::BuiltinTsa> tsa_;
};

TEST_F(ArchiveTimestamperTest, RenewsAProofThatEndsSoon) {
    SignOld(Path("bt.pdf"));
    auto timestamper = Timestamper();
    auto until = timestamper.ProofUntil(Path("bt.pdf"), clock_.Now());
    ASSERT_TRUE(until) << until.error().message;
    ASSERT_TRUE(*until);
    const auto old_expiry = crypto::TimestampOf(X509_get0_notAfter(old_tsa_->certificate()));
    EXPECT_EQ(**until, *old_expiry);

    auto renewed = timestamper.Renew(Path("bt.pdf"), Path("lta.pdf"), clock_.Now());
    ASSERT_TRUE(renewed) << renewed.error().message;
    ASSERT_TRUE(*renewed);
    EXPECT_EQ(**renewed, *crypto::TimestampOf(X509_get0_notAfter(tsa_->certificate())));
    EXPECT_GT(**renewed, *old_expiry + 365 * 24h);
    // The original bytes are kept; pdfsig finds both signatures valid.
    const std::string before = testing::ReadFile(Path("bt.pdf"));
    const std::string after = testing::ReadFile(Path("lta.pdf"));
    EXPECT_EQ(after.compare(0, before.size(), before), 0);
    // poppler 22.12 lists document time-stamps but cannot validate them ("Unable to validate
    // this type of signature"): the signature itself must stay valid.
    auto pdfsig = testing::Pdfsig(Path("nss"), Path("lta.pdf"));
    EXPECT_EQ(pdfsig.signatures, 2) << pdfsig.output;
    EXPECT_EQ(pdfsig.valid, 1) << pdfsig.output;
    EXPECT_EQ(pdfsig.trusted, 1) << pdfsig.output;

    // Once the old TSA's certificate has expired, only the renewal keeps the signature valid.
    auto anchors = crypto::TrustAnchors::FromFiles(
        {crypto::CertificateAuthority::CertificatePath(Path("data"))});
    ASSERT_TRUE(anchors);
    const Timestamp later = *old_expiry + 24h;
    auto without = VerifyPdfFile(Path("bt.pdf"), *anchors, {.validation_time = later});
    ASSERT_TRUE(without);
    EXPECT_FALSE(without->all_valid());
    auto with = VerifyPdfFile(Path("lta.pdf"), *anchors, {.validation_time = later});
    ASSERT_TRUE(with);
    EXPECT_TRUE(with->all_valid()) << ::testing::PrintToString(with->signatures[0].problems);
    // B-T still: the renewal adds validation data for the time-stamp, and this signature came
    // without any for its signer (a B-LT signature would now be B-LTA).
    EXPECT_EQ(with->level, PadesLevel::kT);
    ASSERT_EQ(with->signatures.size(), 2u);
    EXPECT_TRUE(with->signatures[1].is_valid());

    // A second renewal stacks another time-stamp over the first.
    auto again = timestamper.Renew(Path("lta.pdf"), Path("lta2.pdf"), clock_.Now());
    ASSERT_TRUE(again) << again.error().message;
    pdfsig = testing::Pdfsig(Path("nss"), Path("lta2.pdf"));
    EXPECT_EQ(pdfsig.signatures, 3) << pdfsig.output;
    EXPECT_EQ(pdfsig.valid, 1) << pdfsig.output;
}

TEST_F(ArchiveTimestamperTest, NothingToRenewWithoutATimeStamp) {
    testing::WriteFile(Path("in.pdf"), testing::MakePdf({}));
    auto timestamper = Timestamper();
    auto until = timestamper.ProofUntil(Path("in.pdf"), clock_.Now());
    ASSERT_TRUE(until) << until.error().message;
    EXPECT_FALSE(*until);
    EXPECT_FALSE(timestamper.Renew(Path("in.pdf"), Path("out.pdf"), clock_.Now()));
}

}  // namespace
}  // namespace firmo::pdf
