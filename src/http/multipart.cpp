#include "http/multipart.hpp"

#include <algorithm>
#include <cctype>

namespace firmo::http {

namespace {

std::string Lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string_view Trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// The value of `param` in a header like `form-data; name="file"; filename="a.pdf"`.
std::string Param(std::string_view header, std::string_view param) {
    std::size_t pos = 0;
    while (pos < header.size()) {
        auto semi = header.find(';', pos);
        if (semi == std::string_view::npos) semi = header.size();
        std::string_view item = Trim(header.substr(pos, semi - pos));
        pos = semi + 1;
        const auto eq = item.find('=');
        if (eq == std::string_view::npos) continue;
        if (Lower(Trim(item.substr(0, eq))) != param) continue;
        std::string_view value = Trim(item.substr(eq + 1));
        if (value.size() >= 2 && value.front() == '"') {
            // Quoted: up to the closing quote, honouring backslash escapes.
            std::string out;
            for (std::size_t i = 1; i < value.size(); ++i) {
                if (value[i] == '\\' && i + 1 < value.size()) {
                    out.push_back(value[++i]);
                } else if (value[i] == '"') {
                    return out;
                } else {
                    out.push_back(value[i]);
                }
            }
            return out;
        }
        return std::string(value);
    }
    return {};
}

}  // namespace

Result<std::vector<Part>> ParseMultipart(std::string_view content_type, std::string_view body,
                                         std::size_t max_parts) {
    const auto semi = content_type.find(';');
    if (Lower(Trim(content_type.substr(0, semi))) != "multipart/form-data") {
        return Fail(ErrorCode::kUnsupportedMediaType, "the body must be multipart/form-data");
    }
    const std::string boundary =
        semi == std::string_view::npos ? "" : Param(content_type.substr(semi + 1), "boundary");
    if (boundary.empty() || boundary.size() > 70) {
        return Fail(ErrorCode::kMalformed,
                    "multipart/form-data needs a boundary of 1-70 characters");
    }
    const std::string delimiter = "--" + boundary;
    // The first delimiter may follow a preamble; every later one follows CRLF.
    std::size_t pos = body.find(delimiter);
    if (pos == std::string_view::npos ||
        (pos != 0 && (pos < 2 || body.substr(pos - 2, 2) != "\r\n"))) {
        return Fail(ErrorCode::kMalformed, "the multipart body has no opening boundary");
    }
    const std::string next_delimiter = "\r\n" + delimiter;
    std::vector<Part> parts;
    while (true) {
        pos += delimiter.size();
        if (body.substr(pos, 2) == "--") return parts;  // closing delimiter
        // Transport padding (spaces) may follow a delimiter, then CRLF.
        while (pos < body.size() && (body[pos] == ' ' || body[pos] == '\t')) ++pos;
        if (body.substr(pos, 2) != "\r\n") {
            return Fail(ErrorCode::kMalformed, "malformed multipart boundary line");
        }
        pos += 2;
        const auto headers_end = body.find("\r\n\r\n", pos);
        const auto content_end = body.find(next_delimiter, pos);
        if (content_end == std::string_view::npos) {
            return Fail(ErrorCode::kMalformed, "the multipart body is not closed");
        }
        if (parts.size() >= max_parts) {
            return Fail(ErrorCode::kInvalidArgument,
                        "at most " + std::to_string(max_parts) + " parts are accepted");
        }
        Part part;
        std::size_t content_start = 0;
        if (body.substr(pos, 2) == "\r\n") {
            content_start = pos + 2;  // no headers at all
        } else if (headers_end == std::string_view::npos || headers_end > content_end) {
            return Fail(ErrorCode::kMalformed, "a multipart part has no header end");
        } else {
            std::string_view headers = body.substr(pos, headers_end - pos);
            content_start = headers_end + 4;
            while (!headers.empty()) {
                const auto eol = headers.find("\r\n");
                const std::string_view line = headers.substr(0, eol);
                headers =
                    eol == std::string_view::npos ? std::string_view() : headers.substr(eol + 2);
                const auto colon = line.find(':');
                if (colon == std::string_view::npos) {
                    return Fail(ErrorCode::kMalformed, "malformed multipart part header");
                }
                const std::string name = Lower(Trim(line.substr(0, colon)));
                const std::string_view value = Trim(line.substr(colon + 1));
                if (name == "content-disposition") {
                    if (Lower(Trim(value.substr(0, value.find(';')))) != "form-data") {
                        return Fail(ErrorCode::kMalformed, "a part is not form-data");
                    }
                    const auto params = value.find(';');
                    if (params != std::string_view::npos) {
                        part.name = Param(value.substr(params + 1), "name");
                        part.filename = Param(value.substr(params + 1), "filename");
                    }
                } else if (name == "content-type") {
                    part.content_type = Lower(Trim(value.substr(0, value.find(';'))));
                }
            }
        }
        if (content_start > content_end) {
            return Fail(ErrorCode::kMalformed, "a multipart part has no header end");
        }
        part.body = body.substr(content_start, content_end - content_start);
        parts.push_back(std::move(part));
        pos = content_end + 2;
    }
}

}  // namespace firmo::http
