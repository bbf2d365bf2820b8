#include "pdf/cli.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "pdf/testing/pdf_fixtures.hpp"

namespace firmo::pdf {
namespace {

using ::testing::HasSubstr;
using testing::Quote;
using testing::RunCommand;
using testing::TempDir;

struct Outcome {
    int code;
    std::string out;
    std::string err;
};

template <typename F, typename Options>
Outcome Call(F command, const Options& options) {
    std::ostringstream out;
    std::ostringstream err;
    int code = command(options, out, err);
    return {code, out.str(), err.str()};
}

class CliTest : public ::testing::Test {
  protected:
    void SetUp() override {
        FIRMO_REQUIRE_TOOLS("qpdf");
        testing::WriteFile(dir_ / "pass", "s3cret\n");
        CaInitOptions ca;
        ca.data_dir = data();
        ca.passphrase.passphrase_file = dir_ / "pass";
        auto init = Call(RunCaInit, ca);
        ASSERT_EQ(init.code, 0) << init.err;
        testing::PdfSpec spec;
        spec.pages = {{}, {}};
        spec.fields.push_back({.name = "Signature1", .page = 1, .rect = {50, 60, 250, 110}});
        testing::WriteFile(dir_ / "raw.pdf", testing::MakePdf(spec));
        std::string log;
        ASSERT_EQ(
            RunCommand("qpdf " + Quote(dir_ / "raw.pdf") + " " + Quote(dir_ / "in.pdf"), &log), 0)
            << log;
    }
    std::string data() const { return (dir_ / "data").string(); }
    std::string path(const std::string& name) const { return (dir_ / name).string(); }
    // Signs `in` into `out` as Mario Rossi with the CA's passphrase; the caller adds the rest.
    SignOptions Sign(const std::string& in, const std::string& out) const {
        SignOptions o;
        o.data_dir = data();
        o.passphrase.passphrase_file = dir_ / "pass";
        o.name = "Mario Rossi";
        o.in = path(in);
        o.out = path(out);
        return o;
    }
    VerifyCommandOptions Verify(const std::string& file, bool with_ca = true) const {
        VerifyCommandOptions o;
        if (with_ca) o.data_dir = data();
        o.file = path(file);
        return o;
    }
    TempDir dir_;
};

TEST_F(CliTest, CaCertPrintsPemAndInitRefusesToOverwrite) {
    auto cert = Call(RunCaCert, std::filesystem::path(data()));
    EXPECT_EQ(cert.code, 0);
    EXPECT_THAT(cert.out, HasSubstr("-----BEGIN CERTIFICATE-----"));
    CaInitOptions again_options;
    again_options.data_dir = data();
    auto again = Call(RunCaInit, again_options);
    EXPECT_EQ(again.code, 1);
    EXPECT_THAT(again.err, HasSubstr("already exists"));
    EXPECT_EQ(Call(RunCaCert, dir_ / "nowhere").code, 1);
    CaInitOptions too_long;
    too_long.data_dir = dir_ / "other";
    too_long.validity_days = 36501;
    auto refused = Call(RunCaInit, too_long);
    EXPECT_EQ(refused.code, 2);
    EXPECT_THAT(refused.err, HasSubstr("--validity-days must be between 1 and 36500"));
}

TEST_F(CliTest, SignTwiceThenVerify) {
    SignOptions first_options = Sign("in.pdf", "one.pdf");
    first_options.field = "Signature1";
    first_options.fiscal_code = "RSSMRA80A01H501U";
    first_options.clause = "I accept";
    auto first = Call(RunSign, first_options);
    ASSERT_EQ(first.code, 0) << first.err;
    EXPECT_THAT(first.out, HasSubstr("TINIT-RSSMRA80A01H501U"));
    SignOptions second_options = Sign("one.pdf", "two.pdf");
    second_options.page = 0;
    second_options.x = 50;
    second_options.y = 50;
    second_options.w = 200;
    second_options.h = 50;
    second_options.serial_number = "PNONO-01017012345";
    auto second = Call(RunSign, second_options);
    ASSERT_EQ(second.code, 0) << second.err;

    auto verify = Call(RunVerify, Verify("two.pdf"));
    EXPECT_EQ(verify.code, 0) << verify.out << verify.err;
    EXPECT_THAT(verify.out, HasSubstr("All signatures are valid."));
    auto json_options = Verify("two.pdf");
    json_options.json = true;
    auto json = Call(RunVerify, json_options);
    ASSERT_EQ(json.code, 0);
    auto parsed = nlohmann::json::parse(json.out);
    EXPECT_TRUE(parsed["is_valid"].get<bool>());
    ASSERT_EQ(parsed["signatures"].size(), 2u);
    EXPECT_EQ(parsed["signatures"][1]["signer_serial_number"], "PNONO-01017012345");

    // Untrusted without anchors; trusted with the CA certificate given by --trust.
    EXPECT_EQ(Call(RunVerify, Verify("two.pdf", false)).code, 1);
    auto by_trust = Verify("two.pdf", false);
    by_trust.trust = {std::filesystem::path(data()) / "ca" / "ca-cert.pem"};
    EXPECT_EQ(Call(RunVerify, by_trust).code, 0);
    // Tampered: exit 1.
    std::string bytes = testing::ReadFile(path("two.pdf"));
    bytes[bytes.find("/Type /Catalog") + 7] = 'X';
    testing::WriteFile(dir_ / "bad.pdf", bytes);
    auto bad = Call(RunVerify, Verify("bad.pdf"));
    EXPECT_EQ(bad.code, 1);
    EXPECT_THAT(bad.out, HasSubstr("NOT VALID"));
    EXPECT_EQ(Call(RunVerify, Verify("in.pdf")).code, 1);
}

// Options that parse but do not fit together are usage errors (2); a failed operation is 1.
TEST_F(CliTest, SignUsageErrors) {
    auto no_id_options = Sign("in.pdf", "x.pdf");
    no_id_options.field = "Signature1";
    EXPECT_EQ(Call(RunSign, no_id_options).code, 2);

    auto bad_code_options = no_id_options;
    bad_code_options.fiscal_code = "XYZ";
    auto bad_code = Call(RunSign, bad_code_options);
    EXPECT_EQ(bad_code.code, 2);
    EXPECT_THAT(bad_code.err, HasSubstr("invalid fiscal code"));

    auto two_ids = bad_code_options;
    two_ids.serial_number = "X";
    EXPECT_EQ(Call(RunSign, two_ids).code, 2);

    auto both_options = Sign("in.pdf", "x.pdf");
    both_options.field = "S";
    both_options.page = 0;
    both_options.serial_number = "X";
    EXPECT_EQ(Call(RunSign, both_options).code, 2);

    auto no_size = Sign("in.pdf", "x.pdf");
    no_size.page = 0;
    no_size.serial_number = "X";
    auto refused = Call(RunSign, no_size);
    EXPECT_EQ(refused.code, 2);
    EXPECT_THAT(refused.err, HasSubstr("--page, --x, --y, --w and --h must be numbers"));
    auto fractional_page = no_size;
    fractional_page.w = 10;
    fractional_page.h = 10;
    fractional_page.page = 0.5;
    EXPECT_EQ(Call(RunSign, fractional_page).code, 2);

    auto missing_field_options = Sign("in.pdf", "x.pdf");
    missing_field_options.field = "Nope";
    missing_field_options.serial_number = "X";
    auto missing_field = Call(RunSign, missing_field_options);
    EXPECT_EQ(missing_field.code, 1);
    EXPECT_THAT(missing_field.err, HasSubstr("no signature field named 'Nope'"));

    auto wrong_pass_options = missing_field_options;
    wrong_pass_options.field = "Signature1";
    wrong_pass_options.passphrase.passphrase_file.reset();
    auto wrong_pass = Call(RunSign, wrong_pass_options);
    EXPECT_EQ(wrong_pass.code, 1);
    EXPECT_THAT(wrong_pass.err, HasSubstr("passphrase"));
}

}  // namespace
}  // namespace firmo::pdf
