// A database migrated by a newer release is refused by an older binary (rolling upgrades:
// migrate once with the new release, then replace the nodes; an old node must not run on the
// new schema).

#include "store/schema_version.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "core/testing/temp_dir.hpp"
#include "store/sqlite/sqlite_database.hpp"

namespace firmo::store {
namespace {

TEST(SchemaVersion, KnownMigrationsPassAndUnknownOnesAreNamed) {
    EXPECT_TRUE(RefuseUnknownMigrations({}, {1, 2}));
    EXPECT_TRUE(RefuseUnknownMigrations({{1, "a"}, {2, "b"}}, {1, 2, 3}));
    auto refused = RefuseUnknownMigrations({{1, "a"}, {7, "future thing"}}, {1, 2});
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().message.find("migration 7 (future thing)"), std::string::npos)
        << refused.error().message;
    EXPECT_NE(refused.error().message.find("newer release"), std::string::npos);
}

TEST(SchemaVersion, SqliteRefusesADatabaseFromANewerRelease) {
    firmo::testing::TempDir dir{"firmo-schema"};
    const std::string path = (dir.path() / "f.db").string();
    {
        auto db = sqlite::SqliteDatabase::Open(path, 1);
        ASSERT_TRUE(db);
        ASSERT_TRUE((*db)->Migrate());
        EXPECT_EQ(*(*db)->Migrate(), 0);  // again: nothing to do, no complaint
    }
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(raw,
                           "INSERT INTO schema_migrations (version, name, applied_at) "
                           "VALUES (999, 'from the future', 0)",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(raw);
    auto db = sqlite::SqliteDatabase::Open(path, 1);
    ASSERT_TRUE(db);
    auto migrated = (*db)->Migrate();
    ASSERT_FALSE(migrated);
    EXPECT_NE(migrated.error().message.find("migration 999 (from the future)"), std::string::npos)
        << migrated.error().message;
    // Rolling back over an additive migration: allowed on purpose, with a warning.
    (*db)->AllowNewerSchema(true);
    EXPECT_EQ((*db)->Migrate(), 0);
}

}  // namespace
}  // namespace firmo::store
