#pragma once
// Test-only: a GoogleTest fixture with one CA (and an NSS database trusting it, for pdfsig)
// per test suite, sessions for named signers, and helpers to make and sign documents.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/pem.h>

#include <memory>
#include <string>

#include "core/clock.hpp"
#include "core/random.hpp"
#include "crypto/builtin_trust_service.hpp"
#include "crypto/certificate_authority.hpp"
#include "pdf/inspect.hpp"
#include "pdf/pades_signer.hpp"
#include "pdf/testing/pdf_fixtures.hpp"

namespace firmo::pdf::testing {

namespace fs = std::filesystem;
using domain::FieldAtPosition;
using domain::FieldByName;
using domain::SignatureDetails;
using domain::SignatureField;

inline SignatureField ByName(std::string name) {
    return SignatureField{FieldByName{std::move(name)}, {"I accept the contract terms", {}}};
}

inline SignatureField At(int page, double x, double y, double w, double h) {
    return SignatureField{FieldAtPosition{page, x, y, w, h},
                          {"Clause 7: unfair terms, accepted", domain::ClauseType::kUnfair}};
}

inline domain::SignerIdentity Person(std::string name, std::string code) {
    return {.full_name = std::move(name),
            .given_name = "",
            .surname = "",
            .serial_number = "TINIT-" + std::move(code),
            .country = "IT",
            .email = ""};
}

// One CA and its NSS database for the whole suite: key generation and certutil are slow.
class SigningTest : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        shared_ = new Shared();
        // Without the tools every test skips in SetUp.
        if (!MissingTool({"qpdf", "gs", "pdfsig", "certutil", "pk12util", "openssl"}).empty()) {
            return;
        }
        auto ca = crypto::CertificateAuthority::Create(shared_->dir.path(), {}, "pw",
                                                       shared_->clock, shared_->random);
        ASSERT_TRUE(ca) << ca.error().message;
        shared_->ca = std::make_shared<const crypto::CertificateAuthority>(std::move(*ca));
        std::string log;
        ASSERT_TRUE(testing::MakeNssDb(
            shared_->dir / "nss",
            crypto::CertificateAuthority::CertificatePath(shared_->dir.path()), &log))
            << log;
    }
    void SetUp() override {
        FIRMO_REQUIRE_TOOLS("qpdf", "gs", "pdfsig", "certutil", "pk12util", "openssl");
    }
    static void TearDownTestSuite() {
        delete shared_;
        shared_ = nullptr;
    }

    std::unique_ptr<domain::SigningSession> Session(const std::string& name,
                                                    const std::string& code) {
        crypto::BuiltinTrustService trust(shared_->ca, shared_->clock, shared_->random);
        auto session = trust.OpenSession(Person(name, code));
        EXPECT_TRUE(session) << session.error().message;
        return std::move(*session);
    }

    SignatureDetails Details(const std::string& name) {
        SignatureDetails d;
        d.signer_name = name;
        d.signing_time = shared_->clock.Now();
        return d;
    }

    // Signs and checks what every output must satisfy: pdfsig (all signatures valid and
    // trusted, the last one covering the whole file), qpdf --check, and original bytes kept.
    SignOutcome SignAndCheck(const fs::path& in, const fs::path& out, const SignatureField& field,
                             const SignatureDetails& details, int expected_signatures) {
        auto session = Session(details.signer_name, "RSSMRA80A01H501U");
        auto outcome = signer_.Sign(in, out, field, details, *session);
        EXPECT_TRUE(outcome) << outcome.error().message;
        if (!outcome) return {};
        std::string original = ReadFile(in);
        std::string signed_pdf = ReadFile(out);
        EXPECT_EQ(signed_pdf.compare(0, original.size(), original), 0);
        EXPECT_EQ(outcome->byte_range[2] + outcome->byte_range[3], signed_pdf.size());

        auto report = testing::Pdfsig(shared_->dir / "nss", out);
        EXPECT_EQ(report.signatures, expected_signatures) << report.output;
        EXPECT_EQ(report.valid, expected_signatures) << report.output;
        EXPECT_EQ(report.trusted, expected_signatures) << report.output;
        EXPECT_GE(report.total, 1) << report.output;
        std::string log;
        EXPECT_EQ(RunCommand("qpdf --check " + Quote(out), &log), 0) << log;
        EXPECT_THAT(log, ::testing::Not(::testing::HasSubstr("WARNING"))) << log;
        return *outcome;
    }

    fs::path Write(const std::string& name, const std::string& bytes) {
        testing::WriteFile(dir_ / name, bytes);
        return dir_ / name;
    }

    fs::path Qpdf(const std::string& name, const std::string& pdf, const std::string& options) {
        fs::path in = Write(name + ".in.pdf", pdf);
        std::string log;
        EXPECT_EQ(RunCommand("qpdf " + options + " " + Quote(in) + " " + Quote(dir_ / name), &log),
                  0)
            << log;
        return dir_ / name;
    }

    fs::path Ghostscript(const std::string& name, int pages) {
        std::string log;
        EXPECT_EQ(
            RunCommand("gs -q -dSAFER -dNOPAUSE -dBATCH -sDEVICE=pdfwrite -sPAPERSIZE=a4 "
                       "-dFIXEDMEDIA -sOutputFile=" +
                           Quote(dir_ / name) + " -c '" + std::to_string(pages) +
                           " { /Helvetica findfont 20 scalefont setfont 72 700 moveto (Contract) "
                           "show showpage } repeat'",
                       &log),
            0)
            << log;
        return dir_ / name;
    }

    // A signature by another producer: pdfsig (NSS) signs `in` into `out`
    // (adbe.pkcs7.detached: poppler 22.12 cannot add ETSI ones), with a key issued by the
    // suite's CA and imported into a database of its own.
    bool SignWithPdfsig(const fs::path& in, const fs::path& out) {
        fs::path nss = dir_ / "nss-signer";
        std::string log;
        EXPECT_TRUE(testing::MakeNssDb(
            nss, crypto::CertificateAuthority::CertificatePath(shared_->dir.path()), &log))
            << log;
        // RSA: poppler 22.12 sizes its signature from a trial one and fails about half the time
        // with ECDSA, whose DER signatures vary in length.
        std::optional<crypto::PkeyPtr> key(crypto::PkeyPtr(EVP_RSA_gen(2048)));
        if (!*key) return false;
        auto cert = shared_->ca->Issue(Person("Other Tool", "VRDLGU70A01F205X"), key->get(),
                                       shared_->clock, shared_->random);
        if (!cert) return false;
        // A PKCS#12 for pk12util, written with the openssl command line.
        {
            crypto::BioPtr key_bio(BIO_new_file((dir_ / "k.pem").c_str(), "w"));
            EXPECT_EQ(PEM_write_bio_PrivateKey(key_bio.get(), key->get(), nullptr, nullptr, 0,
                                               nullptr, nullptr),
                      1);
        }
        testing::WriteFile(dir_ / "c.pem", crypto::CertificateToPem(cert->get()).value());
        EXPECT_EQ(RunCommand("openssl pkcs12 -export -inkey " + Quote(dir_ / "k.pem") + " -in " +
                                 Quote(dir_ / "c.pem") + " -name other -passout pass:x -out " +
                                 Quote(dir_ / "k.p12"),
                             &log),
                  0)
            << log;
        EXPECT_EQ(RunCommand("pk12util -i " + Quote(dir_ / "k.p12") + " -d " +
                                 Quote("sql:" + nss.string()) + " -W x",
                             &log),
                  0)
            << log;
        EXPECT_EQ(RunCommand("pdfsig -nssdir " + Quote("sql:" + nss.string()) +
                                 " -add-signature -nick other " + Quote(in) + " " + Quote(out),
                             &log),
                  0)
            << log;
        return ::testing::Test::HasFailure() == false;
    }

    struct Shared {
        TempDir dir;
        SystemClock clock;
        SystemRandom random;
        std::shared_ptr<const crypto::CertificateAuthority> ca;
    };
    inline static Shared* shared_ = nullptr;
    TempDir dir_;
    PadesSigner signer_;
};

}  // namespace firmo::pdf::testing
