#pragma once
// For tests of the domain services (signer side, events): the in-memory store, the folder blob
// store in a temporary directory, a manual clock, seeded randomness, and fakes for the ports
// that would need a network or a PDF engine (code sender, trust service, document signer). The
// worker (src/jobs) runs the jobs the services enqueue, as in production. Only the test binary
// links these adapters: the domain library itself depends on none.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/testing/temp_dir.hpp"
#include "crypto/hasher.hpp"
#include "domain/services/ceremony_service.hpp"
#include "domain/services/dossier_service.hpp"
#include "domain/services/event_service.hpp"
#include "domain/services/request_service.hpp"
#include "domain/services/signer_service.hpp"
#include "domain/services/signer_session_service.hpp"
#include "domain/services/testing/fakes.hpp"
#include "jobs/worker.hpp"
#include "store/filesystem/folder_blob_store.hpp"
#include "store/memory/memory_database.hpp"

namespace firmo::domain::fixtures {

using namespace firmo::domain;
using namespace std::chrono_literals;

struct NewParty {
    IdentifierKind kind = IdentifierKind::kItFiscalCode;
    std::string identifier;
    std::optional<std::string> email;
    std::optional<std::string> full_name;
    int order = 0;
    std::optional<AuthLevel> authentication;  // the request's default when absent
};

class SignerSideTest : public ::testing::Test {
  protected:
    void SetUp() override {
        const auto& dir = dir_.path();
        db_ = std::make_unique<store::memory::MemoryDatabase>();
        ASSERT_TRUE(db_->Migrate());
        blobs_ = std::make_unique<store::FolderBlobStore>(dir / "documents");
        ctx_ = std::make_unique<ServiceContext>(ServiceContext{
            *db_, *blobs_, validator_, hasher_, clock_, random_, Limits{}, [this] { ++woken_; }});
        requests_ =
            std::make_unique<RequestService>(*ctx_, RequestOptions{.eid_login = eid_login_});
        SignerSideOptions options;
        options.code_pepper = "pepper";
        options.eid_login = eid_login_;
        sessions_ = std::make_unique<SignerSessionService>(*ctx_, codes_, options);
        ceremony_ = std::make_unique<CeremonyService>(*ctx_, *sessions_, trust_, document_signer_);
        jobs::WorkerOptions worker_options;
        worker_options.max_attempts = 2;
        // The worker's outbox delivery is not exercised here (EventsTest has its own service).
        worker_events_ = std::make_unique<EventService>(*ctx_, nullptr, EventOptions{});
        worker_ = std::make_unique<jobs::Worker>(*db_, *requests_, *ceremony_, *worker_events_,
                                                 signal_, clock_, worker_options);
        issuer_ = MakeIssuer("ISSUER-A", "Comune di Roma");
    }
    void TearDown() override {
        worker_.reset();
        db_.reset();
    }

    std::string MakeIssuer(const std::string& id, const std::string& name) {
        auto done = InWriteTransaction(*db_, [&](Transaction& tx) -> Result<void> {
            return tx.issuers().Insert(Issuer{id, name, "ops@example.org", clock_.Now()});
        });
        EXPECT_TRUE(done);
        return id;
    }

    // One document, one REQUIRED field for signer 0 by default.
    static std::vector<DocumentMetadata> OneDocument() {
        return {DocumentMetadata{
            "Contract",
            {SignatureField{FieldByName{"Signature1"},
                            Clause{"I accept the terms", ClauseType::kRequired}}}}};
    }

    // A request READY for signing: dossier, signers, uploaded and validated documents.
    SignatureRequest MakeReadyRequest(const std::vector<NewParty>& parties,
                                      std::vector<DocumentMetadata> documents = OneDocument(),
                                      std::optional<RedirectUrls> redirect = std::nullopt,
                                      const std::string& issuer_id = "") {
        const std::string issuer = issuer_id.empty() ? issuer_ : issuer_id;
        DossierService dossiers(*ctx_);
        auto dossier = dossiers.Create(
            issuer, NewDossier{"Contratto di lavoro", std::nullopt, std::move(documents)});
        EXPECT_TRUE(dossier) << dossier.error().message;
        if (!dossier) return {};
        SignerService signers(*ctx_);
        NewSignatureRequest input;
        input.dossier_id = dossier->id;
        input.expires_at = clock_.Now() + 48h;
        input.redirect = redirect;
        input.identifier_in_signed_documents = identifier_in_signed_documents_;
        for (const auto& p : parties) {
            auto signer = signers.Resolve(
                issuer, NewSigner{p.kind, p.identifier, p.email, std::nullopt, p.full_name});
            EXPECT_TRUE(signer) << signer.error().message;
            if (!signer) return {};
            input.signers.push_back({signer->signer.id, p.order, p.authentication});
        }
        auto request = requests_->Create(issuer, input, "test");
        EXPECT_TRUE(request) << request.error().message;
        if (!request) return {};
        for (const auto& doc : request->documents) {
            auto uploaded = requests_->UploadDocument(
                issuer, request->id, doc.id,
                Upload{"%PDF-1.7\n% document " + std::to_string(doc.index) + "\n", "test"});
            EXPECT_TRUE(uploaded) << uploaded.error().message;
        }
        worker_->RunOnce();  // validation
        auto ready = requests_->ChangeStatus(issuer, request->id, RequestedStatus::kReady, "test");
        EXPECT_TRUE(ready) << ready.error().message;
        return ready ? *ready : SignatureRequest{};
    }

    SignatureRequest Reload(const SignatureRequest& r) {
        auto got = requests_->Get(r.issuer_id, r.id);
        EXPECT_TRUE(got);
        return got ? *got : SignatureRequest{};
    }

    std::vector<AuditEvent> Events(const SignatureRequest& r) {
        auto events = requests_->Events(r.issuer_id, r.id);
        EXPECT_TRUE(events);
        return events ? *events : std::vector<AuditEvent>{};
    }
    static int Count(const std::vector<AuditEvent>& events, const std::string& type) {
        int n = 0;
        for (const auto& e : events) n += e.type == type ? 1 : 0;
        return n;
    }

    // Link + code login of signer `position`; the session it returns is authenticated.
    PortalSession LoginByCode(const SignatureRequest& r, std::size_t position) {
        const std::string& signer_id = r.signers[position].signer_id;
        auto sent = sessions_->SendCode(r.id, signer_id, CodeKind::kLogin, client_);
        EXPECT_TRUE(sent) << sent.error().message;
        auto handle = sessions_->LoginWithCode("", r.id, signer_id, codes_.last().code, client_);
        EXPECT_TRUE(handle) << handle.error().message;
        return handle ? handle->session : PortalSession{};
    }

    PortalSession LoginByIdentity(IdentifierKind kind, const std::string& identifier,
                                  const std::string& full_name = "Mario Rossi",
                                  AuthLevel level = AuthLevel::kEidSubstantial) {
        VerifiedIdentity identity;
        identity.level = level;
        identity.kind = kind;
        identity.identifier = identifier;
        identity.full_name = full_name;
        identity.auth_time = clock_.Now();
        auto handle = sessions_->LoginWithIdentity("", identity, client_);
        EXPECT_TRUE(handle) << handle.error().message;
        return handle ? handle->session : PortalSession{};
    }

    // Accept every clause of the signer, confirm with the code that was sent, run the job.
    void SignAs(const SignatureRequest& r, std::size_t position, const PortalSession& session) {
        std::vector<FieldRef> mine;
        for (const auto& doc : r.documents) {
            for (std::size_t j = 0; j < doc.metadata.signature_fields.size(); ++j) {
                if (FieldSignerPosition(doc.metadata.signature_fields[j], r) == position) {
                    mine.push_back({doc.index, static_cast<int>(j)});
                }
            }
        }
        ASSERT_TRUE(ceremony_->Open(session, r.id, client_));
        auto accepted = ceremony_->Accept(session, r.id, mine, client_);
        ASSERT_TRUE(accepted) << accepted.error().message;
        auto confirmed = ceremony_->Confirm(session, r.id, codes_.last().code, client_);
        ASSERT_TRUE(confirmed) << confirmed.error().message;
        EXPECT_GT(worker_->RunOnce(), 0);
    }

    std::string Blob(const std::string& key) {
        auto bytes = blobs_->Get(key);
        EXPECT_TRUE(bytes) << bytes.error().message;
        return bytes ? *bytes : "";
    }

    // Set by a derived fixture's constructor: whether the server offers eID login, and the
    // requests' identifier_in_signed_documents.
    bool eid_login_ = false;
    IdentifierInSignedDocuments identifier_in_signed_documents_ =
        IdentifierInSignedDocuments::kIdentifierAndName;
    ManualClock clock_{FromUnixMillis(1'795'000'000'000)};
    SeededRandom random_{7};
    AcceptingValidator validator_;
    crypto::OpenSslHasher hasher_;
    CapturingCodeSender codes_;
    FakeTrustService trust_;
    MarkerDocumentSigner document_signer_;
    firmo::testing::TempDir dir_{"firmo-signer-side"};
    std::unique_ptr<Database> db_;
    std::unique_ptr<BlobStore> blobs_;
    std::unique_ptr<ServiceContext> ctx_;
    std::unique_ptr<RequestService> requests_;
    std::unique_ptr<SignerSessionService> sessions_;
    std::unique_ptr<CeremonyService> ceremony_;
    std::unique_ptr<EventService> worker_events_;
    jobs::JobSignal signal_;
    std::unique_ptr<jobs::Worker> worker_;
    std::string issuer_;
    int woken_ = 0;
    ClientInfo client_{"192.0.2.10", "TestBrowser/1.0"};
};

inline constexpr const char* kMario = "RSSMRA80A01H501U";
inline constexpr const char* kGiovanni = "BNCGVN75L15F205G";
inline constexpr const char* kLuigia = "VRDLGU90E41Z404B";

}  // namespace firmo::domain::fixtures
