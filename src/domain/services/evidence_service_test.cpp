#include "domain/services/evidence_service.hpp"

#include <gtest/gtest.h>

namespace firmo::domain {
namespace {

TEST(AuditDetailIp, TakesThePlainAddressOutOfTheDetail) {
    std::string rest;
    EXPECT_EQ(AuditDetailIp("via code ip=203.0.113.7 ua=\"curl\"", &rest), "203.0.113.7");
    EXPECT_EQ(rest, "via code ua=\"curl\"");
    EXPECT_EQ(AuditDetailIp("ip=2001:db8::1", &rest), "2001:db8::1");
    EXPECT_EQ(rest, "");
    EXPECT_EQ(AuditDetailIp("confirm ip=::1", &rest), "::1");
    EXPECT_EQ(rest, "confirm");
}

TEST(AuditDetailIp, KeepsAQuotedAddressWholeAndIgnoresOneInsideAQuotedReason) {
    std::string rest;
    // The signer side quotes an odd address; the user agent may contain " ip=" too, quoted.
    EXPECT_EQ(AuditDetailIp(R"(no ip="a b\" c" ua="x")", &rest), R"("a b\" c")");
    EXPECT_EQ(rest, R"(no ua="x")");
    // As the ceremony writes it for a forged reason and user agent (ceremony_service_test).
    EXPECT_EQ(
        AuditDetailIp(R"(reason="no\" ip=6.6.6.6" ip=203.0.113.7 ua="agent\" ip=6.6.6.6 ua=\"x")",
                      &rest),
        "203.0.113.7");
    EXPECT_EQ(rest, R"(reason="no\" ip=6.6.6.6" ua="agent\" ip=6.6.6.6 ua=\"x")");
    EXPECT_EQ(AuditDetailIp("1 pages", &rest), "");
    EXPECT_EQ(rest, "1 pages");
}

}  // namespace
}  // namespace firmo::domain
