#pragma once
// PostgreSQL schema migrations (the SQLite adapter's, version for version), in order. A migration
// is never edited once released: add one.

#include <span>

#include "store/sql/migrate.hpp"

namespace firmo::store::postgres {

std::span<const sql::Migration> Migrations();

}  // namespace firmo::store::postgres
