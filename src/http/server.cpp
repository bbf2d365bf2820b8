#include "http/server.hpp"

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <csignal>
#include <cstdlib>
#include <limits>
#include <mutex>
#include <thread>
#include <type_traits>
#include <unordered_set>
#include <vector>

#include "core/log.hpp"
#include "http/tls_context.hpp"

namespace firmo::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

class Connection;

// A TLS peer that neither answers our close_notify nor closes is given this long.
constexpr std::chrono::seconds kTlsShutdownTimeout{5};

std::string_view ToStd(beast::string_view s) { return {s.data(), s.size()}; }

struct Server::Impl {
    ServerOptions options;
    RequestHandler handler;
    // Declared before ioc: sessions still queued in the io_context are destroyed with it, and
    // their destructors unregister here, so these must outlive it.
    std::atomic<int> busy{0};  // requests being received, handled or written
    std::mutex sessions_mu;
    std::unordered_set<Connection*> sessions;
    mutable std::mutex tls_mu;
    std::shared_ptr<TlsContext> tls;  // for new connections; null without TLS
    asio::io_context ioc;
    tcp::acceptor acceptor{ioc};
    asio::thread_pool workers;
    asio::signal_set signals{ioc};
    std::atomic<bool> stopping{false};
    std::unique_ptr<asio::steady_timer> drain_timer;
    std::chrono::steady_clock::time_point drain_deadline;

    Impl(ServerOptions o, RequestHandler h)
        : options(std::move(o)),
          handler(std::move(h)),
          workers(static_cast<std::size_t>(std::max(1, options.worker_threads))) {}

    void Adopt(Listener listener);
    void Accept();
    void WaitForSignal();
    Result<TlsCertificateInfo> ReloadTls();
    void BeginStop();
    void Drain();
    std::shared_ptr<TlsContext> CurrentTls() const {
        std::lock_guard lock(tls_mu);
        return tls;
    }
};

// What the server needs of a connection whatever its stream: to close it at shutdown when it
// is not busy with a request. Registers itself for that while it lives.
class Connection : public std::enable_shared_from_this<Connection> {
  public:
    explicit Connection(Server::Impl& server) : server_(server) {
        std::lock_guard lock(server_.sessions_mu);
        server_.sessions.insert(this);
    }
    virtual ~Connection() {
        std::lock_guard lock(server_.sessions_mu);
        server_.sessions.erase(this);
    }
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    virtual void CloseIfIdle() = 0;

  protected:
    Server::Impl& server_;
};

// One HTTP/1.1 connection over a plain TCP stream or a TLS stream: the same code for both,
// the few differences (handshake, half-close, close_notify) under `if constexpr (kTls)`.
template <class Stream>
class Session final : public Connection {
    static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

  public:
    Session(tcp::socket socket, Server::Impl& server) requires(!kTls)
        : Connection(server), stream_(std::move(socket)) {}
    Session(tcp::socket socket, std::shared_ptr<TlsContext> tls,
            Server::Impl& server) requires(kTls)
        : Connection(server), tls_(std::move(tls)), stream_(std::move(socket), tls_->ssl) {}

    void Start() {
        asio::dispatch(stream_.get_executor(), [self = Self()] {
            if constexpr (kTls) {
                self->Handshake();
            } else {
                self->ReadHeader();
            }
        });
    }

    // Called on shutdown: closes the connection if it is waiting for a request.
    void CloseIfIdle() override {
        asio::post(stream_.get_executor(), [self = Self()] {
            if (!self->busy_) {
                beast::error_code ec;
                self->Tcp().socket().shutdown(tcp::socket::shutdown_both, ec);
                self->Tcp().socket().close(ec);
            }
        });
    }

  private:
    std::shared_ptr<Session> Self() {
        return std::static_pointer_cast<Session>(shared_from_this());
    }
    beast::tcp_stream& Tcp() { return beast::get_lowest_layer(stream_); }

    std::string RemoteIp() {
        beast::error_code ec;
        const auto endpoint = Tcp().socket().remote_endpoint(ec);
        return ec ? std::string() : endpoint.address().to_string();
    }

    // A client that connects and never completes the handshake is cut off like one that never
    // sends its request (read_timeout).
    void Handshake() {
        Tcp().expires_after(server_.options.read_timeout);
        stream_.async_handshake(asio::ssl::stream_base::server,
                                beast::bind_front_handler(&Session::OnHandshake, Self()));
    }

    void OnHandshake(beast::error_code ec) {
        if (ec) {
            // Plain-HTTP clients, scanners, old TLS versions, clients that distrust the
            // certificate: the client's problem, not an error of the server.
            log::Debug("tls_handshake_failed",
                       {{"client_ip", RemoteIp()}, {"error", ec.message()}});
            return Close();
        }
        ReadHeader();
    }

    void ReadHeader() {
        parser_.emplace();
        parser_->header_limit(static_cast<std::uint32_t>(server_.options.header_limit));
        // Beast checks Content-Length against the limit while parsing the headers; the real
        // limit depends on the target, so it is set in OnHeader.
        parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
        Tcp().expires_after(first_ ? server_.options.read_timeout : server_.options.idle_timeout);
        first_ = false;
        bhttp::async_read_header(stream_, buffer_, *parser_,
                                 beast::bind_front_handler(&Session::OnHeader, Self()));
    }

    void OnHeader(beast::error_code ec, std::size_t) {
        if (ec) return OnReadError(ec);
        if (server_.stopping) return Close();
        MarkBusy();  // from here until the answer is written, shutdown waits for this request
        auto& req = parser_->get();
        const std::size_t limit =
            server_.options.body_limit(ToStd(req.method_string()), ToStd(req.target()));
        parser_->body_limit(limit);
        if (parser_->content_length() && *parser_->content_length() > limit) {
            return SendError(ErrorCode::kPayloadTooLarge,
                             "the request body is larger than " + std::to_string(limit) + " bytes");
        }
        Tcp().expires_after(server_.options.read_timeout);
        if (beast::iequals(req[bhttp::field::expect], "100-continue")) {
            auto cont = std::make_shared<bhttp::response<bhttp::empty_body>>(
                bhttp::status::continue_, req.version());
            bhttp::async_write(stream_, *cont,
                               [self = Self(), cont](beast::error_code wec, std::size_t) {
                                   if (wec) return self->Close();
                                   self->ReadBody();
                               });
            return;
        }
        ReadBody();
    }

    void ReadBody() {
        bhttp::async_read(stream_, buffer_, *parser_,
                          beast::bind_front_handler(&Session::OnBody, Self()));
    }

    void OnReadError(beast::error_code ec) {
        if (ec == bhttp::error::body_limit) {
            return SendError(ErrorCode::kPayloadTooLarge, "the request body is too large");
        }
        if (ec == bhttp::error::header_limit) {
            return SendError(ErrorCode::kHeadersTooLarge, "the request headers are too large");
        }
        if (ec == bhttp::error::end_of_stream) return Shutdown();  // the client is done
        if (ec == asio::error::operation_aborted || ec == beast::error::timeout ||
            ec == asio::error::connection_reset || ec == asio::error::eof ||
            ec == asio::error::bad_descriptor || ec == asio::ssl::error::stream_truncated) {
            return Close();
        }
        if (ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category()) {
            return SendError(ErrorCode::kMalformed, "malformed HTTP request: " + ec.message());
        }
        Close();
    }

    void OnBody(beast::error_code ec, std::size_t) {
        if (ec) return OnReadError(ec);
        auto msg = parser_->release();
        keep_alive_ = msg.keep_alive();
        auto request = std::make_shared<HttpRequest>();
        request->method = std::string(ToStd(msg.method_string()));
        request->target = std::string(ToStd(msg.target()));
        const auto q = request->target.find('?');
        request->path = request->target.substr(0, q);
        if (q != std::string::npos)
            request->query = ParseQuery(std::string_view(request->target).substr(q + 1));
        for (const auto& field : msg) {
            request->headers[std::string(ToStd(field.name_string()))] =
                std::string(ToStd(field.value()));
        }
        request->body = std::move(msg.body());
        request->remote_ip = RemoteIp();
        const bool head = request->method == "HEAD";

        Tcp().expires_never();
        // The handler may block: run it on the worker pool, then write from the strand.
        asio::post(server_.workers, [self = Self(), request, head] {
            auto response = std::make_shared<HttpResponse>();
            try {
                *response = self->server_.handler(*request);
            } catch (...) {
                // The handler's own last-resort catch should have answered; never let an
                // exception end a pool thread (and so the process).
                log::Error("handler_escaped_exception", {{"path", request->path}});
                *response = ProblemResponse(Error{ErrorCode::kInternal, ""});
            }
            asio::post(self->stream_.get_executor(),
                       [self, response, head] { self->Write(std::move(*response), head); });
        });
    }

    // The server's own errors (before any handler ran): problem+json from the one error table.
    void SendError(ErrorCode code, const std::string& detail) {
        MarkBusy();
        HttpResponse r = ProblemResponse(Error{code, detail});
        r.Set("X-Content-Type-Options", "nosniff");
        r.Set("Cache-Control", "no-store");
        r.close = true;  // the rest of the request is unread: the connection cannot be reused
        keep_alive_ = false;
        linger_ = true;
        Write(std::move(r), false);
    }

    void Write(HttpResponse r, bool head) {
        auto res = std::make_shared<bhttp::response<bhttp::string_body>>();
        res->version(11);
        res->result(static_cast<unsigned>(r.status));
        res->set(bhttp::field::server, "firmo");
        for (auto& [k, v] : r.headers) res->insert(k, v);
        res->body() = std::move(r.body);
        const bool close = r.close || !keep_alive_ || server_.stopping;
        res->keep_alive(!close);
        res->prepare_payload();
        if (head) res->body().clear();  // Content-Length stays that of the GET
        Tcp().expires_after(server_.options.write_timeout);
        bhttp::async_write(stream_, *res,
                           [self = Self(), res, close](beast::error_code ec, std::size_t) {
                               self->MarkIdle();
                               if (ec) return self->Close();
                               if (close) return self->linger_ ? self->Linger() : self->Shutdown();
                               self->ReadHeader();
                           });
    }

    // After an early answer (413, 400) the client may still be sending its body; closing at
    // once would reset the connection before it reads our answer. Drain for a while first.
    // Over TLS the TCP half-close is left out: data after it would look like truncation.
    void Linger() {
        if constexpr (!kTls) {
            beast::error_code ec;
            Tcp().socket().shutdown(tcp::socket::shutdown_send, ec);
        }
        Tcp().expires_after(std::chrono::seconds(5));
        linger_buffer_.resize(64 * 1024);
        DrainSome();
    }

    void DrainSome() {
        stream_.async_read_some(asio::buffer(linger_buffer_),
                                [self = Self()](beast::error_code ec, std::size_t) {
                                    if (ec) return self->Close();
                                    self->DrainSome();
                                });
    }

    // Ends a connection in good standing: over TLS our close_notify goes first (bounded: a peer
    // that has gone away or never answers only makes it fail), then the socket is closed.
    void Shutdown() {
        if constexpr (kTls) {
            MarkIdle();
            Tcp().expires_after(kTlsShutdownTimeout);
            stream_.async_shutdown([self = Self()](beast::error_code) { self->Close(); });
        } else {
            Close();
        }
    }

    void MarkBusy() {
        if (busy_) return;
        busy_ = true;
        ++server_.busy;
    }
    void MarkIdle() {
        if (!busy_) return;
        busy_ = false;
        --server_.busy;
    }

    void Close() {
        MarkIdle();
        beast::error_code ec;
        Tcp().socket().shutdown(tcp::socket::shutdown_send, ec);
        Tcp().socket().close(ec);
    }

    // Declared before the stream, which uses it: this connection's context stays alive after a
    // reload replaced it for new connections.
    std::shared_ptr<TlsContext> tls_;
    Stream stream_;
    beast::flat_buffer buffer_;
    std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
    bool keep_alive_ = true;
    bool linger_ = false;
    std::vector<char> linger_buffer_;
    bool busy_ = false;
    bool first_ = true;
};

void Server::Impl::Accept() {
    acceptor.async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
        if (ec) {
            if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
            log::Warn("accept_failed", {{"error", ec.message()}});
        } else if (auto context = CurrentTls()) {
            try {
                std::make_shared<Session<TlsStream>>(std::move(socket), std::move(context), *this)
                    ->Start();
            } catch (const boost::system::system_error& e) {  // SSL_new failed: out of memory
                log::Warn("tls_session_failed", {{"error", e.what()}});
            }
        } else {
            std::make_shared<Session<PlainStream>>(std::move(socket), *this)->Start();
        }
        if (!stopping) Accept();
    });
}

void Server::Impl::WaitForSignal() {
    signals.async_wait([this](beast::error_code ec, int number) {
        if (ec) return;
        if (number != SIGHUP) return BeginStop();
        // Reading files is blocking work: not on an I/O thread.
        asio::post(workers, [this] { (void)ReloadTls(); });  // logs its outcome
        WaitForSignal();
    });
}

void Server::Impl::BeginStop() {
    if (stopping.exchange(true)) return;
    log::Info("server_stopping", {{"in_flight", std::to_string(busy.load())}});
    beast::error_code ec;
    acceptor.close(ec);
    signals.cancel(ec);
    drain_deadline = std::chrono::steady_clock::now() + options.shutdown_grace;
    drain_timer = std::make_unique<asio::steady_timer>(ioc);
    Drain();
}

void Server::Impl::Drain() {
    {
        std::lock_guard lock(sessions_mu);
        // A session may be mid-destruction (its count is 0, its destructor waits for this
        // mutex): only sessions still alive get the call.
        for (Connection* s : sessions) {
            if (auto alive = s->weak_from_this().lock()) alive->CloseIfIdle();
        }
    }
    if (busy == 0 || std::chrono::steady_clock::now() >= drain_deadline) {
        {
            std::lock_guard lock(sessions_mu);
            if (busy == 0 && !sessions.empty()) {
                // Idle sessions are closing; give them one more tick.
            }
        }
        if (busy == 0) {
            drain_timer->expires_after(std::chrono::milliseconds(50));
            drain_timer->async_wait([this](beast::error_code) { ioc.stop(); });
            return;
        }
        log::Warn("shutdown_grace_exceeded", {{"in_flight", std::to_string(busy.load())}});
        ioc.stop();
        return;
    }
    drain_timer->expires_after(std::chrono::milliseconds(20));
    drain_timer->async_wait([this](beast::error_code ec) {
        if (!ec) Drain();
    });
}

namespace {

// Startup and every reload say which certificate is served and warn before it expires.
void LogCertificate(std::string_view event, const TlsCertificateInfo& certificate,
                    const TlsOptions& options) {
    const std::string not_after = FormatRfc3339(certificate.not_after);
    log::Info(event, {{"subject", certificate.subject},
                      {"issuer", certificate.issuer},
                      {"not_after", not_after},
                      {"chain_length", std::to_string(certificate.chain_length)},
                      {"min_version", options.min_version == TlsVersion::kTls13 ? "1.3" : "1.2"},
                      {"cert_file", options.cert_file}});
    const auto now =
        std::chrono::time_point_cast<Timestamp::duration>(std::chrono::system_clock::now());
    switch (ExpiryAt(certificate, now)) {
        case CertificateExpiry::kExpired:
            log::Error("tls_certificate_expired",
                       {{"subject", certificate.subject}, {"not_after", not_after}});
            break;
        case CertificateExpiry::kExpiresSoon: {
            const auto days =
                std::chrono::duration_cast<std::chrono::hours>(certificate.not_after - now)
                    .count() /
                24;
            log::Warn("tls_certificate_expires_soon", {{"subject", certificate.subject},
                                                       {"not_after", not_after},
                                                       {"days_left", std::to_string(days)}});
            break;
        }
        case CertificateExpiry::kValid:
            break;
    }
}

}  // namespace

Result<TlsCertificateInfo> Server::Impl::ReloadTls() {
    if (!options.tls) return Fail(ErrorCode::kConflict, "TLS is not configured");
    auto loaded = LoadTlsContext(*options.tls);
    if (!loaded) {
        log::Error("tls_reload_failed", {{"error", loaded.error().message},
                                         {"action", "the previous certificate stays in use"}});
        return tl::unexpected(loaded.error());
    }
    const TlsCertificateInfo certificate = (*loaded)->certificate;
    {
        std::lock_guard lock(tls_mu);
        tls = std::move(*loaded);
    }
    LogCertificate("tls_reloaded", certificate, *options.tls);
    return certificate;
}

void Server::Impl::Adopt(Listener listener) {
    if (listener.tls_context()) {
        LogCertificate("tls_enabled", listener.tls_context()->certificate, *listener.tls_options());
        std::lock_guard lock(tls_mu);
        tls = listener.tls_context();
    }
    options.tls = listener.tls_options();  // what a reload reads again
    const auto protocol = listener.ipv6() ? tcp::v6() : tcp::v4();
    beast::error_code ec;
    acceptor.assign(protocol, listener.Release(), ec);
    if (ec) log::Error("listener_adopt_failed", {{"error", ec.message()}});
    // Registered here, not in Run(): a reload asked for between the two (the "listening" line
    // is printed in between) waits for Run() instead of killing the process.
    if (options.tls) {
        signals.add(SIGHUP, ec);
        if (ec) log::Warn("sighup_not_handled", {{"error", ec.message()}});
    }
}

Server::Server(ServerOptions options, RequestHandler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}

Server::Server(ServerOptions options, Listener listener, RequestHandler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {
    impl_->Adopt(std::move(listener));
}

Server::~Server() { impl_->workers.join(); }

Result<void> Server::Listen() {
    FIRMO_TRY(auto listener, Listener::Open(ListenOptions{impl_->options.host, impl_->options.port,
                                                          impl_->options.tls}));
    impl_->Adopt(std::move(listener));
    return {};
}

unsigned short Server::port() const {
    beast::error_code ec;
    const auto ep = impl_->acceptor.local_endpoint(ec);
    return ec ? 0 : ep.port();
}

void Server::Run() {
    impl_->signals.add(SIGTERM);
    impl_->signals.add(SIGINT);
    impl_->WaitForSignal();
    impl_->Accept();
    std::vector<std::thread> threads;
    for (int i = 1; i < impl_->options.io_threads; ++i) {
        threads.emplace_back([this] { impl_->ioc.run(); });
    }
    impl_->ioc.run();
    for (auto& t : threads) t.join();
    if (impl_->busy.load() > 0) {
        // The grace period ran out with requests still in flight (a stuck handler would
        // block the join below forever). The database and blob store are crash-safe: exit.
        log::Error("shutdown_forced", {{"in_flight", std::to_string(impl_->busy.load())}});
        std::_Exit(1);
    }
    impl_->workers.join();
}

void Server::Stop() {
    asio::post(impl_->ioc, [this] { impl_->BeginStop(); });
}

Result<TlsCertificateInfo> Server::ReloadTls() { return impl_->ReloadTls(); }

std::optional<TlsCertificateInfo> Server::tls_certificate() const {
    if (auto context = impl_->CurrentTls()) return context->certificate;
    return std::nullopt;
}

}  // namespace firmo::http
