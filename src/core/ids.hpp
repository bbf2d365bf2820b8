#pragma once
// Object identifiers: ULIDs (48-bit millisecond time + 80 random bits, Crockford base32, 26
// characters). They are opaque to clients, unguessable, and sort by creation time, which is
// what cursor pagination relies on.

#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/random.hpp"

namespace firmo {

std::string NewUlid(Timestamp now, Random& random);
bool IsUlid(std::string_view text);

}  // namespace firmo
