#pragma once
// Schema migrations of the SQL backends: each backend lists its DDL (the dialects' types
// differ), and this one runner applies them in order, each step in a transaction, recording
// them in schema_migrations. A migration is never edited once released: add one, to both
// backends, with the same version and name.

#include <span>

#include "core/error.hpp"
#include "store/sql/driver.hpp"

namespace firmo::store::sql {

struct Migration {
    int version;
    const char* name;
    const char* sql;
};

struct MigrateOptions {
    // Starts each step's transaction: SQLite takes the writer lock (BEGIN IMMEDIATE);
    // PostgreSQL adds a transaction-scoped advisory lock, so nodes starting together migrate
    // one at a time and CREATE TABLE IF NOT EXISTS does not race.
    const char* begin_step;
    // A database carrying migrations this binary does not know (a newer release upgraded it)
    // is refused unless allowed: for rolling back over additive migrations.
    bool allow_newer_schema = false;
};

// Applies the pending migrations; returns how many it applied.
[[nodiscard]] Result<int> Migrate(Connection& conn, std::span<const Migration> migrations,
                                  const MigrateOptions& options);

}  // namespace firmo::store::sql
