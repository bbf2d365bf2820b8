#pragma once
// Firmo's error vocabulary: one protocol-neutral code per kind of failure, and the one table
// (error.cpp) that maps each kind to its HTTP status, problem `type` and title, used by the
// issuer and signer APIs, the portal's error pages and the HTTP server's own errors. Functions
// that can fail return Result<T>; exceptions from third-party libraries are caught at adapter
// boundaries and turned into Errors.

#include <span>
#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <utility>
#include <vector>

namespace firmo {

enum class ErrorCode {
    kInvalidArgument,         // a field of the input is wrong (violations say which)
    kMalformed,               // the input cannot be parsed at all (bad JSON, bad multipart)
    kUnauthenticated,         // no or bad credentials
    kForbidden,               // credentials fine, but not for this (bad status token, ...)
    kNotFound,                // no such object for this caller
    kConflict,                // the object is in a state where this is not allowed
    kAlreadyExists,           // a unique key is taken
    kPayloadTooLarge,         // body or document over the limit
    kHeadersTooLarge,         // the request's header block is over the limit
    kUnsupportedMediaType,    // wrong Content-Type
    kMethodNotAllowed,        // the path exists, the method does not
    kRateLimited,             // too many calls
    kGone,                    // a link or token that has expired or was used
    kUnavailable,             // a dependency is down; retry later
    kAuthenticationRequired,  // the signer must authenticate at a higher level (eID) first
    kNotYetActive,            // the request opens for signing only at its activates_at
    kDocumentsDeleted,        // the request's documents were deleted (retention, DELETE)
    kNotFinal,                // only a final request's documents can be deleted
    kAddressNotAllowed,       // an API key called from outside its allowed addresses
    kInternal,                // a bug or an unexpected failure of our own
};

// One row of the error table: how a kind of failure is told over HTTP (RFC 9457).
struct ErrorKind {
    ErrorCode code;
    int http_status;
    std::string_view slug;   // stable: the problem `type` is "urn:firmo:problem:<slug>"
    std::string_view title;  // the problem `title`: the status's reason phrase
    std::string_view when;   // for the documentation: when a client meets it
};

// Every kind, in ErrorCode order (docs/API.md's error table is checked against it).
std::span<const ErrorKind> AllErrorKinds();
const ErrorKind& KindOf(ErrorCode code);
inline int HttpStatusOf(ErrorCode code) { return KindOf(code).http_status; }
// Stable, machine-readable slug for a code (used as the problem+json `type` suffix).
inline std::string_view ErrorSlug(ErrorCode code) { return KindOf(code).slug; }
std::string ProblemType(ErrorCode code);  // "urn:firmo:problem:<slug>"

struct Violation {
    std::string
        field;  // JSON pointer-ish path of the offending field, e.g. "documents_metadata[0].title"
    std::string reason;  // human-readable, stable enough to show to an integrator
    friend bool operator==(const Violation&, const Violation&) = default;
};

struct Error {
    ErrorCode code = ErrorCode::kInternal;
    std::string message;
    std::vector<Violation> violations;

    Error() = default;
    Error(ErrorCode c, std::string msg) : code(c), message(std::move(msg)) {}
    Error(ErrorCode c, std::string msg, std::vector<Violation> v)
        : code(c), message(std::move(msg)), violations(std::move(v)) {}
};

// The application/problem+json body of an error: type, title, status, detail and violations.
// An internal error's message stays in the log: its detail is a fixed sentence.
std::string ProblemJson(const Error& error);

template <typename T>
using Result = tl::expected<T, Error>;

// Shorthand for returning an error from a function returning Result<T>.
inline tl::unexpected<Error> Fail(ErrorCode code, std::string message) {
    return tl::unexpected<Error>(Error{code, std::move(message)});
}
inline tl::unexpected<Error> Fail(Error error) { return tl::unexpected<Error>(std::move(error)); }
inline tl::unexpected<Error> FailValidation(std::vector<Violation> violations) {
    std::string message = violations.empty()
                              ? "invalid input"
                              : violations.front().field + ": " + violations.front().reason;
    return tl::unexpected<Error>(
        Error{ErrorCode::kInvalidArgument, std::move(message), std::move(violations)});
}

}  // namespace firmo

// Propagate an error from an expression returning Result<T>, or bind its value.
#define FIRMO_CONCAT_INNER(a, b) a##b
#define FIRMO_CONCAT(a, b) FIRMO_CONCAT_INNER(a, b)
#define FIRMO_TRY_IMPL(tmp, decl, expr)                                        \
    auto tmp = (expr);                                                         \
    if (!tmp) return ::tl::unexpected<::firmo::Error>(std::move(tmp).error()); \
    decl = std::move(*tmp)
#define FIRMO_TRY(decl, expr) FIRMO_TRY_IMPL(FIRMO_CONCAT(firmo_try_, __LINE__), decl, expr)
// The temporary is named after the line, so a FIRMO_CHECK inside a lambda inside another
// FIRMO_CHECK does not shadow the outer one.
#define FIRMO_CHECK_IMPL(tmp, expr)                                                \
    do {                                                                           \
        auto tmp = (expr);                                                         \
        if (!tmp) return ::tl::unexpected<::firmo::Error>(std::move(tmp).error()); \
    } while (false)
#define FIRMO_CHECK(expr) FIRMO_CHECK_IMPL(FIRMO_CONCAT(firmo_check_, __LINE__), expr)
