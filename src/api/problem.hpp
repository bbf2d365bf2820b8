#pragma once
// The one place where protocol-neutral errors become HTTP: status codes and RFC 9457
// application/problem+json bodies with a stable `type` per error kind.

#include "core/error.hpp"
#include "http/message.hpp"

namespace firmo::api {

int HttpStatus(ErrorCode code);
std::string ProblemType(ErrorCode code);  // "urn:firmo:problem:<slug>"
http::HttpResponse Problem(const Error& error);
http::HttpResponse Problem(ErrorCode code, std::string detail);

}  // namespace firmo::api
