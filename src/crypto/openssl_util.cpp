#include "crypto/openssl_util.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <ctime>

namespace firmo::crypto {

Error OpensslError(std::string what, ErrorCode code) {
    std::string detail;
    unsigned long e;
    while ((e = ERR_get_error()) != 0) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        if (!detail.empty()) detail += "; ";
        detail += buf;
    }
    if (!detail.empty()) what += " (" + detail + ")";
    return Error{code, std::move(what)};
}

Result<std::string> CertificateToDer(X509* cert) {
    return ToDer(cert, i2d_X509, "cannot encode certificate");
}

Result<X509Ptr> CertificateFromDer(std::string_view der) {
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
    if (!cert) return Fail(OpensslError("not a DER certificate", ErrorCode::kMalformed));
    return cert;
}

Result<std::string> CertificateToPem(X509* cert) {
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) {
        return Fail(OpensslError("cannot write certificate PEM"));
    }
    char* data = nullptr;
    long len = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(len));
}

Result<X509StackPtr> CertificatesFromPem(std::string_view pem) {
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    X509StackPtr out(sk_X509_new_null());
    if (!bio || !out) return Fail(OpensslError("out of memory"));
    while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
        if (sk_X509_push(out.get(), cert) == 0) {
            X509_free(cert);
            return Fail(OpensslError("out of memory"));
        }
    }
    ERR_clear_error();  // the loop ends on a "no start line" error
    if (sk_X509_num(out.get()) == 0) {
        return Fail(ErrorCode::kMalformed, "no PEM certificate found");
    }
    return out;
}

std::string NameToString(const X509_NAME* name) {
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio) return {};
    X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
    char* data = nullptr;
    long len = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(len));
}

std::string NameEntry(const X509_NAME* name, int nid) {
    int index = X509_NAME_get_index_by_NID(name, nid, -1);
    if (index < 0) return {};
    const ASN1_STRING* value = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index));
    unsigned char* utf8 = nullptr;
    int len = ASN1_STRING_to_UTF8(&utf8, value);
    if (len < 0) return {};
    std::string out(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(len));
    OPENSSL_free(utf8);
    return out;
}

std::optional<Timestamp> TimestampOf(const ASN1_TIME* time) {
    struct tm tm {};
    if (time == nullptr || ASN1_TIME_to_tm(time, &tm) != 1) return std::nullopt;
    return Timestamp(std::chrono::seconds(timegm(&tm)));
}

}  // namespace firmo::crypto
