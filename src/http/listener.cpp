#include "http/listener.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cerrno>
#include <cstring>
#include <utility>

#include "http/tls_context.hpp"

namespace firmo::http {

namespace asio = boost::asio;

Listener::Listener(int fd, bool ipv6, unsigned short port, std::optional<TlsOptions> tls_options,
                   std::shared_ptr<TlsContext> tls)
    : fd_(fd),
      ipv6_(ipv6),
      port_(port),
      tls_options_(std::move(tls_options)),
      tls_(std::move(tls)) {}

Listener::Listener(Listener&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      ipv6_(other.ipv6_),
      port_(other.port_),
      tls_options_(std::move(other.tls_options_)),
      tls_(std::move(other.tls_)) {}

Listener& Listener::operator=(Listener&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = std::exchange(other.fd_, -1);
        ipv6_ = other.ipv6_;
        port_ = other.port_;
        tls_options_ = std::move(other.tls_options_);
        tls_ = std::move(other.tls_);
    }
    return *this;
}

Listener::~Listener() {
    if (fd_ >= 0) ::close(fd_);
}

int Listener::Release() { return std::exchange(fd_, -1); }

Result<Listener> Listener::Open(const ListenOptions& options) {
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(options.host, ec);
    if (ec) return Fail(ErrorCode::kInvalidArgument, "bad listen address " + options.host);
    std::shared_ptr<TlsContext> tls;
    if (options.tls) {
        FIRMO_TRY(tls, LoadTlsContext(*options.tls));
    }
    const asio::ip::tcp::endpoint endpoint(address, options.port);
    const auto failed = [&](int error) {
        return Fail(ErrorCode::kUnavailable, "cannot listen on " + options.host + ":" +
                                                 std::to_string(options.port) + ": " +
                                                 std::strerror(error));
    };
    const int fd = ::socket(endpoint.protocol().family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return failed(errno);
    // Closes the socket on every early return below.
    Listener listener(fd, address.is_v6(), options.port, options.tls, std::move(tls));
    const int on = 1;
    if (::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
        ::bind(fd, endpoint.data(), static_cast<socklen_t>(endpoint.size())) != 0 ||
        ::listen(fd, SOMAXCONN) != 0) {
        return failed(errno);
    }
    sockaddr_storage bound{};
    socklen_t length = sizeof bound;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length) != 0) return failed(errno);
    listener.port_ =
        ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<const sockaddr_in6*>(&bound)->sin6_port
                                          : reinterpret_cast<const sockaddr_in*>(&bound)->sin_port);
    return listener;
}

}  // namespace firmo::http
