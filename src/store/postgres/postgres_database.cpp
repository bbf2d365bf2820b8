#include "store/postgres/postgres_database.hpp"

#include "store/postgres/connection.hpp"
#include "store/postgres/migrations.hpp"
#include "store/postgres/notification_signal.hpp"

namespace firmo::store::postgres {

namespace {
// BEGIN plus a transaction-scoped advisory lock (key: "firmo-mi" as a 64-bit number).
constexpr const char* kBeginMigration = "BEGIN; SELECT pg_advisory_xact_lock(7595434311398401385)";
}  // namespace

Result<std::unique_ptr<PostgresDatabase>> PostgresDatabase::Open(const std::string& url,
                                                                 int pool_size) {
    FIRMO_TRY(auto first, PgConnection::Open(url));
    return std::unique_ptr<PostgresDatabase>(
        new PostgresDatabase(url, pool_size, std::move(first)));
}

PostgresDatabase::PostgresDatabase(const std::string& url, int pool_size,
                                   std::unique_ptr<sql::Connection> first)
    : SqlDatabase(Backend{.connect = [url]() -> Result<std::unique_ptr<sql::Connection>> {
                              FIRMO_TRY(auto conn, PgConnection::Open(url));
                              return std::unique_ptr<sql::Connection>(std::move(conn));
                          },
                          .connect_failed_event = "postgres_connect_failed",
                          .migrations = Migrations(),
                          .begin_migration_step = kBeginMigration,
                          // A few KiB each: about 10 MiB at most. Saves the wide read of a
                          // request a client polls (see request_cache.hpp).
                          .cached_requests = 4096,
                          // Vouches for those copies without a read (migration 25's trigger).
                          .request_changes = NotificationSignal::Start(
                              url, {.channel = "firmo_requests",
                                    .application_name = "firmo-request-listener",
                                    .listener_prefix = "firmo-request-listener",
                                    .log_prefix = "request_signal"})},
                  pool_size, std::move(first)) {}

}  // namespace firmo::store::postgres
