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
    // 169.254.169.254), shared (CGNAT), multicast or reserved address. On by default so a
    // self-hosted Firmo can call a receiver on its own network; a deployment where issuers
    // configure their own endpoints should turn it off, or an issuer could make Firmo probe
    // the internal network (server-side request forgery). The check is on the address
    // actually connected to, after DNS resolution, so a host name cannot smuggle one in.
    bool allow_private_addresses = true;
};

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
    // Firmo-Timestamp and Firmo-Signature. A 2xx answer is delivered (response: "HTTP 204",
    // plus ": " and the start of the body when there is one). Any other status (redirects are
    // not followed), a timeout or a connection failure is kUnavailable (the caller retries).
    // kInvalidArgument (retrying cannot help): not a webhook message, an empty secret, a
    // destination that is not an http:// or https:// URL, a line break in a header value, or
    // a destination refused by allow_private_addresses = false.
    [[nodiscard]] Result<domain::DeliveryOutcome> Deliver(
        const domain::OutboxMessage& message) override;

  private:
    WebhookTransport(WebhookOptions options, const Clock& clock);

    const WebhookOptions options_;
    const Clock& clock_;
};

}  // namespace firmo::notify
