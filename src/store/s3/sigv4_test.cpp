// SigV4 against AWS's published examples: the "get-vanilla" cases of the SigV4 test suite
// (service "service", AKIDEXAMPLE, 20150830T123600Z) and the S3 examples of "Authenticating
// requests: Using the Authorization header" / "Using query parameters" (examplebucket,
// AKIAIOSFODNN7EXAMPLE, 20130524T000000Z).

#include "store/s3/sigv4.hpp"

#include <gtest/gtest.h>

#include "core/encoding.hpp"
#include "crypto/digest.hpp"

namespace firmo::store::s3 {
namespace {

constexpr const char* kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

SigV4Credentials SuiteCredentials() {
    return {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "us-east-1", "service"};
}

SigV4Credentials S3ExampleCredentials() {
    return {"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "us-east-1", "s3"};
}

TEST(SigV4, GetVanilla) {
    SigV4Request r{"GET",
                   "/",
                   {},
                   {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}},
                   kEmptySha256};
    const std::string canonical = CanonicalRequest(r);
    EXPECT_EQ(canonical,
              "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
              "host;x-amz-date\n" +
                  std::string(kEmptySha256));
    const auto creds = SuiteCredentials();
    EXPECT_EQ(StringToSign("20150830T123600Z", SigV4Scope("20150830", creds), canonical),
              "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
              "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
    EXPECT_EQ(Signature(r, creds, "20150830T123600Z"),
              "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
    EXPECT_EQ(AuthorizationHeader(r, creds, "20150830T123600Z"),
              "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
              "SignedHeaders=host;x-amz-date, "
              "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST(SigV4, GetVanillaQueryOrderKeyCase) {
    // GET /?Param2=value2&Param1=value1: parameters are sorted by name.
    SigV4Request r{"GET",
                   "/",
                   {{"Param2", "value2"}, {"Param1", "value1"}},
                   {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}},
                   kEmptySha256};
    EXPECT_EQ(CanonicalQueryString(r.query), "Param1=value1&Param2=value2");
    EXPECT_EQ(Signature(r, SuiteCredentials(), "20150830T123600Z"),
              "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
}

TEST(SigV4, S3GetObjectWithRange) {
    SigV4Request r{"GET",
                   "/test.txt",
                   {},
                   {{"Host", "examplebucket.s3.amazonaws.com"},
                    {"Range", "bytes=0-9"},
                    {"x-amz-content-sha256", kEmptySha256},
                    {"x-amz-date", "20130524T000000Z"}},
                   kEmptySha256};
    const std::string canonical = CanonicalRequest(r);
    EXPECT_EQ(canonical,
              "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
              "x-amz-content-sha256:" +
                  std::string(kEmptySha256) +
                  "\nx-amz-date:20130524T000000Z\n\n"
                  "host;range;x-amz-content-sha256;x-amz-date\n" +
                  kEmptySha256);
    const auto creds = S3ExampleCredentials();
    EXPECT_EQ(StringToSign("20130524T000000Z", SigV4Scope("20130524", creds), canonical),
              "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
              "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
    EXPECT_EQ(Signature(r, creds, "20130524T000000Z"),
              "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4, S3PresignedGet) {
    SigV4Request r{"GET", "/test.txt", {}, {{"Host", "examplebucket.s3.amazonaws.com"}}, ""};
    const std::string query = PresignQuery(r, S3ExampleCredentials(), "20130524T000000Z", 86400);
    EXPECT_EQ(query,
              "X-Amz-Algorithm=AWS4-HMAC-SHA256"
              "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
              "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
              "&X-Amz-Signature="
              "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
}

TEST(SigV4, UriEncode) {
    EXPECT_EQ(UriEncode("a b/c~d_e.f-g"), "a%20b%2Fc~d_e.f-g");
    EXPECT_EQ(UriEncode("a b/c", true), "a%20b/c");
    EXPECT_EQ(UriEncode("\xC3\xA9*+"), "%C3%A9%2A%2B");
}

TEST(SigV4, CanonicalHeadersTrimAndJoin) {
    std::string names;
    EXPECT_EQ(CanonicalHeaders({{"My-Header1", "  a   b   c "}, {"Host", "h"}, {"my-header1", "d"}},
                               &names),
              "host:h\nmy-header1:a b c,d\n");
    EXPECT_EQ(names, "host;my-header1");
}

TEST(SigV4, AmzDate) {
    // 2013-05-24T00:00:00Z
    const auto t = std::chrono::system_clock::time_point(std::chrono::seconds(1369353600));
    EXPECT_EQ(AmzDate(t), "20130524T000000Z");
}

}  // namespace
}  // namespace firmo::store::s3
