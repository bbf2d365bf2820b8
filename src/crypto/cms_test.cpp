#include "crypto/cms.hpp"

#include <gtest/gtest.h>
#include <openssl/cms.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/clock.hpp"
#include "core/encoding.hpp"
#include "core/random.hpp"
#include "crypto/builtin_trust_service.hpp"
#include "crypto/certificate_authority.hpp"
#include "crypto/cms_verify.hpp"
#include "crypto/der.hpp"
#include "crypto/digest.hpp"

namespace firmo::crypto {
namespace {

namespace fs = std::filesystem;

class ScratchDir {
  public:
    ScratchDir() {
        std::string templ = (fs::temp_directory_path() / "firmo-crypto-XXXXXX").string();
        path_ = mkdtemp(templ.data());
    }
    ~ScratchDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    const fs::path& path() const { return path_; }

  private:
    fs::path path_;
};

void Write(const fs::path& p, std::string_view bytes) {
    std::ofstream(p, std::ios::binary)
        .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

int Shell(const std::string& command) {
    int status = std::system((command + " >/dev/null 2>&1").c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

const Timestamp kNow = Timestamp(std::chrono::milliseconds(1'800'000'000'000));

domain::SignerIdentity Mario() {
    return {.full_name = "Mario Rossi",
            .given_name = "Mario",
            .surname = "Rossi",
            .serial_number = "TINIT-RSSMRA80A01H501U",
            .country = "IT",
            .email = "mario@example.org"};
}

TEST(DerTest, EncodesOidsLengthsAndSets) {
    EXPECT_EQ(HexEncode(der::Oid("1.2.840.113549.1.7.2")), "06092a864886f70d010702");
    EXPECT_EQ(HexEncode(der::Oid("2.16.840.1.101.3.4.2.1")), "0609608648016503040201");
    EXPECT_EQ(HexEncode(der::SmallInteger(1)), "020101");
    EXPECT_EQ(HexEncode(der::SmallInteger(128)), "02020080");
    std::string long_content(300, 'a');
    EXPECT_EQ(HexEncode(der::OctetString(long_content).substr(0, 4)), "0482012c");
    EXPECT_EQ(HexEncode(der::SetOf({der::SmallInteger(2), der::SmallInteger(1)})),
              "3106020101020102");
    std::size_t header = 0;
    std::size_t content = 0;
    ASSERT_TRUE(der::ReadHeader(der::OctetString(long_content), &header, &content));
    EXPECT_EQ(header, 4u);
    EXPECT_EQ(content, 300u);
    EXPECT_FALSE(
        der::ReadHeader("\x04\x05"
                        "abc",
                        &header, &content));
}

class CmsTest : public ::testing::TestWithParam<KeyType> {
  protected:
    ScratchDir dir_;
    ManualClock clock_{kNow};
    SeededRandom random_{42};
};

TEST_P(CmsTest, SignsDigestAsCadesBaselineAndOpensslVerifies) {
    CaOptions options;
    options.key_type = GetParam();
    auto ca = CertificateAuthority::Create(dir_.path(), options, "secret", clock_, random_);
    ASSERT_TRUE(ca) << ca.error().message;
    auto shared = std::make_shared<const CertificateAuthority>(std::move(*ca));
    BuiltinTrustService trust(shared, clock_, random_);
    auto session = trust.OpenSession(Mario());
    ASSERT_TRUE(session) << session.error().message;

    std::string content = "the signed byte ranges of a PDF";
    auto cms_der = (*session)->SignDigest(Sha256(content));
    ASSERT_TRUE(cms_der) << cms_der.error().message;
    EXPECT_LE(cms_der->size(), (*session)->MaxSignatureSize());

    const auto* p = reinterpret_cast<const unsigned char*>(cms_der->data());
    CmsPtr cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(cms_der->size())));
    ASSERT_TRUE(cms);
    EXPECT_EQ(OBJ_obj2nid(CMS_get0_type(cms.get())), NID_pkcs7_signed);
    EXPECT_TRUE(CMS_is_detached(cms.get()));
    auto* infos = CMS_get0_SignerInfos(cms.get());
    ASSERT_EQ(sk_CMS_SignerInfo_num(infos), 1);
    CMS_SignerInfo* si = sk_CMS_SignerInfo_value(infos, 0);
    EXPECT_EQ(CMS_signed_get_attr_count(si), 3);
    EXPECT_LT(CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime, -1), 0);
    EXPECT_GE(CMS_signed_get_attr_by_NID(si, NID_id_smime_aa_signingCertificateV2, -1), 0);
    EXPECT_GE(CMS_signed_get_attr_by_NID(si, NID_pkcs9_contentType, -1), 0);
    auto* md = static_cast<ASN1_OCTET_STRING*>(CMS_signed_get0_data_by_OBJ(
        si, OBJ_nid2obj(NID_pkcs9_messageDigest), -3, V_ASN1_OCTET_STRING));
    ASSERT_NE(md, nullptr);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(md)),
                          static_cast<std::size_t>(ASN1_STRING_length(md))),
              Sha256(content));
    STACK_OF(X509)* certs = CMS_get1_certs(cms.get());
    EXPECT_EQ(sk_X509_num(certs), 2);  // signer + CA
    sk_X509_pop_free(certs, X509_free);

    // An independent verifier: the openssl command line, over the real content (CI installs
    // it; without it only our own verifier below runs).
    bool have_openssl = Shell("command -v openssl") == 0;
    Write(dir_.path() / "content.bin", content);
    Write(dir_.path() / "sig.der", *cms_der);
    std::string verify = "openssl cms -verify -binary -inform DER -purpose any -in " +
                         (dir_.path() / "sig.der").string() + " -content " +
                         (dir_.path() / "content.bin").string() + " -CAfile " +
                         CertificateAuthority::CertificatePath(dir_.path()).string() +
                         " -attime 1800000060 -out /dev/null";
    if (have_openssl) {
        EXPECT_EQ(Shell(verify), 0);
        Write(dir_.path() / "content.bin", content + "!");
        EXPECT_NE(Shell(verify), 0);
    }

    // And our own verifier.
    auto parsed = DetachedCms::Parse(*cms_der + std::string(100, '\0'));  // zero padding
    ASSERT_TRUE(parsed) << parsed.error().message;
    EXPECT_EQ(parsed->DigestName(), "SHA256");
    auto digest = parsed->DigestOf({"the signed byte ranges", " of a PDF"});
    ASSERT_TRUE(digest);
    auto anchors = TrustAnchors::FromPem(*shared->CertificatePem());
    ASSERT_TRUE(anchors);
    auto check = parsed->Verify(*digest, *anchors, kNow);
    EXPECT_TRUE(check.signature_valid && check.digest_matches && check.chain_trusted &&
                check.signing_certificate_ok)
        << ::testing::PrintToString(check.problems);
    EXPECT_TRUE(check.problems.empty());
    EXPECT_EQ(check.signer_common_name, "Mario Rossi");
    EXPECT_EQ(check.signer_serial_number, "TINIT-RSSMRA80A01H501U");
    EXPECT_FALSE(check.cms_signing_time);

    auto wrong = parsed->Verify(Sha256("other"), *anchors, kNow);
    EXPECT_FALSE(wrong.digest_matches);
    EXPECT_TRUE(wrong.signature_valid);
    auto later = parsed->Verify(*digest, *anchors, kNow + std::chrono::hours(2));
    EXPECT_FALSE(later.chain_trusted);  // the one-hour certificate has expired
    auto untrusted = parsed->Verify(*digest, TrustAnchors(), kNow);
    EXPECT_FALSE(untrusted.chain_trusted);
    EXPECT_FALSE(DetachedCms::Parse("not a cms"));
}

INSTANTIATE_TEST_SUITE_P(Keys, CmsTest, ::testing::Values(KeyType::kEcdsaP256, KeyType::kRsa3072),
                         [](const auto& param_info) {
                             return param_info.param == KeyType::kRsa3072 ? "Rsa3072" : "EcdsaP256";
                         });

TEST(CmsSizeTest, RejectsWrongDigestLength) {
    auto key = GenerateKey(KeyType::kEcdsaP256);
    ASSERT_TRUE(key);
    EXPECT_EQ(BuildSignedAttributes("short", nullptr).error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace firmo::crypto
