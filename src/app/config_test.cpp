#include "app/config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "core/testing/temp_dir.hpp"

namespace firmo::app {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

// A configuration from a TOML text (when not empty), an environment and flags; the process
// environment is never read.
class Sources {
  public:
    Sources& File(const std::string& toml) {
        file_ = (dir_.path() / "firmo.toml").string();
        std::ofstream(*file_) << toml;
        return *this;
    }
    Sources& Env(const std::string& name, const std::string& value) {
        env_[name] = value;
        return *this;
    }
    Sources& Flag(const std::string& name, const std::string& value) {
        flags_.emplace_back(name, value);
        return *this;
    }
    Result<Config> Load() const {
        ConfigSources sources;
        sources.file = file_;
        sources.env = [env = env_](std::string_view name) -> std::optional<std::string> {
            const auto it = env.find(std::string(name));
            if (it == env.end()) return std::nullopt;
            return it->second;
        };
        sources.flags = flags_;
        return LoadConfig(sources);
    }
    // The error message of a load that must fail.
    std::string Error() const {
        auto c = Load();
        EXPECT_FALSE(c);
        return c ? std::string() : c.error().message;
    }
    const std::string& file() const { return *file_; }

  private:
    firmo::testing::TempDir dir_{"firmo-config"};
    std::optional<std::string> file_;
    std::map<std::string, std::string> env_;
    std::vector<std::pair<std::string, std::string>> flags_;
};

TEST(Config, DefaultsThenFileThenEnvThenFlags) {
    Sources s;
    s.File(
         "[server]\nlisten = \"127.0.0.1:9000\"\nworker_threads = 3\nio_threads = 2\n"
         "[storage]\ndata_dir = \"/tmp/from-file\"\n")
        .Env("FIRMO_DATA_DIR", "/tmp/from-env")
        .Env("FIRMO_WORKER_THREADS", "5")
        .Flag("worker-threads", "6");
    auto c = s.Load();
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c->server.listen.host, "127.0.0.1");
    EXPECT_EQ(c->server.listen.port, 9000);
    EXPECT_EQ(c->storage.data_dir, "/tmp/from-env");
    EXPECT_EQ(c->server.database_threads, 6);  // worker_threads: the database lane's former name
    EXPECT_EQ(c->server.io_threads, 2);
    EXPECT_EQ(c->server.read_timeout, 30s);  // untouched: the default
}

TEST(Config, FileComesFromTheFlagOrFirmoConfig) {
    Sources from_env;
    from_env.File("[server]\nlisten = \"127.0.0.1:9001\"\n");
    ConfigSources sources;
    const std::string file = from_env.file();
    sources.env = [file](std::string_view name) -> std::optional<std::string> {
        if (name == "FIRMO_CONFIG") return file;
        return std::nullopt;
    };
    auto c = LoadConfig(sources);
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c->server.listen.port, 9001);
}

TEST(Config, DefaultsAreTheDocumentedOnes) {
    auto c = Sources().Load();
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c->server.listen.host, "127.0.0.1");
    EXPECT_EQ(c->server.listen.port, 8080);
    EXPECT_EQ(c->server.tls_min_version, http::TlsVersion::kTls12);
    EXPECT_FALSE(c->server.tls());
    EXPECT_EQ(c->jobs.lease, 60s);
    EXPECT_EQ(c->storage.data_dir, "./data");
    EXPECT_EQ(c->log.level, log::Level::kInfo);
    EXPECT_EQ(c->web.secure_cookies, SecureCookies::kAuto);
    EXPECT_EQ(c->notify.code_delivery, CodeDelivery::kAuto);
    EXPECT_EQ(c->smtp.starttls, notify::StartTls::kRequired);
    EXPECT_EQ(c->oidc.identifier_kind, domain::IdentifierKind::kItFiscalCode);
    ASSERT_EQ(c->notify.reminders.size(), 2u);
    EXPECT_EQ(c->notify.reminders[0].channel, domain::Channel::kEmail);
    EXPECT_EQ(c->notify.reminders[0].before_expiry, 168h);
    EXPECT_EQ(c->notify.reminders[1].channel, domain::Channel::kSms);
    EXPECT_EQ(c->notify.reminders[1].before_expiry, 24h);
#ifdef FIRMO_DEFAULT_ASSETS_DIR
    EXPECT_EQ(c->web.assets_dir, FIRMO_DEFAULT_ASSETS_DIR);
#endif
}

// Every closed set of values is an enum, from any source.
TEST(Config, EnumsFromEverySource) {
    auto c = Sources()
                 .File(
                     "[log]\nlevel = \"debug\"\n[smtp]\nstarttls = \"none\"\n"
                     "[oidc]\nidentifier_kind = \"no_nin\"\n")
                 .Env("FIRMO_SECURE_COOKIES", "false")
                 .Env("FIRMO_CODE_DELIVERY", "log")
                 .Flag("tls-min-version", "1.3")
                 .Load();
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c->log.level, log::Level::kDebug);
    EXPECT_EQ(c->smtp.starttls, notify::StartTls::kNone);
    EXPECT_EQ(c->oidc.identifier_kind, domain::IdentifierKind::kNoNationalId);
    EXPECT_EQ(c->web.secure_cookies, SecureCookies::kOff);
    EXPECT_EQ(c->notify.code_delivery, CodeDelivery::kLog);
    EXPECT_EQ(c->server.tls_min_version, http::TlsVersion::kTls13);

    const std::vector<std::pair<std::string, std::string>> others = {
        {"log-level", "warn"},
        {"log-level", "error"},
        {"smtp-starttls", "opportunistic"},
        {"secure-cookies", "true"},
        {"secure-cookies", "auto"},
        {"code-delivery", "smtp"},
        {"oidc-identifier-kind", "it_fiscal_code"},
        {"tls-min-version", "1.2"}};
    for (const auto& [flag, value] : others) {
        EXPECT_TRUE(Sources().Flag(flag, value).Load()) << flag << " " << value;
    }
    EXPECT_EQ(Sources().Flag("log-level", "warn").Load()->log.level, log::Level::kWarn);
    EXPECT_EQ(Sources().Flag("smtp-starttls", "opportunistic").Load()->smtp.starttls,
              notify::StartTls::kOpportunistic);
    EXPECT_EQ(Sources().Flag("secure-cookies", "true").Load()->web.secure_cookies,
              SecureCookies::kOn);
    EXPECT_EQ(Sources().Flag("code-delivery", "smtp").Load()->notify.code_delivery,
              CodeDelivery::kSmtp);
}

// A bad value names the key, where it came from, the value and what would be valid.
TEST(Config, BadValuesNameTheKeyTheSourceAndTheRule) {
    const std::string in_file = Sources().File("[server]\nio_threads = 65\n").Error();
    EXPECT_THAT(in_file, HasSubstr("firmo.toml: server.io_threads = \"65\": must be an integer "
                                   "from 0 to 64"));
    EXPECT_THAT(in_file, HasSubstr("config "));

    EXPECT_EQ(Sources().Env("FIRMO_JOB_LEASE_MS", "0").Error(),
              "environment variable FIRMO_JOB_LEASE_MS (jobs.lease_ms) = \"0\": must be an "
              "integer from 1000 to 3600000");
    EXPECT_EQ(Sources().Flag("log-level", "loud").Error(),
              "--log-level (log.level) = \"loud\": must be one of debug, info, warn, error");
    EXPECT_EQ(Sources().Flag("smtp-starttls", "maybe").Error(),
              "--smtp-starttls (smtp.starttls) = \"maybe\": must be one of none, opportunistic, "
              "required");
    EXPECT_THAT(Sources().Flag("listen", "nohost").Error(),
                HasSubstr("--listen (server.listen) = \"nohost\": must be HOST:PORT"));
    EXPECT_THAT(Sources().Flag("listen", "127.0.0.1:99999").Error(), HasSubstr("HOST:PORT"));
    EXPECT_THAT(Sources().Flag("public-url", "ftp://x").Error(),
                HasSubstr("a URL starting with http:// or https://"));
    EXPECT_THAT(Sources().Flag("database-url", "mysql://x").Error(), HasSubstr("database.url"));
    EXPECT_THAT(Sources().Flag("s3-direct-urls", "maybe").Error(), HasSubstr("true or false"));
    EXPECT_THAT(Sources().Flag("trusted-proxies", "10.0.0.0/99").Error(),
                HasSubstr("server.trusted_proxies"));
    EXPECT_THAT(Sources().Flag("sms-auth-header", "A: b\r\nC: d").Error(),
                HasSubstr("must be one line"));
    EXPECT_THAT(Sources().Flag("reminders", "email:7x").Error(),
                HasSubstr("\"email:7x\" is not one"));
    EXPECT_THAT(Sources().Flag("reminders", "fax:7d").Error(), HasSubstr("\"fax:7d\""));
    EXPECT_THAT(Sources().Flag("job-lease-ms", "60s").Error(), HasSubstr("jobs.lease_ms"));
    EXPECT_THAT(Sources().File("[server]\nio_threads = 1.5\n").Error(),
                HasSubstr("server.io_threads must be a string, an integer or a boolean"));
}

TEST(Config, LanesLogFormatNodeAndMetricsAllow) {
    auto defaults = Sources().Load();
    ASSERT_TRUE(defaults);
    EXPECT_EQ(defaults->server.io_threads, 0);        // one per core
    EXPECT_FALSE(defaults->server.database_threads);  // auto
    EXPECT_EQ(defaults->server.heavy_threads, 2);
    EXPECT_EQ(defaults->server.heavy_queue, 16);
    EXPECT_EQ(defaults->log.format, log::Format::kText);
    EXPECT_EQ(defaults->server.node_id, "");
    EXPECT_TRUE(defaults->metrics.allow.Contains("127.0.0.1"));
    EXPECT_TRUE(defaults->metrics.allow.Contains("::1"));
    EXPECT_FALSE(defaults->metrics.allow.Contains("10.1.2.3"));
    auto c = Sources()
                 .Flag("database-threads", "auto")
                 .Flag("heavy-threads", "3")
                 .Flag("heavy-queue", "0")
                 .Flag("log-format", "json")
                 .Flag("node-id", "web-1")
                 .Flag("metrics-allow", "10.0.0.0/8")
                 .Load();
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_FALSE(c->server.database_threads);
    EXPECT_EQ(c->server.heavy_threads, 3);
    EXPECT_EQ(c->server.heavy_queue, 0);
    EXPECT_EQ(c->log.format, log::Format::kJson);
    EXPECT_EQ(c->server.node_id, "web-1");
    EXPECT_TRUE(c->metrics.allow.Contains("10.1.2.3"));
    EXPECT_FALSE(c->metrics.allow.Contains("127.0.0.1"));
    auto env = Sources().Env("FIRMO_LOG_FORMAT", "json").Flag("database-threads", "4").Load();
    ASSERT_TRUE(env);
    EXPECT_EQ(env->log.format, log::Format::kJson);
    EXPECT_EQ(env->server.database_threads, 4);

    EXPECT_THAT(Sources().Flag("worker-threads", "-1").Error(), HasSubstr("server.worker_threads"));
    EXPECT_THAT(Sources().Flag("heavy-threads", "0").Error(), HasSubstr("server.heavy_threads"));
    EXPECT_THAT(Sources().Flag("log-format", "xml").Error(), HasSubstr("one of text, json"));
    EXPECT_THAT(Sources().Flag("metrics-allow", "localhost").Error(), HasSubstr("metrics.allow"));
    EXPECT_THAT(Sources().Flag("node-id", "a b").Error(), HasSubstr("server.node_id"));
}

TEST(Config, SecretsAreNeverEchoed) {
    const std::string message =
        Sources().Env("FIRMO_SMS_AUTH_HEADER", "Authorization: Bearer s3cr3t\nX").Error();
    EXPECT_THAT(message, HasSubstr("FIRMO_SMS_AUTH_HEADER"));
    EXPECT_THAT(message, HasSubstr("(hidden)"));
    EXPECT_THAT(message, ::testing::Not(HasSubstr("s3cr3t")));
}

TEST(Config, UnknownKeysAreErrors) {
    EXPECT_THAT(Sources().File("[server]\nlisten_adress = \"x\"\n").Error(),
                HasSubstr("unknown key server.listen_adress"));
    EXPECT_THAT(Sources().File("listen = \"x\"\n").Error(), HasSubstr("unknown key listen"));
    EXPECT_THAT(Sources().Flag("lisen", "x").Error(), HasSubstr("unknown option --lisen"));
    ConfigSources missing;
    missing.file = "/nonexistent/firmo.toml";
    auto c = LoadConfig(missing);
    ASSERT_FALSE(c);
    EXPECT_THAT(c.error().message, HasSubstr("/nonexistent/firmo.toml"));
}

TEST(Config, JobLeaseFromFileEnvAndFlagWithinItsRange) {
    EXPECT_EQ(Sources().File("[jobs]\nlease_ms = 5000\n").Load()->jobs.lease, 5000ms);
    EXPECT_EQ(Sources()
                  .File("[jobs]\nlease_ms = 5000\n")
                  .Env("FIRMO_JOB_LEASE_MS", "7000")
                  .Load()
                  ->jobs.lease,
              7000ms);
    EXPECT_EQ(Sources()
                  .File("[jobs]\nlease_ms = 5000\n")
                  .Env("FIRMO_JOB_LEASE_MS", "7000")
                  .Flag("job-lease-ms", "9000")
                  .Load()
                  ->jobs.lease,
              9000ms);
    // 1 s .. 1 h: shorter leases would expire under a busy node's ordinary jobs.
    EXPECT_TRUE(Sources().Flag("job-lease-ms", "1000").Load());
    EXPECT_TRUE(Sources().Flag("job-lease-ms", "3600000").Load());
    EXPECT_FALSE(Sources().Flag("job-lease-ms", "999").Load());
    EXPECT_FALSE(Sources().Flag("job-lease-ms", "3600001").Load());
}

TEST(Config, TlsNeedsBothFilesFromAnySourceAndSaysWhereTheOneCameFrom) {
    const std::string only_cert = Sources().Flag("tls-cert-file", "/etc/firmo/chain.pem").Error();
    EXPECT_THAT(only_cert, HasSubstr("server.tls_key_file is missing"));
    EXPECT_THAT(only_cert, HasSubstr("server.tls_cert_file is set by --tls-cert-file"));
    const std::string only_key = Sources().Env("FIRMO_TLS_KEY_FILE", "/etc/firmo/key.pem").Error();
    EXPECT_THAT(only_key, HasSubstr("server.tls_cert_file is missing"));
    EXPECT_THAT(only_key, HasSubstr("environment variable FIRMO_TLS_KEY_FILE"));

    // One from the environment, the other from a flag.
    auto both = Sources()
                    .Env("FIRMO_TLS_CERT_FILE", "/etc/firmo/chain.pem")
                    .Flag("tls-key-file", "/etc/firmo/key.pem")
                    .Flag("tls-min-version", "1.3")
                    .Load();
    ASSERT_TRUE(both) << both.error().message;
    EXPECT_TRUE(both->server.tls());
    EXPECT_EQ(both->server.tls_cert_file, "/etc/firmo/chain.pem");
    EXPECT_EQ(both->server.tls_key_file, "/etc/firmo/key.pem");
    EXPECT_FALSE(Sources().Flag("tls-min-version", "1.1").Load());
}

TEST(Config, DirectUrlsNeedAnObjectStore) {
    EXPECT_THAT(Sources().File("[storage]\ns3_direct_urls = true\n").Error(),
                HasSubstr("storage.s3_direct_urls (set by config "));
    EXPECT_TRUE(
        Sources().Flag("s3-direct-urls", "true").Flag("storage-url", "s3://bucket/prefix").Load());
}

TEST(Config, RemindersParseToASchedule) {
    auto c = Sources().Flag("reminders", "email:7d,,sms:36h").Load();
    ASSERT_TRUE(c) << c.error().message;
    ASSERT_EQ(c->notify.reminders.size(), 2u);
    EXPECT_EQ(c->notify.reminders[0].before_expiry, 168h);
    EXPECT_EQ(c->notify.reminders[1].channel, domain::Channel::kSms);
    EXPECT_EQ(c->notify.reminders[1].before_expiry, 36h);
    EXPECT_TRUE(Sources().Flag("reminders", "").Load()->notify.reminders.empty());
    EXPECT_FALSE(Sources().Flag("reminders", "email:0h").Load());
    EXPECT_FALSE(Sources().Flag("reminders", "email:-1d").Load());
}

TEST(Config, ListenAddressesAndUrls) {
    auto v6 = Sources().Flag("listen", "[::1]:8443").Load();
    ASSERT_TRUE(v6) << v6.error().message;
    EXPECT_EQ(v6->server.listen.host, "::1");
    EXPECT_EQ(v6->server.listen.port, 8443);
    EXPECT_EQ(ListenUrl(v6->server, 8443), "http://[::1]:8443");

    ServerConfig server;
    EXPECT_EQ(ListenUrl(server, 8080), "http://127.0.0.1:8080");
    EXPECT_EQ(PublicUrl(server, 8080), "http://127.0.0.1:8080");
    server.tls_cert_file = "chain.pem";
    server.tls_key_file = "key.pem";
    EXPECT_EQ(ListenUrl(server, 8443), "https://127.0.0.1:8443");
    EXPECT_EQ(PublicUrl(server, 8443), "https://127.0.0.1:8443");
    auto with_public = Sources().Flag("public-url", "https://sign.example.org//").Load();
    ASSERT_TRUE(with_public);
    EXPECT_EQ(PublicUrl(with_public->server, 8443), "https://sign.example.org");
}

TEST(Config, SecureCookiesUnlessPlainHttpLoopback) {
    EXPECT_FALSE(UseSecureCookies(SecureCookies::kAuto, "http://127.0.0.1:8080"));
    EXPECT_FALSE(UseSecureCookies(SecureCookies::kAuto, "http://localhost:8080"));
    EXPECT_FALSE(UseSecureCookies(SecureCookies::kAuto, "http://[::1]:8080"));
    // HTTPS served by Firmo on loopback: browsers keep Secure cookies there.
    EXPECT_TRUE(UseSecureCookies(SecureCookies::kAuto, "https://127.0.0.1:8443"));
    EXPECT_TRUE(UseSecureCookies(SecureCookies::kAuto, "https://localhost:8443"));
    EXPECT_TRUE(UseSecureCookies(SecureCookies::kAuto, "https://sign.example.org"));
    EXPECT_TRUE(UseSecureCookies(SecureCookies::kAuto, "http://sign.example.org"));
    EXPECT_FALSE(UseSecureCookies(SecureCookies::kOff, "https://sign.example.org"));
    EXPECT_TRUE(UseSecureCookies(SecureCookies::kOn, "http://127.0.0.1:8080"));
}

TEST(Config, CodesGoBySmtpWhenConfigured) {
    EXPECT_FALSE(SendsCodesBySmtp(*Sources().Load()));
    EXPECT_TRUE(SendsCodesBySmtp(*Sources().Flag("smtp-url", "smtp://127.0.0.1:25").Load()));
    EXPECT_FALSE(SendsCodesBySmtp(
        *Sources().Flag("smtp-url", "smtp://127.0.0.1:25").Flag("code-delivery", "log").Load()));
    EXPECT_TRUE(SendsCodesBySmtp(*Sources().Flag("code-delivery", "smtp").Load()));
}

// Every key has one TOML name, an environment variable, and a flag unless it is a secret kept
// off command lines; none of them is used twice; the documented default is accepted.
TEST(ConfigKeys, AreUniqueAndComplete) {
    std::set<std::string_view> tomls, envs, flags;
    for (const auto& key : ConfigKeys()) {
        EXPECT_TRUE(tomls.insert(key.toml).second) << key.toml;
        EXPECT_TRUE(envs.insert(key.env).second) << key.env;
        EXPECT_TRUE(key.env.starts_with("FIRMO_")) << key.toml;
        EXPECT_FALSE(key.doc.empty()) << key.toml;
        EXPECT_FALSE(key.default_doc.empty()) << key.toml;
        if (!key.flag.empty()) {
            EXPECT_TRUE(flags.insert(key.flag).second) << key.flag;
            EXPECT_FALSE(key.value_name.empty()) << key.toml;
        }
        // A default documented as one value (`value` or a number) is a valid value.
        const std::string_view d = key.default_doc;
        const bool one_code_span =
            d.size() > 2 && d.front() == '`' && d.back() == '`' && d.find('`', 1) == d.size() - 1;
        const bool number = d.find_first_not_of("0123456789") == std::string_view::npos;
        Config c;
        if (one_code_span || number) {
            EXPECT_FALSE(key.set(c, PlainText(d))) << key.toml << " rejects its default";
        }
    }
    EXPECT_EQ(tomls.count("storage.s3_secret_key"), 1u);
    EXPECT_EQ(flags.count("ca-passphrase"), 0u);  // secrets stay off the command line
}

// docs/OPERATIONS.md lists every key: the table between the markers is ConfigKeysMarkdown().
// FIRMO_UPDATE_DOCS=1 rewrites it.
TEST(ConfigKeys, OperationsGuideListsEveryKey) {
    const auto path = std::filesystem::path(FIRMO_SOURCE_DIR) / "docs" / "OPERATIONS.md";
    std::ifstream in(path);
    ASSERT_TRUE(in) << path;
    std::stringstream text;
    text << in.rdbuf();
    std::string doc = text.str();
    const std::string begin = "<!-- config-keys: generated";
    const std::string end = "<!-- /config-keys -->";
    const auto from = doc.find(begin);
    const auto to = doc.find(end);
    ASSERT_NE(from, std::string::npos) << "no \"" << begin << "\" marker in " << path;
    ASSERT_NE(to, std::string::npos) << "no \"" << end << "\" marker in " << path;
    const auto table_start = doc.find('\n', from) + 1;
    const std::string table = doc.substr(table_start, to - table_start);
    const std::string expected = ConfigKeysMarkdown();
    if (table != expected && std::getenv("FIRMO_UPDATE_DOCS") != nullptr) {
        doc.replace(table_start, to - table_start, expected);
        std::ofstream(path) << doc;
        GTEST_SKIP() << "rewrote " << path;
    }
    EXPECT_EQ(table, expected) << "docs/OPERATIONS.md is out of date: run FIRMO_UPDATE_DOCS=1 "
                                  "ctest -R OperationsGuideListsEveryKey";
}

TEST(ConfigKeys, PlainTextDropsMarkdown) {
    EXPECT_EQ(PlainText("see [TLS in Firmo](#tls-in-firmo), `1.2`"), "see TLS in Firmo, 1.2");
}

TEST(Config, CscProviderNeedsItsUrlClientAndSecret) {
    auto builtin = Sources().Load();
    ASSERT_TRUE(builtin) << builtin.error().message;
    EXPECT_EQ(builtin->signing.provider, SigningProvider::kBuiltin);
    EXPECT_EQ(builtin->csc.user_id_from, CscUserIdFrom::kIdentifier);

    EXPECT_EQ(Sources().Env("FIRMO_SIGNING_PROVIDER", "csc").Error(),
              "signing.provider = \"csc\" (set by environment variable FIRMO_SIGNING_PROVIDER "
              "(signing.provider)) needs csc.url (FIRMO_CSC_URL), csc.client_id "
              "(FIRMO_CSC_CLIENT_ID), csc.client_secret (FIRMO_CSC_CLIENT_SECRET)");
    EXPECT_THAT(
        Sources()
            .File("[signing]\nprovider = \"csc\"\n[csc]\nurl = \"https://q.example/csc/v2\"\n"
                  "client_id = \"firmo\"\n")
            .Error(),
        HasSubstr("needs csc.client_secret (FIRMO_CSC_CLIENT_SECRET)"));
    EXPECT_THAT(Sources().Env("FIRMO_CSC_URL", "ftp://q.example").Error(),
                HasSubstr("must be a URL starting with http:// or https://"));
    EXPECT_THAT(Sources().Flag("signing-provider", "remote").Error(),
                HasSubstr("--signing-provider (signing.provider) = \"remote\": must be one of"));

    auto csc = Sources()
                   .Env("FIRMO_SIGNING_PROVIDER", "csc")
                   .Env("FIRMO_CSC_URL", "https://q.example/csc/v2")
                   .Env("FIRMO_CSC_OAUTH_URL", "https://auth.q.example")
                   .Env("FIRMO_CSC_CLIENT_ID", "firmo")
                   .Env("FIRMO_CSC_CLIENT_SECRET", "very-secret")
                   .Flag("csc-user-id-from", "email")
                   .Flag("csc-terms-url", "https://q.example/terms")
                   .Load();
    ASSERT_TRUE(csc) << csc.error().message;
    EXPECT_EQ(csc->signing.provider, SigningProvider::kCsc);
    EXPECT_EQ(csc->csc.url, "https://q.example/csc/v2");
    EXPECT_EQ(csc->csc.oauth_url, "https://auth.q.example");
    EXPECT_EQ(csc->csc.client_secret, "very-secret");
    EXPECT_EQ(csc->csc.user_id_from, CscUserIdFrom::kEmail);
    EXPECT_EQ(csc->csc.terms_url, "https://q.example/terms");
    // The secret has no flag and is never echoed.
    EXPECT_THAT(Sources().Flag("csc-client-secret", "x").Error(), HasSubstr("unknown option"));
    EXPECT_EQ(Sources().Env("FIRMO_CSC_CLIENT_SECRET", "a\nb").Error().find("a\nb"),
              std::string::npos);
}

}  // namespace
}  // namespace firmo::app
