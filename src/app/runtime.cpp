#include "app/runtime.hpp"

#include "core/encoding.hpp"
#include "core/log.hpp"
#include "crypto/builtin_trust_service.hpp"
#include "crypto/certificate_authority.hpp"
#include "crypto/cms_verify.hpp"
#include "crypto/hasher.hpp"
#include "notify/mail_code_sender.hpp"
#include "notify/notification_transport.hpp"
#include "notify/sms_code_sender.hpp"
#include "notify/sms_gateway.hpp"
#include "notify/smtp_mailer.hpp"
#include "notify/webhook_transport.hpp"
#include "oidc/oidc_identity_provider.hpp"
#include "pdf/cli.hpp"
#include "pdf/pades_signer.hpp"
#include "pdf/qpdf_validator.hpp"
#include "pdf/verify.hpp"
#include "store/filesystem/folder_blob_store.hpp"
#include "store/postgres/postgres_database.hpp"
#include "store/s3/s3_blob_store.hpp"
#include "store/sqlite/sqlite_database.hpp"

namespace firmo::app {

namespace fs = std::filesystem;

Runtime::~Runtime() = default;

std::function<Result<codec::Json>(std::string_view)> Runtime::VerifyFunction() const {
    pdf::VerifyOptions options;
    options.limits.max_file_bytes = static_cast<std::uint64_t>(config_.max_document_bytes);
    // verify.trust_anchors: PEM files, "builtin" standing for the built-in CA's certificate.
    std::vector<fs::path> files;
    bool builtin = false;
    std::string list = config_.verify_trust_anchors;
    for (std::size_t at = 0; at <= list.size();) {
        std::size_t comma = std::min(list.find(',', at), list.size());
        std::string item = list.substr(at, comma - at);
        item.erase(0, item.find_first_not_of(" \t"));
        item.erase(item.find_last_not_of(" \t") + 1);
        if (item == "builtin") {
            builtin = true;
        } else if (!item.empty()) {
            files.emplace_back(item);
        }
        at = comma + 1;
    }
    const fs::path ca_cert = crypto::CertificateAuthority::CertificatePath(config_.data_dir);
    return [options, files, builtin, ca_cert](std::string_view bytes) -> Result<codec::Json> {
        // Read per call: `firmo ca init` may run after the server started.
        std::vector<fs::path> paths = files;
        std::error_code ec;
        if (builtin && fs::exists(ca_cert, ec)) paths.push_back(ca_cert);
        crypto::TrustAnchors anchors;
        if (!paths.empty()) {
            auto loaded = crypto::TrustAnchors::FromFiles(paths);
            if (!loaded) {
                // A broken anchor file is the operator's problem: log it, answer 500, and
                // never blame the client's document.
                log::Error("trust_anchors_unreadable", {{"error", loaded.error().message}});
                return Fail(ErrorCode::kInternal, "trust anchors unreadable");
            }
            anchors = std::move(*loaded);
        }
        FIRMO_TRY(auto report, pdf::VerifyPdfBytes(bytes, anchors, options));
        return codec::Json::parse(pdf::VerificationReportToJson(report));
    };
}

Result<std::unique_ptr<Runtime>> Runtime::Open(const Config& config) {
    std::unique_ptr<Runtime> rt(new Runtime(config));
    std::error_code ec;
    const fs::path data = config.data_dir;
    fs::create_directories(data / "documents", ec);
    if (ec) {
        return Fail(ErrorCode::kUnavailable,
                    "cannot create data dir " + data.string() + ": " + ec.message());
    }
    fs::permissions(data, fs::perms::owner_all, fs::perm_options::replace, ec);

    if (config.database_url.empty()) {
        FIRMO_TRY(auto db, store::sqlite::SqliteDatabase::Open((data / "firmo.db").string(),
                                                               config.db_pool));
        db->AllowNewerSchema(config.allow_newer_schema);
        rt->db_ = std::move(db);
    } else {
        FIRMO_TRY(auto db,
                  store::postgres::PostgresDatabase::Open(config.database_url, config.db_pool));
        db->AllowNewerSchema(config.allow_newer_schema);
        rt->db_ = std::move(db);
    }
    FIRMO_CHECK(rt->db_->Migrate());
    if (config.storage_url.empty()) {
        if (config.s3_direct_urls) {
            return Fail(ErrorCode::kInvalidArgument,
                        "storage.s3_direct_urls needs an S3 storage.url (s3://bucket/prefix)");
        }
        rt->blobs_ = std::make_unique<store::FolderBlobStore>(data / "documents");
    } else {
        FIRMO_TRY(auto s3, store::ParseS3Url(config.storage_url));
        s3.endpoint = config.s3_endpoint;
        s3.region = config.s3_region;
        s3.access_key = config.s3_access_key;
        s3.secret_key = config.s3_secret_key;
        s3.path_style = config.s3_path_style;
        s3.direct_urls = config.s3_direct_urls;
        s3.public_endpoint = config.s3_public_endpoint;
        FIRMO_TRY(auto store, store::S3BlobStore::Create(s3));
        rt->blobs_ = std::move(store);
    }
    pdf::PdfLimits limits;
    limits.max_file_bytes = static_cast<std::uint64_t>(config.max_document_bytes);
    rt->validator_ = std::make_unique<pdf::QpdfValidator>(limits);
    rt->hasher_ = std::make_unique<crypto::OpenSslHasher>();

    domain::Limits domain_limits;
    domain_limits.max_document_bytes = config.max_document_bytes;
    rt->ctx_ = std::unique_ptr<domain::ServiceContext>(
        new domain::ServiceContext{*rt->db_, *rt->blobs_, *rt->validator_, *rt->hasher_, rt->clock_,
                                   rt->random_, domain_limits, [] {}});
    rt->issuers_ = std::make_unique<domain::IssuerService>(*rt->ctx_);
    rt->dossiers_ = std::make_unique<domain::DossierService>(*rt->ctx_);
    rt->signers_ = std::make_unique<domain::SignerService>(*rt->ctx_);
    rt->requests_ = std::make_unique<domain::RequestService>(*rt->ctx_);
    rt->idempotency_ = std::make_unique<domain::IdempotencyService>(*rt->ctx_);

    // The URL-signing secret is shared by every node through the database.
    FIRMO_TRY(auto secret, domain::InWriteTransaction(*rt->db_, [&](domain::Transaction& tx) {
                  return tx.PutSettingIfAbsent("url_signing_key", HexEncode(rt->random_.Bytes(32)));
              }));
    rt->urls_ = std::make_unique<api::UrlSigner>(secret);
    return rt;
}

namespace {

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

}  // namespace

Result<std::vector<domain::Reminder>> ParseReminders(const std::string& text) {
    std::vector<domain::Reminder> out;
    std::size_t start = 0;
    while (start < text.size()) {
        auto end = text.find(',', start);
        if (end == std::string::npos) end = text.size();
        const std::string item = text.substr(start, end - start);
        start = end + 1;
        if (item.empty()) continue;
        const auto colon = item.find(':');
        const std::string channel = item.substr(0, colon);
        std::string amount = colon == std::string::npos ? "" : item.substr(colon + 1);
        long hours = -1;
        if (!amount.empty() && (amount.back() == 'h' || amount.back() == 'd')) {
            const char unit = amount.back();
            amount.pop_back();
            if (!amount.empty() && amount.find_first_not_of("0123456789") == std::string::npos &&
                amount.size() < 6) {
                hours = std::stol(amount) * (unit == 'd' ? 24 : 1);
            }
        }
        if ((channel != "email" && channel != "sms") || hours <= 0) {
            return Fail(ErrorCode::kInvalidArgument,
                        "notify.reminders: \"" + item +
                            "\" is not channel:amount (email or sms; hours like 24h, or days "
                            "like 7d)");
        }
        out.push_back({channel == "sms" ? domain::Channel::kSms : domain::Channel::kEmail,
                       std::chrono::hours(hours)});
    }
    return out;
}

Result<void> Runtime::OpenSignerSide() {
    const fs::path data = config_.data_dir;
    std::error_code ec;
    const bool exists = fs::exists(crypto::CertificateAuthority::CertificatePath(data), ec);
    const std::string& passphrase = config_.ca_passphrase;
    std::shared_ptr<const crypto::CertificateAuthority> ca;
    if (exists) {
        FIRMO_TRY(auto loaded, crypto::CertificateAuthority::Load(data, passphrase));
        ca = std::make_shared<const crypto::CertificateAuthority>(std::move(loaded));
    } else {
        FIRMO_TRY(auto created, crypto::CertificateAuthority::Create(data, crypto::CaOptions{},
                                                                     passphrase, clock_, random_));
        // As `firmo ca init` without a passphrase: fine for a first look, not for production.
        log::Warn(
            "ca_created",
            {{"certificate", crypto::CertificateAuthority::CertificatePath(data).string()},
             {"key_encrypted", passphrase.empty() ? "no" : "yes"},
             {"advice", passphrase.empty()
                            ? "set FIRMO_CA_PASSPHRASE (or run `firmo ca init`) before going live"
                            : ""}});
        ca = std::make_shared<const crypto::CertificateAuthority>(std::move(created));
    }
    trust_ = std::make_unique<crypto::BuiltinTrustService>(ca, clock_, random_);
    document_signer_ = std::make_unique<pdf::PadesSigner>();

    const bool smtp = config_.code_delivery == "smtp" ||
                      (config_.code_delivery == "auto" && !config_.smtp_url.empty());
    std::shared_ptr<notify::Mailer> shared_mailer;
    if (smtp) {
        notify::SmtpOptions mail;
        mail.url = config_.smtp_url;
        mail.starttls =
            notify::ParseStartTls(config_.smtp_starttls).value_or(notify::StartTls::kRequired);
        mail.username = config_.smtp_username;
        mail.password = config_.smtp_password;
        mail.from = notify::MailAddress{config_.smtp_from, "Firmo"};
        mail.ca_file = config_.smtp_ca_file;
        mail.verify_peer = config_.smtp_verify_peer;
        FIRMO_TRY(auto mailer, notify::SmtpMailer::Create(mail, clock_, random_));
        shared_mailer = std::shared_ptr<notify::Mailer>(std::move(mailer));
        code_sender_ = std::make_unique<notify::MailCodeSender>(shared_mailer, clock_);
    } else {
        log::Warn("codes_to_log", {{"advice", "set smtp.url to send one-time codes by e-mail"}});
        code_sender_ = std::make_unique<notify::LogCodeSender>();
    }

    if (!config_.oidc_issuer.empty()) {
        oidc::OidcOptions o;
        o.issuer = config_.oidc_issuer;
        o.client_id = config_.oidc_client_id;
        o.client_secret = config_.oidc_client_secret;
        o.scopes = config_.oidc_scopes;
        o.identifier_claim = config_.oidc_identifier_claim;
        o.identifier_kind = config_.oidc_identifier_kind == "no_nin"
                                ? domain::IdentifierKind::kNoNationalId
                                : domain::IdentifierKind::kItFiscalCode;
        FIRMO_TRY(auto provider, oidc::OidcIdentityProvider::Create(o, clock_, random_));
        eid_ = std::move(provider);
    }

    // Notifications (outbox): e-mail through the same SMTP server, SMS through the gateway,
    // webhooks; one transport per kind of channel.
    std::shared_ptr<notify::SmsSender> sms;
    if (!config_.sms_url.empty()) {
        notify::SmsOptions o;
        o.url = config_.sms_url;
        o.auth_header = config_.sms_auth_header;
        o.body_template = config_.sms_body_template;
        o.sender = config_.sms_sender;
        FIRMO_TRY(auto gateway, notify::SmsGateway::Create(o));
        sms = std::shared_ptr<notify::SmsSender>(std::move(gateway));
    }
    notify::WebhookOptions webhook_options;
    webhook_options.timeout = std::chrono::milliseconds(config_.webhook_timeout_ms);
    webhook_options.allow_private_addresses = config_.webhook_allow_private;
    FIRMO_TRY(auto webhooks, notify::WebhookTransport::Create(webhook_options, clock_));
    delivery_ = std::make_unique<ChannelTransport>(
        std::make_unique<notify::NotificationTransport>(shared_mailer, sms, clock_),
        std::move(webhooks));
    FIRMO_TRY(ctx_->notifications.reminders, ParseReminders(config_.reminders));
    ctx_->notifications.email = shared_mailer != nullptr;
    ctx_->notifications.sms = sms != nullptr;
    domain::EventOptions event_options;
    event_options.retry_base = std::chrono::milliseconds(config_.retry_base_ms);
    event_options.poll_empty_interval = std::chrono::milliseconds(config_.poll_empty_interval_ms);
    event_options.poll_redeliver_after = std::chrono::seconds(config_.poll_redeliver_after_s);
    events_ = std::make_unique<domain::EventService>(*ctx_, delivery_.get(), event_options);

    // Codes: e-mail as configured above, SMS through the same gateway as notifications.
    code_sender_ =
        std::make_unique<notify::RoutingCodeSender>(std::move(code_sender_), sms, clock_);

    domain::SignerSideOptions options;
    options.eid_login = eid_ != nullptr;
    options.code_ttl = std::chrono::seconds(config_.code_ttl_s);
    FIRMO_TRY(options.code_pepper, domain::InWriteTransaction(*db_, [&](domain::Transaction& tx) {
                  return tx.PutSettingIfAbsent("code_pepper", HexEncode(random_.Bytes(32)));
              }));
    signer_sessions_ =
        std::make_unique<domain::SignerSessionService>(*ctx_, *code_sender_, options);
    ceremony_ = std::make_unique<domain::CeremonyService>(*ctx_, *signer_sessions_, *trust_,
                                                          *document_signer_);
    return {};
}

}  // namespace firmo::app
