#include "core/error.hpp"

#include "core/encoding.hpp"

namespace firmo {

namespace {

// The one error table. Rows are in ErrorCode order (KindOf indexes it; a test walks it).
constexpr ErrorKind kKinds[] = {
    {ErrorCode::kInvalidArgument, 422, "validation-error", "Unprocessable Entity",
     "the input is wrong (body members, query parameters): `violations` says where"},
    {ErrorCode::kMalformed, 400, "malformed-request", "Bad Request",
     "the body is not valid JSON; a malformed multipart body; a malformed HTTP request"},
    {ErrorCode::kUnauthenticated, 401, "unauthenticated", "Unauthorized",
     "missing, malformed, unknown or revoked API key; signer API: no or expired session, wrong "
     "one-time code"},
    {ErrorCode::kForbidden, 403, "forbidden", "Forbidden",
     "an upload or download token that was altered or is for something else; a wrong or expired "
     "`status_query_token`; signer API: not your turn, blocked signer"},
    {ErrorCode::kNotFound, 404, "not-found", "Not Found",
     "no such object for this issuer; no such endpoint"},
    {ErrorCode::kConflict, 409, "conflict", "Conflict",
     "not allowed in the request's current status (see above); an 11th webhook endpoint; "
     "redelivering a delivery that is still `pending`; a call with the same `Idempotency-Key` "
     "still running"},
    {ErrorCode::kAlreadyExists, 409, "already-exists", "Conflict",
     "a uniqueness clash in storage (not expected in normal use)"},
    {ErrorCode::kPayloadTooLarge, 413, "payload-too-large", "Payload Too Large",
     "the body is over the limit (refused before it is read)"},
    {ErrorCode::kHeadersTooLarge, 431, "headers-too-large", "Request Header Fields Too Large",
     "the request headers are over the limit (16 KiB by default)"},
    {ErrorCode::kUnsupportedMediaType, 415, "unsupported-media-type", "Unsupported Media Type",
     "JSON endpoints: not `application/json` (or `*+json`); uploads: not `application/pdf`; "
     "validate-document and verify: neither `application/pdf` nor `multipart/form-data`"},
    {ErrorCode::kMethodNotAllowed, 405, "method-not-allowed", "Method Not Allowed",
     "the path exists, the method does not (`Allow` lists the methods)"},
    {ErrorCode::kRateLimited, 429, "rate-limited", "Too Many Requests",
     "too many calls with this key; see `Retry-After`; the polling queue read before "
     "`X-Next-Permitted-Poll`; signer API: a code asked for again within 30 s"},
    {ErrorCode::kGone, 410, "gone", "Gone",
     "the upload or download URL has expired; signer API: an expired code or link, a used "
     "redirect token"},
    {ErrorCode::kUnavailable, 503, "unavailable", "Service Unavailable",
     "the database or the file storage is busy or down; retry later"},
    {ErrorCode::kAuthenticationRequired, 403, "authentication-required", "Forbidden",
     "signer API: the signer must log in with eID (at the level the request requires) before "
     "confirming; nothing was changed"},
    {ErrorCode::kNotYetActive, 409, "not-yet-active", "Conflict",
     "signer API: the request opens for signing only at its `activates_at`; nothing was changed"},
    {ErrorCode::kDocumentsDeleted, 410, "documents-deleted", "Gone",
     "the request's documents were deleted (`DELETE .../documents` or `retention.documents_days`); "
     "metadata and audit log remain"},
    {ErrorCode::kNotFinal, 409, "request-not-final", "Conflict",
     "deleting the documents of, or asking for the evidence report of, a request that is not "
     "final (SIGNED, REJECTED, CANCELLED, EXPIRED, FAILED)"},
    {ErrorCode::kAddressNotAllowed, 403, "address-not-allowed", "Forbidden",
     "the API key has an IP allow-list and the call comes from another address (the client "
     "address after `server.trusted_proxies`); nothing was done"},
    {ErrorCode::kInternal, 500, "internal-error", "Internal Server Error",
     "a bug; the details are only in the server log"},
};

constexpr bool InCodeOrder() {
    for (std::size_t i = 0; i < std::size(kKinds); ++i) {
        if (static_cast<std::size_t>(kKinds[i].code) != i) return false;
    }
    return static_cast<std::size_t>(ErrorCode::kInternal) + 1 == std::size(kKinds);
}
static_assert(InCodeOrder(), "kKinds must have one row per ErrorCode, in ErrorCode order");

}  // namespace

std::span<const ErrorKind> AllErrorKinds() { return kKinds; }

const ErrorKind& KindOf(ErrorCode code) {
    const auto i = static_cast<std::size_t>(code);
    return i < std::size(kKinds) ? kKinds[i] : kKinds[std::size(kKinds) - 1];
}

std::string ProblemType(ErrorCode code) {
    return "urn:firmo:problem:" + std::string(ErrorSlug(code));
}

std::string ProblemJson(const Error& error) {
    const ErrorKind& kind = KindOf(error.code);
    std::string out = "{\"type\":" + JsonQuote(ProblemType(error.code)) +
                      ",\"title\":" + JsonQuote(kind.title) +
                      ",\"status\":" + std::to_string(kind.http_status) + ",\"detail\":" +
                      JsonQuote(error.code == ErrorCode::kInternal ? "an internal error occurred"
                                                                   : ToValidUtf8(error.message));
    if (!error.violations.empty()) {
        out += ",\"violations\":[";
        for (std::size_t i = 0; i < error.violations.size(); ++i) {
            if (i > 0) out += ',';
            out += "{\"field\":" + JsonQuote(ToValidUtf8(error.violations[i].field)) +
                   ",\"reason\":" + JsonQuote(ToValidUtf8(error.violations[i].reason)) + '}';
        }
        out += ']';
    }
    out += '}';
    return out;
}

}  // namespace firmo
