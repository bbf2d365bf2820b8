#include "codec/schema.hpp"

#include <gtest/gtest.h>

#include <variant>

namespace firmo::codec {
namespace {

struct Point {
    int page = 0;
    double x = 0;
    double y = 0;
};
struct Named {
    std::string name;
};
struct Body {
    std::string title;
    std::optional<std::string> note;
    bool flag = false;
    std::vector<int> numbers;
    std::optional<std::variant<Named, Point>> where;
};

const Spec<Body>& BodySpec() {
    static const Spec<Body> spec = [] {
        const Spec<Point> point =
            Object<Point>()
                .Required("page", &Point::page, Integer({.minimum = 0, .maximum = 9}))
                .Nested("at", Object<Point>()
                                  .Required("x", &Point::x, Number())
                                  .Required("y", &Point::y, Number({.maximum = 10})));
        const Spec<Named> named = Object<Named>().Required(
            "name", &Named::name, String({.min_length = 1, .max_length = 3}));
        using Where = std::variant<Named, Point>;
        const Spec<Where> where = OneOf<Where>("must hold name or page and at")
                                      .When({"name"}, named)
                                      .When({"page", "at"}, point);
        return Spec<Body>(
            Object<Body>()
                .Required("title", &Body::title,
                          String({.min_length = 2, .max_length = 5, .by = By::kDomain}))
                .Optional("note", &Body::note, StringEnum({"a", "b"}))
                .Optional("flag", &Body::flag, Boolean())
                .Optional("numbers", &Body::numbers,
                          ArrayOf(Integer(), {.min_items = 1, .max_items = 2}))
                .Optional("where", &Body::where, where)
                .Rule("a note needs a flag", [](const Body& b, const std::string&, Reader& r) {
                    if (b.note && !b.flag) r.Add("flag", "must be true with a note");
                }));
    }();
    return spec;
}

std::vector<Violation> Errors(const char* json) {
    auto r = ParseWith(BodySpec(), Json::parse(json));
    return r ? std::vector<Violation>{} : r.error().violations;
}

TEST(Schema, FillsTheValueFromEveryMember) {
    auto b = ParseWith(BodySpec(), Json::parse(R"({"title": "t", "note": "a", "flag": true,
        "numbers": [1, 2.0], "where": {"page": 3, "at": {"x": 1.5, "y": 2}}})"));
    ASSERT_TRUE(b) << b.error().message;
    EXPECT_EQ(b->title, "t");  // the length is the domain's to check
    EXPECT_EQ(b->note, "a");
    EXPECT_TRUE(b->flag);
    EXPECT_EQ(b->numbers, (std::vector<int>{1, 2}));
    ASSERT_TRUE(b->where && std::holds_alternative<Point>(*b->where));
    EXPECT_EQ(std::get<Point>(*b->where).page, 3);
    EXPECT_EQ(std::get<Point>(*b->where).x, 1.5);
    EXPECT_EQ(std::get<Point>(*b->where).y, 2);
}

TEST(Schema, NullCountsAsAbsent) {
    auto b = ParseWith(BodySpec(), Json::parse(R"({"title": "t", "note": null, "where": null})"));
    ASSERT_TRUE(b);
    EXPECT_FALSE(b->note);
    EXPECT_FALSE(b->where);
    EXPECT_EQ(Errors(R"({"title": null})"), (std::vector<Violation>{{"title", "is required"}}));
}

TEST(Schema, ShapeViolationsAllAtOnceAndRulesOnlyAfter) {
    EXPECT_EQ(Errors(R"({"title": 1, "note": "c", "flag": 1, "numbers": [1.5, "x"], "other": 0,
                        "where": {"page": 10, "at": {"x": 1}, "name": "n"}})"),
              (std::vector<Violation>{{"other", "is not a known field"},
                                      {"title", "must be a string, not number"},
                                      {"note", "must be a or b"},
                                      {"flag", "must be true or false"},
                                      {"numbers[0]", "must be an integer"},
                                      {"numbers[1]", "must be an integer"},
                                      {"where.at", "is not a known field"},
                                      {"where.page", "is not a known field"}}));
    EXPECT_EQ(Errors(R"({"title": "t", "note": "a"})"),
              (std::vector<Violation>{{"flag", "must be true with a note"}}));
}

TEST(Schema, ParserLimits) {
    EXPECT_EQ(Errors(R"({"title": "t", "numbers": []})"),
              (std::vector<Violation>{{"numbers", "must list 1-2 items"}}));
    EXPECT_EQ(Errors(R"({"title": "t", "numbers": [1, 2, 3]})"),
              (std::vector<Violation>{{"numbers", "must list 1-2 items"}}));
    EXPECT_EQ(Errors(R"({"title": "t", "numbers": [3000000000]})"),
              (std::vector<Violation>{{"numbers[0]", "must be an integer"}}));
    EXPECT_EQ(
        Errors(R"({"title": "t", "where": {"page": 10, "at": {"x": 1, "y": 11}}})"),
        (std::vector<Violation>{{"where.page", "must be 0-9"}, {"where.at.y", "is out of range"}}));
    EXPECT_EQ(Errors(R"({"title": "t", "where": {"name": "long"}})"),
              (std::vector<Violation>{{"where.name", "must be 1-3 characters (got 4)"}}));
    EXPECT_EQ(Errors(R"({"title": "t", "where": {}})"),
              (std::vector<Violation>{{"where", "must hold name or page and at"}}));
    EXPECT_EQ(Errors(R"({"title": "t", "where": {"page": 1}})"),
              (std::vector<Violation>{{"where.at", "is required"}}));
    EXPECT_EQ(Errors("[]"), (std::vector<Violation>{{"body", "must be an object, not array"}}));
}

TEST(Schema, DescribesItselfAsJsonSchema) {
    const Json& s = BodySpec().schema();
    EXPECT_EQ(s["type"], "object");
    EXPECT_EQ(s["additionalProperties"], false);
    EXPECT_EQ(s["required"], Json::array({"title"}));
    EXPECT_EQ(s["properties"]["title"],
              Json::parse(R"({"type": "string", "minLength": 2, "maxLength": 5})"));
    EXPECT_EQ(s["properties"]["note"], Json::parse(R"({"type": "string", "enum": ["a", "b"]})"));
    EXPECT_EQ(s["properties"]["numbers"],
              Json::parse(R"({"type": "array", "items": {"type": "integer"},
                              "minItems": 1, "maxItems": 2})"));
    const Json& point = s["properties"]["where"]["oneOf"][1];
    EXPECT_EQ(point["required"], Json::array({"page", "at"}));
    EXPECT_EQ(point["properties"]["at"]["properties"]["y"],
              Json::parse(R"({"type": "number", "maximum": 10.0})"));
    EXPECT_EQ(DateTime().schema(), Json::parse(R"({"type": "string", "format": "date-time"})"));
}

}  // namespace
}  // namespace firmo::codec
