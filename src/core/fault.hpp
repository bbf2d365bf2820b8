#pragma once
// Named crash points for fault-injection tests. With FIRMO_FAULT=<name> in the environment,
// the process ends at once when it reaches Point(<name>): _exit(kFaultExitCode), no cleanup,
// nothing flushed, as a kill -9 or a power cut would leave it. The variable is read once; a
// point that is not the configured one costs a comparison with an empty string.

#include <string_view>

namespace firmo::fault {

inline constexpr int kFaultExitCode = 86;

void Point(std::string_view name);

}  // namespace firmo::fault
