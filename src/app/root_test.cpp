#include "app/root.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "core/testing/temp_dir.hpp"
#include "crypto/certificate_authority.hpp"

namespace firmo::app {
namespace {

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
