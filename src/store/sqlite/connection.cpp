#include "store/sqlite/connection.hpp"

#include <sqlite3.h>

#include "store/sql/statements.hpp"

namespace firmo::store::sqlite {

namespace {
constexpr const char* kBeginRead = "BEGIN";
constexpr const char* kBeginWrite = "BEGIN IMMEDIATE";
}  // namespace

// A cached statement: reset (not finalized) between uses.
class SqliteStatement final : public sql::Statement {
  public:
    SqliteStatement(SqliteConnection& conn, sqlite3* db, sqlite3_stmt* stmt)
        : conn_(conn), db_(db), stmt_(stmt) {}
    ~SqliteStatement() override { sqlite3_finalize(stmt_); }

    void BindText(int index, std::string_view value) override {
        sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()),
                          SQLITE_TRANSIENT);
    }
    void BindInt(int index, std::int64_t value) override {
        sqlite3_bind_int64(stmt_, index, value);
    }
    void BindBool(int index, bool value) override { sqlite3_bind_int(stmt_, index, value ? 1 : 0); }
    void BindNull(int index) override { sqlite3_bind_null(stmt_, index); }

    Result<bool> Step() override {
        if (done_) return false;  // a step after SQLITE_DONE would run the statement again
        const int rc = sqlite3_step(stmt_);
        if (rc == SQLITE_ROW) return true;
        done_ = true;
        if (rc == SQLITE_DONE) return false;
        return Fail(conn_.LastError("step"));
    }
    // To the end: outside a transaction, that is where SQLite commits (and may fail).
    Result<std::int64_t> Run() override {
        while (true) {
            FIRMO_TRY(bool row, Step());
            if (!row) break;
        }
        return static_cast<std::int64_t>(sqlite3_changes(db_));
    }
    Result<void> Send() override {
        FIRMO_TRY(auto changed, Run());
        (void)changed;
        return {};
    }

    std::string_view Text(int col) const override {
        const auto* p = sqlite3_column_text(stmt_, col);
        const int n = sqlite3_column_bytes(stmt_, col);
        if (p == nullptr) return {};
        return {reinterpret_cast<const char*>(p), static_cast<std::size_t>(n)};
    }
    std::int64_t Int(int col) const override { return sqlite3_column_int64(stmt_, col); }
    bool Bool(int col) const override { return sqlite3_column_int64(stmt_, col) != 0; }
    bool IsNull(int col) const override { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

    void Reset() override {
        sqlite3_reset(stmt_);
        sqlite3_clear_bindings(stmt_);
        done_ = false;
    }

  private:
    SqliteConnection& conn_;
    sqlite3* db_;
    sqlite3_stmt* stmt_;
    bool done_ = false;
};

std::string NumberedParameters(std::string_view sql) {
    std::string out;
    out.reserve(sql.size());
    char quote = 0;
    for (std::size_t i = 0; i < sql.size(); ++i) {
        const char c = sql[i];
        if (quote) {
            if (c == quote) quote = 0;
        } else if (c == '\'' || c == '"') {
            quote = c;
        } else if (c == '$' && i + 1 < sql.size() && sql[i + 1] >= '0' && sql[i + 1] <= '9') {
            out += '?';
            continue;
        }
        out += c;
    }
    return out;
}

Result<std::unique_ptr<SqliteConnection>> SqliteConnection::Open(const std::string& path) {
    sqlite3* db = nullptr;
    const int rc =
        sqlite3_open_v2(path.c_str(), &db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
        std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
        sqlite3_close(db);
        return Fail(ErrorCode::kUnavailable, "cannot open database " + path + ": " + msg);
    }
    std::unique_ptr<SqliteConnection> conn(new SqliteConnection(db));
    sqlite3_extended_result_codes(db, 1);
    // WAL: readers never block the writer; NORMAL sync is durable across process crashes
    // (a power loss may lose the last transactions, never corrupt the file).
    FIRMO_CHECK(
        // busy_timeout first: switching to WAL may meet another connection's lock.
        conn->Exec("PRAGMA busy_timeout=10000; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                   "PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY; "
                   // Checkpoints run on SqliteDatabase's own thread, not inside a request's commit.
                   "PRAGMA wal_autocheckpoint=0; PRAGMA journal_size_limit=67108864;"));
    return conn;
}

SqliteConnection::SqliteConnection(sqlite3* db) : db_(db) {}

SqliteConnection::~SqliteConnection() {
    cache_.clear();  // finalizes the statements before the connection closes
    sqlite3_close(db_);
}

Error SqliteConnection::LastError(std::string_view what) const {
    const int code = sqlite3_extended_errcode(db_);
    ErrorCode ec = ErrorCode::kInternal;
    if (code == SQLITE_CONSTRAINT_UNIQUE || code == SQLITE_CONSTRAINT_PRIMARYKEY) {
        ec = ErrorCode::kAlreadyExists;
    } else if ((code & 0xFF) == SQLITE_BUSY || (code & 0xFF) == SQLITE_LOCKED) {
        ec = ErrorCode::kUnavailable;
    }
    return Error{ec, std::string(what) + ": " + sqlite3_errmsg(db_)};
}

Result<sql::Statement*> SqliteConnection::Prepare(const char* sql) {
    auto it = cache_.find(sql);
    if (it == cache_.end()) {
        const std::string text = NumberedParameters(sql);
        sqlite3_stmt* stmt = nullptr;
        if (sqlite3_prepare_v3(db_, text.c_str(), static_cast<int>(text.size()),
                               SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) {
            return Fail(LastError("prepare"));
        }
        it = cache_.emplace(sql, std::make_unique<SqliteStatement>(*this, db_, stmt)).first;
    }
    return it->second.get();
}

Result<void> SqliteConnection::Exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
        Error e = LastError("exec");
        sqlite3_free(err);
        return Fail(std::move(e));
    }
    return {};
}

Result<void> SqliteConnection::RunCached(const char* sql) {
    FIRMO_TRY(auto q, sql::Prepare(*this, sql));
    FIRMO_TRY(auto changed, q.Run());
    (void)changed;
    return {};
}

Result<void> SqliteConnection::Begin(sql::TxKind kind) {
    return RunCached(kind == sql::TxKind::kWrite ? kBeginWrite : kBeginRead);
}

Result<void> SqliteConnection::Commit() { return RunCached(sql::kCommit); }

Result<void> SqliteConnection::Rollback() {
    auto rolled_back = RunCached(sql::kRollback);
    if (sqlite3_get_autocommit(db_) == 0) {
        return Fail(ErrorCode::kInternal,
                    std::string("rollback left the transaction open: ") + sqlite3_errmsg(db_));
    }
    return rolled_back;
}

bool SqliteConnection::Reusable() const { return sqlite3_get_autocommit(db_) != 0; }

}  // namespace firmo::store::sqlite
