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

template <typename F>
Outcome Call(F command, std::vector<std::string> args) {
    std::ostringstream out;
    std::ostringstream err;
    int code = command(args, out, err);
    return {code, out.str(), err.str()};
}

class CliTest : public ::testing::Test {
  protected:
    void SetUp() override {
        FIRMO_REQUIRE_TOOLS("qpdf");
        testing::WriteFile(dir_ / "pass", "s3cret\n");
        auto init = Call(RunCaCommand, {"init", "--data-dir", data(), "--passphrase-file",
                                        (dir_ / "pass").string()});
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
    std::vector<std::string> SignArgs(std::vector<std::string> extra) const {
        std::vector<std::string> args = {"--data-dir", data(),   "--passphrase-file",
                                         path("pass"), "--name", "Mario Rossi"};
        args.insert(args.end(), extra.begin(), extra.end());
        return args;
    }
    TempDir dir_;
};

TEST_F(CliTest, CaCertPrintsPemAndInitRefusesToOverwrite) {
    auto cert = Call(RunCaCommand, {"cert", "--data-dir", data()});
    EXPECT_EQ(cert.code, 0);
    EXPECT_THAT(cert.out, HasSubstr("-----BEGIN CERTIFICATE-----"));
    auto again = Call(RunCaCommand, {"init", "--data-dir", data()});
    EXPECT_EQ(again.code, 1);
    EXPECT_THAT(again.err, HasSubstr("already exists"));
    EXPECT_EQ(Call(RunCaCommand, {"init"}).code, 2);
    EXPECT_EQ(Call(RunCaCommand, {"frobnicate", "--data-dir", data()}).code, 2);
    EXPECT_EQ(Call(RunCaCommand, {"--help"}).code, 0);
}

TEST_F(CliTest, SignTwiceThenVerify) {
    auto first = Call(RunSignCommand, SignArgs({"--in", path("in.pdf"), "--out", path("one.pdf"),
                                                "--field", "Signature1", "--fiscal-code",
                                                "RSSMRA80A01H501U", "--clause", "I accept"}));
    ASSERT_EQ(first.code, 0) << first.err;
    EXPECT_THAT(first.out, HasSubstr("TINIT-RSSMRA80A01H501U"));
    auto second = Call(
        RunSignCommand,
        SignArgs({"--in", path("one.pdf"), "--out", path("two.pdf"), "--page", "0", "--x", "50",
                  "--y", "50", "--w", "200", "--h", "50", "--serial-number", "PNONO-01017012345"}));
    ASSERT_EQ(second.code, 0) << second.err;

    auto verify = Call(RunVerifyCommand, {"--data-dir", data(), path("two.pdf")});
    EXPECT_EQ(verify.code, 0) << verify.out << verify.err;
    EXPECT_THAT(verify.out, HasSubstr("All signatures are valid."));
    auto json = Call(RunVerifyCommand, {"--json", "--data-dir", data(), path("two.pdf")});
    ASSERT_EQ(json.code, 0);
    auto parsed = nlohmann::json::parse(json.out);
    EXPECT_TRUE(parsed["is_valid"].get<bool>());
    ASSERT_EQ(parsed["signatures"].size(), 2u);
    EXPECT_EQ(parsed["signatures"][1]["signer_serial_number"], "PNONO-01017012345");

    // Untrusted without anchors; tampered: exit 1.
    EXPECT_EQ(Call(RunVerifyCommand, {path("two.pdf")}).code, 1);
    std::string bytes = testing::ReadFile(path("two.pdf"));
    bytes[bytes.find("/Type /Catalog") + 7] = 'X';
    testing::WriteFile(dir_ / "bad.pdf", bytes);
    auto bad = Call(RunVerifyCommand, {"--data-dir", data(), path("bad.pdf")});
    EXPECT_EQ(bad.code, 1);
    EXPECT_THAT(bad.out, HasSubstr("NOT VALID"));
    EXPECT_EQ(Call(RunVerifyCommand, {"--data-dir", data(), path("in.pdf")}).code, 1);
}

TEST_F(CliTest, SignUsageErrors) {
    EXPECT_EQ(Call(RunSignCommand, {"--help"}).code, 0);
    EXPECT_EQ(Call(RunSignCommand, {}).code, 2);
    auto no_id =
        Call(RunSignCommand,
             SignArgs({"--in", path("in.pdf"), "--out", path("x.pdf"), "--field", "Signature1"}));
    EXPECT_EQ(no_id.code, 2);
    auto bad_code =
        Call(RunSignCommand, SignArgs({"--in", path("in.pdf"), "--out", path("x.pdf"), "--field",
                                       "Signature1", "--fiscal-code", "XYZ"}));
    EXPECT_EQ(bad_code.code, 2);
    EXPECT_THAT(bad_code.err, HasSubstr("invalid fiscal code"));
    auto both =
        Call(RunSignCommand, SignArgs({"--in", path("in.pdf"), "--out", path("x.pdf"), "--field",
                                       "S", "--page", "0", "--serial-number", "X"}));
    EXPECT_EQ(both.code, 2);
    auto missing_field =
        Call(RunSignCommand, SignArgs({"--in", path("in.pdf"), "--out", path("x.pdf"), "--field",
                                       "Nope", "--serial-number", "X"}));
    EXPECT_EQ(missing_field.code, 1);
    EXPECT_THAT(missing_field.err, HasSubstr("no signature field named 'Nope'"));
    auto wrong_pass =
        Call(RunSignCommand, {"--data-dir", data(), "--name", "M", "--in", path("in.pdf"), "--out",
                              path("x.pdf"), "--field", "Signature1", "--serial-number", "X"});
    EXPECT_EQ(wrong_pass.code, 1);
    EXPECT_THAT(wrong_pass.err, HasSubstr("passphrase"));
    EXPECT_EQ(Call(RunSignCommand, SignArgs({"--bogus", "1"})).code, 2);
}

}  // namespace
}  // namespace firmo::pdf
