#pragma once
// The built-in trust service: for each signing session, a fresh key pair and a short-lived
// certificate from Firmo's CA; every document of the session is then signed with that key.
// Also the plain local-key session used by tests and benchmarks.

#include <memory>
#include <vector>

#include "core/clock.hpp"
#include "core/random.hpp"
#include "crypto/certificate_authority.hpp"
#include "crypto/cms.hpp"
#include "crypto/openssl_util.hpp"
#include "crypto/timestamp.hpp"
#include "domain/ports/trust_service.hpp"

namespace firmo::crypto {

// Signs with a key held in memory; `chain` are the issuers included after the certificate.
class LocalSigningSession final : public domain::SigningSession {
  public:
    // Computes the size bound once; fails if the key cannot sign.
    [[nodiscard]] static Result<std::unique_ptr<LocalSigningSession>> Create(
        PkeyPtr key, X509Ptr cert, std::vector<X509Ptr> chain);

    [[nodiscard]] Result<std::string> SignDigest(std::string_view sha256) override;
    std::size_t MaxSignatureSize() const override { return max_size_; }
    std::string CertificateDer() const override { return cert_der_; }

  private:
    LocalSigningSession() = default;
    PkeyPtr key_;
    X509Ptr cert_;
    std::vector<X509Ptr> chain_;
    std::vector<X509*> chain_view_;
    std::string cert_der_;
    CmsSignerParts parts_;  // encoded once for every signature of the session
    std::size_t max_size_ = 0;
};

struct BuiltinTrustOptions {
    CertificateUrls urls;  // AIA and CRL distribution point of the signer certificates
    // When set, every signature is time-stamped (PAdES B-T).
    std::shared_ptr<TimestampAuthority> timestamps;
};

class BuiltinTrustService final : public domain::TrustService {
  public:
    // The signer keys are of `ca->options().key_type`.
    BuiltinTrustService(std::shared_ptr<const CertificateAuthority> ca, const Clock& clock,
                        Random& random, BuiltinTrustOptions options = {});

    [[nodiscard]] Result<std::unique_ptr<domain::SigningSession>> OpenSession(
        const domain::SignerIdentity& signer) override;

  private:
    std::shared_ptr<const CertificateAuthority> ca_;
    const Clock& clock_;
    Random& random_;
    BuiltinTrustOptions options_;
};

}  // namespace firmo::crypto
