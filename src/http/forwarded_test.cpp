#include "http/forwarded.hpp"

#include <gtest/gtest.h>

namespace firmo::http {
namespace {

TrustedProxies Proxies(std::string_view list) {
    auto p = TrustedProxies::Parse(list);
    EXPECT_TRUE(p) << p.error().message;
    return *p;
}

TEST(TrustedProxies, ParsesAddressesAndNetworksOfBothFamilies) {
    const auto p = Proxies("10.0.0.0/8, 192.168.1.7 ::1,fd00::/8");
    EXPECT_TRUE(p.Contains("10.1.2.3"));
    EXPECT_TRUE(p.Contains("192.168.1.7"));
    EXPECT_FALSE(p.Contains("192.168.1.8"));
    EXPECT_TRUE(p.Contains("::1"));
    EXPECT_TRUE(p.Contains("fd12::5"));
    EXPECT_FALSE(p.Contains("fe80::1"));
    EXPECT_FALSE(p.Contains("11.0.0.1"));
    EXPECT_TRUE(p.Contains("::ffff:10.9.9.9"));  // IPv4-mapped is the same address
    EXPECT_FALSE(p.Contains("not an ip"));
    EXPECT_TRUE(Proxies("").empty());
    EXPECT_TRUE(Proxies("0.0.0.0/0").Contains("203.0.113.9"));
    EXPECT_FALSE(Proxies("0.0.0.0/0").Contains("2001:db8::1"));
    EXPECT_TRUE(Proxies("10.0.0.0/9").Contains("10.127.0.1"));
    EXPECT_FALSE(Proxies("10.0.0.0/9").Contains("10.128.0.1"));
}

// The matching an API key's IP allow-list uses (AddressList), at its edges.
TEST(AddressList, MatchesNetworksAtTheirEdges) {
    const auto list = [](std::string_view text) {
        auto l = AddressList::Parse(text);
        EXPECT_TRUE(l) << text;
        return *l;
    };
    // /0: every address of its family, none of the other.
    EXPECT_TRUE(list("0.0.0.0/0").Contains("255.255.255.255"));
    EXPECT_FALSE(list("0.0.0.0/0").Contains("::1"));
    EXPECT_TRUE(list("::/0").Contains("2001:db8::1"));
    // /32 and /128: exactly one address.
    EXPECT_TRUE(list("203.0.113.7/32").Contains("203.0.113.7"));
    EXPECT_FALSE(list("203.0.113.7/32").Contains("203.0.113.6"));
    EXPECT_FALSE(list("203.0.113.7/32").Contains("203.0.113.8"));
    EXPECT_TRUE(list("2001:db8::7/128").Contains("2001:db8::7"));
    EXPECT_FALSE(list("2001:db8::7/128").Contains("2001:db8::8"));
    // A network's first and last address, and the first ones outside.
    EXPECT_TRUE(list("192.0.2.0/24").Contains("192.0.2.0"));
    EXPECT_TRUE(list("192.0.2.0/24").Contains("192.0.2.255"));
    EXPECT_FALSE(list("192.0.2.0/24").Contains("192.0.1.255"));
    EXPECT_FALSE(list("192.0.2.0/24").Contains("192.0.3.0"));
    EXPECT_TRUE(list("2001:db8::/32").Contains("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"));
    EXPECT_FALSE(list("2001:db8::/32").Contains("2001:db9::"));
    // An IPv4-mapped IPv6 client is its IPv4 address, both ways.
    EXPECT_TRUE(list("192.0.2.0/24").Contains("::ffff:192.0.2.9"));
    EXPECT_TRUE(list("::ffff:192.0.2.0/120").Contains("192.0.2.9"));
    EXPECT_FALSE(list("::ffff:192.0.2.0/120").Contains("192.0.3.9"));
    // A prefix that does not fall on a byte.
    EXPECT_TRUE(list("10.0.0.0/13").Contains("10.7.255.255"));
    EXPECT_FALSE(list("10.0.0.0/13").Contains("10.8.0.0"));
    EXPECT_FALSE(list("").Contains("127.0.0.1"));  // an empty list holds nobody
}

TEST(TrustedProxies, RefusesWhatIsNotAnAddressOrNetwork) {
    for (const char* bad : {"10.0.0.0/33", "::/129", "10.0.0.0/x", "example.org", "10.0.0/8",
                            "10.0.0.0/", "fe80::1%eth0"}) {
        auto p = TrustedProxies::Parse(bad);
        ASSERT_FALSE(p) << bad;
        EXPECT_EQ(p.error().code, ErrorCode::kInvalidArgument) << bad;
    }
}

TEST(TrustedProxies, ForwardedForIsBelievedOnlyFromATrustedPeer) {
    const auto p = Proxies("10.0.0.0/8");
    // Not from a proxy: the header is the client's own claim and is ignored.
    EXPECT_EQ(p.ClientAddress("203.0.113.5", "198.51.100.1"), "203.0.113.5");
    // From the proxy: the address it saw.
    EXPECT_EQ(p.ClientAddress("10.0.0.2", "198.51.100.1"), "198.51.100.1");
    EXPECT_EQ(p.ClientAddress("10.0.0.2", " 198.51.100.1:4711 "), "198.51.100.1");
    EXPECT_EQ(p.ClientAddress("10.0.0.2", "[2001:db8::7]:443"), "2001:db8::7");
    // A client's forged entries are to the left of what the proxy added.
    EXPECT_EQ(p.ClientAddress("10.0.0.2", "1.1.1.1, 198.51.100.1"), "198.51.100.1");
    // Several trusted hops are skipped from the right.
    EXPECT_EQ(p.ClientAddress("10.0.0.2", "198.51.100.1, 10.0.0.9, 10.0.0.3"), "198.51.100.1");
    // No header, or garbage: the last hop that could be trusted.
    EXPECT_EQ(p.ClientAddress("10.0.0.2", ""), "10.0.0.2");
    EXPECT_EQ(p.ClientAddress("10.0.0.2", "unknown"), "10.0.0.2");
    EXPECT_EQ(p.ClientAddress("10.0.0.2", "198.51.100.1, garbage, 10.0.0.3"), "10.0.0.3");
    // Nobody trusted: always the peer.
    EXPECT_EQ(TrustedProxies().ClientAddress("10.0.0.2", "198.51.100.1"), "10.0.0.2");
}

}  // namespace
}  // namespace firmo::http
