#include "oidc/claims.hpp"

#include <gtest/gtest.h>

namespace firmo::oidc {
namespace {

using domain::IdentifierKind;
using nlohmann::json;

TEST(MapIdentifier, StripsTheSpidEtsiPrefix) {
    auto id = MapIdentifier({{"fiscal_number", "TINIT-RSSMRA80A01H501U"}}, "fiscal_number",
                            IdentifierKind::kItFiscalCode);
    ASSERT_TRUE(id) << id.error().message;
    EXPECT_EQ(*id, "RSSMRA80A01H501U");
}

TEST(MapIdentifier, AcceptsABareAndLowerCaseFiscalCode) {
    EXPECT_EQ(MapIdentifier({{"fiscal_number", "rssmra80a01h501u"}}, "fiscal_number",
                            IdentifierKind::kItFiscalCode)
                  .value_or(""),
              "RSSMRA80A01H501U");
    EXPECT_EQ(MapIdentifier({{"cf", "tinit-RSSMRA80A01H501U"}}, "cf", IdentifierKind::kItFiscalCode)
                  .value_or(""),
              "RSSMRA80A01H501U");
}

TEST(MapIdentifier, RejectsAnInvalidFiscalCode) {
    for (const char* value : {"TINIT-RSSMRA80A01H501X", "TINIT-", "PNONO-01810010068",
                              "RSSMRA80A01H501", "TINIT-TINIT-RSSMRA80A01H501U"}) {
        auto id = MapIdentifier({{"fiscal_number", value}}, "fiscal_number",
                                IdentifierKind::kItFiscalCode);
        ASSERT_FALSE(id) << value;
        EXPECT_EQ(id.error().code, ErrorCode::kUnauthenticated);
        EXPECT_NE(id.error().message.find("not a valid IT-FISCAL-CODE"), std::string::npos)
            << id.error().message;
    }
    auto why = MapIdentifier({{"fiscal_number", "TINIT-RSSMRA80A01H501X"}}, "fiscal_number",
                             IdentifierKind::kItFiscalCode);
    ASSERT_FALSE(why);
    EXPECT_NE(why.error().message.find("check character"), std::string::npos);
}

TEST(MapIdentifier, RejectsAMissingOrNonStringClaim) {
    for (const json& claims : {json{{"sub", "x"}}, json{{"fiscal_number", 42}},
                               json{{"fiscal_number", ""}}, json{{"fiscal_number", nullptr}}}) {
        auto id = MapIdentifier(claims, "fiscal_number", IdentifierKind::kItFiscalCode);
        ASSERT_FALSE(id) << claims.dump();
        EXPECT_EQ(id.error().code, ErrorCode::kUnauthenticated);
        EXPECT_NE(id.error().message.find("did not send the 'fiscal_number' claim"),
                  std::string::npos);
    }
}

TEST(MapIdentifier, NorwegianNationalIdentityNumber) {
    EXPECT_EQ(
        MapIdentifier({{"pid", "01810010068"}}, "pid", IdentifierKind::kNoNationalId).value_or(""),
        "01810010068");
    auto bad = MapIdentifier({{"pid", "15076500566"}}, "pid", IdentifierKind::kNoNationalId);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, ErrorCode::kUnauthenticated);
    EXPECT_NE(bad.error().message.find("not a valid NO-NIN"), std::string::npos);
    // A fiscal code is not a NIN, with or without its prefix.
    EXPECT_FALSE(
        MapIdentifier({{"pid", "TINIT-RSSMRA80A01H501U"}}, "pid", IdentifierKind::kNoNationalId));
}

TEST(MapIdentity, TakesNamesAndSubject) {
    auto id = MapIdentity({{"sub", "abc"},
                           {"fiscal_number", "TINIT-RSSMRA80A01H501U"},
                           {"name", "Mario Rossi"},
                           {"given_name", "Mario"},
                           {"family_name", "Rossi"}},
                          "fiscal_number", IdentifierKind::kItFiscalCode);
    ASSERT_TRUE(id) << id.error().message;
    EXPECT_EQ(id->kind, IdentifierKind::kItFiscalCode);
    EXPECT_EQ(id->identifier, "RSSMRA80A01H501U");
    EXPECT_EQ(id->subject, "abc");
    EXPECT_EQ(id->full_name, "Mario Rossi");
    EXPECT_EQ(id->given_name, "Mario");
    EXPECT_EQ(id->family_name, "Rossi");
}

TEST(MapIdentity, BuildsTheFullNameWhenThereIsNoNameClaim) {
    auto id =
        MapIdentity({{"pid", "01810010068"}, {"given_name", "Kari"}, {"family_name", "Nordmann"}},
                    "pid", IdentifierKind::kNoNationalId);
    ASSERT_TRUE(id) << id.error().message;
    EXPECT_EQ(id->kind, IdentifierKind::kNoNationalId);
    EXPECT_EQ(id->full_name, "Kari Nordmann");
    auto only_family = MapIdentity({{"pid", "01810010068"}, {"family_name", "Nordmann"}}, "pid",
                                   IdentifierKind::kNoNationalId);
    ASSERT_TRUE(only_family);
    EXPECT_EQ(only_family->full_name, "Nordmann");
    auto none =
        MapIdentity({{"pid", "01810010068"}, {"name", 7}}, "pid", IdentifierKind::kNoNationalId);
    ASSERT_TRUE(none);
    EXPECT_EQ(none->full_name, "");
}

}  // namespace
}  // namespace firmo::oidc
