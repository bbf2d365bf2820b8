#include "codec/schema.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "domain/text.hpp"

namespace firmo::codec {

std::string TypeMismatch(const char* wanted, const Json& got) {
    const std::string article =
        (wanted[0] == 'a' || wanted[0] == 'i' || wanted[0] == 'o') ? "an " : "a ";
    return "must be " + article + wanted + ", not " + got.type_name();
}

std::string OneOfText(const std::vector<std::string>& values) {
    std::string out;
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (i > 0) out += i + 1 == values.size() ? " or " : ", ";
        out += values[i];
    }
    return out;
}

Spec<std::string> String(StringLimits limits) {
    Json schema = {{"type", "string"}};
    if (limits.min_length > 0) schema["minLength"] = limits.min_length;
    if (limits.max_length > 0) schema["maxLength"] = limits.max_length;
    if (limits.format) schema["format"] = limits.format;
    if (limits.pattern) schema["pattern"] = limits.pattern;
    return Spec<std::string>(
        std::move(schema),
        [limits](const Json& j, const std::string& path, Reader& r) -> std::optional<std::string> {
            if (!j.is_string()) {
                r.Add(path, TypeMismatch("string", j));
                return std::nullopt;
            }
            const auto& text = j.get_ref<const std::string&>();
            if (limits.by == By::kParser && (limits.min_length > 0 || limits.max_length > 0)) {
                std::vector<Violation> violations;
                domain::CheckLength(text, limits.min_length,
                                    limits.max_length > 0 ? limits.max_length
                                                          : std::numeric_limits<std::size_t>::max(),
                                    path, violations);
                if (!violations.empty()) {
                    r.Add(path, violations.front().reason);
                    return std::nullopt;
                }
            }
            return text;
        });
}

Spec<std::string> StringEnum(std::vector<std::string> values, By by) {
    Json schema = {{"type", "string"}, {"enum", values}};
    return Spec<std::string>(
        std::move(schema),
        [values, by, message = "must be " + OneOfText(values)](
            const Json& j, const std::string& path, Reader& r) -> std::optional<std::string> {
            if (!j.is_string()) {
                r.Add(path, TypeMismatch("string", j));
                return std::nullopt;
            }
            const auto& text = j.get_ref<const std::string&>();
            if (by == By::kParser &&
                std::find(values.begin(), values.end(), text) == values.end()) {
                r.Add(path, message);
                return std::nullopt;
            }
            return text;
        });
}

Spec<int> Integer(IntegerLimits limits) {
    Json schema = {{"type", "integer"}};
    if (limits.minimum) schema["minimum"] = *limits.minimum;
    if (limits.maximum) schema["maximum"] = *limits.maximum;
    return Spec<int>(
        std::move(schema),
        [limits](const Json& j, const std::string& path, Reader& r) -> std::optional<int> {
            std::optional<std::int64_t> value;
            if (j.is_number_integer()) {
                const auto v = j.get<std::int64_t>();
                if (v >= std::numeric_limits<int>::min() && v <= std::numeric_limits<int>::max()) {
                    value = v;
                }
            } else if (j.is_number_float()) {
                // 2.0 is an integer in JSON Schema too.
                const double d = j.get<double>();
                if (std::isfinite(d) && d == std::floor(d) && std::abs(d) < 1e9) {
                    value = static_cast<std::int64_t>(d);
                }
            }
            if (!value) {
                r.Add(path, "must be an integer");
                return std::nullopt;
            }
            if (limits.by == By::kParser && ((limits.minimum && *value < *limits.minimum) ||
                                             (limits.maximum && *value > *limits.maximum))) {
                if (limits.minimum && limits.maximum) {
                    r.Add(path, "must be " + std::to_string(*limits.minimum) + "-" +
                                    std::to_string(*limits.maximum));
                } else if (limits.minimum) {
                    r.Add(path, "must be at least " + std::to_string(*limits.minimum));
                } else {
                    r.Add(path, "must be at most " + std::to_string(*limits.maximum));
                }
                return std::nullopt;
            }
            return static_cast<int>(*value);
        });
}

Spec<double> Number(NumberLimits limits) {
    Json schema = {{"type", "number"}};
    if (limits.minimum) schema["minimum"] = *limits.minimum;
    if (limits.exclusive_minimum) schema["exclusiveMinimum"] = *limits.exclusive_minimum;
    if (limits.maximum) schema["maximum"] = *limits.maximum;
    return Spec<double>(
        std::move(schema),
        [limits](const Json& j, const std::string& path, Reader& r) -> std::optional<double> {
            if (!j.is_number()) {
                r.Add(path, TypeMismatch("number", j));
                return std::nullopt;
            }
            const double v = j.get<double>();
            if (limits.by == By::kParser &&
                ((limits.minimum && v < *limits.minimum) ||
                 (limits.exclusive_minimum && v <= *limits.exclusive_minimum) ||
                 (limits.maximum && v > *limits.maximum))) {
                r.Add(path, "is out of range");
                return std::nullopt;
            }
            return v;
        });
}

Spec<bool> Boolean() {
    return Spec<bool>(Json{{"type", "boolean"}},
                      [](const Json& j, const std::string& path, Reader& r) -> std::optional<bool> {
                          if (!j.is_boolean()) {
                              r.Add(path, "must be true or false");
                              return std::nullopt;
                          }
                          return j.get<bool>();
                      });
}

Spec<Timestamp> DateTime() {
    return Spec<Timestamp>(
        Json{{"type", "string"}, {"format", "date-time"}},
        [](const Json& j, const std::string& path, Reader& r) -> std::optional<Timestamp> {
            std::optional<Timestamp> t;
            if (j.is_string()) t = ParseRfc3339(j.get_ref<const std::string&>());
            if (!t) r.Add(path, "must be an RFC 3339 date-time");
            return t;
        });
}

}  // namespace firmo::codec
