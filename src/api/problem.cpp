#include "api/problem.hpp"

namespace firmo::api {

http::HttpResponse Problem(const Error& error) {
    auto response = http::ProblemResponse(error);
    if (error.code == ErrorCode::kUnauthenticated) {
        response.Set("WWW-Authenticate", "ApiKey header=\"X-Api-Key\"");
    }
    return response;
}

http::HttpResponse Problem(ErrorCode code, std::string detail) {
    return Problem(Error{code, std::move(detail)});
}

}  // namespace firmo::api
