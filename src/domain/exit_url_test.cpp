#include "domain/exit_url.hpp"

#include <gtest/gtest.h>

namespace firmo::domain {
namespace {

std::string ReasonOf(std::string_view url) {
    auto v = CheckExitUrl(url, "redirect.completion_url");
    if (v.empty()) return "";
    EXPECT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0].field, "redirect.completion_url");
    return v[0].reason;
}

TEST(ExitUrl, AcceptsAbsoluteWebUrls) {
    for (const char* url :
         {"https://shop.example/done", "http://localhost:8080/x?y=1#z", "https://shop.example",
          "https://shop.example?order=7", "https://[2001:db8::1]:8443/done",
          "https://xn--bcher-kva.example/done", "https://a.example/p%20q?r=a@b"}) {
        EXPECT_EQ(ReasonOf(url), "") << url;
    }
}

TEST(ExitUrl, RefusesWhatABrowserWouldReadAsAnotherHost) {
    EXPECT_EQ(ReasonOf("https://user:pass@shop.example/done"),
              "must not carry a user name or password (user:pass@)");
    EXPECT_EQ(ReasonOf("https://shop.example@evil.example/"),
              "must not carry a user name or password (user:pass@)");
    EXPECT_EQ(ReasonOf("https://evil.example\\@shop.example/"),
              "must not contain a backslash (browsers read it as '/')");
    EXPECT_EQ(ReasonOf("https:\\\\evil.example/"),
              "must not contain a backslash (browsers read it as '/')");
    EXPECT_EQ(ReasonOf("https:///done"), "must name a host");
    EXPECT_EQ(ReasonOf("https://:443/done"), "must name a host");
    EXPECT_EQ(ReasonOf("https://"), "must name a host");
    EXPECT_EQ(ReasonOf("https://[]/"), "must name a host");
    EXPECT_EQ(ReasonOf(std::string_view("https://shop.example/\0x", 23)),
              "must not contain control characters");
    EXPECT_EQ(ReasonOf("https://shop.example/\tx"), "must not contain control characters");
    EXPECT_EQ(ReasonOf("https://shop.example/\x7f"), "must not contain control characters");
    EXPECT_EQ(ReasonOf("https://shop.example\r\nSet-Cookie: a=b"),
              "must not contain control characters");
}

TEST(ExitUrl, RefusesOtherMalformedUrls) {
    EXPECT_EQ(ReasonOf("javascript:alert(1)"), "must be an absolute http(s) URL");
    EXPECT_EQ(ReasonOf("//shop.example/done"), "must be an absolute http(s) URL");
    EXPECT_EQ(ReasonOf("ftp://shop.example/"), "must be an absolute http(s) URL");
    EXPECT_EQ(ReasonOf("https://shop.example:/"), "has an empty port");
    EXPECT_EQ(ReasonOf("https://shop.example:0/"),
              "has a port that is not a number from 1 to 65535");
    EXPECT_EQ(ReasonOf("https://shop.example:65536/"),
              "has a port that is not a number from 1 to 65535");
    EXPECT_EQ(ReasonOf("https://shop.example:8x/"),
              "has a port that is not a number from 1 to 65535");
    EXPECT_NE(ReasonOf("https://shöp.example/"), "");
    EXPECT_EQ(ReasonOf("https://[2001:db8::1/"), "has an IPv6 host without its closing ']'");
    EXPECT_EQ(ReasonOf("https://shop.example/ x"), "must not contain spaces (percent-encode them)");
    EXPECT_EQ(ReasonOf("https://shop.example/<x>"), "must not contain <, > or \"");
    EXPECT_EQ(ReasonOf("https://shop.example/" + std::string(2000, 'a')),
              "must be at most 2000 characters");
}

}  // namespace
}  // namespace firmo::domain
