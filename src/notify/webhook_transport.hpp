#pragma once
// Webhook delivery: POSTs an outbox message's body, as is, to the endpoint's URL with libcurl,
// signed with the endpoint's secret (docs/WEBHOOKS.md is the receiver's side of the contract).
// Blocking (network, up to the timeout): never call it on an I/O thread. Thread-safe: every
// Deliver uses its own connection and touches no shared state.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "domain/ports/delivery.hpp"

namespace firmo::notify {

struct WebhookOptions {
    // The whole exchange, connect included.
    std::chrono::milliseconds timeout{10000};
    // Whether a destination may resolve to a loopback, private, link-local (cloud metadata,
    // 169.254.169.254), shared (CGNAT), multicast or reserved address. Off by default: where
    // issuers configure their own endpoints, an issuer could otherwise make Firmo probe the
    // internal network (server-side request forgery). The check is on the address actually
    // connected to, after DNS resolution, so no spelling of an address (127.1, 2130706433,
    // 0x7f000001, 0177.0.0.1, [::ffff:127.0.0.1], 0.0.0.0 ...) and no host name that
    // resolves to one can smuggle it in. Turn it on only when every issuer may reach the
    // node's network (a single-tenant node calling a receiver beside it).
    bool allow_private_addresses = false;
};

// What the issuer's delivery log keeps of an answer with HTTP status `status`: "HTTP 204",
// plus ": " and a bounded, sanitised start of the body (200 bytes at most, control characters
// as spaces, invalid UTF-8 as '?') when the endpoint is at a public address. For a private
// address (allowed by allow_private_addresses) only a 2xx status is told; any other answer
// gets the same text as a failed connection, so the log cannot map the internal network.
[[nodiscard]] std::string WebhookAnswerText(long status, std::string_view body,
                                            bool public_address);

// The one error text an issuer sees for a call that failed without a usable answer: no
// connection (refused, unreachable, DNS), no answer in time, TLS, or (private address) an
// answer outside 2xx. It does not tell an open port from a closed one; the operator's log
// (event webhook_failed) has the details.
inline constexpr std::string_view kWebhookNotAccepted =
    "the endpoint did not accept the call (no connection, no answer in time, or an answer "
    "outside 2xx)";

// "v1=" + lowercase hex HMAC-SHA256(secret, "<unix_seconds>.<body>"): the Firmo-Signature
// header value.
[[nodiscard]] std::string WebhookSignature(std::string_view secret, std::int64_t unix_seconds,
                                           std::string_view body);

// True for an IPv4 or IPv6 literal in a range that WebhookOptions::allow_private_addresses
// = false refuses (IPv4-mapped IPv6 addresses are judged by their IPv4 part); false for a
// public address and for text that is not an IP literal.
[[nodiscard]] bool IsPrivateAddress(std::string_view ip_literal);

class WebhookTransport final : public domain::DeliveryTransport {
  public:
    // kInvalidArgument for a non-positive timeout. `clock` (the Firmo-Timestamp header) must
    // outlive the transport.
    [[nodiscard]] static Result<std::unique_ptr<WebhookTransport>> Create(WebhookOptions options,
                                                                          const Clock& clock);

    // One POST of message.payload_json to message.destination, with the headers
    // Content-Type, User-Agent, Firmo-Event-Id, Firmo-Event-Type (template_name),
    // Firmo-Timestamp and Firmo-Signature. A 2xx answer is delivered (response:
    // WebhookAnswerText). Any other status (redirects are not followed), a timeout or a
    // connection failure is kUnavailable (the caller retries), with WebhookAnswerText for a
    // public endpoint's answer and kWebhookNotAccepted otherwise; the details go to the log.
    // kInvalidArgument (retrying cannot help): not a webhook message, an empty secret, a
    // destination that is not an http:// or https:// URL or that carries a user name or
    // password, a line break in a header value, or a destination refused by
    // allow_private_addresses = false.
    [[nodiscard]] Result<domain::DeliveryOutcome> Deliver(
        const domain::OutboxMessage& message) override;

  private:
    WebhookTransport(WebhookOptions options, const Clock& clock);

    const WebhookOptions options_;
    const Clock& clock_;
};

}  // namespace firmo::notify
