#pragma once
// What issuers learn and how: webhook endpoints (configured per issuer, each with its own
// signing secret), the delivery of the outbox (e-mail, SMS, webhooks; retried with exponential
// backoff, webhooks for more than 24 hours; a log per issuer; manual redelivery), and the
// polling queue for issuers that cannot receive webhooks (one change at a time, served again
// until confirmed, with a next-permitted-poll time). Delivery is fair between issuers (the
// outbox claims round robin), fails fast for webhook endpoints that keep failing (a circuit
// breaker per endpoint), and sends nothing that asks a signer to act once the request is final.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "core/metrics.hpp"
#include "domain/ports/delivery.hpp"
#include "domain/services/circuit_breaker.hpp"
#include "domain/services/context.hpp"

namespace firmo::domain {

struct EventOptions {
    std::chrono::milliseconds retry_base{30'000};  // first retry; doubles each time
    std::chrono::milliseconds retry_max{2 * 3600 * 1000};
    int max_webhook_attempts = 22;  // defaults: the last attempt about 28 hours after the first
    int max_message_attempts = 10;  // e-mail and SMS
    std::chrono::milliseconds lease{60'000};
    std::chrono::seconds poll_redeliver_after{600};         // an unconfirmed change comes back
    std::chrono::milliseconds poll_empty_interval{10'000};  // next poll after an empty queue
    std::size_t max_webhooks_per_issuer = 10;
    BreakerOptions breaker{};  // per webhook endpoint
    // firmo_webhook_circuits_open, firmo_webhook_circuit_transitions_total{to},
    // firmo_webhook_calls_held_total, firmo_outbox_withdrawn_total; null: none.
    metrics::Registry* metrics = nullptr;
};

// Whether a message may still go out once its request is final (signed, rejected, cancelled,
// expired, failed): webhooks (they report what happened, in order) and the messages that
// announce the end ("signed_documents", "expired", "cancelled"); not an invitation to sign or a
// reminder.
[[nodiscard]] bool AnnouncesTheEnd(const OutboxMessage& message);

// The outbox's last_error of a test request's e-mail or SMS, which is recorded (abandoned at
// once, never attempted) and not sent: what the delivery logs show.
inline constexpr std::string_view kNotSentTest = "not sent: test request";

struct NewWebhook {
    std::string url;
    std::vector<std::string> events;  // empty: every event
};

// The event types an endpoint may subscribe to.
inline constexpr std::string_view kEventTypes[] = {"signature_request.ready",
                                                   "signature_request.signed",
                                                   "signature_request.rejected",
                                                   "signature_request.cancelled",
                                                   "signature_request.expired",
                                                   "signature_request.failed",
                                                   "signature_request.updated",
                                                   "signer.signed",
                                                   "signer.rejected",
                                                   "signer.blocked",
                                                   "document.rejected",
                                                   "signature_request.documents_deleted"};

struct PollResult {
    std::optional<StatusChange> change;  // none: the queue is empty
    Timestamp next_poll_at;
};

class EventService {
  public:
    EventService(ServiceContext& ctx, DeliveryTransport* transport, EventOptions options);

    [[nodiscard]] Result<WebhookEndpoint> AddWebhook(const std::string& issuer_id,
                                                     const NewWebhook& input);
    [[nodiscard]] Result<std::vector<WebhookEndpoint>> Webhooks(const std::string& issuer_id);
    [[nodiscard]] Result<void> RemoveWebhook(const std::string& issuer_id, const std::string& id);
    [[nodiscard]] Result<Page<OutboxMessage>> Deliveries(const std::string& issuer_id,
                                                         Channel channel, PageQuery page);
    // Queues a delivered or abandoned message again (the same event id: receivers deduplicate).
    // `test`: a key's mode, which redelivers only messages of its mode's requests (none: any).
    [[nodiscard]] Result<OutboxMessage> Redeliver(const std::string& issuer_id, std::int64_t id,
                                                  std::optional<bool> test = std::nullopt);

    // The next change of one polling queue ("": the default queue; each queue has its own
    // permitted time). kRateLimited (with the time in the message) when polled before the
    // permitted time; kInvalidArgument for a queue name CheckPollingQueue refuses.
    // `test`: a test key's poll, which reaches only test requests' changes (StoredPollingQueue).
    [[nodiscard]] Result<PollResult> Poll(const std::string& issuer_id,
                                          const std::string& queue = "", bool test = false);
    // `test`: a key's mode, which confirms only changes of its mode's queues (none: any).
    [[nodiscard]] Result<void> Confirm(const std::string& issuer_id, std::int64_t seq,
                                       std::optional<bool> test = std::nullopt);
    // The permitted time of a refused poll (for Retry-After), when known.
    [[nodiscard]] Result<std::optional<Timestamp>> NextPollAt(const std::string& issuer_id,
                                                              const std::string& queue = "",
                                                              bool test = false);

    // Worker: delivers one due message; false when nothing is due. The message is claimed
    // round robin over issuers and, in the same transaction, withdrawn (abandoned, not sent)
    // when its request is final and it does not announce the end. A webhook to an endpoint
    // whose circuit is open fails at once, without a call (an attempt like any other).
    [[nodiscard]] Result<bool> DeliverOne();

    // This node's view of an endpoint (for tests and the operator).
    [[nodiscard]] CircuitState Circuit(const std::string& endpoint_id) const {
        return breakers_.StateOf(endpoint_id);
    }

  private:
    // The transport's answer, or an open circuit's refusal; records the call in the breaker.
    Result<DeliveryOutcome> CallWebhook(OutboxMessage& m, Timestamp now,
                                        std::optional<Timestamp>& hold_until);
    void CircuitChanged(const OutboxMessage& m, std::optional<CircuitState> to, Timestamp now);

    ServiceContext& ctx_;
    DeliveryTransport* transport_;
    EventOptions options_;
    CircuitBreakers breakers_;
    metrics::Family<metrics::Counter>* transitions_ = nullptr;
    metrics::Counter* held_ = nullptr;
    metrics::Counter* withdrawn_ = nullptr;
    metrics::Family<metrics::Counter>* test_messages_ = nullptr;
};

}  // namespace firmo::domain
