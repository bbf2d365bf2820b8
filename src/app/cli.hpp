#pragma once
// The `firmo` command line, parsed with CLI11: every command and its options (all listed by
// `firmo <command> --help`), `firmo --version`, then the command runs. An unknown command or
// option, a missing or malformed value, is a usage error: a message on stderr, exit code 2.
// Configuration flags are the keys of app/config.hpp (a command takes those of the sections it
// uses); LoadConfig checks their values together with the file and the environment.

#include <CLI/CLI.hpp>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "app/config.hpp"
#include "app/version.hpp"
#include "domain/services/issuer_service.hpp"
#include "pdf/cli.hpp"

namespace firmo::app {

// Returns the process exit code: 0 success, 1 failure, 2 usage error.
int Main(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err);

// The command tree and the values its options parse into; one per run.
class Cli {
  public:
    Cli();
    Cli(const Cli&) = delete;
    Cli& operator=(const Cli&) = delete;

    CLI::App& app() { return app_; }
    // Parses `argv` (without the program name) and runs the chosen command.
    int Run(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err);

    // The sections whose keys are flags of a configuration command.
    static std::vector<Section> SectionsOf(std::string_view command);

  private:
    // A command that reads the configuration: --config and the flags of its sections.
    struct ConfigCommand {
        CLI::App* app = nullptr;
        std::string path;  // "apikey create"
        std::optional<std::string> config_file;
    };
    // Adds `command` under `parent`; its options parse into `command` itself.
    void AddConfigCommand(ConfigCommand& command, CLI::App& parent, const std::string& name,
                          const std::string& description, std::string path);
    int RunConfigCommand(const ConfigCommand& command, std::ostream& out, std::ostream& err);
    void AddSign();
    void AddVerify();
    void AddCa();

    CLI::App app_;
    ConfigCommand serve_;
    ConfigCommand migrate_;
    ConfigCommand issuer_create_;
    ConfigCommand issuer_update_;
    ConfigCommand apikey_create_;
    ConfigCommand apikey_revoke_;
    ConfigCommand apikey_list_;
    domain::ApiKeyOptions apikey_options_;
    std::string apikey_mode_ = "live";
    ConfigCommand ca_revoke_;
    ConfigCommand ca_tsa_cert_;
    ConfigCommand user_create_;
    CLI::App* sign_ = nullptr;
    CLI::App* verify_ = nullptr;
    CLI::App* ca_init_ = nullptr;
    CLI::App* ca_cert_ = nullptr;

    std::string issuer_name_;
    std::string issuer_email_;
    std::string apikey_issuer_;
    std::string update_issuer_;
    domain::IssuerIdentityPatch update_patch_;
    std::optional<std::string> revoke_id_;
    std::optional<std::string> revoke_key_;
    pdf::SignOptions sign_options_;
    pdf::VerifyCommandOptions verify_options_;
    pdf::CaInitOptions ca_init_options_;
    std::filesystem::path ca_cert_dir_;
    std::string revoke_serial_;
    std::string revoke_reason_ = "unspecified";
    std::string user_issuer_;
    std::string user_email_;
    std::string user_role_;
};

}  // namespace firmo::app
