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
#include "pdf/testing/signing_fixture.hpp"
#include "pdf/verify.hpp"

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
using testing::At;
using testing::ByName;
using testing::Person;

class SignerTest : public testing::SigningTest {};

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

TEST_F(SignerTest, LinearizedInput) {
    fs::path in = Qpdf("linear.pdf", MakePdf(WithEmptyField()), "--linearize");
    SignAndCheck(in, dir_ / "signed.pdf", ByName("Signature1"), Details("Mario Rossi"), 1);
}

TEST_F(SignerTest, PdfAInputsGetAnEmbeddedAppearanceFont) {
    FIRMO_REQUIRE_TOOLS("pdffonts");
    if (!fs::exists(SignerOptions{}.appearance_font)) GTEST_SKIP() << "fonts-urw-base35 missing";
    PdfSpec spec = WithEmptyField();
    spec.pdfa_part = "2";
    fs::path in = Qpdf("pdfa.pdf", MakePdf(spec), "");
    SignAndCheck(in, dir_ / "a1.pdf", ByName("Signature1"), Details("Nicolò Rossi"), 1);
    SignAndCheck(dir_ / "a1.pdf", dir_ / "a2.pdf", At(0, 50, 50, 200, 50), Details("Anna Bianchi"),
                 2);
    std::string fonts;
    ASSERT_EQ(RunCommand("pdffonts " + Quote(dir_ / "a2.pdf"), &fonts), 0) << fonts;
    EXPECT_THAT(fonts, ::testing::ContainsRegex("NimbusSans-Regular +Type 1 +WinAnsi +yes"));
    EXPECT_THAT(fonts, ::testing::Not(::testing::HasSubstr("Helvetica")));
    // The second signer reuses the font the first one embedded.
    auto first = fs::file_size(dir_ / "a1.pdf") - fs::file_size(in);
    auto second = fs::file_size(dir_ / "a2.pdf") - fs::file_size(dir_ / "a1.pdf");
    EXPECT_GT(first, 50'000u);
    EXPECT_LT(second, 20'000u);
    auto anchors = crypto::TrustAnchors::FromPem(*shared_->ca->CertificatePem());
    ASSERT_TRUE(anchors);
    auto verified = VerifyPdfFile(dir_ / "a2.pdf", *anchors);
    ASSERT_TRUE(verified);
    EXPECT_TRUE(verified->all_valid());  // adding the font to /DR is an allowed change

    // Documents without a PDF/A claim keep the standard, non-embedded Helvetica.
    fs::path plain = Qpdf("plain.pdf", MakePdf(WithEmptyField()), "");
    SignAndCheck(plain, dir_ / "p1.pdf", ByName("Signature1"), Details("Mario Rossi"), 1);
    ASSERT_EQ(RunCommand("pdffonts " + Quote(dir_ / "p1.pdf"), &fonts), 0) << fonts;
    EXPECT_THAT(fonts, ::testing::ContainsRegex("Helvetica +Type 1 +WinAnsi +no"));
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
    fs::path in = Ghostscript("other.pdf", 1);
    ASSERT_TRUE(SignWithPdfsig(in, dir_ / "by-pdfsig.pdf"));
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

// The in-memory one-pass signer: the original bytes kept, one more valid signature, and the
// same refusals as the file signer (nothing written anywhere).
TEST_F(SignerTest, SignsBytesInMemory) {
    const std::string original = ReadFile(Ghostscript("mem.pdf", 2));
    auto session = Session("Mario Rossi", "RSSMRA80A01H501U");
    std::string signed_pdf;
    auto outcome = signer_.SignBytes(original, signed_pdf, At(1, 50, 650, 220, 60),
                                     Details("Mario Rossi"), *session);
    ASSERT_TRUE(outcome) << outcome.error().message;
    EXPECT_EQ(signed_pdf.compare(0, original.size(), original), 0);
    EXPECT_EQ(outcome->byte_range[2] + outcome->byte_range[3], signed_pdf.size());
    EXPECT_EQ(outcome->field_name, "Signature1");
    const fs::path out = Write("mem-signed.pdf", signed_pdf);
    auto report = testing::Pdfsig(shared_->dir / "nss", out);
    EXPECT_EQ(report.valid, 1) << report.output;
    EXPECT_EQ(report.trusted, 1) << report.output;
    // A second signer over the first one's bytes.
    std::string twice;
    ASSERT_TRUE(signer_.SignBytes(signed_pdf, twice, At(0, 300, 700, 200, 60),
                                  Details("Anna Bianchi"),
                                  *Session("Anna Bianchi", "BNCNNA80A41H501Y")));
    auto both = testing::Pdfsig(shared_->dir / "nss", Write("mem-twice.pdf", twice));
    EXPECT_EQ(both.valid, 2) << both.output;

    std::string untouched = "kept";
    auto junk =
        signer_.SignBytes("not a pdf at all", untouched, At(0, 0, 0, 1, 1), Details("M"), *session);
    ASSERT_FALSE(junk);
    EXPECT_EQ(junk.error().code, ErrorCode::kMalformed);
    auto missing = signer_.SignBytes(original, untouched, ByName("Nope"), Details("M"), *session);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(untouched, "kept");
}

// Appending to the caller's buffer: the same signature as SignBytes would make, and a refused
// signature leaves the buffer as it was.
TEST_F(SignerTest, SignsAppendingToTheCallersBuffer) {
    const std::string original = ReadFile(Ghostscript("append.pdf", 1));
    auto session = Session("Mario Rossi", "RSSMRA80A01H501U");
    std::string document = original;
    auto outcome =
        signer_.SignAppending(document, At(0, 50, 650, 220, 60), Details("Mario Rossi"), *session);
    ASSERT_TRUE(outcome) << outcome.error().message;
    EXPECT_EQ(document.compare(0, original.size(), original), 0);
    EXPECT_EQ(outcome->byte_range[2] + outcome->byte_range[3], document.size());
    auto report = testing::Pdfsig(shared_->dir / "nss", Write("appended.pdf", document));
    EXPECT_EQ(report.valid, 1) << report.output;

    const std::string signed_once = document;
    auto missing = signer_.SignAppending(document, ByName("Nope"), Details("M"), *session);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(document, signed_once);
    std::string junk = "not a pdf at all";
    ASSERT_FALSE(signer_.SignAppending(junk, At(0, 0, 0, 1, 1), Details("M"), *session));
    EXPECT_EQ(junk, "not a pdf at all");
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
