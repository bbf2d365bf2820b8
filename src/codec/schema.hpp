#pragma once
// A JSON value described once: members, types, required or optional, limits, enums, nested
// objects, and the C++ value it parses into. From one description come the parser, the
// unknown-member check and the JSON Schema (OpenAPI 3.1 dialect) that docs/openapi.yaml is
// compared with in the tests, so the three cannot drift.
//
// Shape first: types, missing and unknown members and enums are always the parser's, and a
// value is built only when its whole shape is right. Most lengths, counts and ranges are rules
// of the domain, which checks them after parsing with every failing rule reported at once;
// such limits are declared here with the domain's own constants and `By::kDomain`, so the
// contract states them and the parser does not check them a second time.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "codec/json.hpp"
#include "core/clock.hpp"

namespace firmo::codec {

enum class By { kParser, kDomain };

// Describes a JSON value that parses into a T.
template <typename T>
class Spec {
  public:
    using Value = T;
    using ParseFn = std::function<std::optional<T>(const Json&, const std::string&, Reader&)>;
    Spec(Json schema, ParseFn parse) : schema_(std::move(schema)), parse_(std::move(parse)) {}

    // The value, or nullopt with violations at `path` ("" is the whole body).
    std::optional<T> Parse(const Json& j, const std::string& path, Reader& r) const {
        return parse_(j, path, r);
    }
    // What Parse accepts, as a JSON Schema.
    const Json& schema() const { return schema_; }

  private:
    Json schema_;
    ParseFn parse_;
};

// "must be a string, not number" (the JSON type names of nlohmann).
std::string TypeMismatch(const char* wanted, const Json& got);
// "A, B or C".
std::string OneOfText(const std::vector<std::string>& values);

struct StringLimits {
    std::size_t min_length = 0;  // in characters
    std::size_t max_length = 0;  // 0: none
    By by = By::kParser;
    const char* format = nullptr;   // "email", "uri": stated; the domain checks them
    const char* pattern = nullptr;  // stated; the domain checks it
};
// Lengths checked by the parser count characters of printable UTF-8 (domain::CheckLength).
Spec<std::string> String(StringLimits limits = {});
// A string from a closed list.
Spec<std::string> StringEnum(std::vector<std::string> values, By by = By::kParser);

struct IntegerLimits {
    std::optional<std::int64_t> minimum;
    std::optional<std::int64_t> maximum;
    By by = By::kParser;
};
Spec<int> Integer(IntegerLimits limits = {});

struct NumberLimits {
    std::optional<double> minimum;
    std::optional<double> exclusive_minimum;
    std::optional<double> maximum;
    By by = By::kParser;
};
Spec<double> Number(NumberLimits limits = {});

Spec<bool> Boolean();
// An RFC 3339 date-time with a time zone.
Spec<Timestamp> DateTime();

// A string naming one of an enum's values.
template <typename E>
Spec<E> Enum(std::vector<std::pair<std::string, E>> values) {
    std::vector<std::string> names;
    for (const auto& [name, value] : values) names.push_back(name);
    Json schema = {{"type", "string"}, {"enum", names}};
    return Spec<E>(std::move(schema),
                   [values = std::move(values), message = "must be " + OneOfText(names)](
                       const Json& j, const std::string& path, Reader& r) -> std::optional<E> {
                       if (j.is_string()) {
                           for (const auto& [name, value] : values) {
                               if (j.get_ref<const std::string&>() == name) return value;
                           }
                       }
                       r.Add(path, message);
                       return std::nullopt;
                   });
}

struct ItemLimits {
    std::size_t min_items = 0;
    std::size_t max_items = 0;  // 0: none
    By by = By::kParser;
};

template <typename T>
Spec<std::vector<T>> ArrayOf(Spec<T> items, ItemLimits limits = {}) {
    Json schema = {{"type", "array"}, {"items", items.schema()}};
    if (limits.min_items > 0) schema["minItems"] = limits.min_items;
    if (limits.max_items > 0) schema["maxItems"] = limits.max_items;
    return Spec<std::vector<T>>(
        std::move(schema),
        [items = std::move(items), limits](const Json& j, const std::string& path,
                                           Reader& r) -> std::optional<std::vector<T>> {
            if (!j.is_array()) {
                r.Add(path, TypeMismatch("array", j));
                return std::nullopt;
            }
            if (limits.by == By::kParser &&
                (j.size() < limits.min_items ||
                 (limits.max_items > 0 && j.size() > limits.max_items))) {
                r.Add(path,
                      limits.max_items > 0
                          ? "must list " + std::to_string(limits.min_items) + "-" +
                                std::to_string(limits.max_items) + " items"
                          : "must list at least " + std::to_string(limits.min_items) + " items");
                return std::nullopt;
            }
            std::vector<T> out;
            out.reserve(j.size());
            bool ok = true;
            for (std::size_t i = 0; i < j.size(); ++i) {
                auto item = items.Parse(j[i], path + "[" + std::to_string(i) + "]", r);
                if (item) {
                    out.push_back(std::move(*item));
                } else {
                    ok = false;
                }
            }
            if (!ok) return std::nullopt;
            return out;
        });
}

// A JSON object whose members fill the members of a T. Unknown members are refused; a null
// member counts as absent.
template <typename T>
class Object {
  public:
    // A member that must be present.
    template <typename M>
    Object& Required(std::string name, M T::*member, Spec<M> spec) {
        return Add(std::move(name), true, member, std::move(spec));
    }
    // A member that may be absent: the C++ member keeps its default.
    template <typename M>
    Object& Optional(std::string name, M T::*member, Spec<M> spec) {
        return Add(std::move(name), false, member, std::move(spec));
    }
    template <typename M>
    Object& Optional(std::string name, std::optional<M> T::*member, Spec<M> spec) {
        Json schema = spec.schema();
        members_.push_back({std::move(name), false, std::move(schema),
                            [member, spec = std::move(spec)](const Json& j, const std::string& path,
                                                             Reader& r, T& out) {
                                auto value = spec.Parse(j, path, r);
                                if (!value) return false;
                                out.*member = std::move(*value);
                                return true;
                            }});
        return *this;
    }
    // A required member that is a JSON object of its own whose members fill this same T: a
    // flat C++ value for a nested wire shape ({"coordinates": {"x": 1, "y": 2}}).
    Object& Nested(std::string name, Object<T> inner) {
        Json schema = inner.schema();
        members_.push_back(
            {std::move(name), true, std::move(schema),
             [inner = std::move(inner)](const Json& j, const std::string& path, Reader& r, T& out) {
                 return inner.ParseInto(j, path, r, out);
             }});
        return *this;
    }
    // A rule across members, checked once the members parsed; it adds its own violations.
    // `text` says it in words (kept with the description; the OpenAPI document states it too).
    Object& Rule(std::string text,
                 std::function<void(const T&, const std::string& path, Reader&)> check) {
        rules_.push_back({std::move(text), std::move(check)});
        return *this;
    }

    Json schema() const {
        Json properties = Json::object();
        Json required = Json::array();
        for (const auto& m : members_) {
            properties[m.name] = m.schema;
            if (m.required) required.push_back(m.name);
        }
        Json j = {{"type", "object"}, {"additionalProperties", false}, {"properties", properties}};
        if (!required.empty()) j["required"] = std::move(required);
        return j;
    }

    bool ParseInto(const Json& j, const std::string& path, Reader& r, T& out) const {
        if (!j.is_object()) {
            r.Add(path, TypeMismatch("object", j));
            return false;
        }
        bool ok = true;
        for (const auto& [key, value] : j.items()) {
            bool known = false;
            for (const auto& m : members_) known = known || m.name == key;
            if (!known) {
                r.Add(Join(path, key.c_str()), "is not a known field");
                ok = false;
            }
        }
        for (const auto& m : members_) {
            const std::string mpath = Join(path, m.name.c_str());
            const auto it = j.find(m.name);
            if (it == j.end() || it->is_null()) {
                if (m.required) {
                    r.Add(mpath, "is required");
                    ok = false;
                }
                continue;
            }
            ok = m.parse(*it, mpath, r, out) && ok;
        }
        if (!ok) return false;
        const std::size_t before = r.count();
        for (const auto& rule : rules_) rule.check(out, path, r);
        return r.count() == before;
    }

    std::optional<T> Parse(const Json& j, const std::string& path, Reader& r) const {
        T out{};
        if (!ParseInto(j, path, r, out)) return std::nullopt;
        return out;
    }

    // NOLINTNEXTLINE(google-explicit-constructor): an Object is a Spec wherever one is needed.
    operator Spec<T>() const {
        return Spec<T>(schema(), [self = *this](const Json& j, const std::string& path, Reader& r) {
            return self.Parse(j, path, r);
        });
    }

  private:
    struct Member {
        std::string name;
        bool required;
        Json schema;
        std::function<bool(const Json&, const std::string&, Reader&, T&)> parse;
    };
    struct RuleEntry {
        std::string text;
        std::function<void(const T&, const std::string&, Reader&)> check;
    };

    template <typename M>
    Object& Add(std::string name, bool required, M T::*member, Spec<M> spec) {
        Json schema = spec.schema();
        members_.push_back({std::move(name), required, std::move(schema),
                            [member, spec = std::move(spec)](const Json& j, const std::string& path,
                                                             Reader& r, T& out) {
                                auto value = spec.Parse(j, path, r);
                                if (!value) return false;
                                out.*member = std::move(*value);
                                return true;
                            }});
        return *this;
    }

    std::vector<Member> members_;
    std::vector<RuleEntry> rules_;
};

// One of several object shapes, told apart by which members are present: the first
// alternative one of whose `keys` the object holds is parsed; none: `none_message`.
template <typename V>
class OneOf {
  public:
    explicit OneOf(std::string none_message) : none_message_(std::move(none_message)) {}

    template <typename A>
    OneOf& When(std::vector<std::string> keys, Spec<A> spec) {
        schemas_.push_back(spec.schema());
        alternatives_.push_back({std::move(keys),
                                 [spec = std::move(spec)](const Json& j, const std::string& path,
                                                          Reader& r) -> std::optional<V> {
                                     auto value = spec.Parse(j, path, r);
                                     if (!value) return std::nullopt;
                                     return V(std::move(*value));
                                 }});
        return *this;
    }

    // NOLINTNEXTLINE(google-explicit-constructor)
    operator Spec<V>() const {
        return Spec<V>(Json{{"oneOf", schemas_}},
                       [alternatives = alternatives_, none = none_message_](
                           const Json& j, const std::string& path, Reader& r) -> std::optional<V> {
                           if (!j.is_object()) {
                               r.Add(path, TypeMismatch("object", j));
                               return std::nullopt;
                           }
                           for (const auto& alternative : alternatives) {
                               for (const auto& key : alternative.keys) {
                                   if (j.contains(key)) return alternative.parse(j, path, r);
                               }
                           }
                           r.Add(path, none);
                           return std::nullopt;
                       });
    }

  private:
    struct Alternative {
        std::vector<std::string> keys;
        typename Spec<V>::ParseFn parse;
    };
    std::string none_message_;
    std::vector<Json> schemas_;
    std::vector<Alternative> alternatives_;
};

// Parses a whole body; the violations of a failed parse.
template <typename T>
[[nodiscard]] Result<T> ParseWith(const Spec<T>& spec, const Json& body) {
    std::vector<Violation> violations;
    Reader r(violations);
    auto value = spec.Parse(body, "", r);
    if (!value) return FailValidation(std::move(violations));
    return std::move(*value);
}

}  // namespace firmo::codec
