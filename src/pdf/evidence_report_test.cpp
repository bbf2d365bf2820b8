#include "pdf/evidence_report.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pdf/testing/signing_fixture.hpp"

namespace firmo::pdf {
namespace {

using domain::FieldAtPosition;
using domain::SignatureDetails;
using domain::SignatureField;
using ::testing::HasSubstr;
using testing::Quote;
using testing::RunCommand;
namespace fs = std::filesystem;

domain::EvidenceReport SampleReport(int steps) {
    domain::EvidenceReport r;
    r.issuer_id = "01ISSUER";
    r.issuer_name = "Comune di Forlì (Ufficio \"Tributi\")";
    r.request_id = "01REQUEST";
    r.title = "Contratto (rev. 2) \\ Ørsta €";
    r.status = "SIGNED";
    r.created_at = FromUnixMillis(1'780'000'000'000);
    r.expires_at = r.created_at + std::chrono::hours(24 * 30);
    r.closed_at = r.created_at + std::chrono::hours(1);
    r.generated_at = r.created_at + std::chrono::hours(2);
    r.time_zone = "Europe/Rome";
    r.documents.push_back({.id = "01DOC",
                           .title = "Contratto di locazione",
                           .status = "SIGNED",
                           .original_sha256 = std::string(64, 'a'),
                           .signed_sha256 = std::string(64, 'b'),
                           .signatures = 1,
                           .check = domain::PdfCheck{.valid = true,
                                                     .level = "B-LTA",
                                                     .lines = {"signature Signature1: Mario"}},
                           .note = ""});
    r.signers.push_back({.id = "01SIGNER",
                         .name = "Mario Rossi",
                         .identifier = "fiscal_code RSSMRA80A01H501U",
                         .email = "mario@example.org",
                         .phone = "",
                         .on_behalf_of = "self",
                         .order = 0,
                         .status = "SIGNED",
                         .authentication_required = "code",
                         .authenticated_with = "code",
                         .confirmed_at = r.closed_at,
                         .signed_at = r.closed_at,
                         .rejected_at = std::nullopt,
                         .reject_reason = "",
                         .signing_name = "Mario Rossi"});
    for (int i = 0; i < steps; ++i) {
        r.steps.push_back({.at = r.created_at + std::chrono::minutes(i),
                           .type = "step.number." + std::to_string(i),
                           .from_status = "",
                           .to_status = "",
                           .actor = "signer:01SIGNER",
                           .ip = "203.0.113.7",
                           .detail = "ua=\"Mozilla/5.0 (X11)\"",
                           .document_id = "",
                           .signer_id = "01SIGNER"});
    }
    return r;
}

TEST(EvidenceText, WinAnsiKeepsLatinAndEuroAndReplacesTheRest) {
    EXPECT_EQ(ToWinAnsi("Forlì"), "Forl\xEC");
    EXPECT_EQ(ToWinAnsi("\xE2\x82\xAC"), "\x80");  // the euro sign
    EXPECT_EQ(ToWinAnsi("\xE4\xB8\xAD"), "?");     // CJK: not in the encoding
    EXPECT_EQ(ToWinAnsi("a\xFF"
                        "b"),
              "a?b");                     // invalid UTF-8
    EXPECT_EQ(ToWinAnsi("a\nb"), "a b");  // no control characters
    EXPECT_EQ(PdfLiteral("a(b)c\\d"), "(a\\(b\\)c\\\\d)");
}

class EvidenceReportPdf : public testing::SigningTest {};

TEST_F(EvidenceReportPdf, QpdfReadsItBackWithEveryTextOverSeveralPages) {
    const auto report = SampleReport(120);
    auto pdf = PdfEvidenceRenderer().Render(report);
    ASSERT_TRUE(pdf) << pdf.error().message;
    const fs::path path = Write("report.pdf", *pdf);
    std::string log;
    ASSERT_EQ(RunCommand("qpdf --check " + Quote(path), &log), 0) << log;
    EXPECT_THAT(log, ::testing::Not(HasSubstr("WARNING"))) << log;
    ASSERT_EQ(RunCommand("qpdf --show-npages " + Quote(path), &log), 0) << log;
    EXPECT_GE(std::stoi(log), 3) << "120 audit steps take several pages";
    std::string text;
    ASSERT_EQ(RunCommand("mutool draw -q -F txt -o - " + Quote(path), &text), 0) << text;
    EXPECT_THAT(text, HasSubstr("Signature report"));
    EXPECT_THAT(text, HasSubstr("Contratto (rev. 2) \\ Ørsta €"));  // escaped, re-encoded
    EXPECT_THAT(text, HasSubstr("Comune di Forlì"));
    EXPECT_THAT(text, HasSubstr(std::string(64, 'a')));
    EXPECT_THAT(text, HasSubstr(std::string(64, 'b')));
    EXPECT_THAT(text, HasSubstr("fiscal_code RSSMRA80A01H501U"));
    EXPECT_THAT(text, HasSubstr("authenticated with: code"));
    EXPECT_THAT(text, HasSubstr("IP 203.0.113.7"));
    EXPECT_THAT(text, HasSubstr("step.number.0"));
    EXPECT_THAT(text, HasSubstr("step.number.119"));  // the last step, on a later page
    // Times in UTC and in the institution's zone (Rome: UTC+2 in May 2026).
    EXPECT_THAT(text, HasSubstr("2026-05-28T20:26:40Z  (2026-05-28T22:26:40+02:00 Europe/Rome)"));
    EXPECT_THAT(text, HasSubstr("VALID (PAdES B-LTA)"));
    EXPECT_THAT(text, HasSubstr("page 1 of"));
}

TEST_F(EvidenceReportPdf, TheReportTakesAnInvisibleSealThatPdfsigAccepts) {
    auto pdf = PdfEvidenceRenderer().Render(SampleReport(5));
    ASSERT_TRUE(pdf) << pdf.error().message;
    const fs::path in = Write("unsealed.pdf", *pdf);
    SignatureDetails details = Details("Firmo signature report seal");
    details.visible = false;
    const SignatureField invisible{
        FieldAtPosition{0, 0, 0, 1, 1}, {"", domain::ClauseType::kRequired}, {}};
    SignAndCheck(in, dir_ / "sealed.pdf", invisible, details, 1);
}

}  // namespace
}  // namespace firmo::pdf
