#pragma once
// Delivery metrics around any DeliveryTransport: firmo_deliveries_total{channel,outcome}
// (delivered, deferred, failed: retried later, rejected: abandoned at once) and
// firmo_delivery_duration_seconds{channel}, the time one attempt took (the webhook endpoint's
// or the mail server's answer included). Thread-safe as the transport it wraps.

#include <array>
#include <memory>

#include "core/metrics.hpp"
#include "domain/ports/delivery.hpp"

namespace firmo::notify {

class MeteredTransport final : public domain::DeliveryTransport {
  public:
    MeteredTransport(std::unique_ptr<domain::DeliveryTransport> inner, metrics::Registry& registry);

    Result<domain::DeliveryOutcome> Deliver(const domain::OutboxMessage& message) override;

  private:
    enum Outcome { kDelivered, kDeferred, kFailed, kRejected, kOutcomes };
    static constexpr std::size_t kChannels = 3;

    std::unique_ptr<domain::DeliveryTransport> inner_;
    std::array<std::array<metrics::Counter*, kOutcomes>, kChannels> counts_{};
    std::array<metrics::Histogram*, kChannels> seconds_{};
};

}  // namespace firmo::notify
