#pragma once
// Which firmo this is, for `firmo --version`.

#include <string_view>

namespace firmo::app {

// "0.1.0 (v0.1.0-12-gabc1234-dirty)": the CMake project version and, when the source tree was
// a git checkout at configure time, `git describe --always --dirty`; else just "0.1.0".
std::string_view Version();

}  // namespace firmo::app
