#pragma once
// SQLite schema migrations, in order. A migration is never edited once released: add one.

#include <span>

namespace firmo::store::sqlite {

struct Migration {
    int version;
    const char* name;
    const char* sql;
};

std::span<const Migration> Migrations();

}  // namespace firmo::store::sqlite
