#pragma once
// The embedded default store: one SQLite file in WAL mode, a pool of connections (readers in
// parallel, one writer at a time via BEGIN IMMEDIATE). Implements domain::Database.

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "domain/ports/repository.hpp"

namespace firmo::store::sqlite {

class Connection;

class SqliteDatabase final : public domain::Database {
  public:
    // Opens (creating if needed) the database file; `pool_size` connections at most.
    static Result<std::unique_ptr<SqliteDatabase>> Open(const std::string& path, int pool_size);
    ~SqliteDatabase() override;

    Result<std::unique_ptr<domain::Transaction>> Begin(domain::TxMode mode) override;
    Result<int> Migrate() override;
    // Migrate() refuses a database carrying migrations this binary does not know (a newer
    // release upgraded it) unless allowed: for rolling back over additive migrations.
    void AllowNewerSchema(bool allow) { allow_newer_schema_ = allow; }
    Result<void> Ping() override;

    // Pool access for transactions (returned on destruction of the lease).
    std::unique_ptr<Connection> Acquire();
    void Release(std::unique_ptr<Connection> conn);
    void NoteWrite();  // a write transaction ended: the checkpointer has work
    void Forget();     // a leased connection was closed instead of released

  private:
    bool allow_newer_schema_ = false;
    SqliteDatabase(std::string path, int pool_size);

    std::string path_;
    int pool_size_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::vector<std::unique_ptr<Connection>> idle_;
    int open_ = 0;
    std::mutex write_mu_;

    void CheckpointLoop();
    std::atomic<std::uint64_t> writes_{0};
    std::mutex checkpoint_mu_;
    std::condition_variable checkpoint_cv_;
    bool stopping_ = false;
    std::thread checkpointer_;
};

}  // namespace firmo::store::sqlite
