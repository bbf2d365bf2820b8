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

#include <cstdint>
#include <memory>

#include "core/immutable_cache.hpp"
#include "domain/model.hpp"

namespace firmo::store::sql {

struct CachedRequest {
    std::int64_t version = 0;
    domain::SignatureRequest request;
};

// Keyed by request id; an entry itself never changes (a newer version replaces it).
using RequestCache = ImmutableCache<std::shared_ptr<const CachedRequest>>;

}  // namespace firmo::store::sql
