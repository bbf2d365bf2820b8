// The staged pipeline (prepare -> signer -> embed, with the prepared state serialised in
// between) and the post-sign stage (B-LT and B-LTA), checked by pdfsig, `openssl ocsp`,
// `openssl ts -verify` and Firmo's verifier.

#include "pdf/long_term_signer.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <qpdf/QPDF.hh>

#include "crypto/builtin_tsa.hpp"
#include "crypto/key_hash_signer.hpp"
#include "pdf/testing/signing_fixture.hpp"
#include "pdf/verify.hpp"

namespace firmo::pdf {
namespace {

namespace fs = std::filesystem;
using testing::At;
using testing::Person;
using testing::Quote;
using testing::ReadFile;
using testing::RunCommand;

class LongTermTest : public testing::SigningTest {
  protected:
    fs::path CaPem() const {
        return crypto::CertificateAuthority::CertificatePath(shared_->dir.path());
    }

    // A signer with a key of its own and a certificate from the suite's CA.
    std::unique_ptr<crypto::KeyHashSigner> KeySigner(const std::string& name) {
        auto key = crypto::GenerateKey(crypto::KeyType::kEcdsaP256);
        EXPECT_TRUE(key);
        auto cert = shared_->ca->Issue(Person(name, "RSSMRA80A01H501U"), key->get(), shared_->clock,
                                       shared_->random);
        EXPECT_TRUE(cert);
        std::vector<crypto::X509Ptr> chain;
        chain.emplace_back(X509_dup(shared_->ca->certificate()));
        auto signer =
            crypto::KeyHashSigner::Create(std::move(*key), std::move(*cert), std::move(chain));
        EXPECT_TRUE(signer) << signer.error().message;
        return std::move(*signer);
    }

    std::shared_ptr<crypto::BuiltinTsa> Tsa() {
        auto tsa = crypto::BuiltinTsa::LoadOrCreate(dir_ / "tsa-data", *shared_->ca, "pw",
                                                    shared_->clock, shared_->random);
        EXPECT_TRUE(tsa) << tsa.error().message;
        return *tsa;
    }

    // The built-in CA answered in process, as the server wires it; `revoked` serials are
    // reported revoked.
    crypto::ValidationDataCollector Collector(std::vector<std::string> revoked = {}) {
        crypto::ValidationDataOptions o;
        auto ca = shared_->ca;
        const Clock& clock = shared_->clock;
        o.local.certificate = ca->certificate();
        o.local.ocsp = [ca, &clock, revoked](std::string_view request) {
            return ca->AnswerOcsp(
                request,
                [&](const std::string& serial) -> Result<std::optional<domain::Revocation>> {
                    if (std::find(revoked.begin(), revoked.end(), serial) == revoked.end()) {
                        return std::optional<domain::Revocation>();
                    }
                    return std::optional<domain::Revocation>(domain::Revocation{
                        .serial = serial, .revoked_at = clock.Now(), .reason = 1});
                },
                clock.Now(), std::chrono::hours(1));
        };
        o.local.crl = [ca, &clock] { return ca->Crl({}, clock.Now(), std::chrono::hours(24)); };
        return crypto::ValidationDataCollector(o);
    }

    // Signs `in` B-T with a built-in trust service session, then runs the post-sign stage.
    void SignLta(const fs::path& in, const fs::path& out, const std::string& name, double y,
                 std::shared_ptr<crypto::TimestampAuthority> tsa,
                 const crypto::ValidationDataCollector& collector) {
        LongTermSigner lta(signer_, SignatureLevel::kLta, collector, tsa, shared_->random);
        crypto::TimestampingSession session(Session(name, "RSSMRA80A01H501U"), tsa,
                                            shared_->random);
        const fs::path signed_path = dir_ / (out.filename().string() + ".bt.pdf");
        ASSERT_TRUE(lta.SignFile(in, signed_path, At(0, 50, y, 200, 40), Details(name), session));
        auto added = lta.AddLongTermProof(signed_path, out);
        ASSERT_TRUE(added) << added.error().message;
        EXPECT_TRUE(*added);
    }
};

TEST_F(LongTermTest, PreparedSignatureSurvivesSerialisationAndEmbedsLater) {
    fs::path in = Ghostscript("staged.pdf", 1);
    auto signer = KeySigner("Mario Rossi");
    auto credential = signer->Credential();
    ASSERT_TRUE(credential);
    // Request 1: prepare, keep the state as text.
    std::string stored;
    {
        auto prepared =
            signer_.Prepare(in, At(0, 50, 50, 200, 50), Details("Mario Rossi"), *credential);
        ASSERT_TRUE(prepared) << prepared.error().message;
        stored = prepared->Serialize();
    }
    EXPECT_THAT(stored, ::testing::Not(::testing::HasSubstr("%PDF")));
    // Request 2, later: the signer signs the digest, the file is embedded.
    auto prepared = PreparedSignature::Parse(stored);
    ASSERT_TRUE(prepared) << prepared.error().message;
    auto value = signer->SignHash(prepared->DigestToSign());
    ASSERT_TRUE(value);
    auto outcome = signer_.Embed(in, dir_ / "staged-signed.pdf", *prepared, *value);
    ASSERT_TRUE(outcome) << outcome.error().message;
    auto report = testing::Pdfsig(shared_->dir / "nss", dir_ / "staged-signed.pdf");
    EXPECT_EQ(report.valid, 1) << report.output;
    EXPECT_EQ(report.trusted, 1) << report.output;
    EXPECT_EQ(report.total, 1) << report.output;

    // Another file, or a changed one, is refused rather than given a signature that lies.
    fs::path other = Ghostscript("other.pdf", 2);
    auto refused = signer_.Embed(other, dir_ / "x.pdf", *prepared, *value);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, ErrorCode::kConflict);
    std::string bytes = ReadFile(in);
    bytes[bytes.size() / 2] ^= 1;
    testing::WriteFile(dir_ / "changed.pdf", bytes);
    refused = signer_.Embed(dir_ / "changed.pdf", dir_ / "x.pdf", *prepared, *value);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, ErrorCode::kConflict);
    EXPECT_FALSE(fs::exists(dir_ / "x.pdf"));
    EXPECT_FALSE(fs::exists(dir_ / "x.pdf.partial"));

    EXPECT_FALSE(PreparedSignature::Parse("{}"));
    EXPECT_FALSE(PreparedSignature::Parse("not json"));
}

TEST_F(LongTermTest, SignWithHashSignerAddsSignatureTimestamp) {
    fs::path in = Ghostscript("hash-signer.pdf", 1);
    auto signer = KeySigner("Mario Rossi");
    auto tsa = Tsa();
    auto outcome = signer_.Sign(in, dir_ / "bt.pdf", At(0, 50, 50, 200, 50), Details("Mario Rossi"),
                                *signer, {.tsa = tsa.get(), .random = &shared_->random});
    ASSERT_TRUE(outcome) << outcome.error().message;
    auto anchors = crypto::TrustAnchors::FromFiles({CaPem()});
    ASSERT_TRUE(anchors);
    auto report = VerifyPdfFile(dir_ / "bt.pdf", *anchors);
    ASSERT_TRUE(report) << report.error().message;
    ASSERT_EQ(report->signatures.size(), 1u);
    EXPECT_TRUE(report->signatures[0].is_valid())
        << ::testing::PrintToString(report->signatures[0].problems);
    auto pdfsig = testing::Pdfsig(shared_->dir / "nss", dir_ / "bt.pdf");
    EXPECT_EQ(pdfsig.valid, 1) << pdfsig.output;
}

void ExpectNothingInvalid(const std::string& pdfsig_output) {
    EXPECT_THAT(pdfsig_output, ::testing::Not(::testing::HasSubstr("Invalid"))) << pdfsig_output;
    EXPECT_THAT(pdfsig_output, ::testing::Not(::testing::HasSubstr("Mismatch"))) << pdfsig_output;
    EXPECT_THAT(pdfsig_output, ::testing::Not(::testing::HasSubstr("Not Trusted")))
        << pdfsig_output;
}

// Reads the DSS and the last signature field's byte ranges and /Contents of a PDF.
struct Written {
    std::vector<std::string> certs, ocsps, crls;
    std::string last_contents;
    std::string last_signed_bytes;
    std::string last_subfilter;
};

Written ReadWritten(const fs::path& path) {
    Written w;
    QPDF pdf;
    pdf.processFile(path.c_str());
    QPDFObjectHandle dss = pdf.getRoot().getKey("/DSS");
    const auto streams = [&](const char* key, std::vector<std::string>& out) {
        QPDFObjectHandle array = dss.getKeyIfDict(key);
        if (!array.isArray()) return;
        for (auto& s : array.aitems()) {
            auto data = s.getRawStreamData();
            out.emplace_back(reinterpret_cast<const char*>(data->getBuffer()), data->getSize());
        }
    };
    streams("/Certs", w.certs);
    streams("/OCSPs", w.ocsps);
    streams("/CRLs", w.crls);
    QPDFObjectHandle fields = pdf.getRoot().getKey("/AcroForm").getKey("/Fields");
    QPDFObjectHandle last = fields.getArrayItem(fields.getArrayNItems() - 1).getKey("/V");
    w.last_contents = last.getKey("/Contents").getStringValue();
    w.last_subfilter = last.getKey("/SubFilter").getName();
    QPDFObjectHandle range = last.getKey("/ByteRange");
    std::string file = ReadFile(path);
    w.last_signed_bytes =
        file.substr(0, static_cast<std::size_t>(range.getArrayItem(1).getIntValue())) +
        file.substr(static_cast<std::size_t>(range.getArrayItem(2).getIntValue()),
                    static_cast<std::size_t>(range.getArrayItem(3).getIntValue()));
    return w;
}

TEST_F(LongTermTest, PostSignMakesLtaThatOpensslPdfsigAndFirmoAccept) {
    auto tsa = Tsa();
    auto collector = Collector();
    fs::path in = Ghostscript("lta-in.pdf", 1);
    SignLta(in, dir_ / "lta.pdf", "Mario Rossi", 50, tsa, collector);

    auto pdfsig = testing::Pdfsig(shared_->dir / "nss", dir_ / "lta.pdf");
    // The signature and the document time-stamp, which poppler 22.12 lists but does not check
    // ("Unable to validate this type of signature"): openssl does, below.
    EXPECT_EQ(pdfsig.signatures, 2) << pdfsig.output;
    EXPECT_EQ(pdfsig.valid, 1) << pdfsig.output;
    EXPECT_EQ(pdfsig.trusted, 1) << pdfsig.output;
    EXPECT_EQ(pdfsig.total, 1) << pdfsig.output;
    ExpectNothingInvalid(pdfsig.output);
    std::string log;
    EXPECT_EQ(RunCommand("qpdf --check " + Quote(dir_ / "lta.pdf"), &log), 0) << log;

    Written w = ReadWritten(dir_ / "lta.pdf");
    EXPECT_EQ(w.certs.size(), 3u);  // signer, CA, TSA
    EXPECT_EQ(w.ocsps.size(), 2u);  // signer, TSA
    EXPECT_EQ(w.crls.size(), 1u);
    for (std::size_t i = 0; i < w.ocsps.size(); ++i) {
        const fs::path f = dir_ / ("ocsp" + std::to_string(i) + ".der");
        testing::WriteFile(f, w.ocsps[i]);
        EXPECT_EQ(RunCommand("openssl ocsp -respin " + Quote(f) + " -issuer " + Quote(CaPem()) +
                                 " -CAfile " + Quote(CaPem()) + " -resp_text 2>&1",
                             &log),
                  0)
            << log;
        EXPECT_THAT(log, ::testing::HasSubstr("Response verify OK")) << log;
        EXPECT_THAT(log, ::testing::HasSubstr("Cert Status: good")) << log;
    }
    // The document time-stamp: an RFC 3161 token over the file's byte ranges.
    EXPECT_EQ(w.last_subfilter, "/ETSI.RFC3161");
    testing::WriteFile(dir_ / "doc-ts.der", w.last_contents);
    testing::WriteFile(dir_ / "doc-ts.data", w.last_signed_bytes);
    EXPECT_EQ(
        RunCommand("openssl ts -verify -token_in -in " + Quote(dir_ / "doc-ts.der") + " -data " +
                       Quote(dir_ / "doc-ts.data") + " -CAfile " + Quote(CaPem()) + " 2>&1",
                   &log),
        0)
        << log;
    EXPECT_THAT(log, ::testing::HasSubstr("Verification: OK")) << log;

    auto anchors = crypto::TrustAnchors::FromFiles({CaPem()});
    ASSERT_TRUE(anchors);
    auto report = VerifyPdfFile(dir_ / "lta.pdf", *anchors);
    ASSERT_TRUE(report) << report.error().message;
    ASSERT_EQ(report->signatures.size(), 2u);
    for (const auto& s : report->signatures) {
        EXPECT_TRUE(s.is_valid()) << ::testing::PrintToString(s.problems);
    }
    EXPECT_EQ(report->signatures[0].modification_level, ModificationLevel::kLtaUpdates);
}

TEST_F(LongTermTest, ASecondSignerKeepsEverySignatureValidAndAddsOnlyWhatIsNew) {
    auto tsa = Tsa();
    auto collector = Collector();
    fs::path in = Ghostscript("two-in.pdf", 1);
    SignLta(in, dir_ / "first.pdf", "Mario Rossi", 50, tsa, collector);
    SignLta(dir_ / "first.pdf", dir_ / "second.pdf", "Anna Bianchi", 150, tsa, collector);

    auto pdfsig = testing::Pdfsig(shared_->dir / "nss", dir_ / "second.pdf");
    EXPECT_EQ(pdfsig.signatures, 4) << pdfsig.output;
    EXPECT_EQ(pdfsig.valid, 2) << pdfsig.output;
    EXPECT_EQ(pdfsig.trusted, 2) << pdfsig.output;
    ExpectNothingInvalid(pdfsig.output);
    EXPECT_EQ(pdfsig.total, 1) << pdfsig.output;
    Written w = ReadWritten(dir_ / "second.pdf");
    EXPECT_EQ(w.certs.size(), 4u);  // two signers, CA, TSA: none twice
    EXPECT_EQ(w.ocsps.size(), 3u);  // two signers, TSA

    auto anchors = crypto::TrustAnchors::FromFiles({CaPem()});
    ASSERT_TRUE(anchors);
    auto report = VerifyPdfFile(dir_ / "second.pdf", *anchors);
    ASSERT_TRUE(report) << report.error().message;
    ASSERT_EQ(report->signatures.size(), 4u);
    for (const auto& s : report->signatures) {
        EXPECT_TRUE(s.is_valid()) << ::testing::PrintToString(s.problems);
    }
}

TEST_F(LongTermTest, LevelsBelowLtAddNothingAndUnprovableStatusFails) {
    auto tsa = Tsa();
    auto collector = Collector();
    LongTermSigner bt(signer_, SignatureLevel::kT, collector, tsa, shared_->random);
    fs::path in = Ghostscript("bt-in.pdf", 1);
    auto added = bt.AddLongTermProof(in, dir_ / "never.pdf");
    ASSERT_TRUE(added);
    EXPECT_FALSE(*added);
    EXPECT_FALSE(fs::exists(dir_ / "never.pdf"));

    // A signer certificate from a CA that is not ours and names no OCSP responder or CRL.
    crypto::ValidationDataCollector no_local({});
    LongTermSigner lta(signer_, SignatureLevel::kLta, no_local, tsa, shared_->random);
    auto session = Session("Mario Rossi", "RSSMRA80A01H501U");
    ASSERT_TRUE(lta.SignFile(in, dir_ / "bb.pdf", At(0, 50, 50, 200, 40), Details("Mario Rossi"),
                             *session));
    auto failed = lta.AddLongTermProof(dir_ / "bb.pdf", dir_ / "never.pdf");
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error().code, ErrorCode::kUnavailable);
    EXPECT_FALSE(fs::exists(dir_ / "never.pdf"));

    EXPECT_EQ(ParseSignatureLevel("B-LTA"), SignatureLevel::kLta);
    EXPECT_EQ(ParseSignatureLevel("b-b"), SignatureLevel::kB);
    EXPECT_FALSE(ParseSignatureLevel("lta"));
    EXPECT_EQ(ToString(SignatureLevel::kLt), "b-lt");
}

}  // namespace
}  // namespace firmo::pdf
