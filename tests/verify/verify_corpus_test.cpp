// The manipulated-PDF corpus: one generator per published attack class (incremental saving,
// signature wrapping, universal forgery, shadow hide/replace via new versions, cross-reference
// entries, freed objects, the /Prev chain and object streams, a new catalog, new or changed
// widgets, form-wide settings, copied signature values, evil annotations and sneaky signatures
// on certified documents), each for every cross-reference form, with the verdict and
// modification level Firmo must give; and the controls that must stay valid. Every attack is
// checked to render differently (poppler and MuPDF) from what was signed, so a test proves an
// attack and not a broken file.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/pem.h>

#include <functional>
#include <optional>
#include <qpdf/QPDF.hh>
#include <qpdf/QPDFXRefEntry.hh>

#include "crypto/digest.hpp"
#include "crypto/testing/openssl_tsa.hpp"
#include "crypto/timestamp.hpp"
#include "pdf/pdf_syntax.hpp"
#include "pdf/testing/pdf_writer.hpp"
#include "pdf/testing/signing_fixture.hpp"
#include "pdf/verify.hpp"

namespace firmo::pdf {
namespace {

namespace fs = std::filesystem;
using testing::PdfWriter;
using testing::XrefForm;

constexpr XrefForm kForms[] = {XrefForm::kTable, XrefForm::kStream, XrefForm::kObjectStream};
constexpr std::size_t kReserve = 8192;

// Object numbers of the base document.
enum : int {
    kCatalog = 1,
    kPages = 2,
    kPage = 3,
    kContent = 4,  // "Service contract", "Amount: 1,000,000 EUR"
    kOverlay = 5,  // a white box over the amount and "Amount: 100 EUR" on it
    kFont = 6,
    kForm = 7,
    kSignature1 = 8,
    kSignature2 = 10,
    kName = 11,  // a text field
    kNameAp = 12,
    kNote = 13,  // a hidden text widget over the amount that shows "1,000,000 EUR"
    kNoteAp = 14,
    kAltContent = 15,     // unused: "Amount: 1,000,000 EUR"
    kAltPageStream = 18,  // unused object stream holding another version of the page
    kTotal = 20,          // a text field whose value (1,000,000) differs from its appearance (100)
    kTotalAp = 21,
    kInfo = 22,
    kMetadata = 23,
};

const char* kAnnots = "[8 0 R 10 0 R 11 0 R 13 0 R 20 0 R]";

std::string Stream(const std::string& dict_keys, const std::string& data) {
    return "<< " + dict_keys + " /Length " + std::to_string(data.size()) + " >>\nstream\n" + data +
           "\nendstream";
}

std::string FormXObject(double w, double h, const std::string& data) {
    return Stream("/Type /XObject /Subtype /Form /BBox [0 0 " + std::to_string(w) + " " +
                      std::to_string(h) + "] /Resources << /Font << /Helv 6 0 R >> >>",
                  data);
}

std::string PageDict(const std::string& contents) {
    return "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents " + contents +
           " /Resources << /Font << /F1 6 0 R >> >> /Annots " + kAnnots + " >>";
}

std::string CatalogDict(const std::string& extra = "") {
    return "<< /Type /Catalog /Pages 2 0 R /AcroForm 7 0 R /Metadata 23 0 R" + extra + " >>";
}

std::string Xmp(const std::string& title) {
    return Stream("/Type /Metadata /Subtype /XML",
                  "<?xpacket begin='' id='W5M0MpCehiHzreSzNTczkc9d'?><x:xmpmeta "
                  "xmlns:x='adobe:ns:meta/'><rdf:RDF "
                  "xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'><rdf:Description "
                  "xmlns:dc='http://purl.org/dc/elements/1.1/'><dc:title>" +
                      title +
                      "</dc:title></rdf:Description></rdf:RDF></x:xmpmeta><?xpacket "
                      "end='w'?>");
}

const std::string kAmountContent =
    "BT /F1 24 Tf 72 700 Td (Service contract) Tj ET\nBT /F1 18 Tf 72 600 Td (Amount: "
    "1,000,000 EUR) Tj ET";
const std::string kOverlayContent =
    "q 1 g 66 592 320 30 re f Q\nBT /F1 18 Tf 72 600 Td (Amount: 100 EUR) Tj ET";
const std::string kBigAmount = "BT /Helv 18 Tf 6 8 Td (Amount: 1,000,000 EUR) Tj ET";

// The document every attack starts from: a contract whose shown amount is 100 EUR, with the
// hidden material a shadow attacker prepares before handing it over for signing.
struct BaseOptions {
    // Two revisions, the first without the overlay (what a /Prev attack goes back to).
    bool overlay_in_second_revision = false;
};

void WriteBase(PdfWriter& w, XrefForm form, const BaseOptions& options = {}) {
    w.Set(kCatalog, CatalogDict());
    w.Set(kPages, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>");
    w.Set(kPage, PageDict("[4 0 R 5 0 R]"));
    w.Set(kContent, Stream("", kAmountContent));
    w.Set(kOverlay, Stream("", options.overlay_in_second_revision ? "" : kOverlayContent));
    w.Set(kFont,
          "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>");
    w.Set(kForm, "<< /Fields " + std::string(kAnnots) +
                     " /DA (/Helv 0 Tf 0 g) /DR << /Font << /Helv 6 0 R >> >> >>");
    w.Set(kSignature1,
          "<< /Type /Annot /Subtype /Widget /FT /Sig /T (Signature1) /Rect [72 100 272 150] "
          "/F 4 /P 3 0 R >>");
    w.Set(kSignature2,
          "<< /Type /Annot /Subtype /Widget /FT /Sig /T (Signature2) /Rect [320 100 520 150] "
          "/F 4 /P 3 0 R >>");
    w.Set(kName,
          "<< /Type /Annot /Subtype /Widget /FT /Tx /T (Name) /Rect [72 400 300 430] /F 4 /P 3 0 "
          "R /V (Mario Rossi) /DA (/Helv 12 Tf 0 g) /AP << /N 12 0 R >> >>");
    w.Set(kNameAp, FormXObject(228, 30, "/Tx BMC BT /Helv 12 Tf 2 10 Td (Mario Rossi) Tj ET EMC"));
    w.Set(kNote,
          "<< /Type /Annot /Subtype /Widget /FT /Tx /T (Note) /Rect [66 592 386 622] /F 2 /P 3 0 "
          "R /V (x) /DA (/Helv 18 Tf 0 g) /AP << /N 14 0 R >> >>");
    w.Set(kNoteAp, FormXObject(320, 30, "1 g 0 0 320 30 re f 0 g " + kBigAmount));
    w.Set(kAltContent, Stream("", "BT /F1 18 Tf 72 600 Td (Amount: 1,000,000 EUR) Tj ET"));
    std::string alt_page = PageDict("[4 0 R]");
    std::string header = "3 0 ";
    w.Set(kAltPageStream,
          Stream("/Type /ObjStm /N 1 /First " + std::to_string(header.size()), header + alt_page));
    w.Set(kTotal,
          "<< /Type /Annot /Subtype /Widget /FT /Tx /T (Total) /Rect [72 500 300 530] /F 4 /P 3 "
          "0 R /V (1,000,000 EUR) /DA (/Helv 12 Tf 0 g) /AP << /N 21 0 R >> >>");
    w.Set(kTotalAp, FormXObject(228, 30, "/Tx BMC BT /Helv 12 Tf 2 10 Td (100 EUR) Tj ET EMC"));
    w.Set(kInfo, "<< /Title (Service contract) /Producer (Firmo corpus) >>");
    w.Set(kMetadata, Xmp("Service contract"));
    w.SetTrailer("/Root", "1 0 R");
    w.SetTrailer("/Info", "22 0 R");
    // A second, unused body of the overlay: empty (what a re-pointed entry reveals).
    w.AppendRaw("5 0 obj\n<< /Length 0 >>\nstream\n\nendstream\nendobj\n");
    w.Commit(form);
    if (options.overlay_in_second_revision) {
        w.Set(kOverlay, Stream("", kOverlayContent));
        w.Commit(form);
    }
}

std::uint64_t EmptyOverlayBody(const std::string& pdf) {
    return pdf.find("5 0 obj\n<< /Length 0 >>");
}

// What a test knows about the document it attacks.
struct Signed {
    std::string pdf;
    XrefForm form = XrefForm::kTable;
    std::uint64_t signed_end = 0;  // end of the first signature's revision
};

enum class Expect {
    kValid,            // every signature valid
    kInvalid,          // the first signature is not valid
    kDocumentProblem,  // the signatures are, the document is not (bytes outside any revision)
};

struct Case {
    std::string name;
    std::function<std::string(const Signed&)> attack;
    Expect expect;
    std::optional<ModificationLevel> level;  // of the first signature, when the diff says it
    bool renders_differently = true;
};

class VerifyCorpusTest : public testing::SigningTest {
  protected:
    crypto::TrustAnchors Anchors() {
        std::vector<fs::path> files = {
            crypto::CertificateAuthority::CertificatePath(shared_->dir.path())};
        if (tsa_) files.push_back(tsa_->certificate());
        return crypto::TrustAnchors::FromFiles(files).value();
    }

    // A genuine CAdES signature by the suite's CA over `content`.
    std::string CmsOver(std::string_view content) {
        auto session = Session("Mario Rossi", "RSSMRA80A01H501U");
        auto der = session->SignDigest(crypto::Sha256(content));
        EXPECT_TRUE(der) << der.error().message;
        return der.value_or("");
    }

    // A signature made by the openssl command line without signed attributes (RFC 5652 5.4:
    // the signature is over the content itself), as some third-party signers do.
    std::string OpensslWithoutSignedAttributes(std::string_view content) {
        if (!third_party_key_) {
            third_party_key_ = crypto::PkeyPtr(EVP_RSA_gen(2048));
            auto cert = shared_->ca->Issue(testing::Person("Third Party", "VRDLGU70A01F205X"),
                                           third_party_key_.get(), shared_->clock, shared_->random);
            EXPECT_TRUE(cert) << cert.error().message;
            testing::WriteFile(dir_ / "tp.pem", crypto::CertificateToPem(cert->get()).value());
            crypto::BioPtr bio(BIO_new_file((dir_ / "tp.key").c_str(), "w"));
            PEM_write_bio_PrivateKey(bio.get(), third_party_key_.get(), nullptr, nullptr, 0,
                                     nullptr, nullptr);
        }
        testing::WriteFile(dir_ / "content.bin", std::string(content));
        std::string log;
        EXPECT_EQ(testing::RunCommand("openssl cms -sign -binary -noattr -md sha256 -outform DER "
                                      "-signer " +
                                          testing::Quote(dir_ / "tp.pem") + " -inkey " +
                                          testing::Quote(dir_ / "tp.key") + " -in " +
                                          testing::Quote(dir_ / "content.bin") + " -out " +
                                          testing::Quote(dir_ / "content.p7s"),
                                      &log),
                  0)
            << log;
        return testing::ReadFile(dir_ / "content.p7s");
    }

    // The base document signed by Firmo in Signature1.
    Signed SignedBase(XrefForm form, const BaseOptions& options = {}) {
        PdfWriter w;
        WriteBase(w, form, options);
        fs::path in = Write("base-" + testing::ToString(form) + ".pdf", w.bytes());
        fs::path out = dir_ / ("signed-" + testing::ToString(form) + ".pdf");
        auto session = Session("Mario Rossi", "RSSMRA80A01H501U");
        auto outcome =
            signer_.Sign(in, out, testing::ByName("Signature1"), Details("Mario Rossi"), *session);
        EXPECT_TRUE(outcome) << outcome.error().message;
        Signed s;
        s.pdf = testing::ReadFile(out);
        s.form = form;
        s.signed_end = s.pdf.size();
        return s;
    }

    // The base document signed in Signature1 by the writer (as another producer would, with
    // room to spare in /Contents), certified with DocMDP /P `level` unless it is 0.
    Signed CertifiedBase(XrefForm form, int level, const std::string& field_keys = "") {
        PdfWriter w;
        WriteBase(w, form);
        int sig = w.Allocate();
        std::string reference =
            level == 0 ? ""
                       : " /Reference [<< /Type /SigRef /TransformMethod /DocMDP /TransformParams "
                         "<< /Type /TransformParams /P " +
                             std::to_string(level) + " /V /1.2 >> >>]";
        w.Set(sig,
              "<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /ByteRange "
              "@BYTERANGE@ /Contents @CONTENTS@ /M (" +
                  internal::PdfDate(shared_->clock.Now()) + ")" + reference + " >>");
        w.Set(kSignature1,
              "<< /Type /Annot /Subtype /Widget /FT /Sig /T (Signature1) /Rect [0 0 0 0] /F 4 "
              "/P 3 0 R /V " +
                  std::to_string(sig) + " 0 R" + field_keys + " >>");
        if (level != 0) {
            w.Set(kCatalog, CatalogDict(" /Perms << /DocMDP " + std::to_string(sig) + " 0 R >>"));
        }
        w.CommitSigned(form, sig, kReserve, [&](std::string_view c) { return CmsOver(c); });
        Signed s;
        s.pdf = w.bytes();
        s.form = form;
        s.signed_end = s.pdf.size();
        return s;
    }

    // Firmo signs `pdf` in a second signature (an existing field, or a new one at a place).
    std::string FirmoSigns(const std::string& pdf, const domain::SignatureField& field,
                           const std::string& name) {
        fs::path in = Write(name + ".in.pdf", pdf);
        fs::path out = dir_ / (name + ".out.pdf");
        auto session = Session("Anna Bianchi", "BNCNNA85B41F205Y");
        auto outcome = signer_.Sign(in, out, field, Details("Anna Bianchi"), *session);
        EXPECT_TRUE(outcome) << outcome.error().message;
        return testing::ReadFile(out);
    }

    // Page 1 of `pdf` rasterised by poppler and by MuPDF.
    std::vector<std::string> Render(const std::string& pdf, const std::string& name) {
        fs::path file = Write(name + ".render.pdf", pdf);
        std::vector<std::string> out;
        std::string log;
        fs::path poppler = dir_ / (name + ".poppler");
        testing::RunCommand("pdftoppm -f 1 -l 1 -r 24 -gray -singlefile " + testing::Quote(file) +
                                " " + testing::Quote(poppler),
                            &log);
        out.push_back(testing::ReadFile(poppler.string() + ".pgm"));
        if (testing::HaveTool("mutool")) {
            fs::path mupdf = dir_ / (name + ".mupdf.pgm");
            testing::RunCommand("mutool draw -q -r 24 -c gray -o " + testing::Quote(mupdf) + " " +
                                    testing::Quote(file) + " 1",
                                &log);
            out.push_back(testing::ReadFile(mupdf));
        }
        return out;
    }

    void Run(const Case& c, XrefForm form, const Signed& s) {
        SCOPED_TRACE(c.name + " / " + testing::ToString(form));
        std::string pdf = c.attack(s);
        ASSERT_FALSE(pdf.empty());
        if (const char* keep = std::getenv("FIRMO_CORPUS_DIR")) {
            // To look at, or to feed other validators: FIRMO_CORPUS_DIR=/tmp/corpus ctest -R Corpus
            fs::create_directories(keep);
            testing::WriteFile(fs::path(keep) / (c.name + "-" + testing::ToString(form) + ".pdf"),
                               pdf);
        }
        if (c.renders_differently) {
            // At least one independent renderer shows something else than what was signed
            // (MuPDF, for one, does not draw the appearance of an unsigned signature field).
            auto before = Render(s.pdf.substr(0, s.signed_end), c.name + "-signed");
            auto after = Render(pdf, c.name + "-" + testing::ToString(form));
            bool differs = false;
            for (std::size_t i = 0; i < before.size() && i < after.size(); ++i) {
                EXPECT_FALSE(before[i].empty() || after[i].empty()) << "renderer " << i;
                differs = differs || before[i] != after[i];
            }
            EXPECT_TRUE(differs) << "no renderer shows a difference";
        }
        auto report = VerifyPdfBytes(pdf, Anchors());
        ASSERT_TRUE(report) << report.error().message;
        ASSERT_FALSE(report->signatures.empty());
        const SignatureReport& first = report->signatures.front();
        std::string dump = ::testing::PrintToString(first.problems) +
                           " doc: " + ::testing::PrintToString(report->problems);
        switch (c.expect) {
            case Expect::kValid:
                EXPECT_TRUE(report->all_valid()) << dump;
                break;
            case Expect::kInvalid:
                EXPECT_FALSE(first.is_valid()) << dump;
                EXPECT_FALSE(report->all_valid());
                break;
            case Expect::kDocumentProblem:
                EXPECT_TRUE(first.is_valid()) << dump;
                EXPECT_FALSE(report->all_valid());
                break;
        }
        if (c.level) {
            EXPECT_EQ(ToString(first.modification_level), ToString(*c.level)) << dump;
        }
        // The independent verifier agrees that the signed bytes themselves are intact.
        EXPECT_TRUE(first.digest_matches || c.expect != Expect::kValid) << dump;
    }

    std::shared_ptr<crypto::testing::OpensslTsa> tsa_;
    crypto::PkeyPtr third_party_key_;
};

}  // namespace

namespace {

// --- attacks ---------------------------------------------------------------------------

XrefForm UpdateForm(const Signed& s) { return s.form; }

// An update form that can express object-stream entries.
XrefForm StreamForm(const Signed& s) {
    return s.form == XrefForm::kTable ? XrefForm::kStream : s.form;
}

std::string ContentStream(const std::string& data) { return Stream("", data); }

std::string NewContentVersion(const Signed& s) {
    auto w = PdfWriter::Continue(s.pdf);
    w.Set(kOverlay, ContentStream(""));
    w.Commit(UpdateForm(s));
    return w.bytes();
}

std::string AppendedObjectWithoutXref(const Signed& s) {
    return s.pdf + "5 0 obj\n<< /Length 0 >>\nstream\n\nendstream\nendobj\n";
}

// Signature wrapping: the update's objects hide in the zero padding of the signature value,
// inside the signed revision's hole, and a new section points at them.
std::string WrappedInPadding(const Signed& s) {
    std::string pdf = s.pdf;
    std::size_t lt = pdf.rfind("/Contents <") + 10;
    std::size_t gt = pdf.find('>', lt);
    std::size_t zeros = pdf.find_last_not_of('0', gt - 1) + 1;
    zeros += (zeros - lt) % 2 == 0 ? 1 : 0;  // keep the hex digits before it whole
    std::string body = "5 0 obj\n<< /Length 0 >>\nstream\n\nendstream\nendobj\n";
    std::string inject = ">\n" + body + "<";
    if (zeros + inject.size() + 2 >= gt) return {};
    pdf.replace(zeros, inject.size(), inject);
    std::uint64_t object_at = zeros + 2;
    auto w = PdfWriter::Continue(pdf);
    w.PointAt(kOverlay, object_at);
    w.Commit(UpdateForm(s));
    return w.bytes();
}

// Universal signature forgery: the signature dictionary rewritten so that its check cannot
// fail, plus the change it hides.
std::string ForgedSignature(const Signed& s, const std::string& range_and_contents) {
    QPDF q;
    q.processMemoryFile("x", s.pdf.data(), s.pdf.size());
    QPDFObjectHandle v = q.getObject(kSignature1, 0).getKey("/V");
    auto w = PdfWriter::Continue(s.pdf);
    w.Set(v.getObjectID(), "<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached " +
                               range_and_contents + " >>");
    w.Set(kOverlay, ContentStream(""));
    w.Commit(UpdateForm(s));
    return w.bytes();
}

std::string RepointedAtOldBody(const Signed& s) {
    auto w = PdfWriter::Continue(s.pdf);
    w.PointAt(kOverlay, EmptyOverlayBody(s.pdf));
    w.Commit(UpdateForm(s));
    return w.bytes();
}

std::string FreedOverlay(const Signed& s) {
    auto w = PdfWriter::Continue(s.pdf);
    w.Free(kOverlay);
    w.Commit(UpdateForm(s));
    return w.bytes();
}

std::string PageIntoOldObjectStream(const Signed& s) {
    auto w = PdfWriter::Continue(s.pdf);
    w.PointInStream(kPage, kAltPageStream, 0);
    w.Commit(StreamForm(s));
    return w.bytes();
}

std::string PageMovedIntoNewObjectStream(const Signed& s) {
    auto w = PdfWriter::Continue(s.pdf);
    w.Set(kPage, PageDict("[4 0 R]"));
    w.Commit(XrefForm::kObjectStream);
    return w.bytes();
}

// A new catalog that keeps the signed form (so the signature is still shown) with a new
// page tree.
std::string NewRoot(const Signed& s) {
    auto w = PdfWriter::Continue(s.pdf);
    int root = w.Allocate();
    int pages = w.Allocate();
    int page = w.Allocate();
    w.Set(root, "<< /Type /Catalog /Pages " + std::to_string(pages) + " 0 R /AcroForm 7 0 R >>");
    w.Set(pages, "<< /Type /Pages /Kids [" + std::to_string(page) + " 0 R] /Count 1 >>");
    std::string dict = PageDict("[4 0 R]");
    dict.replace(dict.find("/Parent 2 0 R"), 13, "/Parent " + std::to_string(pages) + " 0 R");
    w.Set(page, dict);
    w.SetTrailer("/Root", std::to_string(root) + " 0 R");
    w.Commit(UpdateForm(s));
    return w.bytes();
}

// A widget added to page 1 (and its field to the form) with an appearance over the amount.
using Signer = std::function<std::string(std::string_view)>;

std::string AddWidgetOverAmount(const Signed& s, const std::string& field_keys,
                                const Signer& sign = nullptr) {
    auto w = PdfWriter::Continue(s.pdf);
    int field = w.Allocate();
    int ap = w.Allocate();
    w.Set(ap, FormXObject(320, 30, "1 g 0 0 320 30 re f 0 g " + kBigAmount));
    std::string annots = std::string(kAnnots);
    annots.insert(annots.size() - 1, " " + std::to_string(field) + " 0 R");
    std::string page = PageDict("[4 0 R 5 0 R]");
    page.replace(page.find(kAnnots), std::string(kAnnots).size(), annots);
    w.Set(kPage, page);
    w.Set(kForm, "<< /Fields " + annots +
                     " /DA (/Helv 0 Tf 0 g) /DR << /Font << /Helv 6 0 R >> >> /SigFlags 3 >>");
    std::string body = "<< /Type /Annot /Subtype /Widget " + field_keys +
                       " /Rect [66 592 386 622] /F 4 /P 3 0 R /AP << /N " + std::to_string(ap) +
                       " 0 R >>";
    if (!sign) {
        w.Set(field, body + " >>");
        w.Commit(UpdateForm(s));
        return w.bytes();
    }
    int sig = w.Allocate();
    w.Set(sig,
          "<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /ByteRange "
          "@BYTERANGE@ /Contents @CONTENTS@ /M (D:20260101000000Z) >>");
    w.Set(field, body + " /V " + std::to_string(sig) + " 0 R >>");
    w.CommitSigned(UpdateForm(s), sig, kReserve, sign);
    return w.bytes();
}

std::string ChangedAppearance(const Signed& s) {
    auto w = PdfWriter::Continue(s.pdf);
    int ap = w.Allocate();
    w.Set(ap, FormXObject(200, 50, "0 g " + kBigAmount));
    w.Set(kSignature2,
          "<< /Type /Annot /Subtype /Widget /FT /Sig /T (Signature2) /Rect [320 100 520 150] "
          "/F 4 /P 3 0 R /AP << /N " +
              std::to_string(ap) + " 0 R >> >>");
    w.Commit(UpdateForm(s));
    return w.bytes();
}

std::string ShownHiddenWidget(const Signed& s) {
    auto w = PdfWriter::Continue(s.pdf);
    w.Set(kNote,
          "<< /Type /Annot /Subtype /Widget /FT /Tx /T (Note) /Rect [66 592 386 622] /F 4 /P 3 0 "
          "R /V (x) /DA (/Helv 18 Tf 0 g) /AP << /N 14 0 R >> >>");
    w.Commit(UpdateForm(s));
    return w.bytes();
}

std::string NeedAppearances(const Signed& s) {
    auto w = PdfWriter::Continue(s.pdf);
    QPDF q;
    q.processMemoryFile("x", s.pdf.data(), s.pdf.size());
    std::string form = q.getObject(kForm, 0).unparseResolved();
    form.insert(form.rfind(">>"), " /NeedAppearances true ");
    w.Set(kForm, form);
    w.Commit(UpdateForm(s));
    return w.bytes();
}

std::string FilledName(const Signed& s) {
    auto w = PdfWriter::Continue(s.pdf);
    int ap = w.Allocate();
    w.Set(ap, FormXObject(228, 30, "/Tx BMC BT /Helv 12 Tf 2 10 Td (Luigi Verdi) Tj ET EMC"));
    w.Set(kName,
          "<< /Type /Annot /Subtype /Widget /FT /Tx /T (Name) /Rect [72 400 300 430] /F 4 /P 3 0 "
          "R /V (Luigi Verdi) /DA (/Helv 12 Tf 0 g) /AP << /N " +
              std::to_string(ap) + " 0 R >> >>");
    w.Commit(UpdateForm(s));
    return w.bytes();
}

// A second field holding the first signature's value.
std::string CopiedSignature(const Signed& s) {
    QPDF q;
    q.processMemoryFile("x", s.pdf.data(), s.pdf.size());
    QPDFObjectHandle v = q.getObject(kSignature1, 0).getKey("/V");
    auto w = PdfWriter::Continue(s.pdf);
    int field = w.Allocate();
    w.Set(field, "<< /FT /Sig /T (Signature3) /V " + std::to_string(v.getObjectID()) + " 0 R >>");
    std::string fields = std::string(kAnnots);
    fields.insert(fields.size() - 1, " " + std::to_string(field) + " 0 R");
    w.Set(kForm, "<< /Fields " + fields +
                     " /DA (/Helv 0 Tf 0 g) /DR << /Font << /Helv 6 0 R >> >> /SigFlags 3 >>");
    w.Commit(UpdateForm(s));
    return w.bytes();
}

// A second field holding a copy of the first signature's dictionary (same bytes signed, same
// value): it would verify, but it is the same signature.
std::string CopiedSignatureDictionary(const Signed& s) {
    QPDF q;
    q.processMemoryFile("x", s.pdf.data(), s.pdf.size());
    QPDFObjectHandle v = q.getObject(kSignature1, 0).getKey("/V");
    auto w = PdfWriter::Continue(s.pdf);
    int copy = w.Allocate();
    int field = w.Allocate();
    w.Set(copy, v.unparseResolved());
    w.Set(field, "<< /FT /Sig /T (Signature3) /V " + std::to_string(copy) + " 0 R >>");
    std::string fields = std::string(kAnnots);
    fields.insert(fields.size() - 1, " " + std::to_string(field) + " 0 R");
    w.Set(kForm, "<< /Fields " + fields +
                     " /DA (/Helv 0 Tf 0 g) /DR << /Font << /Helv 6 0 R >> >> /SigFlags 3 >>");
    w.Commit(UpdateForm(s));
    return w.bytes();
}

std::string AddAnnotation(const Signed& s, const std::string& subtype_keys,
                          const std::string& rect) {
    auto w = PdfWriter::Continue(s.pdf);
    int annot = w.Allocate();
    int ap = w.Allocate();
    w.Set(ap, FormXObject(320, 30, "1 g 0 0 320 30 re f 0 g " + kBigAmount));
    w.Set(annot, "<< /Type /Annot " + subtype_keys + " /Rect " + rect + " /F 4 /AP << /N " +
                     std::to_string(ap) + " 0 R >> >>");
    std::string annots = std::string(kAnnots);
    annots.insert(annots.size() - 1, " " + std::to_string(annot) + " 0 R");
    std::string page = PageDict("[4 0 R 5 0 R]");
    page.replace(page.find(kAnnots), std::string(kAnnots).size(), annots);
    w.Set(kPage, page);
    w.Commit(UpdateForm(s));
    return w.bytes();
}

// --- controls --------------------------------------------------------------------------

std::string DssAdded(const Signed& s) {
    auto w = PdfWriter::Continue(s.pdf);
    QPDF q;
    q.processMemoryFile("x", s.pdf.data(), s.pdf.size());
    std::string catalog = q.getRoot().unparseResolved();
    int cert = w.Allocate();
    int dss = w.Allocate();
    w.Set(cert, Stream("", std::string(300, '\x30')));
    w.Set(dss, "<< /Type /DSS /Certs [" + std::to_string(cert) + " 0 R] /OCSPs [] /CRLs [] >>");
    catalog.insert(catalog.rfind(">>"), " /DSS " + std::to_string(dss) + " 0 R ");
    w.Set(q.getRoot().getObjectID(), catalog);
    w.Commit(UpdateForm(s));
    return w.bytes();
}

std::string MetadataUpdated(const Signed& s) {
    auto w = PdfWriter::Continue(s.pdf);
    int info = w.Allocate();
    w.Set(info, "<< /Title (Service contract, archived) /Producer (Archive) >>");
    w.Set(kMetadata, Xmp("Service contract, archived"));
    w.SetTrailer("/Info", std::to_string(info) + " 0 R");
    w.Commit(UpdateForm(s));
    return w.bytes();
}

std::string CommentAdded(const Signed& s) {
    return AddAnnotation(s, "/Subtype /Text /Contents (Checked) /Name /Comment", "[66 592 86 612]");
}

// The first two revisions of a two-revision base, and the signature after them: an update
// whose /Prev goes back to the first revision, re-listing what the signer wrote, shows the
// document without the second revision's overlay.
std::string PrevSkipsARevision(const Signed& s) {
    std::size_t first_end = s.pdf.find("%%EOF") + 6;
    std::uint64_t first_xref = std::stoull(s.pdf.substr(s.pdf.find("startxref") + 9));
    QPDF q;
    q.processMemoryFile("x", s.pdf.data(), s.pdf.size());
    auto w = PdfWriter::Continue(s.pdf);
    for (const auto& [og, entry] : q.getXRefTable()) {
        if (og.getObj() == kOverlay) continue;
        if (entry.getType() == 1 && static_cast<std::size_t>(entry.getOffset()) >= first_end) {
            w.PointAt(og.getObj(), static_cast<std::uint64_t>(entry.getOffset()), og.getGen());
        } else if (entry.getType() == 2) {
            auto holder = q.getXRefTable().at(QPDFObjGen(entry.getObjStreamNumber(), 0));
            if (static_cast<std::size_t>(holder.getOffset()) >= first_end) {
                w.PointInStream(og.getObj(), entry.getObjStreamNumber(), entry.getObjStreamIndex());
            }
        }
    }
    w.SetPrev(first_xref);
    w.Commit(UpdateForm(s));
    return w.bytes();
}

}  // namespace

TEST_F(VerifyCorpusTest, AttacksOnAnApprovalSignature) {
    Signer attacker = [this](std::string_view c) { return CmsOver(c); };
    const std::vector<Case> cases = {
        {"isa-new-version", NewContentVersion, Expect::kInvalid, ModificationLevel::kOther},
        {"isa-no-xref", AppendedObjectWithoutXref, Expect::kDocumentProblem, std::nullopt, false},
        {"usf-no-byte-range", [](const Signed& s) { return ForgedSignature(s, "/Contents <00>"); },
         Expect::kInvalid, std::nullopt},
        {"usf-zero-byte-range",
         [](const Signed& s) { return ForgedSignature(s, "/ByteRange [0 0 0 0] /Contents <>"); },
         Expect::kInvalid, std::nullopt},
        {"usf-null-contents",
         [](const Signed& s) {
             return ForgedSignature(s, "/ByteRange [0 10 20 30] /Contents null");
         },
         Expect::kInvalid, std::nullopt},
        {"shadow-hide-repointed-entry", RepointedAtOldBody, Expect::kInvalid,
         ModificationLevel::kOther},
        {"shadow-hide-freed-object", FreedOverlay, Expect::kInvalid, ModificationLevel::kOther},
        {"shadow-replace-old-object-stream", PageIntoOldObjectStream, Expect::kInvalid,
         ModificationLevel::kOther},
        {"shadow-replace-new-object-stream", PageMovedIntoNewObjectStream, Expect::kInvalid,
         ModificationLevel::kOther},
        {"new-root-reusing-the-form", NewRoot, Expect::kInvalid, ModificationLevel::kOther},
        {"new-signature-field-over-content",
         [](const Signed& s) { return AddWidgetOverAmount(s, "/FT /Sig /T (Signature3)"); },
         Expect::kInvalid, ModificationLevel::kOther},
        {"new-signed-signature-over-content",
         [&](const Signed& s) {
             return AddWidgetOverAmount(s, "/FT /Sig /T (Signature3)", attacker);
         },
         Expect::kInvalid, ModificationLevel::kOther},
        {"existing-widget-appearance", ChangedAppearance, Expect::kInvalid,
         ModificationLevel::kOther},
        {"existing-widget-flags", ShownHiddenWidget, Expect::kInvalid, ModificationLevel::kOther},
        {"form-need-appearances", NeedAppearances, Expect::kInvalid, ModificationLevel::kOther},
        {"form-filled-without-permission", FilledName, Expect::kInvalid,
         ModificationLevel::kFormFilling},
        {"copied-signature-value", CopiedSignature, Expect::kInvalid, std::nullopt, false},
        {"copied-signature-dictionary", CopiedSignatureDictionary, Expect::kInvalid, std::nullopt,
         false},
        {"annotation-over-content",
         [](const Signed& s) {
             return AddAnnotation(s, "/Subtype /Stamp /Name /Approved", "[66 592 386 622]");
         },
         Expect::kInvalid, ModificationLevel::kAnnotations},
    };
    for (XrefForm form : kForms) {
        Signed s = SignedBase(form);
        ASSERT_FALSE(::testing::Test::HasFatalFailure());
        auto clean = VerifyPdfBytes(s.pdf, Anchors());
        ASSERT_TRUE(clean && clean->all_valid()) << testing::ToString(form);
        for (const Case& c : cases) Run(c, form, s);
        // Firmo reserves exactly what its signature needs; another producer's padding is
        // where signature wrapping hides objects.
        Run({"swa-in-padding", WrappedInPadding, Expect::kInvalid, std::nullopt}, form,
            CertifiedBase(form, 0));
    }
}

TEST_F(VerifyCorpusTest, PrevChainThatSkipsARevision) {
    for (XrefForm form : kForms) {
        Signed s = SignedBase(form, {.overlay_in_second_revision = true});
        Run({"shadow-hide-prev-chain", PrevSkipsARevision, Expect::kInvalid, std::nullopt}, form,
            s);
    }
}

TEST_F(VerifyCorpusTest, AttacksOnCertifiedDocuments) {
    Signer attacker = [this](std::string_view c) { return CmsOver(c); };
    for (XrefForm form : kForms) {
        // Evil annotation: DocMDP 3 allows annotations, not one that covers signed content.
        Signed p3 = CertifiedBase(form, 3);
        Run({"eaa-free-text-over-content",
             [](const Signed& s) {
                 return AddAnnotation(s,
                                      "/Subtype /FreeText /DA (/Helv 18 Tf 0 g) /Contents "
                                      "(Amount: 1,000,000 EUR)",
                                      "[66 592 386 622]");
             },
             Expect::kInvalid, ModificationLevel::kAnnotations},
            form, p3);
        // Sneaky signature: DocMDP 2 allows signing, not a signature drawn over content.
        Signed p2 = CertifiedBase(form, 2);
        Run({"ssa-signature-over-content",
             [&](const Signed& s) {
                 return AddWidgetOverAmount(s, "/FT /Sig /T (Signature3)", attacker);
             },
             Expect::kInvalid, ModificationLevel::kOther},
            form, p2);
        Run({"eaa-annotation-under-docmdp-2", [](const Signed& s) { return CommentAdded(s); },
             Expect::kInvalid, ModificationLevel::kAnnotations},
            form, p2);
        // FieldMDP: the signature locks the field that is then filled in.
        Run({"form-filled-locked-field", FilledName, Expect::kInvalid,
             ModificationLevel::kFormFilling},
            form,
            CertifiedBase(form, 2,
                          " /Lock << /Type /SigFieldLock /Action /Include /Fields [(Name)] >>"));
        // DocMDP 1: no change at all, not even filling in.
        Signed p1 = CertifiedBase(form, 1);
        Run({"form-filled-under-docmdp-1", FilledName, Expect::kInvalid,
             ModificationLevel::kFormFilling},
            form, p1);
    }
}

TEST_F(VerifyCorpusTest, ControlsStayValid) {
    fs::create_directories(dir_ / "tsa");
    tsa_ = std::make_shared<crypto::testing::OpensslTsa>(dir_ / "tsa");
    ASSERT_TRUE(tsa_->ok());
    for (XrefForm form : kForms) {
        Signed s = SignedBase(form);
        // A second genuine signature in the existing empty field, and one in a new field
        // where the page draws nothing.
        Run({"second-signature-existing-field",
             [&](const Signed& x) {
                 return FirmoSigns(x.pdf, testing::ByName("Signature2"), "second");
             },
             Expect::kValid, ModificationLevel::kFormFilling, false},
            form, s);
        Run({"second-signature-new-field",
             [&](const Signed& x) {
                 return FirmoSigns(x.pdf, testing::At(0, 300, 400, 200, 60), "new-field");
             },
             Expect::kValid, ModificationLevel::kFormFilling, false},
            form, s);
        Run({"dss-added", DssAdded, Expect::kValid, ModificationLevel::kLtaUpdates, false}, form,
            s);
        Run({"metadata-only", MetadataUpdated, Expect::kValid, ModificationLevel::kLtaUpdates,
             false},
            form, s);
        Run({"document-timestamp",
             [&](const Signed& x) {
                 auto w = PdfWriter::Continue(x.pdf);
                 int field = w.Allocate();
                 int sig = w.Allocate();
                 w.Set(sig,
                       "<< /Type /DocTimeStamp /Filter /Adobe.PPKLite /SubFilter /ETSI.RFC3161 "
                       "/ByteRange @BYTERANGE@ /Contents @CONTENTS@ >>");
                 w.Set(field,
                       "<< /FT /Sig /T (DocumentTimestamp) /V " + std::to_string(sig) + " 0 R >>");
                 std::string fields = std::string(kAnnots);
                 fields.insert(fields.size() - 1, " " + std::to_string(field) + " 0 R");
                 w.Set(kForm, "<< /Fields " + fields +
                                  " /DA (/Helv 0 Tf 0 g) /DR << /Font << /Helv 6 0 R >> >> "
                                  "/SigFlags 3 >>");
                 w.CommitSigned(UpdateForm(x), sig, kReserve, [&](std::string_view c) {
                     auto token =
                         crypto::RequestTimestampToken(*tsa_, crypto::Sha256(c), shared_->random);
                     EXPECT_TRUE(token) << token.error().message;
                     return token.value_or("");
                 });
                 return w.bytes();
             },
             Expect::kValid, ModificationLevel::kLtaUpdates, false},
            form, s);
        // A third party's signature without signed attributes, in the empty field.
        Run({"signature-without-signed-attributes",
             [&](const Signed& x) {
                 auto w = PdfWriter::Continue(x.pdf);
                 int sig = w.Allocate();
                 w.Set(sig,
                       "<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /adbe.pkcs7.detached "
                       "/ByteRange @BYTERANGE@ /Contents @CONTENTS@ /M (" +
                           internal::PdfDate(shared_->clock.Now()) + ") >>");
                 w.Set(kSignature2,
                       "<< /Type /Annot /Subtype /Widget /FT /Sig /T (Signature2) /Rect [320 100 "
                       "520 150] /F 4 /P 3 0 R /V " +
                           std::to_string(sig) + " 0 R >>");
                 w.CommitSigned(UpdateForm(x), sig, kReserve, [&](std::string_view c) {
                     return OpensslWithoutSignedAttributes(c);
                 });
                 return w.bytes();
             },
             Expect::kValid, ModificationLevel::kFormFilling, false},
            form, s);
        // Certified documents: filling in under DocMDP 2, a comment under DocMDP 3.
        Run({"form-filled-under-docmdp-2", FilledName, Expect::kValid,
             ModificationLevel::kFormFilling, false},
            form, CertifiedBase(form, 2));
        Run({"comment-under-docmdp-3", CommentAdded, Expect::kValid,
             ModificationLevel::kAnnotations, false},
            form, CertifiedBase(form, 3));
        Run({"form-filled-unlocked-field", FilledName, Expect::kValid,
             ModificationLevel::kFormFilling, false},
            form,
            CertifiedBase(form, 2,
                          " /Lock << /Type /SigFieldLock /Action /Exclude /Fields [(Name)] >>"));
    }
}

}  // namespace firmo::pdf
