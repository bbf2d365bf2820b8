#include "domain/ports/event_repository.hpp"

#include <charconv>

namespace firmo::domain {

Result<std::optional<std::int64_t>> OutboxCursor(const PageQuery& page) {
    if (!page.after_id) return std::optional<std::int64_t>();
    const std::string& text = *page.after_id;
    std::int64_t id = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), id);
    if (error != std::errc() || end != text.data() + text.size() || text.empty()) {
        return Fail(ErrorCode::kInvalidArgument, "bad continuation token");
    }
    return std::make_optional(id);
}

}  // namespace firmo::domain
