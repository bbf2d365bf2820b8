#pragma once
// JSON text written straight into a string, for answers on hot paths: no tree of values is
// built and no key is sorted or looked up. The caller writes a well-formed document (each
// Begin has its End, an object's values each after a Key); strings are escaped here, and bytes
// that are not well-formed UTF-8 are replaced by U+FFFD as nlohmann's dump(..., replace) does.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace firmo::codec {

class JsonWriter {
  public:
    explicit JsonWriter(std::string& out) : out_(out) {}

    JsonWriter& BeginObject() { return Open('{'); }
    JsonWriter& EndObject() { return Close('}'); }
    JsonWriter& BeginArray() { return Open('['); }
    JsonWriter& EndArray() { return Close(']'); }

    // The member name of the next value. Names are the API's own (ASCII, nothing to escape).
    JsonWriter& Key(std::string_view name);

    JsonWriter& String(std::string_view value);
    JsonWriter& Int(std::int64_t value);
    JsonWriter& Bool(bool value);
    JsonWriter& Null();
    // A value that is already JSON text (e.g. a stored, validated document), written as is.
    JsonWriter& Raw(std::string_view json);

    // Key + value; the optional forms write nothing when the value is absent.
    JsonWriter& Member(std::string_view name, std::string_view value) {
        return Key(name).String(value);
    }
    JsonWriter& Member(std::string_view name, const char* value) { return Key(name).String(value); }
    JsonWriter& Member(std::string_view name, const std::string& value) {
        return Key(name).String(value);
    }
    JsonWriter& Member(std::string_view name, std::int64_t value) { return Key(name).Int(value); }
    JsonWriter& Member(std::string_view name, int value) { return Key(name).Int(value); }
    JsonWriter& Member(std::string_view name, bool value) { return Key(name).Bool(value); }
    JsonWriter& Member(std::string_view name, const std::optional<std::string>& value) {
        return value ? Key(name).String(*value) : *this;
    }

  private:
    JsonWriter& Open(char c);
    JsonWriter& Close(char c);
    void Separate() {
        if (need_comma_) out_.push_back(',');
    }

    std::string& out_;
    bool need_comma_ = false;  // a value was written in the current container
};

}  // namespace firmo::codec
