#include "domain/services/event_service.hpp"

#include <algorithm>
#include <cctype>

#include "core/encoding.hpp"
#include "core/ids.hpp"
#include "core/log.hpp"
#include "domain/states.hpp"
#include "domain/text.hpp"

namespace firmo::domain {

namespace {

bool IsEventType(std::string_view type) {
    return std::find(std::begin(kEventTypes), std::end(kEventTypes), type) != std::end(kEventTypes);
}

std::string MaskDestination(const OutboxMessage& m) {
    return m.channel == Channel::kWebhook ? m.destination : MaskContact(m.destination);
}

// The part between "scheme://" and the path, query or fragment.
std::string_view Authority(std::string_view url) {
    const auto start = url.find("://");
    if (start == std::string_view::npos) return {};
    url.remove_prefix(start + 3);
    return url.substr(0, url.find_first_of("/?#"));
}

std::string Lowercase(std::string_view text) {
    std::string out(text);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

}  // namespace

bool AnnouncesTheEnd(const OutboxMessage& message) {
    if (message.channel == Channel::kWebhook) return true;
    return message.template_name == "signed_documents" || message.template_name == "expired" ||
           message.template_name == "cancelled";
}

EventService::EventService(ServiceContext& ctx, DeliveryTransport* transport, EventOptions options)
    : ctx_(ctx), transport_(transport), options_(options), breakers_(options.breaker) {
    if (!options_.metrics) return;
    metrics::Registry& r = *options_.metrics;
    r.AddCallback("firmo_webhook_circuits_open",
                  "Webhook endpoints whose circuit breaker is open or half-open on this node "
                  "(their messages fail at once, without a call).",
                  [this] { return static_cast<double>(breakers_.NotClosed()); });
    transitions_ = &r.AddCounterFamily(
        "firmo_webhook_circuit_transitions_total",
        "Webhook circuit breaker changes on this node, by the state entered (open, half_open, "
        "closed).",
        {"to"});
    held_ =
        &r.AddCounter("firmo_webhook_calls_held_total",
                      "Webhook attempts failed at once because the endpoint's circuit was open.");
    withdrawn_ = &r.AddCounter("firmo_outbox_withdrawn_total",
                               "Outbox messages not sent because their request had become final "
                               "(cancelled, expired, rejected, signed, failed).");
    test_messages_ = &r.AddCounterFamily(
        "firmo_outbox_test_messages_total",
        "E-mails and SMS of test requests (made with a test API key) recorded in the outbox and "
        "not sent, by channel.",
        {"channel"});
}

Result<WebhookEndpoint> EventService::AddWebhook(const std::string& issuer_id,
                                                 const NewWebhook& input) {
    std::vector<Violation> violations;
    const bool web = input.url.starts_with("https://") || input.url.starts_with("http://");
    const bool control = std::any_of(input.url.begin(), input.url.end(), [](char c) {
        return static_cast<unsigned char>(c) <= 0x20 || c == 0x7F;
    });
    const std::string_view authority = Authority(input.url);
    if (!web || input.url.size() > 2000 || control ||
        input.url.find_first_of("<>\"\\") != std::string::npos) {
        violations.push_back({"url", "must be an absolute http(s) URL of at most 2000 characters"});
    } else if (authority.find('@') != std::string_view::npos) {
        // Credentials in the URL would be sent along and shown in every listing and log.
        violations.push_back({"url", "must not contain a user name or password (user:pass@)"});
    } else if (authority.empty() || authority.starts_with(':')) {
        violations.push_back({"url", "must name a host"});
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

Result<OutboxMessage> EventService::Redeliver(const std::string& issuer_id, std::int64_t id,
                                              std::optional<bool> test) {
    return InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<OutboxMessage> {
        FIRMO_TRY(auto found, tx.outbox().Find(issuer_id, id));
        if (found && test) {
            // A key redelivers only messages of its mode's requests.
            FIRMO_TRY(auto request, tx.requests().Find(issuer_id, found->request_id));
            if (request.value_or(SignatureRequest{}).test != *test) found.reset();
        }
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

Result<std::optional<Timestamp>> EventService::NextPollAt(const std::string& issuer_id,
                                                          const std::string& named, bool test) {
    const std::string queue = StoredPollingQueue(named, test);
    return InReadTransaction(
        ctx_.db, [&](Transaction& tx) { return tx.status_changes().NextPollAt(issuer_id, queue); });
}

Result<PollResult> EventService::Poll(const std::string& issuer_id, const std::string& named,
                                      bool test) {
    if (!named.empty()) {
        std::vector<Violation> violations;
        CheckPollingQueue(named, "polling_queue", violations);
        if (!violations.empty()) return FailValidation(std::move(violations));
    }
    const std::string queue = StoredPollingQueue(named, test);
    return InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<PollResult> {
        const Timestamp now = ctx_.clock.Now();
        FIRMO_TRY(auto permitted, tx.status_changes().NextPollAt(issuer_id, queue));
        if (permitted && now < *permitted) {
            return Fail(
                ErrorCode::kRateLimited,
                "polled too early; the next poll is permitted at " + FormatRfc3339(*permitted));
        }
        PollResult result;
        FIRMO_TRY(result.change, tx.status_changes().Next(issuer_id, queue, now));
        if (result.change) {
            // Served: hidden until confirmed or until the timeout brings it back.
            FIRMO_CHECK(
                tx.status_changes().Hide(result.change->seq, now + options_.poll_redeliver_after));
            result.next_poll_at = now;
        } else {
            result.next_poll_at = now + options_.poll_empty_interval;
        }
        FIRMO_CHECK(tx.status_changes().SetNextPollAt(issuer_id, queue, result.next_poll_at));
        return result;
    });
}

Result<void> EventService::Confirm(const std::string& issuer_id, std::int64_t seq,
                                   std::optional<bool> test) {
    return InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<void> {
        if (test) {
            // A key confirms only changes of its mode's queues (StoredPollingQueue).
            FIRMO_TRY(auto queue, tx.status_changes().QueueOf(issuer_id, seq));
            if (!queue || queue->starts_with(StoredPollingQueue("", true)) != *test) {
                return Fail(ErrorCode::kNotFound,
                            "status change " + std::to_string(seq) + " not found");
            }
        }
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
    // Claimed and checked against its request in one transaction (which, on stores with row
    // locks, waits for a cancel in progress): a message that asks a signer to act is withdrawn
    // once the request is final, SMS held back for quiet hours included.
    std::optional<RequestStatus> final_status;
    bool test = false;  // a test request's e-mail or SMS: recorded, not sent
    FIRMO_TRY(
        auto claimed,
        InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<std::optional<OutboxMessage>> {
            FIRMO_TRY(auto m, tx.outbox().Claim(now, options_.lease));
            // Webhooks of test requests go out (the integrator's own endpoint, "test": true).
            if (!m || m->channel == Channel::kWebhook) return m;
            FIRMO_TRY(auto request, tx.requests().Find(m->issuer_id, m->request_id));
            if (request && request->test) {
                test = true;
                m->abandoned_at = now;
                m->last_error = std::string(kNotSentTest);
                FIRMO_CHECK(tx.outbox().Update(*m));
                return m;
            }
            if (AnnouncesTheEnd(*m) || !request || !IsTerminal(request->status)) return m;
            final_status = request->status;
            m->abandoned_at = now;
            m->last_error = "not sent: the request is " + Lowercase(ToString(request->status));
            FIRMO_CHECK(tx.outbox().Update(*m));
            return m;
        }));
    if (!claimed) return false;
    OutboxMessage& m = *claimed;
    if (test) {
        if (test_messages_) test_messages_->With({std::string(ToString(m.channel))}).Inc();
        log::Info("delivery_test_not_sent", {{"channel", std::string(ToString(m.channel))},
                                             {"to", MaskDestination(m)},
                                             {"template", m.template_name},
                                             {"request_id", m.request_id}});
        return true;
    }
    if (final_status) {
        if (withdrawn_) withdrawn_->Inc();
        log::Info("delivery_withdrawn", {{"channel", std::string(ToString(m.channel))},
                                         {"to", MaskDestination(m)},
                                         {"template", m.template_name},
                                         {"request_id", m.request_id},
                                         {"status", std::string(ToString(*final_status))}});
        return true;
    }
    std::optional<Timestamp> hold_until;  // an open circuit: not before
    Result<DeliveryOutcome> outcome =
        m.channel == Channel::kWebhook ? CallWebhook(m, now, hold_until) : transport_->Deliver(m);
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
            m.next_attempt_at = std::max(done + delay, hold_until.value_or(done));
            if (!hold_until) {
                log::Warn("delivery_retry", {{"channel", std::string(ToString(m.channel))},
                                             {"to", MaskDestination(m)},
                                             {"attempt", std::to_string(m.attempts)},
                                             {"error", m.last_error}});
            }
        }
    }
    FIRMO_CHECK(
        InWriteTransaction(ctx_.db, [&](Transaction& tx) { return tx.outbox().Update(m); }));
    return true;
}

Result<DeliveryOutcome> EventService::CallWebhook(OutboxMessage& m, Timestamp now,
                                                  std::optional<Timestamp>& hold_until) {
    FIRMO_TRY(auto endpoints, InReadTransaction(ctx_.db, [&](Transaction& tx) {
                  return tx.webhooks().List(m.issuer_id);
              }));
    for (const auto& e : endpoints) {
        if (e.id == m.endpoint_id) m.secret = e.secret;
    }
    if (m.secret.empty())
        return Fail(ErrorCode::kInvalidArgument, "the webhook endpoint was removed");
    const auto admission = breakers_.Admit(m.endpoint_id, now);
    CircuitChanged(m, admission.changed_to, now);
    if (!admission.call) {
        if (held_) held_->Inc();
        hold_until = admission.open_until;
        return Fail(ErrorCode::kUnavailable, "not attempted: the endpoint failed " +
                                                 std::to_string(admission.failures) +
                                                 " times in a row; calls to it are paused until " +
                                                 FormatRfc3339(admission.open_until));
    }
    auto outcome = transport_->Deliver(m);
    if (outcome && outcome->delivered) {
        CircuitChanged(m, breakers_.Succeeded(m.endpoint_id), now);
    } else if (!outcome && outcome.error().code == ErrorCode::kUnavailable) {
        const Timestamp done = ctx_.clock.Now();
        const auto to = breakers_.Failed(m.endpoint_id, done);
        CircuitChanged(m, to, done);
        if (to == CircuitState::kOpen) {
            return Fail(ErrorCode::kUnavailable,
                        outcome.error().message + "; calls to this endpoint are paused until " +
                            FormatRfc3339(done + options_.breaker.open_for));
        }
    }
    return outcome;
}

void EventService::CircuitChanged(const OutboxMessage& m, std::optional<CircuitState> to,
                                  Timestamp now) {
    if (!to) return;
    if (transitions_) transitions_->With({ToString(*to)}).Inc();
    log::Warn("webhook_circuit", {{"endpoint_id", m.endpoint_id},
                                  {"issuer_id", m.issuer_id},
                                  {"state", std::string(ToString(*to))},
                                  {"at", FormatRfc3339(now)}});
}

}  // namespace firmo::domain
