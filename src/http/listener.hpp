#pragma once
// A bound, listening TCP socket and, for HTTPS, the TLS context loaded from the configured
// files. Opened before the Server and its handlers exist, so that what only the bind decides
// (the port the OS picked for ":0", hence the public URL) is known when the handlers are built,
// and a bad certificate or a busy port stops the program before anything else is done.
// Movable, not copyable; the socket is closed unless a Server adopted it.

#include <memory>
#include <optional>
#include <string>

#include "core/error.hpp"
#include "http/tls.hpp"

namespace firmo::http {

struct TlsContext;

struct ListenOptions {
    std::string host = "127.0.0.1";  // an IPv4 or IPv6 address (no name lookup)
    unsigned short port = 8080;      // 0: any free port (see Listener::port())
    std::optional<TlsOptions> tls;   // set: HTTPS only on this socket
};

class Listener {
  public:
    // Loads the TLS certificate and key (when configured), binds and listens. kInvalidArgument
    // for a bad address or TLS file (the message names the file and the problem), kUnavailable
    // when the address cannot be bound (port in use, address not on this host).
    [[nodiscard]] static Result<Listener> Open(const ListenOptions& options);

    Listener(Listener&& other) noexcept;
    Listener& operator=(Listener&& other) noexcept;
    Listener(const Listener&) = delete;
    Listener& operator=(const Listener&) = delete;
    ~Listener();

    unsigned short port() const { return port_; }
    bool ipv6() const { return ipv6_; }
    const std::optional<TlsOptions>& tls_options() const { return tls_options_; }
    const std::shared_ptr<TlsContext>& tls_context() const { return tls_; }

    // Hands the socket over (the caller closes it from now on); -1 once released.
    int Release();

  private:
    Listener(int fd, bool ipv6, unsigned short port, std::optional<TlsOptions> tls_options,
             std::shared_ptr<TlsContext> tls);

    int fd_ = -1;
    bool ipv6_ = false;
    unsigned short port_ = 0;
    std::optional<TlsOptions> tls_options_;
    std::shared_ptr<TlsContext> tls_;
};

}  // namespace firmo::http
