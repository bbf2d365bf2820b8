#pragma once
// Errors as HTTP answers for the API handlers: the RFC 9457 problem+json of the one error table
// (core/error.hpp), plus what only an API key caller needs (WWW-Authenticate).

#include "core/error.hpp"
#include "http/message.hpp"

namespace firmo::api {

http::HttpResponse Problem(const Error& error);
http::HttpResponse Problem(ErrorCode code, std::string detail);

}  // namespace firmo::api
