#include "pdf/qpdf_validator.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <random>

#include "pdf/inspect.hpp"
#include "pdf/qpdf_support.hpp"
#include "pdf/testing/pdf_fixtures.hpp"
#include "pdf/testing/pdf_writer.hpp"

namespace firmo::pdf {
namespace {

using domain::FieldAtPosition;
using domain::FieldByName;
using domain::SignatureField;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::MakePdf;
using testing::PdfSpec;
using testing::Quote;
using testing::ReadFile;
using testing::RunCommand;
using testing::TempDir;

SignatureField ByName(std::string name) {
    return SignatureField{FieldByName{std::move(name)}, {"I accept the terms", {}}};
}

SignatureField At(int page, double x, double y, double w, double h) {
    return SignatureField{FieldAtPosition{page, x, y, w, h}, {"I accept the terms", {}}};
}

Violation FileViolation(std::string_view reason) { return Violation{"file", std::string(reason)}; }

// Rewrites `in` with the qpdf command line (an independent writer) and returns the result.
// `repairs` accepts qpdf's "succeeded with warnings" status, for inputs made broken on purpose.
std::string ThroughQpdf(const TempDir& dir, const std::string& pdf, const std::string& options,
                        bool repairs = false) {
    testing::WriteFile(dir / "in.pdf", pdf);
    std::string log;
    int rc = RunCommand(
        "qpdf " + options + " " + Quote(dir / "in.pdf") + " " + Quote(dir / "out.pdf"), &log);
    EXPECT_TRUE(rc == 0 || (repairs && rc == 3)) << log;
    return ReadFile(dir / "out.pdf");
}

std::string Ghostscript(const TempDir& dir, int pages) {
    std::string log;
    int rc = RunCommand(
        "gs -q -dSAFER -dNOPAUSE -dBATCH -sDEVICE=pdfwrite -sPAPERSIZE=a4 -dFIXEDMEDIA "
        "-sOutputFile=" +
            Quote(dir / "gs.pdf") + " -c '" + std::to_string(pages) +
            " { /Helvetica findfont 24 scalefont setfont 72 700 moveto (Firmo) show "
            "showpage } repeat'",
        &log);
    EXPECT_EQ(rc, 0) << log;
    return ReadFile(dir / "gs.pdf");
}

PdfSpec WithSignatureField() {
    PdfSpec spec;
    spec.pages = {{}, {}};
    spec.fields.push_back({.name = "Signature1", .page = 1, .rect = {50, 60, 250, 110}});
    spec.fields.push_back({.name = "Name", .type = "Tx", .page = 0});
    spec.fields.push_back({.name = "Done", .page = 0, .signed_value = true});
    spec.fields.push_back({.name = "sig2", .parent = "form", .page = 0});
    return spec;
}

// Compresses `size` zero bytes: a small stream that expands enormously.
std::string DeflatedZeros(std::size_t size) {
    z_stream z{};
    deflateInit(&z, Z_BEST_COMPRESSION);
    std::string zeros(1 << 20, '\0');
    std::string out;
    std::string buf(1 << 16, '\0');
    std::size_t left = size;
    while (true) {
        std::size_t chunk = std::min(left, zeros.size());
        z.next_in = reinterpret_cast<Bytef*>(zeros.data());
        z.avail_in = static_cast<uInt>(chunk);
        left -= chunk;
        int flush = left == 0 ? Z_FINISH : Z_NO_FLUSH;
        do {
            z.next_out = reinterpret_cast<Bytef*>(buf.data());
            z.avail_out = static_cast<uInt>(buf.size());
            deflate(&z, flush);
            out.append(buf.data(), buf.size() - z.avail_out);
        } while (z.avail_out == 0);
        if (flush == Z_FINISH) break;
    }
    deflateEnd(&z);
    return out;
}

// A valid PDF with one more object: a Flate stream of `expanded` zero bytes.
std::string PdfWithBomb(const TempDir& dir, std::size_t expanded) {
    std::string base = MakePdf(PdfSpec{});
    std::string data = DeflatedZeros(expanded);
    // Insert the stream as object 99 just before the xref (hung on the catalog so it is
    // reachable); qpdf then rebuilds the cross-reference table around it.
    auto xref = base.find("xref\n");
    std::string obj = "99 0 obj\n<< /Length " + std::to_string(data.size()) +
                      " /Filter /FlateDecode >>\nstream\n" + data + "\nendstream\nendobj\n";
    base.insert(xref, obj);
    auto catalog = base.find("/Type /Catalog");
    base.insert(catalog, "/Bomb 99 0 R ");
    return ThroughQpdf(dir, base, "--stream-data=preserve", true);
}

class ValidatorTest : public ::testing::Test {
  protected:
    void SetUp() override { FIRMO_REQUIRE_TOOLS("qpdf", "gs"); }
    QpdfValidator validator_;
    TempDir dir_;
};

TEST_F(ValidatorTest, AcceptsGhostscriptDocumentWithNewFields) {
    std::string pdf = Ghostscript(dir_, 3);
    auto report = validator_.ValidateBytes(pdf, {At(0, 50, 700, 200, 50), At(2, 0, 0, 595, 842)});
    EXPECT_TRUE(report.is_valid);
    EXPECT_EQ(report.page_count, 3);
    EXPECT_TRUE(report.violations.empty());
}

TEST_F(ValidatorTest, ValidateFileMatchesValidateBytes) {
    std::string pdf = Ghostscript(dir_, 2);
    auto report =
        validator_.ValidateFile(dir_ / "gs.pdf", {At(1, 10, 10, 10, 10), At(2, 0, 0, 1, 1)});
    EXPECT_FALSE(report.is_valid);
    EXPECT_EQ(report.page_count, 2);
    EXPECT_THAT(report.violations,
                ElementsAre(Violation{"signature_fields[1]",
                                      "page 2 does not exist (the document has 2 pages, counted "
                                      "from 0)"}));
}

TEST_F(ValidatorTest, FieldOutsidePageOrWithoutArea) {
    std::string pdf = Ghostscript(dir_, 1);
    auto report = validator_.ValidateBytes(
        pdf, {At(0, 500, 10, 100, 50), At(0, 10, 800, 100, 50), At(0, -1, 10, 10, 10),
              At(0, 10, 10, 0, 10), At(-1, 0, 0, 10, 10)});
    EXPECT_THAT(
        report.violations,
        ElementsAre(
            Violation{"signature_fields[0]",
                      "the field does not fit inside page 0 (595 x 842 points)"},
            Violation{"signature_fields[1]",
                      "the field does not fit inside page 0 (595 x 842 points)"},
            Violation{"signature_fields[2]",
                      "the field does not fit inside page 0 (595 x 842 points)"},
            Violation{"signature_fields[3]",
                      "the field's width and height must be greater than zero"},
            Violation{"signature_fields[4]",
                      "page -1 does not exist (the document has 1 pages, counted from 0)"}));
}

TEST_F(ValidatorTest, ExistingFieldsByName) {
    std::string pdf = ThroughQpdf(dir_, MakePdf(WithSignatureField()), "");
    auto report =
        validator_.ValidateBytes(pdf, {ByName("Signature1"), ByName("form.sig2"), ByName("Missing"),
                                       ByName("Name"), ByName("Done"), ByName("sig2")});
    EXPECT_EQ(report.page_count, 2);
    EXPECT_THAT(
        report.violations,
        ElementsAre(
            Violation{"signature_fields[2]", "no signature field named 'Missing' in the document"},
            Violation{"signature_fields[3]", "the field 'Name' is not a signature field"},
            Violation{"signature_fields[4]", "the signature field 'Done' is already signed"},
            Violation{"signature_fields[5]", "no signature field named 'sig2' in the document"}));
}

TEST_F(ValidatorTest, ObjectStreamsAndXrefStream) {
    std::string pdf = ThroughQpdf(dir_, MakePdf(WithSignatureField()), "--object-streams=generate");
    auto info = InspectPdfBytes(pdf);
    ASSERT_TRUE(info) << info.error().message;
    EXPECT_EQ(info->last_xref_kind, XrefKind::kStream);
    auto report = validator_.ValidateBytes(pdf, {ByName("Signature1"), At(1, 0, 0, 100, 100)});
    EXPECT_TRUE(report.is_valid);
}

TEST_F(ValidatorTest, RotatedPagesSwapTheirSides) {
    PdfSpec spec;
    spec.pages = {{}, {}};
    std::string pdf = ThroughQpdf(dir_, MakePdf(spec), "--rotate=+90:2");
    // Page 1 now shows as landscape 842 x 595.
    auto report = validator_.ValidateBytes(
        pdf, {At(1, 700, 10, 100, 50), At(1, 10, 560, 100, 50), At(0, 10, 700, 100, 50)});
    EXPECT_THAT(report.violations,
                ElementsAre(Violation{"signature_fields[1]",
                                      "the field does not fit inside page 1 (842 x 595 points)"}));
}

TEST_F(ValidatorTest, CropBoxLimitsThePage) {
    PdfSpec spec;
    spec.pages = {{.crop_box = std::vector<double>{0, 0, 300, 400}}};
    auto report = validator_.ValidateBytes(MakePdf(spec), {At(0, 250, 0, 100, 10)});
    EXPECT_THAT(report.violations,
                ElementsAre(Violation{"signature_fields[0]",
                                      "the field does not fit inside page 0 (300 x 400 points)"}));
}

TEST_F(ValidatorTest, RefusesEncryptedDocuments) {
    std::string plain = Ghostscript(dir_, 1);
    for (std::string options : {"--encrypt user owner 256 --", "--encrypt '' owner 256 --"}) {
        std::string pdf = ThroughQpdf(dir_, plain, options);
        auto report = validator_.ValidateBytes(pdf, {});
        EXPECT_FALSE(report.is_valid) << options;
        EXPECT_THAT(report.violations, ElementsAre(FileViolation(internal::kReasonEncrypted)));
    }
}

TEST_F(ValidatorTest, RefusesNonPdf) {
    for (std::string bytes :
         {std::string(), std::string("hello"), std::string(2000, ' ') + "%PDF-1.7",
          std::string("\x89PNG\r\n\x1a\n")}) {
        auto report = validator_.ValidateBytes(bytes, {});
        EXPECT_THAT(report.violations, ElementsAre(FileViolation(internal::kReasonNotPdf)));
    }
}

TEST_F(ValidatorTest, RefusesTruncatedAndDamagedFiles) {
    std::string pdf = Ghostscript(dir_, 2);
    for (std::size_t keep : {std::size_t{20}, pdf.size() / 3, pdf.size() / 2, pdf.size() - 40}) {
        auto report = validator_.ValidateBytes(pdf.substr(0, keep), {});
        EXPECT_FALSE(report.is_valid) << keep;
        ASSERT_FALSE(report.violations.empty());
        EXPECT_EQ(report.violations.front().field, "file");
    }
    // Wrong xref offsets: qpdf repairs it, which we still refuse to sign on top of.
    std::string shifted = MakePdf(PdfSpec{});
    shifted.insert(shifted.find("1 0 obj"), "% padding that moves every object\n");
    auto report = validator_.ValidateBytes(shifted, {});
    EXPECT_THAT(report.violations, ElementsAre(FileViolation(internal::kReasonRepaired)));
}

// What qpdf's form helper warned about (and what once made good files "damaged"): a widget
// no field lists, as TeX's hyperref writes for a form without /AcroForm entries, and a loop
// in the field tree. Both are clean for qpdf --check and every viewer.
TEST_F(ValidatorTest, FormQuirksAreNotDamage) {
    testing::PdfWriter w;
    w.Set(1, "<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [5 0 R] >> >>");
    w.Set(2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>");
    w.Set(3, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Annots [4 0 R] >>");
    w.Set(4, "<< /Type /Annot /Subtype /Widget /FT /Btn /T (orphan) /Rect [10 10 50 50] >>");
    w.Set(5, "<< /T (loop) /Kids [6 0 R] >>");
    w.Set(6, "<< /T (back) /Parent 5 0 R /Kids [5 0 R] >>");
    w.SetTrailer("/Root", "1 0 R");
    w.Commit(testing::XrefForm::kTable);
    std::string log;
    testing::WriteFile(dir_ / "quirks.pdf", w.bytes());
    ASSERT_EQ(RunCommand("qpdf --check " + testing::Quote(dir_ / "quirks.pdf"), &log), 0) << log;
    auto report = validator_.ValidateBytes(w.bytes(), {At(0, 100, 100, 200, 50)});
    EXPECT_TRUE(report.is_valid) << ::testing::PrintToString(report.violations);
}

TEST_F(ValidatorTest, RefusesTooLargeFiles) {
    QpdfValidator small(PdfLimits{.max_file_bytes = 1000});
    std::string pdf = Ghostscript(dir_, 1);
    auto report = small.ValidateBytes(pdf, {});
    EXPECT_THAT(report.violations,
                ElementsAre(FileViolation("the PDF file is larger than 1000 bytes")));
}

TEST_F(ValidatorTest, TenThousandPages) {
    PdfSpec spec;
    spec.pages.assign(10'000, testing::PageSpec{});
    std::string pdf = MakePdf(spec);
    auto report = validator_.ValidateBytes(pdf, {});
    EXPECT_THAT(report.violations, ElementsAre(FileViolation("the PDF has more than 5000 pages")));

    // A /Count that lies does not get past the limit either.
    std::string lying = pdf;
    auto count = lying.find("/Count 10000");
    ASSERT_NE(count, std::string::npos);
    lying.replace(count, 12, "/Count 00001");
    report = validator_.ValidateBytes(lying, {});
    EXPECT_THAT(report.violations, ElementsAre(FileViolation("the PDF has more than 5000 pages")));

    QpdfValidator generous(PdfLimits{.max_pages = 20'000});
    report = generous.ValidateBytes(pdf, {At(9'999, 0, 0, 100, 100)});
    EXPECT_TRUE(report.is_valid);
    EXPECT_EQ(report.page_count, 10'000);
}

TEST_F(ValidatorTest, RefusesDecompressionBombs) {
    QpdfValidator tight(PdfLimits{.max_decoded_stream_bytes = 1 << 20});
    std::string small_bomb = PdfWithBomb(dir_, 2 << 20);
    EXPECT_THAT(tight.ValidateBytes(small_bomb, {}).violations,
                ElementsAre(FileViolation(internal::kReasonBomb)));
    EXPECT_TRUE(validator_.ValidateBytes(small_bomb, {}).is_valid);

    // 300 MB of zeros in about 300 KB, against the default limits.
    std::string bomb = PdfWithBomb(dir_, 300u << 20);
    EXPECT_LT(bomb.size(), 1u << 20);
    EXPECT_THAT(validator_.ValidateBytes(bomb, {}).violations,
                ElementsAre(FileViolation(internal::kReasonBomb)));
}

// Inserts `object` as object 99 hung on the catalog as /Extra, then lets qpdf rebuild the
// cross-reference table around it.
std::string PdfWithExtraObject(const TempDir& dir, const std::string& object) {
    std::string base = MakePdf(PdfSpec{});
    base.insert(base.find("xref\n"), "99 0 obj\n" + object + "\nendobj\n");
    base.insert(base.find("/Type /Catalog"), "/Extra 99 0 R ");
    return ThroughQpdf(dir, base, "", true);
}

TEST_F(ValidatorTest, HugeAndHostileObjects) {
    // A 30 MB string, a 2-million-element array, nesting 50,000 deep.
    std::string huge_string = PdfWithExtraObject(dir_, "(" + std::string(30u << 20, 'A') + ")");
    EXPECT_TRUE(validator_.ValidateBytes(huge_string, {At(0, 0, 0, 10, 10)}).is_valid);
    std::string items;
    for (int i = 0; i < 2'000'000; ++i) items += "1 ";
    std::string huge_array = PdfWithExtraObject(dir_, "[" + items + "]");
    EXPECT_TRUE(validator_.ValidateBytes(huge_array, {}).is_valid);
    std::string deep = MakePdf(PdfSpec{});
    deep.insert(deep.find("/Type /Catalog"),
                "/Deep " + std::string(50'000, '[') + std::string(50'000, ']') + " ");
    auto report = validator_.ValidateBytes(deep, {});
    EXPECT_EQ(report.is_valid, report.violations.empty());
    // Past the size limit, nothing is parsed at all.
    QpdfValidator small(PdfLimits{.max_file_bytes = 1u << 20});
    EXPECT_THAT(small.ValidateBytes(huge_string, {}).violations,
                ElementsAre(FileViolation("the PDF file is larger than 1048576 bytes")));
}

TEST_F(ValidatorTest, PageTreeLoops) {
    std::string pdf = MakePdf(PdfSpec{});
    // The page tree lists itself as a kid.
    auto kid = pdf.find("/Kids [") + 7;
    ASSERT_EQ(pdf.compare(kid, 5, "4 0 R"), 0);
    pdf.replace(kid, 1, "2");
    auto report = validator_.ValidateBytes(pdf, {At(0, 0, 0, 10, 10)});
    EXPECT_FALSE(report.is_valid);
    ASSERT_FALSE(report.violations.empty());
    EXPECT_EQ(report.violations.front().field, "file");
}

TEST_F(ValidatorTest, NeverThrowsOnMutatedInput) {
    std::string pdf = ThroughQpdf(dir_, MakePdf(WithSignatureField()), "--object-streams=generate");
    std::mt19937 rng(1234);
    int rejected = 0;
    for (int round = 0; round < 300; ++round) {
        std::string mutated = pdf;
        int flips = 1 + static_cast<int>(rng() % 8);
        for (int i = 0; i < flips; ++i) {
            mutated[rng() % mutated.size()] = static_cast<char>(rng() % 256);
        }
        if (round % 3 == 0) mutated.resize(rng() % mutated.size());
        auto report = validator_.ValidateBytes(mutated, {ByName("Signature1"), At(0, 1, 1, 1, 1)});
        if (!report.is_valid) ++rejected;
        EXPECT_EQ(report.is_valid, report.violations.empty());
    }
    EXPECT_GT(rejected, 0);
}

TEST(PlaceOnPageTest, MapsEachRotationToUserSpace) {
    PageInfo page{.media_box = {0, 0, 600, 800}, .crop_box = {10, 20, 610, 820}};
    EXPECT_EQ(PlaceOnPage(page, 5, 7, 100, 50), (Rect{15, 763, 115, 813}));
    page.rotate = 90;  // shown 800 wide, 600 high; top-left is user (llx, lly)
    EXPECT_EQ(PlaceOnPage(page, 5, 7, 100, 50), (Rect{17, 25, 67, 125}));
    page.rotate = 180;  // top-left is user (urx, lly)
    EXPECT_EQ(PlaceOnPage(page, 5, 7, 100, 50), (Rect{505, 27, 605, 77}));
    page.rotate = 270;  // top-left is user (urx, ury)
    EXPECT_EQ(PlaceOnPage(page, 5, 7, 100, 50), (Rect{553, 715, 603, 815}));
    EXPECT_FALSE(PlaceOnPage(page, 790, 0, 20, 10));
    EXPECT_TRUE(PlaceOnPage(page, 780, 0, 20, 10));
    EXPECT_FALSE(PlaceOnPage(page, 0, 0, std::nan(""), 10));
}

}  // namespace
}  // namespace firmo::pdf
