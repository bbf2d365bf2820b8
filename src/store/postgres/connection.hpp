#pragma once
// The PostgreSQL driver of the SQL layer (store/sql/driver.hpp), over libpq: a connection with
// a cache of prepared statements (PQprepare once per connection, keyed by the address of the
// SQL constant), and a statement cursor over one result. Parameters and results travel in text
// format. Not thread-safe: a connection is used by one thread at a time (see the pool).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/error.hpp"
#include "store/sql/driver.hpp"

struct pg_conn;
struct pg_result;

namespace firmo::store::postgres {

class PgStatement;

// `url` without its password, for messages and logs.
std::string RedactUrl(const std::string& url);

class PgConnection final : public sql::Connection {
  public:
    // Connection failures are kUnavailable; the message never carries the password.
    static Result<std::unique_ptr<PgConnection>> Open(const std::string& url);
    ~PgConnection() override;

    Result<sql::Statement*> Prepare(const char* sql) override;
    // Simple query protocol: several statements, no parameters.
    Result<void> Exec(const char* sql) override;
    // kRead: REPEATABLE READ READ ONLY (one snapshot); kWrite: READ COMMITTED, with the rows
    // it will change locked where it reads them (the repositories' FOR UPDATE reads).
    //
    // A transaction runs in libpq's pipeline mode: BEGIN, the preparation of a statement and
    // every Send() are queued, not waited for, and go to the server with the next statement
    // whose result is read, with Flush(), or with COMMIT. So BEGIN costs no round trip of its
    // own, and the writes a change ends with travel with its COMMIT. The first error of a
    // queued statement is reported by whichever of those comes next (the transaction is
    // aborted from that statement on, as it would have been).
    Result<void> Begin(sql::TxKind kind) override;
    // COMMIT of a transaction aborted by an earlier error answers ROLLBACK: that fails.
    Result<void> Commit() override;
    Result<void> Rollback() override;
    Result<void> Flush() override;
    bool RowLocks() const override { return true; }
    bool Reusable() const override;

    bool Broken() const;
    pg_conn* raw() const { return conn_; }
    // The error of a failed result (or of the connection when `result` is null): SQLSTATE
    // 23505 is kAlreadyExists; a broken connection or a state worth a retry is kUnavailable.
    Error ResultError(std::string_view what, const pg_result* result) const;

    // Pipeline mode (see Begin): whether a transaction's commands are being queued; queues a
    // command sent with PQsend*, whose result nobody reads; sends what is queued and asks the
    // server for the results so far; reads the queued commands' results, keeping the first
    // error (kept until Take()n).
    bool pipelining() const { return pipelining_; }
    void Queued() { ++queued_; }
    Result<void> SendQueued();
    void DrainQueued();
    Result<void> TakeDeferredError();

  private:
    explicit PgConnection(pg_conn* conn);
    Result<std::string> RunCached(const char* sql);  // the command tag
    // Ends pipeline mode: COMMIT or ROLLBACK (`end`), a sync, every result read; the end's
    // command tag, or the first error.
    Result<std::string> EndPipeline(const char* end);

    bool pipelining_ = false;
    int queued_ = 0;
    std::optional<Error> deferred_;

    pg_conn* conn_;
    std::unordered_map<const char*, std::unique_ptr<PgStatement>> prepared_;
};

}  // namespace firmo::store::postgres
