// The validation pipeline end to end below HTTP: upload -> job -> worker -> document status,
// with a fake validator and a manual clock, on the real SQLite store.

#include "jobs/worker.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>

#include "core/ids.hpp"
#include "core/testing/temp_dir.hpp"
#include "crypto/hasher.hpp"
#include "domain/services/dossier_service.hpp"
#include "domain/services/idempotency_service.hpp"
#include "domain/services/request_service.hpp"
#include "domain/services/signer_service.hpp"
#include "store/filesystem/folder_blob_store.hpp"
#include "store/sqlite/sqlite_database.hpp"

namespace firmo::jobs {
namespace {

using namespace firmo::domain;
using namespace std::chrono_literals;

class FakeValidator final : public DocumentValidator {
  public:
    ValidationReport ValidateFile(const std::filesystem::path&,
                                  const std::vector<SignatureField>&) const override {
        ++calls;
        return report;
    }
    ValidationReport ValidateBytes(std::string_view,
                                   const std::vector<SignatureField>&) const override {
        ++calls;
        return report;
    }
    ValidationReport report{true, 3, {}};
    mutable std::atomic<int> calls{0};
};

class WorkerTest : public ::testing::Test {
  protected:
    void SetUp() override {
        const auto& dir = dir_.path();
        db_ = std::move(*store::sqlite::SqliteDatabase::Open((dir / "f.db").string(), 2));
        ASSERT_TRUE(db_->Migrate());
        blobs_ = std::make_unique<store::FolderBlobStore>(dir / "documents");
        ctx_ = std::make_unique<ServiceContext>(
            ServiceContext{*db_, *blobs_, validator_, hasher_, clock_, random_, Limits{}, [] {}});
        requests_ = std::make_unique<RequestService>(*ctx_);
        issuer_ = "ISSUER";
        ASSERT_TRUE(InWriteTransaction(*db_, [&](Transaction& tx) -> Result<void> {
            FIRMO_CHECK(tx.InsertIssuer(Issuer{issuer_, "Test", "t@example.org", clock_.Now()}));
            return tx.Commit();
        }));
        DossierService dossiers(*ctx_);
        auto dossier = dossiers.Create(
            issuer_, NewDossier{"Dossier", std::nullopt, {DocumentMetadata{"Contract", {}}}});
        ASSERT_TRUE(dossier);
        SignerService signers(*ctx_);
        auto signer = signers.Resolve(
            issuer_, NewSigner{IdentifierKind::kItFiscalCode, "RSSMRA80A01H501U", {}, {}});
        ASSERT_TRUE(signer);
        NewSignatureRequest input;
        input.dossier_id = dossier->id;
        input.signers = {{signer->signer.id, 0}};
        input.expires_at = clock_.Now() + 1h;
        auto request = requests_->Create(issuer_, input, "test");
        ASSERT_TRUE(request);
        request_ = *request;
        WorkerOptions options;
        options.max_attempts = 3;
        worker_ = std::make_unique<Worker>(*db_, *requests_, clock_, options);
    }
    void TearDown() override {
        worker_.reset();
        db_.reset();
    }

    Document Upload() {
        auto doc = requests_->UploadDocument(issuer_, request_.id, request_.documents[0].id,
                                             domain::Upload{"%PDF-1.7 test", "test"});
        EXPECT_TRUE(doc) << doc.error().message;
        return *doc;
    }
    Document Current() { return requests_->Get(issuer_, request_.id)->documents[0]; }

    ManualClock clock_{FromUnixMillis(1'795'000'000'000)};
    SeededRandom random_{3};
    FakeValidator validator_;
    crypto::OpenSslHasher hasher_;
    firmo::testing::TempDir dir_{"firmo-worker"};
    std::unique_ptr<Database> db_;
    std::unique_ptr<BlobStore> blobs_;
    std::unique_ptr<ServiceContext> ctx_;
    std::unique_ptr<RequestService> requests_;
    std::unique_ptr<Worker> worker_;
    std::string issuer_;
    SignatureRequest request_;
};

TEST_F(WorkerTest, ValidDocumentBecomesReady) {
    EXPECT_EQ(Upload().status, DocumentStatus::kWaitForValidation);
    EXPECT_EQ(worker_->RunOnce(), 1);
    EXPECT_EQ(Current().status, DocumentStatus::kReady);
    EXPECT_EQ(Current().page_count, 3);
    EXPECT_EQ(worker_->RunOnce(), 0);  // nothing left
}

TEST_F(WorkerTest, InvalidDocumentIsRejectedWithItsViolations) {
    validator_.report = ValidationReport{false, 1, {{"signature_fields[0]", "no field named X"}}};
    Upload();
    worker_->RunOnce();
    const Document d = Current();
    EXPECT_EQ(d.status, DocumentStatus::kRejected);
    EXPECT_EQ(d.violations, validator_.report.violations);
    EXPECT_EQ(d.reject_reason, "signature_fields[0]: no field named X");
}

TEST_F(WorkerTest, OnlyTheLatestUploadIsValidated) {
    Upload();
    Upload();                          // replaces the first before the worker runs
    EXPECT_EQ(worker_->RunOnce(), 2);  // both jobs run...
    EXPECT_EQ(validator_.calls, 1);    // ...but the stale one validates nothing
    EXPECT_EQ(Current().status, DocumentStatus::kReady);
    EXPECT_EQ(Current().upload_generation, 2);
}

TEST_F(WorkerTest, FailuresAreRetriedWithBackoffThenRejected) {
    const Document d = Upload();
    ASSERT_TRUE(blobs_->Remove(*d.blob_key));  // the file vanished: validation cannot run
    EXPECT_EQ(worker_->RunOnce(), 1);          // attempt 1 fails, retry in 2 s
    EXPECT_EQ(Current().status, DocumentStatus::kWaitForValidation);
    EXPECT_EQ(worker_->RunOnce(), 0);  // not due yet
    clock_.Advance(2s);
    EXPECT_EQ(worker_->RunOnce(), 1);  // attempt 2, retry in 4 s
    clock_.Advance(4s);
    EXPECT_EQ(worker_->RunOnce(), 1);  // attempt 3: the last
    const Document after = Current();
    EXPECT_EQ(after.status, DocumentStatus::kRejected);
    ASSERT_EQ(after.violations.size(), 1u);
    EXPECT_EQ(after.violations[0].field, "file");
    clock_.Advance(1h);
    EXPECT_EQ(worker_->RunOnce(), 0);
    EXPECT_EQ(validator_.calls, 0);
}

TEST_F(WorkerTest, SweepExpiresDueRequests) {
    worker_->RunOnce();  // first sweep: nothing due
    clock_.Advance(2h);
    worker_->RunOnce();
    auto events = requests_->Events(issuer_, request_.id);
    ASSERT_TRUE(events);
    EXPECT_EQ(events->back().type, "signer.expired");
    EXPECT_EQ(requests_->Get(issuer_, request_.id)->status, RequestStatus::kExpired);
}

TEST_F(WorkerTest, SweepDeletesRateLimitBucketsThatCountNothingAnyMore) {
    const auto count = [&](const std::string& bucket) {
        auto tx = db_->Begin(TxMode::kSingleWrite);
        ASSERT_TRUE(tx);
        ASSERT_TRUE((*tx)->CountRateLimitHit(bucket, clock_.Now(), 1min));
    };
    count("key:old");
    worker_->RunOnce();  // the first sweep
    clock_.Advance(2min);
    count("key:live");  // its window is the current one
    worker_->RunOnce();
    // The sweep deleted "key:old", whose last window ended a window ago; "key:live" is left.
    auto tx = db_->Begin(TxMode::kWrite);
    ASSERT_TRUE(tx);
    EXPECT_EQ((*tx)->PurgeRateLimits(clock_.Now()), 0);
    EXPECT_EQ((*tx)->PurgeRateLimits(clock_.Now() + 2min), 1);
}

// Not the worker's, but this fixture has the whole service context: an Idempotency-Key whose
// first call never finished (its node died) is released after the in-progress timeout.
TEST_F(WorkerTest, IdempotencyKeyOfADeadCallIsReleased) {
    IdempotencyService idempotency(*ctx_);
    auto first = idempotency.Begin(issuer_, "k", "POST /x\n{}");
    ASSERT_TRUE(first);
    EXPECT_FALSE(*first);  // run it
    EXPECT_EQ(idempotency.Begin(issuer_, "k", "POST /x\n{}").error().code, ErrorCode::kConflict);
    clock_.Advance(IdempotencyService::kInProgressTimeout + 1s);
    auto again = idempotency.Begin(issuer_, "k", "POST /x\n{}");
    ASSERT_TRUE(again);
    EXPECT_FALSE(*again);  // runs again
    idempotency.Finish(issuer_, "k", {201, "{}", ""});
    EXPECT_EQ((*idempotency.Begin(issuer_, "k", "POST /x\n{}"))->status, 201);
}

TEST_F(WorkerTest, BackgroundThreadsRunJobsWhenWoken) {
    ctx_->on_job_enqueued = [this] { worker_->Wake(); };
    worker_->Start();
    Upload();
    for (int i = 0; i < 500 && Current().status != DocumentStatus::kReady; ++i) {
        std::this_thread::sleep_for(10ms);
    }
    EXPECT_EQ(Current().status, DocumentStatus::kReady);
    worker_->Stop();
}

}  // namespace
}  // namespace firmo::jobs
