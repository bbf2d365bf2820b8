#include "crypto/builtin_trust_service.hpp"

#include "crypto/cms.hpp"

namespace firmo::crypto {

Result<std::unique_ptr<LocalSigningSession>> LocalSigningSession::Create(
    PkeyPtr key, X509Ptr cert, std::vector<X509Ptr> chain) {
    if (!key || !cert)
        return Fail(ErrorCode::kInvalidArgument, "a key and a certificate are needed");
    if (X509_check_private_key(cert.get(), key.get()) != 1) {
        return Fail(
            OpensslError("the certificate does not match the key", ErrorCode::kInvalidArgument));
    }
    std::unique_ptr<LocalSigningSession> session(new LocalSigningSession());
    session->key_ = std::move(key);
    session->cert_ = std::move(cert);
    session->chain_ = std::move(chain);
    for (auto& c : session->chain_) session->chain_view_.push_back(c.get());
    FIRMO_TRY(session->cert_der_, CertificateToDer(session->cert_.get()));
    FIRMO_TRY(session->parts_, EncodeSignerParts(session->cert_.get(), session->chain_view_));
    FIRMO_TRY(session->max_size_,
              MaxCadesSize(session->key_.get(), session->cert_.get(), session->chain_view_));
    return session;
}

Result<std::string> LocalSigningSession::SignDigest(std::string_view sha256) {
    return SignDigestCades(sha256, key_.get(), parts_);
}

BuiltinTrustService::BuiltinTrustService(std::shared_ptr<const CertificateAuthority> ca,
                                         const Clock& clock, Random& random,
                                         BuiltinTrustOptions options)
    : ca_(std::move(ca)), clock_(clock), random_(random), options_(std::move(options)) {}

Result<std::unique_ptr<domain::SigningSession>> BuiltinTrustService::OpenSession(
    const domain::SignerIdentity& signer) {
    FIRMO_TRY(PkeyPtr key, GenerateKey(ca_->options().key_type));
    FIRMO_TRY(X509Ptr cert, ca_->Issue(signer, key.get(), clock_, random_, options_.urls));
    std::vector<X509Ptr> chain;
    chain.emplace_back(X509_dup(ca_->certificate()));
    if (!chain.back()) return Fail(OpensslError("out of memory"));
    FIRMO_TRY(auto session,
              LocalSigningSession::Create(std::move(key), std::move(cert), std::move(chain)));
    if (options_.timestamps) {
        return std::unique_ptr<domain::SigningSession>(std::make_unique<TimestampingSession>(
            std::move(session), options_.timestamps, random_));
    }
    return std::unique_ptr<domain::SigningSession>(std::move(session));
}

}  // namespace firmo::crypto
