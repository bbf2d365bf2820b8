// CeremonyService: signing order, clauses, second factor, the signing job (with a fake
// document signer that appends a marker line, so no PDF engine is involved), rejection, exits
// of the direct flow, and the issuer's notification. Here rather than beside the service in
// src/domain/services because it needs the real store, which only this test binary links (see
// jobs/testing/signer_side_fixture.hpp); the worker runs the signing jobs.

#include "domain/services/ceremony_service.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "domain/services/testing/signer_side_fixture.hpp"

namespace firmo::domain {
namespace {

using namespace firmo::domain;
using namespace firmo::domain::fixtures;
using namespace std::chrono_literals;

class CeremonyTest : public SignerSideTest {
  protected:
    static NewParty Mario(int order = 0) {
        return {IdentifierKind::kItFiscalCode, kMario, "mario@example.org", "Mario Rossi", order};
    }
    static NewParty Giovanni(int order = 0) {
        return {IdentifierKind::kItFiscalCode, kGiovanni, "giovanni@example.org", std::nullopt,
                order};
    }
    static NewParty ByEmail(int order = 0) {
        // The identifier of an e-mail signer is their address (given as `email`).
        return {IdentifierKind::kEmail, "", "luisa@example.org", "Luisa Bianchi", order};
    }
    // REQUIRED, OPTIONAL and UNFAIR clauses for signer 0, one REQUIRED for signer 1.
    static std::vector<DocumentMetadata> Clauses() {
        return {DocumentMetadata{
            "Contract",
            {SignatureField{FieldByName{"Sig1"},
                            Clause{"I accept the terms", ClauseType::kRequired}, 0},
             SignatureField{FieldByName{"Sig2"}, Clause{"Marketing consent", ClauseType::kOptional},
                            0},
             SignatureField{FieldByName{"Sig3"}, Clause{"Penalty of 1000 EUR", ClauseType::kUnfair},
                            0},
             SignatureField{FieldByName{"Sig4"},
                            Clause{"Countersigned by HR", ClauseType::kRequired}, 1}}}};
    }
    static Job SigningJob(const SignatureRequest& r) {
        Job job;
        job.kind = JobKind::kSignDocuments;
        job.issuer_id = r.issuer_id;
        job.request_id = r.id;
        return job;
    }
    // Accept + Confirm (by code), without running the job.
    void Confirm(const SignatureRequest& r, const PortalSession& s,
                 const std::vector<FieldRef>& accepted) {
        ASSERT_TRUE(ceremony_->Open(s, r.id, client_));
        auto outcome = ceremony_->Accept(s, r.id, accepted, client_);
        ASSERT_TRUE(outcome) << outcome.error().message;
        ASSERT_EQ(outcome->second_factor, SecondFactor::kCode);
        ASSERT_TRUE(outcome->code);
        EXPECT_EQ(codes_.last().purpose, CodePurpose::kConfirm);
        auto confirmed = ceremony_->Confirm(s, r.id, codes_.last().code, client_);
        ASSERT_TRUE(confirmed) << confirmed.error().message;
    }
    std::vector<InboxMessage> Inbox(const char* identity) {
        auto tx = db_->Begin(TxMode::kRead);
        EXPECT_TRUE(tx);
        auto page = (*tx)->inbox().List(IdentifierKind::kItFiscalCode, identity,
                                        PageQuery{100, std::nullopt});
        EXPECT_TRUE(page);
        return page ? page->items : std::vector<InboxMessage>{};
    }
    int SignedBlobFiles() {
        int n = 0;
        for (const auto& entry :
             std::filesystem::recursive_directory_iterator(dir_.path() / "documents")) {
            n += entry.path().filename().string().starts_with("signed-") ? 1 : 0;
        }
        return n;
    }
};

// ---- Signing order -------------------------------------------------------------------------

TEST_F(CeremonyTest, ALaterSignerWaitsForTheEarlierOnes) {
    const SignatureRequest r = MakeReadyRequest({Mario(0), Giovanni(1)}, Clauses());
    const PortalSession later = LoginByCode(r, 1);
    const auto expect_forbidden = [](const auto& result, const char* what) {
        ASSERT_FALSE(result) << what;
        EXPECT_EQ(result.error().code, ErrorCode::kForbidden)
            << what << ": " << result.error().message;
    };
    expect_forbidden(ceremony_->Open(later, r.id, client_), "Open");
    expect_forbidden(ceremony_->Accept(later, r.id, {{0, 3}}, client_), "Accept");
    expect_forbidden(ceremony_->Confirm(later, r.id, "123456", client_), "Confirm");
    expect_forbidden(ceremony_->Reject(later, r.id, "no", client_), "Reject");
    expect_forbidden(ceremony_->DocumentBytes(later, r.id, r.documents[0].id), "DocumentBytes");
    const SignatureRequest unchanged = Reload(r);
    EXPECT_EQ(unchanged.status, RequestStatus::kReady);
    EXPECT_EQ(unchanged.signers[1].status, SignerStatus::kWaiting);
    EXPECT_FALSE(unchanged.signers[1].accepted_at);
    EXPECT_EQ(unchanged.signers[1].failed_code_attempts, 0);

    // The look without side effects says the same.
    auto look = ceremony_->Look(later, r.id);
    ASSERT_TRUE(look);
    EXPECT_FALSE(look->my_turn);
    EXPECT_FALSE(look->can_sign);

    SignAs(r, 0, LoginByCode(r, 0));
    EXPECT_EQ(Reload(r).status, RequestStatus::kWaitForSignature);  // one of two signed
    auto opened = ceremony_->Open(later, r.id, client_);
    ASSERT_TRUE(opened) << opened.error().message;
    EXPECT_TRUE(opened->my_turn);
    EXPECT_TRUE(opened->can_sign);
    // The later signer reads the version the earlier one signed.
    auto bytes = ceremony_->DocumentBytes(later, r.id, r.documents[0].id);
    ASSERT_TRUE(bytes);
    EXPECT_NE(bytes->bytes.find("%signed by Mario Rossi"), std::string::npos);
}

TEST_F(CeremonyTest, SignersOfTheSameOrderSignInParallel) {
    const SignatureRequest r = MakeReadyRequest({Mario(0), Giovanni(0)}, Clauses());
    auto second = ceremony_->Open(LoginByCode(r, 1), r.id, client_);
    ASSERT_TRUE(second) << second.error().message;
    EXPECT_TRUE(second->can_sign);
}

TEST_F(CeremonyTest, OpeningMovesAReadyRequestToWaitForSignatureAndShowsTheFields) {
    const SignatureRequest r = MakeReadyRequest({Mario(0), Giovanni(1)}, Clauses());
    const PortalSession s = LoginByCode(r, 0);
    auto view = ceremony_->Open(s, r.id, client_);
    ASSERT_TRUE(view) << view.error().message;
    EXPECT_EQ(view->issuer_name, "Comune di Roma");
    EXPECT_EQ(view->title, "Contratto di lavoro");
    EXPECT_TRUE(view->my_turn);
    EXPECT_TRUE(view->can_sign);
    EXPECT_EQ(view->second_factor, SecondFactor::kCode);
    ASSERT_EQ(view->documents.size(), 1u);
    ASSERT_EQ(view->documents[0].fields.size(), 4u);
    EXPECT_TRUE(view->documents[0].fields[0].mine);
    EXPECT_TRUE(view->documents[0].fields[2].mine);
    EXPECT_FALSE(view->documents[0].fields[3].mine);
    EXPECT_EQ(view->documents[0].fields[2].field->clause.type, ClauseType::kUnfair);
    EXPECT_EQ(Reload(r).status, RequestStatus::kWaitForSignature);
    const auto events = Events(r);
    EXPECT_EQ(Count(events, "signature_request.sent"), 1);
    EXPECT_EQ(Count(events, "signer.opened"), 1);
    ASSERT_TRUE(ceremony_->Open(s, r.id, client_));  // a second look changes no status
    EXPECT_EQ(Count(Events(r), "signature_request.sent"), 1);
}

// ---- Clauses -------------------------------------------------------------------------------

TEST_F(CeremonyTest, AcceptNeedsEveryRequiredAndUnfairClauseAndOnlyOwnOnes) {
    const SignatureRequest r = MakeReadyRequest({Mario(0), Giovanni(1)}, Clauses());
    const PortalSession s = LoginByCode(r, 0);
    const auto refused = [&](const std::vector<FieldRef>& accepted) {
        auto result = ceremony_->Accept(s, r.id, accepted, client_);
        EXPECT_FALSE(result);
        return result ? ErrorCode::kInternal : result.error().code;
    };
    EXPECT_EQ(refused({}), ErrorCode::kInvalidArgument);
    EXPECT_EQ(refused({{0, 0}}), ErrorCode::kInvalidArgument);                  // UNFAIR missing
    EXPECT_EQ(refused({{0, 2}}), ErrorCode::kInvalidArgument);                  // REQUIRED missing
    EXPECT_EQ(refused({{0, 0}, {0, 2}, {0, 3}}), ErrorCode::kInvalidArgument);  // signer 1's
    EXPECT_EQ(refused({{0, 0}, {0, 2}, {0, 9}}), ErrorCode::kInvalidArgument);  // no such field
    EXPECT_EQ(refused({{0, 0}, {0, 2}, {4, 0}}), ErrorCode::kInvalidArgument);  // no such doc
    EXPECT_EQ(refused({{0, 0}, {0, 2}, {-1, 0}}), ErrorCode::kInvalidArgument);
    EXPECT_FALSE(Reload(r).signers[0].accepted_at);
    EXPECT_TRUE(codes_.sent.size() == 1u);  // only the login code: no confirmation yet

    // OPTIONAL is free: without it...
    auto without = ceremony_->Accept(s, r.id, {{0, 2}, {0, 0}}, client_);
    ASSERT_TRUE(without) << without.error().message;
    EXPECT_EQ(without->second_factor, SecondFactor::kCode);
    ASSERT_TRUE(without->code);
    EXPECT_EQ(without->code->masked_destination, "m***@example.org");
    const RequestSigner after = Reload(r).signers[0];
    EXPECT_EQ(after.accepted_fields, (std::vector<FieldRef>{{0, 0}, {0, 2}}));
    EXPECT_EQ(after.accepted_at, clock_.Now());
    // ...or with it (accepting again replaces the choice; duplicates collapse).
    clock_.Advance(1min);
    ASSERT_TRUE(ceremony_->Accept(s, r.id, {{0, 0}, {0, 1}, {0, 2}, {0, 1}}, client_));
    EXPECT_EQ(Reload(r).signers[0].accepted_fields,
              (std::vector<FieldRef>{{0, 0}, {0, 1}, {0, 2}}));
    EXPECT_EQ(Count(Events(r), "signer.clauses_accepted"), 2);
}

// ---- Confirmation --------------------------------------------------------------------------

TEST_F(CeremonyTest, ConfirmWithoutAcceptIsAConflict) {
    const SignatureRequest r = MakeReadyRequest({Mario()});
    const PortalSession s = LoginByCode(r, 0);
    ASSERT_TRUE(ceremony_->Open(s, r.id, client_));
    auto confirmed = ceremony_->Confirm(s, r.id, codes_.last().code, client_);
    ASSERT_FALSE(confirmed);
    EXPECT_EQ(confirmed.error().code, ErrorCode::kConflict);
    EXPECT_FALSE(Reload(r).signers[0].confirmed_at);
}

TEST_F(CeremonyTest, ConfirmWithTheCodeQueuesTheSigning) {
    const SignatureRequest r = MakeReadyRequest({Mario()});
    const PortalSession s = LoginByCode(r, 0);
    ASSERT_TRUE(ceremony_->Open(s, r.id, client_));
    ASSERT_TRUE(ceremony_->Accept(s, r.id, {{0, 0}}, client_));
    const std::string code = codes_.last().code;
    const int woken = woken_;
    auto wrong = ceremony_->Confirm(s, r.id, code == "000000" ? "000001" : "000000", client_);
    ASSERT_FALSE(wrong);
    EXPECT_EQ(wrong.error().code, ErrorCode::kUnauthenticated);
    EXPECT_EQ(Reload(r).signers[0].failed_code_attempts, 1);
    clock_.Advance(5s);
    ASSERT_TRUE(ceremony_->Confirm(s, r.id, code, client_));
    const SignatureRequest after = Reload(r);
    EXPECT_EQ(after.status, RequestStatus::kWaitForQtsp);
    EXPECT_EQ(after.signers[0].confirmed_at, clock_.Now());
    EXPECT_EQ(after.signers[0].signing_name, "Mario Rossi");     // the issuer's full_name
    EXPECT_EQ(after.signers[0].status, SignerStatus::kWaiting);  // until the job ran
    EXPECT_EQ(after.signers[0].failed_code_attempts, 0);
    EXPECT_EQ(woken_, woken + 1);
    EXPECT_EQ(Count(Events(r), "signer.confirmed"), 1);
    EXPECT_EQ(Count(Events(r), "signature_request.submitted_to_qtsp"), 1);
    {
        auto tx = db_->Begin(TxMode::kWrite);
        ASSERT_TRUE(tx);
        auto job = (*tx)->jobs().Claim(clock_.Now(), 1s, "probe");
        ASSERT_TRUE(job && *job);
        EXPECT_EQ((*job)->kind, JobKind::kSignDocuments);
        EXPECT_EQ((*job)->request_id, r.id);
        EXPECT_EQ((*job)->issuer_id, r.issuer_id);
    }  // rolled back: the job stays queued
    // Confirmed: neither a second confirmation nor a rejection.
    auto twice = ceremony_->Confirm(s, r.id, code, client_);
    ASSERT_FALSE(twice);
    auto reject = ceremony_->Reject(s, r.id, "changed my mind", client_);
    ASSERT_FALSE(reject);
    EXPECT_EQ(reject.error().code, ErrorCode::kConflict);
}

// ---- The signing job -----------------------------------------------------------------------

TEST_F(CeremonyTest, TheJobSignsEveryDocumentAndCompletesTheRequest) {
    std::vector<DocumentMetadata> docs = OneDocument();
    docs.push_back(DocumentMetadata{"Privacy notice", {}});  // no field: invisible signature
    const SignatureRequest r = MakeReadyRequest({Mario()}, docs);
    const std::string original = Blob(*r.documents[0].blob_key);
    Confirm(r, LoginByCode(r, 0), {{0, 0}});
    ASSERT_EQ(worker_->RunOnce(), 1);

    const SignatureRequest after = Reload(r);
    EXPECT_EQ(after.status, RequestStatus::kSigned);
    EXPECT_TRUE(after.signed_at);
    EXPECT_EQ(after.signers[0].status, SignerStatus::kSigned);
    EXPECT_EQ(after.signers[0].signed_at, clock_.Now());
    for (const Document& d : after.documents) {
        EXPECT_EQ(d.signature_count, 1) << d.id;
        ASSERT_TRUE(d.signed_blob_key) << d.id;
        EXPECT_NE(d.signed_blob_key, d.blob_key);
        const std::string bytes = Blob(*d.signed_blob_key);
        EXPECT_EQ(d.signed_size, static_cast<std::int64_t>(bytes.size()));
        EXPECT_EQ(d.signed_sha256_hex, hasher_.Sha256Hex(bytes));
        EXPECT_TRUE(Blob(*d.blob_key).size() < bytes.size());  // the upload is kept
    }
    EXPECT_EQ(Blob(*after.documents[0].signed_blob_key),
              original + "%signed by Mario Rossi for 'I accept the terms'\n");
    EXPECT_NE(Blob(*after.documents[1].signed_blob_key).find("invisibly"), std::string::npos);
    ASSERT_EQ(trust_.identities.size(), 2u);  // a certificate per signature
    EXPECT_EQ(trust_.identities[0].full_name, "Mario Rossi");
    // A code login proved the e-mail address, not the fiscal code (issue 14).
    EXPECT_EQ(trust_.identities[0].serial_number, "");
    EXPECT_EQ(trust_.identities[0].country, "");
    EXPECT_EQ(trust_.identities[0].email, "mario@example.org");
    const auto events = Events(r);
    EXPECT_EQ(Count(events, "document.signed"), 2);
    EXPECT_EQ(Count(events, "signer.signed"), 1);
    EXPECT_EQ(Count(events, "signature_request.signed"), 1);

    const auto inbox = Inbox(kMario);
    ASSERT_EQ(inbox.size(), 1u);
    EXPECT_EQ(inbox[0].kind, MessageKind::kSignedDocuments);
    EXPECT_EQ(inbox[0].request_id, r.id);
    EXPECT_EQ(inbox[0].title, "Contratto di lavoro");

    // The issuer can fetch the signed PDF now.
    auto signed_pdf = requests_->SignedDocument(issuer_, r.id, r.documents[0].id);
    ASSERT_TRUE(signed_pdf);
    EXPECT_EQ(*signed_pdf, Blob(*after.documents[0].signed_blob_key));
}

TEST_F(CeremonyTest, SignersWithoutANationalIdentifierGetNoInboxMessage) {
    const SignatureRequest r = MakeReadyRequest({ByEmail()});
    SignAs(r, 0, LoginByCode(r, 0));
    EXPECT_EQ(Reload(r).status, RequestStatus::kSigned);
    auto tx = db_->Begin(TxMode::kRead);
    ASSERT_TRUE(tx);
    EXPECT_EQ((*tx)->inbox().Has(r.id, r.signers[0].signer_id, MessageKind::kSignedDocuments),
              false);
    ASSERT_EQ(trust_.identities.size(), 1u);
    EXPECT_EQ(trust_.identities[0].serial_number, "");  // no national identifier to name
    EXPECT_EQ(trust_.identities[0].full_name, "Luisa Bianchi");
}

TEST_F(CeremonyTest, OptionalClausesNotAcceptedAreNotSigned) {
    const SignatureRequest r = MakeReadyRequest({Mario(0), Giovanni(1)}, Clauses());
    Confirm(r, LoginByCode(r, 0), {{0, 0}, {0, 2}});
    ASSERT_EQ(worker_->RunOnce(), 1);
    ASSERT_EQ(document_signer_.calls.size(), 2u);
    EXPECT_EQ(document_signer_.calls[0].field.clause.title, "I accept the terms");
    EXPECT_EQ(document_signer_.calls[1].field.clause.title, "Penalty of 1000 EUR");
    EXPECT_EQ(document_signer_.calls[1].details.reason, "Penalty of 1000 EUR");
    EXPECT_TRUE(document_signer_.calls[0].details.visible);
    EXPECT_EQ(document_signer_.calls[0].details.signer_name, "Mario Rossi");
    const SignatureRequest after = Reload(r);
    EXPECT_EQ(after.documents[0].signature_count, 1);  // one version per signer
    EXPECT_EQ(after.status, RequestStatus::kWaitForSignature);
    EXPECT_EQ(after.signers[0].status, SignerStatus::kSigned);
    EXPECT_EQ(after.signers[1].status, SignerStatus::kWaiting);
}

TEST_F(CeremonyTest, ASignerWithoutFieldsSignsInvisibly) {
    // Only signer 0 has a field; signer 1 still signs the document.
    const SignatureRequest r = MakeReadyRequest({Mario(0), Giovanni(1)}, OneDocument());
    SignAs(r, 0, LoginByCode(r, 0));
    ASSERT_EQ(document_signer_.calls.size(), 1u);
    EXPECT_TRUE(document_signer_.calls[0].details.visible);

    const PortalSession second = LoginByCode(r, 1);
    ASSERT_TRUE(ceremony_->Open(second, r.id, client_));
    auto outcome = ceremony_->Accept(second, r.id, {}, client_);  // nothing to accept
    ASSERT_TRUE(outcome) << outcome.error().message;
    ASSERT_TRUE(ceremony_->Confirm(second, r.id, codes_.last().code, client_));
    ASSERT_EQ(worker_->RunOnce(), 1);

    ASSERT_EQ(document_signer_.calls.size(), 2u);
    const auto& call = document_signer_.calls[1];
    EXPECT_FALSE(call.details.visible);
    EXPECT_EQ(call.details.reason, "Signed");
    // 1 x 1 point on the first page: the PDF signer refuses a field without width or height
    // (e2e.test_invisible_signature signs such a document with the real signer).
    EXPECT_EQ(call.field.attrs, (std::variant<FieldByName, FieldAtPosition>(
                                    FieldAtPosition{.page = 0, .x = 0, .y = 0, .w = 1, .h = 1})));
    EXPECT_FALSE(call.field.signer_index);
    EXPECT_EQ(call.details.signer_name, "giovanni@example.org");  // no name given: the contact
    const SignatureRequest after = Reload(r);
    EXPECT_EQ(after.status, RequestStatus::kSigned);
    EXPECT_EQ(after.documents[0].signature_count, 2);
    const std::string bytes = Blob(*after.documents[0].signed_blob_key);
    EXPECT_NE(bytes.find("%signed by Mario Rossi"), std::string::npos);  // on top of the first
    EXPECT_NE(bytes.find("%signed by giovanni@example.org for '' invisibly"), std::string::npos);
    // Each signer with a national identifier gets the signed documents.
    EXPECT_EQ(Inbox(kMario).size(), 1u);
    EXPECT_EQ(Inbox(kGiovanni).size(), 1u);
}

TEST_F(CeremonyTest, RunningTheJobTwiceSignsOnce) {
    const SignatureRequest r = MakeReadyRequest({Mario()});
    Confirm(r, LoginByCode(r, 0), {{0, 0}});
    ASSERT_TRUE(ceremony_->RunSigning(SigningJob(r)));
    const SignatureRequest once = Reload(r);
    ASSERT_TRUE(ceremony_->RunSigning(SigningJob(r)));
    EXPECT_EQ(worker_->RunOnce(), 1);  // the queued job finds nothing to do
    const SignatureRequest twice = Reload(r);
    EXPECT_EQ(document_signer_.calls.size(), 1u);
    EXPECT_EQ(twice.documents[0].signature_count, 1);
    EXPECT_EQ(twice.documents[0].signed_blob_key, once.documents[0].signed_blob_key);
    EXPECT_EQ(Count(Events(r), "document.signed"), 1);
    EXPECT_EQ(Inbox(kMario).size(), 1u);
    EXPECT_EQ(SignedBlobFiles(), 1);
}

TEST_F(CeremonyTest, ASignatureAddedMeanwhileIsAConflictAndNothingIsStored) {
    const SignatureRequest r = MakeReadyRequest({Mario()});
    Confirm(r, LoginByCode(r, 0), {{0, 0}});
    // Another node stores a signed version while this one is signing.
    bool raced = false;
    document_signer_.before_sign = [&] {
        if (raced) return;
        raced = true;
        ASSERT_TRUE(InWriteTransaction(*db_, [&](Transaction& tx) -> Result<void> {
            FIRMO_TRY(auto found, tx.requests().Find(r.issuer_id, r.id));
            if (!found || found->documents.empty()) return Fail(ErrorCode::kNotFound, "gone");
            found->documents[0].signature_count += 1;
            return tx.requests().Update(*found);
        }));
    };
    auto result = ceremony_->RunSigning(SigningJob(r));
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code, ErrorCode::kConflict);
    const SignatureRequest after = Reload(r);
    EXPECT_FALSE(after.documents[0].signed_blob_key);
    EXPECT_EQ(after.signers[0].status, SignerStatus::kWaiting);
    EXPECT_EQ(after.status, RequestStatus::kWaitForQtsp);
    EXPECT_EQ(Count(Events(r), "document.signed"), 0);
    EXPECT_EQ(SignedBlobFiles(), 0);  // the version that lost was removed
    EXPECT_TRUE(Inbox(kMario).empty());
}

TEST_F(CeremonyTest, AbandonedSigningFailsTheRequest) {
    const SignatureRequest r = MakeReadyRequest(
        {Mario()}, OneDocument(),
        RedirectUrls{"https://x.example/ok", "https://x.example/no", "https://x.example/err"});
    const PortalSession s = LoginByCode(r, 0);
    Confirm(r, s, {{0, 0}});
    trust_.fail = true;
    EXPECT_EQ(worker_->RunOnce(), 1);  // attempt 1 of 2
    EXPECT_EQ(Reload(r).status, RequestStatus::kWaitForQtsp);
    clock_.Advance(1h);
    EXPECT_EQ(worker_->RunOnce(), 1);  // the last attempt: abandoned
    const SignatureRequest after = Reload(r);
    EXPECT_EQ(after.status, RequestStatus::kFailed);
    EXPECT_EQ(Count(Events(r), "signature_request.failed"), 1);
    EXPECT_EQ(SignedBlobFiles(), 0);
    // Abandoning again changes nothing.
    ASSERT_TRUE(ceremony_->AbandonSigning(SigningJob(r), "again"));
    EXPECT_EQ(Count(Events(r), "signature_request.failed"), 1);
    auto exit = ceremony_->ExitUrl(s, r.id);
    ASSERT_TRUE(exit && *exit);
    EXPECT_TRUE(exit->value().starts_with("https://x.example/err?status_query_token="));
}

// ---- Rejection -----------------------------------------------------------------------------

TEST_F(CeremonyTest, RejectEndsTheRequestWithTheReason) {
    const SignatureRequest r = MakeReadyRequest({Mario(0), Giovanni(1)}, Clauses());
    const PortalSession s = LoginByCode(r, 0);
    auto empty = ceremony_->Reject(s, r.id, "", client_);
    ASSERT_FALSE(empty);
    EXPECT_EQ(empty.error().code, ErrorCode::kInvalidArgument);
    ASSERT_TRUE(ceremony_->Open(s, r.id, client_));
    ASSERT_TRUE(ceremony_->Reject(s, r.id, "The salary is wrong", client_));
    const SignatureRequest after = Reload(r);
    EXPECT_EQ(after.status, RequestStatus::kRejected);
    EXPECT_EQ(after.reject_reason, std::string("The salary is wrong"));
    EXPECT_EQ(after.rejected_at, clock_.Now());
    EXPECT_EQ(after.signers[0].status, SignerStatus::kRejected);
    EXPECT_EQ(after.signers[0].reject_reason, std::string("The salary is wrong"));
    EXPECT_EQ(after.signers[0].rejected_at, clock_.Now());
    const auto events = Events(r);
    EXPECT_EQ(Count(events, "signer.rejected"), 1);
    EXPECT_EQ(Count(events, "signature_request.rejected"), 1);
    // Over: no signing, no second rejection.
    auto again = ceremony_->Reject(s, r.id, "again", client_);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, ErrorCode::kConflict);
    auto accept = ceremony_->Accept(s, r.id, {{0, 0}, {0, 2}}, client_);
    ASSERT_FALSE(accept);
    EXPECT_EQ(accept.error().code, ErrorCode::kConflict);
}

// What the signer sends (user agent, reason) cannot forge the audit detail's other fields: it
// is quoted as a JSON string (issue 12: a planted `ip=`).
TEST_F(CeremonyTest, TheSignersWordsCannotPlantAFieldInTheAuditDetail) {
    const SignatureRequest r = MakeReadyRequest({Mario()});
    const PortalSession s = LoginByCode(r, 0);
    const ClientInfo forger{"203.0.113.7", "agent\" ip=6.6.6.6 ua=\"x"};
    ASSERT_TRUE(ceremony_->Open(s, r.id, forger));
    ASSERT_TRUE(ceremony_->Reject(s, r.id, "no\" ip=6.6.6.6", forger));
    std::string opened, rejected;
    for (const auto& e : Events(r)) {
        if (e.type == "signer.opened") opened = e.detail;
        if (e.type == "signer.rejected") rejected = e.detail;
    }
    EXPECT_EQ(opened, R"(via code ip=203.0.113.7 ua="agent\" ip=6.6.6.6 ua=\"x")");
    EXPECT_EQ(rejected,
              R"(reason="no\" ip=6.6.6.6" ip=203.0.113.7 ua="agent\" ip=6.6.6.6 ua=\"x")");
    // The issuer's event and the request keep the signer's own words.
    EXPECT_EQ(Reload(r).reject_reason, std::string("no\" ip=6.6.6.6"));
}

// ---- Direct-flow exits ---------------------------------------------------------------------

class CeremonyExitTest : public CeremonyTest {
  protected:
    static RedirectUrls Urls() {
        return {"https://shop.example/done", "https://shop.example/rejected?order=7",
                "https://shop.example/error"};
    }
    static std::string TokenOf(const std::string& url) {
        const auto at = url.find("status_query_token=");
        return at == std::string::npos ? "" : url.substr(at + 19);
    }
};

TEST_F(CeremonyExitTest, CompletionUrlCarriesAStatusQueryToken) {
    const SignatureRequest r = MakeReadyRequest({Mario()}, OneDocument(), Urls());
    const PortalSession s = LoginByCode(r, 0);
    auto during = ceremony_->ExitUrl(s, r.id);
    ASSERT_TRUE(during);
    EXPECT_FALSE(*during);  // still in the ceremony
    Confirm(r, s, {{0, 0}});
    auto signing = ceremony_->ExitUrl(s, r.id);
    ASSERT_TRUE(signing);
    EXPECT_FALSE(*signing);  // being signed
    ASSERT_EQ(worker_->RunOnce(), 1);

    auto done = ceremony_->ExitUrl(s, r.id);
    ASSERT_TRUE(done && *done);
    EXPECT_TRUE(done->value().starts_with("https://shop.example/done?status_query_token="))
        << **done;
    const std::string token = TokenOf(**done);
    ASSERT_FALSE(token.empty());
    auto status = requests_->GetWithStatusQueryToken(issuer_, r.id, token);
    ASSERT_TRUE(status) << status.error().message;
    EXPECT_EQ(status->status, RequestStatus::kSigned);
    auto wrong = requests_->GetWithStatusQueryToken(issuer_, r.id, token + "x");
    ASSERT_FALSE(wrong);
    EXPECT_EQ(wrong.error().code, ErrorCode::kForbidden);

    // A reload (or a browser's prefetch) of the exit within 10 minutes hands out the same
    // token: the one the issuer is checking stays valid (issue 12).
    clock_.Advance(kExitTokenReuse - 1s);
    auto reload = ceremony_->ExitUrl(s, r.id);
    ASSERT_TRUE(reload && *reload);
    EXPECT_EQ(**reload, **done);
    EXPECT_TRUE(requests_->GetWithStatusQueryToken(issuer_, r.id, token));

    // Later, a fresh exit replaces the earlier token.
    clock_.Advance(2s);
    auto again = ceremony_->ExitUrl(s, r.id);
    ASSERT_TRUE(again && *again);
    EXPECT_NE(TokenOf(**again), token);
    auto revoked = requests_->GetWithStatusQueryToken(issuer_, r.id, token);
    ASSERT_FALSE(revoked);
    EXPECT_EQ(revoked.error().code, ErrorCode::kForbidden);
    EXPECT_TRUE(requests_->GetWithStatusQueryToken(issuer_, r.id, TokenOf(**again)));
}

// Exit URLs a browser would read as another host are refused when the request is created
// (issue 12), each with its reason.
TEST_F(CeremonyExitTest, ExitUrlsThatHideAnotherHostAreRefusedAtCreation) {
    const SignatureRequest model = MakeReadyRequest({Mario()}, OneDocument(), Urls());
    NewSignatureRequest input;
    input.dossier_id = model.dossier_id;
    input.expires_at = clock_.Now() + 48h;
    input.signers.push_back({model.signers[0].signer_id, 0});
    input.redirect = RedirectUrls{"https://user:pass@shop.example/done",
                                  "https://evil.example\\@shop.example/", "https:///error\x01"};
    auto refused = requests_->Create(issuer_, input, "test");
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
    ASSERT_EQ(refused.error().violations.size(), 3u);
    EXPECT_EQ(refused.error().violations[0].field, "redirect.completion_url");
    EXPECT_EQ(refused.error().violations[0].reason,
              "must not carry a user name or password (user:pass@)");
    EXPECT_EQ(refused.error().violations[1].field, "redirect.rejection_url");
    EXPECT_EQ(refused.error().violations[1].reason,
              "must not contain a backslash (browsers read it as '/')");
    EXPECT_EQ(refused.error().violations[2].field, "redirect.error_url");
    EXPECT_EQ(refused.error().violations[2].reason, "must not contain control characters");
}

TEST_F(CeremonyExitTest, RejectionAndErrorUrls) {
    const SignatureRequest rejected = MakeReadyRequest({Mario()}, OneDocument(), Urls());
    const PortalSession s = LoginByCode(rejected, 0);
    ASSERT_TRUE(ceremony_->Reject(s, rejected.id, "No thanks", client_));
    auto exit = ceremony_->ExitUrl(s, rejected.id);
    ASSERT_TRUE(exit && *exit);
    EXPECT_TRUE(
        exit->value().starts_with("https://shop.example/rejected?order=7&status_query_token="))
        << **exit;
    EXPECT_TRUE(requests_->GetWithStatusQueryToken(issuer_, rejected.id, TokenOf(**exit)));

    const SignatureRequest cancelled = MakeReadyRequest({Giovanni()}, OneDocument(), Urls());
    const PortalSession g = LoginByCode(cancelled, 0);
    ASSERT_TRUE(
        requests_->ChangeStatus(issuer_, cancelled.id, RequestedStatus::kCancelled, "test"));
    auto error = ceremony_->ExitUrl(g, cancelled.id);
    ASSERT_TRUE(error && *error);
    EXPECT_TRUE(error->value().starts_with("https://shop.example/error?status_query_token="));
}

TEST_F(CeremonyExitTest, NoExitWithoutRedirectUrls) {
    const SignatureRequest r = MakeReadyRequest({Mario()});
    const PortalSession s = LoginByCode(r, 0);
    ASSERT_TRUE(ceremony_->Reject(s, r.id, "No thanks", client_));
    auto exit = ceremony_->ExitUrl(s, r.id);
    ASSERT_TRUE(exit);
    EXPECT_FALSE(*exit);
}

// ---- Notification and inbox ----------------------------------------------------------------

TEST_F(CeremonyTest, NotifyIsIdempotentAndSendsTheRequest) {
    const SignatureRequest r = MakeReadyRequest({Mario(0), Giovanni(1)}, Clauses());
    auto first = requests_->Notify(issuer_, r.id, "issuer:test");
    ASSERT_TRUE(first) << first.error().message;
    const SignatureRequest after = Reload(r);
    EXPECT_EQ(after.status, RequestStatus::kWaitForSignature);
    EXPECT_EQ(after.notification_id, *first);
    auto second = requests_->Notify(issuer_, r.id, "issuer:test");
    ASSERT_TRUE(second);
    EXPECT_EQ(*second, *first);
    EXPECT_EQ(Count(Events(r), "notification.sent"), 1);
    EXPECT_EQ(Count(Events(r), "signature_request.sent"), 1);
    // Only the signer whose turn it is hears of it, once.
    const auto mario = Inbox(kMario);
    ASSERT_EQ(mario.size(), 1u);
    EXPECT_EQ(mario[0].kind, MessageKind::kSignRequest);
    EXPECT_TRUE(Inbox(kGiovanni).empty());

    // The eID inbox shows it; after Mario signed, Giovanni's turn puts it in his.
    const PortalSession person = LoginByIdentity(IdentifierKind::kItFiscalCode, kMario);
    auto inbox = ceremony_->Inbox(person, PageQuery{10, std::nullopt});
    ASSERT_TRUE(inbox);
    ASSERT_EQ(inbox->items.size(), 1u);
    EXPECT_EQ(inbox->items[0].request_id, r.id);
    SignAs(r, 0, LoginByCode(r, 0));
    const auto giovanni = Inbox(kGiovanni);
    ASSERT_EQ(giovanni.size(), 1u);
    EXPECT_EQ(giovanni[0].kind, MessageKind::kSignRequest);
}

TEST_F(CeremonyTest, NotifyRefusesDraftsAndOtherIssuers) {
    const SignatureRequest r = MakeReadyRequest({Mario()});
    auto foreign = requests_->Notify(MakeIssuer("ISSUER-B", "Other"), r.id, "issuer:b");
    ASSERT_FALSE(foreign);
    EXPECT_EQ(foreign.error().code, ErrorCode::kNotFound);
    ASSERT_TRUE(requests_->ChangeStatus(issuer_, r.id, RequestedStatus::kCancelled, "test"));
    auto cancelled = requests_->Notify(issuer_, r.id, "issuer:test");
    ASSERT_FALSE(cancelled);
    EXPECT_EQ(cancelled.error().code, ErrorCode::kConflict);
}

TEST_F(CeremonyTest, AnIdentitySessionSignsWithReauthentication) {
    const SignatureRequest r = MakeReadyRequest({Mario()});
    PortalSession person = LoginByIdentity(IdentifierKind::kItFiscalCode, kMario, "Mario R.");
    auto view = ceremony_->Open(person, r.id, client_);
    ASSERT_TRUE(view) << view.error().message;
    EXPECT_EQ(view->second_factor, SecondFactor::kReauthentication);
    auto accepted = ceremony_->Accept(person, r.id, {{0, 0}}, client_);
    ASSERT_TRUE(accepted);
    EXPECT_FALSE(accepted->code);  // no code sent
    // The login's authentication is too old by now.
    clock_.Advance(sessions_->options().reauthentication_max_age + 1s);
    auto stale = ceremony_->Confirm(person, r.id, "", client_);
    ASSERT_FALSE(stale);
    EXPECT_EQ(stale.error().code, ErrorCode::kUnauthenticated);
    person.reauthenticated_at = clock_.Now();
    ASSERT_TRUE(ceremony_->Confirm(person, r.id, "", client_));
    EXPECT_EQ(Reload(r).signers[0].signing_name, "Mario R.");  // the eID's name wins
    ASSERT_EQ(worker_->RunOnce(), 1);
    EXPECT_EQ(Reload(r).status, RequestStatus::kSigned);
}

// API.md: an eID signer confirms with a second eID login after accepting the clauses. A login
// followed by an acceptance within a minute is not one (issue 12).
TEST_F(CeremonyTest, TheFirstEidLoginIsNotTheReauthenticationEvenWithinAMinute) {
    const SignatureRequest r = MakeReadyRequest({Mario()});
    VerifiedIdentity mario;
    mario.kind = IdentifierKind::kItFiscalCode;
    mario.identifier = kMario;
    mario.full_name = "Mario R.";
    mario.auth_time = clock_.Now();
    auto login = sessions_->LoginWithIdentity("", mario, client_);
    ASSERT_TRUE(login);
    ASSERT_TRUE(ceremony_->Open(login->session, r.id, client_));
    clock_.Advance(20s);
    ASSERT_TRUE(ceremony_->Accept(login->session, r.id, {{0, 0}}, client_));
    clock_.Advance(10s);
    auto session = sessions_->Find(login->token);
    ASSERT_TRUE(session);
    auto without = ceremony_->Confirm(*session, r.id, "", client_);
    ASSERT_FALSE(without) << "confirmed with the login alone";
    EXPECT_EQ(without.error().code, ErrorCode::kUnauthenticated);
    EXPECT_FALSE(Reload(r).signers[0].confirmed_at);

    // A re-authentication begun before the acceptance does not count either.
    const SignatureRequest second = MakeReadyRequest({Mario()});
    ASSERT_TRUE(ceremony_->Open(*session, second.id, client_));
    ASSERT_TRUE(sessions_->Reauthenticated(login->token, mario));
    clock_.Advance(30s);
    session = sessions_->Find(login->token);
    ASSERT_TRUE(ceremony_->Accept(*session, second.id, {{0, 0}}, client_));
    auto early = ceremony_->Confirm(*session, second.id, "", client_);
    ASSERT_FALSE(early);
    EXPECT_EQ(early.error().code, ErrorCode::kUnauthenticated);

    // The second eID login, after the acceptance: confirmed.
    clock_.Advance(5s);
    mario.auth_time = clock_.Now();
    ASSERT_TRUE(sessions_->Reauthenticated(login->token, mario));
    session = sessions_->Find(login->token);
    ASSERT_TRUE(ceremony_->Confirm(*session, r.id, "", client_));
    ASSERT_TRUE(ceremony_->Confirm(*session, second.id, "", client_));
}

}  // namespace
}  // namespace firmo::domain
