#pragma once
// A pool of database connections for one SQL backend: hands out an idle connection, opens a
// new one while fewer than `size` are open, else waits for one to come back. A connection
// that comes back unusable (broken, or still inside a transaction it could not end) is
// closed instead of handed on. Thread-safe.

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "core/error.hpp"
#include "domain/ports/database.hpp"
#include "store/sql/driver.hpp"

namespace firmo::store::sql {

class Pool {
  public:
    using Connect = std::function<Result<std::unique_ptr<Connection>>()>;
    // `first`: a connection opened already (so a bad path or URL fails at start).
    // `failure_event`: the log event of a connection that could not be opened.
    Pool(Connect connect, int size, std::unique_ptr<Connection> first, const char* failure_event);
    Pool(const Pool&) = delete;
    Pool& operator=(const Pool&) = delete;

    // kUnavailable (with the cause) when no connection can be opened.
    [[nodiscard]] Result<std::unique_ptr<Connection>> Acquire();
    void Release(std::unique_ptr<Connection> conn);
    // Connections lent out, the size, and threads waiting in Acquire(); for monitoring.
    domain::ConnectionUse Use() const;

  private:
    Connect connect_;
    int size_;
    const char* failure_event_;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::vector<std::unique_ptr<Connection>> idle_;
    int open_ = 0;
    int waiting_ = 0;
};

}  // namespace firmo::store::sql
