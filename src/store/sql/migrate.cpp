#include "store/sql/migrate.hpp"

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "core/log.hpp"
#include "store/schema_version.hpp"
#include "store/sql/statements.hpp"

namespace firmo::store::sql {

namespace {

// Runs `body` in one step transaction; rolls back when it fails.
template <typename Body>
Result<bool> Step(Connection& conn, const MigrateOptions& options, Body&& body) {
    FIRMO_CHECK(conn.Exec(options.begin_step));
    auto done = body();
    if (!done) {
        (void)conn.Exec(kRollback);
        return done;
    }
    FIRMO_CHECK(conn.Exec(kCommit));
    return done;
}

}  // namespace

Result<int> Migrate(Connection& conn, std::span<const Migration> migrations,
                    const MigrateOptions& options) {
    FIRMO_CHECK(Step(conn, options, [&]() -> Result<bool> {
        FIRMO_CHECK(conn.Exec(kCreateMigrationsTable));
        FIRMO_TRY(auto q, Prepare(conn, kListMigrations));
        FIRMO_TRY(auto present,
                  q.All([](const Row& r) { return std::pair(r.SmallInt(0), r.Text(1)); }));
        std::vector<int> known;
        for (const auto& m : migrations) known.push_back(m.version);
        if (auto newer = RefuseUnknownMigrations(present, known); !newer) {
            if (!options.allow_newer_schema) return Fail(newer.error());
            log::Warn("schema_newer_than_binary", {{"detail", newer.error().message}});
        }
        return true;
    }));
    int applied = 0;
    for (const auto& m : migrations) {
        auto step = Step(conn, options, [&]() -> Result<bool> {
            {
                FIRMO_TRY(auto q, Prepare(conn, kMigrationApplied));
                FIRMO_TRY(auto present, q.Bind(m.version).One([](const Row&) { return true; }));
                if (present) return false;
            }
            FIRMO_CHECK(conn.Exec(m.sql));
            const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
            FIRMO_TRY(auto q, Prepare(conn, kRecordMigration));
            FIRMO_CHECK(q.Bind(m.version, m.name, static_cast<std::int64_t>(now)).Run());
            return true;
        });
        if (!step) {
            return Fail(Error{step.error().code, "migration " + std::to_string(m.version) + " (" +
                                                     m.name + "): " + step.error().message});
        }
        if (*step) {
            ++applied;
            log::Info("migration_applied",
                      {{"version", std::to_string(m.version)}, {"name", m.name}});
        }
    }
    return applied;
}

}  // namespace firmo::store::sql
