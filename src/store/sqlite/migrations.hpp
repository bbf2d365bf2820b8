#pragma once
// SQLite schema migrations, in order. A migration is never edited once released: add one.

#include <span>

#include "store/sql/migrate.hpp"

namespace firmo::store::sqlite {

std::span<const sql::Migration> Migrations();

}  // namespace firmo::store::sqlite
