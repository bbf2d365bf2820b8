#pragma once
// CMS SignedData for PAdES baseline B-B (ETSI EN 319 142-1, CAdES detached): SHA-256, signed
// attributes content-type, message-digest and signing-certificate-v2 only (the signing time
// lives in the PDF signature dictionary's /M, so no signing-time attribute), the signer's
// certificate chain included. Built around a digest: the document never reaches this code.

#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "crypto/openssl_util.hpp"

namespace firmo::crypto {

// What every CMS of one signer certificate and chain repeats, encoded once: a session that
// signs several documents (or a bench that signs many) builds it once.
struct CmsSignerParts {
    std::string certificate_sha256;   // for the signing-certificate-v2 attribute
    std::string sid;                  // IssuerAndSerialNumber
    std::string signature_algorithm;  // AlgorithmIdentifier of the certificate's key
    std::string certificates;         // the certificate's DER, then its chain's
};
[[nodiscard]] Result<CmsSignerParts> EncodeSignerParts(X509* signer_cert,
                                                       const std::vector<X509*>& chain);

// DER of the SET OF signed attributes (tag 0x31): the bytes whose hash the key signs.
[[nodiscard]] Result<std::string> BuildSignedAttributes(std::string_view content_sha256,
                                                        X509* signer_cert);
[[nodiscard]] Result<std::string> BuildSignedAttributes(std::string_view content_sha256,
                                                        const CmsSignerParts& parts);

// Raw signature of a SHA-256 hash with `key` (RSA PKCS#1 v1.5 or ECDSA, DER-encoded).
[[nodiscard]] Result<std::string> SignSha256(EVP_PKEY* key, std::string_view sha256);

// The DER ContentInfo around already computed signed attributes and signature value.
// `chain` holds the issuers to include after the signer's certificate.
[[nodiscard]] Result<std::string> AssembleSignedData(std::string_view signed_attributes,
                                                     std::string_view signature, X509* signer_cert,
                                                     const std::vector<X509*>& chain);
[[nodiscard]] Result<std::string> AssembleSignedData(std::string_view signed_attributes,
                                                     std::string_view signature,
                                                     const CmsSignerParts& parts);

// The three steps above with a local key.
[[nodiscard]] Result<std::string> SignDigestCades(std::string_view content_sha256, EVP_PKEY* key,
                                                  X509* signer_cert,
                                                  const std::vector<X509*>& chain);
[[nodiscard]] Result<std::string> SignDigestCades(std::string_view content_sha256, EVP_PKEY* key,
                                                  const CmsSignerParts& parts);

// Upper bound of SignDigestCades' output for this key and chain.
[[nodiscard]] Result<std::size_t> MaxCadesSize(EVP_PKEY* key, X509* signer_cert,
                                               const std::vector<X509*>& chain);

}  // namespace firmo::crypto
