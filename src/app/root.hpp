#pragma once
// The composition root: the one place that picks concrete adapters (SQLite or PostgreSQL, the
// data folder or S3, qpdf, OpenSSL, SMTP, the SMS gateway, OpenID Connect) and builds Firmo's
// object graph from the configuration, once, in dependency order, each dependency handed to a
// constructor: nothing is set after construction, and a missing dependency does not compile.
// It is layered so that a command builds only what it needs, from the same code:
//
//   Storage     the data folder, the database (migrated), the blob store       (migrate)
//   IssuerSide  + the issuer-side services over one ServiceContext    (issuer create, apikey)
//   Node        + the secrets kept in the database, e-mail/SMS/webhook delivery, the built-in
//                 CA and the signer side, the background worker, the HTTP front end   (serve)
//
// What only the bind decides (the port behind ":0", hence the public URL every link is built
// from) is known before a Node is built: `serve` opens the http::Listener first.

#include <filesystem>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string_view>

#include "app/config.hpp"
#include "core/clock.hpp"
#include "core/random.hpp"
#include "crypto/hasher.hpp"
#include "domain/ports/change_signal.hpp"
#include "domain/services/context.hpp"
#include "domain/services/dossier_service.hpp"
#include "domain/services/idempotency_service.hpp"
#include "domain/services/issuer_service.hpp"
#include "domain/services/request_service.hpp"
#include "domain/services/signer_service.hpp"
#include "http/listener.hpp"
#include "pdf/qpdf_validator.hpp"

namespace firmo::crypto {
class CertificateAuthority;
class BuiltinTsa;
}  // namespace firmo::crypto

namespace firmo::app {

// The data folder, the database and the blob store, with the process's clock and randomness.
class Storage {
  public:
    // Creates the data folder (mode 0700) and its documents/ when missing, opens the database
    // and applies pending migrations, opens the blob store.
    [[nodiscard]] static Result<std::unique_ptr<Storage>> Open(const Config& config);

    Storage(const Storage&) = delete;
    Storage& operator=(const Storage&) = delete;
    ~Storage();

    domain::Database& db() const { return *db_; }
    domain::BlobStore& blobs() const { return *blobs_; }
    // Announces API-key revocations to every process on this data folder (SQLite), so their
    // key caches drop the key; null on PostgreSQL, where keys are looked up at every call.
    domain::ChangeSignal* key_changes() const { return key_changes_.get(); }
    const Clock& clock() const { return clock_; }
    Random& random() { return random_; }

  private:
    Storage(std::unique_ptr<domain::Database> db, std::unique_ptr<domain::BlobStore> blobs,
            std::unique_ptr<domain::ChangeSignal> key_changes);

    SystemClock clock_;
    SystemRandom random_;
    std::unique_ptr<domain::Database> db_;
    std::unique_ptr<domain::BlobStore> blobs_;
    std::unique_ptr<domain::ChangeSignal> key_changes_;
};

// The issuer-side services over one ServiceContext. A command run once (issuer create, apikey)
// passes NoNotifications() and no job signal; a Node passes its own.
class IssuerSide {
  public:
    IssuerSide(const Config& config, Storage& storage, domain::NotificationSettings notifications,
               std::function<void()> on_job_enqueued);
    IssuerSide(const IssuerSide&) = delete;
    IssuerSide& operator=(const IssuerSide&) = delete;

    static domain::NotificationSettings NoNotifications();

    domain::IssuerService& issuers() { return issuers_; }
    domain::DossierService& dossiers() { return dossiers_; }
    domain::SignerService& signers() { return signers_; }
    domain::RequestService& requests() { return requests_; }
    domain::IdempotencyService& idempotency() { return idempotency_; }
    const domain::DocumentValidator& validator() const { return validator_; }
    domain::ServiceContext& context() { return ctx_; }

  private:
    pdf::QpdfValidator validator_;
    crypto::OpenSslHasher hasher_;
    domain::ServiceContext ctx_;
    domain::IssuerService issuers_;
    domain::DossierService dossiers_;
    domain::SignerService signers_;
    domain::RequestService requests_;
    domain::IdempotencyService idempotency_;
};

// Everything `firmo serve` runs: built once, after the listener is bound.
class Node {
  public:
    // Opens the storage, reads the shared secrets, opens the built-in CA (creating it when the
    // data folder has none), connects the delivery channels and builds the graph. The error
    // says which part failed; nothing has been served then.
    [[nodiscard]] static Result<std::unique_ptr<Node>> Build(const Config& config,
                                                             http::Listener listener);
    Node(const Node&) = delete;
    Node& operator=(const Node&) = delete;
    ~Node();

    // Creates the first issuer and its API key when there is none, starts the background
    // worker, prints the startup lines on `out` (scripts read up to "Firmo is listening on"),
    // serves until SIGTERM/SIGINT, drains, stops the worker.
    [[nodiscard]] Result<void> Run(std::ostream& out);

  private:
    struct Graph;
    explicit Node(std::unique_ptr<Graph> graph);
    std::unique_ptr<Graph> graph_;
};

// The built-in CA of `data_dir`, created when there is none. Nodes that start together on an
// empty shared data folder each try to create it; one wins (crypto::CertificateAuthority
// publishes a CA folder atomically) and the others load the winner's.
[[nodiscard]] Result<std::shared_ptr<const crypto::CertificateAuthority>> OpenBuiltinCa(
    const std::filesystem::path& data_dir, std::string_view passphrase, const Clock& clock,
    Random& random);

// The built-in time-stamp authority of `data_dir` (crypto/builtin_tsa.hpp), created from `ca`
// when there is none; its certificate points to the PKI endpoints under `public_url` (none
// when empty).
[[nodiscard]] Result<std::shared_ptr<crypto::BuiltinTsa>> OpenBuiltinTsa(
    const std::filesystem::path& data_dir, std::string_view passphrase,
    const crypto::CertificateAuthority& ca, const Clock& clock, Random& random,
    std::string_view public_url);

}  // namespace firmo::app
