#include "crypto/certificate_authority.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

namespace firmo::crypto {
namespace {

namespace fs = std::filesystem;

class CaTest : public ::testing::Test {
  protected:
    CaTest() {
        std::string templ = (fs::temp_directory_path() / "firmo-ca-XXXXXX").string();
        dir_ = mkdtemp(templ.data());
    }
    ~CaTest() override {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }
    fs::path dir_;
    ManualClock clock_{Timestamp(std::chrono::milliseconds(1'800'000'000'000))};
    SeededRandom random_{7};
};

std::string Slurp(const fs::path& p) {
    std::ifstream in(p);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

TEST_F(CaTest, CreateStoresAProtectedKeyAndLoadNeedsThePassphrase) {
    auto ca = CertificateAuthority::Create(dir_, {}, "correct horse", clock_, random_);
    ASSERT_TRUE(ca) << ca.error().message;
    struct stat st {};
    ASSERT_EQ(::stat(CertificateAuthority::KeyPath(dir_).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_NE(Slurp(CertificateAuthority::KeyPath(dir_)).find("ENCRYPTED PRIVATE KEY"),
              std::string::npos);

    auto again = CertificateAuthority::Create(dir_, {}, "x", clock_, random_);
    EXPECT_EQ(again.error().code, ErrorCode::kAlreadyExists);

    auto wrong = CertificateAuthority::Load(dir_, "wrong");
    EXPECT_EQ(wrong.error().code, ErrorCode::kUnauthenticated);
    auto loaded = CertificateAuthority::Load(dir_, "correct horse");
    ASSERT_TRUE(loaded) << loaded.error().message;
    EXPECT_EQ(X509_cmp(loaded->certificate(), ca->certificate()), 0);
    EXPECT_EQ(loaded->options().key_type, KeyType::kEcdsaP256);

    EXPECT_EQ(CertificateAuthority::Load(dir_ / "nowhere", "x").error().code, ErrorCode::kNotFound);

    // The root is a CA certificate that verifies itself.
    X509* root = ca->certificate();
    EXPECT_EQ(X509_check_ca(root), 1);
    EXPECT_EQ(NameEntry(X509_get_subject_name(root), NID_commonName), "Firmo Signing CA");
    EXPECT_EQ(X509_verify(root, X509_get0_pubkey(root)), 1);
}

// Nodes starting together on an empty data folder all try to create the CA: exactly one
// succeeds, the others are told one exists, and what is on disk is that one CA, whole.
TEST_F(CaTest, ConcurrentCreatesMakeOneWholeCa) {
    constexpr int kNodes = 6;
    std::vector<std::optional<Result<CertificateAuthority>>> outcomes(kNodes);
    std::atomic<int> ready{0};
    std::atomic<bool> created{false};
    // A node that looks while the others create sees no CA or a whole one: once the key
    // file is there, the CA loads (never a key without its certificate, or half a file).
    std::vector<std::string> partial_views;
    std::thread reader([&] {
        while (!created.load()) {
            std::error_code ec;
            if (!fs::exists(CertificateAuthority::KeyPath(dir_), ec)) continue;
            auto seen = CertificateAuthority::Load(dir_, "pass");
            if (!seen) partial_views.push_back(seen.error().message);
        }
    });
    std::vector<std::thread> nodes;
    nodes.reserve(kNodes);
    for (int i = 0; i < kNodes; ++i) {
        nodes.emplace_back([&, i] {
            SeededRandom random(static_cast<std::uint64_t>(100 + i));
            ready.fetch_add(1);
            while (ready.load() < kNodes) std::this_thread::yield();
            outcomes[static_cast<std::size_t>(i)] =
                CertificateAuthority::Create(dir_, {}, "pass", clock_, random);
        });
    }
    for (auto& t : nodes) t.join();
    created = true;
    reader.join();
    EXPECT_TRUE(partial_views.empty()) << partial_views.front();
    const CertificateAuthority* winner = nullptr;
    for (const auto& outcome : outcomes) {
        ASSERT_TRUE(outcome.has_value());
        if (*outcome) {
            EXPECT_EQ(winner, nullptr) << "two nodes created a CA";
            winner = &**outcome;
        } else {
            EXPECT_EQ(outcome->error().code, ErrorCode::kAlreadyExists) << outcome->error().message;
        }
    }
    ASSERT_NE(winner, nullptr);
    auto loaded = CertificateAuthority::Load(dir_, "pass");
    ASSERT_TRUE(loaded) << loaded.error().message;
    EXPECT_EQ(X509_cmp(loaded->certificate(), winner->certificate()), 0);
    // Only ca/ is left: the losers' staging folders are gone.
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir_)) {
        names.push_back(entry.path().filename().string());
    }
    EXPECT_EQ(names, std::vector<std::string>{"ca"});
}

// A `ca/` folder that exists but is empty (made by hand, or by an older release that crashed
// mid-creation) does not block the creation.
TEST_F(CaTest, CreateFillsAnEmptyCaFolder) {
    fs::create_directories(dir_ / "ca");
    auto ca = CertificateAuthority::Create(dir_, {}, "", clock_, random_);
    ASSERT_TRUE(ca) << ca.error().message;
    EXPECT_TRUE(CertificateAuthority::Load(dir_, ""));
}

TEST_F(CaTest, IssuesShortLivedSignerCertificates) {
    CaOptions options;
    options.signer_validity = std::chrono::minutes(30);
    auto ca = CertificateAuthority::Create(dir_, options, "", clock_, random_);
    ASSERT_TRUE(ca) << ca.error().message;
    auto key = GenerateKey(KeyType::kEcdsaP256);
    ASSERT_TRUE(key);
    domain::SignerIdentity signer{.full_name = "Kari Nordmann",
                                  .given_name = "Kari",
                                  .surname = "Nordmann",
                                  .serial_number = "PNONO-01017012345",
                                  .country = "NO",
                                  .email = ""};
    auto cert = ca->Issue(signer, key->get(), clock_, random_);
    ASSERT_TRUE(cert) << cert.error().message;
    const X509_NAME* subject = X509_get_subject_name(cert->get());
    EXPECT_EQ(NameEntry(subject, NID_commonName), "Kari Nordmann");
    EXPECT_EQ(NameEntry(subject, NID_serialNumber), "PNONO-01017012345");
    EXPECT_EQ(NameEntry(subject, NID_givenName), "Kari");
    EXPECT_EQ(NameEntry(subject, NID_countryName), "NO");

    // nonRepudiation + digitalSignature, critical; no EKU by default.
    EXPECT_EQ(X509_get_key_usage(cert->get()) & (KU_NON_REPUDIATION | KU_DIGITAL_SIGNATURE),
              static_cast<uint32_t>(KU_NON_REPUDIATION | KU_DIGITAL_SIGNATURE));
    EXPECT_EQ(X509_get_extended_key_usage(cert->get()), UINT32_MAX);
    EXPECT_EQ(X509_check_ca(cert->get()), 0);

    // Valid from five minutes ago for 30 minutes from now.
    int days = 0;
    int seconds = 0;
    ASSERT_EQ(ASN1_TIME_diff(&days, &seconds, X509_get0_notBefore(cert->get()),
                             X509_get0_notAfter(cert->get())),
              1);
    EXPECT_EQ(days * 86400 + seconds, 35 * 60);

    // The chain verifies against the root at the clock's time.
    X509StorePtr store(X509_STORE_new());
    X509_STORE_add_cert(store.get(), ca->certificate());
    X509StoreCtxPtr ctx(X509_STORE_CTX_new());
    X509_STORE_CTX_init(ctx.get(), store.get(), cert->get(), nullptr);
    X509_STORE_CTX_set_time(ctx.get(), 0, 1'800'000'000);
    EXPECT_EQ(X509_verify_cert(ctx.get()), 1)
        << X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()));

    // Two certificates never share a serial number.
    auto other = ca->Issue(signer, key->get(), clock_, random_);
    ASSERT_TRUE(other);
    EXPECT_NE(
        ASN1_INTEGER_cmp(X509_get0_serialNumber(cert->get()), X509_get0_serialNumber(other->get())),
        0);
    EXPECT_FALSE(ca->Issue(domain::SignerIdentity{}, key->get(), clock_, random_));
}

TEST(KeyTypeTest, ParsesNames) {
    EXPECT_EQ(ParseKeyType("rsa-3072"), KeyType::kRsa3072);
    EXPECT_EQ(ParseKeyType("ecdsa-p256"), KeyType::kEcdsaP256);
    EXPECT_FALSE(ParseKeyType("dsa"));
    EXPECT_EQ(ToString(KeyType::kRsa3072), "rsa-3072");
}

}  // namespace
}  // namespace firmo::crypto
