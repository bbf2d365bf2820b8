#include "pdf/verify.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/ocsp.h>

#include <map>
#include <qpdf/QPDF.hh>

#include "crypto/testing/openssl_tsa.hpp"
#include "crypto/timestamp.hpp"
#include "pdf/testing/signing_fixture.hpp"

namespace firmo::pdf {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using testing::At;
using ::testing::Contains;
using ::testing::HasSubstr;
using testing::ReadFile;

// Appends a hand-written incremental update (objects by number) to a file whose last
// cross-reference section is a classic table, reusing that trailer's /Root and /Size.
std::string AppendUpdate(const std::string& pdf, const std::map<int, std::string>& objects) {
    std::string out = pdf;
    std::size_t prev = std::stoul(pdf.substr(pdf.rfind("startxref") + 10));
    std::string trailer = pdf.substr(pdf.rfind("trailer"));
    auto root_at = trailer.find("/Root");
    std::string root = trailer.substr(root_at, trailer.find(" R", root_at) + 2 - root_at);
    int size = std::stoi(trailer.substr(trailer.find("/Size") + 6));
    std::string xref = "xref\n";
    std::map<int, std::size_t> offsets;
    for (const auto& [num, body] : objects) {
        offsets[num] = out.size();
        out += std::to_string(num) + " 0 obj\n" + body + "\nendobj\n";
        size = std::max(size, num + 1);
    }
    std::size_t xref_at = out.size();
    for (const auto& [num, offset] : offsets) {
        char line[40];
        std::snprintf(line, sizeof line, "%d 1\n%010zu 00000 n \n", num, offset);
        xref += line;
    }
    out += xref + "trailer\n<< /Size " + std::to_string(size) + " " + root + " /Prev " +
           std::to_string(prev) + " >>\nstartxref\n" + std::to_string(xref_at) + "\n%%EOF\n";
    return out;
}

class VerifyTest : public testing::SigningTest {
  protected:
    crypto::TrustAnchors Anchors() {
        auto pem = shared_->ca->CertificatePem();
        return crypto::TrustAnchors::FromPem(*pem).value();
    }

    // Three signers on a Ghostscript document; returns the final file.
    fs::path ThreeSignatures() {
        fs::path in = Ghostscript("doc.pdf", 2);
        auto session = Session("Mario Rossi", "RSSMRA80A01H501U");
        EXPECT_TRUE(signer_.Sign(in, dir_ / "s1.pdf", At(1, 40, 700, 160, 50),
                                 Details("Mario Rossi"), *session));
        session = Session("Anna Bianchi", "BNCNNA85B41F205Y");
        EXPECT_TRUE(signer_.Sign(dir_ / "s1.pdf", dir_ / "s2.pdf", At(1, 220, 700, 160, 50),
                                 Details("Anna Bianchi"), *session));
        session = Session("Kari Nordmann", "X");
        EXPECT_TRUE(signer_.Sign(dir_ / "s2.pdf", dir_ / "s3.pdf", At(1, 400, 700, 160, 50),
                                 Details("Kari Nordmann"), *session));
        return dir_ / "s3.pdf";
    }
};

TEST_F(VerifyTest, ReportsEverySignatureOfAMultiSignerDocument) {
    fs::path pdf = ThreeSignatures();
    auto report = VerifyPdfFile(pdf, Anchors());
    ASSERT_TRUE(report) << report.error().message;
    EXPECT_TRUE(report->all_valid());
    ASSERT_EQ(report->signatures.size(), 3u);
    const auto& first = report->signatures[0];
    EXPECT_EQ(first.signer_name, "Mario Rossi");
    EXPECT_EQ(first.signer_serial_number, "TINIT-RSSMRA80A01H501U");
    EXPECT_EQ(first.sub_filter, "ETSI.CAdES.detached");
    EXPECT_EQ(first.reason, "Clause 7: unfair terms, accepted");
    ASSERT_TRUE(first.signing_time);
    EXPECT_LT(std::chrono::abs(*first.signing_time - SystemClock().Now()), std::chrono::minutes(5));
    for (const auto& s : report->signatures) {
        EXPECT_TRUE(s.is_valid()) << s.field_name << ": " << ::testing::PrintToString(s.problems);
        EXPECT_TRUE(s.digest_matches && s.signature_valid && s.chain_trusted && s.covers_revision);
        EXPECT_FALSE(s.modified_after);
    }
    EXPECT_FALSE(report->signatures[0].covers_whole_file);
    EXPECT_TRUE(report->signatures[2].covers_whole_file);
    EXPECT_EQ(report->signatures[2].signer_name, "Kari Nordmann");

    VerifyOptions two;
    two.max_signatures = 2;
    auto capped = VerifyPdfFile(pdf, Anchors(), two);
    ASSERT_TRUE(capped);
    EXPECT_EQ(capped->signatures.size(), 2u);
    EXPECT_FALSE(capped->all_valid());
    EXPECT_THAT(capped->problems,
                Contains("the document has more than 2 signatures; the rest were not verified"));
}

TEST_F(VerifyTest, ExistingFieldsXrefStreamsAndRotatedPages) {
    testing::PdfSpec spec;
    spec.pages = {{}, {}};
    spec.fields.push_back({.name = "Signature1", .page = 1, .rect = {50, 60, 250, 110}});
    spec.fields.push_back({.name = "sig2", .parent = "form", .page = 0});
    struct Case {
        std::string name;
        std::string qpdf_options;
    };
    for (const Case& c : {Case{"table", ""}, Case{"objstm", "--object-streams=generate"},
                          Case{"rotated", "--rotate=+90"}}) {
        fs::path in = Qpdf(c.name + ".pdf", testing::MakePdf(spec), c.qpdf_options);
        auto session = Session("Mario Rossi", "RSSMRA80A01H501U");
        ASSERT_TRUE(signer_.Sign(in, dir_ / (c.name + "-1.pdf"), testing::ByName("Signature1"),
                                 Details("Mario Rossi"), *session));
        ASSERT_TRUE(signer_.Sign(dir_ / (c.name + "-1.pdf"), dir_ / (c.name + "-2.pdf"),
                                 testing::ByName("form.sig2"), Details("Mario Rossi"), *session));
        ASSERT_TRUE(signer_.Sign(dir_ / (c.name + "-2.pdf"), dir_ / (c.name + "-3.pdf"),
                                 At(0, 300, 300, 100, 40), Details("Mario Rossi"), *session));
        auto report = VerifyPdfFile(dir_ / (c.name + "-3.pdf"), Anchors());
        ASSERT_TRUE(report) << report.error().message;
        EXPECT_EQ(report->signatures.size(), 3u) << c.name;
        EXPECT_TRUE(report->all_valid()) << c.name;
        for (const auto& sig : report->signatures) {
            EXPECT_TRUE(sig.is_valid()) << c.name << " " << sig.field_name << ": "
                                        << ::testing::PrintToString(sig.problems);
        }
    }
}

TEST_F(VerifyTest, AFlippedByteBreaksEverySignature) {
    std::string pdf = ReadFile(ThreeSignatures());
    // Ghostscript compresses page content; its /Producer string in the original is plain.
    auto at = pdf.find("Ghostscript");
    ASSERT_NE(at, std::string::npos);
    pdf[at] = 'K';
    auto report = VerifyPdfBytes(pdf, Anchors());
    ASSERT_TRUE(report) << report.error().message;
    EXPECT_FALSE(report->all_valid());
    for (const auto& s : report->signatures) {
        EXPECT_FALSE(s.digest_matches);
        EXPECT_THAT(s.problems, Contains("the document's digest does not match the signed digest"));
    }
}

TEST_F(VerifyTest, AnAppendedUpdateIsReported) {
    std::string pdf = ReadFile(ThreeSignatures());
    auto before = VerifyPdfBytes(pdf, Anchors());
    ASSERT_TRUE(before);
    // Page 0 of the Ghostscript file gets new content in a later, unsigned revision.
    auto info = InspectPdfBytes(pdf);
    ASSERT_TRUE(info);
    QPDF q;
    q.processMemoryFile("x", pdf.data(), pdf.size());
    auto page = q.getAllPages().at(0);
    std::string page_dict = page.unparseResolved();
    int page_num = page.getObjectID();
    int content_num = static_cast<int>(q.getObjectCount()) + 10;
    page_dict.replace(page_dict.find("/Contents"), 9,
                      "/Contents " + std::to_string(content_num) + " 0 R /OldContents");
    std::string content = "BT /F1 30 Tf 100 100 Td (PAID) Tj ET";
    std::string tampered =
        AppendUpdate(pdf, {{page_num, page_dict},
                           {content_num, "<< /Length " + std::to_string(content.size()) +
                                             " >>\nstream\n" + content + "\nendstream"}});
    std::string log;
    auto report = VerifyPdfBytes(tampered, Anchors());
    ASSERT_TRUE(report) << report.error().message;
    EXPECT_FALSE(report->all_valid());
    for (const auto& s : report->signatures) {
        EXPECT_TRUE(s.digest_matches);  // the signed bytes are intact...
        EXPECT_TRUE(s.modified_after);  // ...but the document shown is not what was signed
        EXPECT_THAT(s.changes_after, Contains("page 0: /Contents: its data was changed"));
        EXPECT_EQ(s.modification_level, ModificationLevel::kOther);
        EXPECT_FALSE(s.covers_whole_file);
    }
}

TEST_F(VerifyTest, AppendedBytesAreReported) {
    std::string pdf = ReadFile(ThreeSignatures());
    auto clean = VerifyPdfBytes(pdf + "\n\n", Anchors());  // trailing blank lines are harmless
    ASSERT_TRUE(clean);
    EXPECT_TRUE(clean->all_valid());
    auto report = VerifyPdfBytes(pdf + "PAID IN FULL\n", Anchors());
    ASSERT_TRUE(report);
    EXPECT_FALSE(report->all_valid());
    EXPECT_THAT(report->problems, Contains("13 bytes were appended after the last revision"));
}

TEST_F(VerifyTest, AddedAnnotationAfterSigningIsReported) {
    std::string pdf = ReadFile(ThreeSignatures());
    QPDF q;
    q.processMemoryFile("x", pdf.data(), pdf.size());
    auto page = q.getAllPages().at(1);
    std::string annots = page.getKey("/Annots").unparse();
    int note = static_cast<int>(q.getObjectCount()) + 5;
    annots.insert(annots.size() - 1, " " + std::to_string(note) + " 0 R");
    std::string page_dict = page.unparseResolved();
    auto annots_at = page_dict.find("/Annots");
    auto annots_end = page_dict.find(']', annots_at);
    page_dict.replace(annots_at, annots_end + 1 - annots_at, "/Annots " + annots);
    std::string tampered = AppendUpdate(
        pdf, {{page.getObjectID(), page_dict},
              {note,
               "<< /Type /Annot /Subtype /FreeText /Rect [10 10 200 40] /Contents (VOID) "
               "/DA (/Helv 12 Tf 0 g) >>"}});
    auto report = VerifyPdfBytes(tampered, Anchors());
    ASSERT_TRUE(report) << report.error().message;
    EXPECT_THAT(report->signatures.back().changes_after,
                Contains("page 1: a FreeText annotation was added"));
    EXPECT_EQ(report->signatures.back().modification_level, ModificationLevel::kAnnotations);
}

TEST_F(VerifyTest, UntrustedSignerAndUnsignedDocuments) {
    fs::path pdf = ThreeSignatures();
    auto report = VerifyPdfFile(pdf, crypto::TrustAnchors());
    ASSERT_TRUE(report);
    EXPECT_FALSE(report->all_valid());
    for (const auto& s : report->signatures) {
        EXPECT_TRUE(s.digest_matches);
        EXPECT_FALSE(s.chain_trusted);
    }
    auto unsigned_report = VerifyPdfFile(dir_ / "doc.pdf", Anchors());
    ASSERT_TRUE(unsigned_report);
    EXPECT_FALSE(unsigned_report->all_valid());
    EXPECT_THAT(unsigned_report->problems, Contains("the document has no signatures"));
    EXPECT_EQ(VerifyPdfBytes("garbage", Anchors()).error().code, ErrorCode::kMalformed);
}

TEST_F(VerifyTest, SignatureByAnotherProducerThenOurs) {
    fs::path in = Ghostscript("other.pdf", 1);
    ASSERT_TRUE(SignWithPdfsig(in, dir_ / "pdfsig.pdf"));
    auto session = Session("Mario Rossi", "RSSMRA80A01H501U");
    ASSERT_TRUE(signer_.Sign(dir_ / "pdfsig.pdf", dir_ / "both.pdf", At(0, 300, 700, 200, 60),
                             Details("Mario Rossi"), *session));
    auto report = VerifyPdfFile(dir_ / "both.pdf", Anchors());
    ASSERT_TRUE(report) << report.error().message;
    ASSERT_EQ(report->signatures.size(), 2u);
    EXPECT_EQ(report->signatures[0].sub_filter, "adbe.pkcs7.detached");
    EXPECT_EQ(report->signatures[0].signer_name, "Other Tool");
    for (const auto& s : report->signatures) {
        EXPECT_TRUE(s.is_valid()) << s.field_name << ": " << ::testing::PrintToString(s.problems);
    }
}

TEST_F(VerifyTest, OursThenAnotherProducer) {
    fs::path in = Ghostscript("first.pdf", 1);
    auto session = Session("Mario Rossi", "RSSMRA80A01H501U");
    ASSERT_TRUE(signer_.Sign(in, dir_ / "ours.pdf", At(0, 300, 700, 200, 60),
                             Details("Mario Rossi"), *session));
    ASSERT_TRUE(SignWithPdfsig(dir_ / "ours.pdf", dir_ / "then-pdfsig.pdf"));
    auto report = VerifyPdfFile(dir_ / "then-pdfsig.pdf", Anchors());
    ASSERT_TRUE(report) << report.error().message;
    ASSERT_EQ(report->signatures.size(), 2u);
    EXPECT_EQ(report->signatures[0].signer_name, "Mario Rossi");
    for (const auto& s : report->signatures) {
        EXPECT_TRUE(s.is_valid()) << s.field_name << ": " << ::testing::PrintToString(s.problems);
    }
}

TEST_F(VerifyTest, TimestampedSignaturesArePadesBT) {
    fs::create_directories(dir_ / "tsa");
    auto tsa = std::make_shared<crypto::testing::OpensslTsa>(dir_ / "tsa");
    ASSERT_TRUE(tsa->ok());
    crypto::TimestampingSession session(Session("Mario Rossi", "RSSMRA80A01H501U"), tsa,
                                        shared_->random);
    fs::path in = Ghostscript("ts.pdf", 1);
    auto outcome =
        signer_.Sign(in, dir_ / "bt.pdf", At(0, 50, 50, 200, 50), Details("Mario Rossi"), session);
    ASSERT_TRUE(outcome) << outcome.error().message;
    auto pdfsig = testing::Pdfsig(shared_->dir / "nss", dir_ / "bt.pdf");
    EXPECT_EQ(pdfsig.valid, 1) << pdfsig.output;
    EXPECT_EQ(pdfsig.trusted, 1) << pdfsig.output;

    auto anchors = crypto::TrustAnchors::FromFiles(
        {crypto::CertificateAuthority::CertificatePath(shared_->dir.path()), tsa->certificate()});
    ASSERT_TRUE(anchors);
    auto report = VerifyPdfFile(dir_ / "bt.pdf", *anchors);
    ASSERT_TRUE(report) << report.error().message;
    ASSERT_EQ(report->signatures.size(), 1u);
    const auto& s = report->signatures[0];
    EXPECT_TRUE(s.is_valid()) << ::testing::PrintToString(s.problems);
    EXPECT_TRUE(s.timestamped && s.timestamp_valid);
    ASSERT_TRUE(s.timestamp_time);
    EXPECT_LT(std::chrono::abs(*s.timestamp_time - SystemClock().Now()), std::chrono::minutes(5));
}

// PAdES B-LTA's archive time-stamp: a document time-stamp added by incremental update after a
// B-T signature leaves that signature valid (an LTA update) and verifies itself.
TEST_F(VerifyTest, DocumentTimestampAfterASignatureIsAnLtaUpdate) {
    fs::create_directories(dir_ / "tsa");
    auto tsa = std::make_shared<crypto::testing::OpensslTsa>(dir_ / "tsa");
    ASSERT_TRUE(tsa->ok());
    crypto::TimestampingSession session(Session("Mario Rossi", "RSSMRA80A01H501U"), tsa,
                                        shared_->random);
    fs::path in = Ghostscript("lta.pdf", 1);
    ASSERT_TRUE(
        signer_.Sign(in, dir_ / "bt.pdf", At(0, 50, 50, 200, 50), Details("Mario Rossi"), session));
    auto stamped =
        signer_.AddDocumentTimestamp(dir_ / "bt.pdf", dir_ / "lta.pdf", *tsa, shared_->random);
    ASSERT_TRUE(stamped) << stamped.error().message;
    EXPECT_EQ(stamped->field_name, "Signature2");
    auto pdfsig = testing::Pdfsig(shared_->dir / "nss", dir_ / "lta.pdf");
    EXPECT_GE(pdfsig.valid, 1) << pdfsig.output;  // the signature, still valid

    auto anchors = crypto::TrustAnchors::FromFiles(
        {crypto::CertificateAuthority::CertificatePath(shared_->dir.path()), tsa->certificate()});
    ASSERT_TRUE(anchors);
    auto report = VerifyPdfFile(dir_ / "lta.pdf", *anchors);
    ASSERT_TRUE(report) << report.error().message;
    ASSERT_EQ(report->signatures.size(), 2u);
    const auto& signature = report->signatures[0];
    EXPECT_TRUE(signature.is_valid()) << ::testing::PrintToString(signature.problems);
    EXPECT_EQ(signature.modification_level, ModificationLevel::kLtaUpdates);
    const auto& archive = report->signatures[1];
    EXPECT_TRUE(archive.is_document_timestamp);
    EXPECT_TRUE(archive.is_valid()) << ::testing::PrintToString(archive.problems);
    EXPECT_TRUE(archive.covers_whole_file);
}

// PAdES B-LT then B-LTA: a DSS update (certificates, an OCSP response, a CRL) and then a
// document time-stamp after a B-T signature; the signature stays valid through both updates.
TEST_F(VerifyTest, DssAndDocumentTimestampAreLtaUpdates) {
    fs::create_directories(dir_ / "tsa");
    auto tsa = std::make_shared<crypto::testing::OpensslTsa>(dir_ / "tsa");
    ASSERT_TRUE(tsa->ok());
    auto inner = Session("Mario Rossi", "RSSMRA80A01H501U");
    const std::string signer_der = inner->CertificateDer();
    crypto::TimestampingSession session(std::move(inner), tsa, shared_->random);
    fs::path in = Ghostscript("dss.pdf", 1);
    ASSERT_TRUE(
        signer_.Sign(in, dir_ / "bt.pdf", At(0, 50, 50, 200, 50), Details("Mario Rossi"), session));

    const crypto::CertificateAuthority& ca = *shared_->ca;
    auto signer_cert = crypto::CertificateFromDer(signer_der);
    ASSERT_TRUE(signer_cert);
    crypto::OpensslPtr<OCSP_REQUEST, OCSP_REQUEST_free> request(OCSP_REQUEST_new());
    OCSP_request_add0_id(request.get(),
                         OCSP_cert_to_id(EVP_sha1(), signer_cert->get(), ca.certificate()));
    auto request_der = crypto::ToDer(request.get(), i2d_OCSP_REQUEST, "request");
    auto ocsp = ca.AnswerOcsp(
        *request_der,
        [](const std::string&) -> Result<std::optional<domain::Revocation>> {
            return std::optional<domain::Revocation>();
        },
        shared_->clock.Now(), std::chrono::hours(1));
    ASSERT_TRUE(ocsp) << ocsp.error().message;
    auto crl = ca.Crl({}, shared_->clock.Now(), std::chrono::hours(24));
    ASSERT_TRUE(crl);
    auto ca_der = crypto::CertificateToDer(ca.certificate());
    ValidationData data{
        .certificates = {signer_der, *ca_der}, .ocsp_responses = {*ocsp}, .crls = {*crl}};
    ASSERT_TRUE(signer_.AddValidationData(dir_ / "bt.pdf", dir_ / "lt.pdf", data));
    // A second round adds to the same DSS.
    ASSERT_TRUE(
        signer_.AddValidationData(dir_ / "lt.pdf", dir_ / "lt2.pdf", {.certificates = {*ca_der}}));
    ASSERT_TRUE(
        signer_.AddDocumentTimestamp(dir_ / "lt2.pdf", dir_ / "lta.pdf", *tsa, shared_->random));
    EXPECT_EQ(testing::RunCommand("qpdf --check " + (dir_ / "lta.pdf").string() + " >/dev/null"),
              0);
    QPDF written;
    written.processFile((dir_ / "lta.pdf").c_str());
    QPDFObjectHandle dss = written.getRoot().getKey("/DSS");
    EXPECT_EQ(dss.getKey("/Certs").getArrayNItems(), 3);
    EXPECT_EQ(dss.getKey("/OCSPs").getArrayNItems(), 1);
    EXPECT_EQ(dss.getKey("/CRLs").getArrayNItems(), 1);
    EXPECT_EQ(dss.getKey("/OCSPs").getArrayItem(0).getStreamData()->getSize(), ocsp->size());
    auto pdfsig = testing::Pdfsig(shared_->dir / "nss", dir_ / "lta.pdf");
    EXPECT_GE(pdfsig.valid, 1) << pdfsig.output;

    auto anchors = crypto::TrustAnchors::FromFiles(
        {crypto::CertificateAuthority::CertificatePath(shared_->dir.path()), tsa->certificate()});
    ASSERT_TRUE(anchors);
    auto report = VerifyPdfFile(dir_ / "lta.pdf", *anchors);
    ASSERT_TRUE(report) << report.error().message;
    ASSERT_EQ(report->signatures.size(), 2u);
    EXPECT_TRUE(report->signatures[0].is_valid())
        << ::testing::PrintToString(report->signatures[0].problems);
    EXPECT_EQ(report->signatures[0].modification_level, ModificationLevel::kLtaUpdates);
    EXPECT_TRUE(report->signatures[1].is_valid())
        << ::testing::PrintToString(report->signatures[1].problems);
}

TEST_F(VerifyTest, TamperedSignatureValue) {
    std::string pdf = ReadFile(ThreeSignatures());
    auto report = VerifyPdfBytes(pdf, Anchors());
    ASSERT_TRUE(report);
    // Flip a hex digit near the end of the last CMS (inside the signature value).
    const auto& last = report->signatures.back();
    std::size_t at = static_cast<std::size_t>(last.byte_range[1]) + 1 + 2 * 200;
    pdf[at] = pdf[at] == '0' ? '1' : '0';
    auto tampered = VerifyPdfBytes(pdf, Anchors());
    ASSERT_TRUE(tampered);
    EXPECT_FALSE(tampered->signatures.back().is_valid());
    EXPECT_TRUE(tampered->signatures.front().is_valid());
}

}  // namespace
}  // namespace firmo::pdf
