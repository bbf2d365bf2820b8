#pragma once
// Port: the answers of POSTs kept under the client's Idempotency-Key (see IdempotencyService),
// one record per issuer and key.

#include <cstdint>
#include <optional>
#include <string>

#include "core/error.hpp"
#include "domain/model.hpp"

namespace firmo::domain {

class IdempotencyRepository {
  public:
    virtual ~IdempotencyRepository() = default;
    IdempotencyRepository() = default;
    IdempotencyRepository(const IdempotencyRepository&) = delete;
    IdempotencyRepository& operator=(const IdempotencyRepository&) = delete;

    // Inserts `fresh` unless a record younger than `stale_before` exists, which it returns
    // instead (an older one is replaced by `fresh`). In a write transaction the record stays
    // locked until the transaction ends; a concurrent claim of the same key waits for it (where
    // the store has row locks) and then finds the record it committed, or claims the key when
    // it rolled back.
    [[nodiscard]] virtual Result<std::optional<IdempotencyRecord>> Claim(
        const IdempotencyRecord& fresh, Timestamp stale_before) = 0;
    // Records the answer (status, body, location) of a claimed key.
    [[nodiscard]] virtual Result<void> Complete(const IdempotencyRecord& done) = 0;
    [[nodiscard]] virtual Result<void> Release(const std::string& issuer_id,
                                               const std::string& key) = 0;
    // Deletes the records created before `before`; returns how many went.
    [[nodiscard]] virtual Result<std::int64_t> Purge(Timestamp before) = 0;
};

}  // namespace firmo::domain
