// The first start creates one "Default issuer" with an API key, even when several nodes start
// together on an empty database (each node runs Bootstrap; one wins).

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "core/testing/temp_dir.hpp"
#include "crypto/hasher.hpp"
#include "domain/services/issuer_service.hpp"
#include "store/filesystem/folder_blob_store.hpp"
#include "store/sqlite/sqlite_database.hpp"

namespace firmo::jobs {
namespace {

using namespace firmo::domain;

struct NoValidator final : DocumentValidator {
    ValidationReport ValidateFile(const std::filesystem::path&,
                                  const std::vector<SignatureField>&) const override {
        return {};
    }
    ValidationReport ValidateBytes(std::string_view,
                                   const std::vector<SignatureField>&) const override {
        return {};
    }
};

TEST(IssuerBootstrap, NodesStartingTogetherCreateOneDefaultIssuer) {
    firmo::testing::TempDir dir{"firmo-bootstrap"};
    auto db = store::sqlite::SqliteDatabase::Open((dir.path() / "f.db").string(), 8);
    ASSERT_TRUE(db);
    ASSERT_TRUE((*db)->Migrate());
    store::FolderBlobStore blobs(dir.path() / "documents");
    NoValidator validator;
    crypto::OpenSslHasher hasher;
    ManualClock clock{FromUnixMillis(1'795'000'000'000)};

    constexpr int kNodes = 8;
    std::atomic<int> created{0};
    std::atomic<int> failed{0};
    std::vector<std::thread> nodes;
    for (int i = 0; i < kNodes; ++i) {
        nodes.emplace_back([&, i] {
            SeededRandom random{static_cast<std::uint64_t>(100 + i)};
            ServiceContext ctx{**db, blobs, validator, hasher, clock, random, Limits{}, [] {}};
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
    auto count = InReadTransaction(**db, [](Transaction& tx) { return tx.CountIssuers(); });
    ASSERT_TRUE(count);
    EXPECT_EQ(*count, 1);

    // Later starts create nothing.
    SeededRandom random{7};
    ServiceContext ctx{**db, blobs, validator, hasher, clock, random, Limits{}, [] {}};
    auto again = IssuerService(ctx).Bootstrap("admin@example.org");
    ASSERT_TRUE(again);
    EXPECT_FALSE(*again);
}

}  // namespace
}  // namespace firmo::jobs
