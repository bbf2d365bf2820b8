#pragma once
// Port: issuers and their API keys. Keys are stored hashed and found by that hash (the API
// key check of every call); a revoked key is found with its revoked_at set.

#include <cstdint>
#include <optional>
#include <string>

#include "core/error.hpp"
#include "domain/model.hpp"

namespace firmo::domain {

class IssuerRepository {
  public:
    virtual ~IssuerRepository() = default;
    IssuerRepository() = default;
    IssuerRepository(const IssuerRepository&) = delete;
    IssuerRepository& operator=(const IssuerRepository&) = delete;

    // kAlreadyExists when the id is taken.
    [[nodiscard]] virtual Result<void> Insert(const Issuer& issuer) = 0;
    [[nodiscard]] virtual Result<std::optional<Issuer>> Find(const std::string& id) = 0;
    [[nodiscard]] virtual Result<std::int64_t> Count() = 0;
    // Writes every member but id and created_at; false when there is no such issuer.
    [[nodiscard]] virtual Result<bool> Update(const Issuer& issuer) = 0;

    // kAlreadyExists when the id or the hash is taken.
    [[nodiscard]] virtual Result<void> InsertKey(const ApiKey& key) = 0;
    [[nodiscard]] virtual Result<std::optional<ApiKey>> FindKeyByHash(
        const std::string& key_hash) = 0;
    // False when no such key (or already revoked).
    [[nodiscard]] virtual Result<bool> RevokeKey(const std::string& key_id, Timestamp at) = 0;
    // An issuer's keys, revoked ones too, newest first.
    [[nodiscard]] virtual Result<std::vector<ApiKey>> ListKeys(const std::string& issuer_id) = 0;
    // Records a call with the key at `at` from `ip`, unless a later one is recorded already
    // (nodes flush in any order); no error for an unknown key.
    [[nodiscard]] virtual Result<void> RecordKeyUse(const std::string& key_id, Timestamp at,
                                                    const std::string& ip) = 0;
};

}  // namespace firmo::domain
