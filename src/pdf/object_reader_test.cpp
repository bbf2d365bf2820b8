#include "pdf/object_reader.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pdf/pdf_syntax.hpp"
#include "pdf/testing/pdf_writer.hpp"

namespace firmo::pdf::internal {
namespace {

using testing::PdfWriter;
using testing::XrefForm;

TEST(PdfValueTest, ParsesEveryKindAndUnparsesCanonically) {
    std::string text =
        "<< /Type /Page /N 12 /R -1.5 /S (a\\(b\\)\\101\\\nc) /H <48 65 6c6> /A [1 2 0 R true "
        "null /x#20y] /Q 3 4 R /Dup 1 /Dup 2 /Gone null >>";
    std::size_t pos = 0;
    PdfValue v = ParseValue(text, pos);
    ASSERT_TRUE(v.IsDictionary());
    EXPECT_EQ(v.Get("/Type").NameOr(), "/Page");
    EXPECT_EQ(v.Get("/N").number(), 12);
    EXPECT_EQ(v.Get("/R").number(), -1.5);
    EXPECT_EQ(v.Get("/S").text(), "a(b)Ac");
    EXPECT_EQ(v.Get("/H").text(), "Hel`");
    const auto& a = v.Get("/A").items();
    ASSERT_EQ(a.size(), 5u);
    EXPECT_TRUE(a[1].IsReference());
    EXPECT_EQ(a[1].ref().number, 2);
    EXPECT_EQ(a[4].text(), "/x y");
    EXPECT_EQ(v.Get("/Q").ref().number, 3);
    EXPECT_EQ(v.Get("/Q").ref().generation, 4);
    EXPECT_EQ(v.Get("/Dup").number(), 2);  // the last of duplicate keys, as qpdf
    EXPECT_FALSE(v.Has("/Gone"));          // a null value is no entry
    EXPECT_EQ(v.Get("/A").Unparse(), "[1 2 0 R true null /x#20y]");
    // A stray keyword inside a dictionary reads as null; at the top it is an error.
    pos = 0;
    PdfValue stray = ParseValue("<< /A 1 junk /B 2 >>", pos);
    EXPECT_EQ(stray.Get("/B").number(), 2);
    pos = 0;
    EXPECT_THROW(ParseValue("junk", pos), std::runtime_error);
    pos = 0;
    EXPECT_THROW(ParseValue("[1 2", pos), std::runtime_error);
    std::string deep(200, '[');
    pos = 0;
    EXPECT_THROW(ParseValue(deep, pos), std::runtime_error);
}

PdfWriter Sample(XrefForm form) {
    PdfWriter w;
    w.Set(1, "<< /Type /Catalog /Pages 2 0 R /Names 6 0 R >>");
    w.Set(2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>");
    w.Set(3,
          "<< /Type /Page /Parent 2 0 R /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>");
    w.Set(4, "<< /Length 7 0 R >>\nstream\nBT ET\nendstream");
    w.Set(5, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Note (not 9 0 R) >>");
    w.Set(6, "<< /Dests 8 0 R >>");
    w.Set(7, "5");
    w.Set(8, "<< /Names [(a) [3 0 R /Fit]] >>");
    w.Set(9, "<< /Unused true >>");
    w.SetTrailer("/Root", "1 0 R");
    w.Commit(form);
    return w;
}

// The signer writes the page, form and catalog it rewrites back from these values: what it
// writes must be PDF (no exponent) and read back as the same values.
TEST(PdfValueTest, WritesValuesBackAsPdfThatReadsTheSame) {
    std::size_t pos = 0;
    PdfValue page = ParseValue(
        "<< /Type /Page /MediaBox [0 0 595.276 841.89] /UserUnit 0.0000001 /Big 12345678901234 "
        "/Annots 7 0 R /Gone null /S (a\\(b\\)) /N /x#20y /D << /K [1 -2.5 true] >> >>",
        pos);
    std::string written = DictWith(page, {{"/Annots", "[8 0 R]"}, {"/New", "1"}});
    EXPECT_THAT(written, ::testing::Not(::testing::ContainsRegex("[0-9]e[-+]")));  // no exponent
    EXPECT_THAT(written, ::testing::HasSubstr("/UserUnit 0.0000001 "));
    EXPECT_THAT(written, ::testing::HasSubstr("/MediaBox [0 0 595.276 841.89]"));
    EXPECT_THAT(written, ::testing::HasSubstr("/Big 12345678901234 "));
    EXPECT_THAT(written, ::testing::Not(::testing::HasSubstr("/Gone")));
    EXPECT_THAT(written, ::testing::Not(::testing::HasSubstr("7 0 R")));
    pos = 0;
    PdfValue read = ParseValue(written, pos);
    EXPECT_EQ(read.Get("/Annots").Unparse(), "[8 0 R]");
    EXPECT_EQ(read.Get("/New").number(), 1);
    for (const char* key : {"/Type", "/MediaBox", "/UserUnit", "/Big", "/S", "/N", "/D"}) {
        EXPECT_EQ(read.Get(key).Unparse(), page.Get(key).Unparse()) << key;
    }
    EXPECT_EQ(ArrayWith(page.Get("/MediaBox"), "9 0 R"), "[0 0 595.276 841.89 9 0 R]");
    EXPECT_EQ(ArrayWith(page.Get("/Type"), "9 0 R"), "[9 0 R]");  // not an array: none
    EXPECT_EQ(Ref(ObjectRef{12, 3}), "12 3 R");
    EXPECT_EQ(Number(1.23456), "1.2346");
    EXPECT_EQ(Number(-0.00001), "0");
}

TEST(ObjectReaderTest, ResolvesObjectsInEveryForm) {
    for (XrefForm form : {XrefForm::kTable, XrefForm::kStream, XrefForm::kObjectStream}) {
        SCOPED_TRACE(testing::ToString(form));
        std::string pdf = Sample(form).bytes();
        auto index = RevisionIndex::Read(pdf);
        ASSERT_TRUE(index) << index.error().message;
        ObjectReader reader(pdf, *index, index->last());
        ValuePtr root = reader.Root();
        EXPECT_EQ(root->Get("/Type").NameOr(), "/Catalog");
        ValuePtr page = reader.Get(3);
        EXPECT_EQ(page->Get("/Type").NameOr(), "/Page");
        ValuePtr content = reader.Resolve(Child(page, page->Get("/Contents")));
        ASSERT_TRUE(content->IsStream());
        EXPECT_EQ(content->stream_data(), "BT ET");  // an indirect /Length
        EXPECT_TRUE(reader.Get(99)->IsNull());
        EXPECT_EQ(reader.unreadable(), 0u);

        // Which objects lead to the font: the page, the page tree, the catalog, and the
        // destinations naming the page; not the content, nor a string that looks like one.
        auto reaching = reader.Reaching({5});
        std::vector<int> found;
        for (std::size_t n = 0; n < reaching.size(); ++n) {
            if (reaching[n]) found.push_back(static_cast<int>(n));
        }
        EXPECT_THAT(found, ::testing::IsSupersetOf({1, 2, 3, 6, 8}));
        EXPECT_THAT(found, ::testing::Not(::testing::Contains(4)));
        EXPECT_THAT(found, ::testing::Not(::testing::Contains(9)));
        EXPECT_THAT(found, ::testing::Not(::testing::Contains(5)));
    }
}

TEST(ObjectReaderTest, ReadsAsOfARevision) {
    PdfWriter w = Sample(XrefForm::kTable);
    w.Set(5, "<< /Type /Font /Subtype /Type1 /BaseFont /Courier >>");
    w.Free(9);
    w.Commit(XrefForm::kObjectStream);
    std::string pdf = w.bytes();
    auto index = RevisionIndex::Read(pdf);
    ASSERT_TRUE(index);
    ObjectReader before(pdf, *index, 0);
    ObjectReader after(pdf, *index, 1);
    EXPECT_EQ(before.Get(5)->Get("/BaseFont").NameOr(), "/Helvetica");
    EXPECT_EQ(after.Get(5)->Get("/BaseFont").NameOr(), "/Courier");
    EXPECT_FALSE(before.Get(9)->IsNull());
    EXPECT_TRUE(after.Get(9)->IsNull());
}

}  // namespace
}  // namespace firmo::pdf::internal
