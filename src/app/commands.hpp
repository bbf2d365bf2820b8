#pragma once
// The `firmo` command line: serve, migrate, issuer create, apikey create|revoke. Each command
// prints its result's id or key alone on the last line of stdout, for scripts.

#include <iosfwd>
#include <string>
#include <vector>

namespace firmo::app {

// Returns the process exit code: 0 success, 1 failure, 2 usage error.
int Main(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err);

}  // namespace firmo::app
