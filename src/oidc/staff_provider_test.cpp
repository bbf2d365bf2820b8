// The staff login's claims (staff_oidc): the e-mail address and the role claim as a string or an
// array; options checked as the shared client's, under staff_oidc's names.

#include "oidc/staff_provider.hpp"

#include <gtest/gtest.h>

#include "core/random.hpp"
#include "oidc/http_fetcher.hpp"

namespace firmo::oidc {
namespace {

using nlohmann::json;

TEST(StaffClaims, EmailAndRolesFromAStringOrAnArray) {
    auto a = MapStaffIdentity(json{{"email", "ada@corp.example"}, {"groups", {"x", 3, "y"}}},
                              "email", "groups");
    ASSERT_TRUE(a) << a.error().message;
    EXPECT_EQ(a->email, "ada@corp.example");
    EXPECT_EQ(a->roles, (std::vector<std::string>{"x", "y"}));
    auto b =
        MapStaffIdentity(json{{"upn", "b@corp.example"}, {"roles", "Firmo.Admin"}}, "upn", "roles");
    ASSERT_TRUE(b);
    EXPECT_EQ(b->roles, std::vector<std::string>{"Firmo.Admin"});
    auto none = MapStaffIdentity(json{{"email", "c@corp.example"}}, "email", "roles");
    ASSERT_TRUE(none);
    EXPECT_TRUE(none->roles.empty());
}

TEST(StaffClaims, NoEmailIsUnauthenticated) {
    for (const json& claims : {json{{"roles", "x"}}, json{{"email", ""}}, json{{"email", 7}}}) {
        auto r = MapStaffIdentity(claims, "email", "roles");
        ASSERT_FALSE(r) << claims.dump();
        EXPECT_EQ(r.error().code, ErrorCode::kUnauthenticated);
    }
}

TEST(StaffClaims, BadOptionsAreNamedAsStaffOidcKeys) {
    const ManualClock clock(FromUnixMillis(0));
    SeededRandom random(1);
    auto http = std::make_shared<CurlHttpFetcher>(std::chrono::seconds(1));
    auto bad = OidcStaffProvider::Create({.issuer = "ftp://x", .client_id = "", .scopes = "email"},
                                         http, clock, random);
    ASSERT_FALSE(bad);
    std::vector<std::string> fields;
    for (const auto& v : bad.error().violations) fields.push_back(v.field);
    EXPECT_EQ(fields, (std::vector<std::string>{"staff_oidc.issuer", "staff_oidc.client_id",
                                                "staff_oidc.scopes"}));
    auto no_role = OidcStaffProvider::Create(
        {.issuer = "https://idp.example", .client_id = "firmo", .role_claim = ""}, http, clock,
        random);
    ASSERT_FALSE(no_role);
    EXPECT_EQ(no_role.error().violations.at(0).field, "staff_oidc.role_claim");
    EXPECT_TRUE(OidcStaffProvider::Create({.issuer = "https://idp.example", .client_id = "firmo"},
                                          http, clock, random));
}

}  // namespace
}  // namespace firmo::oidc
