#pragma once
// Port: a counter shared by every process that serves one database, moved forward whenever
// something that processes cache may have changed (an API key was revoked, a signature request
// changed). A process keeps a cache only while the counter shows the value it had when the
// cache was filled, so a change announced by another process (the CLI's `firmo apikey revoke`,
// another node) empties it before the next lookup.
//
// Implementations: store/filesystem/shared_counter.hpp (a file in the data folder mapped into
// every process on the host: SQLite's case) and store/postgres/notification_signal.hpp
// (PostgreSQL's LISTEN/NOTIFY, for nodes on several hosts). A signal that travels over a
// connection cannot always vouch for the counter (the connection is down, or silent for too
// long): it then answers kUnknown, and nothing cached may be trusted. Thread-safe.

#include <cstdint>

namespace firmo::domain {

class ChangeSignal {
  public:
    virtual ~ChangeSignal() = default;
    ChangeSignal() = default;
    ChangeSignal(const ChangeSignal&) = delete;
    ChangeSignal& operator=(const ChangeSignal&) = delete;

    // Current() while changes may go unseen: trust no cache, and fill none.
    static constexpr std::uint64_t kUnknown = ~std::uint64_t{0};

    // The counter now, or kUnknown. Cheap (a memory read, no I/O): called on every API call.
    virtual std::uint64_t Current() const = 0;
    // Called before a change that will be announced commits (inside its transaction). Where
    // the signal cannot see the database's commits itself (a file shared by the processes of
    // one host), Current() answers kUnknown in every process from now until the matching
    // Announce(), so that no cache is filled or trusted in the moment between the commit and
    // the announcement; a changer that dies in between is announced for by whichever process
    // reads the signal once its mark is older than any transaction lasts. Signals fed by the
    // database itself (a trigger's notification) need none of this: a no-op.
    virtual void WillChange() {}
    // Moves the counter forward for every process; called after the change has committed (or
    // failed), once for each WillChange().
    virtual void Announce() = 0;
    // Moves this process's counter at once, without waiting for the others: for a change the
    // others learn of from the database itself (a trigger's notification), which this process
    // must not wait for before it reads again. Called after the change has committed.
    virtual void MoveLocally() { Announce(); }
};

}  // namespace firmo::domain
