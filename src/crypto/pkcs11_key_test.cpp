#include "crypto/pkcs11_key.hpp"

#include <gtest/gtest.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>

#include "core/clock.hpp"
#include "core/random.hpp"
#include "crypto/builtin_trust_service.hpp"
#include "crypto/certificate_authority.hpp"
#include "crypto/cms_verify.hpp"
#include "crypto/digest.hpp"

namespace firmo::crypto {
namespace {

namespace fs = std::filesystem;

constexpr const char* kModule = "/usr/lib/softhsm/libsofthsm2.so";
constexpr const char* kKeyUri = "pkcs11:token=firmo-test;object=ca;type=private";

int Shell(const std::string& command) {
    int status = std::system((command + " >/dev/null 2>&1").c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// A SoftHSM2 token in a scratch directory with one P-256 key pair, made by OpenSC's
// pkcs11-tool.
class Pkcs11Test : public ::testing::Test {
  protected:
    void SetUp() override {
        if (Shell("command -v softhsm2-util && command -v pkcs11-tool") != 0 ||
            !fs::exists(kModule)) {
            GTEST_SKIP() << "softhsm2 / opensc are not installed";
        }
        std::string templ = (fs::temp_directory_path() / "firmo-p11-XXXXXX").string();
        dir_ = mkdtemp(templ.data());
        fs::create_directories(dir_ / "tokens");
        std::ofstream(dir_ / "softhsm2.conf")
            << "directories.tokendir = " << (dir_ / "tokens").string()
            << "\nobjectstore.backend = file\nlog.level = ERROR\n";
        setenv("SOFTHSM2_CONF", (dir_ / "softhsm2.conf").c_str(), 1);
        ASSERT_EQ(Shell("softhsm2-util --init-token --free --label firmo-test --so-pin 0000 "
                        "--pin 1234"),
                  0);
        ASSERT_EQ(Shell(std::string("pkcs11-tool --module ") + kModule +
                        " --token-label firmo-test --login --pin 1234 --keypairgen "
                        "--key-type EC:prime256v1 --label ca --id 01"),
                  0);
        // 'ENGINESDIR: "/usr/lib/x86_64-linux-gnu/engines-3"'
        std::string engines = OpenSSL_version(OPENSSL_ENGINES_DIR);
        auto quote = engines.find('"');
        engines = engines.substr(quote + 1, engines.rfind('"') - quote - 1);
        if (!fs::exists(engines + "/pkcs11.so")) {
            GTEST_SKIP() << "the OpenSSL pkcs11 engine is not installed";
        }
    }
    void TearDown() override {
        std::error_code ec;
        if (!dir_.empty()) fs::remove_all(dir_, ec);
    }
    fs::path dir_;
    SystemClock clock_;
    SeededRandom random_{5};
};

TEST_F(Pkcs11Test, CaKeyInATokenIssuesAndSigns) {
    // First, before any login: a PKCS#11 login lasts as long as the process keeps a session
    // with the token, so a wrong PIN is only noticed before the right one was used.
    auto wrong = LoadPkcs11Key(kKeyUri, "9999", kModule);
    ASSERT_FALSE(wrong);
    EXPECT_EQ(wrong.error().code, ErrorCode::kUnauthenticated);

    CaOptions options;
    options.pkcs11_module = kModule;
    {
        auto ca = CertificateAuthority::CreateInToken(dir_ / "data", options, kKeyUri, "1234",
                                                      clock_, random_);
        ASSERT_TRUE(ca) << ca.error().message;
        EXPECT_TRUE(fs::exists(dir_ / "data" / "ca" / "ca-key.uri"));
        EXPECT_FALSE(fs::exists(CertificateAuthority::KeyPath(dir_ / "data")));
    }
    // Loaded again from the data directory, with the PIN as passphrase.
    auto loaded = CertificateAuthority::Load(dir_ / "data", "1234", options);
    ASSERT_TRUE(loaded) << loaded.error().message;
    EXPECT_EQ(loaded->options().key_type, KeyType::kEcdsaP256);

    auto shared = std::make_shared<const CertificateAuthority>(std::move(*loaded));
    BuiltinTrustService trust(shared, clock_, random_);
    auto session = trust.OpenSession({"Mario Rossi", "", "", "TINIT-RSSMRA80A01H501U", "IT", ""});
    ASSERT_TRUE(session) << session.error().message;
    std::string digest = Sha256("content");
    auto cms = (*session)->SignDigest(digest);
    ASSERT_TRUE(cms);
    auto parsed = DetachedCms::Parse(*cms);
    ASSERT_TRUE(parsed);
    auto anchors = TrustAnchors::FromFiles({CertificateAuthority::CertificatePath(dir_ / "data")});
    ASSERT_TRUE(anchors);
    auto check = parsed->Verify(digest, *anchors, clock_.Now());
    EXPECT_TRUE(check.chain_trusted) << check.chain_error;  // issued by the token's key
    EXPECT_TRUE(check.problems.empty()) << ::testing::PrintToString(check.problems);

    EXPECT_EQ(CertificateAuthority::CreateInToken(dir_ / "data", options, kKeyUri, "1234", clock_,
                                                  random_)
                  .error()
                  .code,
              ErrorCode::kAlreadyExists);
    EXPECT_FALSE(LoadPkcs11Key("file:///etc/passwd", "", kModule));
}

}  // namespace
}  // namespace firmo::crypto
