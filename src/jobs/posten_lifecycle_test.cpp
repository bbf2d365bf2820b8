// The lifecycle and privacy features modelled on Posten signering (issue 18): final signer
// statuses (NOT_APPLICABLE, BLOCKED ends the request), cancellation notices, non-sensitive
// titles, deadline changes, activation time, document deletion and retention, named polling
// queues, signing on behalf of an organisation. Here, beside the worker, because they need the
// real store and the worker, which only this test binary links (see
// jobs/testing/request_fixture.hpp).

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "domain/services/event_service.hpp"
#include "domain/services/request_steps.hpp"
#include "jobs/testing/request_fixture.hpp"

namespace firmo::domain {
namespace {

using namespace firmo::domain;
using namespace firmo::domain::fixtures;
using namespace std::chrono_literals;

// Hands every message over at once and remembers it.
class RecordingTransport final : public DeliveryTransport {
  public:
    Result<DeliveryOutcome> Deliver(const OutboxMessage& message) override {
        delivered.push_back(message);
        return DeliveryOutcome{true, std::nullopt, "250 OK"};
    }
    std::vector<OutboxMessage> delivered;
};

class PostenTest : public RequestFixture {
  protected:
    void SetUp() override {
        RequestFixture::SetUp();
        if (HasFatalFailure()) return;
        ctx_->notifications.signer_link = [](const SignatureRequest& r,
                                             const std::string& signer_id) {
            return "https://sign.example.org/r/" + r.id + "/" + signer_id;
        };
        events_ = std::make_unique<EventService>(*ctx_, &transport_, EventOptions{});
    }

    // Delivers every due outbox message; the templates that went out, in order.
    std::vector<std::string> DeliverAll() {
        while (true) {
            auto one = events_->DeliverOne();
            EXPECT_TRUE(one) << one.error().message;
            if (!one || !*one) break;
        }
        std::vector<std::string> out;
        for (const auto& m : transport_.delivered) out.push_back(m.template_name);
        transport_.delivered.clear();
        return out;
    }

    static Party Mario(int order = 0) { return Italian(kMario, "mario@example.org", order); }
    static Party Giovanni(int order = 0) {
        return Italian(kGiovanni, "giovanni@example.org", order);
    }
    static Party Luigia(int order = 0) { return Italian(kLuigia, "luigia@example.org", order); }
    static Party Italian(const std::string& fiscal_code, const std::string& email, int order) {
        return {IdentifierKind::kItFiscalCode, fiscal_code, email, std::nullopt, order};
    }

    // The e-mail destinations of one template, oldest first.
    std::vector<std::string> MailedTo(const std::string& template_name) {
        std::vector<std::string> out;
        for (const auto& m : Outbox(Channel::kEmail)) {
            if (m.template_name == template_name) out.push_back(m.destination);
        }
        return out;
    }

    std::optional<nlohmann::json> ChangeData(const std::string& type) {
        for (const auto& c : Changes()) {
            if (c.type == type) return nlohmann::json::parse(c.payload_json)["data"];
        }
        return std::nullopt;
    }

    static std::vector<SignerStatus> Statuses(const SignatureRequest& r) {
        std::vector<SignerStatus> out;
        for (const auto& s : r.signers) out.push_back(s.status);
        return out;
    }

    // Wrong login codes until the signer is BLOCKED.
    void Block(const SignatureRequest& r, std::size_t position) {
        const std::string& signer_id = r.signers[position].signer_id;
        ASSERT_TRUE(sessions_->SendCode(r.id, signer_id, CodeKind::kLogin, client_));
        const std::string wrong = codes_.last().code == "000000" ? "000001" : "000000";
        for (int i = 0; i < sessions_->options().max_code_attempts; ++i) {
            auto login = sessions_->LoginWithCode("", r.id, signer_id, wrong, client_);
            ASSERT_FALSE(login);
        }
        ASSERT_EQ(Reload(r).signers[position].status, SignerStatus::kBlocked);
    }

    RecordingTransport transport_;
    std::unique_ptr<EventService> events_;
};

using SS = SignerStatus;

// ---- 1. Signer statuses --------------------------------------------------------------------

TEST_F(PostenTest, ARejectionMakesTheOtherWaitingSignersNotApplicable) {
    // Mario and Giovanni in parallel, Luigia after them.
    const SignatureRequest r = MakeReady({Mario(0), Giovanni(0), Luigia(1)});
    const PortalSession s = LoginByCode(r, 0);
    ASSERT_TRUE(ceremony_->Open(s, r.id, client_));
    ASSERT_TRUE(ceremony_->Reject(s, r.id, "no", client_));
    const SignatureRequest after = Reload(r);
    EXPECT_EQ(after.status, RequestStatus::kRejected);
    EXPECT_EQ(Statuses(after),
              (std::vector<SS>{SS::kRejected, SS::kNotApplicable, SS::kNotApplicable}));
    EXPECT_EQ(Count(Events(r), "signer.not_applicable"), 2);
}

TEST_F(PostenTest, CancelAndExpiryEndOnlyTheSignersWhoseTurnCame) {
    const SignatureRequest cancelled = MakeReady({Mario(0), Giovanni(1)});
    ASSERT_TRUE(requests_->ChangeStatus(issuer_, cancelled.id, RequestedStatus::kCancelled, "t"));
    EXPECT_EQ(Statuses(Reload(cancelled)), (std::vector<SS>{SS::kCancelled, SS::kNotApplicable}));

    const SignatureRequest expired = MakeReady({Mario(0), Giovanni(1)});
    clock_.Advance(49h);
    EXPECT_EQ(Statuses(Reload(expired)), (std::vector<SS>{SS::kExpired, SS::kNotApplicable}));
}

TEST_F(PostenTest, FailedSigningMakesTheRemainingSignersNotApplicable) {
    const SignatureRequest r = MakeReady({Mario(0), Giovanni(1)});
    const PortalSession s = LoginByCode(r, 0);
    ASSERT_TRUE(ceremony_->Open(s, r.id, client_));
    std::vector<FieldRef> all = {{0, 0}};
    ASSERT_TRUE(ceremony_->Accept(s, r.id, all, client_));
    ASSERT_TRUE(ceremony_->Confirm(s, r.id, codes_.last().code, client_));
    trust_.fail = true;
    worker_->RunOnce();
    clock_.Advance(1h);
    worker_->RunOnce();  // the last attempt: abandoned
    const SignatureRequest after = Reload(r);
    ASSERT_EQ(after.status, RequestStatus::kFailed);
    EXPECT_EQ(Statuses(after), (std::vector<SS>{SS::kNotApplicable, SS::kNotApplicable}));
}

TEST_F(PostenTest, ABlockedSignerFailsTheRequestAndTheIssuerIsTold) {
    const SignatureRequest r = MakeReady({Mario(0), Giovanni(1)});
    Block(r, 0);
    const SignatureRequest after = Reload(r);
    EXPECT_EQ(after.status, RequestStatus::kFailed);
    EXPECT_EQ(Statuses(after), (std::vector<SS>{SS::kBlocked, SS::kNotApplicable}));
    const auto blocked = ChangeData("signer.blocked");
    ASSERT_TRUE(blocked);
    EXPECT_EQ((*blocked)["status"], "FAILED");  // the request's status after the step
    const auto failed = ChangeData("signature_request.failed");
    ASSERT_TRUE(failed);
    EXPECT_EQ((*failed)["status"], "FAILED");
    EXPECT_EQ((*failed)["signer_id"], r.signers[0].signer_id);
    EXPECT_NE((*failed)["reason"].get<std::string>().find("blocked"), std::string::npos);
    EXPECT_EQ(Count(Events(r), "signature_request.signer_blocked"), 1);
}

TEST_F(PostenTest, ASignerBlockedWhileAnotherIsBeingSignedFailsTheRequestAfterwards) {
    const SignatureRequest r = MakeReady({Mario(0), Giovanni(0)});
    const PortalSession s = LoginByCode(r, 0);
    ASSERT_TRUE(ceremony_->Open(s, r.id, client_));
    ASSERT_TRUE(ceremony_->Accept(s, r.id, {{0, 0}}, client_));
    ASSERT_TRUE(ceremony_->Confirm(s, r.id, codes_.last().code, client_));
    ASSERT_EQ(Reload(r).status, RequestStatus::kWaitForQtsp);
    clock_.Advance(1min);
    Block(r, 1);
    EXPECT_EQ(Reload(r).status, RequestStatus::kWaitForQtsp);  // the signing settles first
    EXPECT_GT(worker_->RunOnce(), 0);
    const SignatureRequest after = Reload(r);
    EXPECT_EQ(after.status, RequestStatus::kFailed);
    EXPECT_EQ(Statuses(after), (std::vector<SS>{SS::kSigned, SS::kBlocked}));
}

// ---- 2. Cancellation notice ----------------------------------------------------------------

TEST_F(PostenTest, CancellingTellsTheNotifiedSignersAndNothingElseGoesOut) {
    const SignatureRequest r = MakeReady({Mario(0), Giovanni(1)});
    ASSERT_TRUE(requests_->Notify(issuer_, r.id, "test"));
    EXPECT_EQ(MailedTo("sign_request"), std::vector<std::string>{"mario@example.org"});
    ASSERT_TRUE(requests_->ChangeStatus(issuer_, r.id, RequestedStatus::kCancelled, "test"));
    // Only Mario was told about it; Giovanni's turn never came.
    EXPECT_EQ(MailedTo("cancelled"), std::vector<std::string>{"mario@example.org"});
    // The invitation still waiting in the outbox is withdrawn; the notice goes out.
    EXPECT_EQ(DeliverAll(), std::vector<std::string>{"cancelled"});
    // No reminder, no code after the cancel.
    clock_.Advance(47h);
    EXPECT_EQ(requests_->SendReminders(10), 0);
    EXPECT_FALSE(sessions_->SendCode(r.id, r.signers[0].signer_id, CodeKind::kLogin, client_));
    EXPECT_TRUE(DeliverAll().empty());
}

TEST_F(PostenTest, CancellingARequestNobodyWasToldOfSendsNothing) {
    const SignatureRequest r = MakeReady({Mario(0)});
    ASSERT_TRUE(requests_->ChangeStatus(issuer_, r.id, RequestedStatus::kCancelled, "test"));
    EXPECT_TRUE(Outbox(Channel::kEmail).empty());
}

// ---- 3. Non-sensitive title ----------------------------------------------------------------

std::string PayloadTitle(const OutboxMessage& m) {
    return nlohmann::json::parse(m.payload_json)["title"].get<std::string>();
}

TEST_F(PostenTest, MessagesShowTheNonSensitiveTitleOfTheRequestOrTheDossier) {
    const NewDossier sensitive{"Licenziamento per giusta causa", std::nullopt, OneDocument(),
                               "Documento dal datore di lavoro"};
    const SignatureRequest by_dossier = MakeReady({Mario(0)}, {}, sensitive);
    const SignatureRequest by_request = MakeReady(
        {Giovanni(0)}, [](NewSignatureRequest& in) { in.non_sensitive_title = "Pratica 12"; },
        sensitive);
    const SignatureRequest plain = MakeReady({Luigia(0)});
    for (const auto* r : {&by_dossier, &by_request, &plain}) {
        ASSERT_TRUE(requests_->Notify(issuer_, r->id, "test"));
    }
    std::map<std::string, std::string> titles;
    for (const auto& m : Outbox(Channel::kEmail)) titles[m.destination] = PayloadTitle(m);
    EXPECT_EQ(titles["mario@example.org"], "Documento dal datore di lavoro");
    EXPECT_EQ(titles["giovanni@example.org"], "Pratica 12");
    EXPECT_EQ(titles["luigia@example.org"], "Contratto di lavoro");  // none given: the title
    // The eID inbox too; the sensitive title never leaves in a message.
    auto tx = db_->Begin(TxMode::kRead);
    ASSERT_TRUE(tx);
    auto inbox = (*tx)->inbox().List(IdentifierKind::kItFiscalCode, kMario, PageQuery{10, {}});
    ASSERT_TRUE(inbox && inbox->items.size() == 1u);
    EXPECT_EQ(inbox->items[0].title, "Documento dal datore di lavoro");
    for (const auto& m : Outbox(Channel::kEmail)) {
        EXPECT_EQ(m.payload_json.find("Licenziamento"), std::string::npos) << m.payload_json;
    }
    // And the reminders and the expiry notice.
    clock_.Advance(47h);
    ASSERT_GT(requests_->SendReminders(10).value_or(0), 0);
    clock_.Advance(2h);
    ASSERT_TRUE(requests_->ExpireDue(10));
    for (const auto& m : Outbox(Channel::kEmail)) {
        if (m.destination != "mario@example.org") continue;
        EXPECT_EQ(PayloadTitle(m), "Documento dal datore di lavoro") << m.template_name;
    }
}

TEST_F(PostenTest, ANonSensitiveTitleHasAtMost80Characters) {
    DossierService dossiers(*ctx_);
    auto dossier = dossiers.Create(
        issuer_, NewDossier{"Contratto", std::nullopt, OneDocument(), std::string(81, 'x')});
    ASSERT_FALSE(dossier);
    ASSERT_EQ(dossier.error().violations.size(), 1u);
    EXPECT_EQ(dossier.error().violations[0].field, "non_sensitive_title");
    auto empty = dossiers.Create(issuer_, NewDossier{"Contratto", std::nullopt, OneDocument(), ""});
    ASSERT_FALSE(empty);
}

// ---- 4. Deadline changes -------------------------------------------------------------------

TEST_F(PostenTest, TheDeadlineOfALiveRequestMovesAndTheIssuerIsTold) {
    const SignatureRequest r = MakeReady({Mario(0)});
    auto later = requests_->ChangeDeadline(issuer_, r.id, clock_.Now() + 30 * 24h, "issuer:k");
    ASSERT_TRUE(later) << later.error().message;
    EXPECT_EQ(Reload(r).expires_at, clock_.Now() + 30 * 24h);
    clock_.Advance(49h);  // past the old deadline: still live
    EXPECT_EQ(Reload(r).status, RequestStatus::kReady);
    auto sooner = requests_->ChangeDeadline(issuer_, r.id, clock_.Now() + 1h, "issuer:k");
    ASSERT_TRUE(sooner);
    const auto updated = ChangeData("signature_request.updated");
    ASSERT_TRUE(updated);
    EXPECT_EQ((*updated)["status"], "READY");
    EXPECT_NE((*updated)["reason"].get<std::string>().find("expires_at"), std::string::npos);
    EXPECT_EQ(Count(Events(r), "signature_request.updated"), 2);
    clock_.Advance(1h);
    EXPECT_EQ(Reload(r).status, RequestStatus::kExpired);  // the shorter deadline holds
    auto final = requests_->ChangeDeadline(issuer_, r.id, clock_.Now() + 1h, "issuer:k");
    ASSERT_FALSE(final);
    EXPECT_EQ(final.error().code, ErrorCode::kConflict);
}

TEST_F(PostenTest, ADeadlineMustBeAheadAndWithinTheLimit) {
    const SignatureRequest r = MakeReady({Mario(0)});
    for (const Timestamp t : {clock_.Now(), clock_.Now() + 24h * 91}) {
        auto refused = requests_->ChangeDeadline(issuer_, r.id, t, "issuer:k");
        ASSERT_FALSE(refused);
        EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
        EXPECT_EQ(refused.error().violations.at(0).field, "expires_at");
    }
    ASSERT_TRUE(requests_->ChangeStatus(issuer_, r.id, RequestedStatus::kCancelled, "test"));
    auto cancelled = requests_->ChangeDeadline(issuer_, r.id, clock_.Now() + 1h, "issuer:k");
    ASSERT_FALSE(cancelled);
    EXPECT_EQ(cancelled.error().code, ErrorCode::kConflict);
}

// ---- 5. Activation time ----------------------------------------------------------------------

TEST_F(PostenTest, ActivationTimeMustBeAheadAndBeforeTheDeadline) {
    for (const auto& [at, reason] : std::vector<std::pair<Timestamp, std::string>>{
             {clock_.Now(), "must be in the future"},
             {clock_.Now() + 48h, "must be before expires_at"},
             {clock_.Now() + 72h, "must be before expires_at"}}) {
        DossierService dossiers(*ctx_);
        auto dossier = dossiers.Create(issuer_, {"Contratto", std::nullopt, OneDocument()});
        ASSERT_TRUE(dossier);
        SignerService signers(*ctx_);
        auto signer =
            signers.Resolve(issuer_, NewSigner{IdentifierKind::kItFiscalCode, kMario,
                                               "mario@example.org", std::nullopt, std::nullopt});
        ASSERT_TRUE(signer);
        NewSignatureRequest input;
        input.dossier_id = dossier->id;
        input.expires_at = clock_.Now() + 48h;
        input.activates_at = at;
        input.signers.push_back({signer->signer.id, 0});
        auto refused = requests_->Create(issuer_, input, "test");
        ASSERT_FALSE(refused);
        EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
        ASSERT_EQ(refused.error().violations.size(), 1u);
        EXPECT_EQ(refused.error().violations[0].field, "activates_at");
        EXPECT_EQ(refused.error().violations[0].reason, reason);
    }
}

TEST_F(PostenTest, BeforeItsActivationTimeNobodyIsToldAndNobodySigns) {
    const Timestamp opens = clock_.Now() + 2h;
    const SignatureRequest r =
        MakeReady({Mario(0)}, [&](NewSignatureRequest& input) { input.activates_at = opens; });
    EXPECT_EQ(r.activates_at, opens);
    ASSERT_TRUE(requests_->Notify(issuer_, r.id, "issuer:k"));
    EXPECT_TRUE(MailedTo("sign_request").empty());  // the notification waits
    EXPECT_EQ(Count(Events(r), "notification.scheduled"), 1);

    // The signer can neither ask for a code nor open the request (eID login) yet.
    auto code = sessions_->SendCode(r.id, r.signers[0].signer_id, CodeKind::kLogin, client_);
    ASSERT_FALSE(code);
    EXPECT_EQ(code.error().code, ErrorCode::kNotYetActive);
    const PortalSession eid = LoginByIdentity(IdentifierKind::kItFiscalCode, kMario);
    auto open = ceremony_->Open(eid, r.id, client_);
    ASSERT_FALSE(open);
    EXPECT_EQ(open.error().code, ErrorCode::kNotYetActive);
    EXPECT_NE(open.error().message.find(FormatRfc3339(opens)), std::string::npos);
    // The deadline cannot move before the activation time either.
    auto deadline = requests_->ChangeDeadline(issuer_, r.id, opens - 1h, "issuer:k");
    ASSERT_FALSE(deadline);
    EXPECT_EQ(deadline.error().code, ErrorCode::kInvalidArgument);

    clock_.Advance(2h);
    worker_->RunOnce();  // the activation job
    EXPECT_EQ(MailedTo("sign_request"), std::vector<std::string>{"mario@example.org"});
    worker_->RunOnce();  // nothing twice
    EXPECT_EQ(MailedTo("sign_request").size(), 1u);
    const PortalSession s = LoginByCode(r, 0);
    EXPECT_TRUE(ceremony_->Open(s, r.id, client_));
}

TEST_F(PostenTest, ARequestCancelledBeforeItOpensTellsNobodyAtTheActivationTime) {
    const SignatureRequest r = MakeReady({Mario(0)}, [&](NewSignatureRequest& input) {
        input.activates_at = clock_.Now() + 1h;
        input.auto_notify = true;
    });
    ASSERT_TRUE(requests_->ChangeStatus(issuer_, r.id, RequestedStatus::kCancelled, "test"));
    clock_.Advance(2h);
    worker_->RunOnce();
    EXPECT_TRUE(MailedTo("sign_request").empty());
}

// ---- 6. Document deletion and retention ----------------------------------------------------

TEST_F(PostenTest, DeletingTheDocumentsOfAFinalRequestRemovesTheBytesOnly) {
    const SignatureRequest r = MakeReady({Mario(0)});
    const std::string key = *r.documents[0].blob_key;
    auto live = requests_->DeleteDocuments(issuer_, r.id, "issuer:k");
    ASSERT_FALSE(live);
    EXPECT_EQ(live.error().code, ErrorCode::kNotFinal);
    EXPECT_TRUE(blobs_->Get(key));

    SignAs(r, 0, LoginByCode(r, 0));
    const SignatureRequest signed_request = Reload(r);
    ASSERT_EQ(signed_request.status, RequestStatus::kSigned);
    const std::string signed_key = *signed_request.documents[0].signed_blob_key;
    ASSERT_TRUE(requests_->SignedDocument(issuer_, r.id, r.documents[0].id));

    auto deleted = requests_->DeleteDocuments(issuer_, r.id, "issuer:k");
    ASSERT_TRUE(deleted) << deleted.error().message;
    EXPECT_EQ(deleted->documents_deleted_at, clock_.Now());
    EXPECT_FALSE(blobs_->Get(key));
    EXPECT_FALSE(blobs_->Get(signed_key));
    auto download = requests_->SignedDocument(issuer_, r.id, r.documents[0].id);
    ASSERT_FALSE(download);
    EXPECT_EQ(download.error().code, ErrorCode::kDocumentsDeleted);
    // Metadata and the audit log stay; the issuer is told once, however often it asks.
    const SignatureRequest after = Reload(r);
    EXPECT_EQ(after.status, RequestStatus::kSigned);
    EXPECT_EQ(after.documents[0].sha256_hex, r.documents[0].sha256_hex);
    ASSERT_TRUE(requests_->DeleteDocuments(issuer_, r.id, "issuer:k"));
    EXPECT_EQ(Count(Events(r), "signature_request.documents_deleted"), 1);
    EXPECT_TRUE(ChangeData("signature_request.documents_deleted"));
}

TEST_F(PostenTest, RetentionDeletesTheDocumentsOfRequestsThatEndedLongEnoughAgo) {
    const SignatureRequest ended = MakeReady({Mario(0)});
    ASSERT_TRUE(requests_->ChangeStatus(issuer_, ended.id, RequestedStatus::kCancelled, "t"));
    const SignatureRequest live = MakeReady({Giovanni(0)}, [&](NewSignatureRequest& input) {
        input.expires_at = clock_.Now() + 24h * 60;
    });
    clock_.Advance(24h * 40 - 1h);
    worker_->RunOnce();
    EXPECT_FALSE(Reload(ended).documents_deleted_at);

    clock_.Advance(2h);
    worker_->RunOnce();
    EXPECT_TRUE(Reload(ended).documents_deleted_at);
    EXPECT_FALSE(blobs_->Get(*ended.documents[0].blob_key));
    EXPECT_FALSE(Reload(live).documents_deleted_at);  // not final: kept
    EXPECT_TRUE(blobs_->Get(*live.documents[0].blob_key));
    bool by_retention = false;
    for (const auto& e : Events(ended)) {
        by_retention |= e.type == "signature_request.documents_deleted" && e.actor == "retention";
    }
    EXPECT_TRUE(by_retention);
}

TEST_F(PostenTest, RetentionZeroKeepsTheDocuments) {
    ctx_->limits.documents_retention = 0h;
    const SignatureRequest ended = MakeReady({Mario(0)});
    ASSERT_TRUE(requests_->ChangeStatus(issuer_, ended.id, RequestedStatus::kCancelled, "t"));
    clock_.Advance(24h * 400);
    worker_->RunOnce();
    EXPECT_FALSE(Reload(ended).documents_deleted_at);
}

// ---- 7. Named polling queues ---------------------------------------------------------------

TEST_F(PostenTest, ARequestsChangesGoToItsNamedPollingQueueOnly) {
    const SignatureRequest hr = MakeReady(
        {Mario(0)}, [](NewSignatureRequest& input) { input.polling_queue = "hr-contracts"; });
    const SignatureRequest plain = MakeReady({Giovanni(0)});
    EXPECT_EQ(hr.polling_queue, "hr-contracts");

    auto from_hr = events_->Poll(issuer_, "hr-contracts");
    ASSERT_TRUE(from_hr) << from_hr.error().message;
    ASSERT_TRUE(from_hr->change);
    EXPECT_EQ(from_hr->change->request_id, hr.id);
    EXPECT_EQ(from_hr->next_poll_at, clock_.Now());  // served: poll again at once
    auto from_default = events_->Poll(issuer_);
    ASSERT_TRUE(from_default);
    ASSERT_TRUE(from_default->change);
    EXPECT_EQ(from_default->change->request_id, plain.id);
    ASSERT_TRUE(events_->Poll(issuer_, "hr-contracts"));  // empty now: wait ...
    auto early = events_->Poll(issuer_, "hr-contracts");
    ASSERT_FALSE(early);
    EXPECT_EQ(early.error().code, ErrorCode::kRateLimited);
    EXPECT_TRUE(events_->Poll(issuer_, "sales"));  // ... but each queue has its own time
    auto unknown = events_->Poll(issuer_, "no spaces");
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(PostenTest, APollingQueueNameIsChecked) {
    DossierService dossiers(*ctx_);
    auto dossier = dossiers.Create(issuer_, {"Contratto", std::nullopt, OneDocument()});
    ASSERT_TRUE(dossier);
    SignerService signers(*ctx_);
    auto signer = signers.Resolve(issuer_, NewSigner{IdentifierKind::kItFiscalCode, kMario,
                                                     std::nullopt, std::nullopt, std::nullopt});
    ASSERT_TRUE(signer);
    for (const std::string& name :
         {std::string(), std::string("a b"), std::string(51, 'q'), std::string("k\xc3\xb8")}) {
        NewSignatureRequest input;
        input.dossier_id = dossier->id;
        input.signers.push_back({signer->signer.id, 0});
        input.polling_queue = name;
        auto refused = requests_->Create(issuer_, input, "test");
        ASSERT_FALSE(refused) << name;
        EXPECT_EQ(refused.error().violations.at(0).field, "polling_queue");
    }
}

// ---- 8. On behalf of -----------------------------------------------------------------------

TEST_F(PostenTest, ASignerForAnOrganisationGetsNoPersonalCopy) {
    const SignatureRequest r = MakeReady({Mario(0), Giovanni(0)}, [](NewSignatureRequest& input) {
        input.signers[0].on_behalf_of = OnBehalfOf::kOther;
    });
    EXPECT_EQ(r.signers[0].on_behalf_of, OnBehalfOf::kOther);
    EXPECT_EQ(r.signers[1].on_behalf_of, OnBehalfOf::kSelf);
    ASSERT_TRUE(requests_->Notify(issuer_, r.id, "issuer:k"));
    const PortalSession mario = LoginByCode(r, 0);
    // Reading the documents to sign them is the signer's right ...
    EXPECT_TRUE(ceremony_->DocumentBytes(mario, r.id, r.documents[0].id));
    SignAs(r, 0, mario);
    SignAs(r, 1, LoginByCode(r, 1));
    ASSERT_EQ(Reload(r).status, RequestStatus::kSigned);
    // ... keeping them is not: no copy message, no inbox entry, no download.
    EXPECT_EQ(MailedTo("signed_documents"), std::vector<std::string>{"giovanni@example.org"});
    auto copy = ceremony_->DocumentBytes(mario, r.id, r.documents[0].id);
    ASSERT_FALSE(copy);
    EXPECT_EQ(copy.error().code, ErrorCode::kForbidden);
    const PortalSession giovanni = LoginByIdentity(IdentifierKind::kItFiscalCode, kGiovanni);
    EXPECT_TRUE(ceremony_->DocumentBytes(giovanni, r.id, r.documents[0].id));
    const PortalSession mario_eid = LoginByIdentity(IdentifierKind::kItFiscalCode, kMario);
    auto inbox = ceremony_->Inbox(mario_eid, PageQuery{});
    ASSERT_TRUE(inbox);
    for (const auto& m : inbox->items) EXPECT_NE(m.kind, MessageKind::kSignedDocuments);
}

}  // namespace
}  // namespace firmo::domain
