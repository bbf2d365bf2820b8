#pragma once
// Offline validation of a certificate chain at a point in time (the PAdES validation model,
// ETSI EN 319 102-1 5.6.2): the chain must lead to a trust anchor with every certificate valid
// at that time, and the revocation status of each certificate below the anchor comes only from
// the validation data a signed document carries (its DSS, the CMS revocation attributes):
// OCSP responses and CRLs signed by the certificate's issuer (or by a responder it delegated).
// Nothing is fetched. Thread-safe (no shared state); never throws.

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "crypto/openssl_util.hpp"
#include "crypto/validation_data.hpp"

namespace firmo::crypto {

class TrustAnchors;  // crypto/cms_verify.hpp

// The DER items a verifier may use (certificates, OCSPResponses, CertificateLists) are those
// the signing side collects for a DSS (crypto/validation_data.hpp).
using ValidationMaterial = ValidationData;

// What CheckChainAt found.
struct ChainAtTime {
    bool trusted = false;  // a chain to an anchor, each certificate valid at `at`
    std::string error;     // OpenSSL's reason when not trusted
    // Every certificate below the anchor has a status from the material (good, or revoked
    // after `at`): what PAdES B-LT adds to a signature.
    bool revocation_known = false;
    // A certificate of the chain revoked at or before `at`: the chain is not valid then.
    std::optional<Timestamp> revoked_at;
    // Revoked, but only after `at`: the chain was valid at `at`.
    std::optional<Timestamp> revoked_after;
    // The earliest notAfter of the chain (when it stops proving anything).
    std::optional<Timestamp> expires;
    // The OCSP responses and CRLs (DER) the status came from.
    std::set<std::string> used;
    // The chain (DER, the leaf first, the anchor last) when trusted.
    std::vector<std::string> certificates;
    bool valid() const { return trusted && !revoked_at; }
};

enum class ChainPurpose { kSigning, kTimestamping };

// The chain of `leaf` (with `untrusted` and the material's certificates as intermediates) up
// to `anchors`, checked at `at`, with revocation from `material`: a certificate revoked at or
// before `at` makes it invalid. A status is known (B-LT) when the response or CRL was issued
// at or after `fresh_from` (the time of what the chain signed; `at` when not given) or was in
// force then. `untrusted` may be null.
ChainAtTime CheckChainAt(X509* leaf, STACK_OF(X509) * untrusted, const TrustAnchors& anchors,
                         const ValidationMaterial& material, Timestamp at, ChainPurpose purpose,
                         std::optional<Timestamp> fresh_from = std::nullopt);

// The revocation values a CMS SignerInfo carries: Adobe's revocationInfoArchival signed
// attribute (1.2.840.113583.1.1.8: CRLs and OCSP responses) and CAdES revocation-values
// (id-aa-ets-revocationValues, unsigned). Empty when there are none or they cannot be read.
ValidationMaterial RevocationValuesOf(std::string_view cms_der);

}  // namespace firmo::crypto
