#pragma once
// HTTPS served by Firmo itself: what the operator configures (certificate chain and key files,
// lowest protocol version) and what the server reports about the certificate it serves.
// Plain values only; the OpenSSL context is built in tls_context.hpp.

#include <chrono>
#include <string>

#include "core/clock.hpp"

namespace firmo::http {

enum class TlsVersion { kTls12, kTls13 };

struct TlsOptions {
    std::string cert_file;  // PEM: the server's certificate first, then its intermediates
    std::string key_file;   // PEM: the certificate's private key, unencrypted, not world-readable
    TlsVersion min_version = TlsVersion::kTls12;
};

// The served certificate, as logged at startup and after each reload.
struct TlsCertificateInfo {
    std::string subject;  // RFC 2253 ("CN=sign.example.org,O=Example")
    std::string issuer;
    Timestamp not_after;
    int chain_length = 1;  // the certificate and the intermediates sent with it
};

// Operators are warned this long before the certificate expires.
inline constexpr std::chrono::hours kCertificateExpiryWarning{14 * 24};

enum class CertificateExpiry { kValid, kExpiresSoon, kExpired };

inline CertificateExpiry ExpiryAt(const TlsCertificateInfo& certificate, Timestamp now) {
    if (certificate.not_after <= now) return CertificateExpiry::kExpired;
    if (certificate.not_after - now <= kCertificateExpiryWarning) {
        return CertificateExpiry::kExpiresSoon;
    }
    return CertificateExpiry::kValid;
}

}  // namespace firmo::http
