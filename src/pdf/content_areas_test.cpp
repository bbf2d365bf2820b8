#include "pdf/content_areas.hpp"

#include <gtest/gtest.h>

#include <qpdf/QPDF.hh>

#include "pdf/testing/pdf_writer.hpp"

namespace firmo::pdf::internal {
namespace {

using testing::PdfWriter;

// What a 612 x 792 page drawing `content` covers, with Helvetica (every glyph 500/1000 em
// wide) as /F1 and a form XObject /Fm1 that draws `form_content` in a 100 x 100 box placed at
// (400, 400).
DrawnAreas Areas(const std::string& content, const std::string& form_content = "") {
    PdfWriter w;
    w.Set(1, "<< /Type /Catalog /Pages 2 0 R >>");
    w.Set(2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>");
    w.Set(3,
          "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << "
          "/Font << /F1 5 0 R >> /XObject << /Fm1 6 0 R >> >> >>");
    w.Set(4, "<< /Length " + std::to_string(content.size()) + " >>\nstream\n" + content +
                 "\nendstream");
    w.Set(
        5,
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /FirstChar 32 /LastChar 126 "
        "/Widths [" +
            [] {
                std::string widths;
                for (int c = 32; c <= 126; ++c) widths += "500 ";
                return widths;
            }() +
            "] >>");
    w.Set(6,
          "<< /Type /XObject /Subtype /Form /BBox [0 0 100 100] /Matrix [1 0 0 1 400 400] "
          "/Resources << /Font << /F1 5 0 R >> >> /Length " +
              std::to_string(form_content.size()) + " >>\nstream\n" + form_content + "\nendstream");
    w.SetTrailer("/Root", "1 0 R");
    w.Commit(testing::XrefForm::kTable);
    static std::string keep;  // qpdf reads from this memory while the areas are computed
    keep = w.bytes();
    QPDF q;
    q.setSuppressWarnings(true);
    q.processMemoryFile("page", keep.data(), keep.size());
    return PageDrawnAreas(q.getObject(3, 0));
}

TEST(ContentAreasTest, TextCoversItsGlyphBoxes) {
    // 10 glyphs of 500/1000 em at 20 pt: 100 pt wide from x = 72.
    DrawnAreas a = Areas("BT /F1 20 Tf 72 700 Td (Contract 1) Tj ET");
    EXPECT_TRUE(a.Covers({100, 695, 120, 715}));
    EXPECT_FALSE(a.Covers({180, 695, 300, 715}));  // right of the text
    EXPECT_FALSE(a.Covers({72, 600, 300, 680}));   // below it
    // Moved by a text matrix and scaled by the CTM.
    DrawnAreas scaled = Areas("q 2 0 0 2 0 0 cm BT /F1 10 Tf 1 0 0 1 50 300 Tm (AB) Tj ET Q");
    EXPECT_TRUE(scaled.Covers({101, 601, 119, 615}));
    EXPECT_FALSE(scaled.Covers({150, 601, 200, 615}));
}

TEST(ContentAreasTest, SignatureLinesWhiteFillsAndStrokesDoNotCount) {
    DrawnAreas a = Areas(
        "BT /F1 12 Tf 72 100 Td (__________) Tj ET\n"  // an underscore line
        "0.5 w 72 90 m 300 90 l S\n"                   // a stroked line
        "72 80 228 0.8 re f\n"                         // a thin rule
        "1 g 0 0 612 792 re f\n"                       // a white background
        "0 0 1 RG 50 50 300 100 re S");                // a frame
    EXPECT_FALSE(a.everywhere);
    EXPECT_FALSE(a.Covers({80, 60, 280, 130}));
    DrawnAreas filled = Areas("0.2 g 72 80 228 30 re f");
    EXPECT_TRUE(filled.Covers({80, 60, 280, 130}));
}

TEST(ContentAreasTest, FormsImagesAnnotationsAndClips) {
    DrawnAreas form = Areas("/Fm1 Do", "BT /F1 10 Tf 10 10 Td (Total) Tj ET");
    EXPECT_TRUE(form.Covers({405, 405, 430, 425}));
    EXPECT_FALSE(form.Covers({450, 450, 490, 490}));  // inside the box, where nothing is drawn
    DrawnAreas image = Areas("q 100 0 0 50 300 300 cm BI /W 1 /H 1 /CS /G /BPC 8 ID \x80 EI Q");
    EXPECT_TRUE(image.Covers({350, 320, 360, 330}));
    EXPECT_FALSE(image.Covers({350, 360, 360, 370}));
    DrawnAreas clipped = Areas("q 0 0 100 100 re W n 0 g 0 0 612 792 re f Q");
    EXPECT_TRUE(clipped.Covers({10, 10, 50, 50}));
    EXPECT_FALSE(clipped.Covers({200, 200, 300, 300}));
}

TEST(ContentAreasTest, UnreadableContentCountsAsEverywhere) {
    ContentLimits tiny;
    tiny.max_operators = 3;
    PdfWriter w;
    std::string content = "0 g 1 1 10 10 re f 1 1 10 10 re f 1 1 10 10 re f";
    w.Set(1, "<< /Type /Catalog /Pages 2 0 R >>");
    w.Set(2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>");
    w.Set(3, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>");
    w.Set(4, "<< /Length " + std::to_string(content.size()) + " >>\nstream\n" + content +
                 "\nendstream");
    w.SetTrailer("/Root", "1 0 R");
    w.Commit(testing::XrefForm::kTable);
    std::string pdf = w.bytes();
    QPDF q;
    q.setSuppressWarnings(true);
    q.processMemoryFile("page", pdf.data(), pdf.size());
    EXPECT_TRUE(PageDrawnAreas(q.getObject(3, 0), tiny).everywhere);
    EXPECT_FALSE(PageDrawnAreas(q.getObject(3, 0)).everywhere);
}

}  // namespace
}  // namespace firmo::pdf::internal
