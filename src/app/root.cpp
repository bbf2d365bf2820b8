#include "app/root.hpp"

#include <algorithm>
#include <array>
#include <ostream>
#include <thread>

#include "api/document_api.hpp"
#include "api/event_api.hpp"
#include "api/evidence_api.hpp"
#include "api/frontend.hpp"
#include "api/iosign_api.hpp"
#include "api/issuer_api.hpp"
#include "api/issuer_identity_api.hpp"
#include "api/pki_api.hpp"
#include "api/signer_api.hpp"
#include "api/url_signer.hpp"
#include "app/version.hpp"
#include "core/encoding.hpp"
#include "core/log.hpp"
#include "crypto/argon2id.hpp"
#include "crypto/builtin_trust_service.hpp"
#include "crypto/builtin_tsa.hpp"
#include "crypto/certificate_authority.hpp"
#include "crypto/cms_verify.hpp"
#include "crypto/totp.hpp"
#include "domain/services/archive_service.hpp"
#include "domain/services/ceremony_service.hpp"
#include "domain/services/event_service.hpp"
#include "domain/services/evidence_service.hpp"
#include "domain/services/qtsp_service.hpp"
#include "domain/services/rate_limit_service.hpp"
#include "domain/services/request_steps.hpp"
#include "domain/services/revocation_service.hpp"
#include "domain/services/signer_session_service.hpp"
#include "domain/services/staff_service.hpp"
#include "http/lanes.hpp"
#include "http/server.hpp"
#include "i18n/zone.hpp"
#include "jobs/key_use_flusher.hpp"
#include "jobs/queue_metrics.hpp"
#include "jobs/worker.hpp"
#include "notify/mail_code_sender.hpp"
#include "notify/metered_transport.hpp"
#include "notify/notification_transport.hpp"
#include "notify/sms_code_sender.hpp"
#include "notify/sms_gateway.hpp"
#include "notify/smtp_mailer.hpp"
#include "notify/webhook_transport.hpp"
#include "oidc/oidc_identity_provider.hpp"
#include "oidc/staff_provider.hpp"
#include "pdf/archive_timestamper.hpp"
#include "pdf/cli.hpp"
#include "pdf/evidence_report.hpp"
#include "pdf/long_term_signer.hpp"
#include "pdf/metered_signer.hpp"
#include "pdf/pades_signer.hpp"
#include "pdf/staged_pades_signer.hpp"
#include "pdf/verify.hpp"
#include "store/filesystem/folder_blob_store.hpp"
#include "store/filesystem/shared_counter.hpp"
#include "store/postgres/notification_signal.hpp"
#include "store/postgres/postgres_database.hpp"
#include "store/s3/s3_blob_store.hpp"
#include "store/sqlite/sqlite_database.hpp"
#include "trust/csc_gateway.hpp"
#include "web/page_kit.hpp"
#include "web/portal.hpp"
#include "web/qtsp_callback.hpp"
#include "web/staff_portal.hpp"

namespace firmo::app {

namespace fs = std::filesystem;

namespace {

// The public routes that move document bytes, build a PDF (the evidence report), validate PDFs
// (the sender portal's send) or, with a QTSP (`qtsp_confirms`), prepare every document and ask
// the provider for the signer's credential (confirmations, and the eID login that confirms).
bool IsHeavyPublicRoute(std::string_view method, std::string_view pattern, bool qtsp_confirms) {
    if (qtsp_confirms &&
        ((method == "POST" && (pattern == "/s/{id}/confirm" ||
                               pattern == "/api/v1/signer/signature-requests/{id}/confirmation")) ||
         (method == "GET" && pattern == "/oidc/callback"))) {
        return true;
    }
    if (method == "POST") return pattern == "/app/send";
    return method == "GET" &&
           (pattern == "/s/{id}/documents/{doc_id}/file" ||
            pattern == "/app/requests/{id}/documents/{doc_id}/signed" ||
            pattern == "/app/requests/{id}/evidence" ||
            pattern == "/api/v1/signer/signature-requests/{id}/documents/{doc_id}/content");
}

// SQLite in the data folder, or PostgreSQL; migrated.
Result<std::unique_ptr<domain::Database>> OpenDatabase(const Config& config) {
    const auto& database = config.database;
    std::unique_ptr<domain::Database> db;
    if (database.url.empty()) {
        FIRMO_TRY(auto sqlite,
                  store::sqlite::SqliteDatabase::Open(
                      (config.storage.data_dir / "firmo.db").string(), database.pool_size));
        sqlite->AllowNewerSchema(database.allow_newer_schema);
        db = std::move(sqlite);
    } else {
        FIRMO_TRY(auto postgres,
                  store::postgres::PostgresDatabase::Open(database.url, database.pool_size));
        postgres->AllowNewerSchema(database.allow_newer_schema);
        db = std::move(postgres);
    }
    FIRMO_CHECK(db->Migrate());
    return db;
}

// The documents folder, or an S3 bucket.
Result<std::unique_ptr<domain::BlobStore>> OpenBlobStore(const StorageConfig& storage) {
    if (storage.url.empty()) {
        return std::make_unique<store::FolderBlobStore>(storage.data_dir / "documents");
    }
    FIRMO_TRY(auto s3, store::ParseS3Url(storage.url));
    s3.endpoint = storage.s3.endpoint;
    s3.region = storage.s3.region;
    s3.access_key = storage.s3.access_key;
    s3.secret_key = storage.s3.secret_key;
    s3.path_style = storage.s3.path_style;
    s3.direct_urls = storage.s3.direct_urls;
    s3.public_endpoint = storage.s3.public_endpoint;
    FIRMO_TRY(auto store, store::S3BlobStore::Create(s3));
    return std::unique_ptr<domain::BlobStore>(std::move(store));
}

pdf::PdfLimits PdfLimitsOf(const Config& config) {
    pdf::PdfLimits limits;
    limits.max_file_bytes = static_cast<std::uint64_t>(config.limits.max_document_bytes);
    return limits;
}

// verify.trust_anchors: the PEM files listed and the built-in CA's certificate
// (DATA_DIR/ca/ca-cert.pem) when `builtin` is listed and it exists. Read per call: `firmo ca
// init` may run after the server started.
std::function<Result<crypto::TrustAnchors>()> MakeAnchorsFunction(const Config& config) {
    const VerifyConfig verify = config.verify;
    const fs::path ca_cert = crypto::CertificateAuthority::CertificatePath(config.storage.data_dir);
    return [verify, ca_cert]() -> Result<crypto::TrustAnchors> {
        std::vector<fs::path> paths = verify.anchor_files;
        std::error_code ec;
        if (verify.builtin_ca && fs::exists(ca_cert, ec)) paths.push_back(ca_cert);
        if (paths.empty()) return crypto::TrustAnchors();
        auto loaded = crypto::TrustAnchors::FromFiles(paths);
        if (!loaded) {
            // A broken anchor file is the operator's problem: log it, answer 500, and never
            // blame the client's document.
            log::Error("trust_anchors_unreadable", {{"error", loaded.error().message}});
            return Fail(ErrorCode::kInternal, "trust anchors unreadable");
        }
        return loaded;
    };
}

// Verifies a PDF's signatures against verify.trust_anchors.
api::VerifyFunction MakeVerifyFunction(const Config& config) {
    pdf::VerifyOptions options;
    options.limits = PdfLimitsOf(config);
    auto load_anchors = MakeAnchorsFunction(config);
    return [options, load_anchors](std::string_view bytes,
                                   std::optional<Timestamp> at) -> Result<codec::Json> {
        FIRMO_TRY(auto anchors, load_anchors());
        pdf::VerifyOptions at_options = options;
        at_options.validation_time = at;
        FIRMO_TRY(auto report, pdf::VerifyPdfBytes(bytes, anchors, at_options));
        return codec::Json::parse(pdf::VerificationReportToJson(report));
    };
}

// The evidence report's verification of a signed PDF (verify.trust_anchors, now).
domain::PdfChecker MakePdfChecker(const Config& config) {
    pdf::VerifyOptions options;
    options.limits = PdfLimitsOf(config);
    auto load_anchors = MakeAnchorsFunction(config);
    return [options, load_anchors](std::string_view bytes) -> Result<domain::PdfCheck> {
        FIRMO_TRY(auto anchors, load_anchors());
        FIRMO_TRY(auto report, pdf::VerifyPdfBytes(bytes, anchors, options));
        return pdf::CheckOf(report);
    };
}

// E-mail and SMS go to the notification transport, webhook calls to the webhook transport.
class ChannelTransport final : public domain::DeliveryTransport {
  public:
    ChannelTransport(std::unique_ptr<domain::DeliveryTransport> messages,
                     std::unique_ptr<domain::DeliveryTransport> webhooks)
        : messages_(std::move(messages)), webhooks_(std::move(webhooks)) {}
    Result<domain::DeliveryOutcome> Deliver(const domain::OutboxMessage& m) override {
        return m.channel == domain::Channel::kWebhook ? webhooks_->Deliver(m)
                                                      : messages_->Deliver(m);
    }

  private:
    std::unique_ptr<domain::DeliveryTransport> messages_;
    std::unique_ptr<domain::DeliveryTransport> webhooks_;
};

// This node's database connections (nothing to report for a store without a pool).
void RegisterPoolMetrics(metrics::Registry& registry, const domain::Database& db) {
    if (!db.Connections()) return;
    const auto gauge = [&db](int domain::ConnectionUse::*field) {
        return [&db, field] {
            const auto use = db.Connections();
            return use ? static_cast<double>((*use).*field) : 0.0;
        };
    };
    registry.AddCallback("firmo_db_pool_in_use",
                         "Database connections of this node lent out (transactions, migrations, "
                         "readiness checks, SQLite's checkpoint).",
                         gauge(&domain::ConnectionUse::in_use));
    registry.AddCallback("firmo_db_pool_size",
                         "The most database connections this node opens (database.pool_size).",
                         gauge(&domain::ConnectionUse::size));
    registry.AddCallback("firmo_db_pool_waiting",
                         "Threads of this node waiting for a database connection, every one being "
                         "lent out.",
                         gauge(&domain::ConnectionUse::waiting));
}

// A secret every node shares through the database: the first node to start creates it.
Result<std::string> SharedSecret(domain::Database& db, Random& random, const std::string& name) {
    return domain::InWriteTransaction(db, [&](domain::Transaction& tx) {
        return tx.settings().PutIfAbsent(name, HexEncode(random.Bytes(32)));
    });
}

// What a Node needs that can fail to open, in the order it is opened. Null members are
// features the configuration leaves off.
struct Adapters {
    std::unique_ptr<Storage> storage;
    std::string url_signing_key;
    std::string code_pepper;
    std::shared_ptr<const crypto::CertificateAuthority> ca;
    std::shared_ptr<crypto::BuiltinTsa> tsa;  // null when tsa.url names another TSA
    // What time-stamps the server's signatures: the built-in TSA or tsa.url.
    std::shared_ptr<crypto::TimestampAuthority> timestamps;
    std::shared_ptr<notify::Mailer> mailer;  // null: codes to the log, no e-mail notifications
    std::shared_ptr<notify::SmsSender> sms;  // null: no SMS
    std::unique_ptr<domain::CodeSender> codes;
    std::unique_ptr<domain::DeliveryTransport> delivery;
    std::unique_ptr<domain::IdentityProvider> eid;  // null: no eID login
    std::string qtsp_seal_key;   // 32 bytes with signing.provider = "csc" (seals PKCE verifiers)
    std::string staff_totp_key;  // 32 bytes: seals the staff's TOTP secrets
    std::unique_ptr<domain::StaffIdentityProvider> staff_oidc;  // null: no staff_oidc login
    domain::StaffRoleMap staff_oidc_roles;
};

// staff_oidc.role_map: "value=role,value=role"; kInvalidArgument names the bad entry.
Result<domain::StaffRoleMap> ParseStaffRoleMap(const std::string& text) {
    domain::StaffRoleMap out;
    std::size_t start = 0;
    while (start <= text.size()) {
        const std::size_t comma = std::min(text.find(',', start), text.size());
        std::string entry = text.substr(start, comma - start);
        start = comma + 1;
        while (!entry.empty() && entry.front() == ' ') entry.erase(0, 1);
        while (!entry.empty() && entry.back() == ' ') entry.pop_back();
        if (entry.empty()) continue;
        const auto eq = entry.rfind('=');
        const auto role = eq == std::string::npos
                              ? std::nullopt
                              : domain::ParseStaffRole(std::string_view(entry).substr(eq + 1));
        if (!role || eq == 0) {
            return FailValidation(
                {{"staff_oidc.role_map", "'" + entry + "' is not value=admin|sender|viewer"}});
        }
        out.emplace_back(entry.substr(0, eq), *role);
    }
    return out;
}

Result<Adapters> OpenAdapters(const Config& config, const std::string& public_url) {
    Adapters a;
    FIRMO_TRY(a.storage, Storage::Open(config));
    const Clock& clock = a.storage->clock();
    Random& random = a.storage->random();
    FIRMO_TRY(a.url_signing_key, SharedSecret(a.storage->db(), random, "url_signing_key"));
    FIRMO_TRY(a.code_pepper, SharedSecret(a.storage->db(), random, "code_pepper"));
    FIRMO_TRY(a.ca, OpenBuiltinCa(config.storage.data_dir, config.ca.passphrase, clock, random));
    if (config.tsa.url.empty()) {
        FIRMO_TRY(a.tsa, OpenBuiltinTsa(config.storage.data_dir, config.ca.passphrase, *a.ca, clock,
                                        random, public_url));
        a.timestamps = a.tsa;
    } else {
        a.timestamps = std::make_shared<crypto::HttpTimestampAuthority>(config.tsa.url);
    }

    std::unique_ptr<domain::CodeSender> email_codes;
    if (SendsCodesBySmtp(config)) {
        notify::SmtpOptions mail;
        mail.url = config.smtp.url;
        mail.starttls = config.smtp.starttls;
        mail.username = config.smtp.username;
        mail.password = config.smtp.password;
        mail.from = notify::MailAddress{config.smtp.from, "Firmo"};
        mail.ca_file = config.smtp.ca_file;
        mail.verify_peer = config.smtp.verify_peer;
        FIRMO_TRY(auto mailer, notify::SmtpMailer::Create(mail, clock, random));
        a.mailer = std::shared_ptr<notify::Mailer>(std::move(mailer));
        email_codes = std::make_unique<notify::MailCodeSender>(a.mailer, clock);
    } else {
        log::Warn("codes_to_log", {{"advice", "set smtp.url to send one-time codes by e-mail"}});
        email_codes = std::make_unique<notify::LogCodeSender>();
    }
    if (!config.sms.url.empty()) {
        notify::SmsOptions o;
        o.url = config.sms.url;
        o.auth_header = config.sms.auth_header;
        o.body_template = config.sms.body_template;
        o.sender = config.sms.sender;
        FIRMO_TRY(auto gateway, notify::SmsGateway::Create(o));
        a.sms = std::shared_ptr<notify::SmsSender>(std::move(gateway));
    }
    // Codes: e-mail as configured above, SMS through the same gateway as notifications.
    a.codes = std::make_unique<notify::RoutingCodeSender>(std::move(email_codes), a.sms, clock);

    // Notifications (outbox): e-mail through the same SMTP server, SMS through the gateway,
    // webhooks; one transport per kind of channel.
    notify::WebhookOptions webhook_options;
    webhook_options.timeout = config.webhooks.timeout;
    webhook_options.allow_private_addresses = config.webhooks.allow_private_addresses;
    FIRMO_TRY(auto webhooks, notify::WebhookTransport::Create(webhook_options, clock));
    a.delivery = std::make_unique<ChannelTransport>(
        std::make_unique<notify::NotificationTransport>(a.mailer, a.sms, clock),
        std::move(webhooks));

    if (config.oidc.enabled()) {
        oidc::OidcOptions o;
        o.issuer = config.oidc.issuer;
        o.client_id = config.oidc.client_id;
        o.client_secret = config.oidc.client_secret;
        o.scopes = config.oidc.scopes;
        o.identifier_claim = config.oidc.identifier_claim;
        o.identifier_kind = config.oidc.identifier_kind;
        o.acr_values = {domain::SplitAcrList(config.oidc.acr_substantial),
                        domain::SplitAcrList(config.oidc.acr_high)};
        FIRMO_TRY(auto provider, oidc::OidcIdentityProvider::Create(o, clock, random));
        a.eid = std::move(provider);
    }
    if (config.signing.provider == SigningProvider::kCsc) {
        FIRMO_TRY(std::string hex, SharedSecret(a.storage->db(), random, "qtsp_seal_key"));
        a.qtsp_seal_key = HexDecode(hex).value_or("");
    }
    if (const auto& so = config.web.staff_oidc; so.enabled()) {
        if (so.issuer_id.empty()) {
            return FailValidation({{"staff_oidc.issuer_id", "must name the staff's issuer"}});
        }
        FIRMO_TRY(a.staff_oidc_roles, ParseStaffRoleMap(so.role_map));
        FIRMO_TRY(
            auto provider,
            oidc::OidcStaffProvider::Create(
                {.issuer = so.issuer,
                 .client_id = so.client_id,
                 .client_secret = so.client_secret,
                 .scopes = so.scopes,
                 .email_claim = so.email_claim,
                 .role_claim = so.role_claim},
                std::make_shared<oidc::CurlHttpFetcher>(std::chrono::seconds(10)), clock, random));
        a.staff_oidc = std::move(provider);
    }
    FIRMO_TRY(std::string totp_hex, SharedSecret(a.storage->db(), random, "staff_totp_key"));
    a.staff_totp_key = HexDecode(totp_hex).value_or("");
    return a;
}

}  // namespace

// ---- Storage -------------------------------------------------------------------------------

Storage::Storage(std::unique_ptr<domain::Database> db, std::unique_ptr<domain::BlobStore> blobs,
                 std::unique_ptr<domain::ChangeSignal> key_changes)
    : db_(std::move(db)), blobs_(std::move(blobs)), key_changes_(std::move(key_changes)) {}

Storage::~Storage() = default;

Result<std::unique_ptr<Storage>> Storage::Open(const Config& config) {
    const fs::path& data = config.storage.data_dir;
    std::error_code ec;
    fs::create_directories(data / "documents", ec);
    if (ec) {
        return Fail(ErrorCode::kUnavailable,
                    "cannot create data dir " + data.string() + ": " + ec.message());
    }
    fs::permissions(data, fs::perms::owner_all, fs::perm_options::replace, ec);
    FIRMO_TRY(auto db, OpenDatabase(config));
    FIRMO_TRY(auto blobs, OpenBlobStore(config.storage));
    std::unique_ptr<domain::ChangeSignal> key_changes;
    if (config.database.url.empty()) {
        // The API-key cache's invalidation, shared with every process on this SQLite file
        // (other nodes on the folder, `firmo apikey revoke`).
        FIRMO_TRY(key_changes, store::SharedFileCounter::Open(data / "api-keys.generation"));
    } else {
        // PostgreSQL nodes share no host: the database notifies every key change (migration
        // 8's trigger) to a connection each process listens on.
        key_changes = store::postgres::NotificationSignal::Start(config.database.url);
    }
    return std::unique_ptr<Storage>(
        new Storage(std::move(db), std::move(blobs), std::move(key_changes)));
}

// ---- IssuerSide ----------------------------------------------------------------------------

IssuerSide::IssuerSide(const Config& config, Storage& storage,
                       domain::NotificationSettings notifications,
                       std::function<void()> on_job_enqueued)
    : validator_(PdfLimitsOf(config)),
      ctx_{.db = storage.db(),
           .blobs = storage.blobs(),
           .validator = validator_,
           .hasher = hasher_,
           .clock = storage.clock(),
           .random = storage.random(),
           .limits = {.max_document_bytes = config.limits.max_document_bytes,
                      .documents_retention =
                          std::chrono::hours(24 * config.limits.retention_documents_days)},
           .on_job_enqueued = std::move(on_job_enqueued),
           .notifications = std::move(notifications)},
      issuers_(ctx_, storage.key_changes()),
      dossiers_(ctx_),
      signers_(ctx_),
      requests_(ctx_, {.eid_login = config.oidc.enabled()}),
      idempotency_(ctx_) {}

domain::NotificationSettings IssuerSide::NoNotifications() {
    return {.email = false, .sms = false, .reminders = {}, .signer_link = {}};
}

// ---- The built-in CA -----------------------------------------------------------------------

Result<std::shared_ptr<const crypto::CertificateAuthority>> OpenBuiltinCa(
    const fs::path& data_dir, std::string_view passphrase, const Clock& clock, Random& random) {
    auto loaded = crypto::CertificateAuthority::Load(data_dir, passphrase);
    if (!loaded && loaded.error().code == ErrorCode::kNotFound) {
        // Without a passphrase the key is still encrypted, with a secret kept beside the data
        // folder (crypto/certificate_authority.hpp): nodes starting together agree on it.
        std::string key_pass(passphrase);
        if (key_pass.empty()) {
            FIRMO_TRY(key_pass,
                      crypto::CertificateAuthority::ReadOrCreateKeySecret(data_dir, random));
        }
        auto created = crypto::CertificateAuthority::Create(data_dir, crypto::CaOptions{}, key_pass,
                                                            clock, random);
        if (created) {
            log::Warn(
                "ca_created",
                {{"certificate", crypto::CertificateAuthority::CertificatePath(data_dir).string()},
                 {"key_encrypted", passphrase.empty() ? "with the key secret file" : "yes"},
                 {"advice", passphrase.empty() ? "keep the key secret file out of the data "
                                                 "folder's backups, or set FIRMO_CA_PASSPHRASE"
                                               : ""}});
            loaded = std::move(created);
        } else if (created.error().code == ErrorCode::kAlreadyExists) {
            // Another node created it in the meantime: use that one.
            loaded = crypto::CertificateAuthority::Load(data_dir, key_pass);
        } else {
            return tl::unexpected(created.error());
        }
    }
    if (!loaded) return tl::unexpected(loaded.error());
    return std::make_shared<const crypto::CertificateAuthority>(std::move(*loaded));
}

Result<std::shared_ptr<crypto::BuiltinTsa>> OpenBuiltinTsa(const fs::path& data_dir,
                                                           std::string_view passphrase,
                                                           const crypto::CertificateAuthority& ca,
                                                           const Clock& clock, Random& random,
                                                           std::string_view public_url) {
    FIRMO_TRY(std::string key_pass,
              crypto::CertificateAuthority::KeyPassphrase(data_dir, passphrase));
    crypto::TsaOptions options;
    if (!public_url.empty()) options.urls = crypto::CertificateUrls::Under(public_url);
    return crypto::BuiltinTsa::LoadOrCreate(data_dir, ca, key_pass, clock, random, options);
}

// ---- Node ----------------------------------------------------------------------------------

// Members in dependency order: each is built from the configuration and the members above it.
struct Node::Graph {
    Graph(const Config& c, Adapters a, http::Listener listener)
        : config(c),
          listen_url(ListenUrl(c.server, listener.port())),
          public_url(PublicUrl(c.server, listener.port())),
          adapters(std::move(a)),
          storage(*adapters.storage),
          delivery(
              std::make_unique<notify::MeteredTransport>(std::move(adapters.delivery), metrics)),
          urls(adapters.url_signing_key),
          issuer_side(
              c, storage,
              {.email = adapters.mailer != nullptr,
               .sms = adapters.sms != nullptr,
               .reminders = c.notify.reminders,
               // Messages to signers carry their own link into the portal.
               .signer_link =
                   [this](const domain::SignatureRequest& request, const std::string& signer_id) {
                       return public_url + api::SignerLinkPath(urls, request.issuer_id, request.id,
                                                               signer_id, request.expires_at);
                   },
               // ... and state times on the signer's clock.
               .signer_zone =
                   [](const domain::Signer& signer) {
                       return i18n::ZoneOfPerson(signer.phone.value_or(""),
                                                 domain::SignerCountry(signer));
                   },
               // ... and show the institution's logo.
               .issuer_logo =
                   [this](const domain::Issuer& issuer) {
                       return api::IssuerLogoUrl(public_url, issuer);
                   }},
              [this] { job_signal.Notify(); }),
          trust(adapters.ca, storage.clock(), storage.random(),
                {.urls = crypto::CertificateUrls::Under(public_url),
                 .timestamps = adapters.timestamps}),
          validation_data(ValidationDataOptionsOf(adapters.ca, storage)),
          long_term_signer(document_signer, pdf::SignatureLevel::kLta, validation_data,
                           adapters.timestamps, storage.random()),
          metered_signer(long_term_signer, metrics),
          signer_sessions(
              issuer_side.context(), *adapters.codes,
              {.code_ttl = c.web.code_ttl,
               .code_pepper = adapters.code_pepper,
               .eid_login = adapters.eid != nullptr,
               .signer_copy_ttl = std::chrono::hours(24 * c.limits.retention_signer_copy_days)}),
          ceremony(issuer_side.context(), signer_sessions, trust, metered_signer),
          events(issuer_side.context(), delivery.get(),
                 {.retry_base = c.notify.retry_base,
                  .poll_redeliver_after = c.polling.redeliver_after,
                  .poll_empty_interval = c.polling.empty_interval,
                  .breaker = {.failures_to_open = c.webhooks.breaker_failures,
                              .open_for = c.webhooks.breaker_open},
                  .metrics = &metrics}),
          archive_timestamper({.anchors = MakeAnchorsFunction(c),
                               .tsa = adapters.timestamps,
                               .validation = &validation_data,
                               .limits = PdfLimitsOf(c)},
                              storage.random()),
          archive(issuer_side.context(), archive_timestamper,
                  {.enabled = c.archive.enabled,
                   .renew_before =
                       std::chrono::duration_cast<std::chrono::seconds>(c.archive.renew_before)},
                  &metrics),
          worker(storage.db(), issuer_side.requests(), ceremony, events, job_signal,
                 storage.clock(),
                 {.threads = c.jobs.threads,
                  .lease = c.jobs.lease,
                  .worker_id = NodeId(c.server),
                  .delivery_threads = c.notify.delivery_threads,
                  .metrics = &metrics,
                  .archive = &archive}),
          issuer_api(api::Services{issuer_side.issuers(), issuer_side.dossiers(),
                                   issuer_side.signers(), issuer_side.requests()},
                     urls, storage.clock(), {.public_url = public_url}),
          rate_limits(storage.db(), storage.clock(),
                      {.calls = c.limits.rate_limit_burst, .window = c.limits.rate_limit_window}),
          lanes(LaneOptionsOf(c)),
          frontend(issuer_side.issuers(), issuer_side.idempotency(), rate_limits, storage.db(),
                   lanes, metrics,
                   {.max_json_bytes = static_cast<std::size_t>(c.limits.max_json_bytes),
                    .max_document_bytes = static_cast<std::size_t>(c.limits.max_document_bytes),
                    .access_log = c.log.access_log,
                    .trusted_proxies = c.server.trusted_proxies,
                    .metrics_allow = c.metrics.allow,
                    .page_problem = web::ProblemAsPage}),
          signer_limits(storage.db(), storage.clock(), metrics,
                        {.per_ip = {c.web.calls_per_ip, c.web.limit_window},
                         .per_request = {c.web.calls_per_request, c.web.limit_window},
                         .sessions_per_ip = {c.web.sessions_per_ip, c.web.limit_window}}),
          portal(signer_sessions, ceremony, adapters.eid.get(), urls, storage.clock(),
                 {.public_url = public_url,
                  .assets_dir = c.web.assets_dir,
                  .secure_cookies = UseSecureCookies(c.web.secure_cookies, public_url),
                  .qtsp_terms_text =
                      c.signing.provider == SigningProvider::kCsc ? c.csc.terms_text : "",
                  .qtsp_terms_url =
                      c.signing.provider == SigningProvider::kCsc ? c.csc.terms_url : ""},
                 &signer_limits),
          signer_api(signer_sessions, ceremony, urls, storage.clock(), &signer_limits),
          document_api(issuer_side.dossiers(), issuer_side.validator(), MakeVerifyFunction(c)),
          event_api(events),
          iosign_api(api::Services{issuer_side.issuers(), issuer_side.dossiers(),
                                   issuer_side.signers(), issuer_side.requests()},
                     issuer_side.validator(), urls, storage.clock(),
                     {.public_url = public_url, .version = std::string(Version())}),
          revocations(storage.db(), storage.clock()),
          pki_api(adapters.ca, adapters.tsa, revocations, storage.clock(), metrics),
          issuer_identity_api(issuer_side.issuers(), public_url),
          // The evidence report (issue 17): sealed by the ceremony's trust service and signer.
          evidence(issuer_side.context(), issuer_side.requests(), issuer_side.dossiers(),
                   issuer_side.signers(), issuer_side.issuers(), evidence_renderer,
                   MakePdfChecker(c), trust, long_term_signer,
                   {.time_zone = c.web.staff_time_zone}),
          evidence_api(evidence),
          // The sender portal (issue 17).
          staff_login_limits(
              storage.db(), storage.clock(),
              {.calls = c.web.staff_login_attempts, .window = std::chrono::minutes(1)}),
          staff_second_factor(adapters.staff_totp_key),
          staff(issuer_side.context(), staff_passwords, staff_second_factor, &staff_login_limits,
                {.require_totp = c.web.staff_require_totp}),
          staff_portal(staff,
                       {issuer_side.requests(), issuer_side.dossiers(), issuer_side.signers(),
                        evidence, events, issuer_side.issuers(), issuer_side.validator()},
                       urls, storage.clock(),
                       {.public_url = public_url,
                        .secure_cookies = UseSecureCookies(c.web.secure_cookies, public_url),
                        .time_zone = c.web.staff_time_zone,
                        .oidc = adapters.staff_oidc.get(),
                        .oidc_name = c.web.staff_oidc.name,
                        .oidc_issuer_id = c.web.staff_oidc.issuer_id,
                        .oidc_roles = adapters.staff_oidc_roles}),
          server(ServerOptionsOf(c), std::move(listener),
                 [this](http::HttpRequest& request, http::Responder respond) {
                     frontend.Handle(request, std::move(respond));
                 }) {
        lanes.RegisterMetrics(metrics);
        jobs::RegisterQueueMetrics(metrics, storage.db(), storage.clock());
        RegisterPoolMetrics(metrics, storage.db());
        // Lanes (http/lanes.hpp): short database work on kDatabase; routes that parse PDFs or
        // move document bytes on kHeavy, so that they never hold up the others.
        const auto add_authed = [this](std::string method, std::string pattern,
                                       api::IssuerApi::AuthedHandler handler) {
            frontend.AddAuthed(std::move(method), std::move(pattern), std::move(handler));
        };
        // With a QTSP, a confirmation prepares every document and asks the provider for the
        // signer's credential: PDF work and network, so on kHeavy too.
        const bool qtsp_confirms = c.signing.provider == SigningProvider::kCsc;
        const auto add_public = [this, qtsp_confirms](std::string method, std::string pattern,
                                                      http::Handler handler) {
            const bool heavy = IsHeavyPublicRoute(method, pattern, qtsp_confirms);
            frontend.AddPublic(std::move(method), std::move(pattern), std::move(handler),
                               heavy ? http::Lane::kHeavy : http::Lane::kDatabase);
        };
        issuer_api.Register(add_authed);
        frontend.AddPublic(
            "PUT", "/api/v1/uploads/{token}",
            [this](http::HttpRequest& req) { return issuer_api.Upload(req); }, http::Lane::kHeavy,
            // The token is checked before the body is read.
            [this](const http::HttpRequest& req) -> Result<void> {
                FIRMO_CHECK(issuer_api.CheckUpload(req));
                return {};
            });
        frontend.AddPublic(
            "GET", "/api/v1/downloads/{token}",
            [this](http::HttpRequest& req) { return issuer_api.Download(req); },
            http::Lane::kHeavy);
        portal.Register(add_public);
        signer_api.Register(add_public);
        if (c.signing.provider == SigningProvider::kCsc) RegisterQtsp(c);
        // validate-document, verify: PDF work.
        document_api.Register(
            [this](std::string method, std::string pattern, api::IssuerApi::AuthedHandler handler) {
                frontend.AddAuthed(std::move(method), std::move(pattern), std::move(handler),
                                   http::Lane::kHeavy);
            });
        event_api.Register(add_authed);
        // The evidence report builds and signs a PDF.
        evidence_api.Register(
            [this](std::string method, std::string pattern, api::IssuerApi::AuthedHandler handler) {
                frontend.AddAuthed(std::move(method), std::move(pattern), std::move(handler),
                                   http::Lane::kHeavy);
            });
        // The io-sign-compatible root /api/v1/sign (api/iosign_api.hpp).
        iosign_api.Register([this](std::string method, std::string pattern,
                                   api::IssuerApi::AuthedHandler handler, http::Lane lane) {
            frontend.AddAuthed(std::move(method), std::move(pattern), std::move(handler), lane);
        });
        frontend.AddPublic(
            "GET", "/api/v1/sign/info",
            [this](http::HttpRequest& req) { return iosign_api.Info(req); }, http::Lane::kInline);
        frontend.AddPublic(
            "PUT", "/api/v1/sign/uploads/{token}",
            [this](http::HttpRequest& req) { return iosign_api.Upload(req); }, http::Lane::kHeavy,
            [this](const http::HttpRequest& req) -> Result<void> {
                FIRMO_CHECK(iosign_api.CheckUpload(req));
                return {};
            });
        frontend.AddPublic(
            "GET", "/api/v1/sign/documents/{token}",
            [this](http::HttpRequest& req) { return iosign_api.Document(req); },
            http::Lane::kHeavy);
        pki_api.Register([this](std::string method, std::string pattern, http::Handler handler,
                                http::Lane lane) {
            frontend.AddPublic(std::move(method), std::move(pattern), std::move(handler), lane);
        });
        issuer_identity_api.Register(add_authed);
        issuer_identity_api.RegisterPublic(add_public);
        staff_portal.Register(add_public);
        staff_portal.RegisterChecked([this, qtsp_confirms](std::string method, std::string pattern,
                                                           http::Handler handler,
                                                           web::StaffPortal::HeaderCheck check) {
            const bool heavy = IsHeavyPublicRoute(method, pattern, qtsp_confirms);
            frontend.AddPublic(std::move(method), std::move(pattern), std::move(handler),
                               heavy ? http::Lane::kHeavy : http::Lane::kDatabase, std::move(check),
                               /*check_blocks=*/true);
        });
        WarnWhenThePoolIsSmall(c);
    }

    // Database work on a pool that leaves connections to the heavy lane, the jobs and the
    // deliveries: on PostgreSQL round trips must not stall an I/O thread, and on SQLite it
    // measured faster than running inline on the I/O threads (docs/PERFORMANCE.md, "Database
    // work inline or on a pool").
    // signing.provider = "csc": the QTSP's client, GET /qtsp/callback, and the ceremony's
    // QTSP path (prepare at confirmation, signHash and embedding in the signing job).
    void RegisterQtsp(const Config& c) {
        csc_http = std::make_unique<oidc::CurlHttpFetcher>(std::chrono::seconds(30));
        csc = std::make_unique<trust::CscClient>(
            trust::CscSettings{.url = c.csc.url,
                               .oauth_url = c.csc.oauth_url,
                               .client_id = c.csc.client_id,
                               .client_secret = c.csc.client_secret,
                               .redirect_uri = public_url + "/qtsp/callback"},
            *csc_http, &metrics);
        qtsp_gateway =
            std::make_unique<trust::CscGateway>(*csc, storage.random(), adapters.qtsp_seal_key);
        qtsp =
            std::make_unique<domain::QtspService>(issuer_side.context(), *qtsp_gateway, &ceremony);
        qtsp_staged = std::make_unique<pdf::StagedPadesSigner>(document_signer, adapters.timestamps,
                                                               storage.random());
        ceremony.UseQtsp({.service = qtsp.get(),
                          .gateway = qtsp_gateway.get(),
                          .staged = qtsp_staged.get(),
                          .user_id_from_email = c.csc.user_id_from == CscUserIdFrom::kEmail});
        worker.UseQtsp(qtsp.get());
        signer_api.RequireQtspTerms(c.csc.terms_text, c.csc.terms_url);
        log::Info("qtsp_enabled", {{"csc_url", c.csc.url},
                                   {"client_id", c.csc.client_id},
                                   {"terms", c.csc.terms_text.empty() && c.csc.terms_url.empty()
                                                 ? "none"
                                                 : "shown before the redirect"}});
        qtsp_callback = std::make_unique<web::QtspCallbackPage>(*qtsp);
        // The code exchange blocks on the provider: never on an I/O thread.
        qtsp_callback->Register(
            [this](std::string method, std::string pattern, http::Handler handler) {
                frontend.AddPublic(std::move(method), std::move(pattern), std::move(handler),
                                   http::Lane::kHeavy);
            });
    }

    static http::LaneOptions LaneOptionsOf(const Config& c) {
        http::LaneOptions o;
        if (c.server.database_threads) {
            o.database_threads = *c.server.database_threads;
        } else {
            o.database_threads = std::max(1, c.database.pool_size - c.server.heavy_threads -
                                                 c.jobs.threads - c.notify.delivery_threads);
        }
        o.heavy_threads = c.server.heavy_threads;
        o.heavy_queue = c.server.heavy_queue;
        return o;
    }

    // The built-in CA's OCSP answers and CRL for the server's own signatures, in process (the
    // same answers /pki/ocsp and /pki/ca.crl give); other issuers over HTTP.
    static crypto::ValidationDataOptions ValidationDataOptionsOf(
        std::shared_ptr<const crypto::CertificateAuthority> ca, Storage& storage) {
        const api::PkiApiOptions pki;
        domain::Database& db = storage.db();
        const Clock& clock = storage.clock();
        crypto::ValidationDataOptions o;
        o.local.certificate = ca->certificate();
        o.local.ocsp = [ca, &db, &clock, pki](std::string_view request) {
            domain::RevocationService revocations(db, clock);
            return ca->AnswerOcsp(
                request, [&](const std::string& serial) { return revocations.Find(serial); },
                clock.Now(), pki.ocsp_validity);
        };
        o.local.crl = [ca, &db, &clock, pki]() -> Result<std::string> {
            FIRMO_TRY(auto revoked, domain::RevocationService(db, clock).List());
            return ca->Crl(revoked, clock.Now(), pki.crl_validity);
        };
        return o;
    }

    static int IoThreadsOf(const Config& c) {
        return c.server.io_threads > 0
                   ? c.server.io_threads
                   : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    }

    // Every thread that may hold a database connection at once; one that finds the pool empty
    // waits (on SQLite without a database lane the I/O threads run database work themselves).
    void WarnWhenThePoolIsSmall(const Config& c) const {
        const http::LaneOptions o = LaneOptionsOf(c);
        const int users = o.database_threads + o.heavy_threads + c.jobs.threads +
                          c.notify.delivery_threads +
                          (o.database_threads == 0 ? IoThreadsOf(c) : 0);
        if (c.database.pool_size < users) {
            log::Warn("database_pool_small",
                      {{"pool_size", c.database.pool_size},
                       {"threads_using_it", users},
                       {"advice", "raise database.pool_size, or lower the thread counts"}});
        }
    }

    http::ServerOptions ServerOptionsOf(const Config& c) {
        http::ServerOptions o;
        o.io_threads = IoThreadsOf(c);
        o.read_timeout = c.server.read_timeout;
        o.idle_timeout = c.server.idle_timeout;
        o.admit = [this](http::HttpRequest& request) { return frontend.Admit(request); };
        o.max_connections = static_cast<std::size_t>(c.server.max_connections);
        o.max_connections_per_ip = static_cast<std::size_t>(c.server.max_connections_per_ip);
        if (!c.server.trusted_proxies.empty()) {
            o.per_ip_exempt = [&proxies = c.server.trusted_proxies](std::string_view ip) {
                return proxies.Contains(ip);
            };
        }
        o.max_unauthenticated_bytes = static_cast<std::size_t>(c.server.max_unauthenticated_bytes);
        // Large uploads wait on disk, beside the documents, not in memory.
        o.spill_dir = c.storage.data_dir / "tmp";
        o.metrics = &metrics;
        return o;
    }

    const Config& config;
    const std::string listen_url;
    const std::string public_url;
    metrics::Registry metrics;  // what GET /metrics renders; components add theirs when built
    Adapters adapters;
    Storage& storage;
    std::unique_ptr<domain::DeliveryTransport> delivery;  // adapters.delivery, metered
    const api::UrlSigner urls;
    jobs::JobSignal job_signal;
    IssuerSide issuer_side;
    crypto::BuiltinTrustService trust;
    pdf::PadesSigner document_signer;
    crypto::ValidationDataCollector validation_data;  // the DSS of every server signature
    pdf::LongTermSigner long_term_signer;             // document_signer, then B-LT and B-LTA
    pdf::MeteredSigner metered_signer;                // long_term_signer, timed
    domain::SignerSessionService signer_sessions;
    domain::CeremonyService ceremony;
    domain::EventService events;
    pdf::PdfArchiveTimestamper archive_timestamper;
    domain::ArchiveService archive;
    jobs::Worker worker;
    api::IssuerApi issuer_api;
    domain::RateLimitService rate_limits;
    http::Lanes lanes;
    api::Frontend frontend;
    api::SignerLimits signer_limits;
    web::Portal portal;
    api::SignerApi signer_api;
    api::DocumentApi document_api;
    api::EventApi event_api;
    api::IoSignApi iosign_api;
    domain::RevocationService revocations;
    api::PkiApi pki_api;
    api::IssuerIdentityApi issuer_identity_api;
    // signing.provider = "csc" only (null otherwise): the QTSP client, its gateway, the
    // authorization service and GET /qtsp/callback (trust/, docs/QTSP.md).
    std::unique_ptr<oidc::CurlHttpFetcher> csc_http;
    std::unique_ptr<trust::CscClient> csc;
    std::unique_ptr<trust::CscGateway> qtsp_gateway;
    std::unique_ptr<domain::QtspService> qtsp;
    std::unique_ptr<pdf::StagedPadesSigner> qtsp_staged;
    std::unique_ptr<web::QtspCallbackPage> qtsp_callback;
    pdf::PdfEvidenceRenderer evidence_renderer;
    domain::EvidenceService evidence;
    api::EvidenceApi evidence_api;
    crypto::Argon2idHasher staff_passwords;
    domain::RateLimitService staff_login_limits;
    crypto::OathTotp staff_second_factor;
    domain::StaffService staff;
    web::StaffPortal staff_portal;
    // API keys' "last used", written a minute at a time per key (and at shutdown).
    jobs::KeyUseFlusher key_uses{issuer_side.issuers(), std::chrono::seconds(2)};
    http::Server server;
};

Node::Node(std::unique_ptr<Graph> graph) : graph_(std::move(graph)) {}
Node::~Node() = default;

Result<std::unique_ptr<Node>> Node::Build(const Config& config, http::Listener listener) {
    FIRMO_TRY(auto adapters, OpenAdapters(config, PublicUrl(config.server, listener.port())));
    return std::unique_ptr<Node>(
        new Node(std::make_unique<Graph>(config, std::move(adapters), std::move(listener))));
}

Result<void> Node::Run(std::ostream& out) {
    Graph& g = *graph_;
    const Config& config = g.config;
    // Only now, with the port bound and everything built: a first API key is shown only once,
    // so not before the server can start.
    FIRMO_TRY(auto boot, g.issuer_side.issuers().Bootstrap(config.bootstrap.email,
                                                           config.bootstrap.issuer_name));
    if (config.server.tls() && !g.public_url.starts_with("https://")) {
        // Links would send signers to a port that no longer answers plain HTTP.
        log::Warn("public_url_not_https",
                  {{"public_url", g.public_url}, {"listening", g.listen_url}});
    }
    g.worker.Start();
    g.key_uses.Start();
    const http::LaneOptions lanes = Graph::LaneOptionsOf(config);
    log::Info("server_started", {{"url", g.listen_url},
                                 {"tls", config.server.tls() ? "on" : "off"},
                                 {"public_url", g.public_url},
                                 {"data_dir", config.storage.data_dir.string()},
                                 {"worker_id", NodeId(config.server)},
                                 {"job_lease_ms", std::to_string(config.jobs.lease.count())},
                                 {"io_threads", Graph::IoThreadsOf(config)},
                                 {"database_threads", lanes.database_threads},
                                 {"heavy_threads", lanes.heavy_threads}});
    // Scripts read up to the "listening" line: everything they need comes before it.
    if (boot) {
        out << "Created issuer " << boot->first.id << " (\"" << boot->first.name
            << "\") and its first API key. It is shown only this once:\n";
        out << "API key: " << boot->second.secret << "\n";
        // The sender portal's first admin, at bootstrap.email: the setup link, once.
        auto admin = g.staff.CreateUser(boot->first.id, config.bootstrap.email,
                                        domain::StaffRole::kAdmin, "cli");
        if (admin) {
            out << "Sender portal: " << admin->user.email << " (admin) chooses a password at "
                << web::StaffPortal::SetupUrl(g.public_url, admin->setup_token) << " (once, within "
                << g.staff.options().setup_ttl.count() << " hours)\n";
        } else {
            log::Warn("first_admin_not_created", {{"error", admin.error().message}});
            out << "Sender portal: create its first admin with `firmo user create --data-dir "
                << config.storage.data_dir.string() << " --issuer " << boot->first.id
                << " --email you@example.org --role admin` and open the URL it prints\n";
        }
    }
    out << "Data folder: " << config.storage.data_dir.string() << "\n";
    out << "Firmo is listening on " << g.listen_url << "\n";
    if (boot) {
        out << "Try: curl -H 'X-Api-Key: " << boot->second.secret << "' " << g.listen_url
            << "/api/v1/dossiers\n";
    }
    out.flush();
    g.server.Run();
    g.key_uses.Stop();
    g.worker.Stop();
    log::Info("server_stopped");
    return {};
}

}  // namespace firmo::app
