#include "crypto/timestamp.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/clock.hpp"
#include "crypto/builtin_trust_service.hpp"
#include "crypto/certificate_authority.hpp"
#include "crypto/cms_verify.hpp"
#include "crypto/digest.hpp"
#include "crypto/testing/openssl_tsa.hpp"

namespace firmo::crypto {
namespace {

namespace fs = std::filesystem;

using testing::OpensslTsa;
using testing::Shell;

class TimestampTest : public ::testing::Test {
  protected:
    void SetUp() override {
        if (Shell("command -v openssl") != 0) GTEST_SKIP() << "openssl is not installed";
        std::string templ = (fs::temp_directory_path() / "firmo-ts-XXXXXX").string();
        dir_ = mkdtemp(templ.data());
        tsa_ = std::make_shared<OpensslTsa>(dir_);
        ASSERT_TRUE(tsa_->ok());
    }
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }
    fs::path dir_;
    std::shared_ptr<OpensslTsa> tsa_;
    SystemClock clock_;
    SeededRandom random_{99};
};

TEST_F(TimestampTest, TimestampedSignatureVerifiesAndMovesTheCheckTime) {
    auto ca = CertificateAuthority::Create(dir_ / "data", {}, "", clock_, random_);
    ASSERT_TRUE(ca) << ca.error().message;
    auto shared = std::make_shared<const CertificateAuthority>(std::move(*ca));
    BuiltinTrustService trust(shared, clock_, random_);
    auto inner = trust.OpenSession({"Mario Rossi", "", "", "TINIT-RSSMRA80A01H501U", "IT", ""});
    ASSERT_TRUE(inner);
    std::size_t inner_max = (*inner)->MaxSignatureSize();
    TimestampingSession session(std::move(*inner), tsa_, random_);
    EXPECT_EQ(session.MaxSignatureSize(), inner_max + 8192);

    std::string digest = Sha256("document ranges");
    auto cms_der = session.SignDigest(digest);
    ASSERT_TRUE(cms_der) << cms_der.error().message;
    EXPECT_LE(cms_der->size(), session.MaxSignatureSize());
    EXPECT_EQ(tsa_->calls, 1);

    auto cms = DetachedCms::Parse(*cms_der);
    ASSERT_TRUE(cms);
    auto anchors = TrustAnchors::FromFiles(
        {CertificateAuthority::CertificatePath(dir_ / "data"), tsa_->certificate()});
    ASSERT_TRUE(anchors);
    // Claimed a day later: a B-B check at that time fails (the certificate lasts an hour),
    // but the time-stamp proves the signature was made while it was valid.
    Timestamp claimed_later = clock_.Now() + std::chrono::hours(24);
    auto check = cms->Verify(digest, *anchors, claimed_later);
    EXPECT_TRUE(check.problems.empty()) << ::testing::PrintToString(check.problems);
    EXPECT_TRUE(check.timestamped && check.timestamp_valid && check.chain_trusted &&
                check.signature_valid && check.digest_matches && check.signing_certificate_ok);
    ASSERT_TRUE(check.timestamp_time);
    EXPECT_LT(std::chrono::abs(*check.timestamp_time - clock_.Now()), std::chrono::minutes(2));
    EXPECT_EQ(check.timestamp_authority, "CN=Test TSA");
    EXPECT_FALSE(cms->Verify(digest, *anchors, claimed_later, claimed_later).chain_trusted);

    // Without the TSA among the anchors the time-stamp is not trusted.
    auto ca_only = TrustAnchors::FromFiles({CertificateAuthority::CertificatePath(dir_ / "data")});
    ASSERT_TRUE(ca_only);
    auto untrusted = cms->Verify(digest, *ca_only, clock_.Now());
    EXPECT_TRUE(untrusted.timestamped);
    EXPECT_FALSE(untrusted.timestamp_valid);
    EXPECT_TRUE(untrusted.chain_trusted);  // checked at the claimed time instead

    // The openssl command line agrees with the token.
    std::ofstream(dir_ / "sig.der", std::ios::binary)
        .write(cms_der->data(), static_cast<std::streamsize>(cms_der->size()));
    EXPECT_EQ(Shell("openssl cms -cmsout -print -inform DER -in " + (dir_ / "sig.der").string() +
                    " | grep -q id-smime-aa-timeStampToken"),
              0);
}

TEST_F(TimestampTest, BrokenTsaIsAnError) {
    tsa_->broken = true;
    auto token = RequestTimestampToken(*tsa_, Sha256("x"), random_);
    ASSERT_FALSE(token);
    EXPECT_EQ(token.error().code, ErrorCode::kUnavailable);
    EXPECT_FALSE(AddSignatureTimestamp("not a cms", *tsa_, random_));
}

TEST_F(TimestampTest, HttpTsaUnreachable) {
    HttpTimestampAuthority tsa("http://127.0.0.1:9/tsa", std::chrono::milliseconds(500));
    auto response = tsa.Exchange("query");
    ASSERT_FALSE(response);
    EXPECT_EQ(response.error().code, ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace firmo::crypto
