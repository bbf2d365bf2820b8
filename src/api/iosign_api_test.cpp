// The io-sign root's pure pieces: which members io-sign's lenient reading drops, and io-sign's
// status names. The HTTP behaviour is tested end to end in tests/iosign (node, ajv, Azure SDK).

#include "api/iosign_api.hpp"

#include <gtest/gtest.h>

#include "api/contract.hpp"

namespace firmo::api {
namespace {

using codec::Json;

TEST(IoSign, UnknownMembersAreDroppedAtEveryDepthAndKnownOnesKept) {
    Json body = Json::parse(R"({
        "title": "Contratto", "extra": 1,
        "documents_metadata": [{
            "title": "Doc", "color": "red",
            "signature_fields": [
                {"attrs": {"unique_name": "Sig1", "x": 1},
                 "clause": {"title": "Accetto tutto", "type": "REQUIRED", "note": "n"}, "z": 2},
                {"attrs": {"page": 0, "coordinates": {"x": 1, "y": 2, "z": 3},
                           "size": {"w": 3, "h": 4, "d": 5}},
                 "clause": {"title": "Accetto tutto", "type": "UNFAIR"}}]}]})");
    DropUnknownMembers(body, DossierBodySpec().schema());
    const Json expected = Json::parse(R"({
        "title": "Contratto",
        "documents_metadata": [{
            "title": "Doc",
            "signature_fields": [
                {"attrs": {"unique_name": "Sig1"},
                 "clause": {"title": "Accetto tutto", "type": "REQUIRED"}},
                {"attrs": {"page": 0, "coordinates": {"x": 1, "y": 2}, "size": {"w": 3, "h": 4}},
                 "clause": {"title": "Accetto tutto", "type": "UNFAIR"}}]}]})");
    EXPECT_EQ(body, expected) << body.dump(1);
    // What is left parses with Firmo's strict description.
    EXPECT_TRUE(codec::ParseWith(DossierBodySpec(), body));
}

TEST(IoSign, ValuesOfTheWrongShapeAreLeftForTheParserToRefuse) {
    Json body = Json::parse(R"({"title": 7, "documents_metadata": "none", "x": null})");
    DropUnknownMembers(body, DossierBodySpec().schema());
    EXPECT_EQ(body, Json::parse(R"({"title": 7, "documents_metadata": "none"})"));
    EXPECT_FALSE(codec::ParseWith(DossierBodySpec(), body));
    Json status = "READY";
    DropUnknownMembers(status, StatusBodySpec().schema());
    EXPECT_EQ(status, "READY");
    status = Json::parse(R"({"status": "CANCELLED", "reason": "x"})");
    DropUnknownMembers(status, StatusBodySpec().schema());
    EXPECT_EQ(status, Json::parse(R"({"status": "CANCELLED"})"));
}

TEST(IoSign, StatusNames) {
    using domain::RequestStatus;
    EXPECT_EQ(IoSignStatus(RequestStatus::kWaitForQtsp), "WAIT_FOR_SIGNATURE");
    for (const auto s : domain::kAllRequestStatuses) {
        if (s != RequestStatus::kWaitForQtsp) {
            EXPECT_EQ(IoSignStatus(s), domain::ToString(s));
        }
    }
}

}  // namespace
}  // namespace firmo::api
