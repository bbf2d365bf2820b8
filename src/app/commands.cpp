#include "app/commands.hpp"

#include <algorithm>
#include <iostream>
#include <thread>

#include "api/document_api.hpp"
#include "api/event_api.hpp"
#include "api/frontend.hpp"
#include "api/issuer_api.hpp"
#include "api/signer_api.hpp"
#include "app/runtime.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "domain/services/rate_limit_service.hpp"
#include "http/forwarded.hpp"
#include "http/lanes.hpp"
#include "http/server.hpp"
#include "jobs/worker.hpp"
#include "pdf/cli.hpp"
#include "web/portal.hpp"

namespace firmo::app {

namespace {

constexpr const char* kCommonFlags =
    "  --data-dir DIR        data folder: SQLite file and documents (FIRMO_DATA_DIR; ./data)\n"
    "  --config FILE         TOML configuration file (FIRMO_CONFIG)\n"
    "  --log-level LEVEL     debug | info | warn | error (FIRMO_LOG_LEVEL; info)\n"
    "  --log-format FORMAT   text | json: one JSON object per line (FIRMO_LOG_FORMAT; text)\n"
    "  --help                this text\n";

constexpr const char* kUsage =
    "firmo - self-hosted digital signature service\n"
    "\n"
    "usage: firmo <command> [flags]\n"
    "\n"
    "commands:\n"
    "  serve                 run the HTTP server and background workers\n"
    "  migrate               create or upgrade the database schema\n"
    "  issuer create         create an issuer (prints its id)\n"
    "  apikey create         create an API key for an issuer (prints the key, once)\n"
    "  apikey revoke         revoke an API key at once\n"
    "  ca init | ca cert     create the built-in CA / print its certificate (PEM)\n"
    "  sign                  sign a PDF (PAdES) with a certificate from the built-in CA\n"
    "  verify                check every signature of a PDF; exit 0 only if all are valid\n"
    "\n"
    "Run `firmo <command> --help` for a command's flags.\n";

struct Command {
    const char* name;  // "apikey create"
    const char* help;
    int (*run)(const Args& args, const Config& config, std::ostream& out, std::ostream& err);
};

// The node id: server.node_id, else "<host>-<pid>" (as the job worker id).
std::string NodeId(const Config& c) {
    return c.node_id.empty() ? jobs::ThisProcessWorkerId() : c.node_id;
}

void SetUpLog(const Config& c) {
    using log::Level;
    log::SetLevel(c.log_level == "debug"   ? Level::kDebug
                  : c.log_level == "warn"  ? Level::kWarn
                  : c.log_level == "error" ? Level::kError
                                           : Level::kInfo);
    log::SetFormat(c.log_format == "json" ? log::Format::kJson : log::Format::kText);
    log::SetNode(NodeId(c));
}

int Report(const Error& e, std::ostream& err) {
    err << "firmo: " << e.message << "\n";
    for (const auto& v : e.violations) err << "  " << v.field << ": " << v.reason << "\n";
    return 1;
}

int RunServe(const Args&, const Config& config, std::ostream& out, std::ostream& err) {
    auto rt = Runtime::Open(config);
    if (!rt) return Report(rt.error(), err);
    Runtime& r = **rt;
    if (auto ok = r.OpenSignerSide(); !ok) return Report(ok.error(), err);

    metrics::Registry& metrics = r.metrics();
    jobs::WorkerOptions worker_options;
    worker_options.threads = config.job_threads;
    worker_options.lease = std::chrono::milliseconds(config.job_lease_ms);
    worker_options.worker_id = NodeId(config);
    worker_options.delivery_threads = config.delivery_threads;
    worker_options.metrics = &metrics;
    jobs::Worker worker(r.db(), r.requests(), r.clock(), worker_options);
    worker.SetCeremony(&r.ceremony());
    worker.SetEvents(&r.events());
    r.context().on_job_enqueued = [&worker] { worker.Wake(); };

    api::IssuerApiOptions api_options;
    api::IssuerApi issuer_api(api::Services{r.issuers(), r.dossiers(), r.signers(), r.requests()},
                              r.urls(), r.clock(), api_options);
    domain::RateLimitService rate_limits(
        r.db(), r.clock(),
        {config.rate_limit_burst, std::chrono::milliseconds(config.rate_limit_window_ms)});
    api::FrontendOptions front_options;
    front_options.max_json_bytes = static_cast<std::size_t>(config.max_json_bytes);
    front_options.max_document_bytes = static_cast<std::size_t>(config.max_document_bytes);
    front_options.access_log = config.access_log;
    if (auto proxies = http::TrustedProxies::Parse(config.trusted_proxies); proxies) {
        front_options.trusted_proxies = std::move(*proxies);  // checked when the config loaded
    }
    if (auto allow = http::AddressList::Parse(config.metrics_allow); allow) {
        front_options.metrics_allow = std::move(*allow);  // checked when the config loaded
    }
    // Lanes (http/lanes.hpp): database work inline on SQLite; on PostgreSQL on a pool that
    // leaves connections to the heavy lane, the jobs and the deliveries (its round trips must
    // not stall an I/O thread, and a thread finding the connection pool empty waits).
    http::LaneOptions lane_options;
    if (config.database_threads >= 0) {
        lane_options.database_threads = config.database_threads;
    } else if (config.database_url.empty()) {
        lane_options.database_threads = 0;
    } else {
        lane_options.database_threads =
            std::max(1, config.db_pool - config.heavy_threads - config.job_threads -
                            config.delivery_threads);
    }
    lane_options.heavy_threads = config.heavy_threads;
    lane_options.heavy_queue = config.heavy_queue;
    http::Lanes lanes(lane_options);
    lanes.RegisterMetrics(metrics);
    api::Frontend frontend(r.issuers(), r.idempotency(), rate_limits, r.db(), lanes, metrics,
                           front_options);
    const auto add_authed = [&frontend](std::string method, std::string pattern,
                                        api::IssuerApi::AuthedHandler handler) {
        frontend.AddAuthed(std::move(method), std::move(pattern), std::move(handler));
    };
    issuer_api.Register(add_authed);
    // Routes that parse PDFs or move document bytes run on the heavy lane; the others are
    // short database work.
    frontend.AddPublic(
        "PUT", "/api/v1/uploads/{token}",
        [&issuer_api](http::HttpRequest& req) { return issuer_api.Upload(req); },
        http::Lane::kHeavy);
    frontend.AddPublic(
        "GET", "/api/v1/downloads/{token}",
        [&issuer_api](http::HttpRequest& req) { return issuer_api.Download(req); },
        http::Lane::kHeavy);
    web::PortalOptions portal_options;
#ifdef FIRMO_DEFAULT_ASSETS_DIR
    portal_options.assets_dir =
        config.assets_dir.empty() ? FIRMO_DEFAULT_ASSETS_DIR : config.assets_dir;
#else
    portal_options.assets_dir = config.assets_dir;
#endif
    web::Portal portal(r.signer_sessions(), r.ceremony(), r.eid(), r.urls(), r.clock(),
                       portal_options);
    const auto add_public = [&frontend](std::string method, std::string pattern,
                                        http::Handler handler) {
        const bool heavy =
            (method == "GET" && pattern == "/s/{id}/documents/{doc_id}/file") ||
            (method == "GET" &&
             pattern == "/api/v1/signer/signature-requests/{id}/documents/{doc_id}/content");
        frontend.AddPublic(std::move(method), std::move(pattern), std::move(handler),
                           heavy ? http::Lane::kHeavy : http::Lane::kDatabase);
    };
    portal.Register(add_public);
    api::SignerApi signer_api(r.signer_sessions(), r.ceremony(), r.urls(), r.clock());
    signer_api.Register(add_public);
    api::DocumentApi document_api(r.dossiers(), r.validator(), r.VerifyFunction());
    document_api.Register([&frontend](std::string method, std::string pattern,
                                      api::IssuerApi::AuthedHandler handler) {
        frontend.AddAuthed(std::move(method), std::move(pattern), std::move(handler),
                           http::Lane::kHeavy);  // validate-document, verify: PDF work
    });
    api::EventApi event_api(r.events());
    event_api.Register(add_authed);

    http::ServerOptions server_options;
    server_options.host = config.host();
    server_options.port = config.port();
    server_options.io_threads =
        config.io_threads > 0 ? config.io_threads
                              : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    {
        // Every thread that may hold a database connection at once; one that finds the pool
        // empty waits (on SQLite the I/O threads run database work themselves).
        const int users = lane_options.database_threads + lane_options.heavy_threads +
                          config.job_threads + config.delivery_threads +
                          (lane_options.database_threads == 0 ? server_options.io_threads : 0);
        if (config.db_pool < users) {
            log::Warn("database_pool_small",
                      {{"pool_size", config.db_pool},
                       {"threads_using_it", users},
                       {"advice", "raise database.pool_size, or lower the thread counts"}});
        }
    }
    server_options.read_timeout = std::chrono::seconds(config.read_timeout_s);
    server_options.idle_timeout = std::chrono::seconds(config.idle_timeout_s);
    server_options.body_limit = [&frontend](std::string_view m, std::string_view t) {
        return frontend.BodyLimit(m, t);
    };
    if (config.tls()) {
        server_options.tls = http::TlsOptions{
            config.tls_cert_file, config.tls_key_file,
            config.tls_min_version == "1.3" ? http::TlsVersion::kTls13 : http::TlsVersion::kTls12};
    }
    http::Server server(server_options,
                        [&frontend](http::HttpRequest& req, http::Responder respond) {
                            frontend.Handle(req, std::move(respond));
                        });
    if (auto ok = server.Listen(); !ok) return Report(ok.error(), err);
    // After Listen(): a first API key is shown only once, so not before the server can start
    // (a bad TLS file or a busy port would otherwise lose it).
    auto boot = r.issuers().Bootstrap(config.bootstrap_email);
    if (!boot) return Report(boot.error(), err);
    const std::string url = config.ListenUrl(server.port());
    const std::string public_url = config.PublicUrl(server.port());
    if (config.tls() && !public_url.starts_with("https://")) {
        // Links would send signers to a port that no longer answers plain HTTP.
        log::Warn("public_url_not_https", {{"public_url", public_url}, {"listening", url}});
    }
    issuer_api.set_public_url(public_url);
    // Messages to signers carry their own link into the portal.
    r.context().notifications.signer_link = [&r, public_url](const domain::SignatureRequest& req,
                                                             const std::string& signer_id) {
        return public_url +
               api::SignerLinkPath(r.urls(), req.issuer_id, req.id, signer_id, req.expires_at);
    };
    portal.set_public_url(public_url);
    portal.set_secure_cookies(config.SecureCookies(public_url));
    worker.Start();

    log::Info("server_started", {{"url", url},
                                 {"tls", config.tls() ? "on" : "off"},
                                 {"public_url", public_url},
                                 {"data_dir", config.data_dir},
                                 {"worker_id", worker_options.worker_id},
                                 {"job_lease_ms", std::to_string(config.job_lease_ms)},
                                 {"io_threads", server_options.io_threads},
                                 {"database_threads", lane_options.database_threads},
                                 {"heavy_threads", lane_options.heavy_threads}});
    // Scripts read up to the "listening" line: everything they need comes before it.
    if (*boot) {
        out << "Created issuer " << (*boot)->first.id << " (\"" << (*boot)->first.name
            << "\") and its first API key. It is shown only this once:\n";
        out << "API key: " << (*boot)->second.secret << "\n";
    }
    out << "Data folder: " << config.data_dir << "\n";
    out << "Firmo is listening on " << url << "\n";
    if (*boot) {
        out << "Try: curl -H 'X-Api-Key: " << (*boot)->second.secret << "' " << url
            << "/api/v1/dossiers\n";
    }
    out.flush();
    server.Run();
    worker.Stop();
    log::Info("server_stopped");
    return 0;
}

int RunMigrate(const Args&, const Config& config, std::ostream& out, std::ostream& err) {
    auto rt = Runtime::Open(config);  // migrates
    if (!rt) return Report(rt.error(), err);
    out << "database is up to date\n";
    return 0;
}

int RunIssuerCreate(const Args& args, const Config& config, std::ostream& out, std::ostream& err) {
    const auto name = args.Flag("name");
    const auto email = args.Flag("email");
    if (!name || !email) {
        err << "firmo issuer create: --name and --email are required\n";
        return 2;
    }
    auto rt = Runtime::Open(config);
    if (!rt) return Report(rt.error(), err);
    auto issuer = (*rt)->issuers().CreateIssuer(*name, *email);
    if (!issuer) return Report(issuer.error(), err);
    out << issuer->id << "\n";
    return 0;
}

int RunApiKeyCreate(const Args& args, const Config& config, std::ostream& out, std::ostream& err) {
    const auto issuer = args.Flag("issuer");
    if (!issuer) {
        err << "firmo apikey create: --issuer ID is required\n";
        return 2;
    }
    auto rt = Runtime::Open(config);
    if (!rt) return Report(rt.error(), err);
    auto key = (*rt)->issuers().CreateApiKey(*issuer);
    if (!key) return Report(key.error(), err);
    err << "key id " << key->key.id << " (keep the key itself secret; it is not stored)\n";
    out << key->secret << "\n";
    return 0;
}

int RunApiKeyRevoke(const Args& args, const Config& config, std::ostream& out, std::ostream& err) {
    auto id = args.Flag("id");
    const auto secret = args.Flag("key");
    if (!id && !secret) {
        err << "firmo apikey revoke: --id KEY_ID or --key KEY is required\n";
        return 2;
    }
    auto rt = Runtime::Open(config);
    if (!rt) return Report(rt.error(), err);
    if (!id) {
        auto principal = (*rt)->issuers().Authenticate(*secret);
        if (!principal)
            return Report(Error{ErrorCode::kNotFound, "no active API key matches"}, err);
        id = principal->key_id;
    }
    if (auto ok = (*rt)->issuers().RevokeApiKey(*id); !ok) return Report(ok.error(), err);
    out << "revoked " << *id << "\n";
    return 0;
}

const Command kCommands[] = {
    {"serve",
     "usage: firmo serve [flags]\n\nServes the issuer API on --listen until SIGTERM/SIGINT, then "
     "drains in-flight requests.\nCreates a first issuer and API key when there is none.\n\n"
     "flags:\n"
     "  --listen HOST:PORT    address to listen on (FIRMO_LISTEN; 127.0.0.1:8080)\n"
     "  --public-url URL      base URL of links handed out (FIRMO_PUBLIC_URL; http(s)://LISTEN)\n"
     "  --tls-cert-file FILE  serve HTTPS: PEM chain, leaf first (FIRMO_TLS_CERT_FILE)\n"
     "  --tls-key-file FILE   its PEM private key, not readable by others (FIRMO_TLS_KEY_FILE)\n"
     "  --tls-min-version V   1.2 | 1.3 (FIRMO_TLS_MIN_VERSION; 1.2); SIGHUP reloads the files\n"
     "  --io-threads N        HTTP event loops, one thread each (0: one per core)\n"
     "  --database-threads N  threads for routes that use the database (auto: 0 = on the I/O\n"
     "                        threads with SQLite, database.pool_size with PostgreSQL)\n"
     "  --heavy-threads N     threads for PDF work and document uploads/downloads (2)\n"
     "  --heavy-queue N       heavy requests that may wait; more get 503 (16)\n"
     "  --node-id ID          this node in logs and job leases (FIRMO_NODE_ID; host-pid)\n"
     "  --metrics-allow LIST  addresses/networks that may GET /metrics (127.0.0.0/8, ::1)\n"
     "  --job-threads N       background job threads (1)\n"
     "  --job-lease-ms MS     how long a claimed job is this node's before another may take it\n"
     "                        over (FIRMO_JOB_LEASE_MS; 60000)\n"
     "  --read-timeout S      seconds to receive one request (30)\n"
     "  --idle-timeout S      seconds a keep-alive connection may stay idle (60)\n"
     "  --access-log BOOL     one log line per request (true)\n",
     RunServe},
    {"migrate", "usage: firmo migrate [flags]\n\nApplies pending database migrations.\n\nflags:\n",
     RunMigrate},
    {"issuer create",
     "usage: firmo issuer create --name NAME --email EMAIL [flags]\n\nCreates an issuer; prints "
     "its id on the last line.\n\nflags:\n",
     RunIssuerCreate},
    {"apikey create",
     "usage: firmo apikey create --issuer ID [flags]\n\nCreates an API key; prints the key (shown "
     "only once) on the last line.\n\nflags:\n",
     RunApiKeyCreate},
    {"apikey revoke",
     "usage: firmo apikey revoke (--id KEY_ID | --key KEY) [flags]\n\nRevokes a key; it stops "
     "working at the next call.\n\nflags:\n",
     RunApiKeyRevoke},
};

}  // namespace

int Main(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
    // The PDF engine's commands parse their own flags (src/pdf/cli.hpp).
    if (!argv.empty()) {
        const std::vector<std::string> rest(argv.begin() + 1, argv.end());
        if (argv[0] == "sign") return pdf::RunSignCommand(rest, out, err);
        if (argv[0] == "verify") return pdf::RunVerifyCommand(rest, out, err);
        if (argv[0] == "ca") return pdf::RunCaCommand(rest, out, err);
    }
    auto args = ParseArgs(argv);
    if (!args) {
        err << "firmo: " << args.error().message << "\n";
        return 2;
    }
    const auto& words = args->positional;
    const Command* command = nullptr;
    for (const auto& c : kCommands) {
        const std::string name = c.name;
        const auto space = name.find(' ');
        if (space == std::string::npos) {
            if (!words.empty() && words[0] == name) command = &c;
        } else if (words.size() >= 2 && words[0] == name.substr(0, space) &&
                   words[1] == name.substr(space + 1)) {
            command = &c;
        }
    }
    if (!command) {
        if (words.empty() && args->Has("help")) {
            out << kUsage;
            return 0;
        }
        if (!words.empty() && (words[0] == "issuer" || words[0] == "apikey")) {
            out << "usage: firmo " << words[0] << " "
                << (words[0] == "issuer" ? "create" : "create|revoke") << " [flags] (--help)\n";
            return args->Has("help") ? 0 : 2;
        }
        err << (words.empty() ? std::string("firmo: a command is required\n\n")
                              : "firmo: unknown command '" + words[0] + "'\n\n")
            << kUsage;
        return 2;
    }
    if (args->Has("help")) {
        out << command->help << kCommonFlags;
        return 0;
    }
    auto config = LoadConfig(*args);
    if (!config) {
        err << "firmo: " << config.error().message << "\n";
        return 2;
    }
    SetUpLog(*config);
    return command->run(*args, *config, out, err);
}

}  // namespace firmo::app
