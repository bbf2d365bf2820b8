// RequestService: what the io-sign-compatible root (api/iosign_api.hpp) asks of it: io-sign's
// READY, which goes on to WAIT_FOR_SIGNATURE by itself, an expiry without Firmo's cap, and the
// bytes of a READY document. On the fixture of the signer side (memory store, the worker).

#include "domain/services/request_service.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <utility>

#include "domain/services/testing/signer_side_fixture.hpp"

namespace firmo::domain {
namespace {

using namespace firmo::domain::fixtures;
using namespace std::chrono_literals;

class RequestServiceTest : public SignerSideTest {
  protected:
    // The code of the newest e-mail of `template_name` in the outbox (a test request's).
    std::string RecordedCode(const std::string& template_name) {
        auto page = InReadTransaction(*db_, [&](Transaction& tx) {
            return tx.outbox().List(issuer_, Channel::kEmail, PageQuery{100, std::nullopt});
        });
        EXPECT_TRUE(page) << page.error().message;
        if (!page) return "";
        for (const OutboxMessage& m : page->items) {  // newest first
            const auto at = m.payload_json.find("\"code\":\"");
            if (m.template_name == template_name && at != std::string::npos) {
                return m.payload_json.substr(at + 8, 6);
            }
        }
        ADD_FAILURE() << "no " << template_name << " in the outbox";
        return "";
    }

    // What a request needs: a new dossier of one document and the signer kMario (with
    // `email`), of the fixture's issuer; the request's input names them.
    NewSignatureRequest DossierAndSigner(std::optional<std::string> email = std::nullopt) {
        DossierService dossiers(*ctx_);
        auto dossier =
            dossiers.Create(issuer_, NewDossier{"Contratto", std::nullopt, OneDocument()});
        EXPECT_TRUE(dossier);
        SignerService signers(*ctx_);
        auto signer =
            signers.Resolve(issuer_, NewSigner{IdentifierKind::kItFiscalCode, kMario,
                                               std::move(email), std::nullopt, std::nullopt});
        EXPECT_TRUE(signer);
        if (!dossier || !signer) return {};
        return NewSignatureRequest{.dossier_id = dossier->id, .signers = {{signer->signer.id, 0}}};
    }

    // A DRAFT request of one signer whose one document is uploaded and validated.
    SignatureRequest DraftWithReadyDocument(bool auto_notify = false) {
        NewSignatureRequest input = DossierAndSigner("mario@example.org");
        input.auto_notify = auto_notify;
        auto request = requests_->Create(issuer_, input, "test");
        EXPECT_TRUE(request) << request.error().message;
        auto uploaded = requests_->UploadDocument(issuer_, request->id, request->documents[0].id,
                                                  Upload{"%PDF-1.7\n% the document\n", "test"});
        EXPECT_TRUE(uploaded) << uploaded.error().message;
        worker_->RunOnce();  // validation
        return Reload(*request);
    }
};

TEST_F(RequestServiceTest, ReadyForSignatureGoesOnToWaitForSignatureWithoutANotification) {
    const SignatureRequest draft = DraftWithReadyDocument();
    auto changed = requests_->ChangeStatus(issuer_, draft.id, RequestedStatus::kReadyForSignature,
                                           "issuer:test");
    ASSERT_TRUE(changed) << changed.error().message;
    EXPECT_EQ(changed->status, RequestStatus::kWaitForSignature);
    const SignatureRequest stored = Reload(draft);
    EXPECT_EQ(stored.status, RequestStatus::kWaitForSignature);
    EXPECT_FALSE(stored.notification_id);
    // Both steps are in the audit log, in order; no notification was sent.
    const auto events = Events(draft);
    ASSERT_GE(events.size(), 2u);
    EXPECT_EQ(events[events.size() - 2].to_status, "READY");
    EXPECT_EQ(events.back().from_status, "READY");
    EXPECT_EQ(events.back().to_status, "WAIT_FOR_SIGNATURE");
    EXPECT_EQ(Count(events, "notification.sent"), 0);
    // Notifying afterwards works and keeps the status.
    auto id = requests_->Notify(issuer_, draft.id, "issuer:test");
    ASSERT_TRUE(id) << id.error().message;
    EXPECT_EQ(Reload(draft).status, RequestStatus::kWaitForSignature);
    // Asked again: a conflict, as for Firmo's READY.
    auto again = requests_->ChangeStatus(issuer_, draft.id, RequestedStatus::kReadyForSignature,
                                         "issuer:test");
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, ErrorCode::kConflict);
}

TEST_F(RequestServiceTest, FirmosReadyStaysReady) {
    const SignatureRequest draft = DraftWithReadyDocument();
    auto changed =
        requests_->ChangeStatus(issuer_, draft.id, RequestedStatus::kReady, "issuer:test");
    ASSERT_TRUE(changed) << changed.error().message;
    EXPECT_EQ(Reload(draft).status, RequestStatus::kReady);
}

TEST_F(RequestServiceTest, ReadyForSignatureWithAutoNotifyNotifiesOnce) {
    const SignatureRequest draft = DraftWithReadyDocument(/*auto_notify=*/true);
    auto changed = requests_->ChangeStatus(issuer_, draft.id, RequestedStatus::kReadyForSignature,
                                           "issuer:test");
    ASSERT_TRUE(changed) << changed.error().message;
    const SignatureRequest stored = Reload(draft);
    EXPECT_EQ(stored.status, RequestStatus::kWaitForSignature);
    EXPECT_TRUE(stored.notification_id);
    EXPECT_EQ(Count(Events(draft), "notification.sent"), 1);
}

TEST_F(RequestServiceTest, ReadyForSignatureNeedsEveryDocumentReady) {
    auto request = requests_->Create(issuer_, DossierAndSigner(), "test");
    ASSERT_TRUE(request);
    auto changed = requests_->ChangeStatus(issuer_, request->id,
                                           RequestedStatus::kReadyForSignature, "issuer:test");
    ASSERT_FALSE(changed);
    EXPECT_EQ(changed.error().code, ErrorCode::kConflict);
    EXPECT_EQ(Reload(*request).status, RequestStatus::kDraft);
}

TEST_F(RequestServiceTest, ExpiryBeyondTheCapOnlyWhenUncapped) {
    NewSignatureRequest input = DossierAndSigner();
    input.expires_at = clock_.Now() + 24h * 730;
    auto capped = requests_->Create(issuer_, input, "test");
    ASSERT_FALSE(capped);
    EXPECT_EQ(capped.error().code, ErrorCode::kInvalidArgument);
    input.uncapped_expiry = true;
    auto uncapped = requests_->Create(issuer_, input, "test");
    ASSERT_TRUE(uncapped) << uncapped.error().message;
    EXPECT_EQ(uncapped->expires_at, *input.expires_at);
    // The past stays refused.
    input.expires_at = clock_.Now() - 1h;
    auto past = requests_->Create(issuer_, input, "test");
    ASSERT_FALSE(past);
    EXPECT_EQ(past.error().code, ErrorCode::kInvalidArgument);
}

// Creates remember dossiers and signers' kinds (they never change): per issuer, so another
// issuer naming the same ids still gets 404, whether or not the first issuer's are cached.
TEST_F(RequestServiceTest, RememberedDossiersAndSignersStayTheirIssuers) {
    const NewSignatureRequest input = DossierAndSigner();
    const std::string other = MakeIssuer("ISSUER-B", "Comune di Milano");
    for (int round = 0; round < 2; ++round) {  // uncached, then cached
        auto mine = requests_->Create(issuer_, input, "test");
        ASSERT_TRUE(mine) << mine.error().message;
        EXPECT_EQ(mine->documents.size(), 1u);
        EXPECT_EQ(mine->signers[0].authentication, AuthLevel::kCode);  // the kind's default
        auto theirs = requests_->Create(other, input, "test");
        ASSERT_FALSE(theirs);
        EXPECT_EQ(theirs.error().code, ErrorCode::kNotFound);
        EXPECT_THAT(theirs.error().message, ::testing::HasSubstr("dossier"));
    }
    // Their own dossier, but my signer: still not found.
    DossierService dossiers(*ctx_);
    auto their_dossier =
        dossiers.Create(other, NewDossier{"Contratto", std::nullopt, OneDocument()});
    ASSERT_TRUE(their_dossier);
    NewSignatureRequest mixed = input;
    mixed.dossier_id = their_dossier->id;
    auto refused = requests_->Create(other, mixed, "test");
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, ErrorCode::kNotFound);
    EXPECT_THAT(refused.error().message, ::testing::HasSubstr("signer"));
}

TEST_F(RequestServiceTest, DocumentContentIsTheValidatedUpload) {
    const SignatureRequest draft = DraftWithReadyDocument();
    auto bytes = requests_->DocumentContent(issuer_, draft.id, draft.documents[0].id);
    ASSERT_TRUE(bytes) << bytes.error().message;
    EXPECT_EQ(*bytes, "%PDF-1.7\n% the document\n");
    auto missing = requests_->DocumentContent(issuer_, draft.id, "no-such-document");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
    auto other = requests_->DocumentContent("ISSUER-B", draft.id, draft.documents[0].id);
    ASSERT_FALSE(other);
    EXPECT_EQ(other.error().code, ErrorCode::kNotFound);
}

// The checks the sender portal's "validate" shows stand alone and store nothing; Create makes
// the same ones.
TEST_F(RequestServiceTest, CheckReportsWhatCreateRefusesAndStoresNothing) {
    NewSignatureRequest input;
    input.dossier_id = "unknown";
    input.signers = {{"a", 12}, {"a", 0}};
    input.expires_at = clock_.Now() - 1h;
    input.reference = std::string(kReferenceMax + 1, 'r');
    const auto violations = requests_->Check(input);
    std::vector<std::string> fields;
    for (const Violation& v : violations) fields.push_back(v.field);
    EXPECT_EQ(fields, (std::vector<std::string>{"signers[0].order", "signers[1].signer_id",
                                                "expires_at", "reference"}));
    auto created = requests_->Create(issuer_, input, "test");
    ASSERT_FALSE(created);
    EXPECT_EQ(created.error().violations, violations);
    auto listed = requests_->List(issuer_, RequestFilter{}, PageQuery{});
    ASSERT_TRUE(listed);
    EXPECT_TRUE(listed->items.empty());
}

TEST(CheckFieldSigners, NamesTheFieldsOfSignersTheRequestDoesNotHave) {
    std::vector<DocumentMetadata> docs(1);
    docs[0].signature_fields.resize(2);
    docs[0].signature_fields[1].signer_index = 2;
    EXPECT_TRUE(CheckFieldSigners(docs, 3, "documents_metadata").empty());
    const auto v = CheckFieldSigners(docs, 2, "dossier.documents_metadata");
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0].field, "dossier.documents_metadata[0].signature_fields[1].signer_index");
}

TEST_F(RequestServiceTest, CheckUploadSizeIsTheUploadsRule) {
    EXPECT_EQ(requests_->CheckUploadSize("").error().code, ErrorCode::kInvalidArgument);
    EXPECT_TRUE(requests_->CheckUploadSize("%PDF-1.7"));
    const std::string big(static_cast<std::size_t>(ctx_->limits.max_document_bytes) + 1, 'x');
    EXPECT_EQ(requests_->CheckUploadSize(big).error().code, ErrorCode::kPayloadTooLarge);
}

TEST(CheckNewSigner, NormalisesOrSaysWhatIsWrong) {
    auto ok = CheckNewSigner(NewSigner{IdentifierKind::kItFiscalCode, "rssmra80a01h501u",
                                       "Mario@Example.ORG", std::nullopt, std::nullopt});
    ASSERT_TRUE(ok) << ok.error().message;
    EXPECT_EQ(ok->identifier, kMario);
    EXPECT_EQ(ok->email, "Mario@example.org");
    auto bad = CheckNewSigner(
        NewSigner{IdentifierKind::kEmail, "", "not-an-address", std::nullopt, std::nullopt});
    ASSERT_FALSE(bad);
    ASSERT_FALSE(bad.error().violations.empty());
    EXPECT_EQ(bad.error().violations[0].field, "email");
}

// ---- Issue 17: test requests -----------------------------------------------------------------

// A key reaches only the requests of its mode, through the one check of RequestService::Load and
// the list's filter; the portal's scope (the issuer alone) reaches both.
TEST_F(RequestServiceTest, AKeyReachesOnlyTheRequestsOfItsMode) {
    const RequestScope test_key(issuer_, true);
    const RequestScope live_key(issuer_, false);
    auto test = requests_->Create(test_key, DossierAndSigner(), "issuer:firmo_test_x");
    ASSERT_TRUE(test) << test.error().message;
    EXPECT_TRUE(test->test);
    auto live = requests_->Create(live_key, DossierAndSigner(), "issuer:firmo_live_x");
    ASSERT_TRUE(live) << live.error().message;
    EXPECT_FALSE(live->test);
    auto portal = requests_->Create(issuer_, DossierAndSigner(), "staff:x");
    ASSERT_TRUE(portal) << portal.error().message;
    EXPECT_FALSE(portal->test);  // the portal sends live requests

    EXPECT_TRUE(requests_->Get(test_key, test->id));
    EXPECT_TRUE(requests_->Get(live_key, live->id));
    for (const auto& [scope, id] : {std::pair{live_key, test->id}, std::pair{test_key, live->id}}) {
        auto got = requests_->Get(scope, id);
        ASSERT_FALSE(got);
        EXPECT_EQ(got.error().code, ErrorCode::kNotFound);
        auto events = requests_->Events(scope, id);
        ASSERT_FALSE(events);
        EXPECT_EQ(events.error().code, ErrorCode::kNotFound);
        auto cancel = requests_->ChangeStatus(scope, id, RequestedStatus::kCancelled, "issuer:x");
        ASSERT_FALSE(cancel);
        EXPECT_EQ(cancel.error().code, ErrorCode::kNotFound);
        auto upload = requests_->CheckUploadable(scope, id, "any");
        ASSERT_FALSE(upload);
        EXPECT_EQ(upload.error().code, ErrorCode::kNotFound);
    }
    EXPECT_TRUE(requests_->Get(issuer_, test->id));  // the portal sees both
    EXPECT_TRUE(requests_->Get(issuer_, live->id));

    const auto ids = [&](const RequestScope& scope) {
        auto page = requests_->List(scope, {}, PageQuery{});
        EXPECT_TRUE(page) << page.error().message;
        std::set<std::string> out;
        if (page) {
            for (const auto& r : page->items) out.insert(r.id);
        }
        return out;
    };
    EXPECT_EQ(ids(test_key), std::set<std::string>{test->id});
    EXPECT_EQ(ids(live_key), (std::set<std::string>{live->id, portal->id}));
    EXPECT_EQ(ids(issuer_).size(), 3u);
    // Another issuer's test key reaches nothing of this one.
    const std::string other = MakeIssuer("ISSUER-B", "Oslo kommune");
    auto foreign = requests_->Get(RequestScope(other, true), test->id);
    ASSERT_FALSE(foreign);
    EXPECT_EQ(foreign.error().code, ErrorCode::kNotFound);
}

// A test request is signed through the whole ceremony, and its certificate says TEST.
TEST_F(RequestServiceTest, ATestRequestsSignerCertificateSaysTest) {
    const RequestScope test_key(issuer_, true);
    auto created = requests_->Create(test_key, DossierAndSigner("mario@example.org"), "issuer:t");
    ASSERT_TRUE(created) << created.error().message;
    auto uploaded = requests_->UploadDocument(test_key, created->id, created->documents[0].id,
                                              Upload{"%PDF-1.7\n% the document\n", "issuer:t"});
    ASSERT_TRUE(uploaded) << uploaded.error().message;
    worker_->RunOnce();  // validation
    auto ready = requests_->ChangeStatus(test_key, created->id, RequestedStatus::kReady, "t");
    ASSERT_TRUE(ready) << ready.error().message;
    ASSERT_TRUE(requests_->Notify(test_key, created->id, "t"));
    // Its codes are recorded in the outbox, never handed to the code sender.
    const std::string& signer_id = ready->signers[0].signer_id;
    ASSERT_TRUE(sessions_->SendCode(ready->id, signer_id, CodeKind::kLogin, client_));
    auto handle =
        sessions_->LoginWithCode("", ready->id, signer_id, RecordedCode("login_code"), client_);
    ASSERT_TRUE(handle) << handle.error().message;
    ASSERT_TRUE(ceremony_->Open(handle->session, ready->id, client_));
    ASSERT_TRUE(ceremony_->Accept(handle->session, ready->id, {{0, 0}}, client_));
    auto confirmed =
        ceremony_->Confirm(handle->session, ready->id, RecordedCode("confirm_code"), client_);
    ASSERT_TRUE(confirmed) << confirmed.error().message;
    EXPECT_GT(worker_->RunOnce(), 0);
    EXPECT_TRUE(codes_.sent.empty());
    EXPECT_EQ(Reload(*ready).status, RequestStatus::kSigned);
    // Nothing reached the person's eID inbox either (notified, then signed).
    auto inbox = InReadTransaction(*db_, [&](Transaction& tx) {
        return tx.inbox().List(IdentifierKind::kItFiscalCode, kMario, PageQuery{100, std::nullopt});
    });
    ASSERT_TRUE(inbox) << inbox.error().message;
    EXPECT_TRUE(inbox->items.empty());
    EXPECT_EQ(Count(Events(*ready), "message.not_sent"), 1);
    ASSERT_EQ(trust_.identities.size(), 1u);
    EXPECT_EQ(trust_.identities[0].full_name, "TEST - mario@example.org");

    // A live request's certificate has no marker.
    const SignatureRequest live = DraftWithReadyDocument();
    auto live_ready = requests_->ChangeStatus(issuer_, live.id, RequestedStatus::kReady, "t");
    ASSERT_TRUE(live_ready) << live_ready.error().message;
    SignAs(*live_ready, 0, LoginByCode(*live_ready, 0));
    ASSERT_EQ(trust_.identities.size(), 2u);
    EXPECT_EQ(trust_.identities[1].full_name.find("TEST"), std::string::npos)
        << trust_.identities[1].full_name;
}

TEST(CheckNewDossier, IsWhatCreateChecks) {
    const auto v = CheckNewDossier(NewDossier{"ab", "nope", {}});
    std::vector<std::string> fields;
    for (const Violation& x : v) fields.push_back(x.field);
    EXPECT_EQ(fields, (std::vector<std::string>{"title", "support_email", "documents_metadata"}));
}

}  // namespace
}  // namespace firmo::domain
