#include "store/postgres/connection.hpp"

#include <libpq-fe.h>

#include <cstdlib>
#include <cstring>

#include "store/sql/statements.hpp"

namespace firmo::store::postgres {

namespace {

// SQLSTATEs: unique_violation; connection exceptions (class 08), admin shutdown and friends
// (57P0x), serialization failure, deadlock, lock not available: worth a retry.
bool Retryable(std::string_view state) {
    return state.starts_with("08") || state.starts_with("57P") || state == "40001" ||
           state == "40P01" || state == "55P03" || state == "53300";
}

std::string Trimmed(const char* text) {
    std::string s = text ? text : "";
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

}  // namespace

std::string RedactUrl(const std::string& url) {
    // postgresql://user:password@host/db -> postgresql://user:***@host/db
    const auto scheme = url.find("://");
    if (scheme != std::string::npos) {
        const auto start = scheme + 3;
        const auto at = url.find('@', start);
        const auto slash = url.find('/', start);
        if (at != std::string::npos && (slash == std::string::npos || at < slash)) {
            const auto colon = url.find(':', start);
            if (colon != std::string::npos && colon < at) {
                return url.substr(0, colon + 1) + "***" + url.substr(at);
            }
        }
        // A password may also come as a query parameter.
        const auto q = url.find("password=");
        if (q != std::string::npos) {
            const auto end = url.find('&', q);
            return url.substr(0, q) + "password=***" +
                   (end == std::string::npos ? "" : url.substr(end));
        }
        return url;
    }
    // key=value form: blank out password=...
    const auto q = url.find("password");
    if (q == std::string::npos) return url;
    return url.substr(0, q) + "password=***";
}

// One execution at a time of a prepared statement: bound parameters, then one result.
class PgStatement final : public sql::Statement {
  public:
    PgStatement(PgConnection& conn, std::string name) : conn_(conn), name_(std::move(name)) {}
    ~PgStatement() override { Reset(); }

    void BindText(int index, std::string_view value) override { Slot(index) = std::string(value); }
    void BindInt(int index, std::int64_t value) override { Slot(index) = std::to_string(value); }
    void BindBool(int index, bool value) override { Slot(index) = value ? "true" : "false"; }
    void BindNull(int index) override { Slot(index).reset(); }

    Result<bool> Step() override {
        if (!result_) FIRMO_CHECK(Execute());
        if (row_ + 1 >= rows_) {
            row_ = rows_;
            return false;
        }
        ++row_;
        return true;
    }
    Result<std::int64_t> Run() override {
        if (!result_) FIRMO_CHECK(Execute());
        return changes_;
    }
    Result<void> Send() override {
        if (result_) return {};
        if (!conn_.pipelining()) return Execute();
        FIRMO_CHECK(SendOnly());
        conn_.Queued();
        return {};
    }
    // Sends the execution without waiting for its result (pipeline mode).
    Result<void> SendOnly() {
        const auto values = Values();
        if (PQsendQueryPrepared(conn_.raw(), name_.c_str(), static_cast<int>(values.size()),
                                values.data(), nullptr, nullptr, 0) == 0) {
            return Fail(conn_.ResultError("query", nullptr));
        }
        return {};
    }

    std::string_view Text(int col) const override {
        if (PQgetisnull(result_, row_, col)) return {};
        return {PQgetvalue(result_, row_, col),
                static_cast<std::size_t>(PQgetlength(result_, row_, col))};
    }
    std::int64_t Int(int col) const override {
        if (PQgetisnull(result_, row_, col)) return 0;
        return std::strtoll(PQgetvalue(result_, row_, col), nullptr, 10);
    }
    bool Bool(int col) const override {
        if (PQgetisnull(result_, row_, col)) return false;
        const char* v = PQgetvalue(result_, row_, col);
        return v[0] == 't' || v[0] == '1';
    }
    bool IsNull(int col) const override { return PQgetisnull(result_, row_, col) != 0; }

    void Reset() override {
        if (result_) PQclear(result_);
        result_ = nullptr;
        params_.clear();
        rows_ = 0;
        row_ = -1;
        changes_ = 0;
    }

    // The command tag of the execution ("COMMIT", or "ROLLBACK" for a failed transaction).
    std::string CommandTag() const {
        const char* tag = result_ ? PQcmdStatus(result_) : nullptr;
        return tag ? tag : "";
    }

  private:
    std::optional<std::string>& Slot(int index) {
        const auto i = static_cast<std::size_t>(index - 1);
        if (params_.size() <= i) params_.resize(i + 1);
        return params_[i];
    }

    std::vector<const char*> Values() const {
        std::vector<const char*> values(params_.size());
        for (std::size_t i = 0; i < params_.size(); ++i) {
            values[i] = params_[i] ? params_[i]->c_str() : nullptr;
        }
        return values;
    }

    Result<void> Execute() {
        if (conn_.pipelining()) {
            // With what is queued before it, in one round trip; a queued statement's error
            // is this one's (the server skipped the rest).
            FIRMO_CHECK(SendOnly());
            auto sent = conn_.SendQueued();
            conn_.DrainQueued();
            result_ = PQgetResult(conn_.raw());
            if (result_) {
                if (pg_result* end = PQgetResult(conn_.raw())) PQclear(end);  // (never: one result)
            }
            auto deferred = conn_.TakeDeferredError();
            if (!sent || !deferred) {
                if (result_) PQclear(result_);
                result_ = nullptr;
                return sent ? deferred : sent;
            }
        } else {
            const auto values = Values();
            result_ = PQexecPrepared(conn_.raw(), name_.c_str(), static_cast<int>(values.size()),
                                     values.data(), nullptr, nullptr, 0);
        }
        const auto status = PQresultStatus(result_);
        if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
            Error e = conn_.ResultError("query", result_);
            PQclear(result_);
            result_ = nullptr;
            return Fail(std::move(e));
        }
        rows_ = PQntuples(result_);
        const char* tuples = PQcmdTuples(result_);
        changes_ = (tuples && *tuples) ? std::strtoll(tuples, nullptr, 10) : 0;
        return {};
    }

    PgConnection& conn_;
    std::string name_;
    std::vector<std::optional<std::string>> params_;
    pg_result* result_ = nullptr;
    int rows_ = 0;
    int row_ = -1;
    std::int64_t changes_ = 0;
};

namespace {
constexpr const char* kBeginRead = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
constexpr const char* kBeginWrite = "BEGIN ISOLATION LEVEL READ COMMITTED";
}  // namespace

Result<std::unique_ptr<PgConnection>> PgConnection::Open(const std::string& url) {
    // No fallback_application_name clash: name ourselves unless the URL does.
    const char* keys[] = {"dbname", "fallback_application_name", nullptr};
    const char* values[] = {url.c_str(), "firmo", nullptr};
    pg_conn* conn = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
    if (conn == nullptr) return Fail(ErrorCode::kUnavailable, "cannot allocate a connection");
    if (PQstatus(conn) != CONNECTION_OK) {
        // libpq's messages name host, port and user, never the password.
        std::string msg = Trimmed(PQerrorMessage(conn));
        PQfinish(conn);
        return Fail(ErrorCode::kUnavailable,
                    "cannot connect to PostgreSQL " + RedactUrl(url) + ": " + msg);
    }
    std::unique_ptr<PgConnection> c(new PgConnection(conn));
    // Timestamps are integers and text is UTF-8; keep the session predictable.
    FIRMO_CHECK(c->Exec("SET client_encoding = 'UTF8'; SET TIME ZONE 'UTC'"));
    return c;
}

PgConnection::PgConnection(pg_conn* conn) : conn_(conn) {}

PgConnection::~PgConnection() {
    prepared_.clear();
    PQfinish(conn_);
}

bool PgConnection::Broken() const { return PQstatus(conn_) != CONNECTION_OK; }

bool PgConnection::Reusable() const {
    return !Broken() && !pipelining_ && PQtransactionStatus(conn_) == PQTRANS_IDLE;
}

Error PgConnection::ResultError(std::string_view what, const pg_result* result) const {
    const char* state_c = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
    const std::string_view state = state_c ? state_c : "";
    std::string message =
        Trimmed(result ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr);
    if (message.empty()) message = Trimmed(PQerrorMessage(conn_));
    ErrorCode code = ErrorCode::kInternal;
    if (state == "23505") {
        code = ErrorCode::kAlreadyExists;
    } else if (Broken() || Retryable(state)) {
        code = ErrorCode::kUnavailable;
    }
    std::string text = std::string(what) + ": " + message;
    if (!state.empty()) text += " (SQLSTATE " + std::string(state) + ")";
    return Error{code, std::move(text)};
}

Result<sql::Statement*> PgConnection::Prepare(const char* sql) {
    auto it = prepared_.find(sql);
    if (it == prepared_.end() && pipelining_) {
        // Queued like the statement's execution, which follows it.
        std::string name = "f" + std::to_string(prepared_.size() + 1);
        if (PQsendPrepare(conn_, name.c_str(), sql, 0, nullptr) == 0) {
            return Fail(ResultError("prepare", nullptr));
        }
        Queued();
        it = prepared_.emplace(sql, std::make_unique<PgStatement>(*this, std::move(name))).first;
    }
    if (it == prepared_.end()) {
        std::string name = "f" + std::to_string(prepared_.size() + 1);
        pg_result* res = PQprepare(conn_, name.c_str(), sql, 0, nullptr);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            Error e = ResultError("prepare", res);
            PQclear(res);
            return Fail(std::move(e));
        }
        PQclear(res);
        it = prepared_.emplace(sql, std::make_unique<PgStatement>(*this, std::move(name))).first;
    }
    return it->second.get();
}

Result<void> PgConnection::Exec(const char* sql) {
    if (pipelining_) return Fail(ErrorCode::kInternal, "Exec inside a transaction");
    pg_result* res = PQexec(conn_, sql);
    const auto status = PQresultStatus(res);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        Error e = ResultError("exec", res);
        PQclear(res);
        return Fail(std::move(e));
    }
    PQclear(res);
    return {};
}

Result<std::string> PgConnection::RunCached(const char* sql) {
    FIRMO_TRY(auto* s, Prepare(sql));
    auto& statement = static_cast<PgStatement&>(*s);
    sql::Query q(statement);
    FIRMO_CHECK(q.Send());
    return statement.CommandTag();
}

Result<void> PgConnection::Begin(sql::TxKind kind) {
    if (pipelining_) return Fail(ErrorCode::kInternal, "a transaction is open already");
    if (PQenterPipelineMode(conn_) == 0) return Fail(ResultError("pipeline mode", nullptr));
    pipelining_ = true;
    queued_ = 0;
    deferred_.reset();
    // Queued: it goes with the transaction's first statement.
    FIRMO_TRY(auto* begin, Prepare(kind == sql::TxKind::kWrite ? kBeginWrite : kBeginRead));
    return begin->Send();
}

Result<void> PgConnection::SendQueued() {
    if (PQsendFlushRequest(conn_) == 0 || PQflush(conn_) != 0) {
        return Fail(ResultError("send", nullptr));
    }
    return {};
}

void PgConnection::DrainQueued() {
    for (; queued_ > 0; --queued_) {
        while (pg_result* r = PQgetResult(conn_)) {
            const auto status = PQresultStatus(r);
            // After an error the server skips the rest (PIPELINE_ABORTED): the first is the one.
            if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK &&
                status != PGRES_PIPELINE_ABORTED && !deferred_) {
                deferred_ = ResultError("query", r);
            }
            PQclear(r);
        }
        if (Broken() && !deferred_) deferred_ = ResultError("query", nullptr);
    }
}

Result<void> PgConnection::TakeDeferredError() {
    if (!deferred_) return {};
    Error e = std::move(*deferred_);
    deferred_.reset();
    return Fail(std::move(e));
}

Result<void> PgConnection::Flush() {
    if (!pipelining_ || queued_ == 0) return TakeDeferredError();
    auto sent = SendQueued();
    DrainQueued();
    FIRMO_CHECK(sent);
    return TakeDeferredError();
}

Result<std::string> PgConnection::EndPipeline(const char* end) {
    FIRMO_TRY(auto* s, Prepare(end));
    auto& statement = static_cast<PgStatement&>(*s);
    auto sent = statement.SendOnly();
    if (sent && PQpipelineSync(conn_) == 0) sent = Fail(ResultError("sync", nullptr));
    DrainQueued();
    std::string tag;
    bool aborted = false;
    if (sent) {
        // The end's result, then the sync's.
        if (pg_result* r = PQgetResult(conn_)) {
            const auto status = PQresultStatus(r);
            aborted = status == PGRES_PIPELINE_ABORTED;
            if (status == PGRES_COMMAND_OK) {
                tag = PQcmdStatus(r);
            } else if (!aborted && !deferred_) {
                deferred_ = ResultError(end, r);
            }
            PQclear(r);
            while (pg_result* more = PQgetResult(conn_)) PQclear(more);
        }
        while (pg_result* r = PQgetResult(conn_)) {
            const bool sync = PQresultStatus(r) == PGRES_PIPELINE_SYNC;
            PQclear(r);
            if (sync) break;
        }
    }
    if (PQexitPipelineMode(conn_) == 1) pipelining_ = false;  // else: not reusable, closed
    FIRMO_CHECK(sent);
    FIRMO_CHECK(TakeDeferredError());
    if (aborted) return Fail(ErrorCode::kInternal, "transaction was aborted by an earlier error");
    return tag;
}

Result<void> PgConnection::Commit() {
    FIRMO_TRY(auto tag, pipelining_ ? EndPipeline(sql::kCommit) : RunCached(sql::kCommit));
    // COMMIT of a transaction that failed earlier rolls back without an error.
    if (tag == "ROLLBACK") {
        return Fail(ErrorCode::kInternal, "transaction was aborted by an earlier error");
    }
    return {};
}

Result<void> PgConnection::Rollback() {
    if (pipelining_) {
        // After an error the queued ROLLBACK was skipped, and the transaction is still open.
        auto ended = EndPipeline(sql::kRollback);
        (void)ended;
        if (pipelining_ || PQtransactionStatus(conn_) == PQTRANS_IDLE) return {};
    }
    FIRMO_TRY(auto tag, RunCached(sql::kRollback));
    (void)tag;
    return {};
}

}  // namespace firmo::store::postgres
