#include "app/runtime.hpp"

#include "core/encoding.hpp"
#include "core/log.hpp"
#include "crypto/certificate_authority.hpp"
#include "crypto/cms_verify.hpp"
#include "crypto/hasher.hpp"
#include "pdf/cli.hpp"
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

}  // namespace firmo::app
