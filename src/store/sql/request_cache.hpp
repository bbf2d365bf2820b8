#pragma once
// RequestCache: this process's read copies of signature-request aggregates (the request with
// its signers and documents), each with the `version` it was read at. A read outside a write
// transaction asks the database only for the current version (one narrow indexed read) and,
// when it matches, hands back the copy instead of reading the three tables again; otherwise it
// reads the aggregate and keeps it. A copy of version V is what was committed at V: every change
// to the aggregate goes through one UPDATE of the request row that counts the version, under its
// row lock (PostgreSQL) or the single writer (SQLite), and only committed reads fill the cache
// (never a write transaction, whose own rows may yet roll back). So several nodes on one database
// each keep their own copies and none serves a stale one.
//
// With a change signal, a copy checked while the signal read S is handed back without asking
// the database at all as long as the signal still reads S: any request changed since, by any
// process, has moved it. PostgreSQL: a trigger on signature_requests NOTIFYs every UPDATE and
// DELETE when its transaction commits (store/postgres/notification_signal.hpp); this process's
// own writes move its counter at their commit, before the writer answers. So on one node a read
// sees every committed change, as before; a change committed on another node is seen once its
// notification has arrived (one trip from the server), and while the signal cannot vouch for
// itself (its connection down or silent) every read checks the version again. SQLite: a counter
// file beside the database (store/filesystem/shared_counter.hpp) that every process on the file
// marks before it commits a change to a request and moves after it; while a change is marked
// the signal is unknown and every read checks the version, so a read in any process sees every
// change committed before it began, at once.

#include <atomic>
#include <cstdint>
#include <memory>

#include "core/immutable_cache.hpp"
#include "domain/model.hpp"
#include "domain/ports/change_signal.hpp"

namespace firmo::store::sql {

struct CachedRequest {
    std::int64_t version = 0;
    domain::SignatureRequest request;
    // The change signal's reading when the version was last checked against the database
    // (ChangeSignal::kUnknown: never); the one part of an entry that changes.
    mutable std::atomic<std::uint64_t> checked_at{domain::ChangeSignal::kUnknown};
};

// Keyed by request id; an entry itself never changes (a newer version replaces it).
using RequestCache = ImmutableCache<std::shared_ptr<const CachedRequest>>;

}  // namespace firmo::store::sql
