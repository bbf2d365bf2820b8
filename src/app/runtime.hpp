#pragma once
// Wiring: the only place that picks concrete adapters (SQLite, the data folder, qpdf, OpenSSL)
// and hands them to the services. Commands build a Runtime from the Config and use what they need.

#include <filesystem>
#include <memory>

#include "api/url_signer.hpp"
#include "app/config.hpp"
#include "codec/json.hpp"
#include "core/metrics.hpp"
#include "domain/ports/code_sender.hpp"
#include "domain/ports/document_signer.hpp"
#include "domain/ports/identity_provider.hpp"
#include "domain/ports/trust_service.hpp"
#include "domain/services/ceremony_service.hpp"
#include "domain/services/dossier_service.hpp"
#include "domain/services/event_service.hpp"
#include "domain/services/idempotency_service.hpp"
#include "domain/services/issuer_service.hpp"
#include "domain/services/request_service.hpp"
#include "domain/services/signer_service.hpp"

namespace firmo::app {

class Runtime {
  public:
    // Creates the data dir, opens the database and applies migrations.
    [[nodiscard]] static Result<std::unique_ptr<Runtime>> Open(const Config& config);
    ~Runtime();

    const Config& config() const { return config_; }
    domain::ServiceContext& context() { return *ctx_; }
    domain::Database& db() { return *db_; }
    domain::IssuerService& issuers() { return *issuers_; }
    domain::DossierService& dossiers() { return *dossiers_; }
    domain::SignerService& signers() { return *signers_; }
    domain::RequestService& requests() { return *requests_; }
    domain::IdempotencyService& idempotency() { return *idempotency_; }
    const api::UrlSigner& urls() const { return *urls_; }
    const domain::DocumentValidator& validator() const { return *validator_; }
    // Verifies a PDF's signatures against the trust anchors: the built-in CA's certificate
    // (DATA_DIR/ca/ca-cert.pem) when it exists.
    std::function<Result<codec::Json>(std::string_view)> VerifyFunction() const;
    const Clock& clock() const { return clock_; }
    // The metrics GET /metrics renders; components add theirs at wiring time.
    metrics::Registry& metrics() { return metrics_; }

    // The signer side (serve only): the built-in CA (created on first start when missing), the
    // trust service, the PDF signer, code delivery, the eID provider (when configured) and the
    // session and ceremony services.
    [[nodiscard]] Result<void> OpenSignerSide();
    domain::SignerSessionService& signer_sessions() { return *signer_sessions_; }
    domain::CeremonyService& ceremony() { return *ceremony_; }
    domain::IdentityProvider* eid() { return eid_.get(); }
    domain::EventService& events() { return *events_; }

  private:
    explicit Runtime(Config config) : config_(std::move(config)) {}

    Config config_;
    metrics::Registry metrics_;
    SystemClock clock_;
    SystemRandom random_;
    std::unique_ptr<domain::Database> db_;
    std::unique_ptr<domain::BlobStore> blobs_;
    std::unique_ptr<domain::DocumentValidator> validator_;
    std::unique_ptr<domain::Hasher> hasher_;
    std::unique_ptr<domain::ServiceContext> ctx_;
    std::unique_ptr<domain::ChangeSignal> key_changes_;  // null: no API-key cache
    std::unique_ptr<domain::IssuerService> issuers_;
    std::unique_ptr<domain::DossierService> dossiers_;
    std::unique_ptr<domain::SignerService> signers_;
    std::unique_ptr<domain::RequestService> requests_;
    std::unique_ptr<domain::IdempotencyService> idempotency_;
    std::unique_ptr<api::UrlSigner> urls_;
    std::unique_ptr<domain::TrustService> trust_;
    std::unique_ptr<domain::DocumentSigner> document_signer_;
    std::unique_ptr<domain::CodeSender> code_sender_;
    std::unique_ptr<domain::IdentityProvider> eid_;
    std::unique_ptr<domain::SignerSessionService> signer_sessions_;
    std::unique_ptr<domain::CeremonyService> ceremony_;
    std::unique_ptr<domain::DeliveryTransport> delivery_;
    std::unique_ptr<domain::EventService> events_;
};

// "email:7d,sms:24h" → the reminder schedule (kInvalidArgument names the bad item).
[[nodiscard]] Result<std::vector<domain::Reminder>> ParseReminders(const std::string& text);

}  // namespace firmo::app
