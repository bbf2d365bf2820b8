#include "pdf/pades_signer.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/pem.h>

#include "core/clock.hpp"
#include "core/random.hpp"
#include "crypto/builtin_trust_service.hpp"
#include "crypto/certificate_authority.hpp"
#include "pdf/inspect.hpp"
#include "pdf/qpdf_support.hpp"
#include "pdf/testing/pdf_fixtures.hpp"

namespace firmo::pdf {
namespace {

using domain::FieldAtPosition;
using domain::FieldByName;
using domain::SignatureDetails;
using domain::SignatureField;
using testing::MakePdf;
using testing::PdfSpec;
using testing::Quote;
using testing::ReadFile;
using testing::RunCommand;
using testing::TempDir;
namespace fs = std::filesystem;

SignatureField ByName(std::string name) {
    return SignatureField{FieldByName{std::move(name)}, {"I accept the contract terms", {}}};
}

SignatureField At(int page, double x, double y, double w, double h) {
    return SignatureField{FieldAtPosition{page, x, y, w, h},
                          {"Clause 7: unfair terms, accepted", domain::ClauseType::kUnfair}};
}

domain::SignerIdentity Person(std::string name, std::string code) {
    return {.full_name = std::move(name),
            .given_name = "",
            .surname = "",
            .serial_number = "TINIT-" + std::move(code),
            .country = "IT",
            .email = ""};
}

// One CA and its NSS database for the whole suite: key generation and certutil are slow.
class SignerTest : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        shared_ = new Shared();
        auto ca = crypto::CertificateAuthority::Create(shared_->dir.path(), {}, "pw",
                                                       shared_->clock, shared_->random);
        ASSERT_TRUE(ca) << ca.error().message;
        shared_->ca = std::make_shared<const crypto::CertificateAuthority>(std::move(*ca));
        std::string log;
        ASSERT_TRUE(testing::MakeNssDb(
            shared_->dir / "nss",
            crypto::CertificateAuthority::CertificatePath(shared_->dir.path()), &log))
            << log;
    }
    static void TearDownTestSuite() {
        delete shared_;
        shared_ = nullptr;
    }

    std::unique_ptr<domain::SigningSession> Session(const std::string& name,
                                                    const std::string& code) {
        crypto::BuiltinTrustService trust(shared_->ca, shared_->clock, shared_->random);
        auto session = trust.OpenSession(Person(name, code));
        EXPECT_TRUE(session) << session.error().message;
        return std::move(*session);
    }

    SignatureDetails Details(const std::string& name) {
        SignatureDetails d;
        d.signer_name = name;
        d.signing_time = shared_->clock.Now();
        return d;
    }

    // Signs and checks what every output must satisfy: pdfsig (all signatures valid and
    // trusted, the last one covering the whole file), qpdf --check, and original bytes kept.
    SignOutcome SignAndCheck(const fs::path& in, const fs::path& out, const SignatureField& field,
                             const SignatureDetails& details, int expected_signatures) {
        auto session = Session(details.signer_name, "RSSMRA80A01H501U");
        auto outcome = signer_.Sign(in, out, field, details, *session);
        EXPECT_TRUE(outcome) << outcome.error().message;
        if (!outcome) return {};
        std::string original = ReadFile(in);
        std::string signed_pdf = ReadFile(out);
        EXPECT_EQ(signed_pdf.compare(0, original.size(), original), 0);
        EXPECT_EQ(outcome->byte_range[2] + outcome->byte_range[3], signed_pdf.size());

        auto report = testing::Pdfsig(shared_->dir / "nss", out);
        EXPECT_EQ(report.signatures, expected_signatures) << report.output;
        EXPECT_EQ(report.valid, expected_signatures) << report.output;
        EXPECT_EQ(report.trusted, expected_signatures) << report.output;
        EXPECT_GE(report.total, 1) << report.output;
        std::string log;
        EXPECT_EQ(RunCommand("qpdf --check " + Quote(out), &log), 0) << log;
        EXPECT_THAT(log, ::testing::Not(::testing::HasSubstr("WARNING"))) << log;
        return *outcome;
    }

    fs::path Write(const std::string& name, const std::string& bytes) {
        testing::WriteFile(dir_ / name, bytes);
        return dir_ / name;
    }

    fs::path Qpdf(const std::string& name, const std::string& pdf, const std::string& options) {
        fs::path in = Write(name + ".in.pdf", pdf);
        std::string log;
        EXPECT_EQ(RunCommand("qpdf " + options + " " + Quote(in) + " " + Quote(dir_ / name), &log),
                  0)
            << log;
        return dir_ / name;
    }

    fs::path Ghostscript(const std::string& name, int pages) {
        std::string log;
        EXPECT_EQ(
            RunCommand("gs -q -dSAFER -dNOPAUSE -dBATCH -sDEVICE=pdfwrite -sPAPERSIZE=a4 "
                       "-dFIXEDMEDIA -sOutputFile=" +
                           Quote(dir_ / name) + " -c '" + std::to_string(pages) +
                           " { /Helvetica findfont 20 scalefont setfont 72 700 moveto (Contract) "
                           "show showpage } repeat'",
                       &log),
            0)
            << log;
        return dir_ / name;
    }

    struct Shared {
        TempDir dir;
        SystemClock clock;
        SystemRandom random;
        std::shared_ptr<const crypto::CertificateAuthority> ca;
    };
    static Shared* shared_;
    TempDir dir_;
    PadesSigner signer_;
};

SignerTest::Shared* SignerTest::shared_ = nullptr;

PdfSpec WithEmptyField() {
    PdfSpec spec;
    spec.pages = {{}, {}};
    spec.fields.push_back({.name = "Signature1", .page = 1, .rect = {50, 60, 250, 110}});
    spec.fields.push_back({.name = "sig2", .parent = "form", .page = 0});
    return spec;
}

TEST_F(SignerTest, NewVisibleFieldOnGhostscriptDocument) {
    fs::path in = Ghostscript("gs.pdf", 2);
    auto outcome =
        SignAndCheck(in, dir_ / "signed.pdf", At(1, 50, 650, 220, 60), Details("Mario Rossi"), 1);
    EXPECT_EQ(outcome.field_name, "Signature1");
    EXPECT_EQ(outcome.xref_kind, XrefKind::kTable);
    auto info = InspectPdfFile(dir_ / "signed.pdf");
    ASSERT_TRUE(info) << info.error().message;
    EXPECT_TRUE(info->warnings.empty());
    ASSERT_EQ(info->fields.size(), 1u);
    EXPECT_TRUE(info->fields[0].is_signed);
    EXPECT_EQ(info->fields[0].page_index, 1);
    // y from the top: 842 - 650 - 60 = 132.
    EXPECT_EQ(info->fields[0].rect, (Rect{50, 132, 270, 192}));
}

TEST_F(SignerTest, ExistingEmptyFieldsByName) {
    fs::path in = Qpdf("fields.pdf", MakePdf(WithEmptyField()), "");
    SignAndCheck(in, dir_ / "one.pdf", ByName("Signature1"), Details("Mario Rossi"), 1);
    SignAndCheck(dir_ / "one.pdf", dir_ / "two.pdf", ByName("form.sig2"), Details("Anna Bianchi"),
                 2);
    auto info = InspectPdfFile(dir_ / "two.pdf");
    ASSERT_TRUE(info);
    EXPECT_EQ(info->signature_count, 2);
    EXPECT_EQ(info->fields.size(), 2u);
}

TEST_F(SignerTest, XrefStreamsGetAnXrefStreamUpdate) {
    fs::path in = Qpdf("objstm.pdf", MakePdf(WithEmptyField()), "--object-streams=generate");
    auto outcome =
        SignAndCheck(in, dir_ / "signed.pdf", ByName("Signature1"), Details("Mario Rossi"), 1);
    EXPECT_EQ(outcome.xref_kind, XrefKind::kStream);
    std::string signed_pdf = ReadFile(dir_ / "signed.pdf");
    internal::MemorySource source(signed_pdf);
    EXPECT_EQ(internal::LastXrefKind(source).value(), XrefKind::kStream);
    // And a second signer on a new field of that file.
    SignAndCheck(dir_ / "signed.pdf", dir_ / "two.pdf", At(0, 300, 700, 200, 80),
                 Details("Anna Bianchi"), 2);
}

TEST_F(SignerTest, ThreeSignersKeepEarlierSignaturesValid) {
    fs::path in = Ghostscript("three.pdf", 3);
    SignAndCheck(in, dir_ / "s1.pdf", At(2, 40, 700, 160, 50), Details("Mario Rossi"), 1);
    SignAndCheck(dir_ / "s1.pdf", dir_ / "s2.pdf", At(2, 220, 700, 160, 50),
                 Details("Anna Bianchi"), 2);
    SignAndCheck(dir_ / "s2.pdf", dir_ / "s3.pdf", At(2, 400, 700, 160, 50),
                 Details("Nicolò Verdi"), 3);
    auto report = testing::Pdfsig(shared_->dir / "nss", dir_ / "s3.pdf");
    EXPECT_EQ(report.total, 1) << report.output;  // only the last covers the whole file
    EXPECT_THAT(report.output, ::testing::HasSubstr("Nicolò Verdi"));
}

TEST_F(SignerTest, RotatedPages) {
    PdfSpec spec;
    spec.pages = {{}, {}, {}};
    fs::path in = Qpdf("rotated.pdf", MakePdf(spec), "--rotate=+90:1 --rotate=+270:3");
    SignAndCheck(in, dir_ / "r1.pdf", At(0, 600, 400, 200, 60), Details("Mario Rossi"), 1);
    SignAndCheck(dir_ / "r1.pdf", dir_ / "r2.pdf", At(2, 600, 400, 200, 60),
                 Details("Anna Bianchi"), 2);
    auto info = InspectPdfFile(dir_ / "r2.pdf");
    ASSERT_TRUE(info);
    // Page 0 is shown 842 wide, 595 high; the field lands in user space rotated.
    EXPECT_EQ(info->fields[0].rect, (Rect{400, 600, 460, 800}));
}

TEST_F(SignerTest, InvisibleSignature) {
    fs::path in = Ghostscript("invisible.pdf", 1);
    SignatureDetails details = Details("Mario Rossi");
    details.visible = false;
    details.field_name = "Approval";
    auto outcome = SignAndCheck(in, dir_ / "signed.pdf", At(0, 0, 0, 10, 10), details, 1);
    EXPECT_EQ(outcome.field_name, "Approval");
    auto info = InspectPdfFile(dir_ / "signed.pdf");
    ASSERT_TRUE(info);
    EXPECT_EQ(info->fields[0].rect, (Rect{0, 0, 0, 0}));
}

TEST_F(SignerTest, DocumentAlreadySignedByAnotherTool) {
    // pdfsig (NSS) signs first (adbe.pkcs7.detached: poppler 22.12 cannot add ETSI ones),
    // with a key the test imports into its own database.
    fs::path in = Ghostscript("other.pdf", 1);
    fs::path nss = dir_ / "nss-signer";
    std::string log;
    ASSERT_TRUE(testing::MakeNssDb(
        nss, crypto::CertificateAuthority::CertificatePath(shared_->dir.path()), &log))
        << log;
    auto key = crypto::GenerateKey(crypto::KeyType::kEcdsaP256);
    ASSERT_TRUE(key);
    auto cert = shared_->ca->Issue(Person("Other Tool", "VRDLGU70A01F205X"), key->get(),
                                   shared_->clock, shared_->random);
    ASSERT_TRUE(cert);
    // A PKCS#12 for pk12util, written with the openssl command line.
    {
        crypto::BioPtr key_bio(BIO_new_file((dir_ / "k.pem").c_str(), "w"));
        ASSERT_EQ(PEM_write_bio_PrivateKey(key_bio.get(), key->get(), nullptr, nullptr, 0, nullptr,
                                           nullptr),
                  1);
    }
    testing::WriteFile(dir_ / "c.pem", crypto::CertificateToPem(cert->get()).value());
    ASSERT_EQ(RunCommand("openssl pkcs12 -export -inkey " + Quote(dir_ / "k.pem") + " -in " +
                             Quote(dir_ / "c.pem") + " -name other -passout pass:x -out " +
                             Quote(dir_ / "k.p12"),
                         &log),
              0)
        << log;
    ASSERT_EQ(RunCommand("pk12util -i " + Quote(dir_ / "k.p12") + " -d " +
                             Quote("sql:" + nss.string()) + " -W x",
                         &log),
              0)
        << log;
    ASSERT_EQ(RunCommand("pdfsig -nssdir " + Quote("sql:" + nss.string()) +
                             " -add-signature -nick other " + Quote(in) + " " +
                             Quote(dir_ / "by-pdfsig.pdf"),
                         &log),
              0)
        << log;
    SignAndCheck(dir_ / "by-pdfsig.pdf", dir_ / "both.pdf", At(0, 300, 700, 200, 60),
                 Details("Mario Rossi"), 2);
}

TEST_F(SignerTest, RefusesWhatCannotBeSigned) {
    fs::path in = Qpdf("fields.pdf", MakePdf(WithEmptyField()), "");
    auto session = Session("Mario Rossi", "RSSMRA80A01H501U");
    auto missing = signer_.Sign(in, dir_ / "x.pdf", ByName("Nope"), Details("M"), *session);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, ErrorCode::kInvalidArgument);
    EXPECT_THAT(missing.error().violations,
                ::testing::ElementsAre(Violation{"signature_field",
                                                 "no signature field named 'Nope' in the "
                                                 "document"}));
    EXPECT_FALSE(fs::exists(dir_ / "x.pdf"));

    ASSERT_TRUE(signer_.Sign(in, dir_ / "one.pdf", ByName("Signature1"), Details("M"), *session));
    auto twice = signer_.Sign(dir_ / "one.pdf", dir_ / "two.pdf", ByName("Signature1"),
                              Details("M"), *session);
    ASSERT_FALSE(twice);
    EXPECT_THAT(twice.error().message, ::testing::HasSubstr("already signed"));

    EXPECT_EQ(signer_.Sign(in, in, ByName("Signature1"), Details("M"), *session).error().code,
              ErrorCode::kInvalidArgument);

    fs::path encrypted = Qpdf("enc.pdf", MakePdf(WithEmptyField()), "--encrypt u o 256 --");
    EXPECT_EQ(signer_.Sign(encrypted, dir_ / "e.pdf", ByName("Signature1"), Details("M"), *session)
                  .error()
                  .code,
              ErrorCode::kUnsupportedMediaType);
    fs::path junk = Write("junk.pdf", "not a pdf at all");
    EXPECT_EQ(
        signer_.Sign(junk, dir_ / "j.pdf", At(0, 0, 0, 1, 1), Details("M"), *session).error().code,
        ErrorCode::kMalformed);
}

TEST_F(SignerTest, RsaSignerKeys) {
    TempDir ca_dir;
    crypto::CaOptions options;
    options.key_type = crypto::KeyType::kRsa3072;
    auto ca = crypto::CertificateAuthority::Create(ca_dir.path(), options, "", shared_->clock,
                                                   shared_->random);
    ASSERT_TRUE(ca);
    std::string log;
    ASSERT_TRUE(testing::MakeNssDb(
        ca_dir / "nss", crypto::CertificateAuthority::CertificatePath(ca_dir.path()), &log))
        << log;
    crypto::BuiltinTrustService trust(
        std::make_shared<const crypto::CertificateAuthority>(std::move(*ca)), shared_->clock,
        shared_->random);
    auto session = trust.OpenSession(Person("Kari Nordmann", "X"));
    ASSERT_TRUE(session);
    fs::path in = Ghostscript("rsa.pdf", 1);
    ASSERT_TRUE(signer_.Sign(in, dir_ / "rsa-signed.pdf", At(0, 50, 50, 200, 50), Details("Kari"),
                             **session));
    auto report = testing::Pdfsig(ca_dir / "nss", dir_ / "rsa-signed.pdf");
    EXPECT_EQ(report.valid, 1) << report.output;
    EXPECT_EQ(report.trusted, 1) << report.output;
}

}  // namespace
}  // namespace firmo::pdf
