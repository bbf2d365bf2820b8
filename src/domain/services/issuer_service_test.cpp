// The first start creates one "Default issuer" with an API key, even when several nodes start
// together on an empty database (each node runs Bootstrap; one wins).

#include "domain/services/issuer_service.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "core/testing/temp_dir.hpp"
#include "crypto/hasher.hpp"
#include "domain/services/testing/fakes.hpp"
#include "store/filesystem/folder_blob_store.hpp"
#include "store/memory/memory_database.hpp"

namespace firmo::domain {
namespace {

using namespace firmo::domain;

TEST(IssuerBootstrap, NodesStartingTogetherCreateOneDefaultIssuer) {
    firmo::testing::TempDir dir{"firmo-bootstrap"};
    auto db = std::make_unique<store::memory::MemoryDatabase>();
    ASSERT_TRUE(db->Migrate());
    store::FolderBlobStore blobs(dir.path() / "documents");
    fixtures::AcceptingValidator validator;
    crypto::OpenSslHasher hasher;
    ManualClock clock{FromUnixMillis(1'795'000'000'000)};

    constexpr int kNodes = 8;
    std::atomic<int> created{0};
    std::atomic<int> failed{0};
    std::vector<std::thread> nodes;
    for (int i = 0; i < kNodes; ++i) {
        nodes.emplace_back([&, i] {
            SeededRandom random{static_cast<std::uint64_t>(100 + i)};
            ServiceContext ctx{*db, blobs, validator, hasher, clock, random, Limits{}, [] {}};
            IssuerService issuers(ctx);
            auto result = issuers.Bootstrap("admin@example.org");
            if (!result) {
                ++failed;
            } else if (*result) {
                ++created;
            }
        });
    }
    for (auto& t : nodes) t.join();
    EXPECT_EQ(failed, 0);
    EXPECT_EQ(created, 1);
    auto count = InReadTransaction(*db, [](Transaction& tx) { return tx.issuers().Count(); });
    ASSERT_TRUE(count);
    EXPECT_EQ(*count, 1);

    // Later starts create nothing.
    SeededRandom random{7};
    ServiceContext ctx{*db, blobs, validator, hasher, clock, random, Limits{}, [] {}};
    auto again = IssuerService(ctx).Bootstrap("admin@example.org");
    ASSERT_TRUE(again);
    EXPECT_FALSE(*again);
}

// A signal that can say "unknown" (its connection is down): the cache must then be neither
// trusted nor filled. With a known, unchanging value the same sequence is served from the cache.
class SettableSignal final : public ChangeSignal {
  public:
    std::uint64_t Current() const override { return value; }
    void Announce() override {}
    std::uint64_t value = 1;
};

TEST(IssuerKeyCache, UnknownSignalTrustsNoCachedKey) {
    firmo::testing::TempDir dir{"firmo-keycache"};
    store::memory::MemoryDatabase db;
    ASSERT_TRUE(db.Migrate());
    store::FolderBlobStore blobs(dir.path() / "documents");
    fixtures::AcceptingValidator validator;
    crypto::OpenSslHasher hasher;
    ManualClock clock{FromUnixMillis(1'795'000'000'000)};
    SeededRandom random{3};
    ServiceContext ctx{db, blobs, validator, hasher, clock, random, Limits{}, [] {}};
    SettableSignal signal;
    IssuerService issuers(ctx, &signal);
    auto issuer = issuers.CreateIssuer("Comune di Roma", "it@roma.example");
    ASSERT_TRUE(issuer);
    // Revoked in the database without an announcement (as by a node whose signal was down).
    auto revoke_silently = [&](const std::string& key_id) {
        ASSERT_TRUE(InWriteTransaction(db, [&](Transaction& tx) -> Result<void> {
            FIRMO_CHECK(tx.issuers().RevokeKey(key_id, clock.Now()));
            return {};
        }));
    };

    auto cached = issuers.CreateApiKey(issuer->id);
    ASSERT_TRUE(cached);
    ASSERT_TRUE(issuers.Authenticate(cached->secret));
    revoke_silently(cached->key.id);
    EXPECT_TRUE(issuers.Authenticate(cached->secret)) << "known signal: served from the cache";

    signal.value = ChangeSignal::kUnknown;
    auto unknown = issuers.CreateApiKey(issuer->id);
    ASSERT_TRUE(unknown);
    ASSERT_TRUE(issuers.Authenticate(unknown->secret));
    revoke_silently(unknown->key.id);
    EXPECT_FALSE(issuers.Authenticate(unknown->secret)) << "unknown signal: a cached key trusted";
    EXPECT_FALSE(issuers.Authenticate(cached->secret));
}

}  // namespace
}  // namespace firmo::domain
