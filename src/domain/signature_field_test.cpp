#include "domain/signature_field.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace firmo::domain {
namespace {

SignatureField Named(const std::string& name, ClauseType type = ClauseType::kRequired) {
    return SignatureField{FieldByName{name}, Clause{"I accept the terms", type}};
}

TEST(DocumentMetadataCheck, AcceptsAWellFormedDocument) {
    DocumentMetadata doc{
        "Contract",
        {Named("Signature1"), SignatureField{FieldAtPosition{0, 10, 20, 150, 50},
                                             Clause{"Privacy consent", ClauseType::kOptional}}}};
    EXPECT_TRUE(CheckDocumentMetadata(doc, "d").empty());
    EXPECT_TRUE(CheckDocumentMetadata(DocumentMetadata{"No fields", {}}, "d").empty());
}

TEST(DocumentMetadataCheck, NeedsABindingClauseWhenFieldsExist) {
    DocumentMetadata doc{"Contract", {Named("A", ClauseType::kOptional)}};
    const auto v = CheckDocumentMetadata(doc, "d");
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0].field, "d.signature_fields");
    DocumentMetadata unfair{"Contract", {Named("A", ClauseType::kUnfair)}};
    EXPECT_TRUE(CheckDocumentMetadata(unfair, "d").empty());
}

TEST(DocumentMetadataCheck, ChecksLengthsAndRanges) {
    DocumentMetadata doc{
        "ab",
        {SignatureField{FieldAtPosition{-1, -5, 0, 0, -3}, Clause{"shrt", ClauseType::kRequired}},
         Named("")}};
    const auto v = CheckDocumentMetadata(doc, "d");
    std::vector<std::string> fields;
    for (const auto& x : v) fields.push_back(x.field);
    const std::vector<std::string> expected = {"d.title",
                                               "d.signature_fields[0].clause.title",
                                               "d.signature_fields[0].attrs.page",
                                               "d.signature_fields[0].attrs.coordinates.x",
                                               "d.signature_fields[0].attrs.size.w",
                                               "d.signature_fields[0].attrs.size.h",
                                               "d.signature_fields[1].attrs.unique_name"};
    EXPECT_EQ(fields, expected);
}

TEST(DocumentMetadataCheck, CountsCharactersNotBytes) {
    // 3 characters, 6 bytes: long enough.
    EXPECT_TRUE(
        CheckDocumentMetadata(DocumentMetadata{"\xC3\xA0\xC3\xA8\xC3\xAC", {}}, "d").empty());
    // invalid UTF-8
    EXPECT_FALSE(CheckDocumentMetadata(DocumentMetadata{"ab\xFF", {}}, "d").empty());
}

TEST(DocumentMetadataCheck, RejectsNonFiniteCoordinates) {
    DocumentMetadata doc{"Contract",
                         {SignatureField{FieldAtPosition{0, std::nan(""), 0, 1e300, 10},
                                         Clause{"I accept", ClauseType::kRequired}}}};
    EXPECT_EQ(CheckDocumentMetadata(doc, "d").size(), 2u);
}

}  // namespace
}  // namespace firmo::domain
