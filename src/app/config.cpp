#include "app/config.hpp"

#include <toml++/toml.h>

#include <cstdlib>

#include "http/forwarded.hpp"

namespace firmo::app {

std::optional<std::string> Args::Flag(const std::string& name) const {
    const auto it = flags.find(name);
    if (it == flags.end()) return std::nullopt;
    return it->second;
}

Result<Args> ParseArgs(const std::vector<std::string>& argv,
                       const std::vector<std::string>& boolean_flags) {
    Args args;
    for (std::size_t i = 0; i < argv.size(); ++i) {
        const std::string& a = argv[i];
        if (a == "-h") {
            args.flags["help"] = "true";
        } else if (a.rfind("--", 0) == 0 && a.size() > 2) {
            const auto eq = a.find('=');
            std::string name = a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
            if (eq != std::string::npos) {
                args.flags[name] = a.substr(eq + 1);
            } else if (std::find(boolean_flags.begin(), boolean_flags.end(), name) !=
                       boolean_flags.end()) {
                args.flags[name] = "true";
            } else if (i + 1 < argv.size()) {
                args.flags[name] = argv[++i];
            } else {
                return Fail(ErrorCode::kInvalidArgument, "--" + name + " needs a value");
            }
        } else {
            args.positional.push_back(a);
        }
    }
    return args;
}

std::string Config::host() const {
    const auto colon = listen.rfind(':');
    std::string h = colon == std::string::npos ? listen : listen.substr(0, colon);
    if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
    return h;
}

unsigned short Config::port() const {
    const auto colon = listen.rfind(':');
    if (colon == std::string::npos) return 8080;
    return static_cast<unsigned short>(std::strtoul(listen.c_str() + colon + 1, nullptr, 10));
}

std::string Config::ListenUrl(unsigned short bound_port) const {
    return std::string(tls() ? "https://" : "http://") + host() + ":" + std::to_string(bound_port);
}

std::string Config::PublicUrl(unsigned short bound_port) const {
    return public_url.empty() ? ListenUrl(bound_port) : public_url;
}

bool Config::SecureCookies(const std::string& url) const {
    if (secure_cookies != "auto") return secure_cookies == "true";
    const bool loopback_http = url.starts_with("http://127.0.0.1") ||
                               url.starts_with("http://localhost") ||
                               url.starts_with("http://[::1]");
    return !loopback_http;
}

namespace {

// One setter per key, shared by every source so that names and checks cannot drift apart.
struct Key {
    const char* toml;  // "server.listen"
    const char* env;   // "FIRMO_LISTEN" (nullptr: none)
    const char* flag;  // "listen" (nullptr: none)
    bool (*set)(Config&, const std::string&);
};

bool SetInt(int& out, const std::string& v, int lo, int hi) {
    char* end = nullptr;
    const long x = std::strtol(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0' || x < lo || x > hi) return false;
    out = static_cast<int>(x);
    return true;
}
bool SetI64(std::int64_t& out, const std::string& v, std::int64_t lo, std::int64_t hi) {
    char* end = nullptr;
    const long long x = std::strtoll(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0' || x < lo || x > hi) return false;
    out = x;
    return true;
}
bool SetBool(bool& out, const std::string& v) {
    if (v == "true" || v == "1" || v == "yes") {
        out = true;
    } else if (v == "false" || v == "0" || v == "no") {
        out = false;
    } else {
        return false;
    }
    return true;
}

const Key
    kKeys
        [] =
            {
                {"server.listen", "FIRMO_LISTEN", "listen",
                 [](Config& c, const std::string& v) {
                     c.listen = v;
                     const auto colon = v.rfind(':');
                     if (colon == std::string::npos || colon == 0 || colon + 1 == v.size())
                         return false;
                     const std::string port = v.substr(colon + 1);
                     return port.size() <= 5 &&
                            port.find_first_not_of("0123456789") == std::string::npos &&
                            std::stoul(port) <= 65535;
                 }},
                {"server.public_url", "FIRMO_PUBLIC_URL", "public-url",
                 [](Config& c, const std::string& v) {
                     c.public_url = v;
                     while (!c.public_url.empty() && c.public_url.back() == '/')
                         c.public_url.pop_back();
                     return v.rfind("http://", 0) == 0 || v.rfind("https://", 0) == 0;
                 }},
                {"server.tls_cert_file", "FIRMO_TLS_CERT_FILE", "tls-cert-file",
                 [](Config& c, const std::string& v) {
                     c.tls_cert_file = v;
                     return true;  // read and checked when the server starts
                 }},
                {"server.tls_key_file", "FIRMO_TLS_KEY_FILE", "tls-key-file",
                 [](Config& c, const std::string& v) {
                     c.tls_key_file = v;
                     return true;
                 }},
                {"server.tls_min_version", "FIRMO_TLS_MIN_VERSION", "tls-min-version",
                 [](Config& c, const std::string& v) {
                     c.tls_min_version = v;
                     return v == "1.2" || v == "1.3";
                 }},
                {"server.io_threads", "FIRMO_IO_THREADS", "io-threads",
                 [](Config& c, const std::string& v) { return SetInt(c.io_threads, v, 1, 64); }},
                {"server.worker_threads", "FIRMO_WORKER_THREADS", "worker-threads",
                 [](Config& c, const std::string& v) {
                     return SetInt(c.worker_threads, v, 1, 256);
                 }},
                {"server.read_timeout_s", "FIRMO_READ_TIMEOUT_S", "read-timeout",
                 [](Config& c, const std::string& v) {
                     return SetInt(c.read_timeout_s, v, 1, 3600);
                 }},
                {"server.trusted_proxies", "FIRMO_TRUSTED_PROXIES", "trusted-proxies",
                 [](Config& c, const std::string& v) {
                     c.trusted_proxies = v;
                     return static_cast<bool>(http::TrustedProxies::Parse(v));
                 }},
                {"server.idle_timeout_s", "FIRMO_IDLE_TIMEOUT_S", "idle-timeout",
                 [](Config& c, const std::string& v) {
                     return SetInt(c.idle_timeout_s, v, 1, 3600);
                 }},
                {"jobs.threads", "FIRMO_JOB_THREADS", "job-threads",
                 [](Config& c, const std::string& v) { return SetInt(c.job_threads, v, 0, 64); }},
                {"jobs.lease_ms", "FIRMO_JOB_LEASE_MS", "job-lease-ms",
                 [](Config& c, const std::string& v) {
                     return SetInt(c.job_lease_ms, v, 1000, 3'600'000);
                 }},
                {"storage.data_dir", "FIRMO_DATA_DIR", "data-dir",
                 [](Config& c, const std::string& v) {
                     c.data_dir = v;
                     return !v.empty();
                 }},
                {"database.url", "FIRMO_DATABASE_URL", "database-url",
                 [](Config& c, const std::string& v) {
                     c.database_url = v;
                     return v.empty() || v.rfind("postgresql://", 0) == 0 ||
                            v.rfind("postgres://", 0) == 0;
                 }},
                {"storage.url", "FIRMO_STORAGE_URL", "storage-url",
                 [](Config& c, const std::string& v) {
                     c.storage_url = v;
                     return v.empty() || v.rfind("s3://", 0) == 0;
                 }},
                {"storage.s3_endpoint", "FIRMO_S3_ENDPOINT", "s3-endpoint",
                 [](Config& c, const std::string& v) {
                     c.s3_endpoint = v;
                     return v.rfind("http", 0) == 0;
                 }},
                {"storage.s3_region", "FIRMO_S3_REGION", "s3-region",
                 [](Config& c, const std::string& v) {
                     c.s3_region = v;
                     return !v.empty();
                 }},
                {"storage.s3_access_key", "FIRMO_S3_ACCESS_KEY", "s3-access-key",
                 [](Config& c, const std::string& v) {
                     c.s3_access_key = v;
                     return true;
                 }},
                {"storage.s3_secret_key", "FIRMO_S3_SECRET_KEY", nullptr,
                 [](Config& c, const std::string& v) {
                     c.s3_secret_key = v;
                     return true;
                 }},
                {"storage.s3_path_style", "FIRMO_S3_PATH_STYLE", "s3-path-style",
                 [](Config& c, const std::string& v) { return SetBool(c.s3_path_style, v); }},
                {"storage.s3_direct_urls", "FIRMO_S3_DIRECT_URLS", "s3-direct-urls",
                 [](Config& c, const std::string& v) { return SetBool(c.s3_direct_urls, v); }},
                {"storage.s3_public_endpoint", "FIRMO_S3_PUBLIC_ENDPOINT", "s3-public-endpoint",
                 [](Config& c, const std::string& v) {
                     c.s3_public_endpoint = v;
                     return v.empty() || v.rfind("http", 0) == 0;
                 }},
                {"database.allow_newer_schema", "FIRMO_ALLOW_NEWER_SCHEMA", "allow-newer-schema",
                 [](Config& c, const std::string& v) { return SetBool(c.allow_newer_schema, v); }},
                {"database.pool_size", "FIRMO_DB_POOL", "db-pool",
                 [](Config& c, const std::string& v) { return SetInt(c.db_pool, v, 1, 256); }},
                {"limits.max_document_bytes", "FIRMO_MAX_DOCUMENT_BYTES", "max-document-bytes",
                 [](Config& c, const std::string& v) {
                     return SetI64(c.max_document_bytes, v, 1024, std::int64_t{1} << 32);
                 }},
                {"limits.max_json_bytes", "FIRMO_MAX_JSON_BYTES", "max-json-bytes",
                 [](Config& c, const std::string& v) {
                     return SetI64(c.max_json_bytes, v, 1024, 64 * 1024 * 1024);
                 }},
                {"limits.rate_limit_burst", "FIRMO_RATE_LIMIT_BURST", "rate-limit-burst",
                 [](Config& c, const std::string& v) {
                     return SetInt(c.rate_limit_burst, v, 0, 1'000'000);
                 }},
                {"limits.rate_limit_window_ms", "FIRMO_RATE_LIMIT_WINDOW_MS",
                 "rate-limit-window-ms",
                 [](Config& c, const std::string& v) {
                     return SetInt(c.rate_limit_window_ms, v, 1, 3'600'000);
                 }},
                {"log.level", "FIRMO_LOG_LEVEL", "log-level",
                 [](Config& c, const std::string& v) {
                     c.log_level = v;
                     return v == "debug" || v == "info" || v == "warn" || v == "error";
                 }},
                {"log.access_log", "FIRMO_ACCESS_LOG", "access-log",
                 [](Config& c, const std::string& v) { return SetBool(c.access_log, v); }},
                {"bootstrap.email", "FIRMO_BOOTSTRAP_EMAIL", "bootstrap-email",
                 [](Config& c, const std::string& v) {
                     c.bootstrap_email = v;
                     return !v.empty();
                 }},
                {"web.assets_dir", "FIRMO_ASSETS_DIR", "assets-dir",
                 [](Config& c, const std::string& v) {
                     c.assets_dir = v;
                     return !v.empty();
                 }},
                {"web.secure_cookies", "FIRMO_SECURE_COOKIES", "secure-cookies",
                 [](Config& c, const std::string& v) {
                     c.secure_cookies = v;
                     return v == "auto" || v == "true" || v == "false";
                 }},
                {"oidc.issuer", "FIRMO_OIDC_ISSUER", "oidc-issuer",
                 [](Config& c, const std::string& v) {
                     c.oidc_issuer = v;
                     return v.empty() || v.rfind("http", 0) == 0;
                 }},
                {"oidc.client_id", "FIRMO_OIDC_CLIENT_ID", "oidc-client-id",
                 [](Config& c, const std::string& v) {
                     c.oidc_client_id = v;
                     return true;
                 }},
                {"oidc.client_secret", "FIRMO_OIDC_CLIENT_SECRET", "oidc-client-secret",
                 [](Config& c, const std::string& v) {
                     c.oidc_client_secret = v;
                     return true;
                 }},
                {"oidc.scopes", "FIRMO_OIDC_SCOPES", "oidc-scopes",
                 [](Config& c, const std::string& v) {
                     c.oidc_scopes = v;
                     return true;
                 }},
                {"oidc.identifier_claim", "FIRMO_OIDC_IDENTIFIER_CLAIM", "oidc-identifier-claim",
                 [](Config& c, const std::string& v) {
                     c.oidc_identifier_claim = v;
                     return !v.empty();
                 }},
                {"oidc.identifier_kind", "FIRMO_OIDC_IDENTIFIER_KIND", "oidc-identifier-kind",
                 [](Config& c, const std::string& v) {
                     c.oidc_identifier_kind = v;
                     return v == "it_fiscal_code" || v == "no_nin";
                 }},
                {"notify.code_delivery", "FIRMO_CODE_DELIVERY", "code-delivery",
                 [](Config& c, const std::string& v) {
                     c.code_delivery = v;
                     return v == "auto" || v == "smtp" || v == "log";
                 }},
                {"smtp.url", "FIRMO_SMTP_URL", "smtp-url",
                 [](Config& c, const std::string& v) {
                     c.smtp_url = v;
                     return v.empty() || v.rfind("smtp", 0) == 0;
                 }},
                {"smtp.username", "FIRMO_SMTP_USERNAME", "smtp-username",
                 [](Config& c, const std::string& v) {
                     c.smtp_username = v;
                     return true;
                 }},
                {"smtp.password", "FIRMO_SMTP_PASSWORD", "smtp-password",
                 [](Config& c, const std::string& v) {
                     c.smtp_password = v;
                     return true;
                 }},
                {"smtp.from", "FIRMO_SMTP_FROM", "smtp-from",
                 [](Config& c, const std::string& v) {
                     c.smtp_from = v;
                     return !v.empty();
                 }},
                {"smtp.starttls", "FIRMO_SMTP_STARTTLS", "smtp-starttls",
                 [](Config& c, const std::string& v) {
                     c.smtp_starttls = v;
                     return v == "none" || v == "opportunistic" || v == "required";
                 }},
                {"smtp.ca_file", "FIRMO_SMTP_CA_FILE", "smtp-ca-file",
                 [](Config& c, const std::string& v) {
                     c.smtp_ca_file = v;
                     return true;
                 }},
                {"web.code_ttl_s", "FIRMO_CODE_TTL_S", "code-ttl",
                 [](Config& c, const std::string& v) { return SetInt(c.code_ttl_s, v, 1, 3600); }},
                {"sms.url", "FIRMO_SMS_URL", "sms-url",
                 [](Config& c, const std::string& v) {
                     c.sms_url = v;
                     return v.empty() || v.rfind("http", 0) == 0;
                 }},
                {"sms.auth_header", "FIRMO_SMS_AUTH_HEADER", "sms-auth-header",
                 [](Config& c, const std::string& v) {
                     c.sms_auth_header = v;
                     return v.find_first_of("\r\n") == std::string::npos;
                 }},
                {"sms.body_template", "FIRMO_SMS_BODY_TEMPLATE", "sms-body-template",
                 [](Config& c, const std::string& v) {
                     c.sms_body_template = v;
                     return !v.empty();
                 }},
                {"sms.sender", "FIRMO_SMS_SENDER", "sms-sender",
                 [](Config& c, const std::string& v) {
                     c.sms_sender = v;
                     return true;
                 }},
                {"notify.reminders", "FIRMO_REMINDERS", "reminders",
                 [](Config& c, const std::string& v) {
                     c.reminders = v;
                     return true;  // checked when parsed (ParseReminders)
                 }},
                {"notify.delivery_threads", "FIRMO_DELIVERY_THREADS", "delivery-threads",
                 [](Config& c, const std::string& v) {
                     return SetInt(c.delivery_threads, v, 0, 64);
                 }},
                {"notify.retry_base_ms", "FIRMO_RETRY_BASE_MS", "retry-base-ms",
                 [](Config& c, const std::string& v) {
                     return SetInt(c.retry_base_ms, v, 10, 3'600'000);
                 }},
                {"webhooks.timeout_ms", "FIRMO_WEBHOOK_TIMEOUT_MS", "webhook-timeout-ms",
                 [](Config& c, const std::string& v) {
                     return SetInt(c.webhook_timeout_ms, v, 100, 120'000);
                 }},
                {"webhooks.allow_private_addresses", "FIRMO_WEBHOOK_ALLOW_PRIVATE",
                 "webhook-allow-private",
                 [](Config& c,
                    const std::string& v) { return SetBool(c.webhook_allow_private, v); }},
                {"polling.empty_interval_ms", "FIRMO_POLL_EMPTY_INTERVAL_MS",
                 "poll-empty-interval-ms",
                 [](Config& c,
                    const std::string&
                        v) { return SetInt(c.poll_empty_interval_ms, v, 0, 3'600'000); }},
                {"polling.redeliver_after_s", "FIRMO_POLL_REDELIVER_AFTER_S",
                 "poll-redeliver-after",
                 [](Config& c, const std::string&
                                   v) { return SetInt(c.poll_redeliver_after_s, v, 1, 86'400); }},
                {"smtp.verify_peer", "FIRMO_SMTP_VERIFY_PEER", "smtp-verify-peer",
                 [](Config& c, const std::string& v) { return SetBool(c.smtp_verify_peer, v); }},
                {"verify.trust_anchors", "FIRMO_VERIFY_TRUST_ANCHORS", "verify-trust-anchors",
                 [](Config& c, const std::string& v) {
                     c.verify_trust_anchors = v;
                     return !v.empty();
                 }},
                {"ca.passphrase", "FIRMO_CA_PASSPHRASE", nullptr,
                 [](Config& c, const std::string& v) {
                     c.ca_passphrase = v;
                     return true;
                 }},
};

std::optional<std::string> TomlValue(const toml::node& node) {
    if (auto s = node.value<std::string>()) return *s;
    if (node.is_integer()) return std::to_string(*node.value<std::int64_t>());
    if (auto b = node.value<bool>()) return *b ? "true" : "false";
    return std::nullopt;
}

}  // namespace

Result<Config> LoadConfig(const Args& args) {
    Config config;
    std::optional<std::string> file = args.Flag("config");
    if (!file) {
        if (const char* env = std::getenv("FIRMO_CONFIG")) file = env;
    }
    if (file) {
        toml::table table;
        try {
            table = toml::parse_file(*file);
        } catch (const toml::parse_error& e) {
            return Fail(ErrorCode::kInvalidArgument,
                        "config " + *file + ": " + std::string(e.description()));
        }
        // Unknown keys are errors: a typo must not silently fall back to a default.
        for (const auto& [section, node] : table) {
            const auto* sub = node.as_table();
            if (!sub)
                return Fail(ErrorCode::kInvalidArgument,
                            "config " + *file + ": unknown key " + std::string(section.str()));
            for (const auto& [name, value] : *sub) {
                const std::string dotted =
                    std::string(section.str()) + "." + std::string(name.str());
                const Key* key = nullptr;
                for (const auto& k : kKeys) {
                    if (dotted == k.toml) key = &k;
                }
                if (!key)
                    return Fail(ErrorCode::kInvalidArgument,
                                "config " + *file + ": unknown key " + dotted);
                const auto text = TomlValue(value);
                if (!text || !key->set(config, *text)) {
                    return Fail(ErrorCode::kInvalidArgument,
                                "config " + *file + ": bad value for " + dotted);
                }
            }
        }
    }
    for (const auto& k : kKeys) {
        if (!k.env) continue;
        if (const char* v = std::getenv(k.env)) {
            if (!k.set(config, v)) {
                return Fail(ErrorCode::kInvalidArgument, std::string("bad value in ") + k.env);
            }
        }
    }
    for (const auto& [name, value] : args.flags) {
        if (name == "config" || name == "help") continue;
        const Key* key = nullptr;
        for (const auto& k : kKeys) {
            if (k.flag && name == k.flag) key = &k;
        }
        if (!key) continue;  // command-specific flags are checked by the command
        if (!key->set(config, value)) {
            return Fail(ErrorCode::kInvalidArgument, "bad value for --" + name);
        }
    }
    if (config.tls_cert_file.empty() != config.tls_key_file.empty()) {
        return Fail(
            ErrorCode::kInvalidArgument,
            std::string("server.tls_cert_file and server.tls_key_file go together: ") +
                (config.tls_key_file.empty() ? "server.tls_key_file" : "server.tls_cert_file") +
                " is missing (set both for HTTPS, or neither for plain HTTP)");
    }
    return config;
}

}  // namespace firmo::app
