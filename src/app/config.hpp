#pragma once
// Firmo's configuration: typed sections, one per TOML table, with closed sets of values as
// enums. It is read once (LoadConfig: defaults, then a TOML file, then FIRMO_* environment
// variables, then command-line flags; later sources win), checked as a whole, and then only
// read: the composition root (app/root.hpp) receives it const and builds everything from it.
// The keys, their variables and flags are the table in config.cpp; docs/OPERATIONS.md lists
// them (generated from that table, and a test checks the two agree).

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/log.hpp"
#include "domain/identifiers.hpp"
#include "domain/services/context.hpp"
#include "http/forwarded.hpp"
#include "http/tls.hpp"
#include "notify/smtp_mailer.hpp"

namespace firmo::app {

// "127.0.0.1:8080", "[::1]:8443", "0.0.0.0:0" (0: any free port).
struct ListenAddress {
    std::string host = "127.0.0.1";
    unsigned short port = 8080;
};

enum class SecureCookies { kAuto, kOn, kOff };
enum class CodeDelivery { kAuto, kSmtp, kLog };

struct ServerConfig {
    ListenAddress listen;
    std::string public_url;  // empty: http(s)://<the address actually listened on>
    // HTTPS served by Firmo itself: both files or neither (then plain HTTP, e.g. behind a proxy).
    std::string tls_cert_file;  // PEM: the certificate, then its intermediates
    std::string tls_key_file;   // PEM, unencrypted; refused when other users can read it
    http::TlsVersion tls_min_version = http::TlsVersion::kTls12;
    int io_threads = 0;  // HTTP event loops, one thread each; 0: one per core
    // The database lane (http/lanes.hpp): nullopt is auto (0 on SQLite: on the I/O threads;
    // on PostgreSQL what the pool leaves), 0 on the I/O threads, N a pool of N threads.
    std::optional<int> database_threads;
    int heavy_threads = 2;  // the heavy lane: PDF work, document bytes
    int heavy_queue = 16;   // heavy requests waiting at most; one more gets 503 + Retry-After
    std::string node_id;    // this node in logs and job leases; empty: <host>-<pid>
    std::chrono::seconds read_timeout{30};  // to receive one request's headers and body
    std::chrono::seconds idle_timeout{60};  // between requests on a keep-alive connection
    http::TrustedProxies trusted_proxies;   // whose X-Forwarded-For is believed
    // Connection limits and the unauthenticated-body budget (http::ServerOptions); 0: none.
    std::int64_t max_connections = 10'000;
    std::int64_t max_connections_per_ip = 256;
    std::int64_t max_unauthenticated_bytes = std::int64_t{64} * 1024 * 1024;

    bool tls() const { return !tls_cert_file.empty(); }
};

struct JobsConfig {
    int threads = 1;  // 0: an API-only node
    // How long a claimed job is a node's own: a node that dies mid-job leaves it to the others
    // once this has passed. Longer than the slowest job; shorter means faster takeover.
    std::chrono::milliseconds lease{60'000};
};

struct DatabaseConfig {
    std::string url;  // "postgresql://user@host:5432/firmo"; empty: SQLite in the data folder
    int pool_size = 8;
    bool allow_newer_schema = false;  // run on a schema a newer release migrated (rollback)
};

struct S3Config {
    std::string endpoint;
    std::string region = "us-east-1";
    std::string access_key;
    std::string secret_key;
    bool path_style = true;
    bool direct_urls = false;     // upload/download URLs pre-signed for the object store
    std::string public_endpoint;  // the endpoint as issuers reach it (default: endpoint)
};

struct StorageConfig {
    std::filesystem::path data_dir = "./data";
    std::string url;  // "s3://bucket/prefix"; empty: DATA_DIR/documents
    S3Config s3;
};

struct LimitsConfig {
    std::int64_t max_document_bytes = 10 * 1024 * 1024;
    std::int64_t max_json_bytes = 1024 * 1024;
    int rate_limit_burst = 150;  // 0: off
    std::chrono::milliseconds rate_limit_window{5000};
    int retention_documents_days = 40;    // retention.documents_days; 0: kept
    int retention_signer_copy_days = 30;  // retention.signer_copy_days (issue 16)
};

struct LogConfig {
    log::Level level = log::Level::kInfo;
    log::Format format = log::Format::kText;
    bool access_log = true;
};

struct MetricsConfig {
    http::AddressList allow = DefaultMetricsAllow();  // who may GET /metrics

    static http::AddressList DefaultMetricsAllow();
};

struct BootstrapConfig {
    std::string email = "admin@localhost.localdomain";
    std::string issuer_name = "Default issuer";
};

struct WebConfig {
    std::filesystem::path assets_dir;  // default: the build's assets folder (pdf.js)
    SecureCookies secure_cookies = SecureCookies::kAuto;
    std::chrono::seconds code_ttl{600};  // how long a one-time code is valid
    // Signer-side limits (api::SignerLimits), per limit_window; 0: off.
    int calls_per_ip = 600;
    int calls_per_request = 300;
    int sessions_per_ip = 30;
    std::chrono::seconds limit_window{60};
    // Sender portal (/app) login attempts per minute, per client address and per account.
    int staff_login_attempts = 10;
    // The institution's IANA time zone: times on the sender portal's pages.
    std::string staff_time_zone = "UTC";
    bool staff_require_totp = false;  // staff.require_totp
    // staff_oidc.*: the sender portal's login with the institution's own OpenID provider; off
    // while the issuer URL is empty.
    struct StaffOidc {
        std::string issuer;
        std::string client_id;
        std::string client_secret;
        std::string scopes = "openid email profile";
        std::string role_claim = "roles";
        std::string role_map;   // "claim value=admin|sender|viewer", comma-separated
        std::string issuer_id;  // the Firmo issuer the provider's staff belong to
        std::string email_claim = "email";
        std::string name = "your organisation";  // "Sign in with <name>"

        bool enabled() const { return !issuer.empty(); }
    } staff_oidc;
};

// Login with a national eID (OpenID Connect); off while `issuer` is empty.
struct OidcConfig {
    std::string issuer;
    std::string client_id;
    std::string client_secret;
    std::string scopes = "openid profile";
    std::string identifier_claim = "fiscal_number";
    domain::IdentifierKind identifier_kind = domain::IdentifierKind::kItFiscalCode;
    // The provider's acr values for eID level substantial and high, comma-separated (the first
    // is asked for, any is accepted); empty: domain::DefaultAcrValues(identifier_kind).
    std::string acr_substantial;
    std::string acr_high;

    bool enabled() const { return !issuer.empty(); }
};

struct NotifyConfig {
    CodeDelivery code_delivery = CodeDelivery::kAuto;  // auto: SMTP when smtp.url is set
    std::vector<domain::Reminder> reminders = {{domain::Channel::kEmail, std::chrono::hours(168)},
                                               {domain::Channel::kSms, std::chrono::hours(24)}};
    int delivery_threads = 1;  // 0: this node delivers nothing
    std::chrono::milliseconds retry_base{30'000};
};

struct SmtpConfig {
    std::string url;
    std::string username;
    std::string password;
    std::string from = "firmo@localhost.localdomain";
    notify::StartTls starttls = notify::StartTls::kRequired;
    std::string ca_file;
    bool verify_peer = true;
};

struct SmsConfig {
    std::string url;  // empty: no SMS
    std::string auth_header;
    std::string body_template = R"({"to":"{{to}}","text":"{{text}}"})";
    std::string sender = "Firmo";
};

struct WebhooksConfig {
    std::chrono::milliseconds timeout{10'000};
    bool allow_private_addresses = false;
    int breaker_failures = 5;  // failed calls in a row that open an endpoint's circuit; 0: never
    std::chrono::seconds breaker_open{60};
};

struct PollingConfig {
    std::chrono::milliseconds empty_interval{10'000};
    std::chrono::seconds redeliver_after{600};
};

// What `POST /api/v1/verify` trusts: PEM files, and the built-in CA's certificate when
// `builtin` is listed (read on each call: `firmo ca init` may run after the server started).
struct VerifyConfig {
    bool builtin_ca = true;
    std::vector<std::filesystem::path> anchor_files;
};

struct CaConfig {
    // The built-in CA's key passphrase. When no CA exists, `serve` creates one; without a
    // passphrase its key is stored unencrypted (mode 0600), for a first look only.
    std::string passphrase;
};

struct TsaConfig {
    // An RFC 3161 time-stamp authority for the signatures the server makes; empty: the
    // built-in one (crypto/builtin_tsa.hpp).
    std::string url;
};

// The archive re-time-stamping job (domain/services/archive_service.hpp).
struct ArchiveConfig {
    bool enabled = true;
    std::chrono::days renew_before{90};
};

// Who makes the signature value: the built-in CA (a certificate per signing session) or a
// qualified trust service provider over the CSC API v2 (docs/QTSP.md).
enum class SigningProvider { kBuiltin, kCsc };

struct SigningConfig {
    SigningProvider provider = SigningProvider::kBuiltin;
};

// Which signer attribute is the QTSP's `userID` (credentials/list).
enum class CscUserIdFrom { kIdentifier, kEmail };

struct CscConfig {
    std::string url;        // the CSC API base ({url}/info, /credentials/list, ...)
    std::string oauth_url;  // the authorization server; empty: `oauth2` of {url}/info
    std::string client_id;
    std::string client_secret;
    CscUserIdFrom user_id_from = CscUserIdFrom::kIdentifier;
    std::string terms_url;   // the provider's terms, shown before the redirect (either or both)
    std::string terms_text;  //
};

struct Config {
    ServerConfig server;
    JobsConfig jobs;
    DatabaseConfig database;
    StorageConfig storage;
    LimitsConfig limits;
    LogConfig log;
    MetricsConfig metrics;
    BootstrapConfig bootstrap;
    WebConfig web;
    OidcConfig oidc;
    NotifyConfig notify;
    SmtpConfig smtp;
    SmsConfig sms;
    WebhooksConfig webhooks;
    PollingConfig polling;
    VerifyConfig verify;
    CaConfig ca;
    TsaConfig tsa;
    ArchiveConfig archive;
    SigningConfig signing;
    CscConfig csc;
};

// "https://127.0.0.1:8443": the scheme and the address the server actually listens on.
std::string ListenUrl(const ServerConfig& server, unsigned short bound_port);
// The base of the links Firmo hands out: server.public_url, else ListenUrl().
std::string PublicUrl(const ServerConfig& server, unsigned short bound_port);
// Whether the signer session cookie gets `Secure`: kAuto means yes unless `public_url` is
// plain-HTTP loopback (browsers would drop it there).
bool UseSecureCookies(SecureCookies setting, std::string_view public_url);
// This node's name in logs and job leases: server.node_id, else "<host>-<pid>".
std::string NodeId(const ServerConfig& server);
// Whether one-time codes go out by e-mail (else to the log, development only).
bool SendsCodesBySmtp(const Config& config);

// ---- Loading ------------------------------------------------------------------------------

// The sections a key belongs to; a command takes the flags of the sections it uses.
enum class Section {
    kServer,
    kJobs,
    kDatabase,
    kStorage,
    kLimits,
    kLog,
    kMetrics,
    kBootstrap,
    kWeb,
    kOidc,
    kNotify,
    kSmtp,
    kSms,
    kWebhooks,
    kPolling,
    kVerify,
    kCa,
    kQtsp,
};

// One configuration key: its TOML name, environment variable and flag (empty: none), the
// documentation (Markdown) and how a text value is checked and stored.
struct ConfigKey {
    Section section;
    std::string_view toml;        // "server.listen"
    std::string_view env;         // "FIRMO_LISTEN"
    std::string_view flag;        // "listen" (--listen); empty for secrets
    std::string_view value_name;  // "HOST:PORT", shown in --help
    std::string_view default_doc;
    std::string_view doc;
    bool secret = false;  // its value is never echoed in a message
    // Checks `value` and stores it; on failure returns what a valid value looks like.
    std::function<std::optional<std::string>(Config&, std::string_view value)> set;
};

// Every key, in the order docs/OPERATIONS.md lists them.
const std::vector<ConfigKey>& ConfigKeys();

// Where the values come from. Flags are the ones given on the command line, by flag name
// ("listen" → "127.0.0.1:0"), already split by the command-line parser.
struct ConfigSources {
    std::optional<std::string> file;  // --config; else FIRMO_CONFIG from `env`
    std::function<std::optional<std::string>(std::string_view name)> env;
    std::vector<std::pair<std::string, std::string>> flags;
};

// The process environment, for ConfigSources::env.
std::optional<std::string> ProcessEnv(std::string_view name);

// Loads and checks the configuration. kInvalidArgument names the key, the source (file,
// environment variable or flag) and what a valid value looks like.
[[nodiscard]] Result<Config> LoadConfig(const ConfigSources& sources);

// The Markdown table of every key (docs/OPERATIONS.md, "Configuration").
std::string ConfigKeysMarkdown();
// A key's documentation as plain text, for --help: no backticks, links reduced to their text.
std::string PlainText(std::string_view markdown);

}  // namespace firmo::app
