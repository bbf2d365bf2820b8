#pragma once
// The SQLite driver of the SQL layer (store/sql/driver.hpp): a sqlite3 connection in WAL mode
// with a cache of prepared statements, each compiled once per connection (the SQL's $n
// parameters become ?n). Not thread-safe: one thread at a time (see the pool).

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/error.hpp"
#include "store/sql/driver.hpp"

struct sqlite3;

namespace firmo::store::sqlite {

class SqliteStatement;

class SqliteConnection final : public sql::Connection {
  public:
    static Result<std::unique_ptr<SqliteConnection>> Open(const std::string& path);
    ~SqliteConnection() override;

    Result<sql::Statement*> Prepare(const char* sql) override;
    Result<void> Exec(const char* sql) override;
    // kRead: a deferred BEGIN (one snapshot from the first read); kWrite: BEGIN IMMEDIATE
    // (SQLite's writer lock at once).
    Result<void> Begin(sql::TxKind kind) override;
    Result<void> Commit() override;
    // Fails when SQLite still holds the transaction afterwards: the pool then closes the
    // connection (Reusable() is false).
    Result<void> Rollback() override;
    bool RowLocks() const override { return false; }
    bool Reusable() const override;

    Error LastError(std::string_view what) const;

  private:
    explicit SqliteConnection(sqlite3* db);
    Result<void> RunCached(const char* sql);

    sqlite3* db_;
    std::unordered_map<const char*, std::unique_ptr<SqliteStatement>> cache_;
};

// `sql` with PostgreSQL's $1, $2 ... parameters written as SQLite's ?1, ?2 ... (outside quotes).
std::string NumberedParameters(std::string_view sql);

}  // namespace firmo::store::sqlite
