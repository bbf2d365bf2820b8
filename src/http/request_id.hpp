#pragma once
// Request ids: every request gets one, echoed in the X-Request-Id response header and carried
// by every log line written while it is handled, so a client, a proxy and Firmo's logs can
// name the same request.
//
// An incoming X-Request-Id (a proxy's or the client's) is kept when it is 1 to 128 characters
// from [A-Za-z0-9] and "-_.:+/=@" (UUIDs, ULIDs, hex, base64, "Root=1-..." trace ids), after
// trimming spaces and tabs. Anything else (too long, empty, other characters: nothing a log
// line or a header could be forged with) is replaced by a generated id, not repaired: a
// repaired id would look like the client's and be another.

#include <optional>
#include <string>
#include <string_view>

namespace firmo::http {

inline constexpr std::size_t kMaxRequestIdLength = 128;

// The incoming id to keep, or nullopt when it must be replaced.
std::optional<std::string_view> AcceptRequestId(std::string_view incoming);

// 32 lower-case hex characters (128 random bits from a per-thread generator seeded from the
// system's entropy): unique enough to correlate logs across nodes, and not a secret.
std::string GenerateRequestId();

// The request id for a request that carried `incoming` (nullopt: no X-Request-Id).
std::string ChooseRequestId(std::optional<std::string_view> incoming);
// The same, into `out` (a connection's reused string: no allocation per request).
void ChooseRequestId(std::optional<std::string_view> incoming, std::string& out);

}  // namespace firmo::http
