#pragma once
// Port: the *signer* of the staged signing pipeline (docs/DEVELOPING.md, "Signing pipeline";
// pyHanko's Signer): what turns the SHA-256 digest of a signature's CMS signed attributes into
// a signature value, and names the certificates that value verifies with. A key in memory or
// in a PKCS#11 token (crypto/key_hash_signer) implements it; so does a remote trust service
// over the CSC API, which signs a hash once the signer authorised it. Only a digest crosses
// this port, never the document.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace firmo::domain {

// What the pipeline must know before it asks for a signature value: the prepare stage puts
// the certificate's hash in the signed attributes and reserves room for the CMS.
struct SignerCredential {
    std::string certificate_der;         // the signer's certificate
    std::vector<std::string> chain_der;  // its issuers, nearest first, included in the CMS
    // Upper bound of a signature value's size (bytes) for this key: an RSA modulus, or a DER
    // ECDSA-Sig-Value of the curve.
    std::size_t max_signature_bytes = 0;
};

class HashSigner {
  public:
    virtual ~HashSigner() = default;
    HashSigner() = default;
    HashSigner(const HashSigner&) = delete;
    HashSigner& operator=(const HashSigner&) = delete;

    // May block (a remote service lists the credential).
    [[nodiscard]] virtual Result<SignerCredential> Credential() = 0;
    // `sha256`: the 32-byte digest of the DER signed attributes. Returns the signature value as
    // a CMS SignerInfo carries it: RSA PKCS#1 v1.5, or ECDSA as a DER Ecdsa-Sig-Value.
    // Blocking; kUnavailable when a remote signer cannot be reached, kUnauthenticated when the
    // signer's authorisation is missing or expired.
    [[nodiscard]] virtual Result<std::string> SignHash(std::string_view sha256) = 0;
};

}  // namespace firmo::domain
