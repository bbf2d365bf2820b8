#include "core/error.hpp"

namespace firmo {

std::string_view ErrorSlug(ErrorCode code) {
    switch (code) {
        case ErrorCode::kInvalidArgument:
            return "validation-error";
        case ErrorCode::kMalformed:
            return "malformed-request";
        case ErrorCode::kUnauthenticated:
            return "unauthenticated";
        case ErrorCode::kForbidden:
            return "forbidden";
        case ErrorCode::kNotFound:
            return "not-found";
        case ErrorCode::kConflict:
            return "conflict";
        case ErrorCode::kAlreadyExists:
            return "already-exists";
        case ErrorCode::kPayloadTooLarge:
            return "payload-too-large";
        case ErrorCode::kUnsupportedMediaType:
            return "unsupported-media-type";
        case ErrorCode::kMethodNotAllowed:
            return "method-not-allowed";
        case ErrorCode::kRateLimited:
            return "rate-limited";
        case ErrorCode::kGone:
            return "gone";
        case ErrorCode::kUnavailable:
            return "unavailable";
        case ErrorCode::kInternal:
            return "internal-error";
    }
    return "internal-error";
}

}  // namespace firmo
