#pragma once
// multipart/form-data (RFC 7578) bodies: split into named parts. Parts are views into the
// body, which must outlive them. Malformed input is an error, never a crash; the number of
// parts is capped.

#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace firmo::http {

struct Part {
    std::string name;          // from Content-Disposition: form-data; name="..."
    std::string filename;      // empty when absent
    std::string content_type;  // lower-cased media type, empty when absent
    std::string_view body;
};

// `content_type` is the request's Content-Type header (it carries the boundary).
[[nodiscard]] Result<std::vector<Part>> ParseMultipart(std::string_view content_type,
                                                       std::string_view body,
                                                       std::size_t max_parts = 16);

}  // namespace firmo::http
