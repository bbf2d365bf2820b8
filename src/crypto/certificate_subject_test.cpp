// The built-in CA's subject for a signer whose identity no eID proved (issue 14): name, e-mail
// address (subjectAltName) and phone (telephoneNumber), and no serialNumber or country. The
// choice of what to name is the domain's (domain/certificate_subject.hpp); this checks that the
// CA writes exactly what it is given.

#include <gtest/gtest.h>
#include <openssl/x509v3.h>

#include "core/testing/temp_dir.hpp"
#include "crypto/certificate_authority.hpp"
#include "crypto/openssl_util.hpp"

namespace firmo::crypto {
namespace {

TEST(CaSubject, AnUnprovenSignerIsNamedByNameEmailAndPhoneOnly) {
    firmo::testing::TempDir dir("firmo-ca-subject");
    ManualClock clock{Timestamp(std::chrono::milliseconds(1'800'000'000'000))};
    SeededRandom random{11};
    auto ca = CertificateAuthority::Create(dir.path() / "ca", {}, "", clock, random);
    ASSERT_TRUE(ca) << ca.error().message;
    auto key = GenerateKey(KeyType::kEcdsaP256);
    ASSERT_TRUE(key);
    const domain::SignerIdentity unproven{
        .full_name = "Mario Rossi", .email = "mario@example.org", .phone = "+393331234567"};
    auto cert = ca->Issue(unproven, key->get(), clock, random);
    ASSERT_TRUE(cert) << cert.error().message;
    const X509_NAME* subject = X509_get_subject_name(cert->get());
    EXPECT_EQ(NameEntry(subject, NID_commonName), "Mario Rossi");
    EXPECT_EQ(NameEntry(subject, NID_telephoneNumber), "+393331234567");
    EXPECT_EQ(X509_NAME_get_index_by_NID(subject, NID_serialNumber, -1), -1);
    EXPECT_EQ(X509_NAME_get_index_by_NID(subject, NID_countryName, -1), -1);
    EXPECT_EQ(X509_NAME_entry_count(subject), 2);
    GENERAL_NAMES* san = static_cast<GENERAL_NAMES*>(
        X509_get_ext_d2i(cert->get(), NID_subject_alt_name, nullptr, nullptr));
    ASSERT_NE(san, nullptr);
    ASSERT_EQ(sk_GENERAL_NAME_num(san), 1);
    const GENERAL_NAME* email = sk_GENERAL_NAME_value(san, 0);
    ASSERT_EQ(email->type, GEN_EMAIL);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(email->d.rfc822Name)),
                          static_cast<std::size_t>(ASN1_STRING_length(email->d.rfc822Name))),
              "mario@example.org");
    GENERAL_NAMES_free(san);

    // Proven: the identifier and the country as well.
    domain::SignerIdentity proven = unproven;
    proven.serial_number = "TINIT-RSSMRA80A01H501U";
    proven.country = "IT";
    auto named = ca->Issue(proven, key->get(), clock, random);
    ASSERT_TRUE(named) << named.error().message;
    const X509_NAME* full = X509_get_subject_name(named->get());
    EXPECT_EQ(NameEntry(full, NID_serialNumber), "TINIT-RSSMRA80A01H501U");
    EXPECT_EQ(NameEntry(full, NID_countryName), "IT");
}

}  // namespace
}  // namespace firmo::crypto
