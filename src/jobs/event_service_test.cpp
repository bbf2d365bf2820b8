// EventService and the event / notification steps of request_steps: events recorded by real
// state changes (polling queue + webhook outbox), outbox delivery with retries and backoff
// through a scripted fake transport, polling, webhook endpoints, and the e-mail / SMS
// notifications of signers. Here rather than beside the services because they need the real
// store, which only this test binary links (see jobs/testing/request_fixture.hpp).

#include "domain/services/event_service.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <functional>
#include <nlohmann/json.hpp>

#include "domain/services/request_steps.hpp"
#include "jobs/testing/request_fixture.hpp"

namespace firmo::domain {
namespace {

using namespace firmo::domain;
using namespace firmo::domain::fixtures;
using namespace std::chrono_literals;

// Records every message it is handed; answers with the scripted outcomes in order, then
// "delivered".
class FakeDeliveryTransport final : public DeliveryTransport {
  public:
    Result<DeliveryOutcome> Deliver(const OutboxMessage& message) override {
        delivered.push_back(message);
        if (respond) {
            if (auto answer = respond(message)) return std::move(*answer);
        }
        if (script.empty()) return DeliveryOutcome{true, std::nullopt, "250 OK"};
        Result<DeliveryOutcome> next = script.front();
        script.pop_front();
        return next;
    }
    static Result<DeliveryOutcome> Ok(std::string response = "HTTP 200") {
        return DeliveryOutcome{true, std::nullopt, std::move(response)};
    }
    static Result<DeliveryOutcome> Defer(Timestamp until) {
        return DeliveryOutcome{false, until, "quiet hours"};
    }
    static Result<DeliveryOutcome> Unavailable() {
        return Fail(ErrorCode::kUnavailable, "HTTP 503 from the endpoint");
    }
    static Result<DeliveryOutcome> Invalid() {
        return Fail(ErrorCode::kInvalidArgument, "unknown template");
    }

    std::vector<OutboxMessage> delivered;
    std::deque<Result<DeliveryOutcome>> script;
    // When set and it answers, it answers instead of the script.
    std::function<std::optional<Result<DeliveryOutcome>>(const OutboxMessage&)> respond;
};

class EventsTest : public RequestFixture {
  protected:
    void SetUp() override {
        RequestFixture::SetUp();
        if (HasFatalFailure()) return;
        options_.retry_base = 1s;
        options_.retry_max = 4s;
        options_.max_webhook_attempts = 5;
        options_.max_message_attempts = 3;
        options_.poll_redeliver_after = 60s;
        options_.poll_empty_interval = 5s;
        events_ = std::make_unique<EventService>(*ctx_, &transport_, options_);
    }

    void EnableNotifications() {
        ctx_->notifications.signer_link = [](const SignatureRequest& r,
                                             const std::string& signer_id) {
            return "https://sign.example.org/r/" + r.id + "/" + signer_id;
        };
    }

    WebhookEndpoint AddWebhook(const std::string& url, std::vector<std::string> types = {},
                               const std::string& issuer_id = "") {
        auto w = events_->AddWebhook(issuer_id.empty() ? issuer_ : issuer_id,
                                     NewWebhook{url, std::move(types)});
        EXPECT_TRUE(w) << w.error().message;
        return w ? *w : WebhookEndpoint{};
    }

    OutboxMessage Find(std::int64_t id) {
        auto tx = db_->Begin(TxMode::kRead);
        EXPECT_TRUE(tx);
        auto found = (*tx)->outbox().Find(issuer_, id);
        EXPECT_TRUE(found && *found);
        return found && *found ? **found : OutboxMessage{};
    }

    static std::vector<std::string> Types(const std::vector<StatusChange>& changes) {
        std::vector<std::string> out;
        for (const auto& c : changes) out.push_back(c.type);
        return out;
    }
    const StatusChange* Change(const std::vector<StatusChange>& changes, const std::string& type) {
        for (const auto& c : changes) {
            if (c.type == type) return &c;
        }
        ADD_FAILURE() << "no status change " << type;
        return nullptr;
    }

    // An outbox message inserted directly (for delivery tests).
    OutboxMessage Queue(Channel channel, const std::string& destination,
                        const std::string& endpoint_id = "", const std::string& issuer_id = "") {
        OutboxMessage m;
        m.event_id = "evt_" + std::to_string(++queued_);
        m.issuer_id = issuer_id.empty() ? issuer_ : issuer_id;
        m.request_id = "R1";
        m.channel = channel;
        m.destination = destination;
        m.template_name = channel == Channel::kWebhook ? "signature_request.signed" : "reminder";
        m.language = "it";
        m.payload_json = R"({"x":1})";
        m.endpoint_id = endpoint_id;
        m.created_at = clock_.Now();
        m.next_attempt_at = clock_.Now();
        auto done = InWriteTransaction(
            *db_, [&](Transaction& tx) -> Result<bool> { return tx.outbox().Insert(m); });
        EXPECT_TRUE(done && *done);
        auto all = Outbox(channel, m.issuer_id);
        EXPECT_FALSE(all.empty());
        return all.empty() ? m : all.back();
    }

    bool DeliverOne() {
        auto r = events_->DeliverOne();
        EXPECT_TRUE(r) << r.error().message;
        return r && *r;
    }

    // A READY request; every party becomes a signer (with a phone when given).
    SignatureRequest MakeReady(const std::vector<Party>& parties, bool auto_notify = false,
                               std::chrono::hours expires_in = 48h) {
        return RequestFixture::MakeReady(parties, [&](NewSignatureRequest& input) {
            input.auto_notify = auto_notify;
            input.expires_at = clock_.Now() + expires_in;
        });
    }

    static Party Mario(std::optional<std::string> phone = std::nullopt) {
        return {IdentifierKind::kItFiscalCode, kMario, "mario@example.org", std::move(phone), 0};
    }

    EventOptions options_;
    FakeDeliveryTransport transport_;
    std::unique_ptr<EventService> events_;
    int queued_ = 0;
};

// ---- Events recorded by state changes -------------------------------------------------------

TEST_F(EventsTest, ReadyGoesToThePollingQueueAndEverySubscribedWebhookUnderOneEventId) {
    const WebhookEndpoint all = AddWebhook("https://hooks.example.org/all");
    const WebhookEndpoint ready_only =
        AddWebhook("https://hooks.example.org/ready", {"signature_request.ready"});
    AddWebhook("https://hooks.example.org/signed", {"signature_request.signed", "signer.signed"});
    const SignatureRequest r = MakeReady({Mario()});

    const auto changes = Changes();
    ASSERT_EQ(Types(changes), std::vector<std::string>{"signature_request.ready"});
    const StatusChange& change = changes[0];
    EXPECT_EQ(change.request_id, r.id);
    EXPECT_EQ(change.issuer_id, issuer_);
    EXPECT_TRUE(change.event_id.starts_with("evt_")) << change.event_id;

    const auto hooks = Outbox(Channel::kWebhook);
    ASSERT_EQ(hooks.size(), 2u);  // not the endpoint subscribed to other types
    std::vector<std::string> destinations;
    for (const auto& m : hooks) {
        destinations.push_back(m.destination);
        EXPECT_EQ(m.event_id, change.event_id);
        EXPECT_EQ(m.template_name, "signature_request.ready");
        EXPECT_EQ(m.payload_json, change.payload_json);
        EXPECT_EQ(m.request_id, r.id);
        EXPECT_EQ(m.attempts, 0);
        EXPECT_EQ(m.next_attempt_at, clock_.Now());
        EXPECT_EQ(m.secret, "");  // filled at delivery time, never stored
        EXPECT_EQ(m.endpoint_id, m.destination == all.url ? all.id : ready_only.id);
    }
    std::sort(destinations.begin(), destinations.end());
    EXPECT_EQ(destinations, (std::vector<std::string>{all.url, ready_only.url}));
    EXPECT_TRUE(Outbox(Channel::kEmail).empty());  // no signer_link: no signer messages

    const auto body = nlohmann::json::parse(change.payload_json, nullptr, false);
    ASSERT_FALSE(body.is_discarded()) << change.payload_json;
    EXPECT_EQ(body["id"], change.event_id);
    EXPECT_EQ(body["type"], "signature_request.ready");
    EXPECT_EQ(body["created_at"], FormatRfc3339(clock_.Now()));
    EXPECT_EQ(body["data"]["signature_request_id"], r.id);
    EXPECT_EQ(body["data"]["status"], "READY");
    EXPECT_FALSE(body["data"].contains("signer_id"));
}

TEST_F(EventsTest, AnotherIssuersEndpointsAndQueueGetNothing) {
    const std::string other = MakeIssuer("ISSUER-B", "Oslo kommune");
    AddWebhook("https://b.example.org/hook", {}, other);
    MakeReady({Mario()});
    EXPECT_TRUE(Outbox(Channel::kWebhook).empty());
    EXPECT_TRUE(Outbox(Channel::kWebhook, other).empty());
    EXPECT_TRUE(Changes(other).empty());
    EXPECT_EQ(Changes().size(), 1u);
}

TEST_F(EventsTest, CancelRecordsItsEvent) {
    const SignatureRequest r = MakeReady({Mario()});
    ASSERT_TRUE(requests_->ChangeStatus(issuer_, r.id, RequestedStatus::kCancelled, "test"));
    const auto changes = Changes();
    ASSERT_EQ(Types(changes),
              (std::vector<std::string>{"signature_request.ready", "signature_request.cancelled"}));
    const auto body = nlohmann::json::parse(changes[1].payload_json);
    EXPECT_EQ(body["data"]["status"], "CANCELLED");
    EXPECT_EQ(body["data"]["signature_request_id"], r.id);
}

TEST_F(EventsTest, ExpiryRecordsItsEvent) {
    const SignatureRequest r = MakeReady({Mario()});
    clock_.Advance(49h);
    auto expired = requests_->ExpireDue(10);
    ASSERT_TRUE(expired);
    EXPECT_EQ(*expired, 1);
    const auto changes = Changes();
    ASSERT_EQ(Types(changes),
              (std::vector<std::string>{"signature_request.ready", "signature_request.expired"}));
    EXPECT_EQ(nlohmann::json::parse(changes[1].payload_json)["data"]["status"], "EXPIRED");
}

TEST_F(EventsTest, RejectionRecordsTheSignersAndTheRequestsEventWithTheReason) {
    const SignatureRequest r = MakeReady({Mario()});
    const PortalSession s = LoginByCode(r, 0);
    ASSERT_TRUE(ceremony_->Open(s, r.id, client_));
    ASSERT_TRUE(ceremony_->Reject(s, r.id, "Wrong salary in clause 4", client_));
    const auto changes = Changes();
    ASSERT_EQ(Types(changes),
              (std::vector<std::string>{"signature_request.ready", "signer.rejected",
                                        "signature_request.rejected"}));
    const auto signer = nlohmann::json::parse(changes[1].payload_json);
    EXPECT_EQ(signer["data"]["signer_id"], r.signers[0].signer_id);
    // The issuer gets the signer's reason, not our audit detail (IP address, browser).
    EXPECT_EQ(signer["data"]["reason"], "Wrong salary in clause 4");
    const auto request = nlohmann::json::parse(changes[2].payload_json);
    EXPECT_EQ(request["data"]["status"], "REJECTED");
    EXPECT_EQ(request["data"]["reason"], "Wrong salary in clause 4");
    // docs/WEBHOOKS.md: signature_request.rejected names the signer who rejected.
    EXPECT_EQ(request["data"].value("signer_id", ""), r.signers[0].signer_id);
}

TEST_F(EventsTest, WrongCodesRecordSignerBlocked) {
    const SignatureRequest r = MakeReady({Mario()});
    const std::string& signer_id = r.signers[0].signer_id;
    ASSERT_TRUE(sessions_->SendCode(r.id, signer_id, CodeKind::kLogin, client_));
    for (int i = 0; i < sessions_->options().max_code_attempts; ++i) {
        EXPECT_FALSE(sessions_->LoginWithCode("", r.id, signer_id, "00000x", client_));
    }
    const auto changes = Changes();
    // A blocked signer ends the request (issue 18): FAILED follows.
    ASSERT_EQ(Types(changes), (std::vector<std::string>{"signature_request.ready", "signer.blocked",
                                                        "signature_request.failed"}));
    const auto body = nlohmann::json::parse(changes[1].payload_json);
    EXPECT_EQ(body["data"]["signer_id"], signer_id);
    EXPECT_EQ(body["type"], "signer.blocked");
}

TEST_F(EventsTest, SigningRecordsSignerSignedAndRequestSigned) {
    AddWebhook("https://hooks.example.org/signed", {"signature_request.signed"});
    const SignatureRequest r = MakeReady(
        {Mario(), {IdentifierKind::kItFiscalCode, kGiovanni, "giovanni@example.org", {}, 1}});
    SignAs(r, 0, LoginByCode(r, 0));
    {
        const auto changes = Changes();
        ASSERT_EQ(Types(changes),
                  (std::vector<std::string>{"signature_request.ready", "signer.signed"}));
        const auto body = nlohmann::json::parse(changes[1].payload_json);
        EXPECT_EQ(body["data"]["signer_id"], r.signers[0].signer_id);
        EXPECT_EQ(body["data"]["status"], "WAIT_FOR_SIGNATURE");  // one more signer
        EXPECT_TRUE(Outbox(Channel::kWebhook).empty());
    }
    SignAs(r, 1, LoginByCode(r, 1));
    const auto changes = Changes();
    ASSERT_EQ(Types(changes),
              (std::vector<std::string>{"signature_request.ready", "signer.signed", "signer.signed",
                                        "signature_request.signed"}));
    EXPECT_EQ(nlohmann::json::parse(changes[3].payload_json)["data"]["status"], "SIGNED");
    const auto hooks = Outbox(Channel::kWebhook);
    ASSERT_EQ(hooks.size(), 1u);
    EXPECT_EQ(hooks[0].event_id, changes[3].event_id);
}

TEST_F(EventsTest, AFailedValidationRecordsDocumentRejected) {
    DossierService dossiers(*ctx_);
    auto dossier = dossiers.Create(issuer_, NewDossier{"Contratto", std::nullopt, OneDocument()});
    ASSERT_TRUE(dossier);
    SignerService signers(*ctx_);
    auto signer = signers.Resolve(issuer_, NewSigner{IdentifierKind::kItFiscalCode, kMario,
                                                     std::nullopt, std::nullopt, std::nullopt});
    ASSERT_TRUE(signer);
    NewSignatureRequest input;
    input.dossier_id = dossier->id;
    input.signers = {{signer->signer.id, 0}};
    auto request = requests_->Create(issuer_, input, "test");
    ASSERT_TRUE(request) << request.error().message;
    const std::string doc_id = request->documents[0].id;
    auto uploaded =
        requests_->UploadDocument(issuer_, request->id, doc_id, Upload{"%PDF-1.7\n", "test"});
    ASSERT_TRUE(uploaded);
    Job job;
    job.kind = JobKind::kValidateDocument;
    job.issuer_id = issuer_;
    job.request_id = request->id;
    job.document_id = doc_id;
    job.generation = uploaded->upload_generation;
    ASSERT_TRUE(requests_->AbandonValidation(job, "validator crashed"));
    const auto changes = Changes();
    ASSERT_EQ(Types(changes), std::vector<std::string>{"document.rejected"});
    const auto body = nlohmann::json::parse(changes[0].payload_json);
    EXPECT_EQ(body["data"]["document_id"], doc_id);
    EXPECT_EQ(body["data"]["status"], "DRAFT");
    EXPECT_TRUE(body["data"].contains("reason"));
}

TEST_F(EventsTest, EventBodiesEscapeWhatTheIssuerWrote) {
    const SignatureRequest r = MakeReady({Mario()});
    SignatureRequest copy = r;
    copy.reference = "quote \" backslash \\ newline \n tab \t bell \x07 è";
    auto done = InWriteTransaction(*db_, [&](Transaction& tx) -> Result<void> {
        return RecordEvent(*ctx_, tx, copy, "signature_request.cancelled",
                           EventData{"S1", "D1", "why\r\n"}, clock_.Now());
    });
    ASSERT_TRUE(done);
    const auto changes = Changes();
    ASSERT_EQ(changes.size(), 2u);
    const auto body = nlohmann::json::parse(changes[1].payload_json, nullptr, false);
    ASSERT_FALSE(body.is_discarded()) << changes[1].payload_json;
    EXPECT_EQ(body["data"]["reference"], *copy.reference);
    EXPECT_EQ(body["data"]["signer_id"], "S1");
    EXPECT_EQ(body["data"]["document_id"], "D1");
    EXPECT_EQ(body["data"]["reason"], "why\r\n");
}

// ---- Delivery --------------------------------------------------------------------------------

TEST_F(EventsTest, NothingDueDeliversNothing) {
    EXPECT_FALSE(DeliverOne());
    EXPECT_TRUE(transport_.delivered.empty());
    EventService without_transport(*ctx_, nullptr, options_);
    Queue(Channel::kEmail, "a@b.it");
    auto r = without_transport.DeliverOne();
    ASSERT_TRUE(r);
    EXPECT_FALSE(*r);
}

TEST_F(EventsTest, ADeliveredMessageIsMarkedDelivered) {
    const OutboxMessage m = Queue(Channel::kEmail, "mario@example.org");
    transport_.script = {FakeDeliveryTransport::Ok("250 2.0.0 queued")};
    ASSERT_TRUE(DeliverOne());
    ASSERT_EQ(transport_.delivered.size(), 1u);
    EXPECT_EQ(transport_.delivered[0].event_id, m.event_id);
    EXPECT_EQ(transport_.delivered[0].destination, "mario@example.org");
    const OutboxMessage got = Find(m.id);
    EXPECT_EQ(got.attempts, 1);
    EXPECT_EQ(got.delivered_at, clock_.Now());
    EXPECT_FALSE(got.abandoned_at);
    EXPECT_EQ(got.last_response, "250 2.0.0 queued");
    EXPECT_EQ(got.last_error, "");
    clock_.Advance(1h);
    EXPECT_FALSE(DeliverOne());  // delivered once
}

TEST_F(EventsTest, FailuresAreRetriedWithDoublingBackoffCappedAndThenAbandoned) {
    const WebhookEndpoint w = AddWebhook("https://hooks.example.org/");
    const OutboxMessage m = Queue(Channel::kWebhook, w.url, w.id);
    for (int i = 0; i < options_.max_webhook_attempts; ++i) {
        transport_.script.push_back(FakeDeliveryTransport::Unavailable());
    }
    // retry_base 1 s, doubling, capped at retry_max 4 s; the fifth failure abandons it.
    const std::chrono::milliseconds delays[] = {1s, 2s, 4s, 4s};
    for (int attempt = 1; attempt <= 4; ++attempt) {
        ASSERT_TRUE(DeliverOne()) << "attempt " << attempt;
        const OutboxMessage got = Find(m.id);
        EXPECT_EQ(got.attempts, attempt);
        const auto delay = delays[attempt - 1];
        EXPECT_EQ(got.next_attempt_at, clock_.Now() + delay) << "attempt " << attempt;
        EXPECT_EQ(got.last_error, "HTTP 503 from the endpoint");
        EXPECT_FALSE(got.abandoned_at);
        EXPECT_FALSE(got.delivered_at);
        clock_.Advance(delay - 1ms);
        EXPECT_FALSE(DeliverOne()) << "not due yet after attempt " << attempt;
        clock_.Advance(1ms);
    }
    ASSERT_TRUE(DeliverOne());
    const OutboxMessage got = Find(m.id);
    EXPECT_EQ(got.attempts, 5);
    EXPECT_EQ(got.abandoned_at, clock_.Now());
    EXPECT_FALSE(got.delivered_at);
    clock_.Advance(1h);
    EXPECT_FALSE(DeliverOne());
    EXPECT_EQ(transport_.delivered.size(), 5u);
}

TEST_F(EventsTest, MessagesAreAbandonedAfterFewerAttemptsThanWebhooks) {
    const OutboxMessage m = Queue(Channel::kSms, "+393331234567");
    for (int i = 0; i < 10; ++i) transport_.script.push_back(FakeDeliveryTransport::Unavailable());
    for (int attempt = 1; attempt <= options_.max_message_attempts; ++attempt) {
        ASSERT_TRUE(DeliverOne());
        clock_.Advance(options_.retry_max);
    }
    const OutboxMessage got = Find(m.id);
    EXPECT_EQ(got.attempts, 3);
    EXPECT_TRUE(got.abandoned_at);
    EXPECT_FALSE(DeliverOne());
}

TEST_F(EventsTest, DefaultOptionsGiveUpAfter22WebhookAndTenMessageAttempts) {
    const EventOptions defaults;
    EXPECT_EQ(defaults.max_webhook_attempts, 22);
    EXPECT_EQ(defaults.max_message_attempts, 10);
    EventService service(*ctx_, &transport_, defaults);
    const WebhookEndpoint w = AddWebhook("https://hooks.example.org/");
    const OutboxMessage hook = Queue(Channel::kWebhook, w.url, w.id);
    const OutboxMessage mail = Queue(Channel::kEmail, "mario@example.org");
    for (int i = 0; i < 40; ++i) transport_.script.push_back(FakeDeliveryTransport::Unavailable());
    std::chrono::milliseconds total{0};
    for (int round = 1; round <= 22; ++round) {
        while (true) {
            auto r = service.DeliverOne();
            ASSERT_TRUE(r);
            if (!*r) break;
        }
        EXPECT_EQ(Find(hook.id).attempts, round);
        EXPECT_EQ(Find(hook.id).abandoned_at.has_value(), round == 22) << round;
        EXPECT_EQ(Find(mail.id).attempts, std::min(round, 10));
        EXPECT_EQ(Find(mail.id).abandoned_at.has_value(), round >= 10) << round;
        clock_.Advance(defaults.retry_max);
        total += defaults.retry_max;
    }
    // More than a day of retries for webhooks (docs/WEBHOOKS.md).
    const OutboxMessage last = Find(hook.id);
    EXPECT_GE(*last.abandoned_at - hook.created_at, 24h);
}

TEST_F(EventsTest, AHopelessMessageIsAbandonedAtOnce) {
    const OutboxMessage m = Queue(Channel::kEmail, "mario@example.org");
    transport_.script = {FakeDeliveryTransport::Invalid()};
    ASSERT_TRUE(DeliverOne());
    const OutboxMessage got = Find(m.id);
    EXPECT_EQ(got.attempts, 1);
    EXPECT_EQ(got.abandoned_at, clock_.Now());
    EXPECT_EQ(got.last_error, "unknown template");
    clock_.Advance(1h);
    EXPECT_FALSE(DeliverOne());
}

TEST_F(EventsTest, ADeferredMessageWaitsWithoutCountingAnAttempt) {
    const OutboxMessage m = Queue(Channel::kSms, "+393331234567");
    const Timestamp morning = clock_.Now() + 9h;
    transport_.script = {FakeDeliveryTransport::Defer(morning)};
    ASSERT_TRUE(DeliverOne());
    OutboxMessage got = Find(m.id);
    EXPECT_EQ(got.attempts, 0);
    EXPECT_EQ(got.next_attempt_at, morning);
    EXPECT_EQ(got.last_response, "quiet hours");
    EXPECT_FALSE(got.delivered_at);
    EXPECT_FALSE(got.abandoned_at);
    clock_.Set(morning - 1ms);
    EXPECT_FALSE(DeliverOne());
    clock_.Set(morning);
    ASSERT_TRUE(DeliverOne());
    got = Find(m.id);
    EXPECT_EQ(got.attempts, 1);
    EXPECT_EQ(got.delivered_at, morning);
}

TEST_F(EventsTest, WebhookSecretsComeFromTheEndpointAtDeliveryTime) {
    const WebhookEndpoint w = AddWebhook("https://hooks.example.org/");
    EXPECT_TRUE(w.secret.starts_with("whsec_")) << w.secret;
    MakeReady({Mario()});
    ASSERT_TRUE(DeliverOne());
    ASSERT_EQ(transport_.delivered.size(), 1u);
    EXPECT_EQ(transport_.delivered[0].secret, w.secret);
    EXPECT_EQ(transport_.delivered[0].destination, w.url);
    EXPECT_EQ(transport_.delivered[0].endpoint_id, w.id);
    EXPECT_EQ(Find(transport_.delivered[0].id).secret, "");  // still not stored
}

TEST_F(EventsTest, AMessageForARemovedEndpointIsAbandoned) {
    const WebhookEndpoint w = AddWebhook("https://hooks.example.org/");
    MakeReady({Mario()});
    ASSERT_TRUE(events_->RemoveWebhook(issuer_, w.id));
    ASSERT_TRUE(DeliverOne());
    EXPECT_TRUE(transport_.delivered.empty());  // never sent, without a secret
    const auto hooks = Outbox(Channel::kWebhook);
    ASSERT_EQ(hooks.size(), 1u);
    EXPECT_EQ(hooks[0].abandoned_at, clock_.Now());
    EXPECT_EQ(hooks[0].last_error, "the webhook endpoint was removed");
}

TEST_F(EventsTest, RedeliveryIsRefusedWhilePendingAndRequeuesADeliveredMessage) {
    const OutboxMessage m = Queue(Channel::kEmail, "mario@example.org");
    auto pending = events_->Redeliver(issuer_, m.id);
    ASSERT_FALSE(pending);
    EXPECT_EQ(pending.error().code, ErrorCode::kConflict);
    ASSERT_TRUE(DeliverOne());
    clock_.Advance(10min);
    auto again = events_->Redeliver(issuer_, m.id);
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(again->attempts, 0);
    EXPECT_FALSE(again->delivered_at);
    EXPECT_EQ(again->next_attempt_at, clock_.Now());
    const OutboxMessage stored = Find(m.id);
    EXPECT_EQ(stored.attempts, 0);
    EXPECT_FALSE(stored.delivered_at);
    ASSERT_TRUE(DeliverOne());
    ASSERT_EQ(transport_.delivered.size(), 2u);
    EXPECT_EQ(transport_.delivered[1].event_id, m.event_id);  // receivers deduplicate by it
    EXPECT_EQ(Find(m.id).delivered_at, clock_.Now());

    auto unknown = events_->Redeliver(issuer_, m.id + 100);
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
    const std::string other = MakeIssuer("ISSUER-B", "Oslo kommune");
    auto foreign = events_->Redeliver(other, m.id);
    ASSERT_FALSE(foreign);
    EXPECT_EQ(foreign.error().code, ErrorCode::kNotFound);
}

TEST_F(EventsTest, AnAbandonedMessageCanBeRedelivered) {
    const OutboxMessage m = Queue(Channel::kEmail, "mario@example.org");
    transport_.script = {FakeDeliveryTransport::Invalid()};
    ASSERT_TRUE(DeliverOne());
    ASSERT_TRUE(Find(m.id).abandoned_at);
    ASSERT_TRUE(events_->Redeliver(issuer_, m.id));
    EXPECT_FALSE(Find(m.id).abandoned_at);
    ASSERT_TRUE(DeliverOne());
    EXPECT_TRUE(Find(m.id).delivered_at);
}

TEST_F(EventsTest, DeliveriesListOneChannelNewestFirst) {
    Queue(Channel::kEmail, "a@example.org");
    Queue(Channel::kEmail, "b@example.org");
    Queue(Channel::kSms, "+393331234567");
    auto page = events_->Deliveries(issuer_, Channel::kEmail, PageQuery{1, std::nullopt});
    ASSERT_TRUE(page);
    ASSERT_EQ(page->items.size(), 1u);
    EXPECT_EQ(page->items[0].destination, "b@example.org");
    ASSERT_TRUE(page->next_after_id);
    auto rest = events_->Deliveries(issuer_, Channel::kEmail, PageQuery{0, page->next_after_id});
    ASSERT_TRUE(rest);  // a limit below 1 is raised to 1
    ASSERT_EQ(rest->items.size(), 1u);
    EXPECT_EQ(rest->items[0].destination, "a@example.org");
}

// ---- Polling -----------------------------------------------------------------------------------

TEST_F(EventsTest, PollingServesAChangeUntilConfirmedAndPacesTheIssuer) {
    const SignatureRequest r = MakeReady({Mario()});
    const Timestamp t0 = clock_.Now();
    auto first = events_->Poll(issuer_);
    ASSERT_TRUE(first) << first.error().message;
    ASSERT_TRUE(first->change);
    EXPECT_EQ(first->change->type, "signature_request.ready");
    EXPECT_EQ(first->change->request_id, r.id);
    EXPECT_EQ(first->next_poll_at, t0);  // more may follow: poll again at once

    // Served and unconfirmed: hidden, so the queue looks empty and the issuer is paced.
    auto empty = events_->Poll(issuer_);
    ASSERT_TRUE(empty);
    EXPECT_FALSE(empty->change);
    EXPECT_EQ(empty->next_poll_at, t0 + options_.poll_empty_interval);
    EXPECT_EQ(*events_->NextPollAt(issuer_), t0 + options_.poll_empty_interval);

    clock_.Advance(options_.poll_empty_interval - 1ms);
    auto early = events_->Poll(issuer_);
    ASSERT_FALSE(early);
    EXPECT_EQ(early.error().code, ErrorCode::kRateLimited);
    EXPECT_NE(early.error().message.find(FormatRfc3339(t0 + options_.poll_empty_interval)),
              std::string::npos)
        << early.error().message;
    clock_.Advance(1ms);
    auto permitted = events_->Poll(issuer_);
    ASSERT_TRUE(permitted) << permitted.error().message;
    EXPECT_FALSE(permitted->change);  // still hidden

    // After poll_redeliver_after the unconfirmed change is served again.
    clock_.Set(t0 + options_.poll_redeliver_after);
    auto again = events_->Poll(issuer_);
    ASSERT_TRUE(again) << again.error().message;
    ASSERT_TRUE(again->change);
    EXPECT_EQ(again->change->seq, first->change->seq);
    EXPECT_EQ(again->change->event_id, first->change->event_id);

    ASSERT_TRUE(events_->Confirm(issuer_, first->change->seq));
    auto twice = events_->Confirm(issuer_, first->change->seq);
    ASSERT_FALSE(twice);
    EXPECT_EQ(twice.error().code, ErrorCode::kNotFound);
    clock_.Advance(options_.poll_redeliver_after + 1s);
    auto done = events_->Poll(issuer_);
    ASSERT_TRUE(done) << done.error().message;
    EXPECT_FALSE(done->change);
}

TEST_F(EventsTest, PollingIsPerIssuer) {
    const std::string other = MakeIssuer("ISSUER-B", "Oslo kommune");
    const SignatureRequest r = MakeReady({Mario()});
    EXPECT_FALSE(*events_->NextPollAt(other));
    auto theirs = events_->Poll(other);
    ASSERT_TRUE(theirs);
    EXPECT_FALSE(theirs->change);
    auto mine = events_->Poll(issuer_);  // the other issuer's pacing does not apply
    ASSERT_TRUE(mine) << mine.error().message;
    ASSERT_TRUE(mine->change);
    auto foreign = events_->Confirm(other, mine->change->seq);
    ASSERT_FALSE(foreign);
    EXPECT_EQ(foreign.error().code, ErrorCode::kNotFound);
    EXPECT_TRUE(events_->Confirm(issuer_, mine->change->seq));
}

// ---- Webhook endpoints -------------------------------------------------------------------------

TEST_F(EventsTest, WebhookEndpointsAreValidated) {
    for (const char* url : {"ftp://hooks.example.org/", "hooks.example.org/x", "",
                            "https://hooks.example.org/a b", "javascript:alert(1)"}) {
        auto bad = events_->AddWebhook(issuer_, NewWebhook{url, {}});
        ASSERT_FALSE(bad) << url;
        EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument) << url;
        ASSERT_FALSE(bad.error().violations.empty());
        EXPECT_EQ(bad.error().violations[0].field, "url");
    }
    auto unknown = events_->AddWebhook(
        issuer_, NewWebhook{"https://hooks.example.org/", {"signer.signed", "signer.waved"}});
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error().code, ErrorCode::kInvalidArgument);
    ASSERT_EQ(unknown.error().violations.size(), 1u);
    EXPECT_EQ(unknown.error().violations[0].field, "events[1]");
    EXPECT_TRUE(events_->Webhooks(issuer_)->empty());

    // Every event type may be subscribed to (the first ten fill the issuer's endpoints, the
    // others go to a second issuer).
    const std::string spare = MakeIssuer("ISSUER-T", "Comune di Trento");
    for (std::string_view type : kEventTypes) {
        const auto added = events_->AddWebhook(
            issuer_,
            NewWebhook{"http://hooks.example.org/" + std::string(type), {std::string(type)}});
        if (!added) {
            EXPECT_EQ(added.error().code, ErrorCode::kConflict) << type;
            auto one = events_->AddWebhook(
                spare,
                NewWebhook{"http://hooks.example.org/" + std::string(type), {std::string(type)}});
            EXPECT_TRUE(one) << type;
        }
    }
    ASSERT_EQ(events_->Webhooks(issuer_)->size(), 10u);
    auto eleventh = events_->AddWebhook(issuer_, NewWebhook{"https://hooks.example.org/11", {}});
    ASSERT_FALSE(eleventh);
    EXPECT_EQ(eleventh.error().code, ErrorCode::kConflict);
    // The limit is per issuer.
    const std::string other = MakeIssuer("ISSUER-B", "Oslo kommune");
    EXPECT_TRUE(events_->AddWebhook(other, NewWebhook{"https://b.example.org/", {}}));
}

// Rotating a secret: the new endpoint needs its own URL (one URL gets each event once), and
// until the old one is removed both get every event under the same event id.
TEST_F(EventsTest, ASecondEndpointForTheSameUrlIsRefusedAndRotationUsesAnotherUrl) {
    const WebhookEndpoint old = AddWebhook("https://hooks.example.org/firmo");
    auto same = events_->AddWebhook(issuer_, NewWebhook{"https://hooks.example.org/firmo", {}});
    ASSERT_FALSE(same);
    EXPECT_EQ(same.error().code, ErrorCode::kConflict);
    EXPECT_NE(same.error().message.find(old.id), std::string::npos) << same.error().message;
    const WebhookEndpoint fresh = AddWebhook("https://hooks.example.org/firmo?v=2");
    EXPECT_NE(fresh.secret, old.secret);
    MakeReady({Mario()});
    const auto hooks = Outbox(Channel::kWebhook);
    ASSERT_EQ(hooks.size(), 2u);
    EXPECT_EQ(hooks[0].event_id, hooks[1].event_id);
    EXPECT_NE(hooks[0].endpoint_id, hooks[1].endpoint_id);
    // Another issuer may use the same URL.
    const std::string other = MakeIssuer("ISSUER-B", "Oslo kommune");
    EXPECT_TRUE(events_->AddWebhook(other, NewWebhook{"https://hooks.example.org/firmo", {}}));
}

TEST_F(EventsTest, WebhookEndpointsAreListedAndRemovedPerIssuer) {
    const WebhookEndpoint w = AddWebhook("https://hooks.example.org/", {"signer.blocked"});
    const std::string other = MakeIssuer("ISSUER-B", "Oslo kommune");
    auto listed = events_->Webhooks(issuer_);
    ASSERT_TRUE(listed);
    ASSERT_EQ(listed->size(), 1u);
    EXPECT_EQ((*listed)[0].id, w.id);
    EXPECT_EQ((*listed)[0].events, std::vector<std::string>{"signer.blocked"});
    EXPECT_TRUE(events_->Webhooks(other)->empty());
    auto foreign = events_->RemoveWebhook(other, w.id);
    ASSERT_FALSE(foreign);
    EXPECT_EQ(foreign.error().code, ErrorCode::kNotFound);
    auto unknown = events_->RemoveWebhook(issuer_, "no-such-webhook");
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
    ASSERT_TRUE(events_->RemoveWebhook(issuer_, w.id));
    EXPECT_TRUE(events_->Webhooks(issuer_)->empty());
}

// ---- Signer notifications ----------------------------------------------------------------------

TEST_F(EventsTest, NotifyQueuesOneEmailAndOneSmsPerSignerWhoseTurnItIs) {
    EnableNotifications();
    const SignatureRequest r = MakeReady(
        {Mario("+393331234567"),
         {IdentifierKind::kEmail, "", "kari@example.no", "+4791234567", 0},
         {IdentifierKind::kItFiscalCode, kGiovanni, "giovanni@example.org", std::nullopt, 1}});
    EXPECT_TRUE(Outbox(Channel::kEmail).empty());  // not before Notify
    auto id = requests_->Notify(issuer_, r.id, "test");
    ASSERT_TRUE(id) << id.error().message;

    const auto emails = Outbox(Channel::kEmail);
    const auto sms = Outbox(Channel::kSms);
    ASSERT_EQ(emails.size(), 2u);  // not Giovanni: not his turn yet
    ASSERT_EQ(sms.size(), 2u);
    EXPECT_EQ(emails[0].destination, "mario@example.org");
    EXPECT_EQ(emails[0].language, "it");  // a fiscal code
    EXPECT_EQ(emails[1].destination, "kari@example.no");
    EXPECT_EQ(emails[1].language, "nb");  // +47
    EXPECT_EQ(sms[0].destination, "+393331234567");
    EXPECT_EQ(sms[1].destination, "+4791234567");
    for (const auto* list : {&emails, &sms}) {
        for (const auto& m : *list) {
            EXPECT_EQ(m.template_name, "sign_request");
            EXPECT_EQ(m.request_id, r.id);
            EXPECT_EQ(m.next_attempt_at, clock_.Now());
            const auto payload = nlohmann::json::parse(m.payload_json, nullptr, false);
            ASSERT_FALSE(payload.is_discarded()) << m.payload_json;
            EXPECT_EQ(payload["issuer"], "Comune di Roma");
            EXPECT_EQ(payload["title"], "Contratto di lavoro");
            EXPECT_EQ(payload["expires_at"], FormatRfc3339(r.expires_at));
            const std::string link = payload["link"];
            EXPECT_TRUE(link.starts_with("https://sign.example.org/r/" + r.id + "/")) << link;
            // The document's own title ("Contract") is never sent by e-mail or SMS.
            EXPECT_EQ(m.payload_json.find("Contract"), std::string::npos) << m.payload_json;
        }
    }
    EXPECT_EQ(emails[0].payload_json, sms[0].payload_json);
    EXPECT_EQ(nlohmann::json::parse(emails[0].payload_json)["link"],
              "https://sign.example.org/r/" + r.id + "/" + r.signers[0].signer_id);
    EXPECT_EQ(Count(Events(r), "notification.queued"), 4);

    auto second = requests_->Notify(issuer_, r.id, "test");
    ASSERT_TRUE(second);
    EXPECT_EQ(*second, *id);
    EXPECT_EQ(Outbox(Channel::kEmail).size(), 2u);
    EXPECT_EQ(Outbox(Channel::kSms).size(), 2u);
}

TEST_F(EventsTest, WithoutASignerLinkNoMessagesAreQueued) {
    const SignatureRequest r = MakeReady({Mario("+393331234567")});
    ASSERT_TRUE(requests_->Notify(issuer_, r.id, "test"));
    EXPECT_TRUE(Outbox(Channel::kEmail).empty());
    EXPECT_TRUE(Outbox(Channel::kSms).empty());
}

TEST_F(EventsTest, DisabledChannelsAreSkipped) {
    EnableNotifications();
    ctx_->notifications.sms = false;
    const SignatureRequest r = MakeReady({Mario("+393331234567")});
    ASSERT_TRUE(requests_->Notify(issuer_, r.id, "test"));
    EXPECT_EQ(Outbox(Channel::kEmail).size(), 1u);
    EXPECT_TRUE(Outbox(Channel::kSms).empty());
}

TEST_F(EventsTest, AutoNotifyQueuesTheMessagesWhenTheRequestBecomesReady) {
    EnableNotifications();
    const SignatureRequest r = MakeReady({Mario("+393331234567")}, /*auto_notify=*/true);
    EXPECT_TRUE(r.auto_notify);
    EXPECT_TRUE(r.notification_id);
    EXPECT_EQ(r.status, RequestStatus::kWaitForSignature);
    const auto emails = Outbox(Channel::kEmail);
    ASSERT_EQ(emails.size(), 1u);
    EXPECT_EQ(emails[0].template_name, "sign_request");
    EXPECT_EQ(Outbox(Channel::kSms).size(), 1u);
    // Both the READY event and the notification happened.
    EXPECT_EQ(Types(Changes()), std::vector<std::string>{"signature_request.ready"});
    auto again = requests_->Notify(issuer_, r.id, "test");
    ASSERT_TRUE(again);
    EXPECT_EQ(*again, *r.notification_id);
    EXPECT_EQ(Outbox(Channel::kEmail).size(), 1u);
}

TEST_F(EventsTest, WithoutAutoNotifyReadyQueuesNothing) {
    EnableNotifications();
    const SignatureRequest r = MakeReady({Mario("+393331234567")});
    EXPECT_FALSE(r.notification_id);
    EXPECT_EQ(r.status, RequestStatus::kReady);
    EXPECT_TRUE(Outbox(Channel::kEmail).empty());
}

TEST_F(EventsTest, RemindersFollowTheScheduleOncePerEntry) {
    EnableNotifications();
    // Defaults: an e-mail 7 days and an SMS 1 day before expiry.
    const SignatureRequest r = MakeReady({Mario("+393331234567")}, false, 24h * 10);
    ASSERT_TRUE(requests_->Notify(issuer_, r.id, "test"));
    const auto reminders = [&](Channel channel) {
        int n = 0;
        for (const auto& m : Outbox(channel)) n += m.template_name == "reminder" ? 1 : 0;
        return n;
    };
    EXPECT_EQ(requests_->SendReminders(10), 0);
    clock_.Set(r.expires_at - 24h * 7 - 1ms);
    EXPECT_EQ(requests_->SendReminders(10), 0);  // not yet
    clock_.Set(r.expires_at - 24h * 7);
    EXPECT_EQ(requests_->SendReminders(10), 1);
    EXPECT_EQ(reminders(Channel::kEmail), 1);
    EXPECT_EQ(reminders(Channel::kSms), 0);
    clock_.Advance(1h);
    EXPECT_EQ(requests_->SendReminders(10), 0);  // once
    clock_.Set(r.expires_at - 24h);
    EXPECT_EQ(requests_->SendReminders(10), 1);
    EXPECT_EQ(reminders(Channel::kEmail), 1);
    EXPECT_EQ(reminders(Channel::kSms), 1);
    EXPECT_EQ(requests_->SendReminders(10), 0);
    const auto sms = Outbox(Channel::kSms);
    ASSERT_EQ(sms.size(), 2u);
    EXPECT_EQ(sms[1].template_name, "reminder");
    EXPECT_EQ(sms[1].language, "it");
    EXPECT_EQ(nlohmann::json::parse(sms[1].payload_json)["title"], "Contratto di lavoro");
}

TEST_F(EventsTest, ARequestNotifiedLateGetsEveryReminderDueOnce) {
    EnableNotifications();
    const SignatureRequest r = MakeReady({Mario("+393331234567")}, false, 12h);
    ASSERT_TRUE(requests_->Notify(issuer_, r.id, "test"));
    EXPECT_EQ(requests_->SendReminders(10), 2);  // both windows are open
    EXPECT_EQ(requests_->SendReminders(10), 0);
}

TEST_F(EventsTest, UnnotifiedRequestsGetNoReminders) {
    EnableNotifications();
    MakeReady({Mario("+393331234567")}, false, 12h);
    EXPECT_EQ(requests_->SendReminders(10), 0);
    EXPECT_TRUE(Outbox(Channel::kEmail).empty());
}

TEST_F(EventsTest, ExpiryOfANotifiedRequestTellsTheSigners) {
    EnableNotifications();
    const SignatureRequest r = MakeReady({Mario("+393331234567")});
    ASSERT_TRUE(requests_->Notify(issuer_, r.id, "test"));
    const SignatureRequest quiet = MakeReady(
        {{IdentifierKind::kItFiscalCode, kGiovanni, "giovanni@example.org", std::nullopt, 0}});
    clock_.Advance(49h);
    auto expired = requests_->ExpireDue(10);
    ASSERT_TRUE(expired);
    EXPECT_EQ(*expired, 2);
    std::vector<std::string> expired_to;
    for (const auto& m : Outbox(Channel::kEmail)) {
        if (m.template_name == "expired") expired_to.push_back(m.destination);
    }
    EXPECT_EQ(expired_to, std::vector<std::string>{"mario@example.org"});  // not the unnotified
    int sms = 0;
    for (const auto& m : Outbox(Channel::kSms)) sms += m.template_name == "expired" ? 1 : 0;
    EXPECT_EQ(sms, 1);
    EXPECT_EQ(requests_->ExpireDue(10), 0);
    (void)quiet;
}

TEST_F(EventsTest, SigningTheLastSignerQueuesTheSignedDocumentsLink) {
    EnableNotifications();
    const SignatureRequest r = MakeReady({Mario("+393331234567")}, true);
    SignAs(r, 0, LoginByCode(r, 0));
    ASSERT_EQ(Reload(r).status, RequestStatus::kSigned);
    std::vector<OutboxMessage> signed_mail;
    for (const auto& m : Outbox(Channel::kEmail)) {
        if (m.template_name == "signed_documents") signed_mail.push_back(m);
    }
    ASSERT_EQ(signed_mail.size(), 1u);
    EXPECT_EQ(signed_mail[0].destination, "mario@example.org");
    const auto payload = nlohmann::json::parse(signed_mail[0].payload_json);
    EXPECT_EQ(payload["link"], "https://sign.example.org/r/" + r.id + "/" + r.signers[0].signer_id);
    EXPECT_EQ(payload["title"], "Contratto di lavoro");
    int sms = 0;
    for (const auto& m : Outbox(Channel::kSms)) sms += m.template_name == "signed_documents";
    EXPECT_EQ(sms, 1);
}

TEST_F(EventsTest, TheNextSignerInOrderIsToldWhenItIsTheirTurn) {
    EnableNotifications();
    const SignatureRequest r = MakeReady(
        {Mario(), {IdentifierKind::kItFiscalCode, kGiovanni, "giovanni@example.org", {}, 1}}, true);
    ASSERT_EQ(Outbox(Channel::kEmail).size(), 1u);
    SignAs(r, 0, LoginByCode(r, 0));
    const auto emails = Outbox(Channel::kEmail);
    ASSERT_EQ(emails.size(), 2u);
    EXPECT_EQ(emails[1].destination, "giovanni@example.org");
    EXPECT_EQ(emails[1].template_name, "sign_request");
}

// ---- Issue 12: fairness between issuers, circuit breaker, nothing after the end ------------

// One issuer's endpoint that never answers (each call takes the whole 10 s timeout) must not
// hold up another issuer's e-mail and webhook; after a few failures in a row the endpoint's
// circuit opens and its messages fail without a call until a probe succeeds.
TEST_F(EventsTest, AnUnresponsiveEndpointOfOneIssuerDoesNotHoldUpAnothersMessages) {
    metrics::Registry registry;
    options_.metrics = &registry;
    options_.breaker = {.failures_to_open = 5, .open_for = 60s};
    events_ = std::make_unique<EventService>(*ctx_, &transport_, options_);
    const std::string other = MakeIssuer("ISSUER-B", "Oslo kommune");
    const WebhookEndpoint hole = AddWebhook("https://black-hole.example.org/");
    const WebhookEndpoint fine = AddWebhook("https://b.example.org/hook", {}, other);
    bool hole_answers = false;
    int hole_calls = 0;
    transport_.respond = [&](const OutboxMessage& m) -> std::optional<Result<DeliveryOutcome>> {
        if (m.destination != hole.url) return std::nullopt;
        ++hole_calls;
        if (hole_answers) return FakeDeliveryTransport::Ok();
        clock_.Advance(10s);  // the webhook timeout
        return FakeDeliveryTransport::Unavailable();
    };
    const Timestamp t0 = clock_.Now();
    for (int i = 0; i < 60; ++i) Queue(Channel::kWebhook, hole.url, hole.id);
    const OutboxMessage mail = Queue(Channel::kEmail, "kari@example.no", "", other);
    const OutboxMessage hook = Queue(Channel::kWebhook, fine.url, fine.id, other);
    const auto delivered_at = [&](const OutboxMessage& m) {
        auto tx = db_->Begin(TxMode::kRead);
        auto found = (*tx)->outbox().Find(other, m.id);
        return found && *found ? (*found)->delivered_at : std::nullopt;
    };
    for (int i = 0; i < 200 && !(delivered_at(mail) && delivered_at(hook)); ++i) {
        ASSERT_TRUE(DeliverOne()) << i;
    }
    ASSERT_TRUE(delivered_at(mail));
    ASSERT_TRUE(delivered_at(hook));
    // Each of B's messages waited for at most one of A's calls (FIFO: all 60 of them).
    EXPECT_LE(*delivered_at(mail) - t0, 20s);
    EXPECT_LE(*delivered_at(hook) - t0, 20s);

    // Every A message has been tried; the endpoint was called 5 times, then its circuit opened
    // and the other messages failed at once, visibly in the delivery log.
    while (DeliverOne()) {
    }
    EXPECT_EQ(hole_calls, 5);
    EXPECT_EQ(events_->Circuit(hole.id), CircuitState::kOpen);
    EXPECT_EQ(events_->Circuit(fine.id), CircuitState::kClosed);
    int held = 0;
    for (const auto& m : Outbox(Channel::kWebhook)) {
        EXPECT_GE(m.attempts, 1);
        EXPECT_FALSE(m.abandoned_at);
        if (m.last_error.starts_with("not attempted: the endpoint failed 5 times in a row")) {
            ++held;
            EXPECT_GE(m.next_attempt_at, t0 + 50s + 60s);
        }
    }
    EXPECT_EQ(held, 60 - 1);  // the fifth failure's own retry is not due yet
    const std::string text = registry.Render();
    EXPECT_NE(text.find("firmo_webhook_circuits_open 1"), std::string::npos) << text;
    EXPECT_NE(text.find("firmo_webhook_circuit_transitions_total{to=\"open\"} 1"),
              std::string::npos)
        << text;

    // After 60 s one probe goes; it fails, and the circuit opens again for 60 s.
    clock_.Set(t0 + 50s + 60s);
    while (DeliverOne()) {
    }
    EXPECT_EQ(hole_calls, 6);
    EXPECT_EQ(events_->Circuit(hole.id), CircuitState::kOpen);
    // The endpoint is back: the next probe succeeds, the circuit closes, and the held messages
    // go out on their retry schedule.
    hole_answers = true;
    clock_.Set(t0 + 50s + 60s + 10s + 60s);
    ASSERT_TRUE(DeliverOne());
    EXPECT_EQ(hole_calls, 7);
    EXPECT_EQ(events_->Circuit(hole.id), CircuitState::kClosed);
    clock_.Advance(1h);
    while (DeliverOne()) {
    }
    for (const auto& m : Outbox(Channel::kWebhook)) EXPECT_TRUE(m.delivered_at) << m.id;
    EXPECT_NE(registry.Render().find("firmo_webhook_circuits_open 0"), std::string::npos);
}

TEST(CircuitBreakersTest, OpensAfterFailuresInARowProbesOnceThenClosesOrReopens) {
    CircuitBreakers breakers({.failures_to_open = 3, .open_for = 10s});
    const Timestamp t = FromUnixMillis(1'000'000);
    EXPECT_TRUE(breakers.Admit("e", t).call);
    EXPECT_FALSE(breakers.Failed("e", t));
    EXPECT_FALSE(breakers.Failed("e", t));
    EXPECT_FALSE(breakers.Succeeded("e"));  // a success in between starts the count again
    EXPECT_FALSE(breakers.Failed("e", t));
    EXPECT_FALSE(breakers.Failed("e", t));
    EXPECT_EQ(breakers.Failed("e", t), CircuitState::kOpen);
    EXPECT_EQ(breakers.NotClosed(), 1u);
    auto held = breakers.Admit("e", t + 9s);
    EXPECT_FALSE(held.call);
    EXPECT_EQ(held.open_until, t + 10s);
    EXPECT_EQ(held.failures, 3);
    EXPECT_TRUE(breakers.Admit("other", t).call);
    auto probe = breakers.Admit("e", t + 10s);
    EXPECT_TRUE(probe.call);
    EXPECT_EQ(probe.changed_to, CircuitState::kHalfOpen);
    EXPECT_FALSE(breakers.Admit("e", t + 11s).call);  // one probe at a time
    EXPECT_EQ(breakers.Failed("e", t + 12s), CircuitState::kOpen);
    EXPECT_FALSE(breakers.Admit("e", t + 21s).call);
    EXPECT_TRUE(breakers.Admit("e", t + 22s).call);
    EXPECT_EQ(breakers.Succeeded("e"), CircuitState::kClosed);
    EXPECT_EQ(breakers.StateOf("e"), CircuitState::kClosed);
    EXPECT_EQ(breakers.NotClosed(), 0u);
    // A probe that never reports back does not keep the circuit half-open forever.
    for (int i = 0; i < 3; ++i) static_cast<void>(breakers.Failed("e", t));
    EXPECT_TRUE(breakers.Admit("e", t + 10s).call);
    EXPECT_FALSE(breakers.Admit("e", t + 19s).call);
    EXPECT_TRUE(breakers.Admit("e", t + 20s).call);
}

// Issue 12: an e-mail went out 51 ms and an SMS 1.6 s after the request was cancelled, and
// SMS held back for the night would have gone out at 08:00.
TEST_F(EventsTest, NothingAskingASignerToActIsSentOnceTheRequestIsCancelled) {
    EnableNotifications();
    const WebhookEndpoint w =
        AddWebhook("https://hooks.example.org/", {"signature_request.cancelled"});
    const SignatureRequest r = MakeReady({Mario("+393331234567")});
    ASSERT_TRUE(requests_->Notify(issuer_, r.id, "test"));
    ASSERT_EQ(Outbox(Channel::kEmail).size(), 1u);
    ASSERT_EQ(Outbox(Channel::kSms).size(), 1u);
    // Queued, then cancelled before the delivery thread got to them.
    ASSERT_TRUE(requests_->ChangeStatus(issuer_, r.id, RequestedStatus::kCancelled, "test"));
    while (DeliverOne()) {
    }
    // The webhook announcing the cancellation, and the signer's cancellation notice (issue 18).
    std::vector<std::string> sent;
    for (const auto& m : transport_.delivered) sent.push_back(m.template_name);
    std::sort(sent.begin(), sent.end());
    EXPECT_EQ(sent,
              (std::vector<std::string>{"cancelled", "cancelled", "signature_request.cancelled"}));
    for (Channel channel : {Channel::kEmail, Channel::kSms}) {
        const auto messages = Outbox(channel);
        ASSERT_EQ(messages.size(), 2u);
        EXPECT_EQ(messages[0].template_name, "sign_request");
        EXPECT_FALSE(messages[0].delivered_at);
        EXPECT_EQ(messages[0].abandoned_at, clock_.Now());
        EXPECT_EQ(messages[0].attempts, 0);
        EXPECT_EQ(messages[0].last_error, "not sent: the request is cancelled");
        EXPECT_TRUE(messages[1].delivered_at);
    }
    // A redelivery request changes nothing: the check is at send time.
    ASSERT_TRUE(events_->Redeliver(issuer_, Outbox(Channel::kEmail)[0].id));
    EXPECT_TRUE(DeliverOne());
    EXPECT_EQ(transport_.delivered.size(), 3u);
    EXPECT_TRUE(Outbox(Channel::kEmail)[0].abandoned_at);
}

TEST_F(EventsTest, AnSmsHeldForQuietHoursIsNotSentAfterACancel) {
    EnableNotifications();
    const SignatureRequest r = MakeReady({Mario("+393331234567")});
    ASSERT_TRUE(requests_->Notify(issuer_, r.id, "test"));
    const Timestamp morning = clock_.Now() + 9h;
    transport_.respond = [&](const OutboxMessage& m) -> std::optional<Result<DeliveryOutcome>> {
        if (m.channel == Channel::kSms && clock_.Now() < morning) {
            return FakeDeliveryTransport::Defer(morning);
        }
        return std::nullopt;
    };
    while (DeliverOne()) {
    }
    ASSERT_EQ(transport_.delivered.size(), 2u);  // the e-mail, and the SMS deferred
    ASSERT_TRUE(requests_->ChangeStatus(issuer_, r.id, RequestedStatus::kCancelled, "test"));
    clock_.Set(morning);
    while (DeliverOne()) {
    }
    // Only the cancellation notice (e-mail and SMS) went out since.
    ASSERT_EQ(transport_.delivered.size(), 4u);
    EXPECT_EQ(transport_.delivered[2].template_name, "cancelled");
    EXPECT_EQ(transport_.delivered[3].template_name, "cancelled");
    const auto sms = Outbox(Channel::kSms);
    ASSERT_EQ(sms.size(), 2u);
    EXPECT_EQ(sms[0].template_name, "sign_request");
    EXPECT_FALSE(sms[0].delivered_at);
    EXPECT_EQ(sms[0].last_error, "not sent: the request is cancelled");
}

TEST_F(EventsTest, TheMessagesAnnouncingTheEndStillGoOut) {
    EnableNotifications();
    const SignatureRequest r = MakeReady({Mario("+393331234567")});
    ASSERT_TRUE(requests_->Notify(issuer_, r.id, "test"));
    clock_.Advance(49h);
    ASSERT_EQ(requests_->ExpireDue(10), 1);
    while (DeliverOne()) {
    }
    std::vector<std::string> sent;
    for (const auto& m : transport_.delivered) {
        sent.push_back(std::string(ToString(m.channel)) + ":" + m.template_name);
    }
    EXPECT_EQ(sent, (std::vector<std::string>{"email:expired", "sms:expired"}));
    EXPECT_TRUE(AnnouncesTheEnd(
        OutboxMessage{.channel = Channel::kWebhook, .template_name = "signer.signed"}));
    EXPECT_TRUE(AnnouncesTheEnd(
        OutboxMessage{.channel = Channel::kEmail, .template_name = "signed_documents"}));
    EXPECT_FALSE(
        AnnouncesTheEnd(OutboxMessage{.channel = Channel::kSms, .template_name = "reminder"}));
    EXPECT_FALSE(AnnouncesTheEnd(
        OutboxMessage{.channel = Channel::kEmail, .template_name = "sign_request"}));
}

TEST_F(EventsTest, WebhookUrlsWithCredentialsOrNoHostAreRefused) {
    for (const char* url :
         {"https://user:pass@hooks.example.org/", "http://user@127.0.0.1/",
          "https://hooks.example.org\\@evil.example/", "http:///hook", "http://:80/hook",
          "https://hooks.example.org/\x01", "https://hooks.example.org/\x7f"}) {
        auto bad = events_->AddWebhook(issuer_, NewWebhook{url, {}});
        ASSERT_FALSE(bad) << url;
        EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument) << url;
        ASSERT_FALSE(bad.error().violations.empty()) << url;
        EXPECT_EQ(bad.error().violations[0].field, "url") << url;
    }
    // An @ after the host (path, query) is no credential.
    EXPECT_TRUE(
        events_->AddWebhook(issuer_, NewWebhook{"https://hooks.example.org/a@b?c=d@e", {}}));
}

// ---- Issue 17: test requests -----------------------------------------------------------------

class TestModeEventsTest : public EventsTest {
  protected:
    // A READY test request (made with a test key) of Mario with a phone, notified.
    SignatureRequest MakeNotifiedTestRequest() {
        const RequestScope test_key(issuer_, true);
        DossierService dossiers(*ctx_);
        auto dossier = dossiers.Create(
            issuer_, NewDossier{"Contratto di lavoro", std::nullopt, OneDocument()});
        EXPECT_TRUE(dossier) << dossier.error().message;
        SignerService signers(*ctx_);
        auto signer =
            signers.Resolve(issuer_, NewSigner{IdentifierKind::kItFiscalCode, kMario,
                                               "mario@example.org", "+393331234567", std::nullopt});
        EXPECT_TRUE(signer) << signer.error().message;
        if (!dossier || !signer) return {};
        NewSignatureRequest input;
        input.dossier_id = dossier->id;
        input.signers.push_back({signer->signer.id, 0});
        auto request = requests_->Create(test_key, input, "issuer:firmo_test_x");
        EXPECT_TRUE(request) << request.error().message;
        if (!request) return {};
        auto uploaded = requests_->UploadDocument(test_key, request->id, request->documents[0].id,
                                                  Upload{"%PDF-1.7\n% document\n", "test"});
        EXPECT_TRUE(uploaded) << uploaded.error().message;
        worker_->RunOnce();  // validation
        auto ready = requests_->ChangeStatus(test_key, request->id, RequestedStatus::kReady, "t");
        EXPECT_TRUE(ready) << ready.error().message;
        auto notified = requests_->Notify(test_key, request->id, "t");
        EXPECT_TRUE(notified) << notified.error().message;
        return ready ? *ready : SignatureRequest{};
    }
};

TEST_F(TestModeEventsTest, ATestRequestsMessagesAreRecordedAndNotSentButItsWebhooksAre) {
    EnableNotifications();
    metrics::Registry registry;
    options_.metrics = &registry;
    events_ = std::make_unique<EventService>(*ctx_, &transport_, options_);
    AddWebhook("https://hooks.example.org/all");
    const SignatureRequest r = MakeNotifiedTestRequest();
    ASSERT_TRUE(r.test);
    ASSERT_EQ(Outbox(Channel::kEmail).size(), 1u);
    ASSERT_EQ(Outbox(Channel::kSms).size(), 1u);
    while (DeliverOne()) {
    }
    // Only the webhook reached a transport, with "test": true in its data.
    ASSERT_FALSE(transport_.delivered.empty());
    for (const OutboxMessage& m : transport_.delivered) {
        EXPECT_EQ(m.channel, Channel::kWebhook) << m.destination;
        const auto body = nlohmann::json::parse(m.payload_json, nullptr, false);
        EXPECT_EQ(body["data"]["test"], true) << m.payload_json;
    }
    // The e-mail and the SMS are recorded as not sent, never attempted.
    for (Channel channel : {Channel::kEmail, Channel::kSms}) {
        const auto messages = Outbox(channel);
        ASSERT_EQ(messages.size(), 1u);
        EXPECT_TRUE(messages[0].abandoned_at);
        EXPECT_FALSE(messages[0].delivered_at);
        EXPECT_EQ(messages[0].attempts, 0);
        EXPECT_EQ(messages[0].last_error, kNotSentTest);
        EXPECT_NE(messages[0].payload_json.find("https://sign.example.org/r/" + r.id),
                  std::string::npos);  // the link stays readable in the delivery log
    }
    // A live key cannot redeliver a test request's message, nor a test key a live one's.
    const std::int64_t recorded = Outbox(Channel::kEmail)[0].id;
    auto crossed = events_->Redeliver(issuer_, recorded, false);
    ASSERT_FALSE(crossed);
    EXPECT_EQ(crossed.error().code, ErrorCode::kNotFound);
    ASSERT_TRUE(events_->Redeliver(issuer_, recorded, true));
    ASSERT_TRUE(DeliverOne());  // recorded again, not sent
    EXPECT_EQ(Find(recorded).last_error, kNotSentTest);
    for (const OutboxMessage& m : transport_.delivered) EXPECT_EQ(m.channel, Channel::kWebhook);
    // Counted twice for e-mail: once at first, once after the redelivery.
    const std::string text = registry.Render();
    EXPECT_NE(text.find("firmo_outbox_test_messages_total{channel=\"email\"} 2"), std::string::npos)
        << text;
    EXPECT_NE(text.find("firmo_outbox_test_messages_total{channel=\"sms\"} 1"), std::string::npos);

    // A live request's messages still go out.
    transport_.delivered.clear();
    const SignatureRequest live = MakeReady({Mario()});
    ASSERT_TRUE(requests_->Notify(issuer_, live.id, "t"));
    while (DeliverOne()) {
    }
    const bool mailed =
        std::any_of(transport_.delivered.begin(), transport_.delivered.end(),
                    [](const OutboxMessage& m) { return m.channel == Channel::kEmail; });
    EXPECT_TRUE(mailed);
    for (const OutboxMessage& m : transport_.delivered) {
        EXPECT_EQ(m.payload_json.find("\"test\""), std::string::npos) << m.payload_json;
    }
}

// A test request's one-time codes are not handed to the code sender either: they are recorded in
// the outbox (readable in the delivery log) and never sent.
TEST_F(TestModeEventsTest, ATestRequestsCodesAreRecordedAndNotSent) {
    const SignatureRequest r = MakeNotifiedTestRequest();
    auto sent = sessions_->SendCode(r.id, r.signers[0].signer_id, CodeKind::kLogin, client_);
    ASSERT_TRUE(sent) << sent.error().message;
    EXPECT_TRUE(codes_.sent.empty());
    const auto emails = Outbox(Channel::kEmail);
    const auto code = std::find_if(emails.begin(), emails.end(), [](const OutboxMessage& m) {
        return m.template_name == "login_code";
    });
    ASSERT_NE(code, emails.end());
    EXPECT_EQ(code->destination, "mario@example.org");
    const auto payload = nlohmann::json::parse(code->payload_json, nullptr, false);
    ASSERT_TRUE(payload.contains("code")) << code->payload_json;
    const std::string digits = payload["code"];
    while (DeliverOne()) {
    }
    EXPECT_TRUE(transport_.delivered.empty());
    EXPECT_EQ(Find(code->id).last_error, kNotSentTest);
    // The recorded code opens the session, as a sent one would.
    auto handle = sessions_->LoginWithCode("", r.id, r.signers[0].signer_id, digits, client_);
    EXPECT_TRUE(handle) << handle.error().message;
}

TEST_F(TestModeEventsTest, TestAndLiveKeysPollTheirOwnRequestsChanges) {
    const SignatureRequest live = MakeReady({Mario()});
    const SignatureRequest test = MakeNotifiedTestRequest();
    auto live_poll = events_->Poll(issuer_, "", false);
    ASSERT_TRUE(live_poll) << live_poll.error().message;
    ASSERT_TRUE(live_poll->change);
    EXPECT_EQ(live_poll->change->request_id, live.id);
    auto test_poll = events_->Poll(issuer_, "", true);
    ASSERT_TRUE(test_poll) << test_poll.error().message;
    ASSERT_TRUE(test_poll->change);
    EXPECT_EQ(test_poll->change->request_id, test.id);
    // A key confirms only its mode's changes (404, as a change that does not exist).
    auto crossed = events_->Confirm(issuer_, test_poll->change->seq, false);
    ASSERT_FALSE(crossed);
    EXPECT_EQ(crossed.error().code, ErrorCode::kNotFound);
    crossed = events_->Confirm(issuer_, live_poll->change->seq, true);
    ASSERT_FALSE(crossed);
    EXPECT_EQ(crossed.error().code, ErrorCode::kNotFound);
    ASSERT_TRUE(events_->Confirm(issuer_, live_poll->change->seq, false));
    // Each queue is paced on its own, and neither serves the other's change.
    ASSERT_TRUE(events_->Confirm(issuer_, test_poll->change->seq, true));
    clock_.Advance(options_.poll_empty_interval);
    auto test_again = events_->Poll(issuer_, "", true);
    ASSERT_TRUE(test_again) << test_again.error().message;
    EXPECT_FALSE(test_again->change);
}

}  // namespace
}  // namespace firmo::domain
