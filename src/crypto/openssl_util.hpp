#pragma once
// Ownership and error helpers for OpenSSL objects: every object is held by a unique_ptr alias
// with its deleter (no naked *_free), and every failing call becomes an Error that carries
// OpenSSL's own error queue text.

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/error.hpp"

namespace firmo::crypto {

template <typename T, void (*Free)(T*)>
struct OpensslDeleter {
    void operator()(T* p) const { Free(p); }
};
template <typename T, void (*Free)(T*)>
using OpensslPtr = std::unique_ptr<T, OpensslDeleter<T, Free>>;

using BioPtr = OpensslPtr<BIO, BIO_free_all>;
using PkeyPtr = OpensslPtr<EVP_PKEY, EVP_PKEY_free>;
using PkeyCtxPtr = OpensslPtr<EVP_PKEY_CTX, EVP_PKEY_CTX_free>;
using X509Ptr = OpensslPtr<X509, X509_free>;
using X509NamePtr = OpensslPtr<X509_NAME, X509_NAME_free>;
using X509StorePtr = OpensslPtr<X509_STORE, X509_STORE_free>;
using X509StoreCtxPtr = OpensslPtr<X509_STORE_CTX, X509_STORE_CTX_free>;
using X509ExtensionPtr = OpensslPtr<X509_EXTENSION, X509_EXTENSION_free>;
using CmsPtr = OpensslPtr<CMS_ContentInfo, CMS_ContentInfo_free>;
using Asn1IntegerPtr = OpensslPtr<ASN1_INTEGER, ASN1_INTEGER_free>;
using BignumPtr = OpensslPtr<BIGNUM, BN_free>;

// Stacks own their elements; the pop_free deleter frees both.
struct X509StackDeleter {
    void operator()(STACK_OF(X509) * s) const { sk_X509_pop_free(s, X509_free); }
};
using X509StackPtr = std::unique_ptr<STACK_OF(X509), X509StackDeleter>;

// An Error (kInternal unless told) with `what` and the drained OpenSSL error queue.
Error OpensslError(std::string what, ErrorCode code = ErrorCode::kInternal);

// DER bytes of an OpenSSL object through its i2d_* function (any callable with that shape).
template <typename T, typename EncodeFn>
[[nodiscard]] Result<std::string> ToDer(T* object, EncodeFn encode, const char* what) {
    const int len = encode(object, nullptr);
    if (len <= 0) return Fail(OpensslError(what));
    std::string out(static_cast<std::size_t>(len), '\0');
    auto* p = reinterpret_cast<unsigned char*>(out.data());
    if (encode(object, &p) != len) return Fail(OpensslError(what));
    return out;
}

// DER <-> objects.
[[nodiscard]] Result<std::string> CertificateToDer(X509* cert);
[[nodiscard]] Result<X509Ptr> CertificateFromDer(std::string_view der);
[[nodiscard]] Result<std::string> CertificateToPem(X509* cert);
// All certificates in a PEM text (at least one).
[[nodiscard]] Result<X509StackPtr> CertificatesFromPem(std::string_view pem);

// Subject as a one-line RFC 2253 string ("CN=Mario Rossi,serialNumber=TINIT-...").
std::string NameToString(const X509_NAME* name);
// The first value of `nid` in `name` as UTF-8, or empty.
std::string NameEntry(const X509_NAME* name, int nid);

// An ASN.1 UTCTime/GeneralizedTime as a Timestamp; nullopt when null or unreadable.
std::optional<Timestamp> TimestampOf(const ASN1_TIME* time);

}  // namespace firmo::crypto
