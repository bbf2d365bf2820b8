#pragma once
// Ports of what happens to requests and who hears of it: the audit log, the outbox of
// messages to deliver (e-mail, SMS, webhooks; written in the same transaction as the change
// that causes them), the issuers' webhook endpoints, and the polling queue of status changes.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "domain/model.hpp"
#include "domain/ports/delivery.hpp"

namespace firmo::domain {

class AuditLog {
  public:
    virtual ~AuditLog() = default;
    AuditLog() = default;
    AuditLog(const AuditLog&) = delete;
    AuditLog& operator=(const AuditLog&) = delete;

    // The store assigns seq (increasing); event.seq is ignored.
    [[nodiscard]] virtual Result<void> Append(const AuditEvent& event) = 0;
    // A request's events in seq order.
    [[nodiscard]] virtual Result<std::vector<AuditEvent>> List(const std::string& request_id) = 0;
};

class OutboxRepository {
  public:
    virtual ~OutboxRepository() = default;
    OutboxRepository() = default;
    OutboxRepository(const OutboxRepository&) = delete;
    OutboxRepository& operator=(const OutboxRepository&) = delete;

    // Ignores a duplicate (same event, channel and destination) and says whether it inserted.
    // The store assigns the id; message.id is ignored.
    [[nodiscard]] virtual Result<bool> Insert(const OutboxMessage& message) = 0;
    // The oldest due undelivered message whose lease is free, leased until now + lease. On
    // stores with row locks, concurrent claims skip each other's rows.
    [[nodiscard]] virtual Result<std::optional<OutboxMessage>> Claim(
        Timestamp now, std::chrono::milliseconds lease) = 0;
    // Records an attempt: delivered (at), deferred or failed (next attempt at), or abandoned;
    // frees the lease.
    [[nodiscard]] virtual Result<void> Update(const OutboxMessage& message) = 0;
    [[nodiscard]] virtual Result<std::optional<OutboxMessage>> Find(const std::string& issuer_id,
                                                                    std::int64_t id) = 0;
    // An issuer's messages of one channel, newest first (after_id: a decimal id; another
    // text is kInvalidArgument).
    [[nodiscard]] virtual Result<Page<OutboxMessage>> List(const std::string& issuer_id,
                                                           Channel channel,
                                                           const PageQuery& page) = 0;
    // The messages neither delivered nor abandoned, by channel (in channel order; channels
    // with none are absent), for monitoring: one statement over the undelivered messages
    // alone (an index of them), cheap enough for every scrape.
    [[nodiscard]] virtual Result<std::vector<PendingCount>> Pending() = 0;
};

// Where OutboxRepository::List continues: PageQuery::after_id read as a decimal id, for the
// adapters; kInvalidArgument for any other text.
[[nodiscard]] Result<std::optional<std::int64_t>> OutboxCursor(const PageQuery& page);

class WebhookRepository {
  public:
    virtual ~WebhookRepository() = default;
    WebhookRepository() = default;
    WebhookRepository(const WebhookRepository&) = delete;
    WebhookRepository& operator=(const WebhookRepository&) = delete;

    [[nodiscard]] virtual Result<void> Insert(const WebhookEndpoint& endpoint) = 0;
    // An issuer's endpoints in id order.
    [[nodiscard]] virtual Result<std::vector<WebhookEndpoint>> List(
        const std::string& issuer_id) = 0;
    // False when the issuer has no such endpoint.
    [[nodiscard]] virtual Result<bool> Delete(const std::string& issuer_id,
                                              const std::string& id) = 0;
};

// The polling queue (as Posten signering) and each issuer's next allowed poll.
class StatusChangeRepository {
  public:
    virtual ~StatusChangeRepository() = default;
    StatusChangeRepository() = default;
    StatusChangeRepository(const StatusChangeRepository&) = delete;
    StatusChangeRepository& operator=(const StatusChangeRepository&) = delete;

    // Ignores a second change for the same event id. The store assigns seq.
    [[nodiscard]] virtual Result<void> Insert(const StatusChange& change) = 0;
    // The oldest unconfirmed change of one polling queue ("": the default) visible at `now`
    // (locked in a write transaction where the store has row locks).
    [[nodiscard]] virtual Result<std::optional<StatusChange>> Next(const std::string& issuer_id,
                                                                   const std::string& queue,
                                                                   Timestamp now) = 0;
    [[nodiscard]] virtual Result<void> Hide(std::int64_t seq, Timestamp until) = 0;
    // The stored polling queue of one of the issuer's changes (StoredPollingQueue); none when
    // there is no such change.
    [[nodiscard]] virtual Result<std::optional<std::string>> QueueOf(const std::string& issuer_id,
                                                                     std::int64_t seq) = 0;
    // False when there is no such unconfirmed change of this issuer.
    [[nodiscard]] virtual Result<bool> Confirm(const std::string& issuer_id, std::int64_t seq,
                                               Timestamp at) = 0;
    // When the issuer may poll one queue next (absent: any time).
    [[nodiscard]] virtual Result<std::optional<Timestamp>> NextPollAt(const std::string& issuer_id,
                                                                      const std::string& queue) = 0;
    [[nodiscard]] virtual Result<void> SetNextPollAt(const std::string& issuer_id,
                                                     const std::string& queue, Timestamp at) = 0;
};

}  // namespace firmo::domain
