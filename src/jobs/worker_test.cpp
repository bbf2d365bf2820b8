// The validation pipeline end to end below HTTP: upload -> job -> worker -> document status,
// with a fake validator and a manual clock, on the real SQLite store.

#include "jobs/worker.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <functional>

#include "core/ids.hpp"
#include "core/testing/temp_dir.hpp"
#include "crypto/hasher.hpp"
#include "domain/services/dossier_service.hpp"
#include "domain/services/request_service.hpp"
#include "domain/services/signer_service.hpp"
#include "domain/services/testing/fakes.hpp"
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
        if (during) during();
        return report;
    }
    ValidationReport ValidateBytes(std::string_view,
                                   const std::vector<SignatureField>&) const override {
        ++calls;
        return report;
    }
    ValidationReport report{true, 3, {}};
    mutable std::atomic<int> calls{0};
    std::function<void()> during;  // runs inside ValidateFile: a slow validation
};

// The folder store, optionally with "direct URLs" (direct://<key>) as an S3 store hands out:
// a test plays the issuer's PUT by writing the key itself.
class DirectFolderStore final : public BlobStore {
  public:
    explicit DirectFolderStore(const std::filesystem::path& root) : folder_(root) {}
    Result<BlobInfo> Put(const std::string& key, std::string_view bytes) override {
        return folder_.Put(key, bytes);
    }
    Result<std::string> Get(const std::string& key) override { return folder_.Get(key); }
    Result<void> WithLocalFile(
        const std::string& key,
        const std::function<void(const std::filesystem::path&)>& use) override {
        return folder_.WithLocalFile(key, use);
    }
    Result<void> Remove(const std::string& key) override { return folder_.Remove(key); }
    Result<std::optional<BlobInfo>> Stat(const std::string& key) override {
        return folder_.Stat(key);
    }
    bool SupportsDirectUrls() const override { return direct; }
    Result<std::string> DirectUploadUrl(const std::string& key, std::chrono::seconds,
                                        std::string_view content_type) override {
        EXPECT_EQ(content_type, "application/pdf");
        return "direct://" + key;
    }
    Result<std::string> DirectDownloadUrl(const std::string& key, std::chrono::seconds,
                                          std::string_view, std::string_view) override {
        return "direct://" + key;
    }
    bool direct = false;

  private:
    store::FolderBlobStore folder_;
};

class WorkerTest : public ::testing::Test {
  protected:
    void SetUp() override {
        const auto& dir = dir_.path();
        db_ = std::move(*store::sqlite::SqliteDatabase::Open((dir / "f.db").string(), 2));
        ASSERT_TRUE(db_->Migrate());
        blobs_ = std::make_unique<DirectFolderStore>(dir / "documents");
        ctx_ = std::make_unique<ServiceContext>(
            ServiceContext{*db_, *blobs_, validator_, hasher_, clock_, random_, Limits{}, [] {}});
        requests_ = std::make_unique<RequestService>(*ctx_);
        sessions_ = std::make_unique<SignerSessionService>(*ctx_, codes_, SignerSideOptions{});
        ceremony_ = std::make_unique<CeremonyService>(*ctx_, *sessions_, trust_, document_signer_);
        events_ = std::make_unique<EventService>(*ctx_, nullptr, EventOptions{});
        issuer_ = "ISSUER";
        ASSERT_TRUE(InWriteTransaction(*db_, [&](Transaction& tx) -> Result<void> {
            FIRMO_CHECK(
                tx.issuers().Insert(Issuer{issuer_, "Test", "t@example.org", clock_.Now()}));
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
        options.metrics = &metrics_;
        worker_ = MakeWorker(options);
    }
    // A worker (a node) on this fixture's database and services.
    std::unique_ptr<Worker> MakeWorker(WorkerOptions options) {
        return std::make_unique<Worker>(*db_, *requests_, *ceremony_, *events_, signal_, clock_,
                                        std::move(options));
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

    // A direct upload URL for the document; returns the staging key it points at.
    std::string BeginDirect(std::chrono::seconds ttl = 15min) {
        blobs_->direct = true;
        auto url =
            requests_->BeginDirectUpload(issuer_, request_.id, request_.documents[0].id, ttl);
        EXPECT_TRUE(url) << url.error().message;
        EXPECT_TRUE(url->starts_with("direct://uploads/" + request_.id + "/")) << *url;
        return url->substr(std::string_view("direct://").size());
    }
    std::optional<Job> OpenAwait() {
        return *InReadTransaction(*db_, [&](Transaction& tx) {
            return tx.jobs().FindOpen(JobKind::kAwaitUpload, request_.id, request_.documents[0].id);
        });
    }

    ManualClock clock_{FromUnixMillis(1'795'000'000'000)};
    SeededRandom random_{3};
    metrics::Registry metrics_;
    FakeValidator validator_;
    crypto::OpenSslHasher hasher_;
    firmo::testing::TempDir dir_{"firmo-worker"};
    std::unique_ptr<Database> db_;
    std::unique_ptr<DirectFolderStore> blobs_;
    std::unique_ptr<ServiceContext> ctx_;
    std::unique_ptr<RequestService> requests_;
    domain::fixtures::CapturingCodeSender codes_;
    domain::fixtures::FakeTrustService trust_;
    domain::fixtures::MarkerDocumentSigner document_signer_;
    std::unique_ptr<SignerSessionService> sessions_;
    std::unique_ptr<CeremonyService> ceremony_;
    std::unique_ptr<EventService> events_;
    JobSignal signal_;
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
    // Each run counted by kind and outcome, with its duration.
    const std::string text = metrics_.Render();
    EXPECT_NE(text.find("firmo_jobs_total{kind=\"validate_document\",outcome=\"retry\"} 2\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("firmo_jobs_total{kind=\"validate_document\",outcome=\"abandoned\"} 1\n"),
              std::string::npos);
    EXPECT_NE(text.find("firmo_job_duration_seconds_count{kind=\"validate_document\"} 3\n"),
              std::string::npos);
}

TEST_F(WorkerTest, DirectUploadIsTakenWhenItLandsThenValidated) {
    const std::string key = BeginDirect();
    EXPECT_EQ(worker_->RunOnce(), 0);  // the first look is a second later
    clock_.Advance(1s);
    EXPECT_EQ(worker_->RunOnce(), 1);  // nothing there yet: look again later
    EXPECT_EQ(Current().status, DocumentStatus::kWaitForUpload);
    ASSERT_TRUE(blobs_->Put(key, "%PDF-1.7 direct"));  // the issuer's PUT
    EXPECT_EQ(worker_->RunOnce(), 0);                  // not due yet
    clock_.Advance(1s);
    EXPECT_EQ(worker_->RunOnce(), 2);  // taken, then validated at once
    const Document d = Current();
    EXPECT_EQ(d.status, DocumentStatus::kReady);
    EXPECT_EQ(d.size, 15);
    EXPECT_EQ(d.sha256_hex, hasher_.Sha256Hex("%PDF-1.7 direct"));
    ASSERT_TRUE(d.blob_key);
    EXPECT_TRUE(d.blob_key->starts_with("requests/" + request_.id + "/")) << *d.blob_key;
    EXPECT_EQ(*blobs_->Get(*d.blob_key), "%PDF-1.7 direct");
    EXPECT_FALSE(*blobs_->Stat(key));  // the staging key is free again
    auto open = OpenAwait();           // still watching: the URL may be used again
    ASSERT_TRUE(open);
    EXPECT_EQ(open->attempts, 0);  // looks are not attempts

    // A second PUT through the same URL is a re-upload.
    ASSERT_TRUE(blobs_->Put(key, "%PDF-1.7 second"));
    clock_.Advance(1s);
    EXPECT_EQ(worker_->RunOnce(), 2);
    EXPECT_EQ(Current().upload_generation, 2);
    EXPECT_EQ(Current().size, 15);
    EXPECT_EQ(*blobs_->Get(*Current().blob_key), "%PDF-1.7 second");
    EXPECT_EQ(*blobs_->Get(*d.blob_key), "%PDF-1.7 direct");  // what was validated stays
}

TEST_F(WorkerTest, DirectUploadUrlsOfADocumentShareOneWatch) {
    const std::string first = BeginDirect(10min);
    const auto not_after = OpenAwait()->not_after;
    EXPECT_EQ(not_after, clock_.Now() + 10min + RequestService::kDirectUploadGrace);
    clock_.Advance(5min);
    EXPECT_EQ(BeginDirect(10min), first);  // same key, the watch extended
    EXPECT_EQ(OpenAwait()->not_after, clock_.Now() + 10min + RequestService::kDirectUploadGrace);
    // Looks back off to 15 s at most, and stop after the last URL's expiry plus the grace.
    int looks = 0;
    while (OpenAwait() && looks < 1000) {
        clock_.Advance(15s);
        looks += worker_->RunOnce();
    }
    EXPECT_FALSE(OpenAwait());
    EXPECT_GE(looks, 25 * 60 / 15 - 2);
    EXPECT_LE(looks, 25 * 60 / 15 + 2);
    EXPECT_EQ(Current().status, DocumentStatus::kWaitForUpload);
}

TEST_F(WorkerTest, OversizedOrEmptyDirectUploadIsRejectedWithTheReason) {
    ctx_->limits.max_document_bytes = 10;
    const std::string key = BeginDirect();
    ASSERT_TRUE(blobs_->Put(key, "%PDF-1.7 far too long"));
    clock_.Advance(1s);
    worker_->RunOnce();
    Document d = Current();
    EXPECT_EQ(d.status, DocumentStatus::kRejected);
    ASSERT_EQ(d.violations.size(), 1u);
    EXPECT_EQ(d.violations[0].field, "file");
    EXPECT_EQ(d.violations[0].reason, "the upload has 21 bytes; documents may be at most 10");
    EXPECT_FALSE(*blobs_->Stat(key));
    EXPECT_EQ(validator_.calls, 0);

    ASSERT_TRUE(blobs_->Put(key, ""));
    clock_.Advance(2s);
    worker_->RunOnce();
    d = Current();
    EXPECT_EQ(d.status, DocumentStatus::kRejected);
    EXPECT_EQ(d.reject_reason, "file: the upload is empty");
}

TEST_F(WorkerTest, DirectUploadWatchEndsWhenTheRequestLeavesDraft) {
    const std::string key = BeginDirect();
    ASSERT_TRUE(requests_->ChangeStatus(issuer_, request_.id, RequestedStatus::kCancelled, "t"));
    ASSERT_TRUE(blobs_->Put(key, "%PDF-1.7 too late"));
    clock_.Advance(1s);
    EXPECT_EQ(worker_->RunOnce(), 1);
    EXPECT_FALSE(OpenAwait());
    EXPECT_FALSE(*blobs_->Stat(key));  // removed, not left behind
    EXPECT_EQ(Current().status, DocumentStatus::kWaitForUpload);
    // And no new URL for a request that is not DRAFT.
    blobs_->direct = true;
    EXPECT_EQ(requests_->BeginDirectUpload(issuer_, request_.id, request_.documents[0].id, 15min)
                  .error()
                  .code,
              ErrorCode::kConflict);
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

// A node slower than its lease: another node takes the job over once the lease has ended, not
// before, and the document gets one validation result although both nodes validated it.
TEST_F(WorkerTest, AJobOutlivingItsLeaseIsTakenOverOnceTheLeaseEnds) {
    WorkerOptions options;
    options.lease = 3s;
    options.worker_id = "slow-1";
    auto slow_node = MakeWorker(options);
    options.worker_id = "other-2";
    auto other_node = MakeWorker(options);
    Worker& slow = *slow_node;
    Worker& other = *other_node;
    int before_lease_end = -1;
    int after_lease_end = -1;
    validator_.during = [&] {
        if (validator_.calls != 1) return;  // only the slow node's validation
        clock_.Advance(2999ms);
        before_lease_end = other.RunOnce();
        clock_.Advance(1ms);
        after_lease_end = other.RunOnce();
    };
    Upload();
    EXPECT_EQ(slow.RunOnce(), 1);
    EXPECT_EQ(before_lease_end, 0);
    EXPECT_EQ(after_lease_end, 1);
    EXPECT_EQ(validator_.calls, 2);
    EXPECT_EQ(Current().status, DocumentStatus::kReady);
    auto events = requests_->Events(issuer_, request_.id);
    ASSERT_TRUE(events);
    EXPECT_EQ(std::count_if(events->begin(), events->end(),
                            [](const AuditEvent& e) { return e.type == "document.ready"; }),
              1);
    EXPECT_EQ(slow.RunOnce() + other.RunOnce(), 0);  // the job is done
}

TEST(WorkerId, IsTheShortHostNameAndThePid) {
    EXPECT_EQ(WorkerId("db1", 42), "db1-42");
    EXPECT_EQ(WorkerId("node7.firmo.example.org", 1234), "node7-1234");
    EXPECT_EQ(WorkerId(std::string(40, 'h'), 5), std::string(32, 'h') + "-5");
    EXPECT_EQ(WorkerId("", 9), "node-9");
    EXPECT_EQ(WorkerId(".local", 9), "node-9");
    const std::string self = ThisProcessWorkerId();
    EXPECT_TRUE(self.ends_with("-" + std::to_string(::getpid()))) << self;
}

TEST_F(WorkerTest, SweepDeletesRateLimitBucketsThatCountNothingAnyMore) {
    const auto count = [&](const std::string& bucket) {
        auto tx = db_->Begin(TxMode::kSingleWrite);
        ASSERT_TRUE(tx);
        ASSERT_TRUE((*tx)->rate_limits().Add(bucket, clock_.Now(), 1min, 1));
    };
    count("key:old");
    worker_->RunOnce();  // the first sweep
    clock_.Advance(2min);
    count("key:live");  // its window is the current one
    worker_->RunOnce();
    // The sweep deleted "key:old", whose last window ended a window ago; "key:live" is left.
    auto tx = db_->Begin(TxMode::kWrite);
    ASSERT_TRUE(tx);
    EXPECT_EQ((*tx)->rate_limits().Purge(clock_.Now()), 0);
    EXPECT_EQ((*tx)->rate_limits().Purge(clock_.Now() + 2min), 1);
}

TEST_F(WorkerTest, ANodeWithoutJobThreadsLeavesJobsToTheOthers) {
    WorkerOptions options;
    options.threads = 0;  // an API-only node
    JobSignal api_only_signal;
    Worker api_only(*db_, *requests_, *ceremony_, *events_, api_only_signal, clock_, options);
    ctx_->on_job_enqueued = [&] { api_only_signal.Notify(); };
    api_only.Start();
    Upload();
    std::this_thread::sleep_for(300ms);  // three of its poll intervals, had it any thread
    api_only.Stop();
    EXPECT_EQ(Current().status, DocumentStatus::kWaitForValidation);
    EXPECT_EQ(worker_->RunOnce(), 1);  // another node's worker takes it
    EXPECT_EQ(Current().status, DocumentStatus::kReady);
}

TEST_F(WorkerTest, BackgroundThreadsRunJobsWhenWoken) {
    ctx_->on_job_enqueued = [this] { signal_.Notify(); };
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
