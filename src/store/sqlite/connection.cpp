#include "store/sqlite/connection.hpp"

#include <sqlite3.h>

namespace firmo::store::sqlite {

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& path) {
    sqlite3* db = nullptr;
    const int rc =
        sqlite3_open_v2(path.c_str(), &db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
        std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
        sqlite3_close(db);
        return Fail(ErrorCode::kUnavailable, "cannot open database " + path + ": " + msg);
    }
    std::unique_ptr<Connection> conn(new Connection(db));
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

Connection::~Connection() {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    sqlite3_close(db_);
}

Error Connection::LastError(std::string_view what) const {
    const int code = sqlite3_extended_errcode(db_);
    ErrorCode ec = ErrorCode::kInternal;
    if (code == SQLITE_CONSTRAINT_UNIQUE || code == SQLITE_CONSTRAINT_PRIMARYKEY) {
        ec = ErrorCode::kAlreadyExists;
    } else if ((code & 0xFF) == SQLITE_BUSY || (code & 0xFF) == SQLITE_LOCKED) {
        ec = ErrorCode::kUnavailable;
    }
    return Error{ec, std::string(what) + ": " + sqlite3_errmsg(db_)};
}

Result<Statement> Connection::Prepare(const char* sql) {
    auto it = cache_.find(sql);
    if (it == cache_.end()) {
        sqlite3_stmt* stmt = nullptr;
        if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) !=
            SQLITE_OK) {
            return Fail(LastError("prepare"));
        }
        it = cache_.emplace(sql, stmt).first;
    }
    return Statement(*this, it->second);
}

Result<void> Connection::Exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
        Error e = LastError("exec");
        sqlite3_free(err);
        return Fail(std::move(e));
    }
    return {};
}

Statement::~Statement() {
    if (stmt_) {
        sqlite3_reset(stmt_);
        sqlite3_clear_bindings(stmt_);
    }
}

Statement& Statement::Bind(int index, std::string_view value) {
    sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
    return *this;
}

Statement& Statement::Bind(int index, std::int64_t value) {
    sqlite3_bind_int64(stmt_, index, value);
    return *this;
}

Statement& Statement::BindNull(int index) {
    sqlite3_bind_null(stmt_, index);
    return *this;
}

Result<bool> Statement::Step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return Fail(conn_->LastError("step"));
}

Result<void> Statement::Run() {
    FIRMO_TRY(bool row, Step());
    (void)row;
    return {};
}

std::string Statement::Text(int col) const {
    const auto* p = sqlite3_column_text(stmt_, col);
    const int n = sqlite3_column_bytes(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n))
             : std::string();
}

std::optional<std::string> Statement::OptText(int col) const {
    if (IsNull(col)) return std::nullopt;
    return Text(col);
}

std::int64_t Statement::Int(int col) const { return sqlite3_column_int64(stmt_, col); }

std::optional<std::int64_t> Statement::OptInt(int col) const {
    if (IsNull(col)) return std::nullopt;
    return Int(col);
}

bool Statement::IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

}  // namespace firmo::store::sqlite
