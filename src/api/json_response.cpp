#include "api/json_response.hpp"

namespace firmo::api {

http::HttpResponse JsonResponse(int status, const codec::Json& body) {
    http::HttpResponse r;
    r.status = status;
    r.Set("Content-Type", "application/json");
    // Replace invalid UTF-8 rather than throw: stored text is validated, but be safe.
    r.body = body.dump(-1, ' ', false, codec::Json::error_handler_t::replace);
    return r;
}

http::HttpResponse JsonTextResponse(int status, std::string body) {
    http::HttpResponse r;
    r.status = status;
    r.Set("Content-Type", "application/json");
    r.body = std::move(body);
    return r;
}

Result<codec::Json> ParseJsonBody(const http::HttpRequest& request) {
    const std::string type = request.MediaType();
    const std::string_view media = type;
    if (media != "application/json" && media != "application/merge-patch+json" &&
        !(media.size() > 5 && media.substr(media.size() - 5) == "+json")) {
        return Fail(ErrorCode::kUnsupportedMediaType,
                    "the body must be JSON (Content-Type: application/json)");
    }
    return ParseJsonText(request.body);
}

Result<codec::Json> ParseJsonText(std::string_view text) {
    codec::Json j = codec::Json::parse(text, nullptr, false);
    if (j.is_discarded()) {
        // Parse again for the position of the error (only on the error path).
        try {
            [[maybe_unused]] const auto again = codec::Json::parse(text);
        } catch (const codec::Json::parse_error& e) {
            return Fail(ErrorCode::kMalformed,
                        "the body is not valid JSON (byte " + std::to_string(e.byte) + ")");
        } catch (const codec::Json::exception&) {
            // e.g. a number too large for a double
            return Fail(ErrorCode::kMalformed,
                        "the body is not valid JSON (a number is out of range)");
        }
        return Fail(ErrorCode::kMalformed, "the body is not valid JSON");
    }
    return j;
}

}  // namespace firmo::api
