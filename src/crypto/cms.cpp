#include "crypto/cms.hpp"

#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "crypto/der.hpp"
#include "crypto/digest.hpp"

namespace firmo::crypto {
namespace {

constexpr std::string_view kOidSignedData = "1.2.840.113549.1.7.2";
constexpr std::string_view kOidData = "1.2.840.113549.1.7.1";
constexpr std::string_view kOidContentType = "1.2.840.113549.1.9.3";
constexpr std::string_view kOidMessageDigest = "1.2.840.113549.1.9.4";
constexpr std::string_view kOidSigningCertificateV2 = "1.2.840.113549.1.9.16.2.47";
constexpr std::string_view kOidSha256 = "2.16.840.1.101.3.4.2.1";
constexpr std::string_view kOidRsaEncryption = "1.2.840.113549.1.1.1";
constexpr std::string_view kOidEcdsaWithSha256 = "1.2.840.10045.4.3.2";
constexpr std::size_t kSha256Size = 32;

// The DER of an OID, encoded once: every signature writes the same few.
struct EncodedOids {
    std::string data = der::Oid(kOidData);
    std::string signed_data = der::Oid(kOidSignedData);
    std::string content_type = der::Oid(kOidContentType);
    std::string message_digest = der::Oid(kOidMessageDigest);
    std::string signing_certificate_v2 = der::Oid(kOidSigningCertificateV2);
    // AlgorithmIdentifier for SHA-256 with absent parameters (RFC 5754 section 2).
    std::string sha256_algorithm = der::Sequence({der::Oid(kOidSha256)});
};

const EncodedOids& Oids() {
    static const EncodedOids kOids;
    return kOids;
}

std::string Attribute(const std::string& oid, std::string value) {
    return der::Sequence({oid, der::SetOf({std::move(value)})});
}

Result<std::string> SignatureAlgorithm(EVP_PKEY* key) {
    switch (EVP_PKEY_get_base_id(key)) {
        case EVP_PKEY_RSA:
            return der::Sequence({der::Oid(kOidRsaEncryption), der::Null()});
        case EVP_PKEY_EC:
            return der::Sequence({der::Oid(kOidEcdsaWithSha256)});
        default:
            return Fail(ErrorCode::kInvalidArgument, "unsupported signing key type");
    }
}

Result<std::string> IssuerAndSerial(X509* cert) {
    FIRMO_TRY(std::string issuer,
              ToDer(
                  X509_get_issuer_name(cert),
                  [](X509_NAME* n, unsigned char** p) { return i2d_X509_NAME(n, p); },
                  "cannot encode issuer"));
    FIRMO_TRY(std::string serial,
              ToDer(
                  X509_get0_serialNumber(cert),
                  [](const ASN1_INTEGER* s, unsigned char** p) { return i2d_ASN1_INTEGER(s, p); },
                  "cannot encode serial"));
    return der::Sequence({issuer, serial});
}

}  // namespace

Result<CmsSignerParts> EncodeSignerParts(X509* signer_cert, const std::vector<X509*>& chain) {
    CmsSignerParts parts;
    FIRMO_TRY(std::string cert_der, CertificateToDer(signer_cert));
    parts.certificate_sha256 = Sha256(cert_der);
    FIRMO_TRY(parts.sid, IssuerAndSerial(signer_cert));
    EVP_PKEY* public_key = X509_get0_pubkey(signer_cert);
    if (public_key == nullptr) return Fail(OpensslError("certificate without public key"));
    FIRMO_TRY(parts.signature_algorithm, SignatureAlgorithm(public_key));
    parts.certificates = std::move(cert_der);
    for (X509* c : chain) {
        FIRMO_TRY(std::string c_der, CertificateToDer(c));
        parts.certificates += c_der;
    }
    return parts;
}

Result<std::string> BuildSignedAttributes(std::string_view content_sha256, X509* signer_cert) {
    if (content_sha256.size() != kSha256Size) {  // before the certificate is looked at
        return Fail(ErrorCode::kInvalidArgument, "a SHA-256 digest has 32 bytes");
    }
    FIRMO_TRY(CmsSignerParts parts, EncodeSignerParts(signer_cert, {}));
    return BuildSignedAttributes(content_sha256, parts);
}

Result<std::string> BuildSignedAttributes(std::string_view content_sha256,
                                          const CmsSignerParts& parts) {
    if (content_sha256.size() != kSha256Size) {
        return Fail(ErrorCode::kInvalidArgument, "a SHA-256 digest has 32 bytes");
    }
    // ESSCertIDv2 with the default hash algorithm (SHA-256, so omitted) and no issuerSerial,
    // as EN 319 122-1 recommends.
    std::string ess_cert_id = der::Sequence({der::OctetString(parts.certificate_sha256)});
    std::string signing_certificate = der::Sequence({der::Sequence({ess_cert_id})});
    return der::SetOf({
        Attribute(Oids().content_type, Oids().data),
        Attribute(Oids().message_digest, der::OctetString(content_sha256)),
        Attribute(Oids().signing_certificate_v2, signing_certificate),
    });
}

Result<std::string> SignSha256(EVP_PKEY* key, std::string_view sha256) {
    PkeyCtxPtr ctx(EVP_PKEY_CTX_new(key, nullptr));
    if (!ctx || EVP_PKEY_sign_init(ctx.get()) != 1 ||
        EVP_PKEY_CTX_set_signature_md(ctx.get(), EVP_sha256()) != 1) {
        return Fail(OpensslError("cannot initialise signing"));
    }
    if (EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA &&
        EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) != 1) {
        return Fail(OpensslError("cannot set RSA padding"));
    }
    const auto* in = reinterpret_cast<const unsigned char*>(sha256.data());
    std::size_t len = 0;
    if (EVP_PKEY_sign(ctx.get(), nullptr, &len, in, sha256.size()) != 1) {
        return Fail(OpensslError("cannot sign"));
    }
    std::string out(len, '\0');
    if (EVP_PKEY_sign(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len, in,
                      sha256.size()) != 1) {
        return Fail(OpensslError("cannot sign"));
    }
    out.resize(len);
    return out;
}

Result<std::string> AssembleSignedData(std::string_view signed_attributes,
                                       std::string_view signature, X509* signer_cert,
                                       const std::vector<X509*>& chain) {
    FIRMO_TRY(CmsSignerParts parts, EncodeSignerParts(signer_cert, chain));
    return AssembleSignedData(signed_attributes, signature, parts);
}

Result<std::string> AssembleSignedData(std::string_view signed_attributes,
                                       std::string_view signature, const CmsSignerParts& parts) {
    std::size_t header = 0;
    std::size_t content = 0;
    if (!der::ReadHeader(signed_attributes, &header, &content) ||
        static_cast<unsigned char>(signed_attributes[0]) != der::kSet) {
        return Fail(ErrorCode::kInvalidArgument, "signed attributes are not a DER SET");
    }
    // signedAttrs is [0] IMPLICIT: the SET's tag is replaced, its content kept as signed.
    std::string signed_attrs_field(signed_attributes);
    signed_attrs_field[0] = static_cast<char>(0xA0);

    std::string signer_info =
        der::Sequence({der::SmallInteger(1), parts.sid, Oids().sha256_algorithm, signed_attrs_field,
                       parts.signature_algorithm, der::OctetString(signature)});
    std::string signed_data = der::Sequence({
        der::SmallInteger(1),
        der::SetOf({Oids().sha256_algorithm}),
        der::Sequence({Oids().data}),  // detached: no eContent
        der::ContextConstructed(0, parts.certificates),
        der::SetOf({signer_info}),
    });
    return der::Sequence({Oids().signed_data, der::ContextConstructed(0, signed_data)});
}

Result<std::string> SignDigestCades(std::string_view content_sha256, EVP_PKEY* key,
                                    X509* signer_cert, const std::vector<X509*>& chain) {
    FIRMO_TRY(CmsSignerParts parts, EncodeSignerParts(signer_cert, chain));
    return SignDigestCades(content_sha256, key, parts);
}

Result<std::string> SignDigestCades(std::string_view content_sha256, EVP_PKEY* key,
                                    const CmsSignerParts& parts) {
    FIRMO_TRY(std::string attributes, BuildSignedAttributes(content_sha256, parts));
    FIRMO_TRY(std::string signature, SignSha256(key, Sha256(attributes)));
    return AssembleSignedData(attributes, signature, parts);
}

Result<std::size_t> MaxCadesSize(EVP_PKEY* key, X509* signer_cert,
                                 const std::vector<X509*>& chain) {
    FIRMO_TRY(std::string attributes, BuildSignedAttributes(std::string(32, '\0'), signer_cert));
    int max_signature = EVP_PKEY_get_size(key);
    if (max_signature <= 0) return Fail(OpensslError("unknown signature size"));
    FIRMO_TRY(
        std::string cms,
        AssembleSignedData(attributes, std::string(static_cast<std::size_t>(max_signature), 'x'),
                           signer_cert, chain));
    return cms.size();
}

}  // namespace firmo::crypto
