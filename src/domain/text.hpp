#pragma once
// Small text checks shared by the validators: UTF-8 well-formedness and length in characters.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace firmo::domain {

// Number of code points, or SIZE_MAX when `text` is not valid UTF-8.
std::size_t Utf8Length(std::string_view text);
// Valid UTF-8 without control characters (tabs and newlines excluded too).
bool IsPrintableUtf8(std::string_view text);
// Appends a violation unless `text` is printable UTF-8 of min..max characters.
void CheckLength(std::string_view text, std::size_t min, std::size_t max, const std::string& field,
                 std::vector<Violation>& out);

// A polling queue's name (as Posten signering's polling-queue): 1-50 ASCII letters, digits,
// '-', '_' or '.'.
inline constexpr std::size_t kPollingQueueMax = 50;
inline constexpr const char* kPollingQueuePattern = "^[A-Za-z0-9._-]{1,50}$";
void CheckPollingQueue(std::string_view name, const std::string& field,
                       std::vector<Violation>& out);

}  // namespace firmo::domain
