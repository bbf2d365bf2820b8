// The first start creates one "Default issuer" with an API key, even when several nodes start
// together on an empty database (each node runs Bootstrap; one wins).

#include "domain/services/issuer_service.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <set>
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

// One node's services on the in-memory store, for the tests of keys.
struct MemoryNode {
    explicit MemoryNode(std::uint64_t seed) : random(seed) {}
    firmo::testing::TempDir dir{"firmo-issuer"};
    store::memory::MemoryDatabase db;
    store::FolderBlobStore blobs{dir.path() / "documents"};
    fixtures::AcceptingValidator validator;
    crypto::OpenSslHasher hasher;
    ManualClock clock{FromUnixMillis(1'795'000'000'000)};
    SeededRandom random;
    ServiceContext ctx{db, blobs, validator, hasher, clock, random, Limits{}, [] {}};
};

TEST(IssuerKeyCache, UnknownSignalTrustsNoCachedKey) {
    MemoryNode node(3);
    ASSERT_TRUE(node.db.Migrate());
    auto& db = node.db;
    auto& clock = node.clock;
    ServiceContext& ctx = node.ctx;
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

// Issue 16: the identity signers see, checked member by member; the logo checked by its bytes.
class IssuerIdentityTest : public ::testing::Test {
  protected:
    firmo::testing::TempDir dir{"firmo-identity"};
    std::unique_ptr<store::memory::MemoryDatabase> db = [] {
        auto d = std::make_unique<store::memory::MemoryDatabase>();
        EXPECT_TRUE(d->Migrate());
        return d;
    }();
    store::FolderBlobStore blobs{dir.path() / "documents"};
    fixtures::AcceptingValidator validator;
    crypto::OpenSslHasher hasher;
    ManualClock clock{FromUnixMillis(1'795'000'000'000)};
    SeededRandom random{3};
    ServiceContext ctx{*db, blobs, validator, hasher, clock, random, Limits{}, [] {}};
    IssuerService issuers{ctx};
    std::string id = [this] {
        auto boot = issuers.Bootstrap("admin@example.org", "Comune di Bologna");
        EXPECT_TRUE(boot && *boot);
        return (*boot)->first.id;
    }();
};

TEST_F(IssuerIdentityTest, BootstrapNamesTheFirstIssuer) {
    auto found = issuers.Find(id);
    ASSERT_TRUE(found);
    EXPECT_EQ(found->name, "Comune di Bologna");
    EXPECT_EQ(issuers.Find("nobody").error().code, ErrorCode::kNotFound);
}

TEST_F(IssuerIdentityTest, PatchChangesOnlyWhatIsGivenAndChecksEveryMember) {
    auto changed = issuers.UpdateIdentity(
        id, {.support_email = "URP@Comune.Bologna.it", .brand_color = "#A0B1C2"});
    ASSERT_TRUE(changed) << changed.error().message;
    EXPECT_EQ(changed->name, "Comune di Bologna");
    EXPECT_EQ(changed->email, "URP@comune.bologna.it");  // the domain is case-blind
    EXPECT_EQ(changed->brand_color, "#a0b1c2");
    auto bad = issuers.UpdateIdentity(id, {.display_name = "",
                                           .support_email = "nope",
                                           .support_url = "https://user:pw@evil.example/",
                                           .brand_color = "#12345"});
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
    std::set<std::string> fields;
    for (const auto& v : bad.error().violations) fields.insert(v.field);
    EXPECT_EQ(fields, (std::set<std::string>{"brand_color", "display_name", "support_email",
                                             "support_url"}));
    EXPECT_EQ(issuers.Find(id)->brand_color, "#a0b1c2");  // nothing changed
    ASSERT_TRUE(issuers.UpdateIdentity(id, {.brand_color = ""}));
    EXPECT_EQ(issuers.Find(id)->brand_color, "");
    EXPECT_EQ(issuers.UpdateIdentity("nobody", {.display_name = "X"}).error().code,
              ErrorCode::kNotFound);
}

TEST_F(IssuerIdentityTest, ALogoIsAPngOrAnSvgWithoutDtdAndAtMost256KiB) {
    const std::string png = std::string("\x89PNG\r\n\x1a\n", 8) + "rest of the image";
    auto set = issuers.SetLogo(id, "image/png", png);
    ASSERT_TRUE(set) << set.error().message;
    EXPECT_EQ(set->logo_type, "image/png");
    EXPECT_EQ(set->logo_sha256, hasher.Sha256Hex(png));
    auto logo = issuers.Logo(id);
    ASSERT_TRUE(logo);
    EXPECT_EQ(logo->bytes, png);
    EXPECT_EQ(logo->media_type, "image/png");

    EXPECT_EQ(issuers.SetLogo(id, "image/png", "GIF89a").error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(issuers.SetLogo(id, "image/gif", "GIF89a").error().code,
              ErrorCode::kUnsupportedMediaType);
    EXPECT_EQ(issuers.SetLogo(id, "image/png", png + std::string(256 * 1024, '\0')).error().code,
              ErrorCode::kPayloadTooLarge);
    EXPECT_EQ(issuers.SetLogo(id, "image/svg+xml", "<html></html>").error().code,
              ErrorCode::kInvalidArgument);
    EXPECT_EQ(
        issuers.SetLogo(id, "image/svg+xml", "<!DOCTYPE svg [<!ENTITY a \"a\">]><svg>&a;</svg>")
            .error()
            .code,
        ErrorCode::kInvalidArgument);
    EXPECT_EQ(issuers.Logo(id)->bytes, png);  // the refused ones changed nothing

    const std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\"><rect/></svg>";
    ASSERT_TRUE(issuers.SetLogo(id, "image/svg+xml", svg));
    EXPECT_EQ(issuers.Logo(id)->bytes, svg);
    EXPECT_EQ(issuers.Logo(id)->media_type, "image/svg+xml");
}

// Issue 17: a key says its mode in its text and carries it to every call; keys made before modes
// existed ("firmo_" and no mode) are live keys.
TEST(IssuerKeyModes, NewKeysSayTheirModeAndOldKeysAreLive) {
    MemoryNode node(5);
    ASSERT_TRUE(node.db.Migrate());
    auto& db = node.db;
    auto& hasher = node.hasher;
    auto& clock = node.clock;
    ServiceContext& ctx = node.ctx;
    IssuerService issuers(ctx);
    auto issuer = issuers.CreateIssuer("Comune di Roma", "it@roma.example");
    ASSERT_TRUE(issuer);

    auto test = issuers.CreateApiKey(issuer->id, ApiKeyOptions{.label = "ci", .test = true});
    ASSERT_TRUE(test) << test.error().message;
    EXPECT_TRUE(test->secret.starts_with("firmo_test_")) << test->secret;
    EXPECT_TRUE(test->key.test);
    EXPECT_EQ(test->key.prefix, test->secret.substr(0, 17));
    auto live = issuers.CreateApiKey(issuer->id);
    ASSERT_TRUE(live) << live.error().message;
    EXPECT_TRUE(live->secret.starts_with("firmo_live_")) << live->secret;
    EXPECT_FALSE(live->key.test);

    auto as_test = issuers.Authenticate(test->secret);
    ASSERT_TRUE(as_test) << as_test.error().message;
    EXPECT_TRUE(as_test->test);
    EXPECT_EQ(as_test->Scope().test, std::optional<bool>(true));
    auto as_live = issuers.Authenticate(live->secret);
    ASSERT_TRUE(as_live) << as_live.error().message;
    EXPECT_FALSE(as_live->test);
    EXPECT_EQ(as_live->Scope().test, std::optional<bool>(false));

    // A key of the old shape, stored as the old code stored it (no mode), is a live key.
    const std::string old = "firmo_OisX2xAbCdEfGhIjKlMnOpQrStUvWxYz0123456789ab";
    ASSERT_TRUE(InWriteTransaction(db, [&](Transaction& tx) -> Result<void> {
        return tx.issuers().InsertKey(ApiKey{"OLD-KEY", issuer->id, hasher.Sha256Hex(old),
                                             old.substr(0, 12), clock.Now(), std::nullopt});
    }));
    auto as_old = issuers.Authenticate(old);
    ASSERT_TRUE(as_old) << as_old.error().message;
    EXPECT_FALSE(as_old->test);
    EXPECT_EQ(as_old->key_prefix, "firmo_OisX2x");
    // The text decides nothing: a "firmo_test_" text stored as a live key is live.
    const std::string lying = "firmo_test_but_stored_as_live_0123456789abcdefghijk";
    ASSERT_TRUE(InWriteTransaction(db, [&](Transaction& tx) -> Result<void> {
        return tx.issuers().InsertKey(ApiKey{"LYING-KEY", issuer->id, hasher.Sha256Hex(lying),
                                             lying.substr(0, 17), clock.Now(), std::nullopt});
    }));
    auto as_lying = issuers.Authenticate(lying);
    ASSERT_TRUE(as_lying) << as_lying.error().message;
    EXPECT_FALSE(as_lying->test);
}

}  // namespace
}  // namespace firmo::domain
