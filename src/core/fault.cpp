#include "core/fault.hpp"

#include <unistd.h>

#include <cstdlib>
#include <string>

namespace firmo::fault {

namespace {
const std::string& Configured() {
    static const std::string name = [] {
        const char* value = std::getenv("FIRMO_FAULT");
        return std::string(value ? value : "");
    }();
    return name;
}
}  // namespace

void Point(std::string_view name) {
    const std::string& configured = Configured();
    if (configured.empty() || configured != name) return;
    // One write(2), no stdio: the message must not wait in a buffer that _exit drops.
    const std::string line = "fault injected at " + std::string(name) + ": exiting\n";
    (void)!::write(STDERR_FILENO, line.data(), line.size());
    ::_exit(kFaultExitCode);
}

}  // namespace firmo::fault
