#pragma once
// Firmo's built-in certification authority: a key and a self-signed root certificate kept in
// the data directory (key PKCS#8-encrypted with a passphrase, file mode 0600), issuing each
// signer a short-lived certificate that names them (CN, ETSI serialNumber, non-repudiation).
// Immutable once loaded, so one instance may be shared by threads.

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/random.hpp"
#include "crypto/openssl_util.hpp"
#include "domain/ports/revocation_repository.hpp"
#include "domain/ports/trust_service.hpp"

namespace firmo::crypto {

enum class KeyType { kEcdsaP256, kRsa3072 };
std::string_view ToString(KeyType type);  // "ecdsa-p256" / "rsa-3072"
std::optional<KeyType> ParseKeyType(std::string_view text);

[[nodiscard]] Result<PkeyPtr> GenerateKey(KeyType type);

struct CaOptions {
    KeyType key_type = KeyType::kEcdsaP256;
    std::string common_name = "Firmo Signing CA";
    std::string organization = "Firmo";
    std::string country;  // optional, e.g. "IT"
    std::chrono::days validity{3650};
    // Signer certificates.
    std::chrono::seconds signer_validity{std::chrono::hours(1)};
    // Viewers' clocks drift; a certificate that starts in their future looks invalid.
    std::chrono::seconds backdate{std::chrono::minutes(5)};
    // Adds extendedKeyUsage emailProtection + documentSigning (NSS accepts a signer only if
    // an EKU, when present, includes emailProtection).
    bool signer_extended_key_usage = false;
    // For a CA key in a PKCS#11 token: the module library; empty uses p11-kit's modules.
    std::string pkcs11_module;
};

// Where a relying party finds the CA's certificate and revocation status: the signer
// certificates carry them (Authority Information Access and CRL distribution point). Empty
// members are left out.
struct CertificateUrls {
    std::string ocsp;        // POST /pki/ocsp
    std::string ca_issuers;  // GET /pki/ca.crt (DER)
    std::string crl;         // GET /pki/ca.crl (DER)
    // The three endpoints under a node's public base URL ("https://sign.example.org").
    static CertificateUrls Under(std::string_view public_url);
};

// A certificate serial number as upper-case hex without leading zeros, the form revocations
// are stored in: from a certificate, or from what an operator typed ("0x..", "4a:01:..").
std::string SerialOf(const X509* cert);
std::string SerialOf(const ASN1_INTEGER* serial);
[[nodiscard]] Result<std::string> ParseSerial(std::string_view text);

// RFC 5280 CRLReason names ("keyCompromise", ...) <-> codes.
std::optional<int> ParseRevocationReason(std::string_view name);
std::string_view RevocationReasonName(int code);

// The revocation of one serial (upper-case hex), if any. May block (database).
using RevocationLookup =
    std::function<Result<std::optional<domain::Revocation>>(const std::string& serial)>;

class CertificateAuthority {
  public:
    // Files under the data directory.
    static std::filesystem::path KeyPath(const std::filesystem::path& data_dir);
    static std::filesystem::path CertificatePath(const std::filesystem::path& data_dir);

    // Creates DATA_DIR/ca/ca-key.pem (0600) and ca-cert.pem; kAlreadyExists if a key is there.
    // An empty passphrase leaves the key unencrypted (still 0600).
    [[nodiscard]] static Result<CertificateAuthority> Create(const std::filesystem::path& data_dir,
                                                             const CaOptions& options,
                                                             std::string_view passphrase,
                                                             const Clock& clock, Random& random);
    // Like Create, but the key is an existing private key in a PKCS#11 token, named by an
    // RFC 7512 URI without PIN (e.g. "pkcs11:token=firmo;object=ca;type=private"); the URI is
    // stored as DATA_DIR/ca/ca-key.uri, the PIN never.
    [[nodiscard]] static Result<CertificateAuthority> CreateInToken(
        const std::filesystem::path& data_dir, const CaOptions& options, std::string_view key_uri,
        std::string_view pin, const Clock& clock, Random& random);

    // When no passphrase is configured, `serve` keeps the CA key encrypted with a random
    // secret in a file of its own (0600, never in a log): beside the data folder, so that a
    // copy of the folder (a backup, a stolen disk image of the volume) does not carry what
    // decrypts the key; DATA_DIR/ca/ca-key.secret when the folder's parent cannot be written
    // (e.g. a systemd unit with ProtectSystem=strict). KeySecretPath is the first place.
    static std::filesystem::path KeySecretPath(const std::filesystem::path& data_dir);
    // The key secret if one exists (beside the data folder, else in DATA_DIR/ca/).
    [[nodiscard]] static Result<std::optional<std::string>> ReadKeySecret(
        const std::filesystem::path& data_dir);
    // The existing key secret, or a new one. Nodes starting together on an empty shared
    // folder agree: each writes its candidate to a file of its own and link()s it into place,
    // which only the first does; the others read the winner's.
    [[nodiscard]] static Result<std::string> ReadOrCreateKeySecret(
        const std::filesystem::path& data_dir, Random& random);

    // kNotFound when not initialised, kUnauthenticated for a wrong passphrase (or, for a key in
    // a token, a wrong PIN, passed as `passphrase`). An empty passphrase uses the key secret
    // when there is one (ReadKeySecret).
    [[nodiscard]] static Result<CertificateAuthority> Load(const std::filesystem::path& data_dir,
                                                           std::string_view passphrase,
                                                           const CaOptions& options = {});

    X509* certificate() const { return cert_.get(); }
    const CaOptions& options() const { return options_; }
    [[nodiscard]] Result<std::string> CertificatePem() const;

    // A certificate for `signer` over `public_key`, valid from now - backdate for
    // options.signer_validity; serial number 16 random bytes; AIA and CRL distribution point
    // from `urls`.
    [[nodiscard]] Result<X509Ptr> Issue(const domain::SignerIdentity& signer, EVP_PKEY* public_key,
                                        const Clock& clock, Random& random,
                                        const CertificateUrls& urls = {}) const;
    // The certificate of the built-in time-stamp authority (RFC 3161 section 2.3: critical
    // extendedKeyUsage timeStamping only), valid from now - backdate for `validity`, never
    // beyond the CA's own notAfter.
    [[nodiscard]] Result<X509Ptr> IssueTimestampingCertificate(
        EVP_PKEY* public_key, std::chrono::seconds validity, const Clock& clock, Random& random,
        const CertificateUrls& urls = {}) const;

    // A DER CRL (v2, CRL number = `now` in seconds, AKI) listing `revoked`, valid from `now`
    // for `next_update`.
    [[nodiscard]] Result<std::string> Crl(const std::vector<domain::Revocation>& revoked,
                                          Timestamp now, std::chrono::seconds next_update) const;
    // The DER OCSPResponse to a DER OCSPRequest (RFC 6960), signed by the CA itself: for each
    // certificate asked about, revoked (with time and reason) if `lookup` says so, unknown when
    // the request names another issuer, good otherwise (the CA keeps no list of what it issued:
    // "good" means "not revoked"). The request's nonce is echoed. kMalformed when `request` is
    // not an OCSPRequest.
    [[nodiscard]] Result<std::string> AnswerOcsp(std::string_view request,
                                                 const RevocationLookup& lookup, Timestamp now,
                                                 std::chrono::seconds next_update) const;

    // The passphrase protecting this data folder's CA key, and so the other keys the node keeps
    // beside it (the time-stamp authority's): `passphrase` when given, else the key secret
    // (ReadKeySecret), else empty (unencrypted).
    [[nodiscard]] static Result<std::string> KeyPassphrase(const std::filesystem::path& data_dir,
                                                           std::string_view passphrase);

  private:
    CertificateAuthority(PkeyPtr key, X509Ptr cert, CaOptions options,
                         std::shared_ptr<void> engine = nullptr)
        : engine_(std::move(engine)),
          key_(std::move(key)),
          cert_(std::move(cert)),
          options_(std::move(options)) {}
    static std::filesystem::path KeyUriPath(const std::filesystem::path& data_dir);
    // Declared before key_: a token key must be released before its engine.
    std::shared_ptr<void> engine_;
    PkeyPtr key_;
    X509Ptr cert_;
    CaOptions options_;
};

}  // namespace firmo::crypto
