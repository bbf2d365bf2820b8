#include "app/cli.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "core/testing/temp_dir.hpp"

namespace firmo::app {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

struct Outcome {
    int code;
    std::string out;
    std::string err;
};

Outcome Firmo(const std::vector<std::string>& argv) {
    std::ostringstream out;
    std::ostringstream err;
    const int code = Main(argv, out, err);
    return {code, out.str(), err.str()};
}

// Every command that runs something, as its words ("apikey create"), from the CLI11 tree.
std::vector<std::vector<std::string>> Commands(const CLI::App& app,
                                               const std::vector<std::string>& prefix = {}) {
    std::vector<std::vector<std::string>> out;
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
        auto words = prefix;
        words.push_back(sub->get_name());
        if (sub->get_subcommands([](const CLI::App*) { return true; }).empty()) {
            out.push_back(words);
        } else {
            auto deeper = Commands(*sub, words);
            out.insert(out.end(), deeper.begin(), deeper.end());
        }
    }
    return out;
}

const CLI::App& Find(const CLI::App& app, const std::vector<std::string>& words) {
    const CLI::App* at = &app;
    for (const auto& w : words) at = const_cast<CLI::App*>(at)->get_subcommand(w);
    return *at;
}

TEST(Cli, EveryCommandIsReachable) {
    Cli cli;
    std::vector<std::string> names;
    for (const auto& words : Commands(cli.app())) {
        std::string name;
        for (const auto& w : words) name += (name.empty() ? "" : " ") + w;
        names.push_back(name);
    }
    EXPECT_THAT(names, ::testing::UnorderedElementsAre(
                           "serve", "migrate", "issuer create", "issuer update", "apikey create",
                           "apikey list", "apikey revoke", "ca init", "ca cert", "ca revoke",
                           "ca tsa-cert", "sign", "verify", "user create"));
}

// `firmo <command> --help` exits 0 and lists every option the command accepts: the list comes
// from the CLI11 tree, so a new option cannot be left out of the help.
TEST(Cli, HelpListsEveryOptionOfEveryCommand) {
    Cli cli;
    for (const auto& words : Commands(cli.app())) {
        auto argv = words;
        argv.push_back("--help");
        const auto help = Firmo(argv);
        std::string name = words.front() + (words.size() > 1 ? " " + words[1] : "");
        EXPECT_EQ(help.code, 0) << name << ": " << help.err;
        EXPECT_THAT(help.out, HasSubstr("usage: firmo " + name)) << help.out;
        const CLI::App& command = Find(cli.app(), words);
        int options = 0;
        for (const CLI::Option* option : command.get_options()) {
            for (const auto& long_name : option->get_lnames()) {
                EXPECT_THAT(help.out, HasSubstr("--" + long_name)) << name;
                ++options;
            }
            if (option->get_positional()) {
                EXPECT_THAT(help.out, HasSubstr(option->get_name(true, false))) << name;
            }
        }
        EXPECT_GT(options, 1) << name;
    }
}

// The configuration commands take the flags of every key of the sections they use.
TEST(Cli, ConfigCommandsTakeTheFlagsOfTheirSections) {
    Cli cli;
    for (const std::vector<std::string>& words : {std::vector<std::string>{"serve"},
                                                  {"migrate"},
                                                  {"issuer", "create"},
                                                  {"apikey", "create"},
                                                  {"apikey", "revoke"}}) {
        const CLI::App& command = Find(cli.app(), words);
        const auto sections =
            Cli::SectionsOf(words.size() == 1 ? words[0] : words[0] + " " + words[1]);
        int flags = 0;
        for (const auto& key : ConfigKeys()) {
            const bool in_sections =
                std::find(sections.begin(), sections.end(), key.section) != sections.end();
            if (key.flag.empty() || !in_sections) continue;
            EXPECT_NO_THROW(const_cast<CLI::App&>(command).get_option("--" + std::string(key.flag)))
                << words[0] << " --" << key.flag;
            ++flags;
        }
        EXPECT_GT(flags, 2) << words[0];
        EXPECT_NO_THROW(const_cast<CLI::App&>(command).get_option("--config"));
    }
    // serve takes every flag there is.
    int all = 0;
    for (const auto& key : ConfigKeys()) all += key.flag.empty() ? 0 : 1;
    int serve = 0;
    for (const CLI::Option* option : Find(cli.app(), {"serve"}).get_options()) {
        serve += option->get_lnames().size() == 1 && option->get_lnames()[0] != "help" &&
                         option->get_lnames()[0] != "config"
                     ? 1
                     : 0;
    }
    EXPECT_EQ(serve, all);
}

TEST(Cli, UnknownOptionsAndCommandsAreUsageErrors) {
    const auto lisen = Firmo({"serve", "--lisen", "x"});
    EXPECT_EQ(lisen.code, 2);
    EXPECT_THAT(lisen.err, HasSubstr("firmo serve: "));
    EXPECT_THAT(lisen.err, HasSubstr("--lisen"));
    EXPECT_THAT(lisen.err, HasSubstr("firmo serve --help"));
    EXPECT_EQ(lisen.out, "");

    EXPECT_EQ(Firmo({"migrate", "stray"}).code, 2);
    EXPECT_EQ(Firmo({"sign", "--bogus", "1"}).code, 2);
    EXPECT_EQ(Firmo({"verify", "--data-dir", "/tmp", "a.pdf", "b.pdf"}).code, 2);
    EXPECT_EQ(Firmo({"ca", "frobnicate"}).code, 2);
    // A flag of another section: serve's --listen means nothing to migrate.
    EXPECT_EQ(Firmo({"migrate", "--listen", "127.0.0.1:0"}).code, 2);

    const auto unknown = Firmo({"frobnicate", "--data-dir", "/tmp"});
    EXPECT_EQ(unknown.code, 2);
    EXPECT_THAT(unknown.err, HasSubstr("unknown command 'frobnicate'"));
    const auto none = Firmo({});
    EXPECT_EQ(none.code, 2);
    EXPECT_THAT(none.err, HasSubstr("a command is required"));
    EXPECT_EQ(Firmo({"issuer"}).code, 2);
    EXPECT_EQ(Firmo({"ca"}).code, 2);
}

TEST(Cli, MissingOrMalformedValuesAreUsageErrors) {
    EXPECT_EQ(Firmo({"serve", "--listen"}).code, 2);
    EXPECT_EQ(Firmo({"issuer", "create", "--name", "X"}).code, 2);
    EXPECT_EQ(Firmo({"apikey", "create"}).code, 2);
    const auto neither = Firmo({"apikey", "revoke"});
    EXPECT_EQ(neither.code, 2);
    EXPECT_THAT(neither.err, HasSubstr("--id KEY_ID or --key KEY is required"));
    EXPECT_EQ(Firmo({"apikey", "revoke", "--id", "a", "--key", "b"}).code, 2);
    EXPECT_EQ(
        Firmo({"sign", "--data-dir", "d", "--in", "a", "--out", "b", "--name", "N", "--x", "left"})
            .code,
        2);
    EXPECT_EQ(Firmo({"ca", "init"}).code, 2);  // --data-dir is required
    EXPECT_EQ(Firmo({"ca", "init", "--data-dir", "d", "--key-type", "dsa"}).code, 2);
    EXPECT_EQ(Firmo({"verify"}).code, 2);  // the file is required

    // Values are checked by the configuration, which names the key.
    const auto threads = Firmo({"serve", "--io-threads", "65"});
    EXPECT_EQ(threads.code, 2);
    EXPECT_THAT(threads.err, HasSubstr("--io-threads (server.io_threads) = \"65\""));
}

TEST(Cli, HelpAndVersion) {
    const auto top = Firmo({"--help"});
    EXPECT_EQ(top.code, 0);
    EXPECT_THAT(top.out, HasSubstr("usage: firmo"));
    for (const char* command : {"serve", "migrate", "issuer", "apikey", "ca", "sign", "verify"}) {
        EXPECT_THAT(top.out, HasSubstr(command));
    }
    EXPECT_EQ(Firmo({"-h"}).code, 0);
    // Scripts append --data-dir to every command, --help included.
    EXPECT_EQ(Firmo({"--help", "--data-dir", "/tmp"}).code, 0);
    EXPECT_EQ(Firmo({"issuer", "--help"}).code, 0);
    EXPECT_EQ(Firmo({"ca", "--help"}).code, 0);

    const auto version = Firmo({"--version"});
    EXPECT_EQ(version.code, 0);
    EXPECT_THAT(version.out, StartsWith("firmo " + std::string(Version())));
    EXPECT_THAT(std::string(Version()), ::testing::MatchesRegex("[0-9]+\\.[0-9]+\\.[0-9]+.*"));
}

// The configuration commands run: a flag repeated keeps its last value, as scripts that append
// overrides expect.
TEST(Cli, ConfigCommandsRunWithTheirFlags) {
    firmo::testing::TempDir first{"firmo-cli-a"};
    firmo::testing::TempDir second{"firmo-cli-b"};
    const auto migrated =
        Firmo({"migrate", "--data-dir", (first.path() / "d").string(), "--data-dir",
               (second.path() / "d").string(), "--log-level", "warn"});
    ASSERT_EQ(migrated.code, 0) << migrated.err;
    EXPECT_EQ(migrated.out, "database is up to date\n");
    EXPECT_FALSE(std::filesystem::exists(first.path() / "d" / "firmo.db"));
    EXPECT_TRUE(std::filesystem::exists(second.path() / "d" / "firmo.db"));

    const std::string data = (second.path() / "d").string();
    const auto issuer = Firmo({"issuer", "create", "--name", "Comune", "--email",
                               "it@comune.example", "--data-dir", data});
    ASSERT_EQ(issuer.code, 0) << issuer.err;
    const std::string issuer_id = issuer.out.substr(0, issuer.out.size() - 1);
    const auto key = Firmo({"apikey", "create", "--issuer", issuer_id, "--data-dir", data});
    ASSERT_EQ(key.code, 0) << key.err;
    EXPECT_THAT(key.err, HasSubstr("key id "));
    const std::string secret = key.out.substr(0, key.out.size() - 1);
    const auto revoked = Firmo({"apikey", "revoke", "--key", secret, "--data-dir", data});
    ASSERT_EQ(revoked.code, 0) << revoked.err;
    EXPECT_THAT(revoked.out, StartsWith("revoked "));
    EXPECT_EQ(Firmo({"apikey", "revoke", "--key", secret, "--data-dir", data}).code, 1);
    const auto bad_email =
        Firmo({"issuer", "create", "--name", "X", "--email", "bad", "--data-dir", data});
    EXPECT_EQ(bad_email.code, 1);
    EXPECT_THAT(bad_email.err, HasSubstr("email"));
}

}  // namespace
}  // namespace firmo::app
