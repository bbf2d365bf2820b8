#include "app/runtime.hpp"

#include "core/encoding.hpp"
#include "core/log.hpp"
#include "crypto/builtin_trust_service.hpp"
#include "crypto/certificate_authority.hpp"
#include "crypto/cms_verify.hpp"
#include "crypto/hasher.hpp"
#include "notify/mail_code_sender.hpp"
#include "notify/smtp_mailer.hpp"
#include "oidc/oidc_identity_provider.hpp"
#include "pdf/cli.hpp"
#include "pdf/pades_signer.hpp"
#include "pdf/qpdf_validator.hpp"
#include "pdf/verify.hpp"
#include "store/filesystem/folder_blob_store.hpp"
#include "store/sqlite/sqlite_database.hpp"

namespace firmo::app {

namespace fs = std::filesystem;

Runtime::~Runtime() = default;

std::function<Result<codec::Json>(std::string_view)> Runtime::VerifyFunction() const {
    pdf::VerifyOptions options;
    options.limits.max_file_bytes = static_cast<std::uint64_t>(config_.max_document_bytes);
    const fs::path data = config_.data_dir;
    return [options, data](std::string_view bytes) -> Result<codec::Json> {
        // Read per call: `firmo ca init` may run after the server started.
        crypto::TrustAnchors anchors;
        std::error_code ec;
        const auto ca_cert = crypto::CertificateAuthority::CertificatePath(data);
        if (fs::exists(ca_cert, ec)) {
            auto loaded = crypto::TrustAnchors::FromFiles({ca_cert});
            if (!loaded) {
                // A broken CA file is the operator's problem: log it, answer 500, and never
                // blame the client's document.
                log::Error("trust_anchors_unreadable",
                           {{"path", ca_cert.string()}, {"error", loaded.error().message}});
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

    FIRMO_TRY(auto db,
              store::sqlite::SqliteDatabase::Open((data / "firmo.db").string(), config.db_pool));
    rt->db_ = std::move(db);
    FIRMO_CHECK(rt->db_->Migrate());
    rt->blobs_ = std::make_unique<store::FolderBlobStore>(data / "documents");
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
        code_sender_ = std::make_unique<notify::MailCodeSender>(
            std::shared_ptr<notify::Mailer>(std::move(mailer)), clock_);
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
