#include "codec/json_writer.hpp"

#include <charconv>

#include "core/encoding.hpp"

namespace firmo::codec {

JsonWriter& JsonWriter::Open(char c) {
    Separate();
    out_.push_back(c);
    need_comma_ = false;
    return *this;
}

JsonWriter& JsonWriter::Close(char c) {
    out_.push_back(c);
    need_comma_ = true;
    return *this;
}

JsonWriter& JsonWriter::Key(std::string_view name) {
    Separate();
    out_.push_back('"');
    out_.append(name);
    out_.append("\":");
    need_comma_ = false;
    return *this;
}

JsonWriter& JsonWriter::String(std::string_view value) {
    Separate();
    if (IsAscii(value)) {
        AppendJsonQuoted(out_, value);
    } else {
        AppendJsonQuoted(out_, ToValidUtf8(value));
    }
    need_comma_ = true;
    return *this;
}

JsonWriter& JsonWriter::Int(std::int64_t value) {
    Separate();
    char buffer[24];
    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
    out_.append(buffer, end);
    need_comma_ = true;
    return *this;
}

JsonWriter& JsonWriter::Bool(bool value) {
    Separate();
    out_.append(value ? "true" : "false");
    need_comma_ = true;
    return *this;
}

JsonWriter& JsonWriter::Null() {
    Separate();
    out_.append("null");
    need_comma_ = true;
    return *this;
}

JsonWriter& JsonWriter::Raw(std::string_view json) {
    Separate();
    out_.append(json);
    need_comma_ = true;
    return *this;
}

}  // namespace firmo::codec
