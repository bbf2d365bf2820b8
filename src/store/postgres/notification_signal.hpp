#pragma once
// A domain::ChangeSignal for processes that share a PostgreSQL database but no host: a
// dedicated connection LISTENs on a channel, and a thread moves the counter forward for every
// notification that arrives on it. What announces: a trigger on the watched table (migration 8
// puts one on api_keys), which NOTIFYs from inside the changing transaction, so the
// notification is sent when, and only if, that transaction commits, whoever changed the row
// (this binary, another node, the CLI, an operator's UPDATE).
//
// The counter is vouched for only while the connection is known to be listening. The thread
// runs a heartbeat query on it (`heartbeat`); when the connection breaks, or a heartbeat gets
// no answer within `answer_within`, it reconnects with backoff. Until it listens again,
// Current() answers kUnknown, and so it does as soon as the last answer heard is older than
// heartbeat + answer_within, even if the thread itself has not noticed yet. Every new
// LISTEN moves the counter forward, since notifications sent while nobody listened are lost.
// So a change committed at time T is seen by this process at T + the notification's delivery
// (one trip from the server to this process and the thread's wake-up), or, if the connection
// silently stalls, this process stops trusting the counter at most heartbeat + answer_within
// after the last answer it had. docs/OPERATIONS.md states the bound for API keys.
//
// Thread-safe. The thread stops (and the connection closes) when the object goes away.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "domain/ports/change_signal.hpp"

namespace firmo::store::postgres {

struct NotificationSignalOptions {
    std::string channel = "firmo_api_keys";
    std::chrono::milliseconds heartbeat{1000};
    std::chrono::milliseconds answer_within{2000};
    std::chrono::milliseconds first_backoff{100};
    std::chrono::milliseconds max_backoff{5000};
    // How the listening connection shows in pg_stat_activity; it must start with
    // listener_prefix, by which Announce() counts the processes that must confirm.
    std::string application_name = "firmo-listener";
    std::string listener_prefix = "firmo-listener";
    // The log events' prefix: `<prefix>_listener_lost`, `<prefix>_listening_again`.
    std::string log_prefix = "key_signal";
};

class NotificationSignal final : public domain::ChangeSignal {
  public:
    // Starts listening in the background on the database named by `url` (a libpq URI or
    // key=value string); Current() is kUnknown until the first LISTEN has succeeded.
    static std::unique_ptr<NotificationSignal> Start(std::string url,
                                                     NotificationSignalOptions options = {});
    ~NotificationSignal() override;

    std::uint64_t Current() const override;
    // This process's counter moves at once; other processes learn of the change from the
    // trigger's notification, which the change's transaction sent. Then it waits (at most
    // heartbeat + answer_within) until every listening process confirms it has seen every
    // change committed so far: it NOTIFYs a ping, which each listener answers after the
    // notifications before it (they arrive in commit order). So when Announce() returns, no
    // process still trusts a cache entry the change made stale: one that did not answer in
    // time no longer trusts its counter by then.
    void Announce() override;
    // Only this process's counter: the others hear the trigger's notification.
    void MoveLocally() override;
    // The ping and its answers; how many listeners answered (-1: could not ask).
    int Confirm() const;

    // Until the connection listens (Current() is no longer kUnknown) or `timeout` passes.
    bool WaitListening(std::chrono::milliseconds timeout) const;
    // How many times a LISTEN succeeded (the first connection, then each reconnection).
    std::uint64_t connections() const { return connections_.load(); }

  private:
    NotificationSignal(std::string url, NotificationSignalOptions options);
    void Run();
    // One connection's life: connects, listens, serves notifications and heartbeats until the
    // connection fails or the signal stops; returns whether it ever listened.
    bool Session();
    bool Sleep(std::chrono::milliseconds d);  // false when stopping

    const std::string url_;
    const NotificationSignalOptions options_;
    std::atomic<std::uint64_t> counter_{1};
    // steady_clock time (ns) of the last answer on a listening connection; 0: not listening.
    std::atomic<std::int64_t> heard_at_{0};
    std::atomic<std::uint64_t> connections_{0};
    std::atomic<bool> stop_{false};
    int wake_fd_ = -1;  // an eventfd that interrupts the thread's waits
    std::thread thread_;
};

}  // namespace firmo::store::postgres
