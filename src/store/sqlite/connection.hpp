#pragma once
// A SQLite connection with a cache of prepared statements (keyed by the address of the SQL
// constant, so each statement is compiled once per connection), and a small RAII statement
// cursor. Not thread-safe: a connection is used by one thread at a time (see pool).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/error.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace firmo::store::sqlite {

class Statement;

class Connection {
  public:
    static Result<std::unique_ptr<Connection>> Open(const std::string& path);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // `sql` must outlive the connection (use named constants).
    [[nodiscard]] Result<Statement> Prepare(const char* sql);
    [[nodiscard]] Result<void> Exec(const char* sql);  // one or more statements, no results
    [[nodiscard]] Error LastError(std::string_view what) const;
    sqlite3* raw() const { return db_; }

  private:
    explicit Connection(sqlite3* db) : db_(db) {}
    sqlite3* db_;
    std::unordered_map<const char*, sqlite3_stmt*> cache_;
};

// A reset-on-destruction view of a cached prepared statement.
class Statement {
  public:
    Statement(Connection& conn, sqlite3_stmt* stmt) : conn_(&conn), stmt_(stmt) {}
    ~Statement();
    Statement(Statement&& other) noexcept : conn_(other.conn_), stmt_(other.stmt_) {
        other.stmt_ = nullptr;
    }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    Statement& operator=(Statement&&) = delete;

    Statement& Bind(int index, std::string_view value);
    Statement& Bind(int index, std::int64_t value);
    Statement& Bind(int index, int value) { return Bind(index, static_cast<std::int64_t>(value)); }
    Statement& BindNull(int index);
    template <typename T>
    Statement& Bind(int index, const std::optional<T>& value) {
        return value ? Bind(index, *value) : BindNull(index);
    }

    // True when a row is available; false when done.
    [[nodiscard]] Result<bool> Step();
    // The first row read by `read(*this)`, or nullopt when there is none.
    template <typename Read>
    [[nodiscard]] auto OneRow(Read read) -> Result<std::optional<decltype(read(*this))>> {
        using T = decltype(read(*this));
        FIRMO_TRY(bool row, Step());
        if (!row) return std::optional<T>();
        return std::optional<T>(read(*this));
    }
    [[nodiscard]] Result<void> Run();  // Step to completion, expecting no rows

    std::string Text(int col) const;
    std::optional<std::string> OptText(int col) const;
    std::int64_t Int(int col) const;
    std::optional<std::int64_t> OptInt(int col) const;
    bool IsNull(int col) const;

  private:
    Connection* conn_;
    sqlite3_stmt* stmt_;
};

}  // namespace firmo::store::sqlite
