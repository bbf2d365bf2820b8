// Validation at a point in time (the PAdES validation model of pdf/verify.hpp), on documents
// signed on a manual clock by the built-in CA and time-stamp authority: B-B, B-T, B-LT and
// B-LTA, years after the signer's certificate expired, and with a certificate revoked between
// two signatures. The tokens and OCSP responses are also checked with the openssl command line.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/ocsp.h>

#include <sstream>

#include "core/encoding.hpp"
#include "crypto/builtin_trust_service.hpp"
#include "crypto/builtin_tsa.hpp"
#include "crypto/der.hpp"
#include "crypto/timestamp.hpp"
#include "pdf/cli.hpp"
#include "pdf/pades_signer.hpp"
#include "pdf/testing/pdf_fixtures.hpp"
#include "pdf/testing/signing_fixture.hpp"
#include "pdf/verify.hpp"

namespace firmo::pdf {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::Quote;
using testing::ReadFile;
using testing::RunCommand;
using namespace std::chrono_literals;

constexpr auto kYear = std::chrono::hours(24 * 365);

// A signing session used for several signatures (the same certificate each time).
class Borrowed final : public domain::SigningSession {
  public:
    explicit Borrowed(domain::SigningSession& inner) : inner_(inner) {}
    Result<std::string> SignDigest(std::string_view sha256) override {
        return inner_.SignDigest(sha256);
    }
    std::size_t MaxSignatureSize() const override { return inner_.MaxSignatureSize(); }
    std::string CertificateDer() const override { return inner_.CertificateDer(); }

  private:
    domain::SigningSession& inner_;
};

class VerifyAtTest : public ::testing::Test {
  protected:
    void SetUp() override {
        FIRMO_REQUIRE_TOOLS("openssl", "qpdf");
        auto ca =
            crypto::CertificateAuthority::Create(dir_.path() / "data", {}, "pw", clock_, random_);
        ASSERT_TRUE(ca) << ca.error().message;
        ca_ = std::make_shared<const crypto::CertificateAuthority>(std::move(*ca));
        auto tsa =
            crypto::BuiltinTsa::LoadOrCreate(dir_.path() / "data", *ca_, "pw", clock_, random_);
        ASSERT_TRUE(tsa) << tsa.error().message;
        tsa_ = *tsa;
        auto anchors = crypto::TrustAnchors::FromFiles(
            {crypto::CertificateAuthority::CertificatePath(dir_.path() / "data")});
        ASSERT_TRUE(anchors);
        anchors_ = std::move(*anchors);
        testing::WriteFile(dir_.path() / "in.pdf", testing::MakePdf({}));
    }

    fs::path Path(const std::string& name) const { return dir_.path() / name; }

    std::unique_ptr<domain::SigningSession> Session() {
        crypto::BuiltinTrustService trust(ca_, clock_, random_);
        auto session = trust.OpenSession(testing::Person("Mario Rossi", "RSSMRA80A01H501U"));
        EXPECT_TRUE(session) << session.error().message;
        return std::move(*session);
    }

    // Signs in.pdf into `out` now, with a signature time-stamp unless `timestamp` is false.
    void Sign(domain::SigningSession& session, const std::string& out, bool timestamp = true) {
        domain::SignatureDetails details;
        details.signer_name = "Mario Rossi";
        details.signing_time = clock_.Now();
        details.visible = false;
        std::unique_ptr<domain::SigningSession> s = std::make_unique<Borrowed>(session);
        if (timestamp) {
            s = std::make_unique<crypto::TimestampingSession>(std::move(s), tsa_, random_);
        }
        auto field = testing::At(0, 10, 10, 1, 1);
        auto outcome = signer_.Sign(Path("in.pdf"), Path(out), field, details, *s);
        ASSERT_TRUE(outcome) << outcome.error().message;
    }

    // The CA's OCSP response for `cert_der`, made now; revoked at `revoked` when given.
    std::string Ocsp(const std::string& cert_der, std::optional<Timestamp> revoked = {}) {
        auto cert = crypto::CertificateFromDer(cert_der);
        EXPECT_TRUE(cert);
        crypto::OpensslPtr<OCSP_REQUEST, OCSP_REQUEST_free> request(OCSP_REQUEST_new());
        OCSP_request_add0_id(request.get(),
                             OCSP_cert_to_id(EVP_sha1(), cert->get(), ca_->certificate()));
        auto request_der = crypto::ToDer(request.get(), i2d_OCSP_REQUEST, "request");
        EXPECT_TRUE(request_der);
        auto ocsp = ca_->AnswerOcsp(
            *request_der,
            [&](const std::string& serial) -> Result<std::optional<domain::Revocation>> {
                if (!revoked) return std::optional<domain::Revocation>();
                return std::optional<domain::Revocation>(
                    domain::Revocation{.serial = serial, .revoked_at = *revoked, .reason = 1});
            },
            clock_.Now(), std::chrono::hours(1));
        EXPECT_TRUE(ocsp) << ocsp.error().message;
        return ocsp.value_or("");
    }

    std::string TsaCertificateDer() const {
        return crypto::CertificateToDer(tsa_->certificate()).value_or("");
    }

    // B-LT: the DSS gets the signer's and the TSA's certificates and OCSP responses made now.
    void AddValidationData(const std::string& in, const std::string& out,
                           const std::string& signer_der, std::optional<Timestamp> revoked = {}) {
        ValidationData data{
            .certificates = {signer_der, TsaCertificateDer()},
            .ocsp_responses = {Ocsp(signer_der, revoked), Ocsp(TsaCertificateDer())}};
        ASSERT_TRUE(signer_.AddValidationData(Path(in), Path(out), data));
    }

    VerificationReport VerifyAt(const std::string& name, Timestamp at) {
        auto report = VerifyPdfFile(Path(name), anchors_, {.validation_time = at});
        EXPECT_TRUE(report) << report.error().message;
        return report.value_or(VerificationReport{});
    }

    testing::TempDir dir_;
    ManualClock clock_{SystemClock().Now()};
    SystemRandom random_;
    std::shared_ptr<const crypto::CertificateAuthority> ca_;
    std::shared_ptr<crypto::BuiltinTsa> tsa_;
    crypto::TrustAnchors anchors_;
    PadesSigner signer_;
};

std::string Problems(const SignatureReport& s) { return ::testing::PrintToString(s.problems); }

TEST_F(VerifyAtTest, YearsAfterTheSignerCertificateExpiredATimeStampedSignatureIsValid) {
    const Timestamp signed_at = clock_.Now();
    auto session = Session();
    const std::string signer_der = session->CertificateDer();
    Sign(*session, "bb.pdf", false);
    Sign(*session, "bt.pdf");
    clock_.Advance(1min);
    AddValidationData("bt.pdf", "lt.pdf", signer_der);
    clock_.Advance(1min);
    ASSERT_TRUE(signer_.AddDocumentTimestamp(Path("lt.pdf"), Path("lta.pdf"), *tsa_, random_));

    // Right after signing: each file has the level it was made to.
    const Timestamp now = clock_.Now();
    EXPECT_EQ(VerifyAt("bb.pdf", now).level, PadesLevel::kB);
    EXPECT_EQ(VerifyAt("bt.pdf", now).level, PadesLevel::kT);
    EXPECT_EQ(VerifyAt("lt.pdf", now).level, PadesLevel::kLt);
    auto lta = VerifyAt("lta.pdf", now);
    ASSERT_EQ(lta.signatures.size(), 2u);
    EXPECT_TRUE(lta.all_valid()) << Problems(lta.signatures[0]) << Problems(lta.signatures[1]);
    EXPECT_EQ(lta.level, PadesLevel::kLta);
    EXPECT_EQ(lta.signatures[0].level, PadesLevel::kLta);

    // Three years on, the signer's certificate (valid for an hour) is long expired.
    const Timestamp later = signed_at + 3 * kYear;
    auto bb = VerifyAt("bb.pdf", later);
    ASSERT_EQ(bb.signatures.size(), 1u);
    EXPECT_FALSE(bb.all_valid()) << "a signature no time-stamp proves is checked at the "
                                    "validation time";
    EXPECT_THAT(Problems(bb.signatures[0]), HasSubstr("expired"));
    auto bt = VerifyAt("bt.pdf", later);
    EXPECT_TRUE(bt.all_valid()) << Problems(bt.signatures[0]);
    EXPECT_EQ(bt.level, PadesLevel::kT);
    lta = VerifyAt("lta.pdf", later);
    EXPECT_TRUE(lta.all_valid()) << Problems(lta.signatures[0]) << Problems(lta.signatures[1]);
    EXPECT_EQ(lta.level, PadesLevel::kLta);
    ASSERT_TRUE(lta.signatures[0].chain_checked_at);
    EXPECT_EQ(*lta.signatures[0].chain_checked_at, *lta.signatures[0].timestamp_time);
    // The proof holds until the last time-stamp's chain expires (the TSA's certificate).
    auto tsa_expiry = crypto::TimestampOf(X509_get0_notAfter(tsa_->certificate()));
    ASSERT_TRUE(tsa_expiry && lta.proof_until);
    EXPECT_EQ(*lta.proof_until, *tsa_expiry);
    EXPECT_GT(*lta.proof_until, later);

    // After that, nothing proves the time any more.
    auto expired = VerifyAt("lta.pdf", *tsa_expiry + 24h);
    EXPECT_FALSE(expired.all_valid());
    EXPECT_EQ(expired.level, PadesLevel::kNone);

    // The command line: firmo verify --at.
    VerifyCommandOptions options{
        .data_dir = dir_.path() / "data", .file = Path("lta.pdf"), .at = FormatRfc3339(later)};
    std::ostringstream out;
    std::ostringstream err;
    EXPECT_EQ(RunVerify(options, out, err), 0) << out.str() << err.str();
    EXPECT_THAT(out.str(), HasSubstr("level B-LTA"));
    EXPECT_THAT(out.str(), HasSubstr("All signatures are valid."));
    options.file = Path("bb.pdf");
    EXPECT_EQ(RunVerify(options, out, err), 1) << out.str();
    options.at = "next year";
    EXPECT_EQ(RunVerify(options, out, err), 2);
}

TEST_F(VerifyAtTest, ARevocationAfterTheTimeStampLeavesTheSignatureValid) {
    auto session = Session();
    const std::string signer_der = session->CertificateDer();
    const Timestamp first = clock_.Now();
    Sign(*session, "before.pdf");
    const Timestamp revoked = std::chrono::floor<std::chrono::seconds>(first + 10min);
    clock_.Set(first + 20min);
    Sign(*session, "after.pdf");
    clock_.Set(first + 25min);
    AddValidationData("before.pdf", "before-lt.pdf", signer_der, revoked);
    AddValidationData("after.pdf", "after-lt.pdf", signer_der, revoked);

    for (Timestamp at : {clock_.Now(), first + 2 * kYear}) {
        auto before = VerifyAt("before-lt.pdf", at);
        ASSERT_EQ(before.signatures.size(), 1u);
        EXPECT_TRUE(before.all_valid()) << Problems(before.signatures[0]);
        EXPECT_EQ(before.level, PadesLevel::kLt);
        ASSERT_TRUE(before.signatures[0].revoked_after);
        EXPECT_EQ(*before.signatures[0].revoked_after, revoked);

        auto after = VerifyAt("after-lt.pdf", at);
        ASSERT_EQ(after.signatures.size(), 1u);
        EXPECT_FALSE(after.all_valid());
        EXPECT_THAT(Problems(after.signatures[0]), HasSubstr("revoked"));
        EXPECT_EQ(after.level, PadesLevel::kNone);
    }

    // The OCSP response in the file, read by openssl: revoked, signed by the CA.
    const std::string ocsp = Ocsp(signer_der, revoked);
    testing::WriteFile(Path("resp.der"), ocsp);
    testing::WriteFile(
        Path("signer.pem"),
        crypto::CertificateToPem(crypto::CertificateFromDer(signer_der)->get()).value_or(""));
    const fs::path ca_pem = crypto::CertificateAuthority::CertificatePath(dir_.path() / "data");
    std::string log;
    EXPECT_EQ(RunCommand("openssl ocsp -respin " + Quote(Path("resp.der")) + " -issuer " +
                             Quote(ca_pem) + " -cert " + Quote(Path("signer.pem")) + " -CAfile " +
                             Quote(ca_pem) + " -validity_period 7200 2>&1",
                         &log),
              0)
        << log;
    EXPECT_THAT(log, HasSubstr("Response verify OK"));
    EXPECT_THAT(log, HasSubstr("revoked"));
}

TEST_F(VerifyAtTest, TheDocumentTimeStampVerifiesWithOpenssl) {
    auto session = Session();
    Sign(*session, "bt.pdf");
    ASSERT_TRUE(signer_.AddDocumentTimestamp(Path("bt.pdf"), Path("lta.pdf"), *tsa_, random_));
    auto report = VerifyAt("lta.pdf", clock_.Now());
    ASSERT_EQ(report.signatures.size(), 2u);
    const SignatureReport& stamp = report.signatures[1];
    ASSERT_TRUE(stamp.is_document_timestamp);
    EXPECT_TRUE(stamp.is_valid()) << Problems(stamp);
    const std::string pdf = ReadFile(Path("lta.pdf"));
    const auto& r = stamp.byte_range;
    testing::WriteFile(Path("data.bin"),
                       pdf.substr(0, r[1]) + pdf.substr(r[2], static_cast<std::size_t>(r[3])));
    // The token is the DER object at the start of the zero-padded /Contents.
    auto padded = HexDecode(pdf.substr(r[1] + 1, r[2] - r[1] - 2));
    ASSERT_TRUE(padded);
    std::size_t header = 0;
    std::size_t length = 0;
    ASSERT_TRUE(crypto::der::ReadHeader(*padded, &header, &length));
    testing::WriteFile(Path("token.der"), padded->substr(0, header + length));
    auto tsa_pem = tsa_->ChainPem();
    ASSERT_TRUE(tsa_pem);
    testing::WriteFile(Path("tsa-chain.pem"), *tsa_pem);
    const fs::path ca_pem = crypto::CertificateAuthority::CertificatePath(dir_.path() / "data");
    std::string log;
    EXPECT_EQ(RunCommand("openssl ts -verify -data " + Quote(Path("data.bin")) + " -in " +
                             Quote(Path("token.der")) + " -token_in -CAfile " + Quote(ca_pem) +
                             " -untrusted " + Quote(Path("tsa-chain.pem")) + " 2>&1",
                         &log),
              0)
        << log;
    EXPECT_THAT(log, HasSubstr("Verification: OK"));
}

}  // namespace
}  // namespace firmo::pdf
