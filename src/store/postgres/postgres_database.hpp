#pragma once
// The PostgreSQL store (libpq): a small pool of connections, each with its prepared statements,
// serving the SQL layer's repositories (store/sql). Transactions:
//   kWrite  = READ COMMITTED; rows read for a later change are locked (SELECT ... FOR UPDATE),
//             claims of jobs and outbox messages skip locked rows;
//   kRead   = REPEATABLE READ READ ONLY (one snapshot);
//   kSingle = kSingleWrite = autocommit.
// Errors: connection failures are kUnavailable, unique violations kAlreadyExists, the rest
// kInternal with the server's message. A statement that fails inside a transaction aborts it
// (PostgreSQL semantics): the caller must drop the transaction, and Commit() then fails.
// Migrations run under an advisory lock, so nodes starting together migrate one at a time.

#include <memory>
#include <string>

#include "store/sql/sql_database.hpp"

namespace firmo::store::postgres {

class PostgresDatabase final : public sql::SqlDatabase {
  public:
    // `url`: a libpq connection URI (postgresql://user@host:port/db?...) or key=value string.
    // Connects once now so a bad URL or a down server fails at start (kUnavailable).
    static Result<std::unique_ptr<PostgresDatabase>> Open(const std::string& url, int pool_size);

  private:
    PostgresDatabase(const std::string& url, int pool_size, std::unique_ptr<sql::Connection> first);
};

}  // namespace firmo::store::postgres
