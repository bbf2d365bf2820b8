#pragma once
// The embedded default store: one SQLite file in WAL mode, a pool of connections (readers in
// parallel, one writer at a time via BEGIN IMMEDIATE behind this process's writer lock), and a
// thread that checkpoints the WAL after writes. Serves the SQL layer's repositories (store/sql).

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "store/sql/sql_database.hpp"

namespace firmo::store::sqlite {

class SqliteDatabase final : public sql::SqlDatabase {
  public:
    // Opens (creating if needed) the database file; `pool_size` connections at most.
    static Result<std::unique_ptr<SqliteDatabase>> Open(const std::string& path, int pool_size);
    ~SqliteDatabase() override;

  protected:
    Result<std::unique_ptr<domain::Transaction>> BeginTransaction(domain::TxMode mode) override;

  private:
    SqliteDatabase(const std::string& path, int pool_size, std::unique_ptr<sql::Connection> first);
    void CheckpointLoop();

    // This process's writers queue here (see BeginTransaction).
    std::mutex write_mu_;
    std::atomic<std::uint64_t> writes_{0};
    std::mutex checkpoint_mu_;
    std::condition_variable checkpoint_cv_;
    bool stopping_ = false;
    std::thread checkpointer_;
};

}  // namespace firmo::store::sqlite
