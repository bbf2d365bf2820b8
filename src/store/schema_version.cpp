#include "store/schema_version.hpp"

#include <algorithm>

namespace firmo::store {

Result<void> RefuseUnknownMigrations(const std::vector<std::pair<int, std::string>>& applied,
                                     const std::vector<int>& known) {
    for (const auto& [version, name] : applied) {
        if (std::find(known.begin(), known.end(), version) != known.end()) continue;
        return Fail(ErrorCode::kInternal,
                    "the database has migration " + std::to_string(version) + " (" + name +
                        "), which this firmo does not know: a newer release upgraded it. Run "
                        "that release, or restore the backup taken before the upgrade");
    }
    return {};
}

}  // namespace firmo::store
