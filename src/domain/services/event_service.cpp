#include "domain/services/event_service.hpp"

#include <algorithm>

#include "core/encoding.hpp"
#include "core/ids.hpp"
#include "core/log.hpp"

namespace firmo::domain {

namespace {

bool IsEventType(std::string_view type) {
    return std::find(std::begin(kEventTypes), std::end(kEventTypes), type) != std::end(kEventTypes);
}

std::string MaskDestination(const OutboxMessage& m) {
    return m.channel == Channel::kWebhook ? m.destination : MaskContact(m.destination);
}

}  // namespace

Result<WebhookEndpoint> EventService::AddWebhook(const std::string& issuer_id,
                                                 const NewWebhook& input) {
    std::vector<Violation> violations;
    const bool web = input.url.starts_with("https://") || input.url.starts_with("http://");
    if (!web || input.url.size() > 2000 ||
        input.url.find_first_of(" \t\r\n<>\"") != std::string::npos) {
        violations.push_back({"url", "must be an absolute http(s) URL of at most 2000 characters"});
    }
    for (std::size_t i = 0; i < input.events.size(); ++i) {
        if (!IsEventType(input.events[i])) {
            violations.push_back({"events[" + std::to_string(i) + "]", "is not an event type"});
        }
    }
    if (!violations.empty()) return FailValidation(std::move(violations));
    return InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<WebhookEndpoint> {
        FIRMO_TRY(auto existing, tx.webhooks().List(issuer_id));
        if (existing.size() >= options_.max_webhooks_per_issuer) {
            return Fail(ErrorCode::kConflict, "at most " +
                                                  std::to_string(options_.max_webhooks_per_issuer) +
                                                  " webhook endpoints per issuer");
        }
        // Each event reaches each URL once (the outbox is unique per event and destination),
        // so a second endpoint with the same URL would never be called.
        for (const auto& e : existing) {
            if (e.url == input.url) {
                return Fail(ErrorCode::kConflict,
                            "webhook " + e.id +
                                " already has this url; to rotate its secret, add the new "
                                "endpoint with a url that differs (e.g. a query string) and "
                                "delete the old one when the receiver accepts the new secret");
            }
        }
        const Timestamp now = ctx_.clock.Now();
        WebhookEndpoint w;
        w.id = NewUlid(now, ctx_.random);
        w.issuer_id = issuer_id;
        w.url = input.url;
        w.secret = "whsec_" + Base64UrlEncode(ctx_.random.Bytes(32));
        w.events = input.events;
        w.created_at = now;
        FIRMO_CHECK(tx.webhooks().Insert(w));
        return w;
    });
}

Result<std::vector<WebhookEndpoint>> EventService::Webhooks(const std::string& issuer_id) {
    return InReadTransaction(ctx_.db,
                             [&](Transaction& tx) { return tx.webhooks().List(issuer_id); });
}

Result<void> EventService::RemoveWebhook(const std::string& issuer_id, const std::string& id) {
    return InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<void> {
        FIRMO_TRY(bool removed, tx.webhooks().Delete(issuer_id, id));
        if (!removed) return Fail(ErrorCode::kNotFound, "webhook " + id + " not found");
        return {};
    });
}

Result<Page<OutboxMessage>> EventService::Deliveries(const std::string& issuer_id, Channel channel,
                                                     PageQuery page) {
    page.limit = std::clamp(page.limit, 1, 100);
    return InReadTransaction(
        ctx_.db, [&](Transaction& tx) { return tx.outbox().List(issuer_id, channel, page); });
}

Result<OutboxMessage> EventService::Redeliver(const std::string& issuer_id, std::int64_t id) {
    return InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<OutboxMessage> {
        FIRMO_TRY(auto found, tx.outbox().Find(issuer_id, id));
        if (!found)
            return Fail(ErrorCode::kNotFound, "delivery " + std::to_string(id) + " not found");
        if (!found->delivered_at && !found->abandoned_at) {
            return Fail(ErrorCode::kConflict, "the delivery is still being attempted");
        }
        found->delivered_at.reset();
        found->abandoned_at.reset();
        found->attempts = 0;
        found->next_attempt_at = ctx_.clock.Now();
        found->last_error = "redelivery requested";
        FIRMO_CHECK(tx.outbox().Update(*found));
        return *found;
    });
}

Result<std::optional<Timestamp>> EventService::NextPollAt(const std::string& issuer_id) {
    return InReadTransaction(
        ctx_.db, [&](Transaction& tx) { return tx.status_changes().NextPollAt(issuer_id); });
}

Result<PollResult> EventService::Poll(const std::string& issuer_id) {
    return InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<PollResult> {
        const Timestamp now = ctx_.clock.Now();
        FIRMO_TRY(auto permitted, tx.status_changes().NextPollAt(issuer_id));
        if (permitted && now < *permitted) {
            return Fail(
                ErrorCode::kRateLimited,
                "polled too early; the next poll is permitted at " + FormatRfc3339(*permitted));
        }
        PollResult result;
        FIRMO_TRY(result.change, tx.status_changes().Next(issuer_id, now));
        if (result.change) {
            // Served: hidden until confirmed or until the timeout brings it back.
            FIRMO_CHECK(
                tx.status_changes().Hide(result.change->seq, now + options_.poll_redeliver_after));
            result.next_poll_at = now;
        } else {
            result.next_poll_at = now + options_.poll_empty_interval;
        }
        FIRMO_CHECK(tx.status_changes().SetNextPollAt(issuer_id, result.next_poll_at));
        return result;
    });
}

Result<void> EventService::Confirm(const std::string& issuer_id, std::int64_t seq) {
    return InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<void> {
        FIRMO_TRY(bool confirmed, tx.status_changes().Confirm(issuer_id, seq, ctx_.clock.Now()));
        if (!confirmed) {
            return Fail(ErrorCode::kNotFound,
                        "status change " + std::to_string(seq) + " not found or confirmed already");
        }
        return {};
    });
}

Result<bool> EventService::DeliverOne() {
    if (!transport_) return false;
    const Timestamp now = ctx_.clock.Now();
    FIRMO_TRY(auto claimed, InWriteTransaction(ctx_.db, [&](Transaction& tx) {
                  return tx.outbox().Claim(now, options_.lease);
              }));
    if (!claimed) return false;
    OutboxMessage& m = *claimed;
    if (m.channel == Channel::kWebhook) {
        FIRMO_TRY(auto endpoints, InReadTransaction(ctx_.db, [&](Transaction& tx) {
                      return tx.webhooks().List(m.issuer_id);
                  }));
        for (const auto& e : endpoints) {
            if (e.id == m.endpoint_id) m.secret = e.secret;
        }
    }
    Result<DeliveryOutcome> outcome =
        m.channel == Channel::kWebhook && m.secret.empty()
            ? Result<DeliveryOutcome>(
                  Fail(ErrorCode::kInvalidArgument, "the webhook endpoint was removed"))
            : transport_->Deliver(m);
    const Timestamp done = ctx_.clock.Now();
    const int max_attempts = m.channel == Channel::kWebhook ? options_.max_webhook_attempts
                                                            : options_.max_message_attempts;
    if (outcome && outcome->delivered) {
        m.attempts += 1;
        m.delivered_at = done;
        m.last_response = outcome->response;
        m.last_error.clear();
        log::Info("delivered", {{"channel", std::string(ToString(m.channel))},
                                {"to", MaskDestination(m)},
                                {"event_id", m.event_id},
                                {"template", m.template_name}});
    } else if (outcome && outcome->defer_until) {
        m.next_attempt_at = *outcome->defer_until;  // quiet hours: not an attempt
        m.last_response = outcome->response;
    } else {
        m.attempts += 1;
        m.last_error = outcome ? "not delivered" : outcome.error().message;
        if (outcome) m.last_response = outcome->response;
        const bool hopeless = !outcome && outcome.error().code == ErrorCode::kInvalidArgument;
        if (hopeless || m.attempts >= max_attempts) {
            m.abandoned_at = done;
            log::Error("delivery_abandoned", {{"channel", std::string(ToString(m.channel))},
                                              {"to", MaskDestination(m)},
                                              {"event_id", m.event_id},
                                              {"error", m.last_error}});
        } else {
            std::chrono::milliseconds delay(options_.retry_base.count() *
                                            (std::int64_t{1} << std::min(m.attempts - 1, 20)));
            delay = std::min(delay, options_.retry_max);
            m.next_attempt_at = done + delay;
            log::Warn("delivery_retry", {{"channel", std::string(ToString(m.channel))},
                                         {"to", MaskDestination(m)},
                                         {"attempt", std::to_string(m.attempts)},
                                         {"error", m.last_error}});
        }
    }
    FIRMO_CHECK(
        InWriteTransaction(ctx_.db, [&](Transaction& tx) { return tx.outbox().Update(m); }));
    return true;
}

}  // namespace firmo::domain
