#pragma once
// Ports of the signer side: portal sessions, one-time codes, one-time capability tokens and
// inbox messages. Sessions, codes and tokens are stored hashed and expire; the sweep deletes
// them once expired (PurgeExpired).

#include <cstdint>
#include <optional>
#include <string>

#include "core/error.hpp"
#include "domain/model.hpp"

namespace firmo::domain {

class SessionRepository {
  public:
    virtual ~SessionRepository() = default;
    SessionRepository() = default;
    SessionRepository(const SessionRepository&) = delete;
    SessionRepository& operator=(const SessionRepository&) = delete;

    [[nodiscard]] virtual Result<void> Insert(const PortalSession& session) = 0;
    // In a write transaction the session stays locked until it ends (where the store has row
    // locks).
    [[nodiscard]] virtual Result<std::optional<PortalSession>> Find(const std::string& id_hash) = 0;
    // Every field but id_hash and created_at (which name the session); kNotFound when gone.
    [[nodiscard]] virtual Result<void> Update(const PortalSession& session) = 0;
    [[nodiscard]] virtual Result<void> Delete(const std::string& id_hash) = 0;
    // Deletes the sessions that expired before `now`; returns how many went.
    [[nodiscard]] virtual Result<std::int64_t> PurgeExpired(Timestamp now) = 0;
};

class CodeRepository {
  public:
    virtual ~CodeRepository() = default;
    CodeRepository() = default;
    CodeRepository(const CodeRepository&) = delete;
    CodeRepository& operator=(const CodeRepository&) = delete;

    [[nodiscard]] virtual Result<void> Insert(const OneTimeCode& code) = 0;
    // The newest unused code of that kind for the signer (ids increase), if any.
    [[nodiscard]] virtual Result<std::optional<OneTimeCode>> FindLatest(
        const std::string& request_id, const std::string& signer_id, CodeKind kind) = 0;
    // False when the code was used already (a concurrent use won).
    [[nodiscard]] virtual Result<bool> Use(const std::string& id, Timestamp at) = 0;
    [[nodiscard]] virtual Result<std::int64_t> PurgeExpired(Timestamp now) = 0;
};

class SignerTokenRepository {
  public:
    virtual ~SignerTokenRepository() = default;
    SignerTokenRepository() = default;
    SignerTokenRepository(const SignerTokenRepository&) = delete;
    SignerTokenRepository& operator=(const SignerTokenRepository&) = delete;

    [[nodiscard]] virtual Result<void> Insert(const SignerToken& token) = 0;
    [[nodiscard]] virtual Result<std::optional<SignerToken>> Find(
        const std::string& token_hash) = 0;
    // False when the token was used already.
    [[nodiscard]] virtual Result<bool> Use(const std::string& token_hash, Timestamp at) = 0;
    // Marks every unused token of that kind for the signer used (a fresh one replaces them).
    [[nodiscard]] virtual Result<void> Revoke(const std::string& request_id,
                                              const std::string& signer_id, SignerTokenKind kind,
                                              Timestamp at) = 0;
    [[nodiscard]] virtual Result<std::int64_t> PurgeExpired(Timestamp now) = 0;
};

class InboxRepository {
  public:
    virtual ~InboxRepository() = default;
    InboxRepository() = default;
    InboxRepository(const InboxRepository&) = delete;
    InboxRepository& operator=(const InboxRepository&) = delete;

    // kAlreadyExists when the signer of that request has a message of that kind already.
    [[nodiscard]] virtual Result<void> Insert(const InboxMessage& message) = 0;
    // One identity's messages, newest first.
    [[nodiscard]] virtual Result<Page<InboxMessage>> List(IdentifierKind kind,
                                                          const std::string& identity,
                                                          const PageQuery& page) = 0;
    [[nodiscard]] virtual Result<bool> Has(const std::string& request_id,
                                           const std::string& signer_id, MessageKind kind) = 0;
};

}  // namespace firmo::domain
