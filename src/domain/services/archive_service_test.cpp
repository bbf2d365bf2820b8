// The archive re-time-stamping job on the memory store, with a fake PDF engine: a signed
// request gets its job, a run renews only a proof that ends within renew_before, stores the
// renewal as the current signed version (audited, counted), retries a failure later, and does
// nothing twice.

#include "domain/services/archive_service.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "domain/services/testing/signer_side_fixture.hpp"

namespace firmo::domain {
namespace {

using namespace firmo::domain::fixtures;
using namespace std::chrono_literals;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

constexpr std::string_view kMark = "%archive time-stamp\n";

// The proof of a file ends `before` from the start, or `after` once it carries the mark.
class FakeTimestamper final : public ArchiveTimestamper {
  public:
    Result<std::optional<Timestamp>> ProofUntil(const fs::path& pdf, Timestamp) const override {
        std::ifstream in(pdf, std::ios::binary);
        std::string bytes(std::istreambuf_iterator<char>(in), {});
        return bytes.find(kMark) != std::string::npos ? after : before;
    }
    Result<std::optional<Timestamp>> Renew(const fs::path& in, const fs::path& out,
                                           Timestamp) const override {
        ++renewals;
        if (broken) return Fail(ErrorCode::kUnavailable, "the time-stamp authority is down");
        std::ifstream from(in, std::ios::binary);
        std::string bytes(std::istreambuf_iterator<char>(from), {});
        std::ofstream(out, std::ios::binary) << bytes << kMark;
        return after;
    }
    std::optional<Timestamp> before;
    std::optional<Timestamp> after;
    bool broken = false;
    mutable int renewals = 0;
};

class ArchiveTest : public SignerSideTest {
  protected:
    void SetUpArchive(ArchiveOptions options = {}) {
        archive_ = std::make_unique<ArchiveService>(*ctx_, timestamper_, options, &metrics_);
    }

    // A request signed by Mario: its one document has a signed version.
    SignatureRequest Signed() {
        const SignatureRequest r = MakeReadyRequest(
            {{IdentifierKind::kItFiscalCode, kMario, "mario@example.org", "Mario Rossi", 0}});
        SignAs(r, 0, LoginByCode(r, 0));
        SignatureRequest after = Reload(r);
        EXPECT_EQ(after.status, RequestStatus::kSigned);
        return after;
    }

    Job ArchiveJob(const SignatureRequest& r) {
        auto job = InReadTransaction(*db_, [&](Transaction& tx) {
            return tx.jobs().FindOpen(JobKind::kArchiveTimestamp, r.id, r.documents[0].id);
        });
        EXPECT_TRUE(job && *job);
        return job && *job ? **job : Job{};
    }

    std::string Counted(const std::string& outcome) {
        const std::string line = "firmo_archive_timestamps_total{outcome=\"" + outcome + "\"} ";
        const std::string text = metrics_.Render();
        auto at = text.find(line);
        return at == std::string::npos ? "0" : text.substr(at + line.size(), 1);
    }

    FakeTimestamper timestamper_;
    metrics::Registry metrics_;
    std::unique_ptr<ArchiveService> archive_;
};

TEST_F(ArchiveTest, ASignedRequestGetsOneArchiveJobPerDocument) {
    const Timestamp signed_at = clock_.Now();
    const SignatureRequest r = Signed();
    const Job job = ArchiveJob(r);
    EXPECT_EQ(job.kind, JobKind::kArchiveTimestamp);
    EXPECT_EQ(job.issuer_id, r.issuer_id);
    EXPECT_EQ(job.run_at, signed_at + 24h);
}

TEST_F(ArchiveTest, AProofFarFromItsEndIsLookedAtAgainBeforeIt) {
    SetUpArchive();
    const SignatureRequest r = Signed();
    timestamper_.before = clock_.Now() + 24h * 365;
    auto next = archive_->RunArchive(ArchiveJob(r));
    ASSERT_TRUE(next) << next.error().message;
    ASSERT_TRUE(*next);
    EXPECT_EQ(**next, *timestamper_.before - 24h * 90);
    EXPECT_EQ(timestamper_.renewals, 0);
    EXPECT_EQ(Reload(r).documents[0].signed_blob_key, r.documents[0].signed_blob_key);
}

TEST_F(ArchiveTest, AProofEndingSoonIsRenewedAndStoredOnce) {
    SetUpArchive();
    const SignatureRequest r = Signed();
    const std::string before = Blob(*r.documents[0].signed_blob_key);
    timestamper_.before = clock_.Now() + 24h * 30;
    timestamper_.after = clock_.Now() + 24h * 365 * 5;
    const Job job = ArchiveJob(r);
    auto next = archive_->RunArchive(job);
    ASSERT_TRUE(next) << next.error().message;
    ASSERT_TRUE(*next);
    EXPECT_EQ(**next, *timestamper_.after - 24h * 90);
    EXPECT_EQ(timestamper_.renewals, 1);

    const SignatureRequest after = Reload(r);
    const Document& d = after.documents[0];
    ASSERT_TRUE(d.signed_blob_key);
    EXPECT_NE(d.signed_blob_key, r.documents[0].signed_blob_key);
    const std::string renewed = Blob(*d.signed_blob_key);
    EXPECT_EQ(renewed, before + std::string(kMark));
    EXPECT_EQ(d.signed_sha256_hex, hasher_.Sha256Hex(renewed));
    EXPECT_EQ(d.signed_size, static_cast<std::int64_t>(renewed.size()));
    EXPECT_EQ(d.signature_count, r.documents[0].signature_count);
    EXPECT_FALSE(blobs_->Get(*r.documents[0].signed_blob_key));  // the old version went
    EXPECT_EQ(Count(Events(r), "document.archive_timestamped"), 1);
    EXPECT_EQ(Counted("renewed"), "1");

    // Run again (another node, a retry after a crash): nothing is due, nothing changes.
    auto again = archive_->RunArchive(job);
    ASSERT_TRUE(again);
    EXPECT_EQ(timestamper_.renewals, 1);
    EXPECT_EQ(Reload(r).documents[0].signed_blob_key, d.signed_blob_key);
}

TEST_F(ArchiveTest, AFailedRenewalIsTriedAgainLaterAndCounted) {
    SetUpArchive();
    const SignatureRequest r = Signed();
    timestamper_.before = clock_.Now() + 24h;
    timestamper_.broken = true;
    auto next = archive_->RunArchive(ArchiveJob(r));
    ASSERT_TRUE(next);
    ASSERT_TRUE(*next);
    EXPECT_EQ(**next, clock_.Now() + 1h);
    EXPECT_EQ(Counted("failed"), "1");
    EXPECT_EQ(Reload(r).documents[0].signed_blob_key, r.documents[0].signed_blob_key);
}

TEST_F(ArchiveTest, NothingToRenewOrDisabledWaitsADay) {
    SetUpArchive();
    const SignatureRequest r = Signed();
    auto next = archive_->RunArchive(ArchiveJob(r));  // nothing proves a time
    ASSERT_TRUE(next && *next);
    EXPECT_EQ(**next, clock_.Now() + 24h);
    SetUpArchive({.enabled = false});
    timestamper_.before = clock_.Now();
    next = archive_->RunArchive(ArchiveJob(r));
    ASSERT_TRUE(next && *next);
    EXPECT_EQ(**next, clock_.Now() + 24h);
    EXPECT_EQ(timestamper_.renewals, 0);
}

TEST_F(ArchiveTest, TheWorkerRunsTheJobWhenItIsDue) {
    SetUpArchive({.renew_before = 24h * 90});
    const SignatureRequest r = Signed();
    timestamper_.before = clock_.Now() + 24h * 60;
    timestamper_.after = clock_.Now() + 24h * 365 * 5;
    jobs::WorkerOptions options;
    options.archive = archive_.get();
    jobs::Worker worker(*db_, *requests_, *ceremony_, *worker_events_, signal_, clock_, options);
    EXPECT_EQ(worker.RunOnce(), 0);  // a day before its first look
    clock_.Advance(25h);
    EXPECT_EQ(worker.RunOnce(), 1);
    EXPECT_EQ(timestamper_.renewals, 1);
    EXPECT_THAT(Blob(*Reload(r).documents[0].signed_blob_key), HasSubstr(std::string(kMark)));
    // Rescheduled, not finished: the document stays in the archive's care.
    const Job job = ArchiveJob(r);
    EXPECT_EQ(job.run_at, *timestamper_.after - 24h * 90);
}

}  // namespace
}  // namespace firmo::domain
