#include "crypto/certificate_authority.hpp"

#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "core/encoding.hpp"
#include "crypto/key_files.hpp"
#include "crypto/pkcs11_key.hpp"

namespace firmo::crypto {
namespace {

constexpr int kSerialBytes = 16;

Result<void> AddEntry(X509_NAME* name, int nid, const std::string& value) {
    if (value.empty()) return {};
    if (X509_NAME_add_entry_by_NID(name, nid, MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(value.data()),
                                   static_cast<int>(value.size()), -1, 0) != 1) {
        return Fail(OpensslError("invalid certificate name entry", ErrorCode::kInvalidArgument));
    }
    return {};
}

Result<void> AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
    if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
        return Fail(OpensslError("cannot add certificate extension"));
    }
    return {};
}

// Authority Information Access (OCSP, CA issuers) and CRL distribution point. The values go
// through OpenSSL's config syntax, where ',' separates entries.
Result<void> AddUrlExtensions(X509* cert, X509* issuer, const CertificateUrls& urls) {
    for (const std::string* url : {&urls.ocsp, &urls.ca_issuers, &urls.crl}) {
        if (url->find_first_of(", \n\r;") != std::string::npos) {
            return Fail(ErrorCode::kInvalidArgument, "invalid URL for a certificate: " + *url);
        }
    }
    std::string access;
    if (!urls.ocsp.empty()) access = "OCSP;URI:" + urls.ocsp;
    if (!urls.ca_issuers.empty()) {
        access += (access.empty() ? "" : ",") + std::string("caIssuers;URI:") + urls.ca_issuers;
    }
    if (!access.empty()) {
        FIRMO_CHECK(AddExtension(cert, issuer, NID_info_access, access.c_str()));
    }
    if (!urls.crl.empty()) {
        const std::string points = "URI:" + urls.crl;
        FIRMO_CHECK(AddExtension(cert, issuer, NID_crl_distribution_points, points.c_str()));
    }
    return {};
}

Result<void> SetRandomSerial(X509* cert, Random& random) {
    std::string bytes = random.Bytes(kSerialBytes);
    // Positive and with a non-zero first octet, so it keeps its 16 bytes.
    bytes[0] = static_cast<char>((static_cast<unsigned char>(bytes[0]) & 0x7F) | 0x40);
    BignumPtr bn(
        BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()), kSerialBytes, nullptr));
    if (!bn || BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert)) == nullptr) {
        return Fail(OpensslError("cannot set serial number"));
    }
    return {};
}

Result<void> SetValidity(X509* cert, Timestamp from, std::chrono::seconds length) {
    auto from_s = std::chrono::duration_cast<std::chrono::seconds>(from.time_since_epoch()).count();
    auto to_s = from_s + length.count();
    if (ASN1_TIME_set(X509_getm_notBefore(cert), static_cast<time_t>(from_s)) == nullptr ||
        ASN1_TIME_set(X509_getm_notAfter(cert), static_cast<time_t>(to_s)) == nullptr) {
        return Fail(OpensslError("cannot set validity"));
    }
    return {};
}

// The root: self-signed, CA:TRUE with path length 0, certificate and CRL signing only.
Result<X509Ptr> SelfSignedCertificate(EVP_PKEY* key, const CaOptions& options, const Clock& clock,
                                      Random& random) {
    X509Ptr cert(X509_new());
    X509NamePtr name(X509_NAME_new());
    if (!cert || !name || X509_set_version(cert.get(), X509_VERSION_3) != 1) {
        return Fail(OpensslError("out of memory"));
    }
    FIRMO_CHECK(AddEntry(name.get(), NID_countryName, options.country));
    FIRMO_CHECK(AddEntry(name.get(), NID_organizationName, options.organization));
    FIRMO_CHECK(AddEntry(name.get(), NID_commonName, options.common_name));
    X509_set_subject_name(cert.get(), name.get());
    X509_set_issuer_name(cert.get(), name.get());
    X509_set_pubkey(cert.get(), key);
    FIRMO_CHECK(SetRandomSerial(cert.get(), random));
    FIRMO_CHECK(SetValidity(cert.get(), clock.Now() - options.backdate,
                            std::chrono::duration_cast<std::chrono::seconds>(options.validity)));
    FIRMO_CHECK(
        AddExtension(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0"));
    FIRMO_CHECK(
        AddExtension(cert.get(), cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign"));
    FIRMO_CHECK(AddExtension(cert.get(), cert.get(), NID_subject_key_identifier, "hash"));
    if (X509_sign(cert.get(), key, EVP_sha256()) <= 0) {
        return Fail(OpensslError("cannot self-sign the CA certificate"));
    }

    return cert;
}

}  // namespace

std::string_view ToString(KeyType type) {
    return type == KeyType::kRsa3072 ? "rsa-3072" : "ecdsa-p256";
}

std::optional<KeyType> ParseKeyType(std::string_view text) {
    if (text == "rsa-3072" || text == "rsa") return KeyType::kRsa3072;
    if (text == "ecdsa-p256" || text == "ecdsa" || text == "p256") return KeyType::kEcdsaP256;
    return std::nullopt;
}

Result<PkeyPtr> GenerateKey(KeyType type) {
    // By id and curve NID rather than EVP_EC_gen("P-256"): once the pkcs11 engine is loaded
    // (CA key in a token), EC key generation may take the legacy path, which does not know
    // the NIST curve names.
    PkeyCtxPtr ctx(
        EVP_PKEY_CTX_new_id(type == KeyType::kRsa3072 ? EVP_PKEY_RSA : EVP_PKEY_EC, nullptr));
    if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1) {
        return Fail(OpensslError("key generation failed"));
    }
    int ok = type == KeyType::kRsa3072
                 ? EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), 3072)
                 : EVP_PKEY_CTX_set_ec_paramgen_curve_nid(ctx.get(), NID_X9_62_prime256v1);
    EVP_PKEY* raw = nullptr;
    if (ok != 1 || EVP_PKEY_keygen(ctx.get(), &raw) != 1) {
        return Fail(OpensslError("key generation failed"));
    }
    return PkeyPtr(raw);
}

std::filesystem::path CertificateAuthority::KeyPath(const std::filesystem::path& data_dir) {
    return data_dir / "ca" / "ca-key.pem";
}

std::filesystem::path CertificateAuthority::CertificatePath(const std::filesystem::path& data_dir) {
    return data_dir / "ca" / "ca-cert.pem";
}

Result<CertificateAuthority> CertificateAuthority::Create(const std::filesystem::path& data_dir,
                                                          const CaOptions& options,
                                                          std::string_view passphrase,
                                                          const Clock& clock, Random& random) {
    std::error_code ec;
    if (std::filesystem::exists(KeyPath(data_dir), ec)) {
        return Fail(ErrorCode::kAlreadyExists,
                    "a CA already exists in " + (data_dir / "ca").string());
    }
    FIRMO_TRY(PkeyPtr key, GenerateKey(options.key_type));
    FIRMO_TRY(X509Ptr cert, SelfSignedCertificate(key.get(), options, clock, random));

    FIRMO_TRY(std::string key_pem, PrivateKeyToPem(key.get(), passphrase));
    FIRMO_TRY(std::string cert_pem, CertificateToPem(cert.get()));
    FIRMO_CHECK(PublishFolder(data_dir, "ca",
                              {{KeyPath(data_dir).filename(), key_pem, 0600},
                               {CertificatePath(data_dir).filename(), cert_pem, 0644}}));
    OPENSSL_cleanse(key_pem.data(), key_pem.size());
    return CertificateAuthority(std::move(key), std::move(cert), options);
}

namespace {

// DATA_DIR/ca/ca-key.secret: where the secret goes when the data folder's parent is read-only.
std::filesystem::path FallbackKeySecretPath(const std::filesystem::path& data_dir) {
    return data_dir / "ca" / "ca-key.secret";
}

Result<std::optional<std::string>> ReadSecretAt(const std::filesystem::path& path) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return std::optional<std::string>();
    FIRMO_TRY(std::string text, ReadWholeFile(path));
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    if (text.size() < 32) {
        return Fail(ErrorCode::kInternal, path.string() + " holds no CA key secret");
    }
    return std::make_optional(std::move(text));
}

// Writes `secret` to `path` unless a file is there already; the secret in force either way.
Result<std::string> PlaceSecret(const std::filesystem::path& path, const std::string& secret,
                                Random& random) {
    const std::filesystem::path candidate =
        path.string() + ".new-" + Base64UrlEncode(random.Bytes(9));
    FIRMO_CHECK(WriteNewFile(candidate, secret + "\n", 0600));
    // link() fails with EEXIST when another node placed its secret first: theirs wins. The
    // candidate was complete (fsync) before it became visible under the final name.
    const int linked = ::link(candidate.c_str(), path.c_str());
    const int link_errno = errno;
    std::error_code ec;
    std::filesystem::remove(candidate, ec);
    if (linked != 0 && link_errno != EEXIST) {
        return Fail(ErrorCode::kInternal,
                    "cannot create " + path.string() + ": " + std::strerror(link_errno));
    }
    FIRMO_TRY(auto placed, ReadSecretAt(path));
    if (!placed) return Fail(ErrorCode::kInternal, "cannot read " + path.string());
    return std::move(*placed);
}

}  // namespace

std::filesystem::path CertificateAuthority::KeySecretPath(const std::filesystem::path& data_dir) {
    std::filesystem::path dir = std::filesystem::absolute(data_dir).lexically_normal();
    if (dir.filename().empty()) dir = dir.parent_path();  // "data/" is "data"
    return dir.parent_path() / (dir.filename().string() + ".ca-key-secret");
}

Result<std::optional<std::string>> CertificateAuthority::ReadKeySecret(
    const std::filesystem::path& data_dir) {
    FIRMO_TRY(auto beside, ReadSecretAt(KeySecretPath(data_dir)));
    if (beside) return beside;
    return ReadSecretAt(FallbackKeySecretPath(data_dir));
}

Result<std::string> CertificateAuthority::ReadOrCreateKeySecret(
    const std::filesystem::path& data_dir, Random& random) {
    FIRMO_TRY(auto existing, ReadKeySecret(data_dir));
    if (existing) return std::move(*existing);
    const std::string secret = Base64UrlEncode(random.Bytes(32));
    auto beside = PlaceSecret(KeySecretPath(data_dir), secret, random);
    if (beside) return beside;
    // The parent of the data folder is not ours to write: next to the CA, which protects less
    // (a copy of the folder carries both); OPERATIONS.md says so.
    std::error_code ec;
    std::filesystem::create_directories(data_dir / "ca", ec);
    std::filesystem::permissions(data_dir / "ca", std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::replace, ec);
    return PlaceSecret(FallbackKeySecretPath(data_dir), secret, random);
}

std::filesystem::path CertificateAuthority::KeyUriPath(const std::filesystem::path& data_dir) {
    return data_dir / "ca" / "ca-key.uri";
}

Result<CertificateAuthority> CertificateAuthority::CreateInToken(
    const std::filesystem::path& data_dir, const CaOptions& options, std::string_view key_uri,
    std::string_view pin, const Clock& clock, Random& random) {
    std::error_code ec;
    if (std::filesystem::exists(KeyPath(data_dir), ec) ||
        std::filesystem::exists(KeyUriPath(data_dir), ec)) {
        return Fail(ErrorCode::kAlreadyExists,
                    "a CA already exists in " + (data_dir / "ca").string());
    }
    if (key_uri.find("pin-value") != std::string_view::npos) {
        return Fail(ErrorCode::kInvalidArgument, "give the PIN apart, not in the key URI");
    }
    FIRMO_TRY(Pkcs11Key token_key, LoadPkcs11Key(key_uri, pin, options.pkcs11_module));
    FIRMO_TRY(X509Ptr cert, SelfSignedCertificate(token_key.key.get(), options, clock, random));
    FIRMO_TRY(std::string cert_pem, CertificateToPem(cert.get()));
    const std::string uri_line = std::string(key_uri) + "\n";
    FIRMO_CHECK(PublishFolder(data_dir, "ca",
                              {{KeyUriPath(data_dir).filename(), uri_line, 0600},
                               {CertificatePath(data_dir).filename(), cert_pem, 0644}}));
    CaOptions made = options;
    made.key_type = EVP_PKEY_get_base_id(token_key.key.get()) == EVP_PKEY_RSA ? KeyType::kRsa3072
                                                                              : KeyType::kEcdsaP256;
    return CertificateAuthority(std::move(token_key.key), std::move(cert), made,
                                std::move(token_key.engine));
}

Result<CertificateAuthority> CertificateAuthority::Load(const std::filesystem::path& data_dir,
                                                        std::string_view passphrase,
                                                        const CaOptions& options) {
    if (auto uri = ReadWholeFile(KeyUriPath(data_dir))) {
        while (!uri->empty() && (uri->back() == '\n' || uri->back() == '\r')) uri->pop_back();
        FIRMO_TRY(std::string cert_pem, ReadWholeFile(CertificatePath(data_dir)));
        FIRMO_TRY(Pkcs11Key token_key, LoadPkcs11Key(*uri, passphrase, options.pkcs11_module));
        FIRMO_TRY(X509StackPtr certs, CertificatesFromPem(cert_pem));
        X509Ptr cert(X509_dup(sk_X509_value(certs.get(), 0)));
        if (!cert || X509_check_private_key(cert.get(), token_key.key.get()) != 1) {
            return Fail(OpensslError("the CA certificate does not match the key in the token"));
        }
        CaOptions loaded = options;
        loaded.key_type = EVP_PKEY_get_base_id(token_key.key.get()) == EVP_PKEY_RSA
                              ? KeyType::kRsa3072
                              : KeyType::kEcdsaP256;
        return CertificateAuthority(std::move(token_key.key), std::move(cert), loaded,
                                    std::move(token_key.engine));
    }
    auto key_pem = ReadWholeFile(KeyPath(data_dir));
    if (!key_pem) {
        return Fail(ErrorCode::kNotFound,
                    "no CA in " + data_dir.string() + " (run `firmo ca init --data-dir DIR`)");
    }
    FIRMO_TRY(std::string cert_pem, ReadWholeFile(CertificatePath(data_dir)));
    BioPtr key_bio(BIO_new_mem_buf(key_pem->data(), static_cast<int>(key_pem->size())));
    std::string pass(passphrase);
    if (pass.empty()) {
        FIRMO_TRY(auto secret, ReadKeySecret(data_dir));
        if (secret) pass = std::move(*secret);
    }
    // With no callback, OpenSSL reads the passphrase from the user-data argument.
    PkeyPtr key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, pass.data()));
    OPENSSL_cleanse(pass.data(), pass.size());
    OPENSSL_cleanse(key_pem->data(), key_pem->size());
    if (!key) {
        return Fail(OpensslError("cannot read the CA key (wrong passphrase?)",
                                 ErrorCode::kUnauthenticated));
    }
    FIRMO_TRY(X509StackPtr certs, CertificatesFromPem(cert_pem));
    X509Ptr cert(X509_dup(sk_X509_value(certs.get(), 0)));
    if (!cert || X509_check_private_key(cert.get(), key.get()) != 1) {
        return Fail(OpensslError("the CA certificate does not match its key"));
    }
    CaOptions loaded = options;
    loaded.key_type =
        EVP_PKEY_get_base_id(key.get()) == EVP_PKEY_RSA ? KeyType::kRsa3072 : KeyType::kEcdsaP256;
    return CertificateAuthority(std::move(key), std::move(cert), loaded);
}

Result<std::string> CertificateAuthority::CertificatePem() const {
    return CertificateToPem(cert_.get());
}

Result<X509Ptr> CertificateAuthority::Issue(const domain::SignerIdentity& signer,
                                            EVP_PKEY* public_key, const Clock& clock,
                                            Random& random, const CertificateUrls& urls) const {
    if (signer.full_name.empty()) {
        return Fail(ErrorCode::kInvalidArgument, "the signer's name is required");
    }
    X509Ptr cert(X509_new());
    X509NamePtr name(X509_NAME_new());
    if (!cert || !name || X509_set_version(cert.get(), X509_VERSION_3) != 1) {
        return Fail(OpensslError("out of memory"));
    }
    FIRMO_CHECK(AddEntry(name.get(), NID_countryName, signer.country));
    FIRMO_CHECK(AddEntry(name.get(), NID_surname, signer.surname));
    FIRMO_CHECK(AddEntry(name.get(), NID_givenName, signer.given_name));
    FIRMO_CHECK(AddEntry(name.get(), NID_serialNumber, signer.serial_number));
    FIRMO_CHECK(AddEntry(name.get(), NID_telephoneNumber, signer.phone));
    FIRMO_CHECK(AddEntry(name.get(), NID_commonName, signer.full_name));
    X509_set_subject_name(cert.get(), name.get());
    X509_set_issuer_name(cert.get(), X509_get_subject_name(cert_.get()));
    if (X509_set_pubkey(cert.get(), public_key) != 1) return Fail(OpensslError("bad public key"));
    FIRMO_CHECK(SetRandomSerial(cert.get(), random));
    FIRMO_CHECK(SetValidity(cert.get(), clock.Now() - options_.backdate,
                            options_.signer_validity + options_.backdate));
    FIRMO_CHECK(AddExtension(cert.get(), cert_.get(), NID_basic_constraints, "critical,CA:FALSE"));
    FIRMO_CHECK(AddExtension(cert.get(), cert_.get(), NID_key_usage,
                             "critical,nonRepudiation,digitalSignature"));
    if (options_.signer_extended_key_usage) {
        FIRMO_CHECK(AddExtension(cert.get(), cert_.get(), NID_ext_key_usage,
                                 "emailProtection,1.3.6.1.5.5.7.3.36"));
    }
    FIRMO_CHECK(AddExtension(cert.get(), cert_.get(), NID_subject_key_identifier, "hash"));
    FIRMO_CHECK(
        AddExtension(cert.get(), cert_.get(), NID_authority_key_identifier, "keyid:always"));
    if (!signer.email.empty()) {
        // The value goes through OpenSSL's config syntax, where ',' separates entries.
        if (signer.email.find_first_of(",\n\r") != std::string::npos) {
            return Fail(ErrorCode::kInvalidArgument, "invalid e-mail address");
        }
        std::string san = "email:" + signer.email;
        FIRMO_CHECK(AddExtension(cert.get(), cert_.get(), NID_subject_alt_name, san.c_str()));
    }
    FIRMO_CHECK(AddUrlExtensions(cert.get(), cert_.get(), urls));
    if (X509_sign(cert.get(), key_.get(), EVP_sha256()) <= 0) {
        return Fail(OpensslError("cannot sign the signer certificate"));
    }
    return cert;
}

Result<X509Ptr> CertificateAuthority::IssueTimestampingCertificate(
    EVP_PKEY* public_key, std::chrono::seconds validity, const Clock& clock, Random& random,
    const CertificateUrls& urls) const {
    X509Ptr cert(X509_new());
    X509NamePtr name(X509_NAME_new());
    if (!cert || !name || X509_set_version(cert.get(), X509_VERSION_3) != 1) {
        return Fail(OpensslError("out of memory"));
    }
    FIRMO_CHECK(AddEntry(name.get(), NID_countryName, options_.country));
    FIRMO_CHECK(AddEntry(name.get(), NID_organizationName, options_.organization));
    FIRMO_CHECK(AddEntry(name.get(), NID_commonName, "Firmo Time-Stamping Authority"));
    X509_set_subject_name(cert.get(), name.get());
    X509_set_issuer_name(cert.get(), X509_get_subject_name(cert_.get()));
    if (X509_set_pubkey(cert.get(), public_key) != 1) return Fail(OpensslError("bad public key"));
    FIRMO_CHECK(SetRandomSerial(cert.get(), random));
    const Timestamp from = clock.Now() - options_.backdate;
    std::chrono::seconds length = validity + options_.backdate;
    if (auto ca_end = TimestampOf(X509_get0_notAfter(cert_.get()))) {
        length = std::min(length, std::chrono::duration_cast<std::chrono::seconds>(*ca_end - from));
    }
    if (length <= std::chrono::seconds(0)) {
        return Fail(ErrorCode::kConflict, "the CA certificate has expired");
    }
    FIRMO_CHECK(SetValidity(cert.get(), from, length));
    FIRMO_CHECK(AddExtension(cert.get(), cert_.get(), NID_basic_constraints, "critical,CA:FALSE"));
    FIRMO_CHECK(AddExtension(cert.get(), cert_.get(), NID_key_usage,
                             "critical,digitalSignature,nonRepudiation"));
    FIRMO_CHECK(AddExtension(cert.get(), cert_.get(), NID_ext_key_usage, "critical,timeStamping"));
    FIRMO_CHECK(AddExtension(cert.get(), cert_.get(), NID_subject_key_identifier, "hash"));
    FIRMO_CHECK(
        AddExtension(cert.get(), cert_.get(), NID_authority_key_identifier, "keyid:always"));
    FIRMO_CHECK(AddUrlExtensions(cert.get(), cert_.get(), urls));
    if (X509_sign(cert.get(), key_.get(), EVP_sha256()) <= 0) {
        return Fail(OpensslError("cannot sign the time-stamping certificate"));
    }
    return cert;
}

Result<std::string> CertificateAuthority::KeyPassphrase(const std::filesystem::path& data_dir,
                                                        std::string_view passphrase) {
    if (!passphrase.empty()) return std::string(passphrase);
    FIRMO_TRY(auto secret, ReadKeySecret(data_dir));
    return secret.value_or(std::string());
}

}  // namespace firmo::crypto
