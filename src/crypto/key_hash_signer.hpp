#pragma once
// The signer stage with a key this process can use: a key file, a key generated for one
// session by the built-in trust service, or a key in a PKCS#11 token through OpenSSL's engine
// (crypto/pkcs11_key.hpp). Implements domain::HashSigner. Not thread-safe (one signer per
// signing session).

#include <memory>
#include <vector>

#include "crypto/openssl_util.hpp"
#include "domain/ports/hash_signer.hpp"

namespace firmo::crypto {

class KeyHashSigner final : public domain::HashSigner {
  public:
    // `chain`: the issuers included after the certificate. `keep_alive` outlives the key (the
    // PKCS#11 engine a token key came from). Fails when the certificate does not match the key.
    [[nodiscard]] static Result<std::unique_ptr<KeyHashSigner>> Create(
        PkeyPtr key, X509Ptr cert, std::vector<X509Ptr> chain,
        std::shared_ptr<void> keep_alive = nullptr);
    ~KeyHashSigner() override;

    [[nodiscard]] Result<domain::SignerCredential> Credential() override { return credential_; }
    [[nodiscard]] Result<std::string> SignHash(std::string_view sha256) override;

  private:
    KeyHashSigner() = default;
    std::shared_ptr<void> keep_alive_;  // declared first: released after the key
    PkeyPtr key_;
    domain::SignerCredential credential_;
};

}  // namespace firmo::crypto
