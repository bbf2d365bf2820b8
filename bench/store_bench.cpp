// The storage layer, SOCI 4.0 against our own (store/sql over sqlite3 and libpq), by
// measurement: the same prepared point select (one row of four columns by primary key) and
// the same single-row insert (autocommit), on SQLite and on PostgreSQL, through
//   ours  -- the driver the repositories use (sql::Prepare + Query on a pooled connection);
//   repo  -- a whole repository call through a kSingle transaction (Database::Begin, the
//            issuers() repository, row mapping): what a request pays;
//   soci  -- a soci::statement prepared once, re-executed with new bound values.
// PostgreSQL runs when FIRMO_TEST_POSTGRES_URL is set (scripts/with-postgres.sh); each run
// creates and drops its own database. Figures are recorded in docs/PERFORMANCE.md.
//
//   build/release/bench/store_bench
//   scripts/with-postgres.sh build/release/bench/store_bench

#include <benchmark/benchmark.h>
#include <libpq-fe.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "store/postgres/connection.hpp"
#include "store/postgres/postgres_database.hpp"
#include "store/sql/driver.hpp"
#include "store/sqlite/connection.hpp"
#include "store/sqlite/sqlite_database.hpp"

namespace {

using namespace firmo;
namespace fs = std::filesystem;
namespace sql = firmo::store::sql;

constexpr int kRows = 10'000;
constexpr const char* kSelect = "SELECT id, name, email, created_at FROM issuers WHERE id = $1";
constexpr const char* kSociSelect =
    "SELECT id, name, email, created_at FROM issuers WHERE id = :id";
constexpr const char* kInsert = "INSERT INTO bench_rows (id, name, n) VALUES ($1, $2, $3)";
constexpr const char* kSociInsert = "INSERT INTO bench_rows (id, name, n) VALUES (:id, :name, :n)";

std::string IdOf(int i) { return "ISSUER-" + std::to_string(100'000 + i); }

// One backend's database, created and filled once per process.
struct Target {
    std::string name;  // "sqlite" | "postgres"
    std::string ours;  // what our drivers open (a path or a libpq URL)
    std::string soci;  // SOCI's connect string
    std::unique_ptr<domain::Database> db;
};

void Check(const Result<void>& r) {
    if (!r) {
        std::fprintf(stderr, "store_bench: %s\n", r.error().message.c_str());
        std::exit(1);
    }
}

template <typename Conn>
void Fill(Conn& conn) {
    Check(
        conn.Exec("CREATE TABLE IF NOT EXISTS bench_rows (id TEXT PRIMARY KEY, name TEXT "
                  "NOT NULL, n BIGINT NOT NULL)"));
    Check(conn.Exec("BEGIN"));
    for (int i = 0; i < kRows; ++i) {
        auto q = sql::Prepare(conn,
                              "INSERT INTO issuers (id, name, email, created_at) "
                              "VALUES ($1, $2, $3, $4)");
        if (!q) Check(Fail(q.error()));
        Check(q->Bind(IdOf(i), "Comune " + std::to_string(i), "ops@example.org",
                      std::int64_t{1'790'000'000'000} + i)
                  .Send());
    }
    Check(conn.Exec("COMMIT"));
}

Target& Sqlite() {
    static Target target = [] {
        const fs::path dir =
            fs::temp_directory_path() / ("firmo-store-bench-" + std::to_string(::getpid()));
        fs::create_directories(dir);
        const std::string path = (dir / "bench.db").string();
        Target t{"sqlite", path, "db=" + path, nullptr};
        auto db = store::sqlite::SqliteDatabase::Open(path, 4);
        if (!db) Check(Fail(db.error()));
        Check((*db)->Migrate().map([](int) {}));
        t.db = std::move(*db);
        auto conn = store::sqlite::SqliteConnection::Open(path);
        if (!conn) Check(Fail(conn.error()));
        Fill(**conn);
        return t;
    }();
    return target;
}

Target* Postgres() {
    static std::unique_ptr<Target> target = []() -> std::unique_ptr<Target> {
        const char* admin = std::getenv("FIRMO_TEST_POSTGRES_URL");
        if (!admin || !*admin) return nullptr;
        const std::string name = "firmo_store_bench_" + std::to_string(::getpid());
        PGconn* c = PQconnectdb(admin);
        PQclear(PQexec(c, ("DROP DATABASE IF EXISTS " + name).c_str()));
        PQclear(PQexec(c, ("CREATE DATABASE " + name).c_str()));
        PQfinish(c);
        // postgresql://user@host:port/db: the same database named for libpq (a URL) and for
        // SOCI, which wants key=value pairs.
        const std::string base = admin;
        const auto at = base.find('@');
        const auto colon = base.find(':', at);
        const auto slash = base.find('/', at);
        const std::string user = base.substr(base.find("://") + 3, at - base.find("://") - 3);
        const std::string host = base.substr(at + 1, colon - at - 1);
        const std::string port = base.substr(colon + 1, slash - colon - 1);
        const std::string url = base.substr(0, slash) + "/" + name;
        const std::string soci_params =
            "host=" + host + " port=" + port + " user=" + user + " dbname=" + name;
        auto t = std::make_unique<Target>(Target{"postgres", url, soci_params, nullptr});
        auto db = store::postgres::PostgresDatabase::Open(url, 4);
        if (!db) Check(Fail(db.error()));
        Check((*db)->Migrate().map([](int) {}));
        t->db = std::move(*db);
        auto conn = store::postgres::PgConnection::Open(url);
        if (!conn) Check(Fail(conn.error()));
        Fill(**conn);
        return t;
    }();
    return target.get();
}

Target* TargetOf(int backend) { return backend == 0 ? &Sqlite() : Postgres(); }

std::unique_ptr<sql::Connection> OurConnection(const Target& t) {
    if (t.name == "sqlite") {
        auto c = store::sqlite::SqliteConnection::Open(t.ours);
        if (!c) Check(Fail(c.error()));
        return std::move(*c);
    }
    auto c = store::postgres::PgConnection::Open(t.ours);
    if (!c) Check(Fail(c.error()));
    return std::move(*c);
}

std::unique_ptr<soci::session> SociSession(const Target& t) {
    if (t.name == "sqlite") {
        auto s = std::make_unique<soci::session>(soci::sqlite3, t.soci);
        // The same settings as our connections (store/sqlite/connection.cpp); without
        // wal_autocheckpoint=0 its inserts would pay for checkpoints (fsyncs) ours leave to
        // SqliteDatabase's checkpointer thread.
        for (const char* pragma :
             {"PRAGMA busy_timeout=10000", "PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL",
              "PRAGMA foreign_keys=ON", "PRAGMA temp_store=MEMORY", "PRAGMA wal_autocheckpoint=0",
              "PRAGMA journal_size_limit=67108864"}) {
            *s << pragma;
        }
        return s;
    }
    return std::make_unique<soci::session>(soci::postgresql, t.soci);
}

bool Skip(benchmark::State& state, const Target* t) {
    if (t) return false;
    state.SkipWithError("FIRMO_TEST_POSTGRES_URL is not set (scripts/with-postgres.sh)");
    return true;
}

// ---- Point select -----------------------------------------------------------------------------

void BM_Select_Ours(benchmark::State& state) {
    Target* t = TargetOf(static_cast<int>(state.range(0)));
    if (Skip(state, t)) return;
    auto conn = OurConnection(*t);
    std::mt19937 rng(1);
    for (auto _ : state) {
        auto q = sql::Prepare(*conn, kSelect);
        auto row = q->Bind(IdOf(static_cast<int>(rng() % kRows))).One([](const sql::Row& r) {
            return domain::Issuer{r.Text(0), r.Text(1), r.Text(2), r.Time(3)};
        });
        if (!row || !*row) state.SkipWithError("no row");
        benchmark::DoNotOptimize(row);
    }
    state.SetLabel(t->name);
}

void BM_Select_Repo(benchmark::State& state) {
    Target* t = TargetOf(static_cast<int>(state.range(0)));
    if (Skip(state, t)) return;
    std::mt19937 rng(1);
    for (auto _ : state) {
        auto tx = t->db->Begin(domain::TxMode::kSingle);
        auto row = (*tx)->issuers().Find(IdOf(static_cast<int>(rng() % kRows)));
        if (!row || !*row) state.SkipWithError("no row");
        benchmark::DoNotOptimize(row);
    }
    state.SetLabel(t->name);
}

void BM_Select_Soci(benchmark::State& state) {
    Target* t = TargetOf(static_cast<int>(state.range(0)));
    if (Skip(state, t)) return;
    auto s = SociSession(*t);
    std::string id, out_id, name, email;
    long long created_at = 0;
    soci::statement st = (s->prepare << kSociSelect, soci::into(out_id), soci::into(name),
                          soci::into(email), soci::into(created_at), soci::use(id));
    std::mt19937 rng(1);
    for (auto _ : state) {
        id = IdOf(static_cast<int>(rng() % kRows));
        if (!st.execute(true)) state.SkipWithError("no row");
        domain::Issuer issuer{out_id, name, email, FromUnixMillis(created_at)};
        benchmark::DoNotOptimize(issuer);
    }
    state.SetLabel(t->name);
}

// ---- Single-row insert (autocommit) -------------------------------------------------------

void BM_Insert_Ours(benchmark::State& state) {
    Target* t = TargetOf(static_cast<int>(state.range(0)));
    if (Skip(state, t)) return;
    auto conn = OurConnection(*t);
    static int next = 0;
    for (auto _ : state) {
        const int n = next++;
        auto q = sql::Prepare(*conn, kInsert);
        auto done = q->Bind("o" + std::to_string(n), "a row", std::int64_t{n}).Run();
        if (!done) state.SkipWithError(done.error().message.c_str());
    }
    state.SetLabel(t->name);
}

void BM_Insert_Soci(benchmark::State& state) {
    Target* t = TargetOf(static_cast<int>(state.range(0)));
    if (Skip(state, t)) return;
    auto s = SociSession(*t);
    static int next = 0;
    std::string id, name = "a row";
    long long n = 0;
    soci::statement st = (s->prepare << kSociInsert, soci::use(id), soci::use(name), soci::use(n));
    for (auto _ : state) {
        n = next++;
        id = "s" + std::to_string(n);
        st.execute(true);
    }
    state.SetLabel(t->name);
}

// Arg 0: SQLite, 1: PostgreSQL.
BENCHMARK(BM_Select_Ours)->Arg(0)->Arg(1);
BENCHMARK(BM_Select_Soci)->Arg(0)->Arg(1);
BENCHMARK(BM_Select_Repo)->Arg(0)->Arg(1);
BENCHMARK(BM_Insert_Ours)->Arg(0)->Arg(1);
BENCHMARK(BM_Insert_Soci)->Arg(0)->Arg(1);

}  // namespace

BENCHMARK_MAIN();
