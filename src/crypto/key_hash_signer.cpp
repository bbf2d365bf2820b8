#include "crypto/key_hash_signer.hpp"

#include "crypto/cms.hpp"

namespace firmo::crypto {

Result<std::unique_ptr<KeyHashSigner>> KeyHashSigner::Create(PkeyPtr key, X509Ptr cert,
                                                             std::vector<X509Ptr> chain,
                                                             std::shared_ptr<void> keep_alive) {
    if (!key || !cert) {
        return Fail(ErrorCode::kInvalidArgument, "a key and a certificate are needed");
    }
    if (X509_check_private_key(cert.get(), key.get()) != 1) {
        return Fail(
            OpensslError("the certificate does not match the key", ErrorCode::kInvalidArgument));
    }
    const int max_signature = EVP_PKEY_get_size(key.get());
    if (max_signature <= 0) return Fail(OpensslError("unknown signature size"));
    std::unique_ptr<KeyHashSigner> signer(new KeyHashSigner());
    signer->keep_alive_ = std::move(keep_alive);
    signer->key_ = std::move(key);
    signer->credential_.max_signature_bytes = static_cast<std::size_t>(max_signature);
    FIRMO_TRY(signer->credential_.certificate_der, CertificateToDer(cert.get()));
    for (const auto& c : chain) {
        FIRMO_TRY(std::string der, CertificateToDer(c.get()));
        signer->credential_.chain_der.push_back(std::move(der));
    }
    return signer;
}

KeyHashSigner::~KeyHashSigner() = default;

Result<std::string> KeyHashSigner::SignHash(std::string_view sha256) {
    return SignSha256(key_.get(), sha256);
}

}  // namespace firmo::crypto
