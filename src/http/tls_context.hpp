#pragma once
// Builds the server's TLS context from the configured PEM files with Firmo's policy: TLS 1.2
// or 1.3 only, ECDHE + AEAD suites for TLS 1.2, the server's cipher order, no renegotiation,
// ALPN "http/1.1". A context is never changed once built: a reload builds a new one, and the
// connections opened under the old one keep it (shared_ptr) until they end.

#include <boost/asio/ssl/context.hpp>
#include <memory>

#include "core/error.hpp"
#include "http/tls.hpp"

namespace firmo::http {

struct TlsContext {
    TlsContext();  // throws boost::system::system_error when OpenSSL cannot make a context

    boost::asio::ssl::context ssl;
    TlsCertificateInfo certificate;
};

// kInvalidArgument names the file and what is wrong with it: missing or unreadable, no PEM
// certificate, chain out of order, key readable by every user, encrypted key, key that does
// not match the certificate.
[[nodiscard]] Result<std::shared_ptr<TlsContext>> LoadTlsContext(const TlsOptions& options);

}  // namespace firmo::http
