#pragma once
// JSON bodies in and out of handlers.

#include "codec/json.hpp"
#include "core/error.hpp"
#include "http/message.hpp"

namespace firmo::api {

http::HttpResponse JsonResponse(int status, const codec::Json& body);
// A body that is JSON text already (api/views.hpp writes them).
http::HttpResponse JsonTextResponse(int status, std::string body);
// Checks Content-Type (415) and parses (400 with the parser's position); the body must be
// `kind` ("object" or "string" or "any").
[[nodiscard]] Result<codec::Json> ParseJsonBody(const http::HttpRequest& request);
// Parses JSON text whatever the Content-Type said (400 with the parser's position).
[[nodiscard]] Result<codec::Json> ParseJsonText(std::string_view text);

}  // namespace firmo::api
