#pragma once
// Port: delivers one outgoing message (e-mail, SMS, webhook call) from the outbox. Messages are
// written to the outbox in the same transaction as the change that causes them; background
// workers hand them to a DeliveryTransport, retry failures with backoff, and mark them
// delivered, so a crash loses nothing and an event reaches an endpoint once (the event id is
// sent along, so a receiver can also recognise a retry after a crash mid-delivery).
// Implemented in src/notify (SMTP e-mail, SMS gateway, webhooks). Blocking (network).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/error.hpp"

namespace firmo::domain {

enum class Channel { kEmail, kSms, kWebhook };
std::string_view ToString(Channel channel);  // "email" | "sms" | "webhook"
std::optional<Channel> ParseChannel(std::string_view text);

struct OutboxMessage {
    std::int64_t id = 0;
    std::string event_id;  // unique per event; (event_id, channel, destination) is unique
    std::string issuer_id;
    std::string request_id;
    Channel channel = Channel::kEmail;
    std::string destination;  // e-mail address, E.164 phone number, or webhook URL
    // E-mail/SMS: the template ("sign_request", "reminder", "signed_documents", "expired",
    // "cancelled").
    // Webhook: the event type ("signature_request.signed", ...).
    std::string template_name;
    std::string language;      // "en" | "it" | "nb" (e-mail/SMS)
    std::string payload_json;  // e-mail/SMS: template parameters; webhook: the body, as sent
    int attempts = 0;
    Timestamp created_at;
    Timestamp next_attempt_at;
    std::optional<Timestamp> delivered_at;
    std::optional<Timestamp> abandoned_at;  // retries exhausted
    std::string last_error;
    std::string last_response;  // e.g. "HTTP 500" / "250 OK", for the delivery log
    std::string endpoint_id;    // webhooks: the configured endpoint
    // Webhooks: the endpoint's signing secret, filled in at delivery time from the endpoint's
    // configuration; never stored in the outbox.
    std::string secret;
};

struct DeliveryOutcome {
    bool delivered = false;
    // Not now, and not a failure: e.g. an SMS during the signer's quiet hours (22:00-08:00).
    std::optional<Timestamp> defer_until;
    std::string response;  // what the other side answered, for the delivery log
};

class DeliveryTransport {
  public:
    virtual ~DeliveryTransport() = default;
    DeliveryTransport() = default;
    DeliveryTransport(const DeliveryTransport&) = delete;
    DeliveryTransport& operator=(const DeliveryTransport&) = delete;

    // An error is a failed attempt (retried with backoff); kInvalidArgument means retrying
    // cannot help (e.g. an unknown template), and the message is abandoned at once.
    [[nodiscard]] virtual Result<DeliveryOutcome> Deliver(const OutboxMessage& message) = 0;
};

}  // namespace firmo::domain
