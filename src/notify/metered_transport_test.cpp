#include "notify/metered_transport.hpp"

#include <gtest/gtest.h>

namespace firmo::notify {
namespace {

using domain::Channel;
using domain::DeliveryOutcome;
using domain::OutboxMessage;

struct Scripted final : domain::DeliveryTransport {
    Result<DeliveryOutcome> next = DeliveryOutcome{true, std::nullopt, "250 OK"};
    Result<DeliveryOutcome> Deliver(const OutboxMessage&) override { return next; }
};

TEST(MeteredTransport, CountsEachOutcomeByChannelAndPassesItOn) {
    metrics::Registry registry;
    auto inner = std::make_unique<Scripted>();
    Scripted* script = inner.get();
    MeteredTransport transport(std::move(inner), registry);
    OutboxMessage mail;
    mail.channel = Channel::kEmail;
    OutboxMessage hook;
    hook.channel = Channel::kWebhook;

    EXPECT_TRUE(transport.Deliver(mail)->delivered);
    script->next = Fail(ErrorCode::kUnavailable, "connection refused");
    EXPECT_FALSE(transport.Deliver(hook));
    EXPECT_FALSE(transport.Deliver(hook));
    script->next = Fail(ErrorCode::kInvalidArgument, "unknown template");
    EXPECT_FALSE(transport.Deliver(mail));
    script->next = DeliveryOutcome{false, FromUnixMillis(0), ""};
    OutboxMessage sms;
    sms.channel = Channel::kSms;
    EXPECT_TRUE(transport.Deliver(sms)->defer_until);

    const std::string text = registry.Render();
    for (const char* line : {"firmo_deliveries_total{channel=\"email\",outcome=\"delivered\"} 1\n",
                             "firmo_deliveries_total{channel=\"webhook\",outcome=\"failed\"} 2\n",
                             "firmo_deliveries_total{channel=\"email\",outcome=\"rejected\"} 1\n",
                             "firmo_deliveries_total{channel=\"sms\",outcome=\"deferred\"} 1\n",
                             "firmo_deliveries_total{channel=\"sms\",outcome=\"delivered\"} 0\n",
                             "firmo_delivery_duration_seconds_count{channel=\"webhook\"} 2\n"}) {
        EXPECT_NE(text.find(line), std::string::npos) << line << text;
    }
}

}  // namespace
}  // namespace firmo::notify
