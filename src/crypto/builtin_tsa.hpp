#pragma once
// Firmo's built-in RFC 3161 time-stamp authority: a key and a certificate issued by the
// built-in CA (critical extendedKeyUsage timeStamping), kept in DATA_DIR/tsa/ (key encrypted
// like the CA's, mode 0600). It answers TimeStampReqs over HTTP (POST /pki/tsa) and, as a
// TimestampAuthority, in process for the signatures the server makes. Time comes from the
// injected Clock. Immutable once loaded: one instance may be shared by threads. Responding
// signs once (no I/O, no blocking).
//
// What it proves: that the stamped hash existed at the node's clock time, as far as one trusts
// the node (its clock and the CA key). It is not a qualified TSA: docs/OPERATIONS.md, "Trust
// model", says when to configure tsa.url instead.

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/random.hpp"
#include "crypto/certificate_authority.hpp"
#include "crypto/openssl_util.hpp"
#include "crypto/timestamp.hpp"

namespace firmo::crypto {

struct TsaOptions {
    std::chrono::seconds certificate_validity{std::chrono::days(5 * 365)};
    // The policy the tokens name (TSTInfo.policy). Firmo's own, under the UUID arc (X.667):
    // it promises nothing beyond docs/OPERATIONS.md's trust model.
    std::string policy_oid = "2.25.170545283596425815340016302066396093585";
    CertificateUrls urls;  // AIA and CRL distribution point of the TSA certificate
};

class BuiltinTsa final : public TimestampAuthority {
  public:
    static std::filesystem::path KeyPath(const std::filesystem::path& data_dir);
    static std::filesystem::path CertificatePath(const std::filesystem::path& data_dir);

    // Loads DATA_DIR/tsa, or creates it with a certificate from `ca` when absent (nodes
    // starting together agree: the folder appears whole, the first one wins). `passphrase`
    // protects the key (CertificateAuthority::KeyPassphrase).
    [[nodiscard]] static Result<std::shared_ptr<BuiltinTsa>> LoadOrCreate(
        const std::filesystem::path& data_dir, const CertificateAuthority& ca,
        std::string_view passphrase, const Clock& clock, Random& random,
        const TsaOptions& options = {});

    // The DER TimeStampResp to a DER TimeStampReq: granted with a token signed now, or a
    // rejection (RFC 3161 PKIStatus) for a request it cannot serve (e.g. an unknown hash
    // algorithm). kMalformed when `query` is not a TimeStampReq at all.
    [[nodiscard]] Result<std::string> Respond(std::string_view query) const;
    // TimestampAuthority: the same, in process.
    [[nodiscard]] Result<std::string> Exchange(std::string_view request) override {
        return Respond(request);
    }

    X509* certificate() const { return cert_.get(); }
    X509* ca_certificate() const { return ca_cert_.get(); }
    // The TSA certificate then the CA's, PEM.
    [[nodiscard]] Result<std::string> ChainPem() const;

  private:
    BuiltinTsa(PkeyPtr key, X509Ptr cert, X509Ptr ca_cert, std::string policy_oid,
               const Clock& clock, Random& random)
        : key_(std::move(key)),
          cert_(std::move(cert)),
          ca_cert_(std::move(ca_cert)),
          policy_oid_(std::move(policy_oid)),
          clock_(clock),
          random_(random) {}

    PkeyPtr key_;
    X509Ptr cert_;
    X509Ptr ca_cert_;
    std::string policy_oid_;
    const Clock& clock_;
    Random& random_;
};

}  // namespace firmo::crypto
