// The built-in CA's CRL and OCSP answers, and the built-in time-stamp authority, read back
// with OpenSSL's own parsers and verifiers.
#include <gtest/gtest.h>
#include <openssl/ocsp.h>
#include <openssl/ts.h>
#include <stdlib.h>

#include <filesystem>

#include "crypto/builtin_tsa.hpp"
#include "crypto/certificate_authority.hpp"
#include "crypto/digest.hpp"

namespace firmo::crypto {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

using CrlPtr = OpensslPtr<X509_CRL, X509_CRL_free>;
using OcspRequestPtr = OpensslPtr<OCSP_REQUEST, OCSP_REQUEST_free>;
using OcspResponsePtr = OpensslPtr<OCSP_RESPONSE, OCSP_RESPONSE_free>;
using OcspBasicPtr = OpensslPtr<OCSP_BASICRESP, OCSP_BASICRESP_free>;
using TsRespPtr = OpensslPtr<TS_RESP, TS_RESP_free>;
using TsVerifyPtr = OpensslPtr<TS_VERIFY_CTX, TS_VERIFY_CTX_free>;

class PkiTest : public ::testing::Test {
  protected:
    PkiTest() {
        std::string templ = (fs::temp_directory_path() / "firmo-pki-XXXXXX").string();
        dir_ = mkdtemp(templ.data());
        auto ca = CertificateAuthority::Create(dir_, {}, "pass", clock_, random_);
        EXPECT_TRUE(ca);
        ca_.emplace(std::move(*ca));
    }
    ~PkiTest() override {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }

    X509Ptr Signer() {
        auto key = GenerateKey(KeyType::kEcdsaP256);
        auto cert = ca_->Issue({.full_name = "Mario Rossi"}, key->get(), clock_, random_,
                               CertificateUrls::Under("https://sign.example.org/"));
        EXPECT_TRUE(cert) << cert.error().message;
        return std::move(*cert);
    }

    // The status OpenSSL reads from our answer to a question about `cert`.
    int OcspStatus(X509* cert, int* reason = nullptr) {
        OcspRequestPtr request(OCSP_REQUEST_new());
        OCSP_CERTID* id = OCSP_cert_to_id(EVP_sha1(), cert, ca_->certificate());
        OCSP_request_add0_id(request.get(), id);
        OCSP_request_add1_nonce(request.get(), nullptr, 16);
        auto der = ToDer(request.get(), i2d_OCSP_REQUEST, "request");
        auto answer = ca_->AnswerOcsp(
            *der,
            [&](const std::string& serial) -> Result<std::optional<domain::Revocation>> {
                for (const auto& r : revoked_) {
                    if (r.serial == serial) return r;
                }
                return std::optional<domain::Revocation>();
            },
            clock_.Now(), 1h);
        EXPECT_TRUE(answer) << answer.error().message;
        const auto* p = reinterpret_cast<const unsigned char*>(answer->data());
        OcspResponsePtr response(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(answer->size())));
        EXPECT_EQ(OCSP_response_status(response.get()), OCSP_RESPONSE_STATUS_SUCCESSFUL);
        OcspBasicPtr basic(OCSP_response_get1_basic(response.get()));
        EXPECT_EQ(OCSP_check_nonce(request.get(), basic.get()), 1);
        X509StackPtr certs(sk_X509_new_null());
        sk_X509_push(certs.get(), X509_dup(ca_->certificate()));
        X509StorePtr store(X509_STORE_new());
        X509_STORE_add_cert(store.get(), ca_->certificate());
        EXPECT_EQ(OCSP_basic_verify(basic.get(), certs.get(), store.get(), OCSP_TRUSTOTHER), 1);
        int status = -1;
        int why = -1;
        ASN1_GENERALIZEDTIME* revoked_at = nullptr;
        ASN1_GENERALIZEDTIME* this_update = nullptr;
        ASN1_GENERALIZEDTIME* next_update = nullptr;
        OCSP_CERTID* asked = OCSP_cert_to_id(EVP_sha1(), cert, ca_->certificate());
        EXPECT_EQ(OCSP_resp_find_status(basic.get(), asked, &status, &why, &revoked_at,
                                        &this_update, &next_update),
                  1);
        OCSP_CERTID_free(asked);
        EXPECT_EQ(OCSP_check_validity(this_update, next_update, 0, -1), 0);  // clock in 2027
        if (reason != nullptr) *reason = why;
        return status;
    }

    fs::path dir_;
    ManualClock clock_{Timestamp(std::chrono::milliseconds(1'800'000'000'000))};
    SeededRandom random_{11};
    std::optional<CertificateAuthority> ca_;
    std::vector<domain::Revocation> revoked_;
};

TEST_F(PkiTest, SerialsAreUpperCaseHexWithoutLeadingZeros) {
    EXPECT_EQ(ParseSerial("0x00ab:cd"), std::string("ABCD"));
    EXPECT_EQ(ParseSerial("7f"), std::string("7F"));
    EXPECT_EQ(ParseSerial("000"), std::string("0"));
    EXPECT_FALSE(ParseSerial("xyz"));
    EXPECT_FALSE(ParseSerial(""));
    auto cert = Signer();
    EXPECT_EQ(ParseSerial(SerialOf(cert.get())), SerialOf(cert.get()));
    EXPECT_EQ(SerialOf(cert.get()).size(), 32u);
    EXPECT_EQ(ParseRevocationReason("keyCompromise"), 1);
    EXPECT_FALSE(ParseRevocationReason(""));
    EXPECT_EQ(RevocationReasonName(4), "superseded");
}

TEST_F(PkiTest, SignerCertificatesCarryAiaAndCrlDistributionPoint) {
    auto cert = Signer();
    BioPtr bio(BIO_new(BIO_s_mem()));
    X509_print(bio.get(), cert.get());
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &data);
    const std::string text(data, static_cast<std::size_t>(len));
    EXPECT_NE(text.find("OCSP - URI:https://sign.example.org/pki/ocsp"), std::string::npos);
    EXPECT_NE(text.find("CA Issuers - URI:https://sign.example.org/pki/ca.crt"), std::string::npos);
    EXPECT_NE(text.find("URI:https://sign.example.org/pki/ca.crl"), std::string::npos);
    auto key = GenerateKey(KeyType::kEcdsaP256);
    EXPECT_FALSE(ca_->Issue({.full_name = "X"}, key->get(), clock_, random_,
                            {.ocsp = "http://a,OCSP;URI:http://evil"}));
}

TEST_F(PkiTest, CrlListsRevokedSerialsAndVerifies) {
    auto cert = Signer();
    revoked_.push_back({.serial = SerialOf(cert.get()), .revoked_at = clock_.Now(), .reason = 1});
    revoked_.push_back({.serial = "4A01", .revoked_at = clock_.Now() - 1h, .reason = 0});
    auto der = ca_->Crl(revoked_, clock_.Now(), 24h);
    ASSERT_TRUE(der) << der.error().message;
    const auto* p = reinterpret_cast<const unsigned char*>(der->data());
    CrlPtr crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(der->size())));
    ASSERT_TRUE(crl);
    EXPECT_EQ(X509_CRL_verify(crl.get(), X509_get0_pubkey(ca_->certificate())), 1);
    X509_REVOKED* entry = nullptr;
    EXPECT_EQ(X509_CRL_get0_by_cert(crl.get(), &entry, cert.get()), 1);
    EXPECT_EQ(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl.get())), 2);
    EXPECT_EQ(X509_CRL_get0_by_cert(crl.get(), &entry, Signer().get()), 0);
}

TEST_F(PkiTest, OcspSaysGoodThenRevokedWithTheReason) {
    auto cert = Signer();
    EXPECT_EQ(OcspStatus(cert.get()), V_OCSP_CERTSTATUS_GOOD);
    revoked_.push_back({.serial = SerialOf(cert.get()), .revoked_at = clock_.Now(), .reason = 1});
    int reason = -1;
    EXPECT_EQ(OcspStatus(cert.get(), &reason), V_OCSP_CERTSTATUS_REVOKED);
    EXPECT_EQ(reason, 1);
    EXPECT_EQ(ca_->AnswerOcsp("junk", {}, clock_.Now(), 1h).error().code, ErrorCode::kMalformed);
}

TEST_F(PkiTest, TsaGrantsTokensAtTheClocksTimeThatOpensslVerifies) {
    auto tsa = BuiltinTsa::LoadOrCreate(dir_, *ca_, "pass", clock_, random_);
    ASSERT_TRUE(tsa) << tsa.error().message;
    // Kept: a second load finds the same certificate.
    auto again = BuiltinTsa::LoadOrCreate(dir_, *ca_, "pass", clock_, random_);
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(X509_cmp((*tsa)->certificate(), (*again)->certificate()), 0);

    const std::string digest = Sha256("document");
    auto token = RequestTimestampToken(**tsa, digest, random_);
    ASSERT_TRUE(token) << token.error().message;

    // A full reply, verified the way `openssl ts -verify` does.
    OpensslPtr<TS_REQ, TS_REQ_free> request(TS_REQ_new());
    OpensslPtr<TS_MSG_IMPRINT, TS_MSG_IMPRINT_free> imprint(TS_MSG_IMPRINT_new());
    OpensslPtr<X509_ALGOR, X509_ALGOR_free> algorithm(X509_ALGOR_new());
    X509_ALGOR_set0(algorithm.get(), OBJ_nid2obj(NID_sha256), V_ASN1_NULL, nullptr);
    TS_MSG_IMPRINT_set_algo(imprint.get(), algorithm.get());
    TS_MSG_IMPRINT_set_msg(imprint.get(),
                           reinterpret_cast<unsigned char*>(const_cast<char*>(digest.data())),
                           static_cast<int>(digest.size()));
    TS_REQ_set_version(request.get(), 1);
    TS_REQ_set_msg_imprint(request.get(), imprint.get());
    TS_REQ_set_cert_req(request.get(), 1);
    auto query = ToDer(request.get(), i2d_TS_REQ, "query");
    auto reply = (*tsa)->Respond(*query);
    ASSERT_TRUE(reply) << reply.error().message;
    const auto* p = reinterpret_cast<const unsigned char*>(reply->data());
    TsRespPtr response(d2i_TS_RESP(nullptr, &p, static_cast<long>(reply->size())));
    ASSERT_TRUE(response);
    TS_TST_INFO* info = TS_RESP_get_tst_info(response.get());
    EXPECT_EQ(TimestampOf(TS_TST_INFO_get_time(info)), clock_.Now());
    TsVerifyPtr verify(TS_REQ_to_TS_VERIFY_CTX(request.get(), nullptr));
    X509_STORE* store = X509_STORE_new();
    X509_STORE_add_cert(store, ca_->certificate());
    TS_VERIFY_CTX_set_store(verify.get(), store);  // owned by the context
    TS_VERIFY_CTX_add_flags(verify.get(), TS_VFY_SIGNATURE);
    // X509 checks the chain at the real time: the certificate was issued "in 2027".
    X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(store),
                               static_cast<time_t>(1'800'000'000 + 60));
    EXPECT_EQ(TS_RESP_verify_response(verify.get(), response.get()), 1);

    EXPECT_EQ((*tsa)->Respond("junk").error().code, ErrorCode::kMalformed);
}

}  // namespace
}  // namespace firmo::crypto
