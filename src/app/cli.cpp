#include "app/cli.hpp"

#include <algorithm>
#include <ostream>

#include "app/commands.hpp"
#include "core/log.hpp"

namespace firmo::app {

namespace {

constexpr int kUsage = 2;

std::string SectionTitle(Section section) {
    switch (section) {
        case Section::kServer:
            return "Server";
        case Section::kJobs:
            return "Background jobs";
        case Section::kDatabase:
            return "Database";
        case Section::kStorage:
            return "Storage";
        case Section::kLimits:
            return "Limits";
        case Section::kLog:
            return "Logging";
        case Section::kMetrics:
            return "Metrics";
        case Section::kBootstrap:
            return "First start";
        case Section::kWeb:
            return "Signer portal";
        case Section::kOidc:
            return "eID login (OpenID Connect)";
        case Section::kNotify:
            return "Notifications";
        case Section::kSmtp:
            return "E-mail (SMTP)";
        case Section::kSms:
            return "SMS gateway";
        case Section::kWebhooks:
            return "Webhooks";
        case Section::kPolling:
            return "Polling";
        case Section::kVerify:
            return "Verification";
        case Section::kCa:
            return "Built-in CA";
        case Section::kQtsp:
            return "Qualified signatures (CSC API)";
    }
    return "Options";
}

// The key's documentation, then where else it can be set and its default.
std::string Describe(const ConfigKey& key) {
    std::string text = PlainText(key.doc) + " [" + std::string(key.toml);
    if (!key.env.empty()) text += ", " + std::string(key.env);
    return text + "; default " + PlainText(key.default_doc) + "]";
}

bool IsConfigFlag(std::string_view name) {
    for (const auto& key : ConfigKeys()) {
        if (!key.flag.empty() && key.flag == name) return true;
    }
    return false;
}

template <typename T>
CLI::Option* AddOptional(CLI::App* app, const std::string& name, std::optional<T>& target,
                         const std::string& description) {
    return app->add_option_function<T>(
        name, [&target](const T& value) { target = value; }, description);
}

// " apikey create": the subcommands chosen so far.
std::string CommandPath(const CLI::App& root) {
    std::string path;
    const CLI::App* at = &root;
    for (;;) {
        const auto chosen = at->get_subcommands();
        if (chosen.empty()) break;
        at = chosen.front();
        path += " " + at->get_name();
    }
    return path;
}

}  // namespace

std::vector<Section> Cli::SectionsOf(std::string_view command) {
    if (command == "serve") {
        return {Section::kServer, Section::kJobs,     Section::kDatabase, Section::kStorage,
                Section::kLimits, Section::kLog,      Section::kMetrics,  Section::kBootstrap,
                Section::kWeb,    Section::kOidc,     Section::kNotify,   Section::kSmtp,
                Section::kSms,    Section::kWebhooks, Section::kPolling,  Section::kVerify,
                Section::kCa,     Section::kQtsp};
    }
    if (command == "ca tsa-cert") return {Section::kStorage, Section::kCa, Section::kLog};
    // The setup URL is built from server.public_url.
    if (command == "user create") {
        return {Section::kServer, Section::kStorage, Section::kDatabase, Section::kLog};
    }
    // migrate, issuer create, apikey create|list|revoke, ca revoke: what Storage::Open reads.
    return {Section::kStorage, Section::kDatabase, Section::kLog};
}

Cli::Cli() : app_("firmo - self-hosted digital signature service", "firmo") {
    auto formatter = std::make_shared<CLI::Formatter>();
    formatter->label("Usage", "usage");
    formatter->column_width(36);
    app_.formatter(formatter);
    // Repeating an option keeps the last value (scripts append overrides).
    app_.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    app_.set_version_flag("--version", std::string("firmo ") + std::string(Version()),
                          "print the version and exit");
    app_.require_subcommand(1);
    app_.footer("Run `firmo <command> --help` for a command's options.");

    AddConfigCommand(serve_, app_, "serve",
                     "Serves the issuer API, the signer portal and the background work on "
                     "--listen until SIGTERM/SIGINT, then drains in-flight requests. Creates the "
                     "built-in CA and a first issuer with an API key when there are none.",
                     "serve");
    AddConfigCommand(migrate_, app_, "migrate", "Creates or upgrades the database schema.",
                     "migrate");

    CLI::App* issuer = app_.add_subcommand("issuer", "Manages issuers (institutions).");
    issuer->require_subcommand(1);
    AddConfigCommand(issuer_create_, *issuer, "create",
                     "Creates an issuer; prints its id on the last line.", "issuer create");
    issuer_create_.app->add_option("--name", issuer_name_, "the issuer's name")
        ->required()
        ->type_name("NAME");
    issuer_create_.app->add_option("--email", issuer_email_, "the issuer's contact e-mail")
        ->required()
        ->type_name("EMAIL");
    AddConfigCommand(issuer_update_, *issuer, "update",
                     "Changes how signers see an issuer (the options given; \"\" removes the "
                     "support URL or brand colour); prints its id on the last line.",
                     "issuer update");
    issuer_update_.app->add_option("--issuer", update_issuer_, "the issuer's id")
        ->required()
        ->type_name("ID");
    AddOptional(issuer_update_.app, "--display-name", update_patch_.display_name,
                "the name signers see")
        ->type_name("NAME");
    AddOptional(issuer_update_.app, "--support-email", update_patch_.support_email,
                "the contact address signers see")
        ->type_name("EMAIL");
    AddOptional(issuer_update_.app, "--support-url", update_patch_.support_url,
                "the help page signers see")
        ->type_name("URL");
    AddOptional(issuer_update_.app, "--brand-color", update_patch_.brand_color,
                "the colour of the portal's header, #rrggbb")
        ->type_name("COLOR");

    CLI::App* apikey = app_.add_subcommand("apikey", "Manages API keys.");
    apikey->require_subcommand(1);
    AddConfigCommand(apikey_create_, *apikey, "create",
                     "Creates an API key for an issuer; prints the key (shown only once) on the "
                     "last line.",
                     "apikey create");
    apikey_create_.app->add_option("--issuer", apikey_issuer_, "the issuer's id")
        ->required()
        ->type_name("ID");
    apikey_create_.app->add_option("--label", apikey_options_.label, "what the key is for")
        ->type_name("TEXT");
    apikey_create_.app
        ->add_option("--allowed-ips", apikey_options_.allowed_ips,
                     "the only client addresses it may be used from: addresses or CIDR "
                     "networks, IPv4 or IPv6, comma-separated (default: anywhere)")
        ->type_name("LIST");
    apikey_create_.app
        ->add_option("--mode", apikey_mode_,
                     "test: its requests are test requests, whose e-mails and SMS are recorded "
                     "and not sent and whose signatures say TEST; it reaches no live request "
                     "(docs/API.md \"Test keys\")")
        ->check(CLI::IsMember({"test", "live"}))
        ->default_str("live")
        ->type_name("test|live");
    AddConfigCommand(apikey_list_, *apikey, "list",
                     "Lists an issuer's API keys (revoked ones too), newest first, with their "
                     "last use (approximate to a minute).",
                     "apikey list");
    apikey_list_.app->add_option("--issuer", apikey_issuer_, "the issuer's id")
        ->required()
        ->type_name("ID");
    AddConfigCommand(apikey_revoke_, *apikey, "revoke",
                     "Revokes an API key, named by its id or by the key itself; it stops "
                     "working at the next call.",
                     "apikey revoke");
    auto* by_id = AddOptional(apikey_revoke_.app, "--id", revoke_id_, "the key's id");
    auto* by_key = AddOptional(apikey_revoke_.app, "--key", revoke_key_, "the key itself");
    by_id->type_name("KEY_ID")->excludes(by_key);
    by_key->type_name("KEY");

    AddCa();
    AddSign();
    AddVerify();

    CLI::App* user = app_.add_subcommand("user", "Manages the sender portal's staff accounts.");
    user->require_subcommand(1);
    AddConfigCommand(user_create_, *user, "create",
                     "Creates a staff account of an issuer for the sender portal (/app); prints "
                     "on the last line the one-time setup URL (24 h) where the person sets a "
                     "password.",
                     "user create");
    user_create_.app->add_option("--issuer", user_issuer_, "the issuer's id")
        ->required()
        ->type_name("ID");
    user_create_.app->add_option("--email", user_email_, "the person's e-mail (the login name)")
        ->required()
        ->type_name("EMAIL");
    user_create_.app->add_option("--role", user_role_, "what the person may do")
        ->required()
        ->type_name("admin|sender|viewer")
        ->check(CLI::IsMember({"admin", "sender", "viewer"}));
}

void Cli::AddConfigCommand(ConfigCommand& command, CLI::App& parent, const std::string& name,
                           const std::string& description, std::string path) {
    command.app = parent.add_subcommand(name, description);
    command.path = std::move(path);
    AddOptional(command.app, "--config", command.config_file,
                "TOML configuration file [FIRMO_CONFIG]")
        ->type_name("FILE");
    const auto sections = SectionsOf(command.path);
    for (const auto& key : ConfigKeys()) {
        if (key.flag.empty()) continue;
        if (std::find(sections.begin(), sections.end(), key.section) == sections.end()) continue;
        command.app
            ->add_option("--" + std::string(key.flag), CLI::callback_t{}, Describe(key), false)
            ->type_name(std::string(key.value_name))
            ->expected(1)
            ->group(SectionTitle(key.section));
    }
}

void Cli::AddCa() {
    CLI::App* ca = app_.add_subcommand(
        "ca",
        "The built-in CA: `ca init` creates it, `ca cert` prints its certificate, `ca revoke` "
        "revokes one it issued, `ca tsa-cert` prints the time-stamp authority's chain.");
    ca->require_subcommand(1);
    ca_init_ = ca->add_subcommand(
        "init",
        "Creates the built-in CA: DIR/ca/ca-key.pem (mode 0600, encrypted with the passphrase "
        "from --passphrase-file or $FIRMO_CA_PASSPHRASE) and DIR/ca/ca-cert.pem. With "
        "--pkcs11-uri the key is an existing private key in a PKCS#11 token (e.g. "
        "\"pkcs11:token=firmo;object=ca;type=private\"), the passphrase is the token PIN, and "
        "only the URI is stored (DIR/ca/ca-key.uri).");
    auto& o = ca_init_options_;
    ca_init_->add_option("--data-dir", o.data_dir, "the data folder to create the CA in")
        ->required()
        ->type_name("DIR");
    ca_init_
        ->add_option_function<std::string>(
            "--key-type",
            [&o](const std::string& text) { o.key_type = *crypto::ParseKeyType(text); },
            "ecdsa-p256 (default) or rsa-3072")
        ->check(CLI::IsMember({"ecdsa-p256", "rsa-3072"}))
        ->type_name("TYPE");
    AddOptional(ca_init_, "--common-name", o.common_name,
                "the CA's common name (default \"Firmo Signing CA\")")
        ->type_name("CN");
    AddOptional(ca_init_, "--organization", o.organization,
                "the CA's organization (default \"Firmo\")")
        ->type_name("O");
    ca_init_->add_option("--country", o.country, "the CA's country, e.g. IT")->type_name("CC");
    AddOptional(ca_init_, "--validity-days", o.validity_days,
                "how long the CA certificate is valid, 1 to 36500 days (default 3650)")
        ->type_name("N");
    AddOptional(ca_init_, "--passphrase-file", o.passphrase.passphrase_file,
                "the key's passphrase (first line; default: $FIRMO_CA_PASSPHRASE; none: the key "
                "is stored unencrypted)")
        ->type_name("FILE");
    AddOptional(ca_init_, "--pkcs11-uri", o.pkcs11_uri,
                "the CA key is this private key in a PKCS#11 token (RFC 7512 URI, no PIN)")
        ->type_name("URI");
    ca_init_
        ->add_option("--pkcs11-module", o.pkcs11_module,
                     "the PKCS#11 library (default: p11-kit's modules)")
        ->type_name("LIB");

    ca_cert_ = ca->add_subcommand(
        "cert", "Prints the CA certificate (PEM), to give to verifiers as a trust anchor.");
    ca_cert_->add_option("--data-dir", ca_cert_dir_, "the data folder holding the CA")
        ->required()
        ->type_name("DIR");

    AddConfigCommand(ca_revoke_, *ca, "revoke",
                     "Revokes a certificate of the built-in CA, named by its serial number (hex, "
                     "as `openssl x509 -serial` prints it): the CRL and OCSP say so at once.",
                     "ca revoke");
    ca_revoke_.app->add_option("serial", revoke_serial_, "the certificate's serial number")
        ->required()
        ->type_name("SERIAL");
    ca_revoke_.app
        ->add_option("--reason", revoke_reason_,
                     "RFC 5280 reason: unspecified (default), keyCompromise, cACompromise, "
                     "affiliationChanged, superseded, cessationOfOperation, certificateHold, "
                     "privilegeWithdrawn, aACompromise")
        ->check([](const std::string& text) {
            return crypto::ParseRevocationReason(text) ? std::string()
                                                       : "not an RFC 5280 reason: " + text;
        })
        ->type_name("REASON");
    AddConfigCommand(ca_tsa_cert_, *ca, "tsa-cert",
                     "Prints the built-in time-stamp authority's certificate chain (PEM: its "
                     "certificate, then the CA's), creating it if needed.",
                     "ca tsa-cert");
}

void Cli::AddSign() {
    sign_ = app_.add_subcommand(
        "sign",
        "Signs one signature field of a PDF with a short-lived certificate from the built-in CA "
        "(PAdES B-B, incremental update). Give exactly one of --fiscal-code, --nin, "
        "--serial-number, and either --field or --page/--x/--y/--w/--h.");
    auto& o = sign_options_;
    sign_->add_option("--data-dir", o.data_dir, "the data folder holding the CA")
        ->required()
        ->type_name("DIR");
    sign_->add_option("--in", o.in, "the PDF to sign")->required()->type_name("IN.pdf");
    sign_->add_option("--out", o.out, "where to write the signed PDF")
        ->required()
        ->type_name("OUT.pdf");
    sign_->add_option("--name", o.name, "the signer's full name")->required()->type_name("NAME");
    AddOptional(sign_, "--fiscal-code", o.fiscal_code, "the signer's Italian fiscal code")
        ->type_name("CODE");
    AddOptional(sign_, "--nin", o.nin, "the signer's Norwegian national identity number")
        ->type_name("NUMBER");
    AddOptional(sign_, "--serial-number", o.serial_number,
                "the certificate's serialNumber as given")
        ->type_name("TEXT");
    AddOptional(sign_, "--field", o.field,
                "an existing, empty signature field (fully qualified name)")
        ->type_name("NAME");
    AddOptional(sign_, "--page", o.page, "a new field: its page, from 0")->type_name("N");
    AddOptional(sign_, "--x", o.x, "a new field: points from the page's left")->type_name("X");
    AddOptional(sign_, "--y", o.y, "a new field: points from the page's top")->type_name("Y");
    AddOptional(sign_, "--w", o.w, "a new field: width in points")->type_name("W");
    AddOptional(sign_, "--h", o.h, "a new field: height in points")->type_name("H");
    sign_
        ->add_option("--clause", o.clause,
                     "the clause shown in the appearance (and /Reason by default)")
        ->type_name("TEXT");
    sign_->add_option("--reason", o.reason, "/Reason of the signature")->type_name("TEXT");
    sign_->add_option("--location", o.location, "/Location of the signature")->type_name("TEXT");
    sign_->add_option("--field-name", o.field_name, "name of the new field (default Signature<n>)")
        ->type_name("NAME");
    sign_->add_flag("--invisible", o.invisible, "no visible appearance");
    sign_->add_option("--given-name", o.given_name, "the certificate subject's given name")
        ->type_name("G");
    sign_->add_option("--surname", o.surname, "the certificate subject's surname")->type_name("S");
    sign_->add_option("--email", o.email, "the certificate subject's e-mail")->type_name("E");
    sign_->add_option("--country", o.country, "the certificate subject's country")->type_name("CC");
    AddOptional(sign_, "--passphrase-file", o.passphrase.passphrase_file,
                "the CA key's passphrase (first line; default: $FIRMO_CA_PASSPHRASE)")
        ->type_name("FILE");
    AddOptional(sign_, "--tsa-url", o.tsa_url,
                "time-stamp each signature at this RFC 3161 TSA (PAdES B-T)")
        ->type_name("URL");
    AddOptional(sign_, "--level", o.level,
                "PAdES baseline level: b-b, b-t, b-lt (+ DSS with OCSP) or b-lta (+ document "
                "time-stamp); b-t and above need --tsa-url (default: b-t with it, else b-b)")
        ->type_name("LEVEL");
    sign_
        ->add_option("--pkcs11-module", o.pkcs11_module,
                     "PKCS#11 library, when the CA key is in a token (PIN as passphrase)")
        ->type_name("LIB");
}

void Cli::AddVerify() {
    verify_ = app_.add_subcommand(
        "verify",
        "Verifies every signature of a PDF: digest, byte range, changes made after it, and the "
        "certificate chain against the CA in --data-dir and/or the --trust certificates. Exits "
        "0 only when the document is signed and every signature is valid.");
    auto& o = verify_options_;
    AddOptional(verify_, "--data-dir", o.data_dir, "trust the built-in CA of this data folder")
        ->type_name("DIR");
    verify_->add_option("--trust", o.trust, "trust this CA certificate (PEM); repeatable")
        ->type_name("CA.pem")
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    verify_->add_flag("--json", o.json, "print the report as JSON");
    AddOptional(verify_, "--at", o.at,
                "validate at this time (RFC 3339) instead of now, with the validation data in "
                "the file only")
        ->type_name("TIME");
    verify_->add_option("file", o.file, "the PDF to verify")->required()->type_name("FILE.pdf");
}

int Cli::RunConfigCommand(const ConfigCommand& command, std::ostream& out, std::ostream& err) {
    ConfigSources sources;
    sources.file = command.config_file;
    sources.env = ProcessEnv;
    for (const CLI::Option* option : command.app->get_options()) {
        const std::string name = option->get_single_name();
        if (option->count() == 0 || !IsConfigFlag(name)) continue;
        sources.flags.emplace_back(name, option->results().back());
    }
    auto config = LoadConfig(sources);
    if (!config) {
        err << "firmo: " << config.error().message << "\n";
        return kUsage;
    }
    log::SetLevel(config->log.level);
    log::SetFormat(config->log.format);
    log::SetNode(NodeId(config->server));
    if (&command == &serve_) return RunServe(*config, out, err);
    if (&command == &migrate_) return RunMigrate(*config, out, err);
    if (&command == &issuer_create_) {
        return RunIssuerCreate(*config, issuer_name_, issuer_email_, out, err);
    }
    if (&command == &issuer_update_) {
        return RunIssuerUpdate(*config, update_issuer_, update_patch_, out, err);
    }
    if (&command == &apikey_create_) {
        apikey_options_.test = apikey_mode_ == "test";
        return RunApiKeyCreate(*config, apikey_issuer_, apikey_options_, out, err);
    }
    if (&command == &apikey_list_) return RunApiKeyList(*config, apikey_issuer_, out, err);
    if (&command == &ca_revoke_) {
        return RunCaRevoke(*config, revoke_serial_, revoke_reason_, out, err);
    }
    if (&command == &ca_tsa_cert_) return RunCaTsaCert(*config, out, err);
    if (&command == &user_create_) {
        return RunUserCreate(*config, user_issuer_, user_email_, user_role_, out, err);
    }
    return RunApiKeyRevoke(*config, revoke_id_, revoke_key_, out, err);
}

int Cli::Run(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
    if (argv.empty()) {
        err << "firmo: a command is required\n\n" << app_.help();
        return kUsage;
    }
    const std::string& first = argv.front();
    if (!first.starts_with("-") &&
        app_.get_subcommands([&](const CLI::App* a) { return a->get_name() == first; }).empty()) {
        err << "firmo: unknown command '" << first << "'\n\n" << app_.help();
        return kUsage;
    }
    std::vector<std::string> reversed(argv.rbegin(), argv.rend());
    try {
        app_.parse(reversed);
    } catch (const CLI::CallForHelp& e) {
        return app_.exit(e, out, err);
    } catch (const CLI::CallForAllHelp& e) {
        return app_.exit(e, out, err);
    } catch (const CLI::CallForVersion& e) {
        return app_.exit(e, out, err);
    } catch (const CLI::ParseError& e) {
        const std::string path = CommandPath(app_);
        err << "firmo" << path << ": " << e.what() << "\n"
            << "Run `firmo" << path << " --help` for the options.\n";
        return kUsage;
    }
    for (ConfigCommand* command :
         {&serve_, &migrate_, &issuer_create_, &issuer_update_, &apikey_create_, &apikey_revoke_,
          &ca_revoke_, &ca_tsa_cert_, &user_create_, &apikey_list_}) {
        if (!command->app->parsed()) continue;
        if (command == &apikey_revoke_ && !revoke_id_ && !revoke_key_) {
            err << "firmo apikey revoke: --id KEY_ID or --key KEY is required\n";
            return kUsage;
        }
        return RunConfigCommand(*command, out, err);
    }
    if (sign_->parsed()) return pdf::RunSign(sign_options_, out, err);
    if (verify_->parsed()) return pdf::RunVerify(verify_options_, out, err);
    if (ca_init_->parsed()) return pdf::RunCaInit(ca_init_options_, out, err);
    if (ca_cert_->parsed()) return pdf::RunCaCert(ca_cert_dir_, out, err);
    err << "firmo: a command is required\n";
    return kUsage;
}

int Main(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
    Cli cli;
    return cli.Run(argv, out, err);
}

}  // namespace firmo::app
