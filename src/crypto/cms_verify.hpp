#pragma once
// Verification of a detached CMS SignedData (the /Contents of a PDF signature): signature
// over the signed attributes, message digest against a digest the caller computed over the
// signed bytes, ESS signing-certificate(-v2) binding, and the certificate chain against
// configured trust anchors at a given time. Never throws; malformed input is a report.

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "crypto/chain_at_time.hpp"
#include "crypto/openssl_util.hpp"

namespace firmo::crypto {

// The certificates a verifier trusts as roots. Immutable; share freely between threads.
class TrustAnchors {
  public:
    TrustAnchors();
    // Every certificate in a PEM text.
    [[nodiscard]] static Result<TrustAnchors> FromPem(std::string_view pem);
    [[nodiscard]] static Result<TrustAnchors> FromFiles(
        const std::vector<std::filesystem::path>& pem_files);
    std::size_t size() const;
    STACK_OF(X509) * certificates() const { return certs_.get(); }

  private:
    std::shared_ptr<STACK_OF(X509)> certs_;
};

struct CmsVerification {
    // Signed attributes present (PAdES requires them; RFC 5652 allows a signature without,
    // made over the content's digest directly).
    bool has_signed_attributes = false;
    bool signature_valid = false;         // with the signer's key, over what it signs
    bool digest_matches = false;          // messageDigest == the digest given
    bool signing_certificate_ok = false;  // ESS attribute present and naming the signer
    bool chain_trusted = false;
    std::string chain_error;  // OpenSSL's reason when not trusted
    std::string signer_common_name;
    std::string signer_subject;        // RFC 2253
    std::string signer_serial_number;  // the subject's serialNumber (e.g. TINIT-...)
    std::string signer_certificate_der;
    std::optional<Timestamp> cms_signing_time;  // signingTime attribute, when present
    // PAdES B-T: an RFC 3161 token over the signature value (unsigned attribute).
    bool timestamped = false;
    bool timestamp_valid = false;  // token signature, imprint, and TSA chain to an anchor
    std::optional<Timestamp> timestamp_time;
    std::string timestamp_authority;    // the TSA certificate's subject
    std::vector<std::string> problems;  // plain English, one per failed check
    // The validation model (crypto/chain_at_time.hpp): when the signer's chain was checked
    // and what that found (revocation, expiry), and the same for the time-stamp's authority.
    std::optional<Timestamp> chain_time;
    ChainAtTime chain;
    ChainAtTime timestamp_chain;
};

// When, and with which embedded validation data, the chains of a signature are checked.
struct CmsCheckTimes {
    // The signer's chain at this time, whatever the signature carries.
    std::optional<Timestamp> signer;
    // Else at the time a valid signature time-stamp proves, else at this one (a later proof of
    // existence, or the validation time).
    Timestamp without_timestamp;
    // The signature time-stamp's authority chain (the next proof of existence, or the
    // validation time); the current time when not given.
    std::optional<Timestamp> timestamp;
    const ValidationMaterial* material = nullptr;  // revocation data; none when null
};

class DetachedCms {
  public:
    // Fails with kMalformed when `der` is not a CMS SignedData with one signer.
    [[nodiscard]] static Result<DetachedCms> Parse(std::string_view der);

    // The digest of `pieces` (in order) with the signer's digest algorithm.
    [[nodiscard]] Result<std::string> DigestOf(const std::vector<std::string_view>& pieces) const;
    std::string DigestName() const;

    // `content_digest` from DigestOf. The signer's chain is checked at `forced_time` when
    // given, else at the time of a valid signature time-stamp, else at `claimed_time` (all a
    // B-B signature has).
    CmsVerification Verify(std::string_view content_digest, const TrustAnchors& anchors,
                           Timestamp claimed_time,
                           std::optional<Timestamp> forced_time = std::nullopt) const;
    // The same with the times and validation data of the PAdES validation model.
    CmsVerification Verify(std::string_view content_digest, const TrustAnchors& anchors,
                           const CmsCheckTimes& times) const;

  private:
    explicit DetachedCms(CmsPtr cms) : cms_(std::move(cms)) {}
    CmsPtr cms_;
};

// A document time-stamp (PAdES B-LTA, /SubFilter /ETSI.RFC3161): the RFC 3161 token in
// `token_der` must stamp the digest of `pieces` and chain to `anchors`. The TSA is reported as
// the signer; timestamp_time is the time it proves. The authority's chain is checked at `at`
// (the current time when not given), with revocation from `material` when given.
CmsVerification VerifyTimestampToken(std::string_view token_der,
                                     const std::vector<std::string_view>& pieces,
                                     const TrustAnchors& anchors,
                                     std::optional<Timestamp> at = std::nullopt,
                                     const ValidationMaterial* material = nullptr);

}  // namespace firmo::crypto
