#pragma once
// The schema check both database adapters run before migrating: a database that carries a
// migration this binary does not know was upgraded by a newer release, and an older node
// must not run on it (its statements may miss columns the newer code relies on).

#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"

namespace firmo::store {

// `applied`: (version, name) rows of schema_migrations; `known`: this binary's versions.
[[nodiscard]] Result<void> RefuseUnknownMigrations(
    const std::vector<std::pair<int, std::string>>& applied, const std::vector<int>& known);

}  // namespace firmo::store
