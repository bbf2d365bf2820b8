#pragma once
// Port: the trust service that turns the digest of a document into a signature for a person.
// The built-in CA (src/crypto) issues a short-lived certificate per signing session; a remote
// QTSP (CSC API) can implement the same port. Only a SHA-256 digest ever crosses this port.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace firmo::domain {

// Who a signature is made for, as their certificate will name them.
struct SignerIdentity {
    std::string full_name;      // certificate commonName, e.g. "Mario Rossi"
    std::string given_name;     // optional (givenName)
    std::string surname;        // optional (surname)
    std::string serial_number;  // ETSI EN 319 412-1 style, e.g. "TINIT-RSSMRA80A01H501U";
                                // only when an eID proved it (domain/certificate_subject.hpp)
    std::string country;        // optional ISO 3166 alpha-2, e.g. "IT"
    std::string email;          // optional
    std::string phone;          // optional, E.164 (telephoneNumber)
    friend bool operator==(const SignerIdentity&, const SignerIdentity&) = default;
};

// One signer's credential for one ceremony: every document of the ceremony is signed with it.
class SigningSession {
  public:
    virtual ~SigningSession() = default;
    SigningSession() = default;
    SigningSession(const SigningSession&) = delete;
    SigningSession& operator=(const SigningSession&) = delete;

    // `sha256` is the 32-byte digest of the signed byte ranges. Returns a DER CMS ContentInfo
    // (SignedData, detached, CAdES baseline B-B attributes, certificate chain included).
    [[nodiscard]] virtual Result<std::string> SignDigest(std::string_view sha256) = 0;
    // An upper bound of SignDigest's output size, so the PDF can reserve room for it.
    virtual std::size_t MaxSignatureSize() const = 0;
    // The signer's certificate, DER (for display and audit).
    virtual std::string CertificateDer() const = 0;
};

class TrustService {
  public:
    virtual ~TrustService() = default;
    TrustService() = default;
    TrustService(const TrustService&) = delete;
    TrustService& operator=(const TrustService&) = delete;

    // Thread-safe. May block (key generation, network): never call on an I/O thread.
    [[nodiscard]] virtual Result<std::unique_ptr<SigningSession>> OpenSession(
        const SignerIdentity& signer) = 0;
};

}  // namespace firmo::domain
