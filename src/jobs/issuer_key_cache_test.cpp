// API keys found active are cached per process, and a revocation in another process (the
// CLI, another node on the same data folder) still stops the key at its next call.

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <memory>

#include "core/testing/temp_dir.hpp"
#include "crypto/hasher.hpp"
#include "domain/services/issuer_service.hpp"
#include "store/filesystem/folder_blob_store.hpp"
#include "store/filesystem/shared_counter.hpp"
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

// Counts the single-statement lookups (what Authenticate uses).
class CountingDatabase final : public Database {
  public:
    explicit CountingDatabase(Database& inner) : inner_(inner) {}
    Result<int> Migrate() override { return inner_.Migrate(); }
    Result<void> Ping() override { return inner_.Ping(); }
    std::atomic<int> lookups{0};

    // Called as each write transaction begins (the revocation's).
    std::function<void()> on_write;

  protected:
    Result<std::unique_ptr<Transaction>> BeginTransaction(TxMode mode) override {
        if (mode == TxMode::kSingle) ++lookups;
        if (mode == TxMode::kWrite && on_write) on_write();
        return inner_.Begin(mode);
    }

  private:
    Database& inner_;
};

class KeyCache : public ::testing::Test {
  protected:
    void SetUp() override {
        auto db = store::sqlite::SqliteDatabase::Open((dir_.path() / "f.db").string(), 4);
        ASSERT_TRUE(db);
        db_ = std::move(*db);
        ASSERT_TRUE(db_->Migrate());
    }
    std::unique_ptr<store::SharedFileCounter> Signal() {
        auto s = store::SharedFileCounter::Open(dir_.path() / "api-keys.generation");
        EXPECT_TRUE(s);
        return s ? std::move(*s) : nullptr;
    }

    firmo::testing::TempDir dir_{"firmo-keycache"};
    std::unique_ptr<store::sqlite::SqliteDatabase> db_;
    store::FolderBlobStore blobs_{dir_.path() / "documents"};
    NoValidator validator_;
    crypto::OpenSslHasher hasher_;
    ManualClock clock_{FromUnixMillis(1'795'000'000'000)};
    SeededRandom random_{11};
};

TEST_F(KeyCache, ARevocationInAnotherProcessStopsTheKeyAtItsNextCall) {
    // The server: counts its lookups, shares the signal file with the "CLI" below.
    CountingDatabase counted(*db_);
    auto server_signal = Signal();
    ServiceContext server_ctx{counted, blobs_,  validator_, hasher_,
                              clock_,  random_, Limits{},   [] {}};
    IssuerService server(server_ctx, server_signal.get());
    // The CLI (`firmo apikey revoke`): its own service and its own mapping of the file.
    auto cli_signal = Signal();
    ServiceContext cli_ctx{*db_, blobs_, validator_, hasher_, clock_, random_, Limits{}, [] {}};
    IssuerService cli(cli_ctx, cli_signal.get());

    auto issuer = cli.CreateIssuer("Comune", "it@comune.example");
    ASSERT_TRUE(issuer);
    auto key = cli.CreateApiKey(issuer->id);
    auto other = cli.CreateApiKey(issuer->id);
    ASSERT_TRUE(key && other);

    ASSERT_TRUE(server.Authenticate(key->secret));
    EXPECT_EQ(counted.lookups, 1);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(server.Authenticate(key->secret));
    EXPECT_EQ(counted.lookups, 1);  // cached
    ASSERT_TRUE(server.Authenticate(other->secret));
    EXPECT_EQ(counted.lookups, 2);

    ASSERT_TRUE(cli.RevokeApiKey(key->key.id));
    auto refused = server.Authenticate(key->secret);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, ErrorCode::kUnauthenticated);
    // The announcement emptied the cache: the other key is looked up once more, then cached.
    ASSERT_TRUE(server.Authenticate(other->secret));
    ASSERT_TRUE(server.Authenticate(other->secret));
    EXPECT_EQ(counted.lookups, 4);
    // Unknown keys are never cached.
    EXPECT_FALSE(server.Authenticate("firmo_unknownunknownunknown"));
    EXPECT_FALSE(server.Authenticate("firmo_unknownunknownunknown"));
    EXPECT_EQ(counted.lookups, 6);
}

TEST_F(KeyCache, NoProcessTrustsItsCacheWhileARevocationIsOnItsWay) {
    auto server_signal = Signal();
    ServiceContext server_ctx{*db_, blobs_, validator_, hasher_, clock_, random_, Limits{}, [] {}};
    IssuerService server(server_ctx, server_signal.get());
    // The CLI's revocation: the server's cache is looked at while it commits.
    CountingDatabase counted(*db_);
    auto cli_signal = Signal();
    ServiceContext cli_ctx{counted, blobs_, validator_, hasher_, clock_, random_, Limits{}, [] {}};
    IssuerService cli(cli_ctx, cli_signal.get());
    auto issuer = cli.CreateIssuer("Comune", "it@comune.example");
    ASSERT_TRUE(issuer);
    auto key = cli.CreateApiKey(issuer->id);
    ASSERT_TRUE(key);
    ASSERT_TRUE(server.Authenticate(key->secret));  // cached

    // Marked before its commit: had the CLI died between its commit and its announcement,
    // the server would have gone on accepting the key from its cache.
    std::uint64_t during = 0;
    counted.on_write = [&] { during = server_signal->Current(); };
    ASSERT_TRUE(cli.RevokeApiKey(key->key.id));
    EXPECT_EQ(during, ChangeSignal::kUnknown);
    EXPECT_NE(server_signal->Current(), ChangeSignal::kUnknown);  // announced
    EXPECT_FALSE(server.Authenticate(key->secret));

    // A revocation that fails (no such key) is announced all the same: nothing stays marked.
    EXPECT_FALSE(cli.RevokeApiKey("no-such-key"));
    EXPECT_NE(server_signal->Current(), ChangeSignal::kUnknown);
}

TEST_F(KeyCache, EntriesExpireAndNoSignalMeansNoCache) {
    CountingDatabase counted(*db_);
    auto signal = Signal();
    ServiceContext ctx{counted, blobs_, validator_, hasher_, clock_, random_, Limits{}, [] {}};
    IssuerService cached(ctx, signal.get());
    IssuerService uncached(ctx);
    auto issuer = uncached.CreateIssuer("Comune", "it@comune.example");
    ASSERT_TRUE(issuer);
    auto key = uncached.CreateApiKey(issuer->id);
    ASSERT_TRUE(key);

    ASSERT_TRUE(cached.Authenticate(key->secret));
    ASSERT_TRUE(cached.Authenticate(key->secret));
    EXPECT_EQ(counted.lookups, 1);
    clock_.Advance(IssuerService::kKeyCacheTtl);
    ASSERT_TRUE(cached.Authenticate(key->secret));
    EXPECT_EQ(counted.lookups, 2);

    counted.lookups = 0;
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(uncached.Authenticate(key->secret));
    EXPECT_EQ(counted.lookups, 3);
    // Revoking through the uncached service announces nothing; the cached one still refuses
    // at once after the announcement its own revocations make.
    ASSERT_TRUE(cached.RevokeApiKey(key->key.id));
    EXPECT_FALSE(cached.Authenticate(key->secret));
}

}  // namespace
}  // namespace firmo::jobs
