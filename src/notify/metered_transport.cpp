#include "notify/metered_transport.hpp"

#include <chrono>

namespace firmo::notify {

using domain::Channel;

MeteredTransport::MeteredTransport(std::unique_ptr<domain::DeliveryTransport> inner,
                                   metrics::Registry& registry)
    : inner_(std::move(inner)) {
    auto& counts = registry.AddCounterFamily(
        "firmo_deliveries_total",
        "Delivery attempts of outbox messages (e-mail, SMS, webhooks), by channel and outcome "
        "(delivered; deferred: quiet hours; failed: retried later; rejected: abandoned).",
        {"channel", "outcome"});
    auto& seconds =
        registry.AddHistogramFamily("firmo_delivery_duration_seconds",
                                    "Time one delivery attempt took, by channel.", {"channel"});
    constexpr std::array<std::string_view, kOutcomes> kNames = {"delivered", "deferred", "failed",
                                                                "rejected"};
    for (Channel channel : {Channel::kEmail, Channel::kSms, Channel::kWebhook}) {
        const auto c = static_cast<std::size_t>(channel);
        for (std::size_t o = 0; o < kOutcomes; ++o) {
            counts_[c][o] = &counts.With({domain::ToString(channel), kNames[o]});
        }
        seconds_[c] = &seconds.With({domain::ToString(channel)});
    }
}

Result<domain::DeliveryOutcome> MeteredTransport::Deliver(const domain::OutboxMessage& message) {
    const auto start = std::chrono::steady_clock::now();
    auto outcome = inner_->Deliver(message);
    const auto c = static_cast<std::size_t>(message.channel);
    seconds_[c]->Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    Outcome o = kDelivered;
    if (!outcome) {
        o = outcome.error().code == ErrorCode::kInvalidArgument ? kRejected : kFailed;
    } else if (!outcome->delivered) {
        o = outcome->defer_until ? kDeferred : kFailed;
    }
    counts_[c][o]->Inc();
    return outcome;
}

}  // namespace firmo::notify
