#pragma once
// A PostgreSQL connection (libpq) with a cache of prepared statements (keyed by the address of
// the SQL constant, like the SQLite adapter's, so each statement is PQprepare'd once per
// connection), and a small statement cursor over one result. Parameters and results travel in
// text format. Not thread-safe: a connection is used by one thread at a time (see the pool).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/error.hpp"

struct pg_conn;
struct pg_result;

namespace firmo::store::postgres {

class Statement;

// `url` without its password, for messages and logs.
std::string RedactUrl(const std::string& url);

class Connection {
  public:
    // Connection failures are kUnavailable; the message never carries the password.
    static Result<std::unique_ptr<Connection>> Open(const std::string& url);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // `sql` must outlive the connection (use named constants).
    [[nodiscard]] Result<Statement> Prepare(const char* sql);
    // One or more statements without parameters or results (simple query protocol).
    [[nodiscard]] Result<void> Exec(const char* sql);
    // True when the connection is usable and outside any transaction (fit for the pool).
    bool Idle() const;
    bool Broken() const;
    pg_conn* raw() const { return conn_; }

    // The error of a failed result (or of the connection when `result` is null).
    Error ResultError(std::string_view what, const pg_result* result) const;

  private:
    explicit Connection(pg_conn* conn) : conn_(conn) {}
    pg_conn* conn_;
    std::unordered_map<const char*, std::string> prepared_;  // SQL constant -> statement name
};

// One execution of a prepared statement: bind, then Step() through the rows (the first Step
// executes), or Run() for statements without rows. Changes() is the affected row count.
class Statement {
  public:
    Statement(Connection& conn, std::string name) : conn_(&conn), name_(std::move(name)) {}
    ~Statement();
    Statement(Statement&& other) noexcept;
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    Statement& operator=(Statement&&) = delete;

    Statement& Bind(int index, std::string_view value);
    Statement& Bind(int index, const char* value) { return Bind(index, std::string_view(value)); }
    Statement& Bind(int index, std::int64_t value);
    Statement& Bind(int index, int value) { return Bind(index, static_cast<std::int64_t>(value)); }
    Statement& BindBool(int index, bool value) { return Bind(index, value ? "true" : "false"); }
    Statement& BindNull(int index);
    template <typename T>
    Statement& Bind(int index, const std::optional<T>& value) {
        return value ? Bind(index, *value) : BindNull(index);
    }

    // True when a row is available; false when done.
    [[nodiscard]] Result<bool> Step();
    template <typename Read>
    [[nodiscard]] auto OneRow(Read read) -> Result<std::optional<decltype(read(*this))>> {
        using T = decltype(read(*this));
        FIRMO_TRY(bool row, Step());
        if (!row) return std::optional<T>();
        return std::optional<T>(read(*this));
    }
    [[nodiscard]] Result<void> Run();  // executes, expecting no rows (or ignoring them)
    std::int64_t Changes() const { return changes_; }
    std::string CommandTag() const;  // e.g. "COMMIT", or "ROLLBACK" for a failed transaction

    std::string Text(int col) const;
    std::optional<std::string> OptText(int col) const;
    std::int64_t Int(int col) const;
    std::optional<std::int64_t> OptInt(int col) const;
    bool Bool(int col) const;
    bool IsNull(int col) const;

  private:
    [[nodiscard]] Result<void> Execute();

    Connection* conn_;
    std::string name_;
    std::vector<std::optional<std::string>> params_;
    pg_result* result_ = nullptr;
    int rows_ = 0;
    int row_ = -1;
    std::int64_t changes_ = 0;
};

}  // namespace firmo::store::postgres
