#include "app/config.hpp"

#include <toml++/toml.h>

#include <cstdlib>
#include <sstream>

#include "jobs/worker.hpp"

namespace firmo::app {

http::AddressList MetricsConfig::DefaultMetricsAllow() {
    auto loopback = http::AddressList::Parse("127.0.0.0/8, ::1");
    return loopback ? std::move(*loopback) : http::AddressList{};
}

std::string ListenUrl(const ServerConfig& server, unsigned short bound_port) {
    const std::string& host = server.listen.host;
    const bool ipv6 = host.find(':') != std::string::npos;
    return std::string(server.tls() ? "https://" : "http://") + (ipv6 ? "[" + host + "]" : host) +
           ":" + std::to_string(bound_port);
}

std::string PublicUrl(const ServerConfig& server, unsigned short bound_port) {
    return server.public_url.empty() ? ListenUrl(server, bound_port) : server.public_url;
}

bool UseSecureCookies(SecureCookies setting, std::string_view public_url) {
    switch (setting) {
        case SecureCookies::kOn:
            return true;
        case SecureCookies::kOff:
            return false;
        case SecureCookies::kAuto:
            break;
    }
    const bool loopback_http = public_url.starts_with("http://127.0.0.1") ||
                               public_url.starts_with("http://localhost") ||
                               public_url.starts_with("http://[::1]");
    return !loopback_http;
}

std::string NodeId(const ServerConfig& server) {
    return server.node_id.empty() ? jobs::ThisProcessWorkerId() : server.node_id;
}

bool SendsCodesBySmtp(const Config& config) {
    return config.notify.code_delivery == CodeDelivery::kSmtp ||
           (config.notify.code_delivery == CodeDelivery::kAuto && !config.smtp.url.empty());
}

std::optional<std::string> ProcessEnv(std::string_view name) {
    const char* value = std::getenv(std::string(name).c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
}

namespace {

using Problem = std::optional<std::string>;  // what a valid value looks like; nullopt: valid
using Setter = std::function<Problem(Config&, std::string_view)>;
template <typename T>
using Field = T& (*)(Config&);

std::optional<long long> ParseInteger(std::string_view text) {
    if (text.empty() || text.size() > 18) return std::nullopt;
    long long value = 0;
    std::size_t i = text[0] == '-' ? 1 : 0;
    if (i == text.size()) return std::nullopt;
    for (; i < text.size(); ++i) {
        if (text[i] < '0' || text[i] > '9') return std::nullopt;
        value = value * 10 + (text[i] - '0');
    }
    return text[0] == '-' ? -value : value;
}

std::string Range(long long lo, long long hi, std::string_view unit = "") {
    return "an integer from " + std::to_string(lo) + " to " + std::to_string(hi) +
           std::string(unit);
}

template <typename T>
Setter Integer(Field<T> field, long long lo, long long hi) {
    return [field, lo, hi](Config& c, std::string_view v) -> Problem {
        const auto x = ParseInteger(v);
        if (!x || *x < lo || *x > hi) return Range(lo, hi);
        field(c) = static_cast<T>(*x);
        return std::nullopt;
    };
}

template <typename Duration>
Setter Span(Field<Duration> field, long long lo, long long hi) {
    return [field, lo, hi](Config& c, std::string_view v) -> Problem {
        const auto x = ParseInteger(v);
        if (!x || *x < lo || *x > hi) return Range(lo, hi);
        field(c) = Duration(*x);
        return std::nullopt;
    };
}

Setter Bool(Field<bool> field) {
    return [field](Config& c, std::string_view v) -> Problem {
        if (v == "true" || v == "1" || v == "yes") {
            field(c) = true;
        } else if (v == "false" || v == "0" || v == "no") {
            field(c) = false;
        } else {
            return "true or false";
        }
        return std::nullopt;
    };
}

enum class Allow { kAny, kNonEmpty, kOneLine };

Setter Text(Field<std::string> field, Allow allow = Allow::kAny) {
    return [field, allow](Config& c, std::string_view v) -> Problem {
        if (allow == Allow::kNonEmpty && v.empty()) return "not empty";
        if (allow == Allow::kOneLine && v.find_first_of("\r\n") != std::string_view::npos) {
            return "one line";
        }
        field(c) = std::string(v);
        return std::nullopt;
    };
}

Setter Path(Field<std::filesystem::path> field) {
    return [field](Config& c, std::string_view v) -> Problem {
        if (v.empty()) return "a folder path, not empty";
        field(c) = std::filesystem::path(std::string(v));
        return std::nullopt;
    };
}

// A URL starting with one of `prefixes` (or empty, when `may_be_empty`).
Setter Url(Field<std::string> field, std::vector<std::string_view> prefixes, bool may_be_empty) {
    return [field, prefixes = std::move(prefixes), may_be_empty](Config& c,
                                                                 std::string_view v) -> Problem {
        bool ok = v.empty() && may_be_empty;
        for (auto p : prefixes) ok = ok || (v.starts_with(p) && v.size() > p.size());
        if (!ok) {
            std::string what = "a URL starting with ";
            for (std::size_t i = 0; i < prefixes.size(); ++i) {
                what += (i == 0                     ? ""
                         : i + 1 == prefixes.size() ? " or "
                                                    : ", ") +
                        std::string(prefixes[i]);
            }
            return what + (may_be_empty ? " (or empty)" : "");
        }
        field(c) = std::string(v);
        return std::nullopt;
    };
}

template <typename E>
Setter Enum(Field<E> field, std::vector<std::pair<std::string_view, E>> names) {
    return [field, names = std::move(names)](Config& c, std::string_view v) -> Problem {
        for (const auto& [name, value] : names) {
            if (v == name) {
                field(c) = value;
                return std::nullopt;
            }
        }
        std::string what = "one of";
        for (std::size_t i = 0; i < names.size(); ++i) {
            what += std::string(i == 0 ? " " : ", ") + std::string(names[i].first);
        }
        return what;
    };
}

Problem SetListen(Config& c, std::string_view v) {
    constexpr std::string_view kWhat = "HOST:PORT, e.g. 127.0.0.1:8080 or [::1]:8443 (port 0: any)";
    const auto colon = v.rfind(':');
    if (colon == std::string_view::npos || colon == 0) return std::string(kWhat);
    std::string_view host = v.substr(0, colon);
    const auto port = ParseInteger(v.substr(colon + 1));
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    if (!port || *port < 0 || *port > 65535 || v[colon + 1] == '-') return std::string(kWhat);
    c.server.listen = {std::string(host), static_cast<unsigned short>(*port)};
    return std::nullopt;
}

Problem SetPublicUrl(Config& c, std::string_view v) {
    if (!v.starts_with("http://") && !v.starts_with("https://")) {
        return "a URL starting with http:// or https://";
    }
    std::string url(v);
    while (url.ends_with('/')) url.pop_back();
    c.server.public_url = std::move(url);
    return std::nullopt;
}

// "builtin,/etc/firmo/tsa.pem" → the built-in CA and the PEM files listed.
Problem SetTrustAnchors(Config& c, std::string_view v) {
    VerifyConfig verify{.builtin_ca = false, .anchor_files = {}};
    std::size_t start = 0;
    while (start <= v.size()) {
        auto end = v.find(',', start);
        if (end == std::string_view::npos) end = v.size();
        std::string_view item = v.substr(start, end - start);
        start = end + 1;
        while (!item.empty() && (item.front() == ' ' || item.front() == '\t'))
            item.remove_prefix(1);
        while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
        if (item.empty()) continue;
        if (item == "builtin") {
            verify.builtin_ca = true;
        } else {
            verify.anchor_files.emplace_back(std::string(item));
        }
    }
    if (!verify.builtin_ca && verify.anchor_files.empty()) {
        return "PEM files separated by commas, `builtin` for the built-in CA";
    }
    c.verify = std::move(verify);
    return std::nullopt;
}

Problem SetDatabaseThreads(Config& c, std::string_view v) {
    if (v == "auto") {
        c.server.database_threads.reset();
        return std::nullopt;
    }
    const auto x = ParseInteger(v);
    if (!x || *x < 0 || *x > 256) return "`auto` or an integer from 0 to 256";
    c.server.database_threads = static_cast<int>(*x);
    return std::nullopt;
}

Problem SetNodeId(Config& c, std::string_view v) {
    if (v.empty() || v.size() > 64 || v.find_first_of(" \t\r\n\"'=\\") != std::string_view::npos) {
        return "1 to 64 characters without spaces, quotes, = or backslashes";
    }
    c.server.node_id = std::string(v);
    return std::nullopt;
}

Problem SetMetricsAllow(Config& c, std::string_view v) {
    auto parsed = http::AddressList::Parse(v);
    if (!parsed) {
        return "addresses or CIDR networks separated by commas or spaces (" +
               parsed.error().message + ")";
    }
    c.metrics.allow = std::move(*parsed);
    return std::nullopt;
}

Problem SetTrustedProxies(Config& c, std::string_view v) {
    auto parsed = http::TrustedProxies::Parse(v);
    if (!parsed) {
        return "addresses or CIDR networks separated by commas or spaces (" +
               parsed.error().message + ")";
    }
    c.server.trusted_proxies = std::move(*parsed);
    return std::nullopt;
}

// "email:7d,sms:24h" → the reminder schedule.
Problem SetReminders(Config& c, std::string_view text) {
    std::vector<domain::Reminder> out;
    std::size_t start = 0;
    while (start < text.size()) {
        auto end = text.find(',', start);
        if (end == std::string_view::npos) end = text.size();
        const std::string_view item = text.substr(start, end - start);
        start = end + 1;
        if (item.empty()) continue;
        const auto colon = item.find(':');
        const std::string_view channel = item.substr(0, colon);
        std::string_view amount =
            colon == std::string_view::npos ? std::string_view() : item.substr(colon + 1);
        long long hours = -1;
        if (!amount.empty() && (amount.back() == 'h' || amount.back() == 'd')) {
            const char unit = amount.back();
            amount.remove_suffix(1);
            const auto n = amount.size() < 6 ? ParseInteger(amount) : std::nullopt;
            if (n && !amount.starts_with('-')) hours = *n * (unit == 'd' ? 24 : 1);
        }
        if ((channel != "email" && channel != "sms") || hours <= 0) {
            return "channel:amount items separated by commas (email or sms; hours like 24h, or "
                   "days like 7d); \"" +
                   std::string(item) + "\" is not one";
        }
        out.push_back({channel == "sms" ? domain::Channel::kSms : domain::Channel::kEmail,
                       std::chrono::hours(hours)});
    }
    c.notify.reminders = std::move(out);
    return std::nullopt;
}

// A field of the configuration, for the setters: FIRMO_FIELD(server.io_threads). A member
// path cannot be parenthesised.
// clang-format off
// NOLINTNEXTLINE(bugprone-macro-parentheses)
#define FIRMO_FIELD(path) [](Config& c) -> auto& { return c.path; }
// clang-format on

std::vector<ConfigKey> MakeKeys() {
    using S = Section;
    using http::TlsVersion;
    using Level = log::Level;
    return {
        {S::kServer, "server.listen", "FIRMO_LISTEN", "listen", "HOST:PORT", "`127.0.0.1:8080`",
         "address to listen on (`:0` picks a free port and prints it)", false, SetListen},
        {S::kServer, "server.public_url", "FIRMO_PUBLIC_URL", "public-url", "URL",
         "`http://<listen address>` (`https://…` with TLS)",
         "base of the links Firmo hands out (upload URLs, signers' links, QR codes, the OIDC "
         "callback); set it to the URL clients reach behind a proxy",
         false, SetPublicUrl},
        {S::kServer, "server.io_threads", "FIRMO_IO_THREADS", "io-threads", "N", "0 (one per core)",
         "HTTP event loops, one thread each; they also run the routes that never block, and "
         "database work on SQLite ([request lanes](#request-lanes)); 0–64",
         false, Integer<int>(FIRMO_FIELD(server.io_threads), 0, 64)},
        {S::kServer, "server.database_threads", "FIRMO_DATABASE_THREADS", "database-threads", "N",
         "`auto`",
         "threads for routes that wait on the database: `auto` is `database.pool_size − "
         "heavy_threads − jobs.threads − notify.delivery_threads` (at least 1); 0 runs them on "
         "the I/O threads; 0–256",
         false, SetDatabaseThreads},
        {S::kServer, "server.worker_threads", "FIRMO_WORKER_THREADS", "worker-threads", "N",
         "`auto`", "the former name of `server.database_threads`", false, SetDatabaseThreads},
        {S::kServer, "server.heavy_threads", "FIRMO_HEAVY_THREADS", "heavy-threads", "N", "2",
         "threads for PDF work (`validate-document`, `verify`) and document uploads and "
         "downloads; 1–256",
         false, Integer<int>(FIRMO_FIELD(server.heavy_threads), 1, 256)},
        {S::kServer, "server.heavy_queue", "FIRMO_HEAVY_QUEUE", "heavy-queue", "N", "16",
         "heavy requests that may wait for a heavy thread; one more is answered 503 with "
         "`Retry-After: 2` at once; 0–100000",
         false, Integer<int>(FIRMO_FIELD(server.heavy_queue), 0, 100'000)},
        {S::kServer, "server.node_id", "FIRMO_NODE_ID", "node-id", "ID", "`<host>-<pid>`",
         "names this node in every log line (`node`) and in job leases (`jobs.leased_by`); up to "
         "64 characters, no spaces, quotes, `=` or backslashes",
         false, SetNodeId},
        {S::kServer, "server.read_timeout_s", "FIRMO_READ_TIMEOUT_S", "read-timeout", "S", "30",
         "seconds to receive one request's headers and body, and for the TLS handshake; slower "
         "clients are disconnected",
         false, Span<std::chrono::seconds>(FIRMO_FIELD(server.read_timeout), 1, 3600)},
        {S::kServer, "server.tls_cert_file", "FIRMO_TLS_CERT_FILE", "tls-cert-file", "FILE",
         "— (plain HTTP)",
         "PEM file: the server's certificate first, then its intermediates in order. With "
         "`server.tls_key_file` the port speaks HTTPS only ([TLS in Firmo](#tls-in-firmo)); set "
         "both or neither. SIGHUP rereads both files",
         false, Text(FIRMO_FIELD(server.tls_cert_file))},
        {S::kServer, "server.tls_key_file", "FIRMO_TLS_KEY_FILE", "tls-key-file", "FILE", "—",
         "the certificate's unencrypted PEM private key; refused when other users can read it "
         "(0600, or 0640 with a warning)",
         false, Text(FIRMO_FIELD(server.tls_key_file))},
        {S::kServer, "server.tls_min_version", "FIRMO_TLS_MIN_VERSION", "tls-min-version",
         "VERSION", "`1.2`", "lowest TLS version accepted: `1.2` or `1.3`", false,
         Enum<TlsVersion>(FIRMO_FIELD(server.tls_min_version),
                          {{"1.2", TlsVersion::kTls12}, {"1.3", TlsVersion::kTls13}})},
        {S::kServer, "server.trusted_proxies", "FIRMO_TRUSTED_PROXIES", "trusted-proxies", "LIST",
         "—",
         "reverse proxies (addresses or CIDR networks) whose `X-Forwarded-For` names the client "
         "([behind a proxy](#tls))",
         false, SetTrustedProxies},
        {S::kServer, "server.idle_timeout_s", "FIRMO_IDLE_TIMEOUT_S", "idle-timeout", "S", "60",
         "seconds a keep-alive connection may wait for its next request", false,
         Span<std::chrono::seconds>(FIRMO_FIELD(server.idle_timeout), 1, 3600)},
        {S::kServer, "server.max_connections", "FIRMO_MAX_CONNECTIONS", "max-connections", "N",
         "10000",
         "client connections open at once; at the limit the connection idle the longest is "
         "closed to make room, and without one idle a new connection is refused (503 with "
         "`Retry-After`, then closed). Lowered at start to what the descriptor limit allows "
         "(`LimitNOFILE` minus 1/8, at least 64 kept free: [Connection and memory "
         "limits](#connection-and-memory-limits)); 0: that limit only",
         false, Integer<std::int64_t>(FIRMO_FIELD(server.max_connections), 0, 10'000'000)},
        {S::kServer, "server.max_connections_per_ip", "FIRMO_MAX_CONNECTIONS_PER_IP",
         "max-connections-per-ip", "N", "256",
         "client connections open at once from one TCP peer address (a reverse proxy listed in "
         "`server.trusted_proxies` is exempt); more are refused at accept; 0: no limit",
         false, Integer<std::int64_t>(FIRMO_FIELD(server.max_connections_per_ip), 0, 10'000'000)},
        {S::kServer, "server.max_unauthenticated_bytes", "FIRMO_MAX_UNAUTHENTICATED_BYTES",
         "max-unauthenticated-bytes", "BYTES", "67108864",
         "request bodies received at once, all connections together, whose sender's credential "
         "could not be checked from the headers (portal forms, signer API; issuer calls on "
         "PostgreSQL), counted at their announced length; a request beyond gets 503 with "
         "`Retry-After` before its body is read; 0: no limit",
         false,
         Integer<std::int64_t>(FIRMO_FIELD(server.max_unauthenticated_bytes), 0,
                               std::int64_t{1} << 40)},
        {S::kJobs, "jobs.threads", "FIRMO_JOB_THREADS", "job-threads", "N", "1",
         "background job threads (document validation, signing, the expiry and reminder sweep); "
         "0–64; 0: this node runs no jobs and no sweep (API-only), other nodes must",
         false, Integer<int>(FIRMO_FIELD(jobs.threads), 0, 64)},
        {S::kJobs, "jobs.lease_ms", "FIRMO_JOB_LEASE_MS", "job-lease-ms", "MS", "60000",
         "how long a node owns a job it claimed (1000–3600000 ms); a dead node's jobs go to the "
         "others when it ends. Keep it above the slowest job "
         "([leases](#background-work-across-nodes))",
         false, Span<std::chrono::milliseconds>(FIRMO_FIELD(jobs.lease), 1000, 3'600'000)},
        {S::kStorage, "storage.data_dir", "FIRMO_DATA_DIR", "data-dir", "DIR", "`./data`",
         "holds `firmo.db` (SQLite), `documents/` and the built-in CA (`ca/`)", false,
         Path(FIRMO_FIELD(storage.data_dir))},
        {S::kDatabase, "database.url", "FIRMO_DATABASE_URL", "database-url", "URL",
         "empty (SQLite)",
         "`postgresql://user:pass@host:5432/firmo?sslmode=require`: PostgreSQL instead of "
         "`DATA_DIR/firmo.db` (migrations run at start, one node at a time); a libpq URI, several "
         "hosts allowed, see [PostgreSQL](#postgresql)",
         false, Url(FIRMO_FIELD(database.url), {"postgresql://", "postgres://"}, true)},
        {S::kStorage, "storage.url", "FIRMO_STORAGE_URL", "storage-url", "URL", "empty (folder)",
         "`s3://bucket/prefix`: documents in S3-compatible object storage instead of "
         "`DATA_DIR/documents`",
         false, Url(FIRMO_FIELD(storage.url), {"s3://"}, true)},
        {S::kStorage, "storage.s3_endpoint", "FIRMO_S3_ENDPOINT", "s3-endpoint", "URL", "—",
         "the object store's address, `https://…` (AWS Signature V4; multipart above 16 MiB)",
         false, Url(FIRMO_FIELD(storage.s3.endpoint), {"http://", "https://"}, false)},
        {S::kStorage, "storage.s3_region", "FIRMO_S3_REGION", "s3-region", "REGION", "`us-east-1`",
         "the object store's region, as the signatures name it", false,
         Text(FIRMO_FIELD(storage.s3.region), Allow::kNonEmpty)},
        {S::kStorage, "storage.s3_access_key", "FIRMO_S3_ACCESS_KEY", "s3-access-key", "KEY", "—",
         "the object store's access key id", false, Text(FIRMO_FIELD(storage.s3.access_key))},
        {S::kStorage, "storage.s3_secret_key", "FIRMO_S3_SECRET_KEY", "", "", "—",
         "the S3 secret (environment or file only, never a flag)", true,
         Text(FIRMO_FIELD(storage.s3.secret_key))},
        {S::kStorage, "storage.s3_path_style", "FIRMO_S3_PATH_STYLE", "s3-path-style", "BOOL",
         "`true`",
         "path-style addressing (`endpoint/bucket/key`); `false`: virtual-host style "
         "(`bucket.endpoint/key`)",
         false, Bool(FIRMO_FIELD(storage.s3.path_style))},
        {S::kStorage, "storage.s3_direct_urls", "FIRMO_S3_DIRECT_URLS", "s3-direct-urls", "BOOL",
         "`false`",
         "upload URLs are pre-signed `PUT`s and signed-document URLs pre-signed `GET`s on the "
         "object store, so PDFs bypass the nodes ([direct URLs](#direct-urls)); needs an S3 "
         "`storage.url`",
         false, Bool(FIRMO_FIELD(storage.s3.direct_urls))},
        {S::kStorage, "storage.s3_public_endpoint", "FIRMO_S3_PUBLIC_ENDPOINT",
         "s3-public-endpoint", "URL", "the value of `storage.s3_endpoint`",
         "the object store's address as issuers reach it; pre-signed URLs are signed for this "
         "host",
         false, Url(FIRMO_FIELD(storage.s3.public_endpoint), {"http://", "https://"}, true)},
        {S::kDatabase, "database.allow_newer_schema", "FIRMO_ALLOW_NEWER_SCHEMA",
         "allow-newer-schema", "BOOL", "`false`",
         "start on a database a newer release migrated (for a rollback; see "
         "[Upgrades](#upgrades-and-migrations))",
         false, Bool(FIRMO_FIELD(database.allow_newer_schema))},
        {S::kDatabase, "database.pool_size", "FIRMO_DB_POOL", "db-pool", "N", "8",
         "database connections of this node (SQLite or PostgreSQL), opened on demand and kept; "
         "see [Sizing](#sizing)",
         false, Integer<int>(FIRMO_FIELD(database.pool_size), 1, 256)},
        {S::kLimits, "limits.max_document_bytes", "FIRMO_MAX_DOCUMENT_BYTES", "max-document-bytes",
         "BYTES", "10485760", "largest PDF upload (413 above); 1024 to 4294967296", false,
         Integer<std::int64_t>(FIRMO_FIELD(limits.max_document_bytes), 1024,
                               std::int64_t{1} << 32)},
        {S::kLimits, "limits.max_json_bytes", "FIRMO_MAX_JSON_BYTES", "max-json-bytes", "BYTES",
         "1048576", "largest JSON body (413 above); 1024 to 67108864", false,
         Integer<std::int64_t>(FIRMO_FIELD(limits.max_json_bytes), 1024,
                               std::int64_t{64} * 1024 * 1024)},
        {S::kLimits, "limits.rate_limit_burst", "FIRMO_RATE_LIMIT_BURST", "rate-limit-burst", "N",
         "150",
         "calls per window per API key, counted across all nodes (failed authentications get the "
         "same budget per client IP address); 0: off",
         false, Integer<int>(FIRMO_FIELD(limits.rate_limit_burst), 0, 1'000'000)},
        {S::kLimits, "limits.rate_limit_window_ms", "FIRMO_RATE_LIMIT_WINDOW_MS",
         "rate-limit-window-ms", "MS", "5000",
         "the sliding window; give every node the same value (nodes with different windows count "
         "apart)",
         false,
         Span<std::chrono::milliseconds>(FIRMO_FIELD(limits.rate_limit_window), 1, 3'600'000)},
        {S::kLimits, "retention.documents_days", "FIRMO_RETENTION_DOCUMENTS_DAYS",
         "retention-documents-days", "DAYS", "40",
         "a final request's documents (uploads and signed versions) are deleted from the file "
         "storage this many days after it ended, as with `DELETE .../documents` (as Posten "
         "signering); metadata and audit log stay; 0: kept until deleted by the API",
         false, Integer<int>(FIRMO_FIELD(limits.retention_documents_days), 0, 36'500)},
        {S::kLimits, "retention.signer_copy_days", "FIRMO_RETENTION_SIGNER_COPY_DAYS",
         "retention-signer-copy-days", "DAYS", "30",
         "how long after a request ended its signers may still open the link in their \"signed "
         "documents\" message, log in with a fresh one-time code (or eID) and download their copy; "
         "after that the portal says the copy is no longer kept and downloads are refused (0: "
         "no copy after the end)",
         false, Integer<int>(FIRMO_FIELD(limits.retention_signer_copy_days), 0, 36'500)},
        {S::kLog, "log.level", "FIRMO_LOG_LEVEL", "log-level", "LEVEL", "`info`",
         "`debug`, `info`, `warn`, `error`", false,
         Enum<Level>(FIRMO_FIELD(log.level), {{"debug", Level::kDebug},
                                              {"info", Level::kInfo},
                                              {"warn", Level::kWarn},
                                              {"error", Level::kError}})},
        {S::kLog, "log.format", "FIRMO_LOG_FORMAT", "log-format", "FORMAT", "`text`",
         "`text` (`key=value` pairs) or `json` (one JSON object per line), see [Logs](#logs)",
         false,
         Enum<log::Format>(FIRMO_FIELD(log.format),
                           {{"text", log::Format::kText}, {"json", log::Format::kJson}})},
        {S::kLog, "log.access_log", "FIRMO_ACCESS_LOG", "access-log", "BOOL", "`true`",
         "one line per request (request id, method, path, lane, status, µs, client IP), written "
         "in batches every 50 ms",
         false, Bool(FIRMO_FIELD(log.access_log))},
        {S::kMetrics, "metrics.allow", "FIRMO_METRICS_ALLOW", "metrics-allow", "LIST",
         "`127.0.0.0/8, ::1`",
         "clients (addresses or CIDR networks, after `server.trusted_proxies`) that may read "
         "`GET /metrics`; others get 403 ([Monitoring](#monitoring))",
         false, SetMetricsAllow},
        {S::kBootstrap, "bootstrap.email", "FIRMO_BOOTSTRAP_EMAIL", "bootstrap-email", "EMAIL",
         "`admin@localhost.localdomain`",
         "e-mail of the issuer created on first start, and the login of the sender portal's "
         "first admin (its setup link is printed then)",
         false, Text(FIRMO_FIELD(bootstrap.email), Allow::kNonEmpty)},
        {S::kBootstrap, "bootstrap.issuer_name", "FIRMO_BOOTSTRAP_ISSUER_NAME", "issuer-name",
         "NAME", "`Default issuer`",
         "display name of the issuer created on first start (signers see it; change it later "
         "with `PATCH /api/v1/issuer` or `firmo issuer update`)",
         false, Text(FIRMO_FIELD(bootstrap.issuer_name), Allow::kNonEmpty)},
        {S::kWeb, "web.assets_dir", "FIRMO_ASSETS_DIR", "assets-dir", "DIR",
         "the build's `assets/`",
         "folder holding `pdfjs/` (pdf.js, copied there by the build from npm `pdfjs-dist`); set "
         "it when the binary runs away from its build tree",
         false, Path(FIRMO_FIELD(web.assets_dir))},
        {S::kWeb, "web.secure_cookies", "FIRMO_SECURE_COOKIES", "secure-cookies", "MODE", "`auto`",
         "`Secure` flag of the signer session cookie: `true`, `false`, or `auto`: on unless "
         "`public_url` is plain-HTTP loopback (then browsers would drop it)",
         false,
         Enum<SecureCookies>(FIRMO_FIELD(web.secure_cookies), {{"auto", SecureCookies::kAuto},
                                                               {"true", SecureCookies::kOn},
                                                               {"false", SecureCookies::kOff}})},
        {S::kWeb, "web.code_ttl_s", "FIRMO_CODE_TTL_S", "code-ttl", "S", "600",
         "how long a one-time code is valid, 1–3600 s (a new one can be asked for after 30 s, or "
         "at once when the old one expired)",
         false, Span<std::chrono::seconds>(FIRMO_FIELD(web.code_ttl), 1, 3600)},
        {S::kWeb, "web.calls_per_ip", "FIRMO_SIGNER_CALLS_PER_IP", "signer-calls-per-ip", "N",
         "600",
         "portal pages and signer API calls per client address and window, counted across all "
         "nodes (static files excepted); above: 429 with `Retry-After`; 0: off",
         false, Integer<int>(FIRMO_FIELD(web.calls_per_ip), 0, 1'000'000)},
        {S::kWeb, "web.calls_per_request", "FIRMO_SIGNER_CALLS_PER_REQUEST",
         "signer-calls-per-request", "N", "300",
         "portal pages and signer API calls per signature request (or signer link) and window, "
         "from any address; 0: off",
         false, Integer<int>(FIRMO_FIELD(web.calls_per_request), 0, 1'000'000)},
        {S::kWeb, "web.sessions_per_ip", "FIRMO_SIGNER_SESSIONS_PER_IP", "signer-sessions-per-ip",
         "N", "30",
         "logins (signer sessions opened: code, redirect, eID start) per client address and "
         "window; 0: off",
         false, Integer<int>(FIRMO_FIELD(web.sessions_per_ip), 0, 1'000'000)},
        {S::kWeb, "web.limit_window_s", "FIRMO_SIGNER_LIMIT_WINDOW_S", "signer-limit-window", "S",
         "60", "the sliding window of the three signer-side limits above, 1–3600 s", false,
         Span<std::chrono::seconds>(FIRMO_FIELD(web.limit_window), 1, 3600)},
        {S::kWeb, "web.staff_login_attempts", "FIRMO_STAFF_LOGIN_ATTEMPTS", "staff-login-attempts",
         "N", "10",
         "sender portal (`/app`) login attempts per minute, per client address and per account, "
         "counted across all nodes; above: 429 with `Retry-After`; 0: off",
         false, Integer<int>(FIRMO_FIELD(web.staff_login_attempts), 0, 1'000'000)},
        {S::kWeb, "web.staff_time_zone", "FIRMO_STAFF_TIME_ZONE", "staff-time-zone", "ZONE",
         "`UTC`",
         "the institution's IANA time zone (`Europe/Rome`, `Europe/Oslo`): times on the sender "
         "portal's pages",
         false, Text(FIRMO_FIELD(web.staff_time_zone), Allow::kNonEmpty)},
        {S::kWeb, "staff.require_totp", "FIRMO_STAFF_REQUIRE_TOTP", "staff-require-totp", "BOOL",
         "`false`",
         "`true`: every sender portal account must use a TOTP second factor; one without it sets "
         "it up at its next login, and none can turn it off (an admin can still reset one)",
         false, Bool(FIRMO_FIELD(web.staff_require_totp))},
        {S::kWeb, "staff_oidc.issuer", "FIRMO_STAFF_OIDC_ISSUER", "staff-oidc-issuer", "URL", "off",
         "the institution's own OpenID provider (Entra ID, Keycloak...) for the sender portal's "
         "login; on when set (the login page shows \"Sign in with\" `staff_oidc.name`)",
         false, Url(FIRMO_FIELD(web.staff_oidc.issuer), {"http://", "https://"}, true)},
        {S::kWeb, "staff_oidc.client_id", "FIRMO_STAFF_OIDC_CLIENT_ID", "staff-oidc-client-id",
         "ID", "—", "the client registered at that provider", false,
         Text(FIRMO_FIELD(web.staff_oidc.client_id))},
        {S::kWeb, "staff_oidc.client_secret", "FIRMO_STAFF_OIDC_CLIENT_SECRET", "", "SECRET",
         "empty", "the client's secret; empty: a public client (PKCE only)", true,
         Text(FIRMO_FIELD(web.staff_oidc.client_secret))},
        {S::kWeb, "staff_oidc.scopes", "FIRMO_STAFF_OIDC_SCOPES", "staff-oidc-scopes", "SCOPES",
         "`openid email profile`", "scopes asked for; must include `openid`", false,
         Text(FIRMO_FIELD(web.staff_oidc.scopes), Allow::kOneLine)},
        {S::kWeb, "staff_oidc.role_claim", "FIRMO_STAFF_OIDC_ROLE_CLAIM", "staff-oidc-role-claim",
         "CLAIM", "`roles`",
         "the ID token claim (a string or an array of strings) with the person's roles or groups, "
         "e.g. `roles` or `groups`",
         false, Text(FIRMO_FIELD(web.staff_oidc.role_claim), Allow::kNonEmpty)},
        {S::kWeb, "staff_oidc.role_map", "FIRMO_STAFF_OIDC_ROLE_MAP", "staff-oidc-role-map", "MAP",
         "empty",
         "claim value → role, comma-separated: `firmo-admins=admin,firmo-senders=sender,"
         "staff=viewer`; the most powerful mapped value wins; none: the login is refused",
         false, Text(FIRMO_FIELD(web.staff_oidc.role_map), Allow::kOneLine)},
        {S::kWeb, "staff_oidc.issuer_id", "FIRMO_STAFF_OIDC_ISSUER_ID", "staff-oidc-issuer-id",
         "ID", "—",
         "the Firmo issuer whose staff this provider's people are (required with the issuer)",
         false, Text(FIRMO_FIELD(web.staff_oidc.issuer_id))},
        {S::kWeb, "staff_oidc.email_claim", "FIRMO_STAFF_OIDC_EMAIL_CLAIM",
         "staff-oidc-email-claim", "CLAIM", "`email`",
         "the claim with the person's e-mail address (the account's login name)", false,
         Text(FIRMO_FIELD(web.staff_oidc.email_claim), Allow::kNonEmpty)},
        {S::kWeb, "staff_oidc.name", "FIRMO_STAFF_OIDC_NAME", "staff-oidc-name", "NAME",
         "`your organisation`", "the provider's name on the login page's button", false,
         Text(FIRMO_FIELD(web.staff_oidc.name), Allow::kNonEmpty)},
        {S::kNotify, "notify.code_delivery", "FIRMO_CODE_DELIVERY", "code-delivery", "MODE",
         "`auto`",
         "`smtp`, `log` (codes written to the log: development only), `auto` (= `smtp` when "
         "`smtp.url` is set, else `log` with a warning)",
         false,
         Enum<CodeDelivery>(FIRMO_FIELD(notify.code_delivery), {{"auto", CodeDelivery::kAuto},
                                                                {"smtp", CodeDelivery::kSmtp},
                                                                {"log", CodeDelivery::kLog}})},
        {S::kSmtp, "smtp.url", "FIRMO_SMTP_URL", "smtp-url", "URL", "—",
         "the SMTP server for one-time codes and notifications: `smtp://host:587` (upgraded per "
         "`smtp.starttls`), `smtps://host:465`; no credentials in the URL ([E-mail](#e-mail-smtp))",
         false, Url(FIRMO_FIELD(smtp.url), {"smtp://", "smtps://"}, true)},
        {S::kSmtp, "smtp.username", "FIRMO_SMTP_USERNAME", "smtp-username", "NAME", "empty",
         "SMTP AUTH user, when set (send it only over TLS)", false,
         Text(FIRMO_FIELD(smtp.username))},
        {S::kSmtp, "smtp.password", "FIRMO_SMTP_PASSWORD", "smtp-password", "PASSWORD", "empty",
         "SMTP AUTH password (prefer the environment variable)", true,
         Text(FIRMO_FIELD(smtp.password))},
        {S::kSmtp, "smtp.from", "FIRMO_SMTP_FROM", "smtp-from", "EMAIL",
         "`firmo@localhost.localdomain`", "sender address (envelope and `From:` header)", false,
         Text(FIRMO_FIELD(smtp.from), Allow::kNonEmpty)},
        {S::kSmtp, "smtp.starttls", "FIRMO_SMTP_STARTTLS", "smtp-starttls", "MODE", "`required`",
         "for `smtp://` URLs: `required`, `opportunistic` or `none`", false,
         Enum<notify::StartTls>(FIRMO_FIELD(smtp.starttls),
                                {{"none", notify::StartTls::kNone},
                                 {"opportunistic", notify::StartTls::kOpportunistic},
                                 {"required", notify::StartTls::kRequired}})},
        {S::kSmtp, "smtp.ca_file", "FIRMO_SMTP_CA_FILE", "smtp-ca-file", "FILE", "system store",
         "PEM file of the certificate authorities to trust for the SMTP server", false,
         Text(FIRMO_FIELD(smtp.ca_file))},
        {S::kSmtp, "smtp.verify_peer", "FIRMO_SMTP_VERIFY_PEER", "smtp-verify-peer", "BOOL",
         "`true`",
         "check the SMTP server's certificate chain and host name; `false` only for testing", false,
         Bool(FIRMO_FIELD(smtp.verify_peer))},
        {S::kOidc, "oidc.issuer", "FIRMO_OIDC_ISSUER", "oidc-issuer", "URL", "off",
         "the eID provider's issuer URL; login with a national eID is on when set, see "
         "[OpenID Connect login](#openid-connect-login)",
         false, Url(FIRMO_FIELD(oidc.issuer), {"http://", "https://"}, true)},
        {S::kOidc, "oidc.client_id", "FIRMO_OIDC_CLIENT_ID", "oidc-client-id", "ID", "—",
         "the client registered at the provider", false, Text(FIRMO_FIELD(oidc.client_id))},
        {S::kOidc, "oidc.client_secret", "FIRMO_OIDC_CLIENT_SECRET", "oidc-client-secret", "SECRET",
         "empty", "the client's secret; empty: a public client (PKCE only)", true,
         Text(FIRMO_FIELD(oidc.client_secret))},
        {S::kOidc, "oidc.scopes", "FIRMO_OIDC_SCOPES", "oidc-scopes", "SCOPES", "`openid profile`",
         "scopes asked for; must include `openid`", false, Text(FIRMO_FIELD(oidc.scopes))},
        {S::kOidc, "oidc.identifier_claim", "FIRMO_OIDC_IDENTIFIER_CLAIM", "oidc-identifier-claim",
         "CLAIM", "`fiscal_number`",
         "the claim carrying the national identifier: `fiscal_number` or `pid`", false,
         Text(FIRMO_FIELD(oidc.identifier_claim), Allow::kNonEmpty)},
        {S::kOidc, "oidc.identifier_kind", "FIRMO_OIDC_IDENTIFIER_KIND", "oidc-identifier-kind",
         "KIND", "`it_fiscal_code`", "`it_fiscal_code` or `no_nin`", false,
         Enum<domain::IdentifierKind>(FIRMO_FIELD(oidc.identifier_kind),
                                      {{"it_fiscal_code", domain::IdentifierKind::kItFiscalCode},
                                       {"no_nin", domain::IdentifierKind::kNoNationalId}})},
        {S::kOidc, "oidc.acr_substantial", "FIRMO_OIDC_ACR_SUBSTANTIAL", "oidc-acr-substantial",
         "LIST", "by `oidc.identifier_kind`",
         "the provider's `acr` values for eID level substantial, comma-separated: the first is "
         "asked for (`acr_values`), any is accepted back; empty: "
         "`https://www.spid.gov.it/SpidL2` (SPID, CIE) for `it_fiscal_code`, "
         "`idporten-loa-substantial,Level3` (ID-porten) for `no_nin`; see "
         "[Authentication levels](#authentication-levels)",
         false, Text(FIRMO_FIELD(oidc.acr_substantial), Allow::kOneLine)},
        {S::kOidc, "oidc.acr_high", "FIRMO_OIDC_ACR_HIGH", "oidc-acr-high", "LIST",
         "by `oidc.identifier_kind`",
         "the same for eID level high: `https://www.spid.gov.it/SpidL3` (SPID, CIE), "
         "`idporten-loa-high,Level4` (ID-porten)",
         false, Text(FIRMO_FIELD(oidc.acr_high), Allow::kOneLine)},
        {S::kSms, "sms.url", "FIRMO_SMS_URL", "sms-url", "URL", "off",
         "the SMS gateway for codes and notifications, see [SMS gateway](#sms-gateway)", false,
         Url(FIRMO_FIELD(sms.url), {"http://", "https://"}, true)},
        {S::kSms, "sms.auth_header", "FIRMO_SMS_AUTH_HEADER", "sms-auth-header", "HEADER", "empty",
         "one header sent with every request, e.g. `Authorization: Bearer xyz`", true,
         Text(FIRMO_FIELD(sms.auth_header), Allow::kOneLine)},
        {S::kSms, "sms.body_template", "FIRMO_SMS_BODY_TEMPLATE", "sms-body-template", "JSON",
         "`{\"to\":\"{{to}}\",\"text\":\"{{text}}\"}`",
         "the JSON body, with `{{to}}`, `{{text}}` and `{{sender}}` inside string literals", false,
         Text(FIRMO_FIELD(sms.body_template), Allow::kNonEmpty)},
        {S::kSms, "sms.sender", "FIRMO_SMS_SENDER", "sms-sender", "SENDER", "`Firmo`",
         "the value of `{{sender}}`", false, Text(FIRMO_FIELD(sms.sender))},
        {S::kNotify, "notify.reminders", "FIRMO_REMINDERS", "reminders", "LIST",
         "`email:168h,sms:24h`",
         "reminders before expiry to signers whose turn it is (`channel:Nh` or `channel:Nd`, "
         "comma-separated; empty: none); one per entry and signer",
         false, SetReminders},
        {S::kNotify, "notify.delivery_threads", "FIRMO_DELIVERY_THREADS", "delivery-threads", "N",
         "1",
         "threads delivering the outbox (e-mail, SMS, webhooks); 0: this node delivers nothing "
         "(another node does)",
         false, Integer<int>(FIRMO_FIELD(notify.delivery_threads), 0, 64)},
        {S::kNotify, "notify.retry_base_ms", "FIRMO_RETRY_BASE_MS", "retry-base-ms", "MS", "30000",
         "first retry after a failed delivery; doubles each time up to 2 h; webhooks are tried 22 "
         "times (the last about 28 h after the first), e-mail and SMS 10 times",
         false, Span<std::chrono::milliseconds>(FIRMO_FIELD(notify.retry_base), 10, 3'600'000)},
        {S::kWebhooks, "webhooks.timeout_ms", "FIRMO_WEBHOOK_TIMEOUT_MS", "webhook-timeout-ms",
         "MS", "10000", "one webhook call, connect included", false,
         Span<std::chrono::milliseconds>(FIRMO_FIELD(webhooks.timeout), 100, 120'000)},
        {S::kWebhooks, "webhooks.allow_private_addresses", "FIRMO_WEBHOOK_ALLOW_PRIVATE",
         "webhook-allow-private", "BOOL", "`false`",
         "whether webhook calls may go to loopback, private, link-local (cloud metadata), CGNAT, "
         "multicast or reserved addresses (checked on the address connected to, after DNS); "
         "`true` only when every issuer is trusted with your internal network (SSRF)",
         false, Bool(FIRMO_FIELD(webhooks.allow_private_addresses))},
        {S::kWebhooks, "webhooks.breaker_failures", "FIRMO_WEBHOOK_BREAKER_FAILURES",
         "webhook-breaker-failures", "N", "5",
         "failed calls in a row after which an endpoint's circuit opens: its messages then fail "
         "at once, without a call, until a probe succeeds; 0: never",
         false, Integer<int>(FIRMO_FIELD(webhooks.breaker_failures), 0, 1000)},
        {S::kWebhooks, "webhooks.breaker_open_s", "FIRMO_WEBHOOK_BREAKER_OPEN_S",
         "webhook-breaker-open", "S", "60",
         "how long an open circuit holds an endpoint's calls before one probe goes", false,
         Span<std::chrono::seconds>(FIRMO_FIELD(webhooks.breaker_open), 1, 86'400)},
        {S::kPolling, "polling.empty_interval_ms", "FIRMO_POLL_EMPTY_INTERVAL_MS",
         "poll-empty-interval-ms", "MS", "10000",
         "after an empty poll of `GET /api/v1/status-changes`, the next is permitted this much "
         "later (earlier: 429)",
         false, Span<std::chrono::milliseconds>(FIRMO_FIELD(polling.empty_interval), 0, 3'600'000)},
        {S::kPolling, "polling.redeliver_after_s", "FIRMO_POLL_REDELIVER_AFTER_S",
         "poll-redeliver-after", "S", "600",
         "a served change that is not confirmed is served again after this", false,
         Span<std::chrono::seconds>(FIRMO_FIELD(polling.redeliver_after), 1, 86'400)},
        {S::kVerify, "verify.trust_anchors", "FIRMO_VERIFY_TRUST_ANCHORS", "verify-trust-anchors",
         "FILES", "`builtin`",
         "certificates `POST /api/v1/verify` trusts for signatures and time-stamps: "
         "comma-separated PEM files, `builtin` standing for the built-in CA's certificate (read "
         "on each call). List your time-stamp authority's certificate (e.g. "
         "`builtin,/etc/firmo/tsa.pem`) or time-stamped signatures are not valid; see "
         "[docs/VERIFICATION.md](VERIFICATION.md)",
         false, SetTrustAnchors},
        {S::kCa, "ca.passphrase", "FIRMO_CA_PASSPHRASE", "", "", "empty",
         "passphrase of the built-in CA's key; `serve` creates the CA on first start when "
         "`DATA_DIR/ca/` is empty (key encrypted with this passphrase; when empty, with a random "
         "secret in `DATA_DIR.ca-key-secret` beside the data folder, mode 0600: see [The CA, "
         "the passphrase and the configuration](#the-ca-the-passphrase-and-the-configuration))",
         true, Text(FIRMO_FIELD(ca.passphrase))},
        {S::kCa, "tsa.url", "FIRMO_TSA_URL", "tsa-url", "URL", "empty",
         "the RFC 3161 time-stamp authority of the signatures the server makes (production: a "
         "qualified TSA); empty: the built-in one, which also answers `POST /pki/tsa` (see "
         "[Trust model](#trust-model))",
         false, Text(FIRMO_FIELD(tsa.url))},
        {S::kJobs, "archive.enabled", "FIRMO_ARCHIVE_ENABLED", "archive-enabled", "BOOL", "true",
         "keep the proof of stored signed documents alive: before the certificate of a "
         "document's last time-stamp expires, the worker adds validation data for it and a new "
         "document time-stamp (PAdES B-LTA) as the document's current signed version (see "
         "[Trust model](#trust-model))",
         false, Bool(FIRMO_FIELD(archive.enabled))},
        {S::kJobs, "archive.renew_before", "FIRMO_ARCHIVE_RENEW_BEFORE", "archive-renew-before",
         "DAYS", "90",
         "renew a document's archive time-stamp when its last time-stamp's certificate chain "
         "expires within this many days",
         false, Span<std::chrono::days>(FIRMO_FIELD(archive.renew_before), 1, 3650)},
        {S::kQtsp, "signing.provider", "FIRMO_SIGNING_PROVIDER", "signing-provider", "NAME",
         "`builtin`",
         "who makes the signature value: `builtin` (the built-in CA, a certificate per signing "
         "session) or `csc` (a qualified trust service provider over the CSC API v2, `csc.*`; "
         "see [docs/QTSP.md](QTSP.md))",
         false,
         Enum<SigningProvider>(
             FIRMO_FIELD(signing.provider),
             {{"builtin", SigningProvider::kBuiltin}, {"csc", SigningProvider::kCsc}})},
        {S::kQtsp, "csc.url", "FIRMO_CSC_URL", "csc-url", "URL", "—",
         "the base of the QTSP's CSC API v2 (`{url}/info`, `/credentials/list`, "
         "`/credentials/info`, `/signatures/signHash`), e.g. `https://qtsp.example/csc/v2`; "
         "needed with `signing.provider = \"csc\"`",
         false, Url(FIRMO_FIELD(csc.url), {"http://", "https://"}, true)},
        {S::kQtsp, "csc.oauth_url", "FIRMO_CSC_OAUTH_URL", "csc-oauth-url", "URL",
         "`oauth2` of `{csc.url}/info`",
         "the QTSP's OAuth 2.0 authorization server (`/oauth2/authorize`, `/oauth2/token`)", false,
         Url(FIRMO_FIELD(csc.oauth_url), {"http://", "https://"}, true)},
        {S::kQtsp, "csc.client_id", "FIRMO_CSC_CLIENT_ID", "csc-client-id", "ID", "—",
         "the client the QTSP registered for this Firmo (with the redirect URI "
         "`{server.public_url}/qtsp/callback`)",
         false, Text(FIRMO_FIELD(csc.client_id), Allow::kOneLine)},
        {S::kQtsp, "csc.client_secret", "FIRMO_CSC_CLIENT_SECRET", "", "", "—",
         "the client's secret (OAuth 2.0 client credentials and code exchange)", true,
         Text(FIRMO_FIELD(csc.client_secret), Allow::kOneLine)},
        {S::kQtsp, "csc.user_id_from", "FIRMO_CSC_USER_ID_FROM", "csc-user-id-from", "NAME",
         "`identifier`",
         "what Firmo sends as the QTSP's `userID`: `identifier` (the signer's fiscal code or "
         "national identity number, without prefix) or `email`",
         false,
         Enum<CscUserIdFrom>(
             FIRMO_FIELD(csc.user_id_from),
             {{"identifier", CscUserIdFrom::kIdentifier}, {"email", CscUserIdFrom::kEmail}})},
        {S::kQtsp, "csc.terms_url", "FIRMO_CSC_TERMS_URL", "csc-terms-url", "URL", "empty",
         "the QTSP's terms the signer accepts before the redirect (a link); recorded as "
         "accepted in the audit log",
         false, Url(FIRMO_FIELD(csc.terms_url), {"https://", "http://"}, true)},
        {S::kQtsp, "csc.terms_text", "FIRMO_CSC_TERMS_TEXT", "csc-terms-text", "TEXT", "empty",
         "the QTSP's terms as text, shown with (or instead of) `csc.terms_url`", false,
         Text(FIRMO_FIELD(csc.terms_text))},
    };
}

#undef FIRMO_FIELD

const ConfigKey* FindKey(std::string_view toml) {
    for (const auto& k : ConfigKeys()) {
        if (k.toml == toml) return &k;
    }
    return nullptr;
}

std::optional<std::string> TomlValue(const toml::node& node) {
    if (auto s = node.value<std::string>()) return *s;
    if (node.is_integer()) return std::to_string(*node.value<std::int64_t>());
    if (auto b = node.value<bool>()) return *b ? "true" : "false";
    return std::nullopt;
}

std::string Quoted(const ConfigKey& key, std::string_view value) {
    if (key.secret) return "(hidden)";
    std::string out = "\"";
    for (char ch : value) {
        if (ch == '"' || ch == '\\') out += '\\';
        out += ch == '\n' ? ' ' : ch;
    }
    return out + "\"";
}

// Applies the sources in order; `origin` records where each key's value came from.
class Loader {
  public:
    Result<void> Set(const ConfigKey& key, std::string_view value, const std::string& where) {
        if (auto problem = key.set(config_, value)) {
            return Fail(ErrorCode::kInvalidArgument,
                        where + " " + Quoted(key, value) + ": must be " + *problem);
        }
        origin_[std::string(key.toml)] = where;
        return {};
    }

    Result<void> File(const std::string& file) {
        toml::table table;
        try {
            table = toml::parse_file(file);
        } catch (const toml::parse_error& e) {
            return Fail(ErrorCode::kInvalidArgument,
                        "config " + file + ": " + std::string(e.description()));
        }
        // Unknown keys are errors: a typo must not silently fall back to a default.
        for (const auto& [section, node] : table) {
            const auto* sub = node.as_table();
            if (sub == nullptr) {
                return Fail(ErrorCode::kInvalidArgument,
                            "config " + file + ": unknown key " + std::string(section.str()) +
                                " (keys are in sections: [server] listen = ...)");
            }
            for (const auto& [name, value] : *sub) {
                const std::string dotted =
                    std::string(section.str()) + "." + std::string(name.str());
                const ConfigKey* key = FindKey(dotted);
                if (key == nullptr) {
                    return Fail(ErrorCode::kInvalidArgument,
                                "config " + file + ": unknown key " + dotted);
                }
                const auto text = TomlValue(value);
                if (!text) {
                    return Fail(ErrorCode::kInvalidArgument,
                                "config " + file + ": " + dotted +
                                    " must be a string, an integer or a boolean");
                }
                FIRMO_CHECK(Set(*key, *text, "config " + file + ": " + dotted + " ="));
            }
        }
        return {};
    }

    Result<void> Environment(const ConfigSources& sources) {
        if (!sources.env) return {};
        for (const auto& key : ConfigKeys()) {
            if (key.env.empty()) continue;
            if (auto value = sources.env(key.env)) {
                FIRMO_CHECK(Set(key, *value,
                                "environment variable " + std::string(key.env) + " (" +
                                    std::string(key.toml) + ") ="));
            }
        }
        return {};
    }

    Result<void> Flags(const ConfigSources& sources) {
        for (const auto& [flag, value] : sources.flags) {
            const ConfigKey* key = nullptr;
            for (const auto& k : ConfigKeys()) {
                if (!k.flag.empty() && k.flag == flag) key = &k;
            }
            if (key == nullptr) {
                return Fail(ErrorCode::kInvalidArgument, "unknown option --" + flag);
            }
            FIRMO_CHECK(Set(*key, value, "--" + flag + " (" + std::string(key->toml) + ") ="));
        }
        return {};
    }

    // Rules between keys, once every source is applied.
    Result<void> Check() const {
        const auto& server = config_.server;
        if (server.tls_cert_file.empty() != server.tls_key_file.empty()) {
            const bool cert = !server.tls_cert_file.empty();
            return Fail(ErrorCode::kInvalidArgument,
                        std::string("server.tls_cert_file and server.tls_key_file go together: ") +
                            (cert ? "server.tls_key_file" : "server.tls_cert_file") +
                            " is missing (set both for HTTPS, or neither for plain HTTP; " +
                            (cert ? "server.tls_cert_file" : "server.tls_key_file") +
                            " is set by " +
                            Origin(cert ? "server.tls_cert_file" : "server.tls_key_file") + ")");
        }
        if (config_.storage.s3.direct_urls && config_.storage.url.empty()) {
            return Fail(ErrorCode::kInvalidArgument,
                        "storage.s3_direct_urls (set by " + Origin("storage.s3_direct_urls") +
                            ") needs an S3 storage.url (s3://bucket/prefix)");
        }
        if (config_.signing.provider == SigningProvider::kCsc) {
            std::vector<std::string> missing;
            if (config_.csc.url.empty()) missing.push_back("csc.url (FIRMO_CSC_URL)");
            if (config_.csc.client_id.empty()) {
                missing.push_back("csc.client_id (FIRMO_CSC_CLIENT_ID)");
            }
            if (config_.csc.client_secret.empty()) {
                missing.push_back("csc.client_secret (FIRMO_CSC_CLIENT_SECRET)");
            }
            if (!missing.empty()) {
                std::string list;
                for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
                return Fail(ErrorCode::kInvalidArgument, "signing.provider = \"csc\" (set by " +
                                                             Origin("signing.provider") +
                                                             ") needs " + list);
            }
        }
        return {};
    }

    Config& config() { return config_; }

  private:
    std::string Origin(const std::string& toml) const {
        const auto it = origin_.find(toml);
        if (it == origin_.end()) return "default";
        std::string where = it->second;
        if (where.ends_with(" =")) where.resize(where.size() - 2);
        return where;
    }

    Config config_;
    std::map<std::string, std::string> origin_;
};

}  // namespace

const std::vector<ConfigKey>& ConfigKeys() {
    static const std::vector<ConfigKey> kKeys = MakeKeys();
    return kKeys;
}

Result<Config> LoadConfig(const ConfigSources& sources) {
    Loader loader;
#ifdef FIRMO_DEFAULT_ASSETS_DIR
    loader.config().web.assets_dir = FIRMO_DEFAULT_ASSETS_DIR;
#endif
    std::optional<std::string> file = sources.file;
    if (!file && sources.env) file = sources.env("FIRMO_CONFIG");
    if (file) FIRMO_CHECK(loader.File(*file));
    FIRMO_CHECK(loader.Environment(sources));
    FIRMO_CHECK(loader.Flags(sources));
    FIRMO_CHECK(loader.Check());
    return std::move(loader.config());
}

std::string PlainText(std::string_view markdown) {
    std::string out;
    for (std::size_t i = 0; i < markdown.size(); ++i) {
        const char ch = markdown[i];
        if (ch == '`') continue;
        if (ch == '[') {
            // [text](#anchor) → text
            const auto close = markdown.find("](", i);
            const auto end = close == std::string_view::npos ? close : markdown.find(')', close);
            if (end != std::string_view::npos) {
                out += PlainText(markdown.substr(i + 1, close - i - 1));
                i = end;
                continue;
            }
        }
        out += ch;
    }
    return out;
}

std::string ConfigKeysMarkdown() {
    std::ostringstream out;
    const auto code = [](std::string_view s) {
        return s.empty() ? std::string("—") : "`" + std::string(s) + "`";
    };
    out << "| TOML key | environment | flag | default | meaning |\n"
        << "|---|---|---|---|---|\n";
    for (const auto& k : ConfigKeys()) {
        out << "| " << code(k.toml) << " | " << code(k.env) << " | "
            << (k.flag.empty() ? std::string("—") : "`--" + std::string(k.flag) + "`") << " | "
            << k.default_doc << " | " << k.doc << " |\n";
    }
    return out.str();
}

}  // namespace firmo::app
