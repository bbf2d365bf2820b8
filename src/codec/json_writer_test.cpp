#include "codec/json_writer.hpp"

#include <gtest/gtest.h>

#include "codec/json.hpp"

namespace firmo::codec {
namespace {

TEST(JsonWriter, NestsContainersWithCommasOnlyBetweenValues) {
    std::string out;
    JsonWriter w(out);
    w.BeginObject().Member("a", 1).Key("b").BeginArray();
    w.BeginObject().EndObject().BeginArray().EndArray().Int(-7).Bool(false).Null();
    w.EndArray().Key("c").BeginObject().Member("d", "x").EndObject();
    w.Member("e", std::optional<std::string>()).Member("f", std::optional<std::string>("y"));
    w.Key("g").Raw(R"({"h":[1,2]})").EndObject();
    EXPECT_EQ(out, R"({"a":1,"b":[{},[],-7,false,null],"c":{"d":"x"},"f":"y","g":{"h":[1,2]}})");
    EXPECT_FALSE(Json::parse(out, nullptr, false).is_discarded());
}

TEST(JsonWriter, EscapesStringsAsJsonRequires) {
    std::string out;
    JsonWriter w(out);
    w.BeginArray().String("q\"b\\n\nt\tr\r").String(std::string("\x01\x1f\x7f\0z", 5));
    w.String("æøå € 𝄞").EndArray();
    EXPECT_EQ(out, "[\"q\\\"b\\\\n\\nt\\tr\\r\",\"\\u0001\\u001f\\u007f\\u0000z\",\"æøå € 𝄞\"]");
    const Json parsed = Json::parse(out);
    EXPECT_EQ(parsed[0], "q\"b\\n\nt\tr\r");
    EXPECT_EQ(parsed[1].get<std::string>(), std::string("\x01\x1f\x7f\0z", 5));
}

TEST(JsonWriter, ReplacesBytesThatAreNotUtf8AsTheTreeDumpDoes) {
    // A lone continuation byte, a truncated sequence, an overlong '/', a surrogate.
    const std::string bad =
        "a\x80"
        "b\xc3"
        "c\xc0\xaf"
        "d\xed\xa0\x80"
        "e";
    std::string out;
    JsonWriter(out).String(bad);
    EXPECT_EQ(out, Json(bad).dump(-1, ' ', false, Json::error_handler_t::replace));
    EXPECT_FALSE(Json::parse(out, nullptr, false).is_discarded());
}

TEST(JsonWriter, WritesTheWholeRangeOfIntegers) {
    std::string out;
    JsonWriter(out).BeginArray().Int(INT64_MIN).Int(INT64_MAX).Int(0).EndArray();
    EXPECT_EQ(out, "[-9223372036854775808,9223372036854775807,0]");
}

}  // namespace
}  // namespace firmo::codec
