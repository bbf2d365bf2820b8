#include "store/sql/pool.hpp"

#include "core/log.hpp"
#include "core/no_wait.hpp"

namespace firmo::store::sql {

Pool::Pool(Connect connect, int size, std::unique_ptr<Connection> first, const char* failure_event)
    : connect_(std::move(connect)), size_(size < 1 ? 1 : size), failure_event_(failure_event) {
    if (first) {
        idle_.push_back(std::move(first));
        open_ = 1;
    }
}

Result<std::unique_ptr<Connection>> Pool::Acquire() {
    std::unique_lock lock(mu_);
    while (true) {
        while (!idle_.empty()) {
            auto conn = std::move(idle_.back());
            idle_.pop_back();
            if (conn->Reusable()) return conn;
            // The server went away under an idle connection: open a fresh one instead.
            --open_;
        }
        // Opening a connection, or waiting for one, is waiting (core/no_wait.hpp).
        if (no_wait::Active()) return no_wait::Refuse("a database connection");
        if (open_ < size_) {
            ++open_;
            lock.unlock();
            auto conn = connect_();
            if (conn) return std::move(*conn);
            log::Error(failure_event_, {{"error", conn.error().message}});
            lock.lock();
            --open_;
            cv_.notify_one();
            return Fail(conn.error());
        }
        ++waiting_;
        cv_.wait(lock);
        --waiting_;
    }
}

void Pool::Release(std::unique_ptr<Connection> conn) {
    if (!conn) return;
    {
        std::lock_guard lock(mu_);
        if (conn->Reusable()) {
            idle_.push_back(std::move(conn));
        } else {
            --open_;  // broken, or a transaction it could not end: never hand it on
        }
    }
    cv_.notify_one();
    conn.reset();  // closed outside the lock
}

domain::ConnectionUse Pool::Use() const {
    std::lock_guard lock(mu_);
    return {.in_use = open_ - static_cast<int>(idle_.size()), .size = size_, .waiting = waiting_};
}

}  // namespace firmo::store::sql
