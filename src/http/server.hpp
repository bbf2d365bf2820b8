#pragma once
// The HTTP/1.1 server: Boost.Beast parsing on `io_threads` I/O threads, each running its own
// event loop (one io_context per thread: a connection lives on one thread, so it needs no
// strand and no lock), keep-alive, per-phase timeouts, a body limit chosen per request from
// its headers, 100-continue, request ids (X-Request-Id, see request_id.hpp), and graceful
// shutdown: stop accepting, finish in-flight requests, close idle connections. With
// TlsOptions the listener speaks HTTPS only (same sessions over a TLS stream); SIGHUP reloads
// the certificate.
//
// The handler is called on the I/O thread that read the request and answers through a
// Responder, at once or later from any thread: the front door (api/frontend.hpp) runs cheap
// routes right there and hands the others to their lane (http/lanes.hpp). The server itself
// never blocks an I/O thread.

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/error.hpp"
#include "core/metrics.hpp"
#include "http/listener.hpp"
#include "http/message.hpp"
#include "http/tls.hpp"

namespace firmo::http {

// What the front door decides from a request's headers, before any of its body is read.
struct Admission {
    // The largest body allowed (Content-Length beyond it: 413 at once).
    std::size_t body_limit = std::size_t{1024} * 1024;
    // Set: the answer, sent at once; the body is never read (drained for a moment so the client
    // sees the answer) and the connection is closed after it. For 401/403/404/405/415 known
    // from the headers alone.
    std::optional<HttpResponse> refusal;
    // The request's credential (API key, upload token) was checked from its headers. A body of
    // a request that was not counts against ServerOptions::max_unauthenticated_bytes while it
    // is buffered.
    bool authenticated = false;
    // Set: the decision needs blocking work (a session looked up in the database). The server
    // calls it once with a continuation and reads nothing until the continuation is called,
    // exactly once and from any thread, with the final Admission (whose own `defer` is
    // ignored); the request stays valid and untouched by the server until then.
    std::function<void(std::function<void(Admission)> decided)> defer;
};

struct ServerOptions {
    // host, port and tls are for Listen(); a Server made from a Listener takes them from it.
    std::string host = "127.0.0.1";
    unsigned short port = 8080;  // 0: pick a free port (see Server::port())
    int io_threads = 1;          // event loops, one thread each
    std::size_t header_limit = 16 * 1024;
    std::chrono::seconds read_timeout{30};  // the TLS handshake; headers and body of one request
    std::chrono::seconds idle_timeout{60};  // between keep-alive requests
    std::chrono::seconds write_timeout{60};
    std::chrono::seconds shutdown_grace{15};
    // Called on the I/O thread once a request's headers are read (method, target, headers,
    // remote_ip and request_id set; no body): must not block. Default: 1 MiB, unauthenticated.
    std::function<Admission(HttpRequest& request)> admit = [](HttpRequest&) { return Admission{}; };
    // Connections open at once, in total and per client address (the TCP peer, so a reverse
    // proxy is one address: list it in per_ip_exempt); 0: no limit. At the total, the
    // connection waiting for a request the longest is closed to make room; when none waits, or
    // at the per-address limit, the new connection is refused at accept (plain HTTP: a fixed
    // 503 with Retry-After, then close; TLS: close). The total is also kept below what the
    // process's descriptor limit (RLIMIT_NOFILE) leaves after kReservedDescriptors.
    std::size_t max_connections = 10'000;
    std::size_t max_connections_per_ip = 256;
    std::function<bool(std::string_view ip)> per_ip_exempt;  // e.g. trusted proxies
    // Bytes of request bodies being buffered without an authenticated credential, all
    // connections together; a request that would go beyond gets 503 with Retry-After before
    // its body is read. 0: no limit.
    std::size_t max_unauthenticated_bytes = std::size_t{64} * 1024 * 1024;
    std::chrono::seconds busy_retry_after{2};  // Retry-After of the server's own 503s
    // Bodies that may be larger than spill_body_bytes (by Content-Length, or chunked with a
    // larger limit) are received into an anonymous file in spill_dir instead of memory
    // (HttpRequest::body_file); empty: always in memory.
    std::filesystem::path spill_dir;
    std::size_t spill_body_bytes = std::size_t{1024} * 1024;
    // Where the server counts its refusals (firmo_http_connections_*,
    // firmo_http_unauthenticated_*); null: not counted.
    metrics::Registry* metrics = nullptr;
    std::optional<TlsOptions> tls;  // set: HTTPS only on this port
};

// Descriptors kept free for everything but client connections (database, blob files, logs,
// outgoing HTTP): the connection limit stays this far below RLIMIT_NOFILE.
constexpr std::size_t kReservedDescriptors = 64;

// The connection limit that the descriptor limit `nofile` allows: `configured` (0: none),
// lowered to nofile - max(kReservedDescriptors, nofile / 8) when that is smaller.
std::size_t EffectiveMaxConnections(std::size_t configured, std::size_t nofile);

class Connection;

// Answers one request. Call it once, from any thread; the request it came with stays valid
// until then. Destroyed without having answered (a handler's bug, an exception on a pool
// thread), it answers 500 itself, so a connection is never left hanging.
class Responder {
  public:
    Responder() = default;
    Responder(Responder&& other) noexcept = default;
    Responder& operator=(Responder&& other) noexcept;
    ~Responder();

    void operator()(HttpResponse response);
    explicit operator bool() const { return static_cast<bool>(connection_); }

  private:
    friend class Connection;
    explicit Responder(std::shared_ptr<Connection> connection)
        : connection_(std::move(connection)) {}
    std::shared_ptr<Connection> connection_;
};

using AsyncHandler = std::function<void(HttpRequest& request, Responder respond)>;
using SyncHandler = std::function<HttpResponse(HttpRequest& request)>;

class Server {
  public:
    // Listens when Listen() is called.
    Server(ServerOptions options, AsyncHandler handler);
    // A handler that answers at once, on the I/O thread: it must not block (tests, tools).
    Server(ServerOptions options, SyncHandler handler);
    // Serves on a socket already bound and listening (with its TLS context, when HTTPS), so
    // the handler may be built knowing the port; no Listen() needed.
    Server(ServerOptions options, Listener listener, AsyncHandler handler);
    Server(ServerOptions options, Listener listener, SyncHandler handler);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Loads the TLS certificate and key (when configured), binds and listens; the error says
    // why not (bad certificate or key file, port in use, bad address). As Listener::Open.
    [[nodiscard]] Result<void> Listen();
    unsigned short port() const;
    // Serves until Stop() or SIGTERM/SIGINT, then drains and returns. With TLS, SIGHUP calls
    // ReloadTls() (from the moment Listen() succeeded). Runs the I/O threads: this one and
    // io_threads - 1 more.
    void Run();
    // Thread-safe; may be called from a signal handler context via the I/O loop.
    void Stop();

    // Reads the certificate and key files again; connections accepted from now on use them,
    // open ones keep the certificate they started with. When the files are bad the current
    // certificate stays (the error says why, and is logged). Thread-safe.
    [[nodiscard]] Result<TlsCertificateInfo> ReloadTls();
    // The certificate being served; nullopt without TLS.
    std::optional<TlsCertificateInfo> tls_certificate() const;

    struct Impl;  // implementation detail, public only for the session code in server.cpp

  private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace firmo::http
