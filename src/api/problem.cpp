#include "api/problem.hpp"

#include "api/json_response.hpp"
#include "codec/json.hpp"
#include "http/server.hpp"

namespace firmo::api {

int HttpStatus(ErrorCode code) {
    switch (code) {
        case ErrorCode::kInvalidArgument:
            return 422;
        case ErrorCode::kMalformed:
            return 400;
        case ErrorCode::kUnauthenticated:
            return 401;
        case ErrorCode::kForbidden:
            return 403;
        case ErrorCode::kNotFound:
            return 404;
        case ErrorCode::kConflict:
            return 409;
        case ErrorCode::kAlreadyExists:
            return 409;
        case ErrorCode::kPayloadTooLarge:
            return 413;
        case ErrorCode::kUnsupportedMediaType:
            return 415;
        case ErrorCode::kMethodNotAllowed:
            return 405;
        case ErrorCode::kRateLimited:
            return 429;
        case ErrorCode::kGone:
            return 410;
        case ErrorCode::kUnavailable:
            return 503;
        case ErrorCode::kInternal:
            return 500;
    }
    return 500;
}

std::string ProblemType(ErrorCode code) {
    return "urn:firmo:problem:" + std::string(ErrorSlug(code));
}

http::HttpResponse Problem(const Error& error) {
    const int status = HttpStatus(error.code);
    codec::Json body = {
        {"type", ProblemType(error.code)},
        {"title", std::string(http::ReasonPhrase(status))},
        {"status", status},
        // Internal details stay in the log, not in the answer.
        {"detail", error.code == ErrorCode::kInternal ? std::string("an internal error occurred")
                                                      : error.message}};
    if (!error.violations.empty()) body["violations"] = codec::ToJson(error.violations);
    auto response = JsonResponse(status, body);
    response.headers[0].second = "application/problem+json";
    if (error.code == ErrorCode::kUnauthenticated) {
        response.Set("WWW-Authenticate", "ApiKey header=\"X-Api-Key\"");
    }
    return response;
}

http::HttpResponse Problem(ErrorCode code, std::string detail) {
    return Problem(Error{code, std::move(detail)});
}

}  // namespace firmo::api
