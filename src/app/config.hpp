#pragma once
// Firmo's configuration: defaults, then a TOML file (--config / FIRMO_CONFIG), then
// environment variables (FIRMO_*), then command-line flags; later sources win.
// docs/OPERATIONS.md lists every key.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace firmo::app {

struct Config {
    std::string listen = "127.0.0.1:8080";
    std::string public_url;  // empty: http(s)://<the address actually listened on>
    // HTTPS served by Firmo itself: both files or neither (then plain HTTP, e.g. behind a proxy).
    std::string tls_cert_file;            // PEM: the certificate, then its intermediates
    std::string tls_key_file;             // PEM, unencrypted; refused when other users can read it
    std::string tls_min_version = "1.2";  // or "1.3"
    std::string data_dir = "./data";
    int io_threads = 1;
    int worker_threads = 4;
    int job_threads = 1;
    // How long a claimed job is a node's own: a node that dies mid-job leaves it to the others
    // once this has passed. Longer than the slowest job; shorter means faster takeover.
    int job_lease_ms = 60'000;
    int db_pool = 8;
    // Several nodes: PostgreSQL instead of the SQLite file, S3 instead of the documents folder.
    std::string database_url;  // "postgresql://user@host:5432/firmo"; empty: SQLite in data_dir
    std::string storage_url;   // "s3://bucket/prefix"; empty: DATA_DIR/documents
    std::string s3_endpoint;
    std::string s3_region = "us-east-1";
    std::string s3_access_key;
    std::string s3_secret_key;
    bool s3_path_style = true;
    bool allow_newer_schema = false;  // run on a schema a newer release migrated (rollback)
    bool s3_direct_urls = false;      // upload/download URLs pre-signed for the object store
    std::string s3_public_endpoint;   // the endpoint as issuers reach it (default: s3_endpoint)
    int read_timeout_s = 30;          // to receive one request's headers and body
    std::string trusted_proxies;      // addresses/networks whose X-Forwarded-For is believed
    int idle_timeout_s = 60;          // between requests on a keep-alive connection
    std::int64_t max_document_bytes = 10 * 1024 * 1024;
    std::int64_t max_json_bytes = 1024 * 1024;
    int rate_limit_burst = 150;
    int rate_limit_window_ms = 5000;
    std::string log_level = "info";
    bool access_log = true;
    std::string bootstrap_email = "admin@localhost.localdomain";

    // Signer portal.
    std::string assets_dir;               // empty: the build's assets folder (pdf.js)
    std::string secure_cookies = "auto";  // auto: Secure unless public_url is plain-HTTP loopback
    // Login with a national eID (OpenID Connect); off while oidc_issuer is empty.
    std::string oidc_issuer;
    std::string oidc_client_id;
    std::string oidc_client_secret;
    std::string oidc_scopes = "openid profile";
    std::string oidc_identifier_claim = "fiscal_number";
    std::string oidc_identifier_kind = "it_fiscal_code";  // or no_nin
    // One-time codes by e-mail (SMTP); "log" writes codes to the log (development only).
    std::string code_delivery = "auto";  // auto: smtp when smtp_url is set, else log
    std::string smtp_url;
    std::string smtp_username;
    std::string smtp_password;
    std::string smtp_from = "firmo@localhost.localdomain";
    std::string smtp_starttls = "required";
    std::string smtp_ca_file;
    bool smtp_verify_peer = true;
    // The built-in CA's key passphrase (FIRMO_CA_PASSPHRASE). When no CA exists, `serve` creates
    // one; without a passphrase it generates one and keeps it beside the key (development).
    std::string ca_passphrase;
    int code_ttl_s = 600;  // how long a one-time code is valid
    // POST /api/v1/verify trusts these (comma-separated PEM files; "builtin" is the built-in
    // CA's certificate): list a TSA's certificate to verify time-stamped signatures.
    std::string verify_trust_anchors = "builtin";

    // Notifications and events (issue 5).
    std::string sms_url;  // SMS gateway; empty: no SMS
    std::string sms_auth_header;
    std::string sms_body_template = R"({"to":"{{to}}","text":"{{text}}"})";
    std::string sms_sender = "Firmo";
    std::string reminders = "email:168h,sms:24h";  // channel:hours-before-expiry, ...
    int delivery_threads = 1;
    int retry_base_ms = 30'000;
    int webhook_timeout_ms = 10'000;
    bool webhook_allow_private = true;
    int poll_empty_interval_ms = 10'000;
    int poll_redeliver_after_s = 600;

    std::string host() const;
    unsigned short port() const;  // 0: any free port (the server prints the one it got)
    bool tls() const { return !tls_cert_file.empty(); }
    // "https://127.0.0.1:8443": the scheme and the address the server actually listens on.
    std::string ListenUrl(unsigned short bound_port) const;
    // The base of the links Firmo hands out: public_url, else ListenUrl().
    std::string PublicUrl(unsigned short bound_port) const;
    // Whether the signer session cookie gets `Secure`: web.secure_cookies, where "auto" means
    // yes unless `public_url` is plain-HTTP loopback (browsers would drop it there).
    bool SecureCookies(const std::string& public_url) const;
};

// Parsed command line: positional words and --flags (--name value or --name=value; a flag
// without a value is "true").
struct Args {
    std::vector<std::string> positional;
    std::map<std::string, std::string> flags;

    std::optional<std::string> Flag(const std::string& name) const;
    bool Has(const std::string& name) const { return flags.count(name) > 0; }
};

[[nodiscard]] Result<Args> ParseArgs(const std::vector<std::string>& argv,
                                     const std::vector<std::string>& boolean_flags = {"help"});

// Loads the configuration for `args`; kInvalidArgument names the bad key and source.
[[nodiscard]] Result<Config> LoadConfig(const Args& args);

}  // namespace firmo::app
