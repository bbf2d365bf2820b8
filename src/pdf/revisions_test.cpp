#include "pdf/revisions.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pdf/testing/pdf_fixtures.hpp"
#include "pdf/testing/pdf_writer.hpp"

namespace firmo::pdf::internal {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::PdfWriter;
using testing::XrefForm;

// Catalog 1, pages 2, page 3, content 4.
PdfWriter Original(XrefForm form) {
    PdfWriter w;
    w.Set(1, "<< /Type /Catalog /Pages 2 0 R >>");
    w.Set(2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>");
    w.Set(3, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >>");
    w.Set(4, "<< /Length 0 >>\nstream\n\nendstream");
    w.SetTrailer("/Root", "1 0 R");
    w.Commit(form);
    return w;
}

std::vector<std::string> AllProblems(const RevisionIndex& index) {
    std::vector<std::string> out;
    for (const auto& r : index.revisions())
        out.insert(out.end(), r.problems.begin(), r.problems.end());
    return out;
}

TEST(RevisionIndexTest, ReadsEveryFormAndTheirUpdates) {
    for (XrefForm form : {XrefForm::kTable, XrefForm::kStream, XrefForm::kObjectStream}) {
        SCOPED_TRACE(testing::ToString(form));
        PdfWriter w = Original(form);
        std::size_t first_end = w.bytes().size();
        w.Set(4, "<< /Length 2 >>\nstream\nBT\nendstream");
        w.Set(3, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 300] /Contents 4 0 R >>");
        w.Commit(form);
        auto index = RevisionIndex::Read(w.bytes());
        ASSERT_TRUE(index) << index.error().message;
        ASSERT_EQ(index->revisions().size(), 2u);
        EXPECT_THAT(AllProblems(*index), ::testing::IsEmpty());
        EXPECT_EQ(index->revisions()[0].end, first_end);
        EXPECT_EQ(index->revisions()[1].start, first_end);
        EXPECT_EQ(index->revisions()[1].end, w.bytes().size());
        EXPECT_EQ(index->RevisionEndingAt(first_end), 0u);
        EXPECT_EQ(index->RevisionEndingAt(first_end - 1), 0u);  // just after "%%EOF"
        EXPECT_FALSE(index->RevisionEndingAt(first_end - 2));
        ASSERT_TRUE(index->revisions()[0].root);
        EXPECT_EQ(index->revisions()[0].root->number, 1);
        // Both objects changed (and a new cross-reference stream is a new object); in an
        // object-stream file the page moved to a new stream.
        auto changed = index->Changed(0, 1);
        EXPECT_THAT(changed, Contains(3));
        EXPECT_THAT(changed, Contains(4));
        if (form == XrefForm::kTable) {
            EXPECT_THAT(changed, ElementsAre(3, 4));
        }
        EXPECT_EQ(index->trailing_bytes(), 0u);
    }
}

TEST(RevisionIndexTest, ReadsALinearizedOriginalAsOneRevision) {
    FIRMO_REQUIRE_TOOLS("qpdf");
    testing::TempDir dir;
    testing::WriteFile(dir / "in.pdf", Original(XrefForm::kTable).bytes());
    std::string log;
    ASSERT_EQ(testing::RunCommand("qpdf --linearize " + testing::Quote(dir / "in.pdf") + " " +
                                      testing::Quote(dir / "lin.pdf"),
                                  &log),
              0)
        << log;
    std::string pdf = testing::ReadFile(dir / "lin.pdf");
    auto w = PdfWriter::Continue(pdf);
    w.Set(4, "<< /Length 2 >>\nstream\nBT\nendstream");
    w.Commit(XrefForm::kStream);
    auto index = RevisionIndex::Read(w.bytes());
    ASSERT_TRUE(index) << index.error().message;
    ASSERT_EQ(index->revisions().size(), 2u);
    EXPECT_THAT(AllProblems(*index), ::testing::IsEmpty());
    EXPECT_EQ(index->revisions()[0].end, pdf.size());
}

TEST(RevisionIndexTest, ReportsAnUpdateThatPointsOutsideItself) {
    PdfWriter w = Original(XrefForm::kTable);
    std::uint64_t old_body = w.AppendRaw("");
    std::uint64_t content_at = *w.OffsetOf(3);
    (void)old_body;
    w.PointAt(4, content_at);  // object 4 now "is" the bytes of object 3
    w.Commit(XrefForm::kTable);
    auto index = RevisionIndex::Read(w.bytes());
    ASSERT_TRUE(index);
    EXPECT_THAT(index->revisions()[1].problems,
                Contains(HasSubstr("points 1 object (first: object 4) at bytes outside")));
}

TEST(RevisionIndexTest, ReportsBytesNoSectionLists) {
    PdfWriter w = Original(XrefForm::kTable);
    w.AppendRaw("4 0 obj\n<< /Length 2 >>\nstream\nBT\nendstream\nendobj\n");
    w.Set(3, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 300] /Contents 4 0 R >>");
    w.Commit(XrefForm::kTable);
    auto index = RevisionIndex::Read(w.bytes());
    ASSERT_TRUE(index);
    EXPECT_THAT(index->revisions()[1].problems,
                Contains(HasSubstr("that its cross-reference section does not list")));
}

TEST(RevisionIndexTest, ReportsAPrevChainThatSkipsARevisionAndTrailingBytes) {
    PdfWriter w = Original(XrefForm::kTable);
    std::uint64_t first_xref = w.last_xref();
    w.Set(4, "<< /Length 2 >>\nstream\nBT\nendstream");
    w.Commit(XrefForm::kTable);
    std::uint64_t second_end = w.bytes().size();
    w.Set(3, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 300] /Contents 4 0 R >>");
    w.SetPrev(first_xref);
    w.Commit(XrefForm::kTable);
    std::string pdf = w.bytes() + "garbage\n";
    auto index = RevisionIndex::Read(pdf);
    ASSERT_TRUE(index);
    ASSERT_EQ(index->revisions().size(), 2u);  // the skipped one is not part of the file
    EXPECT_FALSE(index->RevisionEndingAt(second_end));
    EXPECT_THAT(index->revisions()[1].problems,
                Contains(HasSubstr("that its cross-reference section does not list")));
    EXPECT_EQ(index->trailing_bytes(), 8u);
}

TEST(RevisionIndexTest, ReportsAMissingEofAndAWrongStartxref) {
    std::string pdf = Original(XrefForm::kTable).bytes();
    std::string cut = pdf.substr(0, pdf.rfind("%%EOF"));
    auto index = RevisionIndex::Read(cut);
    ASSERT_TRUE(index);
    EXPECT_THAT(index->revisions()[0].problems,
                Contains("it does not end with startxref and %%EOF"));

    EXPECT_FALSE(RevisionIndex::Read("%PDF-1.7\nnothing here\n"));
    std::string looped = pdf;
    looped.insert(looped.rfind(">>\nstartxref"),
                  " /Prev " + std::to_string(Original(XrefForm::kTable).last_xref()) + " ");
    auto loop = RevisionIndex::Read(looped);
    ASSERT_TRUE(loop);
    EXPECT_THAT(AllProblems(*loop), Contains(HasSubstr("loops")));
}

TEST(RevisionIndexTest, ResolvesEntriesAsOfARevision) {
    PdfWriter w = Original(XrefForm::kTable);
    w.Free(4);
    w.Commit(XrefForm::kTable);
    auto index = RevisionIndex::Read(w.bytes());
    ASSERT_TRUE(index);
    auto before = index->EntryAt(0, 4);
    auto after = index->EntryAt(1, 4);
    ASSERT_TRUE(before && after);
    EXPECT_EQ(before->type, XrefEntry::Type::kInFile);
    EXPECT_EQ(after->type, XrefEntry::Type::kFree);
    EXPECT_THAT(index->Changed(0, 1), ElementsAre(4));
    EXPECT_FALSE(index->EntryAt(1, 99));
}

}  // namespace
}  // namespace firmo::pdf::internal
