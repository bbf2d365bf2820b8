#pragma once
// The thin driver layer under the SQL repositories (store/sql/repositories.hpp): a connection
// with a cache of prepared statements, and a statement cursor that binds parameters by
// position and reads the current row. store/sqlite (sqlite3) and store/postgres (libpq)
// implement it; the repositories, their SQL and their row mapping are written once on top.
// SQL is written with PostgreSQL's numbered parameters ($1, $2, ...); the SQLite driver turns
// them into ?1, ?2 when it prepares a statement.
//
// Not thread-safe: a connection and its statements are used by one thread at a time (the pool
// hands a connection to one transaction).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/no_wait.hpp"

namespace firmo::store::sql {

// One prepared statement of a connection. The connection owns it and hands it out again for
// the same SQL; Reset() readies it for that.
class Statement {
  public:
    virtual ~Statement() = default;
    Statement() = default;
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    // Parameters by position, from 1.
    virtual void BindText(int index, std::string_view value) = 0;
    virtual void BindInt(int index, std::int64_t value) = 0;
    virtual void BindBool(int index, bool value) = 0;
    virtual void BindNull(int index) = 0;

    // The next row (the first call executes); false when there is none left.
    [[nodiscard]] virtual Result<bool> Step() = 0;
    // Executes to the end (rows are skipped); the number of rows inserted, changed or deleted.
    [[nodiscard]] virtual Result<std::int64_t> Run() = 0;
    // Executes for the effect alone. Today it is Run(); a driver that pipelines statements
    // (libpq pipeline mode) may queue it and report its error at the next statement whose
    // result is read, or at commit. Only for statements whose outcome nobody reads.
    [[nodiscard]] virtual Result<void> Send() = 0;

    // Columns of the current row, from 0. Text() stays valid until the next Step() or Reset().
    virtual std::string_view Text(int col) const = 0;
    virtual std::int64_t Int(int col) const = 0;
    virtual bool Bool(int col) const = 0;
    virtual bool IsNull(int col) const = 0;

    // Drops the execution's results and the bindings.
    virtual void Reset() = 0;
};

enum class TxKind { kRead, kWrite };

class Connection {
  public:
    virtual ~Connection() = default;
    Connection() = default;
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // The prepared statement for `sql`, which must outlive the connection: its address is the
    // cache key (use named constants), so each statement is prepared once per connection.
    [[nodiscard]] virtual Result<Statement*> Prepare(const char* sql) = 0;
    // Statements without parameters or results (DDL, transaction control); several may be
    // separated by semicolons.
    [[nodiscard]] virtual Result<void> Exec(const char* sql) = 0;

    [[nodiscard]] virtual Result<void> Begin(TxKind kind) = 0;
    // Fails when the transaction did not commit (on PostgreSQL: it was aborted by an earlier
    // error); it has ended either way.
    [[nodiscard]] virtual Result<void> Commit() = 0;
    [[nodiscard]] virtual Result<void> Rollback() = 0;
    // Runs the statements Send() queued (a pipelining driver; otherwise nothing is queued) and
    // reports the first error among them: for a write whose caller must learn its error, such
    // as kAlreadyExists, before going on.
    [[nodiscard]] virtual Result<void> Flush() { return {}; }

    // Whether reads in write transactions lock rows (SELECT ... FOR UPDATE) and claims skip
    // locked rows: PostgreSQL. SQLite serialises writers instead and has neither.
    virtual bool RowLocks() const = 0;
    // Usable and outside any transaction: fit to go back to the pool.
    virtual bool Reusable() const = 0;
};

// A view of the current row with typed accessors: what the row readers (rows.hpp) see.
// Columns count from `offset` (a statement that returns several column groups per row).
class Row {
  public:
    explicit Row(const Statement& s, int offset = 0) : s_(s), offset_(offset) {}
    std::string Text(int col) const { return std::string(s_.Text(offset_ + col)); }
    std::optional<std::string> OptText(int col) const {
        if (IsNull(col)) return std::nullopt;
        return Text(col);
    }
    std::int64_t Int(int col) const { return s_.Int(offset_ + col); }
    int SmallInt(int col) const { return static_cast<int>(Int(col)); }
    bool Bool(int col) const { return s_.Bool(offset_ + col); }
    bool IsNull(int col) const { return s_.IsNull(offset_ + col); }
    Timestamp Time(int col) const { return FromUnixMillis(Int(col)); }
    std::optional<Timestamp> OptTime(int col) const {
        if (IsNull(col)) return std::nullopt;
        return Time(col);
    }

  private:
    const Statement& s_;
    int offset_;
};

namespace detail {
template <typename T>
struct IsResult : std::false_type {};
template <typename T>
struct IsResult<Result<T>> : std::true_type {};
template <typename T>
struct Unwrap {
    using type = T;
};
template <typename T>
struct Unwrap<Result<T>> {
    using type = T;
};
// T for a reader returning T or Result<T>.
template <typename T>
using Unwrapped = typename Unwrap<T>::type;
}  // namespace detail

// One use of a prepared statement: binds the parameters in order, runs it, reads its rows,
// and resets the statement when it goes away.
class Query {
  public:
    explicit Query(Statement& s) : s_(&s) {}
    ~Query() {
        if (s_) s_->Reset();
    }
    Query(Query&& other) noexcept : s_(std::exchange(other.s_, nullptr)) {}
    Query(const Query&) = delete;
    Query& operator=(const Query&) = delete;
    Query& operator=(Query&&) = delete;

    // Binds $1, $2, ... to the arguments in order: strings, integers, bools, timestamps (as
    // Unix milliseconds), and optionals of those (empty: NULL).
    template <typename... Args>
    Query& Bind(const Args&... args) {
        int index = 0;
        (BindOne(++index, args), ...);
        return *this;
    }

    [[nodiscard]] Result<bool> Step() { return s_->Step(); }
    [[nodiscard]] Result<std::int64_t> Run() { return s_->Run(); }
    [[nodiscard]] Result<void> Send() { return s_->Send(); }
    // Overloads, not a default argument: clang does not see a default argument in the
    // trailing return types below (they are not a complete-class context).
    Row row() const { return Row(*s_, 0); }
    Row row(int offset) const { return Row(*s_, offset); }

    // The first row read by `read(Row)` (which returns a T or a Result<T>), or nothing; the
    // statement is then run to its end (where SQLite commits a single statement).
    template <typename Read>
    [[nodiscard]] auto One(Read&& read)
        -> Result<std::optional<detail::Unwrapped<decltype(read(row()))>>> {
        using T = detail::Unwrapped<decltype(read(row()))>;
        FIRMO_TRY(bool found, Step());
        if (!found) return std::optional<T>();
        std::optional<T> out;
        if constexpr (detail::IsResult<decltype(read(row()))>::value) {
            FIRMO_TRY(out, read(row()));
        } else {
            out = read(row());
        }
        FIRMO_CHECK(s_->Run());
        return out;
    }
    // Every row, each read by `read(Row)` (a T or a Result<T>).
    template <typename Read>
    [[nodiscard]] auto All(Read&& read)
        -> Result<std::vector<detail::Unwrapped<decltype(read(row()))>>> {
        std::vector<detail::Unwrapped<decltype(read(row()))>> out;
        while (true) {
            FIRMO_TRY(bool found, Step());
            if (!found) break;
            if constexpr (detail::IsResult<decltype(read(row()))>::value) {
                FIRMO_TRY(auto item, read(row()));
                out.push_back(std::move(item));
            } else {
                out.push_back(read(row()));
            }
        }
        return out;
    }

  private:
    void BindOne(int i, std::string_view v) { s_->BindText(i, v); }
    void BindOne(int i, const std::string& v) { s_->BindText(i, v); }
    void BindOne(int i, const char* v) { s_->BindText(i, v); }
    void BindOne(int i, std::int64_t v) { s_->BindInt(i, v); }
    void BindOne(int i, int v) { s_->BindInt(i, v); }
    void BindOne(int i, bool v) { s_->BindBool(i, v); }
    void BindOne(int i, Timestamp v) { s_->BindInt(i, ToUnixMillis(v)); }
    void BindOne(int i, std::nullopt_t) { s_->BindNull(i); }
    template <typename T>
    void BindOne(int i, const std::optional<T>& v) {
        if (v) {
            BindOne(i, *v);
        } else {
            s_->BindNull(i);
        }
    }

    Statement* s_;
};

// Prepares `sql` on `conn` for one use.
[[nodiscard]] inline Result<Query> Prepare(Connection& conn, const char* sql) {
    // Every statement starts here: none runs on a thread that must not wait (core/no_wait.hpp).
    if (no_wait::Active()) return no_wait::Refuse("a database statement");
    FIRMO_TRY(Statement * s, conn.Prepare(sql));
    return Query(*s);
}

}  // namespace firmo::store::sql
