#include "http/multipart.hpp"

#include <gtest/gtest.h>

#include <random>

namespace firmo::http {
namespace {

const std::string kType = "multipart/form-data; boundary=XyZ";

TEST(Multipart, SplitsNamedParts) {
    const std::string body =
        "preamble\r\n--XyZ\r\n"
        "Content-Disposition: form-data; name=\"file\"; filename=\"a b.pdf\"\r\n"
        "Content-Type: Application/PDF\r\n\r\n"
        "%PDF-1.7\r\nbinary\r\n--not-the-boundary\r\n"
        "\r\n--XyZ\r\n"
        "Content-Disposition: form-data; name=\"signature_fields\"\r\n\r\n"
        "[]\r\n--XyZ--\r\nepilogue";
    auto parts = ParseMultipart(kType, body);
    ASSERT_TRUE(parts) << parts.error().message;
    ASSERT_EQ(parts->size(), 2u);
    EXPECT_EQ((*parts)[0].name, "file");
    EXPECT_EQ((*parts)[0].filename, "a b.pdf");
    EXPECT_EQ((*parts)[0].content_type, "application/pdf");
    EXPECT_EQ((*parts)[0].body, "%PDF-1.7\r\nbinary\r\n--not-the-boundary\r\n");
    EXPECT_EQ((*parts)[1].name, "signature_fields");
    EXPECT_EQ((*parts)[1].body, "[]");
}

TEST(Multipart, QuotedBoundaryAndEmptyPart) {
    const std::string body = "--a:b\r\nContent-Disposition: form-data; name=x\r\n\r\n\r\n--a:b--";
    auto parts = ParseMultipart("multipart/form-data; boundary=\"a:b\"", body);
    ASSERT_TRUE(parts) << parts.error().message;
    ASSERT_EQ(parts->size(), 1u);
    EXPECT_EQ((*parts)[0].name, "x");
    EXPECT_EQ((*parts)[0].body, "");
}

TEST(Multipart, RejectsMalformedBodies) {
    EXPECT_EQ(ParseMultipart("application/json", "{}").error().code,
              ErrorCode::kUnsupportedMediaType);
    for (const std::string& bad :
         {std::string(""), std::string("--XyZ"), std::string("--XyZ\r\nno end"),
          std::string("--XyZ\r\nContent-Disposition: form-data\r\n\r\nbody"),
          std::string("--XyZ\r\nBroken header\r\n\r\nx\r\n--XyZ--"),
          std::string("--XyZ\r\nContent-Disposition: attachment\r\n\r\nx\r\n--XyZ--"),
          std::string("--XyZjunk\r\n\r\nx\r\n--XyZ--")}) {
        EXPECT_FALSE(ParseMultipart(kType, bad)) << bad;
    }
    EXPECT_FALSE(ParseMultipart("multipart/form-data", "--\r\n"));
    // A preamble of one byte before the first boundary (once an out-of-range read).
    EXPECT_FALSE(ParseMultipart(kType, "x--XyZ\r\n\r\nx\r\n--XyZ--"));
    EXPECT_FALSE(ParseMultipart("multipart/form-data; boundary=" + std::string(71, 'a'), ""));
}

TEST(Multipart, CapsThePartCount) {
    std::string body;
    for (int i = 0; i < 20; ++i) body += "--XyZ\r\n\r\nx\r\n";
    body += "--XyZ--";
    EXPECT_EQ(ParseMultipart(kType, body, 16).error().code, ErrorCode::kInvalidArgument);
}

TEST(Multipart, RandomInputNeverCrashes) {
    std::mt19937 rng(5);
    const std::string alphabet = "-XyZ\r\n:;=\" abcform-dataContent-Disposition";
    for (int i = 0; i < 20000; ++i) {
        // Sometimes a short preamble, sometimes none: the boundary search must stay in range.
        std::string body = std::string(rng() % 3, 'p') + "--XyZ\r\n";
        const int n = static_cast<int>(rng() % 120);
        for (int k = 0; k < n; ++k) body.push_back(alphabet[rng() % alphabet.size()]);
        const auto parts = ParseMultipart(kType, body);
        if (!parts) continue;
        for (const auto& part : *parts) {  // every view stays inside the input
            ASSERT_GE(part.body.data(), body.data());
            ASSERT_LE(part.body.data() + part.body.size(), body.data() + body.size());
        }
    }
}

}  // namespace
}  // namespace firmo::http
