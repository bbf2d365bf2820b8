#include "core/log.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace firmo::log {
namespace {

const Timestamp kAt = FromUnixMillis(1'795'000'000'007);  // 2026-11-18T11:06:40.007Z

TEST(LogLine, TextCarriesNodeAndRequestIdAndQuotesWhatNeedsIt) {
    EXPECT_EQ(FormatLine(Format::kText, Level::kInfo, kAt, "web1-42", "r-1", "http_request",
                         {{"method", "GET"},
                          {"status", 200},
                          {"ua", "curl/8 \"x\"\nip=1.2.3.4"},
                          {"empty", ""}}),
              "ts=2026-11-18T11:06:40.007Z level=info event=http_request node=web1-42 "
              "request_id=r-1 method=GET status=200 ua=\"curl/8 \\\"x\\\"\\nip=1.2.3.4\" "
              "empty=\"\"\n");
    // Without a node or request, the fields are left out; control bytes are escaped.
    EXPECT_EQ(FormatLine(Format::kText, Level::kWarn, FromUnixMillis(0), "", "", "e",
                         {{"x", std::string_view("a\x01=", 3)}, {"n", std::int64_t{-5}}}),
              "ts=1970-01-01T00:00:00.000Z level=warn event=e x=\"a\\x01=\" n=-5\n");
}

TEST(LogLine, JsonIsOneObjectPerLineWithTypedFields) {
    const std::string line =
        FormatLine(Format::kJson, Level::kError, kAt, "web1-42", "r-1", "handler_exception",
                   {{"path", "/a\"b\\c\n"}, {"status", 500}, {"what", "\x7f\x01"}});
    ASSERT_EQ(line.back(), '\n');
    EXPECT_EQ(line.find('\n'), line.size() - 1);  // one line
    const auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["ts"], "2026-11-18T11:06:40.007Z");
    EXPECT_EQ(j["level"], "error");
    EXPECT_EQ(j["event"], "handler_exception");
    EXPECT_EQ(j["node"], "web1-42");
    EXPECT_EQ(j["request_id"], "r-1");
    EXPECT_EQ(j["path"], "/a\"b\\c\n");
    EXPECT_EQ(j["status"], 500);
    EXPECT_EQ(j["what"], "\x7f\x01");
    // Keys come in a fixed order: ts, level, event, node, request_id, then the fields.
    EXPECT_EQ(line.rfind("{\"ts\":\"2026-11-18T11:06:40.007Z\",\"level\":\"error\","
                         "\"event\":\"handler_exception\",\"node\":\"web1-42\","
                         "\"request_id\":\"r-1\",\"path\":",
                         0),
              0u);
    EXPECT_FALSE(
        nlohmann::json::parse(FormatLine(Format::kJson, Level::kInfo, kAt, "", "", "e", {}))
            .contains("node"));
}

TEST(LogLine, RequestScopeNestsAndRestores) {
    EXPECT_EQ(CurrentRequestId(), "");
    {
        RequestScope outer("a");
        EXPECT_EQ(CurrentRequestId(), "a");
        {
            RequestScope inner("b");
            EXPECT_EQ(CurrentRequestId(), "b");
        }
        EXPECT_EQ(CurrentRequestId(), "a");
    }
    EXPECT_EQ(CurrentRequestId(), "");
}

TEST(LogLine, WriteAndAccessGoToStderrInOrder) {
    testing::internal::CaptureStderr();
    SetFormat(Format::kJson);
    SetNode("test-node");
    {
        RequestScope scope("req-7");
        Access({{"method", "GET"}, {"status", 204}});
    }
    Warn("after", {{"k", "v"}});  // writes the buffered access line first
    Flush();
    const std::string out = testing::internal::GetCapturedStderr();
    SetFormat(Format::kText);
    SetNode("");
    const auto first = out.substr(0, out.find('\n'));
    const auto j = nlohmann::json::parse(first);
    EXPECT_EQ(j["event"], "http_request");
    EXPECT_EQ(j["request_id"], "req-7");
    EXPECT_EQ(j["node"], "test-node");
    EXPECT_EQ(j["status"], 204);
    EXPECT_NE(out.find("\"event\":\"after\""), std::string::npos);
}

}  // namespace
}  // namespace firmo::log
