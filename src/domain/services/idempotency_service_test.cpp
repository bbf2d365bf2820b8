// IdempotencyService on the in-memory store: the claim, the change and the recorded answer
// commit together, or not at all.

#include "domain/services/idempotency_service.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "core/testing/temp_dir.hpp"
#include "crypto/hasher.hpp"
#include "domain/services/testing/fakes.hpp"
#include "store/filesystem/folder_blob_store.hpp"
#include "store/memory/memory_database.hpp"

namespace firmo::domain {
namespace {

using namespace std::chrono_literals;

class IdempotencyServiceTest : public ::testing::Test {
  protected:
    void SetUp() override { ASSERT_TRUE(db_.Migrate()); }

    // A service's change: one issuer, in a write transaction of its own (which joins the unit).
    Result<void> CreateIssuer(const std::string& id) {
        return InWriteTransaction(db_, [&](Transaction& tx) {
            return tx.issuers().Insert(Issuer{id, "Comune", "ops@example.org", clock_.Now()});
        });
    }
    // A service that fails half-way: it writes, then gives up.
    Result<void> FailHalfWay(const std::string& id) {
        return InWriteTransaction(db_, [&](Transaction& tx) -> Result<void> {
            FIRMO_CHECK(tx.issuers().Insert(Issuer{id, "Half", "ops@example.org", clock_.Now()}));
            return Fail(ErrorCode::kNotFound, "dossier not found");
        });
    }
    std::int64_t Issuers() {
        return *InReadTransaction(db_, [](Transaction& tx) { return tx.issuers().Count(); });
    }
    // Runs a call that creates issuer `id` and answers 201.
    Result<std::optional<StoredResponse>> Create(const std::string& key, const std::string& id,
                                                 std::string_view request = "POST /x\n{}") {
        return service_.Run("ISSUER", key, request, [&] {
            ++calls_;
            if (!CreateIssuer(id)) return StoredResponse{500, "", ""};
            return StoredResponse{201, "{\"id\":\"" + id + "\"}", "/x/" + id};
        });
    }

    store::memory::MemoryDatabase db_;
    firmo::testing::TempDir dir_{"firmo-idempotency"};
    store::FolderBlobStore blobs_{dir_.path() / "documents"};
    fixtures::AcceptingValidator validator_;
    crypto::OpenSslHasher hasher_;
    ManualClock clock_{FromUnixMillis(1'795'000'000'000)};
    SeededRandom random_{3};
    ServiceContext ctx_{db_, blobs_, validator_, hasher_, clock_, random_, Limits{}, [] {}};
    IdempotencyService service_{ctx_};
    std::atomic<int> calls_{0};
};

TEST_F(IdempotencyServiceTest, TheFirstCallRunsAndItsAnswerIsReplayed) {
    auto first = Create("k1", "I1");
    ASSERT_TRUE(first) << first.error().message;
    EXPECT_FALSE(*first);  // ran now
    auto again = Create("k1", "I2");
    ASSERT_TRUE(again && *again);
    EXPECT_EQ((*again)->status, 201);
    EXPECT_EQ((*again)->body, "{\"id\":\"I1\"}");
    EXPECT_EQ((*again)->location, "/x/I1");
    EXPECT_EQ(calls_, 1);
    EXPECT_EQ(Issuers(), 1);
    // The same key on another request is refused; another key runs.
    EXPECT_EQ(Create("k1", "I3", "POST /x\n{\"other\":1}").error().code,
              ErrorCode::kInvalidArgument);
    ASSERT_TRUE(Create("k2", "I4"));
    EXPECT_EQ(Issuers(), 2);
    // After the retention, the key is free again.
    clock_.Advance(IdempotencyService::kRetention + 1s);
    auto later = Create("k1", "I5");
    ASSERT_TRUE(later);
    EXPECT_FALSE(*later);
    EXPECT_EQ(Issuers(), 3);
}

TEST_F(IdempotencyServiceTest, MalformedKeysAreRefused) {
    EXPECT_EQ(Create("", "I1").error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(Create(std::string(256, 'k'), "I1").error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(Create("tab\there", "I1").error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(calls_, 0);
}

TEST_F(IdempotencyServiceTest, ServerErrorsRollBackTheChangeAndForgetTheKey) {
    auto first = service_.Run("ISSUER", "k", "POST /x\n{}", [&] {
        EXPECT_TRUE(CreateIssuer("I1"));
        return StoredResponse{503, "{}", ""};  // e.g. a dependency was down after the change
    });
    ASSERT_TRUE(first);
    EXPECT_FALSE(*first);
    EXPECT_EQ(Issuers(), 0);  // rolled back with the unit
    auto retry = Create("k", "I1");
    ASSERT_TRUE(retry);
    EXPECT_FALSE(*retry);  // runs again
    EXPECT_EQ(Issuers(), 1);
}

TEST_F(IdempotencyServiceTest, AServiceFailingHalfWayLeavesNothingButItsErrorAnswer) {
    auto first = service_.Run("ISSUER", "k", "POST /x\n{}", [&] {
        EXPECT_FALSE(FailHalfWay("I1"));
        return StoredResponse{404, "{\"type\":\"not-found\"}", ""};
    });
    ASSERT_TRUE(first);
    EXPECT_FALSE(*first);
    EXPECT_EQ(Issuers(), 0);  // the half-way insert went with the unit
    auto again = Create("k", "I2");
    ASSERT_TRUE(again && *again);  // the 404 is the answer under this key
    EXPECT_EQ((*again)->status, 404);
    EXPECT_EQ(Issuers(), 0);
}

TEST_F(IdempotencyServiceTest, ASuccessAfterAFailedServiceIsNotCommitted) {
    auto run = service_.Run("ISSUER", "k", "POST /x\n{}", [&] {
        EXPECT_FALSE(FailHalfWay("I1"));
        return StoredResponse{201, "{}", ""};  // a handler that ignored the failure
    });
    ASSERT_FALSE(run);
    EXPECT_EQ(run.error().code, ErrorCode::kInternal);
    EXPECT_EQ(Issuers(), 0);
    auto retry = Create("k", "I2");
    ASSERT_TRUE(retry);
    EXPECT_FALSE(*retry);  // nothing was recorded
}

TEST_F(IdempotencyServiceTest, AnExceptionRollsEverythingBack) {
    EXPECT_THROW((void)service_.Run("ISSUER", "k", "POST /x\n{}",
                                    [&]() -> StoredResponse {
                                        EXPECT_TRUE(CreateIssuer("I1"));
                                        throw std::runtime_error("bug");
                                    }),
                 std::runtime_error);
    EXPECT_EQ(Issuers(), 0);
    auto retry = Create("k", "I1");
    ASSERT_TRUE(retry);
    EXPECT_FALSE(*retry);
    EXPECT_EQ(Issuers(), 1);
}

TEST_F(IdempotencyServiceTest, AnOlderReleasesUnfinishedClaimIsAConflictUntilItTimesOut) {
    // Releases before the unit of work committed a claim (status 0) before running the call.
    ASSERT_TRUE(InWriteTransaction(db_, [&](Transaction& tx) -> Result<void> {
        FIRMO_TRY(auto found,
                  tx.idempotency().Claim(
                      {"ISSUER", "k", hasher_.Sha256Hex("POST /x\n{}"), 0, "", "", clock_.Now()},
                      clock_.Now() - 24h));
        (void)found;
        return {};
    }));
    EXPECT_EQ(Create("k", "I1").error().code, ErrorCode::kConflict);
    clock_.Advance(IdempotencyService::kInProgressTimeout + 1s);
    auto again = Create("k", "I1");
    ASSERT_TRUE(again);
    EXPECT_FALSE(*again);  // its node died: run it
    EXPECT_EQ((*Create("k", "I2"))->status, 201);
    EXPECT_EQ(Issuers(), 1);
}

TEST_F(IdempotencyServiceTest, ConcurrentDuplicatesRunOnceAndAllGetTheFirstAnswer) {
    constexpr int kThreads = 6;
    std::mutex mu;
    std::vector<std::string> bodies;
    std::atomic<int> ran_now{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
        threads.emplace_back([&, i] {
            StoredResponse mine;
            auto run = service_.Run("ISSUER", "same", "POST /x\n{}", [&] {
                ++calls_;
                EXPECT_TRUE(CreateIssuer("I" + std::to_string(i)));
                mine = StoredResponse{201, "{\"by\":" + std::to_string(i) + "}", ""};
                return mine;
            });
            ASSERT_TRUE(run) << run.error().message;
            std::lock_guard lock(mu);
            if (*run) {
                bodies.push_back((*run)->body);
            } else {
                ++ran_now;
                bodies.push_back(mine.body);
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(calls_, 1);
    EXPECT_EQ(ran_now, 1);
    EXPECT_EQ(Issuers(), 1);
    ASSERT_EQ(bodies.size(), static_cast<std::size_t>(kThreads));
    for (const auto& body : bodies) EXPECT_EQ(body, bodies.front());
}

TEST_F(IdempotencyServiceTest, CallsThatStoreNothingRunOutsideAUnitAndAreReplayed) {
    auto run = [&] {
        return service_.Run(
            "ISSUER", "check", "POST /check\n%PDF",
            [&] {
                ++calls_;
                // No unit is open around the call: it could open one of its own.
                EXPECT_TRUE(UnitOfWork::Begin(db_));
                return StoredResponse{200, "{\"valid\":true}", ""};
            },
            CallEffect::kStoresNothing);
    };
    auto first = run();
    ASSERT_TRUE(first);
    EXPECT_FALSE(*first);
    auto again = run();
    ASSERT_TRUE(again && *again);
    EXPECT_EQ((*again)->body, "{\"valid\":true}");
    EXPECT_EQ(calls_, 1);
}

TEST_F(IdempotencyServiceTest, WakeUpsWaitForTheUnitToCommit) {
    std::vector<std::string> order;
    auto run = service_.Run("ISSUER", "k", "POST /x\n{}", [&] {
        EXPECT_TRUE(CreateIssuer("I1"));
        db_.AfterCommit([&] { order.push_back("woken with " + std::to_string(Issuers())); });
        order.push_back("answered");
        return StoredResponse{201, "{}", ""};
    });
    ASSERT_TRUE(run);
    EXPECT_EQ(order, (std::vector<std::string>{"answered", "woken with 1"}));
    // Not when the unit rolls back.
    order.clear();
    ASSERT_TRUE(service_.Run("ISSUER", "k2", "POST /x\n{}", [&] {
        db_.AfterCommit([&] { order.push_back("woken"); });
        return StoredResponse{500, "", ""};
    }));
    EXPECT_TRUE(order.empty());
}

}  // namespace
}  // namespace firmo::domain
