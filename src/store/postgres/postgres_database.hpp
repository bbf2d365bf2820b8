#pragma once
// The PostgreSQL store (libpq): a small pool of connections, each with its prepared statements.
// Implements domain::Database with the same semantics as the SQLite adapter:
//   kWrite  = BEGIN ISOLATION LEVEL READ COMMITTED; rows read for a later change are locked
//             (SELECT ... FOR UPDATE), claims of jobs and outbox messages skip locked rows;
//   kRead   = REPEATABLE READ READ ONLY (one snapshot);
//   kSingle = kSingleWrite = autocommit.
// Errors: connection failures are kUnavailable, unique violations kAlreadyExists, the rest
// kInternal with the server's message. A statement that fails inside a transaction aborts it
// (PostgreSQL semantics): the caller must drop the transaction, and Commit() then fails.

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "domain/ports/repository.hpp"

namespace firmo::store::postgres {

class Connection;

class PostgresDatabase final : public domain::Database {
  public:
    // `url`: a libpq connection URI (postgresql://user@host:port/db?...) or key=value string.
    // Connects once now so a bad URL or a down server fails at start (kUnavailable).
    static Result<std::unique_ptr<PostgresDatabase>> Open(const std::string& url, int pool_size);
    ~PostgresDatabase() override;

    Result<std::unique_ptr<domain::Transaction>> Begin(domain::TxMode mode) override;
    Result<int> Migrate() override;
    // Migrate() refuses a database carrying migrations this binary does not know (a newer
    // release upgraded it) unless allowed: for rolling back over additive migrations.
    void AllowNewerSchema(bool allow) { allow_newer_schema_ = allow; }
    Result<void> Ping() override;

    // Pool access for transactions. Acquire fails with kUnavailable when no connection can be
    // opened; Release drops a connection that is broken or still inside a transaction.
    Result<std::unique_ptr<Connection>> Acquire();
    void Release(std::unique_ptr<Connection> conn);

  private:
    bool allow_newer_schema_ = false;
    PostgresDatabase(std::string url, int pool_size);

    std::string url_;
    int pool_size_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::vector<std::unique_ptr<Connection>> idle_;
    int open_ = 0;
};

}  // namespace firmo::store::postgres
