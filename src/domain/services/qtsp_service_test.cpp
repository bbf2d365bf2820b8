// QtspService on the in-memory store with a scripted QTSP: state matching, replays, denials,
// the missing continuation, and the audit log.

#include "domain/services/qtsp_service.hpp"

#include <gtest/gtest.h>

#include "core/encoding.hpp"
#include "core/testing/temp_dir.hpp"
#include "crypto/hasher.hpp"
#include "domain/services/testing/fakes.hpp"
#include "store/filesystem/folder_blob_store.hpp"
#include "store/memory/memory_database.hpp"

namespace firmo::domain {
namespace {

using namespace std::chrono_literals;

class ScriptedQtsp final : public QtspGateway {
  public:
    Result<QtspAuthorizationStart> StartAuthorization(
        const std::string& credential_id, const std::vector<std::string>& digests) override {
        ++started;
        const std::string state = "state-" + std::to_string(started);
        return QtspAuthorizationStart{
            "https://qtsp.example/oauth2/authorize?credentialID=" + credential_id +
                "&numSignatures=" + std::to_string(digests.size()) + "&state=" + state,
            state, "sealed-" + std::to_string(started)};
    }
    Result<QtspToken> ExchangeCode(const std::string& code,
                                   const std::string& sealed_verifier) override {
        exchanged.emplace_back(code, sealed_verifier);
        if (code == "bad") return Fail(ErrorCode::kGone, "QTSP oauth2/token refused");
        return QtspToken{"token-for-" + code, 300s};
    }
    Result<QtspCredential> FindCredential(const std::string& /*user_id*/) override {
        return Fail(ErrorCode::kNotFound, "none");
    }
    Result<std::string> Seal(const std::string& secret) override { return "sealed:" + secret; }
    Result<std::vector<std::string>> SignHashes(const std::string& /*sealed_token*/,
                                                const std::string& /*credential_id*/,
                                                const std::vector<std::string>& digests) override {
        return std::vector<std::string>(digests.size(), "value");
    }
    int started = 0;
    std::vector<std::pair<std::string, std::string>> exchanged;
};

class RecordingContinuation final : public QtspContinuation {
  public:
    Result<void> Authorized(Transaction& tx, const QtspAuthorization& a,
                            const std::string& code) override {
        // Queues the signing job as CeremonyService does: it commits with the claim or not at
        // all. `fail_next`: the queue takes the row, then the enqueue fails (once).
        Job job;
        job.kind = JobKind::kSignDocuments;
        job.issuer_id = "ISSUER-A";
        job.request_id = a.request_id;
        job.run_at = a.created_at;
        FIRMO_CHECK(tx.jobs().Enqueue(job).map([](std::int64_t) {}));
        if (fail_next) {
            fail_next = false;
            return Fail(ErrorCode::kUnavailable, "the job queue is down");
        }
        calls.emplace_back(a, code);
        return {};
    }
    Result<void> Denied(const QtspAuthorization& a) override {
        denied.push_back(a);
        return {};
    }
    std::vector<std::pair<QtspAuthorization, std::string>> calls;
    std::vector<QtspAuthorization> denied;
    bool fail_next = false;
};

class QtspServiceTest : public ::testing::Test {
  protected:
    void SetUp() override { ASSERT_TRUE(db_.Migrate()); }

    std::vector<PendingCount> PendingJobs() {
        auto tx = db_.Begin(TxMode::kRead);
        return *(*tx)->jobs().Pending();
    }
    std::vector<AuditEvent> Audit() {
        auto tx = db_.Begin(TxMode::kRead);
        return *(*tx)->audit().List("req-1");
    }

    firmo::testing::TempDir dir_{"firmo-qtsp"};
    store::memory::MemoryDatabase db_;
    store::FolderBlobStore blobs_{dir_.path() / "documents"};
    fixtures::AcceptingValidator validator_;
    crypto::OpenSslHasher hasher_;
    ManualClock clock_{FromUnixMillis(1'795'000'000'000)};
    SeededRandom random_{7};
    ServiceContext ctx_{db_, blobs_, validator_, hasher_, clock_, random_, Limits{}};
    ScriptedQtsp qtsp_;
    RecordingContinuation continuation_;
    const std::vector<std::string> digests_ = {std::string(32, 'a'), std::string(32, 'b')};
};

TEST_F(QtspServiceTest, AnAuthorizedCallbackHandsTheCodeOnOnce) {
    QtspService service(ctx_, qtsp_, &continuation_);
    auto begun = service.Begin("req-1", "sig-1", "cred-1", digests_);
    ASSERT_TRUE(begun) << begun.error().message;
    EXPECT_EQ(begun->state_hash, hasher_.Sha256Hex("state-1"));
    EXPECT_EQ(begun->url,
              "https://qtsp.example/oauth2/authorize?credentialID=cred-1&numSignatures=2"
              "&state=state-1");

    auto done = service.Callback({"state-1", "code-1", std::nullopt, std::nullopt});
    ASSERT_TRUE(done) << done.error().message;
    EXPECT_TRUE(done->authorized);
    EXPECT_EQ(done->request_id, "req-1");
    ASSERT_EQ(continuation_.calls.size(), 1U);
    // The signing job exchanges the code (and may retry): the callback only hands it on.
    EXPECT_EQ(continuation_.calls[0].second, "code-1");
    const QtspAuthorization& a = continuation_.calls[0].first;
    EXPECT_EQ(a.credential_id, "cred-1");
    EXPECT_EQ(a.hashes, (std::vector<std::string>{Base64UrlEncode(digests_[0]),
                                                  Base64UrlEncode(digests_[1])}));
    EXPECT_TRUE(qtsp_.exchanged.empty());

    // A replayed callback signs nothing.
    auto replay = service.Callback({"state-1", "code-1", std::nullopt, std::nullopt});
    ASSERT_FALSE(replay);
    EXPECT_EQ(replay.error().code, ErrorCode::kGone);
    EXPECT_EQ(replay.error().message, "this QTSP authorization was used already");
    EXPECT_EQ(continuation_.calls.size(), 1U);

    auto audit = Audit();
    ASSERT_EQ(audit.size(), 2U);
    EXPECT_EQ(audit[0].type, "signer.qtsp_redirected");
    EXPECT_EQ(audit[1].type, "signer.qtsp_authorized");
    for (const auto& e : audit) EXPECT_EQ(e.detail.find("sealed"), std::string::npos);
}

TEST_F(QtspServiceTest, ADenialIsRecordedAndTheSignerMayStartAgain) {
    QtspService service(ctx_, qtsp_, &continuation_);
    ASSERT_TRUE(service.Begin("req-1", "sig-1", "cred-1", digests_));
    auto denied = service.Callback(
        {"state-1", std::nullopt, "access_denied", "the user denied the authorization"});
    ASSERT_TRUE(denied) << denied.error().message;
    EXPECT_FALSE(denied->authorized);
    EXPECT_TRUE(continuation_.calls.empty());
    ASSERT_EQ(continuation_.denied.size(), 1U);  // the signer's turn back
    EXPECT_EQ(continuation_.denied[0].signer_id, "sig-1");
    EXPECT_TRUE(qtsp_.exchanged.empty());
    // The denied state cannot be turned into an authorization afterwards.
    EXPECT_EQ(service.Callback({"state-1", "code-1", std::nullopt, std::nullopt}).error().code,
              ErrorCode::kGone);

    ASSERT_TRUE(service.Begin("req-1", "sig-1", "cred-1", digests_));
    ASSERT_TRUE(service.Callback({"state-2", "code-2", std::nullopt, std::nullopt}));
    EXPECT_EQ(continuation_.calls.size(), 1U);
    auto audit = Audit();
    ASSERT_EQ(audit.size(), 4U);
    EXPECT_EQ(audit[1].type, "signer.qtsp_denied");
    EXPECT_EQ(audit[1].detail, "access_denied: the user denied the authorization");
}

TEST_F(QtspServiceTest, UnknownExpiredAndIncompleteCallbacks) {
    QtspService service(ctx_, qtsp_, &continuation_, 10min);
    EXPECT_EQ(service.Callback({"nope", "c", std::nullopt, std::nullopt}).error().code,
              ErrorCode::kNotFound);
    EXPECT_EQ(service.Callback({"", "c", std::nullopt, std::nullopt}).error().code,
              ErrorCode::kInvalidArgument);
    ASSERT_TRUE(service.Begin("req-1", "sig-1", "cred-1", digests_));
    EXPECT_EQ(service.Callback({"state-1", std::nullopt, std::nullopt, std::nullopt}).error().code,
              ErrorCode::kInvalidArgument);
    clock_.Advance(11min);
    auto late = service.Callback({"state-1", "code-1", std::nullopt, std::nullopt});
    ASSERT_FALSE(late);
    EXPECT_EQ(late.error().code, ErrorCode::kGone);
    EXPECT_EQ(late.error().message, "this QTSP authorization has expired");
    EXPECT_TRUE(continuation_.calls.empty());
    EXPECT_EQ(continuation_.denied.size(), 1U);  // a late answer gives the signer their turn back
}

TEST_F(QtspServiceTest, TheSweepDeletesAuthorizationsLongExpired) {
    QtspService service(ctx_, qtsp_, &continuation_, 10min);
    auto begun = service.Begin("req-1", "sig-1", "cred-1", digests_);
    ASSERT_TRUE(begun);
    clock_.Advance(30min);  // expired, but within the hour kept
    EXPECT_EQ(*service.Sweep(), 0);
    EXPECT_TRUE(*service.Find(begun->state_hash));
    clock_.Advance(1h);
    EXPECT_EQ(*service.Sweep(), 1);
    EXPECT_FALSE(*service.Find(begun->state_hash));
}

TEST_F(QtspServiceTest, WithoutAContinuationTheCallbackRefusesAndKeepsTheAuthorization) {
    QtspService unwired(ctx_, qtsp_, nullptr);
    ASSERT_TRUE(unwired.Begin("req-1", "sig-1", "cred-1", digests_));
    auto refused = unwired.Callback({"state-1", "code-1", std::nullopt, std::nullopt});
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, ErrorCode::kUnavailable);
    EXPECT_TRUE(qtsp_.exchanged.empty());
    // Once wired, the same authorization still works.
    QtspService wired(ctx_, qtsp_, &continuation_);
    EXPECT_TRUE(wired.Callback({"state-1", "code-1", std::nullopt, std::nullopt}));
}

TEST_F(QtspServiceTest, WhenTheContinuationFailsTheClaimRollsBackAndTheCallbackMayComeAgain) {
    QtspService service(ctx_, qtsp_, &continuation_);
    auto begun = service.Begin("req-1", "sig-1", "cred-1", digests_);
    ASSERT_TRUE(begun);
    continuation_.fail_next = true;
    auto failed = service.Callback({"state-1", "code-1", std::nullopt, std::nullopt});
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error().code, ErrorCode::kUnavailable);
    // Nothing of the claim stayed: the authorization is pending, its audit line and the
    // half-queued job are gone.
    auto pending = *service.Find(begun->state_hash);
    ASSERT_TRUE(pending);
    EXPECT_FALSE(pending->finished_at);
    EXPECT_EQ(Audit().size(), 1U);
    EXPECT_TRUE(PendingJobs().empty());
    // The provider's redirect, reloaded, now goes through, once.
    auto again = service.Callback({"state-1", "code-1", std::nullopt, std::nullopt});
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(continuation_.calls.size(), 1U);
    EXPECT_EQ((*service.Find(begun->state_hash))->outcome, "authorized");
    ASSERT_EQ(PendingJobs().size(), 1U);
    EXPECT_EQ(PendingJobs()[0].count, 1);
}

TEST_F(QtspServiceTest, TheSweepForgetsExpiredTokens) {
    QtspService service(ctx_, qtsp_, &continuation_);
    auto begun = service.Begin("req-1", "sig-1", "cred-1", digests_);
    ASSERT_TRUE(begun);
    QtspAuthorization a = **service.Find(begun->state_hash);
    a.sealed_code = "sealed-code";
    a.sealed_token = "sealed-token";
    a.token_expires_at = clock_.Now() + 5min;
    ASSERT_TRUE(InWriteTransaction(db_, [&](Transaction& tx) {
        return tx.qtsp_authorizations().KeepSecrets(a).map([](bool) {});
    }));
    EXPECT_EQ(*service.Sweep(), 0);
    EXPECT_EQ((*service.Find(begun->state_hash))->sealed_token, "sealed-token");
    clock_.Advance(6min);
    EXPECT_EQ(*service.Sweep(), 0);
    auto after = *service.Find(begun->state_hash);
    EXPECT_EQ(after->sealed_token, "");
    EXPECT_FALSE(after->token_expires_at);
    EXPECT_EQ(after->sealed_code, "sealed-code");
}

}  // namespace
}  // namespace firmo::domain
