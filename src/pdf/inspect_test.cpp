#include "pdf/inspect.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pdf/pdf_syntax.hpp"
#include "pdf/qpdf_support.hpp"
#include "pdf/testing/pdf_fixtures.hpp"

namespace firmo::pdf {
namespace {

using testing::MakePdf;
using testing::PdfSpec;
using testing::Quote;
using testing::RunCommand;
using testing::TempDir;

std::string Qpdf(const TempDir& dir, const std::string& pdf, const std::string& options) {
    testing::WriteFile(dir / "in.pdf", pdf);
    std::string log;
    EXPECT_EQ(
        RunCommand("qpdf " + options + " " + Quote(dir / "in.pdf") + " " + Quote(dir / "q.pdf"),
                   &log),
        0)
        << log;
    return testing::ReadFile(dir / "q.pdf");
}

TEST(InspectTest, PagesBoxesAndRotation) {
    FIRMO_REQUIRE_TOOLS("qpdf");
    TempDir dir;
    PdfSpec spec;
    spec.pages = {{.width = 612, .height = 792},
                  {.width = 842, .height = 595, .rotate = 270},
                  {.crop_box = std::vector<double>{500, 800, 20, 30}}};
    std::string pdf = Qpdf(dir, MakePdf(spec), "--rotate=+90:1");
    auto info = InspectPdfBytes(pdf);
    ASSERT_TRUE(info) << info.error().message;
    EXPECT_EQ(info->version, "1.7");
    ASSERT_EQ(info->page_count, 3);
    EXPECT_EQ(info->pages[0].media_box, (Rect{0, 0, 612, 792}));
    EXPECT_EQ(info->pages[0].rotate, 90);
    EXPECT_EQ(info->pages[0].DisplayWidth(), 792);
    EXPECT_EQ(info->pages[1].rotate, 270);
    EXPECT_EQ(info->pages[2].crop_box, (Rect{20, 30, 500, 800}));  // normalised corners
    EXPECT_EQ(info->last_xref_kind, XrefKind::kTable);
    EXPECT_TRUE(info->fields.empty());
    EXPECT_FALSE(info->pdfa);
    EXPECT_TRUE(info->warnings.empty());
}

TEST(InspectTest, InheritedMediaBox) {
    PdfSpec spec;
    spec.pages = {{.width = 300, .height = 400}, {.width = 300, .height = 400}};
    spec.inherit_media_box = true;
    auto info = InspectPdfBytes(MakePdf(spec));
    ASSERT_TRUE(info) << info.error().message;
    EXPECT_EQ(info->pages[1].media_box, (Rect{0, 0, 300, 400}));
    EXPECT_EQ(info->pages[1].crop_box, (Rect{0, 0, 300, 400}));
}

TEST(InspectTest, FormFieldsAndSignatures) {
    FIRMO_REQUIRE_TOOLS("qpdf");
    TempDir dir;
    PdfSpec spec;
    spec.pages = {{}, {}};
    spec.fields.push_back({.name = "Empty", .page = 1, .rect = {300, 60, 100, 110}});
    spec.fields.push_back({.name = "Signed", .page = 0, .signed_value = true});
    spec.fields.push_back({.name = "Text", .type = "Tx", .page = 0});
    spec.fields.push_back({.name = "b", .parent = "a", .page = 1});
    std::string pdf = Qpdf(dir, MakePdf(spec), "--object-streams=generate");
    auto info = InspectPdfFile(dir / "q.pdf");
    ASSERT_TRUE(info) << info.error().message;
    EXPECT_EQ(info->last_xref_kind, XrefKind::kStream);
    ASSERT_EQ(info->fields.size(), 4u);
    EXPECT_EQ(info->fields[0].name, "Empty");
    EXPECT_EQ(info->fields[0].type, FieldType::kSignature);
    EXPECT_FALSE(info->fields[0].is_signed);
    EXPECT_EQ(info->fields[0].page_index, 1);
    EXPECT_EQ(info->fields[0].rect, (Rect{100, 60, 300, 110}));
    EXPECT_EQ(info->fields[1].name, "Signed");
    EXPECT_TRUE(info->fields[1].is_signed);
    EXPECT_EQ(info->fields[2].type, FieldType::kText);
    EXPECT_EQ(info->fields[3].name, "a.b");
    EXPECT_EQ(info->signature_count, 1);
}

TEST(InspectTest, PdfAClaim) {
    PdfSpec spec;
    spec.pdfa_part = "2";
    auto info = InspectPdfBytes(MakePdf(spec));
    ASSERT_TRUE(info) << info.error().message;
    ASSERT_TRUE(info->pdfa);
    EXPECT_EQ(info->pdfa->part, 2);
    EXPECT_EQ(info->pdfa->conformance, "B");
}

TEST(InspectTest, ErrorsCarryCodes) {
    EXPECT_EQ(InspectPdfBytes("nope").error().code, ErrorCode::kMalformed);
    EXPECT_EQ(InspectPdfFile("/nonexistent/file.pdf").error().code, ErrorCode::kNotFound);
    PdfLimits limits;
    limits.max_file_bytes = 10;
    EXPECT_EQ(InspectPdfBytes(MakePdf({}), limits).error().code, ErrorCode::kPayloadTooLarge);
}

TEST(InspectTest, LastStartXrefFindsTheLastSection) {
    std::string pdf = MakePdf({});
    internal::MemorySource source(pdf);
    auto offset = internal::LastStartXref(source);
    ASSERT_TRUE(offset);
    EXPECT_EQ(pdf.compare(*offset, 4, "xref"), 0);
}

TEST(PdfSyntaxTest, DatesStringsAndNumbers) {
    using internal::ParsePdfDate;
    Timestamp t = Timestamp(std::chrono::milliseconds(1'795'000'000'000));  // 2026-11-18T...
    EXPECT_EQ(ParsePdfDate(internal::PdfDate(t)), t);
    EXPECT_EQ(ParsePdfDate("D:20261123130500+01'00'"), ParsePdfDate("D:20261123120500Z"));
    EXPECT_EQ(ParsePdfDate("D:2026"), ParsePdfDate("D:20260101000000"));
    EXPECT_FALSE(ParsePdfDate("D:20261323"));
    EXPECT_FALSE(ParsePdfDate("yesterday"));
    EXPECT_EQ(internal::LiteralString("a(b)\\\n"), "(a\\(b\\)\\\\\\012)");
    EXPECT_EQ(internal::TextString("Nicolò"), "<FEFF004E00690063006F006C00F2>");
    EXPECT_EQ(internal::Utf8ToWinAnsi("Nicolò €"), "Nicol\xF2 \x80");
    EXPECT_EQ(internal::Number(12.5), "12.5");
    EXPECT_EQ(internal::Number(-0.00001), "0");
}

}  // namespace
}  // namespace firmo::pdf
