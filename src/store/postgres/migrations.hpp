#pragma once
// PostgreSQL schema migrations (the SQLite adapter's, version for version), in order. A migration
// is never edited once released: add one.

#include <span>

namespace firmo::store::postgres {

struct Migration {
    int version;
    const char* name;
    const char* sql;
};

std::span<const Migration> Migrations();

}  // namespace firmo::store::postgres
