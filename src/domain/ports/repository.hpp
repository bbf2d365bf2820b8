#pragma once
// Port: the relational store of every entity. A Transaction is one database transaction;
// destroying it without Commit() rolls back. Every read and write of issuer-owned objects is
// scoped by issuer id, so one issuer can never reach another's rows. Implemented by
// store/sqlite (embedded default) and store/postgres; one contract suite tests both.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "domain/model.hpp"
#include "domain/ports/delivery.hpp"

namespace firmo::domain {

class Transaction {
  public:
    virtual ~Transaction() = default;
    Transaction() = default;
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;

    // Issuers and API keys.
    [[nodiscard]] virtual Result<void> InsertIssuer(const Issuer& issuer) = 0;
    [[nodiscard]] virtual Result<std::optional<Issuer>> FindIssuer(const std::string& id) = 0;
    [[nodiscard]] virtual Result<std::int64_t> CountIssuers() = 0;
    [[nodiscard]] virtual Result<void> InsertApiKey(const ApiKey& key) = 0;
    [[nodiscard]] virtual Result<std::optional<ApiKey>> FindApiKeyByHash(
        const std::string& key_hash) = 0;
    // False when no such key (or already revoked).
    [[nodiscard]] virtual Result<bool> RevokeApiKey(const std::string& key_id, Timestamp at) = 0;

    // Dossiers.
    [[nodiscard]] virtual Result<void> InsertDossier(const Dossier& dossier) = 0;
    [[nodiscard]] virtual Result<std::optional<Dossier>> FindDossier(const std::string& issuer_id,
                                                                     const std::string& id) = 0;
    [[nodiscard]] virtual Result<Page<Dossier>> ListDossiers(const std::string& issuer_id,
                                                             const PageQuery& page) = 0;

    // Signers.
    [[nodiscard]] virtual Result<void> InsertSigner(const Signer& signer) = 0;
    [[nodiscard]] virtual Result<void> UpdateSignerContact(const Signer& signer) = 0;
    [[nodiscard]] virtual Result<std::optional<Signer>> FindSigner(const std::string& issuer_id,
                                                                   const std::string& id) = 0;
    [[nodiscard]] virtual Result<std::optional<Signer>> FindSignerByIdentifier(
        const std::string& issuer_id, IdentifierKind kind, const std::string& identifier) = 0;

    // Signature requests, with their signers and documents.
    [[nodiscard]] virtual Result<void> InsertRequest(const SignatureRequest& request) = 0;
    // Writes the request's status fields, every signer and every document.
    [[nodiscard]] virtual Result<void> UpdateRequest(const SignatureRequest& request) = 0;
    [[nodiscard]] virtual Result<std::optional<SignatureRequest>> FindRequest(
        const std::string& issuer_id, const std::string& id) = 0;
    [[nodiscard]] virtual Result<Page<SignatureRequest>> ListRequests(const std::string& issuer_id,
                                                                      const RequestFilter& filter,
                                                                      const PageQuery& page) = 0;
    // (issuer id, request id) of non-terminal requests whose expires_at is before `now`.
    [[nodiscard]] virtual Result<std::vector<std::pair<std::string, std::string>>> ListExpired(
        Timestamp now, int limit) = 0;

    // The signer side reaches a request by its id alone; the services then check that the
    // session's person or signer is on it. Never used by the issuer API.
    [[nodiscard]] virtual Result<std::optional<SignatureRequest>> FindRequestForSigner(
        const std::string& id) = 0;

    // Signer-side sessions, one-time codes, capability tokens and inbox messages.
    [[nodiscard]] virtual Result<void> InsertSession(const PortalSession& session) = 0;
    [[nodiscard]] virtual Result<std::optional<PortalSession>> FindSession(
        const std::string& id_hash) = 0;
    [[nodiscard]] virtual Result<void> UpdateSession(const PortalSession& session) = 0;
    [[nodiscard]] virtual Result<void> DeleteSession(const std::string& id_hash) = 0;
    [[nodiscard]] virtual Result<void> InsertCode(const OneTimeCode& code) = 0;
    // The newest unused code of that kind for the signer, if any.
    [[nodiscard]] virtual Result<std::optional<OneTimeCode>> FindLatestCode(
        const std::string& request_id, const std::string& signer_id, CodeKind kind) = 0;
    // False when the code was used already (a concurrent use won).
    [[nodiscard]] virtual Result<bool> UseCode(const std::string& id, Timestamp at) = 0;
    [[nodiscard]] virtual Result<void> InsertSignerToken(const SignerToken& token) = 0;
    [[nodiscard]] virtual Result<std::optional<SignerToken>> FindSignerToken(
        const std::string& token_hash) = 0;
    // False when the token was used already.
    [[nodiscard]] virtual Result<bool> UseSignerToken(const std::string& token_hash,
                                                      Timestamp at) = 0;
    // Marks every unused token of that kind for the signer used (a fresh one replaces them).
    [[nodiscard]] virtual Result<void> RevokeSignerTokens(const std::string& request_id,
                                                          const std::string& signer_id,
                                                          SignerTokenKind kind, Timestamp at) = 0;
    [[nodiscard]] virtual Result<void> InsertMessage(const InboxMessage& message) = 0;
    [[nodiscard]] virtual Result<Page<InboxMessage>> ListMessages(IdentifierKind kind,
                                                                  const std::string& identity,
                                                                  const PageQuery& page) = 0;
    [[nodiscard]] virtual Result<bool> HasMessage(const std::string& request_id,
                                                  const std::string& signer_id,
                                                  MessageKind kind) = 0;

    // Outbox: messages to deliver, written with the change that causes them. Insert ignores a
    // duplicate (same event, channel and destination) and says whether it inserted.
    [[nodiscard]] virtual Result<bool> InsertOutbox(const OutboxMessage& message) = 0;
    // The oldest due undelivered message whose lease is free, leased until now + lease.
    [[nodiscard]] virtual Result<std::optional<OutboxMessage>> ClaimOutbox(
        Timestamp now, std::chrono::milliseconds lease) = 0;
    // Records an attempt: delivered (at), deferred or failed (next attempt at), or abandoned.
    [[nodiscard]] virtual Result<void> UpdateOutbox(const OutboxMessage& message) = 0;
    [[nodiscard]] virtual Result<std::optional<OutboxMessage>> FindOutbox(
        const std::string& issuer_id, std::int64_t id) = 0;
    // An issuer's messages of one channel, newest first (after_id: a decimal id).
    [[nodiscard]] virtual Result<Page<OutboxMessage>> ListOutbox(const std::string& issuer_id,
                                                                 Channel channel,
                                                                 const PageQuery& page) = 0;

    // Webhook endpoints.
    [[nodiscard]] virtual Result<void> InsertWebhook(const WebhookEndpoint& endpoint) = 0;
    [[nodiscard]] virtual Result<std::vector<WebhookEndpoint>> ListWebhooks(
        const std::string& issuer_id) = 0;
    [[nodiscard]] virtual Result<bool> DeleteWebhook(const std::string& issuer_id,
                                                     const std::string& id) = 0;

    // Polling queue.
    [[nodiscard]] virtual Result<void> InsertStatusChange(const StatusChange& change) = 0;
    // The oldest unconfirmed change visible at `now`.
    [[nodiscard]] virtual Result<std::optional<StatusChange>> NextStatusChange(
        const std::string& issuer_id, Timestamp now) = 0;
    [[nodiscard]] virtual Result<void> HideStatusChange(std::int64_t seq, Timestamp until) = 0;
    // False when there is no such unconfirmed change of this issuer.
    [[nodiscard]] virtual Result<bool> ConfirmStatusChange(const std::string& issuer_id,
                                                           std::int64_t seq, Timestamp at) = 0;
    // When the issuer may poll next (absent: any time).
    [[nodiscard]] virtual Result<std::optional<Timestamp>> NextPollAt(
        const std::string& issuer_id) = 0;
    [[nodiscard]] virtual Result<void> SetNextPollAt(const std::string& issuer_id,
                                                     Timestamp at) = 0;
    // (issuer id, request id) of notified, live requests expiring before `before`: reminders.
    [[nodiscard]] virtual Result<std::vector<std::pair<std::string, std::string>>> ListRemindable(
        Timestamp before, int limit) = 0;

    // Audit log.
    [[nodiscard]] virtual Result<void> AppendEvent(const AuditEvent& event) = 0;
    [[nodiscard]] virtual Result<std::vector<AuditEvent>> ListEvents(
        const std::string& request_id) = 0;

    // Background jobs.
    [[nodiscard]] virtual Result<std::int64_t> EnqueueJob(const Job& job) = 0;
    // The oldest due job whose lease is free, leased to `worker` until now + lease.
    [[nodiscard]] virtual Result<std::optional<Job>> ClaimJob(Timestamp now,
                                                              std::chrono::milliseconds lease,
                                                              const std::string& worker) = 0;
    // Finishing a claimed job is fenced by its lease: these change the job only while `job`
    // (as claimed: same worker, same attempt) still holds it, and answer false otherwise (the
    // lease ran out and another worker took the job over).
    [[nodiscard]] virtual Result<bool> CompleteJob(const Job& job) = 0;
    [[nodiscard]] virtual Result<bool> RetryJob(const Job& job, Timestamp run_at,
                                                const std::string& error) = 0;
    // Runs the job again at `run_at` without counting this run as an attempt (a poll that
    // found nothing to do yet is not a failure).
    [[nodiscard]] virtual Result<bool> RescheduleJob(const Job& job, Timestamp run_at) = 0;
    // The unfinished job of `kind` for one document (the newest), if any.
    [[nodiscard]] virtual Result<std::optional<Job>> FindOpenJob(
        JobKind kind, const std::string& request_id, const std::string& document_id) = 0;
    [[nodiscard]] virtual Result<void> ExtendJob(std::int64_t job_id, Timestamp not_after) = 0;

    // Idempotency keys. Claim inserts `fresh` (status 0) unless a record younger than
    // `stale_before` exists, which it returns instead (an older one is replaced).
    [[nodiscard]] virtual Result<std::optional<IdempotencyRecord>> ClaimIdempotencyKey(
        const IdempotencyRecord& fresh, Timestamp stale_before) = 0;
    [[nodiscard]] virtual Result<void> CompleteIdempotencyKey(const IdempotencyRecord& done) = 0;
    [[nodiscard]] virtual Result<void> ReleaseIdempotencyKey(const std::string& issuer_id,
                                                             const std::string& key) = 0;

    // Housekeeping: idempotency records created before `idempotency_before` and finished jobs
    // due before `jobs_before` are deleted; returns how many rows went.
    [[nodiscard]] virtual Result<std::int64_t> Purge(Timestamp idempotency_before,
                                                     Timestamp jobs_before) = 0;
    // Deletes sessions, codes and signer tokens that expired before `now`.
    [[nodiscard]] virtual Result<std::int64_t> PurgeSignerSide(Timestamp now) = 0;

    // API rate limits (see RateLimitService), one row per bucket and window length: another
    // window length counts apart. Counts one call in the fixed window of length `window`
    // starting at `window_start` and returns the row's counts, this call included. The row
    // rolls over to a new window (its calls become previous_calls when the windows are
    // adjacent, else 0); a call for a window older than the stored one (a node whose clock is
    // behind) counts in the stored window. One atomic statement: concurrent calls lose no
    // increments; made for TxMode::kSingleWrite.
    [[nodiscard]] virtual Result<RateLimitCount> CountRateLimitHit(
        const std::string& bucket, Timestamp window_start, std::chrono::milliseconds window) = 0;
    // Deletes the buckets that count nothing at `now` any more (their latest window ended at
    // least a window ago); returns how many went.
    [[nodiscard]] virtual Result<std::int64_t> PurgeRateLimits(Timestamp now) = 0;

    // Node-wide settings (e.g. the URL-signing secret), shared by every node.
    [[nodiscard]] virtual Result<std::optional<std::string>> GetSetting(const std::string& key) = 0;
    // Inserts unless present; returns the value now stored.
    [[nodiscard]] virtual Result<std::string> PutSettingIfAbsent(const std::string& key,
                                                                 const std::string& value) = 0;

    [[nodiscard]] virtual Result<void> Commit() = 0;
};

enum class TxMode {
    kRead,    // a consistent snapshot across several reads
    kWrite,   // serialised with every other write
    kSingle,  // no transaction: one statement, atomic on its own (cheapest; for hot lookups)
    // No transaction either, for one statement that writes (a hot counter): one round trip on
    // PostgreSQL; SQLite still queues it behind this process's other writers, as kWrite does.
    kSingleWrite,
};

class Database {
  public:
    virtual ~Database() = default;
    Database() = default;
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    [[nodiscard]] virtual Result<std::unique_ptr<Transaction>> Begin(TxMode mode) = 0;
    // Applies pending schema migrations; idempotent.
    [[nodiscard]] virtual Result<int> Migrate() = 0;
    // A cheap round trip, for /readyz.
    [[nodiscard]] virtual Result<void> Ping() = 0;
};

}  // namespace firmo::domain
