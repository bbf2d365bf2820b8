#include "app/root.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "core/testing/temp_dir.hpp"
#include "crypto/certificate_authority.hpp"

namespace firmo::app {
namespace {

namespace fs = std::filesystem;

// Nodes started together on an empty shared data folder each open the built-in CA: one
// creates it, every other loads that one, and all of them come up.
TEST(Bootstrap, NodesStartingTogetherShareOneCa) {
    firmo::testing::TempDir dir{"firmo-ca-bootstrap"};
    constexpr int kNodes = 8;
    std::vector<Result<std::shared_ptr<const crypto::CertificateAuthority>>> opened(
        kNodes, Fail(ErrorCode::kInternal, "not run"));
    std::atomic<int> ready{0};
    std::vector<std::thread> nodes;
    nodes.reserve(kNodes);
    for (int i = 0; i < kNodes; ++i) {
        nodes.emplace_back([&, i] {
            SystemClock clock;
            SeededRandom random(static_cast<std::uint64_t>(i + 1));
            ready.fetch_add(1);
            while (ready.load() < kNodes) std::this_thread::yield();
            opened[static_cast<std::size_t>(i)] =
                OpenBuiltinCa(dir.path() / "data", "passphrase", clock, random);
        });
    }
    for (auto& t : nodes) t.join();
    for (const auto& ca : opened) {
        ASSERT_TRUE(ca) << ca.error().message;
        EXPECT_EQ(X509_cmp((*ca)->certificate(), (*opened[0])->certificate()), 0);
    }
    auto on_disk = crypto::CertificateAuthority::Load(dir.path() / "data", "passphrase");
    ASSERT_TRUE(on_disk) << on_disk.error().message;
    EXPECT_EQ(X509_cmp(on_disk->certificate(), (*opened[0])->certificate()), 0);
}

// Without a passphrase the CA key is still encrypted (issue 12), with a secret generated at
// first start in a 0600 file beside the data folder; nodes starting together agree on it.
TEST(Bootstrap, WithoutAPassphraseTheKeyIsEncryptedWithASecretBesideTheData) {
    firmo::testing::TempDir dir{"firmo-ca-secret"};
    const fs::path data = dir.path() / "data";
    constexpr int kNodes = 8;
    std::vector<Result<std::shared_ptr<const crypto::CertificateAuthority>>> opened(
        kNodes, Fail(ErrorCode::kInternal, "not run"));
    std::atomic<int> ready{0};
    std::vector<std::thread> nodes;
    for (int i = 0; i < kNodes; ++i) {
        nodes.emplace_back([&, i] {
            SystemClock clock;
            SeededRandom random(static_cast<std::uint64_t>(i + 100));
            ready.fetch_add(1);
            while (ready.load() < kNodes) std::this_thread::yield();
            opened[static_cast<std::size_t>(i)] = OpenBuiltinCa(data, "", clock, random);
        });
    }
    for (auto& t : nodes) t.join();
    for (const auto& ca : opened) {
        ASSERT_TRUE(ca) << ca.error().message;
        EXPECT_EQ(X509_cmp((*ca)->certificate(), (*opened[0])->certificate()), 0);
    }
    std::ifstream key_file(crypto::CertificateAuthority::KeyPath(data));
    const std::string key_pem{std::istreambuf_iterator<char>(key_file), {}};
    EXPECT_NE(key_pem.find("BEGIN ENCRYPTED PRIVATE KEY"), std::string::npos) << key_pem;
    const fs::path secret = crypto::CertificateAuthority::KeySecretPath(data);
    EXPECT_EQ(secret, fs::absolute(dir.path()) / "data.ca-key-secret");
    ASSERT_TRUE(fs::exists(secret));
    EXPECT_EQ(fs::status(secret).permissions() & fs::perms::all,
              fs::perms::owner_read | fs::perms::owner_write);
    // Nothing left behind by the nodes that lost the race, and nothing inside the folder.
    int entries = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.path())) ++entries;
    EXPECT_EQ(entries, 2);  // data/ and the secret
    EXPECT_FALSE(fs::exists(data / "ca" / "ca-key.secret"));
    // A restart (and `firmo sign`, which loads with no passphrase) finds it again; without the
    // secret the key does not open.
    SystemClock clock;
    SeededRandom random(7);
    auto again = OpenBuiltinCa(data, "", clock, random);
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(X509_cmp((*again)->certificate(), (*opened[0])->certificate()), 0);
    fs::rename(secret, dir.path() / "elsewhere");
    auto without = crypto::CertificateAuthority::Load(data, "");
    ASSERT_FALSE(without);
    EXPECT_EQ(without.error().code, ErrorCode::kUnauthenticated);
}

// A CA made before key secrets (unencrypted, by `firmo ca init` without a passphrase) still
// loads, and no secret is made up for it.
TEST(Bootstrap, AnUnencryptedCaFromBeforeStillLoads) {
    firmo::testing::TempDir dir{"firmo-ca-legacy"};
    SystemClock clock;
    SeededRandom random(3);
    ASSERT_TRUE(crypto::CertificateAuthority::Create(dir.path(), {}, "", clock, random));
    auto opened = OpenBuiltinCa(dir.path(), "", clock, random);
    ASSERT_TRUE(opened) << opened.error().message;
    EXPECT_FALSE(fs::exists(crypto::CertificateAuthority::KeySecretPath(dir.path())));
}

TEST(Bootstrap, AnExistingCaIsLoadedAndAWrongPassphraseStopsTheNode) {
    firmo::testing::TempDir dir{"firmo-ca-existing"};
    SystemClock clock;
    SeededRandom random(1);
    auto first = OpenBuiltinCa(dir.path(), "right", clock, random);
    ASSERT_TRUE(first) << first.error().message;
    auto again = OpenBuiltinCa(dir.path(), "right", clock, random);
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(X509_cmp((*first)->certificate(), (*again)->certificate()), 0);
    auto wrong = OpenBuiltinCa(dir.path(), "wrong", clock, random);
    ASSERT_FALSE(wrong);
    EXPECT_EQ(wrong.error().code, ErrorCode::kUnauthenticated);
}

}  // namespace
}  // namespace firmo::app
