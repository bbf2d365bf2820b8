#include "http/tls_context.hpp"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/system/system_error.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/log.hpp"
#include "crypto/openssl_util.hpp"

namespace firmo::http {

namespace {

namespace ssl = boost::asio::ssl;

// Mozilla's "intermediate" TLS 1.2 suites: forward secrecy (ECDHE) and AEAD only. TLS 1.3
// suites are all of that kind; OpenSSL's defaults stay for them.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// A certificate chain or key is a few kilobytes; anything this large is the wrong file.
constexpr off_t kMaxPemBytes = 1024 * 1024;

struct PemFile {
    std::string text;
    mode_t mode = 0;
};

// Reads `path` through one descriptor, so that the mode checked is that of the bytes read.
Result<PemFile> ReadPemFile(const std::string& path, const std::string& what) {
    const auto fail = [&](const std::string& why) {
        return Fail(ErrorCode::kInvalidArgument, what + " " + path + ": " + why);
    };
    if (path.empty()) return Fail(ErrorCode::kInvalidArgument, what + " is not set");
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail(std::strerror(errno));
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};
    struct stat st {};
    if (::fstat(fd, &st) != 0) return fail(std::strerror(errno));
    if (!S_ISREG(st.st_mode)) return fail("not a regular file");
    if (st.st_size > kMaxPemBytes) return fail("larger than 1 MiB, not a PEM file");
    PemFile out;
    out.mode = st.st_mode & 07777;
    char buf[16 * 1024];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail(std::strerror(errno));
        if (n == 0) break;
        out.text.append(buf, static_cast<std::size_t>(n));
        if (out.text.size() > static_cast<std::size_t>(kMaxPemBytes)) {
            return fail("larger than 1 MiB, not a PEM file");
        }
    }
    return out;
}

std::string Octal(mode_t mode) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
    return buf;
}

std::size_t Count(std::string_view text, std::string_view what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string_view::npos; at = text.find(what, at + 1)) {
        ++n;
    }
    return n;
}

// The key is never asked a passphrase for: without this OpenSSL would prompt on the terminal.
int NoPassphrase(char*, int, int, void*) { return -1; }

// HTTP/1.1 is all this server speaks; a client offering only other protocols gets no ALPN
// answer and decides itself whether to go on.
int SelectAlpn(SSL*, const unsigned char** out, unsigned char* out_len, const unsigned char* in,
               unsigned int in_len, void*) {
    static unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
    unsigned char* selected = nullptr;
    if (SSL_select_next_proto(&selected, out_len, kHttp11, sizeof kHttp11, in, in_len) !=
        OPENSSL_NPN_NEGOTIATED) {
        return SSL_TLSEXT_ERR_NOACK;
    }
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
}

std::string SubjectOf(X509* cert) { return crypto::NameToString(X509_get_subject_name(cert)); }

}  // namespace

TlsContext::TlsContext() : ssl(ssl::context::tls_server) {}

Result<std::shared_ptr<TlsContext>> LoadTlsContext(const TlsOptions& options) {
    const std::string cert_what = "TLS certificate file";
    const std::string key_what = "TLS key file";
    FIRMO_TRY(const PemFile chain_pem, ReadPemFile(options.cert_file, cert_what));
    FIRMO_TRY(const PemFile key_pem, ReadPemFile(options.key_file, key_what));
    const auto cert_fail = [&](const std::string& why) {
        return Fail(ErrorCode::kInvalidArgument, cert_what + " " + options.cert_file + ": " + why);
    };
    const auto key_fail = [&](const std::string& why) {
        return Fail(ErrorCode::kInvalidArgument, key_what + " " + options.key_file + ": " + why);
    };

    // As PostgreSQL does for its server key: no access for others at all, a warning for the
    // group (Debian's ssl-cert group is a common, deliberate setup).
    if ((key_pem.mode & S_IRWXO) != 0) {
        return key_fail("other users can read it (mode " + Octal(key_pem.mode) +
                        "); run chmod 600 on it (or 640 with a group the firmo user is in)");
    }
    if ((key_pem.mode & S_IRWXG) != 0) {
        log::Warn("tls_key_group_accessible",
                  {{"path", options.key_file}, {"mode", Octal(key_pem.mode)}});
    }
    if (key_pem.text.find("ENCRYPTED") != std::string::npos) {
        return key_fail(
            "the key is encrypted; Firmo needs it unencrypted (protect the file's permissions "
            "instead)");
    }

    auto chain = crypto::CertificatesFromPem(chain_pem.text);
    if (!chain) return cert_fail("no PEM certificate (-----BEGIN CERTIFICATE-----) in it");
    const int length = sk_X509_num(chain->get());
    if (Count(chain_pem.text, "-----BEGIN CERTIFICATE-----") != static_cast<std::size_t>(length)) {
        return cert_fail("certificate " + std::to_string(length + 1) + " cannot be read");
    }
    X509* leaf = sk_X509_value(chain->get(), 0);
    for (int i = 0; i + 1 < length; ++i) {
        X509* cert = sk_X509_value(chain->get(), i);
        X509* next = sk_X509_value(chain->get(), i + 1);
        if (X509_check_issued(next, cert) != X509_V_OK) {
            return cert_fail("certificate " + std::to_string(i + 2) + " (" + SubjectOf(next) +
                             ") did not issue certificate " + std::to_string(i + 1) + " (" +
                             SubjectOf(cert) +
                             "); the server's certificate comes first, then each intermediate "
                             "after the certificate it signed");
        }
    }

    crypto::BioPtr key_bio(
        BIO_new_mem_buf(key_pem.text.data(), static_cast<int>(key_pem.text.size())));
    crypto::PkeyPtr key(
        key_bio ? PEM_read_bio_PrivateKey(key_bio.get(), nullptr, NoPassphrase, nullptr) : nullptr);
    if (!key) {
        return Fail(
            crypto::OpensslError(key_what + " " + options.key_file + ": no PEM private key in it",
                                 ErrorCode::kInvalidArgument));
    }
    if (X509_check_private_key(leaf, key.get()) != 1) {
        ERR_clear_error();
        return key_fail("the key does not match the certificate in " + options.cert_file + " (" +
                        SubjectOf(leaf) +
                        "); the server's own certificate must come first in that file");
    }

    std::shared_ptr<TlsContext> tls;
    try {
        tls = std::make_shared<TlsContext>();
    } catch (const boost::system::system_error& e) {
        return Fail(ErrorCode::kInternal, std::string("cannot create a TLS context: ") + e.what());
    }
    SSL_CTX* ctx = tls->ssl.native_handle();
    // The minimum version excludes SSLv2/3 and TLS 1.0/1.1 (OpenSSL 3 has no SSLv2 at all).
    if (SSL_CTX_set_min_proto_version(
            ctx, options.min_version == TlsVersion::kTls13 ? TLS1_3_VERSION : TLS1_2_VERSION) !=
            1 ||
        SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1) {
        return Fail(crypto::OpensslError("cannot set the TLS protocol versions and ciphers"));
    }
    SSL_CTX_set_options(
        ctx, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);  // no client certificates
    SSL_CTX_set_alpn_select_cb(ctx, SelectAlpn, nullptr);
    SSL_CTX_set_default_passwd_cb(ctx, NoPassphrase);

    // Too weak a key for OpenSSL's security level (an RSA key under 2048 bits) fails here.
    if (SSL_CTX_use_certificate(ctx, leaf) != 1) {
        return Fail(crypto::OpensslError(
            cert_what + " " + options.cert_file + ": the certificate cannot be used",
            ErrorCode::kInvalidArgument));
    }
    for (int i = 1; i < length; ++i) {
        if (SSL_CTX_add1_chain_cert(ctx, sk_X509_value(chain->get(), i)) != 1) {
            return Fail(crypto::OpensslError(cert_what + " " + options.cert_file +
                                                 ": certificate " + std::to_string(i + 1) +
                                                 " cannot be used",
                                             ErrorCode::kInvalidArgument));
        }
    }
    if (SSL_CTX_use_PrivateKey(ctx, key.get()) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
        return Fail(
            crypto::OpensslError(key_what + " " + options.key_file + ": the key cannot be used",
                                 ErrorCode::kInvalidArgument));
    }

    tls->certificate.subject = SubjectOf(leaf);
    tls->certificate.issuer = crypto::NameToString(X509_get_issuer_name(leaf));
    tls->certificate.not_after =
        crypto::TimestampOf(X509_get0_notAfter(leaf)).value_or(Timestamp{});
    tls->certificate.chain_length = length;
    return tls;
}

}  // namespace firmo::http
