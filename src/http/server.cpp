#include "http/server.hpp"

#include <sys/resource.h>

#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <limits>
#include <mutex>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/log.hpp"
#include "http/request_id.hpp"
#include "http/throttled_log.hpp"
#include "http/tls_context.hpp"
#include "http/wire.hpp"

namespace firmo::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using PlainStream = tcp::socket;
using TlsStream = beast::ssl_stream<tcp::socket>;

// A TLS peer that neither answers our close_notify nor closes is given this long.
constexpr std::chrono::seconds kTlsShutdownTimeout{5};
// How often deadlines are checked: timeouts are this much late at most. Coarse on purpose: a
// timer per read and write (Beast's tcp_stream) cost two timerfd_settime calls per request.
constexpr std::chrono::milliseconds kDeadlineSweep{250};

using SteadyClock = std::chrono::steady_clock;
constexpr std::int64_t kNoDeadline = std::numeric_limits<std::int64_t>::max();

std::int64_t SteadyNowNs() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               SteadyClock::now().time_since_epoch())
        .count();
}

// accept() found no descriptor (or no kernel memory) free: waiting this long before the next
// try, instead of retrying at once, keeps a full table from costing a core (the pending
// connection stays readable, so an immediate retry fails again at once, forever).
constexpr std::chrono::milliseconds kAcceptBackoff{100};

bool OutOfDescriptors(const boost::system::error_code& ec) {
    return ec == boost::system::errc::too_many_files_open ||
           ec == boost::system::errc::too_many_files_open_in_system ||
           ec == boost::system::errc::no_buffer_space ||
           ec == boost::system::errc::not_enough_memory;
}

// The answer to a connection refused at accept: written without waiting (a fresh socket's
// send buffer is empty), and only over plain HTTP (over TLS an answer costs a handshake).
std::string RefusedAnswer(std::chrono::seconds retry_after) {
    HttpResponse r =
        ProblemResponse(Error{ErrorCode::kUnavailable, "too many connections; retry in a moment"});
    r.Set("Retry-After", std::to_string(retry_after.count()));
    std::string out;
    AppendResponseHead(out, r, HeadOptions{.close = true});
    return out + r.body;
}

std::size_t EffectiveMaxConnections(std::size_t configured, std::size_t nofile) {
    const std::size_t reserve = std::max(kReservedDescriptors, nofile / 8);
    const std::size_t allowed = nofile > reserve ? nofile - reserve : 1;
    if (configured == 0) return allowed;
    return std::min(configured, allowed);
}

struct Server::Impl {
    ServerOptions options;
    AsyncHandler handler;
    // Declared before the contexts: sessions still queued in an io_context are destroyed with
    // it, and their destructors unregister here, so these must outlive them.
    std::atomic<int> busy{0};  // requests being received, handled or written
    std::mutex sessions_mu;
    std::unordered_set<Connection*> sessions;
    // Connection limits (ServerOptions::max_connections*), under sessions_mu.
    std::unordered_map<std::string, std::size_t> per_ip;
    std::size_t evicting = 0;         // sessions told to close to make room, not destroyed yet
    std::size_t max_connections = 0;  // what RLIMIT_NOFILE allows of the configured; 0: none
    std::atomic<std::size_t> unauthenticated_bytes{0};  // see max_unauthenticated_bytes
    metrics::Registry own_metrics;                      // when options.metrics is null
    metrics::Family<metrics::Counter>* refused = nullptr;
    metrics::Counter* evicted = nullptr;
    metrics::Counter* accept_failures = nullptr;
    metrics::Counter* budget_refusals = nullptr;
    ThrottledLog refused_log{"http_connection_refused"};
    ThrottledLog accept_log{"http_accept_failed"};
    ThrottledLog budget_log{"http_unauthenticated_budget_full"};
    ThrottledLog spill_log{"http_body_file_failed"};
    mutable std::mutex tls_mu;
    std::shared_ptr<TlsContext> tls;  // for new connections; null without TLS
    // One event loop per I/O thread; the first also runs the acceptor, signals and draining.
    std::vector<std::unique_ptr<asio::io_context>> contexts;
    std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
    std::size_t next_context = 0;  // round robin; used by the accept handler only
    tcp::acceptor acceptor;
    asio::signal_set signals;
    asio::thread_pool admin{1};  // blocking chores (reading certificate files), off the loops
    std::atomic<bool> stopping{false};
    std::unique_ptr<asio::steady_timer> drain_timer;
    std::chrono::steady_clock::time_point drain_deadline;
    std::unique_ptr<asio::steady_timer> sweep_timer;
    std::unique_ptr<asio::steady_timer> accept_timer;  // the pause after EMFILE

    Impl(ServerOptions o, AsyncHandler h)
        : options(std::move(o)),
          handler(std::move(h)),
          contexts(MakeContexts(std::max(1, options.io_threads))),
          acceptor(*contexts[0]),
          signals(*contexts[0]) {
        for (auto& c : contexts) guards.push_back(asio::make_work_guard(*c));
        RegisterMetrics(options.metrics ? *options.metrics : own_metrics);
    }

    void RegisterMetrics(metrics::Registry& registry);

    static std::vector<std::unique_ptr<asio::io_context>> MakeContexts(int n) {
        std::vector<std::unique_ptr<asio::io_context>> out;
        // Concurrency hint 1: each loop is run by one thread, so Asio can skip some locking.
        for (int i = 0; i < n; ++i) out.push_back(std::make_unique<asio::io_context>(1));
        return out;
    }

    void Adopt(Listener listener);
    void Accept();
    void OnAccept(beast::error_code ec, tcp::socket socket, asio::io_context& target);
    // Whether a connection from `ip` may open now; may close an idle one to make room.
    bool AdmitConnection(const std::string& ip, std::string_view& reason);
    // Closes the connection that has waited for a request the longest; false if none waits.
    // Under sessions_mu.
    bool EvictIdleLocked();
    // Reserves `bytes` of the unauthenticated budget; false (nothing reserved) when full.
    bool ReserveUnauthenticated(std::size_t bytes);
    void ReleaseUnauthenticated(std::size_t bytes) { unauthenticated_bytes -= bytes; }
    void Sweep();
    void WaitForSignal();
    Result<TlsCertificateInfo> ReloadTls();
    void BeginStop();
    void Drain();
    void StopLoops() {
        for (auto& c : contexts) c->stop();
    }
    std::shared_ptr<TlsContext> CurrentTls() const {
        std::lock_guard lock(tls_mu);
        return tls;
    }
};

// What the server and a Responder need of a connection whatever its stream: to close it at
// shutdown when it is not busy with a request, and to answer its request. Registers itself
// for shutdown while it lives.
class Connection : public std::enable_shared_from_this<Connection> {
  public:
    // `ip`: the TCP peer's address, counted against max_connections_per_ip.
    Connection(Server::Impl& server, std::string ip) : server_(server), ip_(std::move(ip)) {
        std::lock_guard lock(server_.sessions_mu);
        server_.sessions.insert(this);
        ++server_.per_ip[ip_];
    }
    virtual ~Connection() {
        std::lock_guard lock(server_.sessions_mu);
        server_.sessions.erase(this);
        if (auto it = server_.per_ip.find(ip_); it != server_.per_ip.end() && --it->second == 0) {
            server_.per_ip.erase(it);
        }
        if (evicted_) --server_.evicting;
    }
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    virtual void CloseIfIdle() = 0;
    // Closes the connection if it is still waiting for a request (to make room for another).
    // Under sessions_mu; the close itself runs on the connection's thread.
    void EvictLocked() {
        evicted_ = true;
        ++server_.evicting;
        CloseIfIdle();
    }
    // Since when it has waited for a request (steady ns); kNoDeadline while it has one.
    std::int64_t idle_since() const { return idle_since_ns_.load(std::memory_order_relaxed); }
    bool evicted() const { return evicted_; }  // under sessions_mu
    // Writes the answer to the request being handled; any thread.
    virtual void Respond(HttpResponse response) = 0;
    // Closes the connection if its deadline has passed (called after the sweep saw it pass).
    virtual void Expire() = 0;

    bool Expired(std::int64_t now_ns) const {
        return deadline_ns_.load(std::memory_order_relaxed) <= now_ns;
    }

  protected:
    Responder MakeResponder() { return Responder(shared_from_this()); }
    // The current phase (handshake, reading, writing, lingering) must end within `limit`.
    void Deadline(std::chrono::nanoseconds limit) {
        deadline_ns_.store(SteadyNowNs() + limit.count(), std::memory_order_relaxed);
    }
    void NoDeadline() { deadline_ns_.store(kNoDeadline, std::memory_order_relaxed); }
    void WaitingForRequest(bool waiting) {
        idle_since_ns_.store(waiting ? SteadyNowNs() : kNoDeadline, std::memory_order_relaxed);
    }

    Server::Impl& server_;
    const std::string ip_;
    // Written by the connection's own thread, read by the sweep (Server::Impl::Sweep).
    std::atomic<std::int64_t> deadline_ns_{kNoDeadline};
    // Written by the connection's own thread, read by the acceptor (EvictIdleLocked).
    std::atomic<std::int64_t> idle_since_ns_{SteadyNowNs()};  // a new connection waits
    bool evicted_ = false;                                    // under sessions_mu
};

Responder& Responder::operator=(Responder&& other) noexcept {
    if (this != &other) {
        if (connection_) (*this)(HttpResponse::Text(500, ""));
        connection_ = std::move(other.connection_);
    }
    return *this;
}

Responder::~Responder() {
    if (!connection_) return;
    // Nobody answered: say so rather than leave the client waiting until its timeout.
    log::Error("request_not_answered");
    try {
        (*this)(ProblemResponse(Error{ErrorCode::kInternal, ""}));
    } catch (...) {
        // Out of memory while unwinding: the connection's timeout ends it.
    }
}

void Responder::operator()(HttpResponse response) {
    if (!connection_) return;
    auto connection = std::move(connection_);
    connection->Respond(std::move(response));
}

// One HTTP/1.1 connection over a plain TCP stream or a TLS stream: the same code for both,
// the few differences (handshake, half-close, close_notify) under `if constexpr (kTls)`. All
// of it runs on the thread of the connection's io_context, except Respond().
template <class Stream>
class Session final : public Connection {
    static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

  public:
    Session(tcp::socket socket, std::string ip, asio::io_context& ioc,
            Server::Impl& server) requires(!kTls)
        : Connection(server, std::move(ip)), ioc_(ioc), stream_(std::move(socket)) {}
    Session(tcp::socket socket, std::string ip, asio::io_context& ioc,
            std::shared_ptr<TlsContext> tls, Server::Impl& server) requires(kTls)
        : Connection(server, std::move(ip)),
          ioc_(ioc),
          tls_(std::move(tls)),
          stream_(std::move(socket), tls_->ssl) {}
    ~Session() override { ReleaseBudget(); }

    void Start() {
        asio::dispatch(ioc_, [self = Self()] {
            self->remote_ip_ = self->ip_;  // known since accept
            if constexpr (kTls) {
                self->Handshake();
            } else {
                self->ReadHeader();
            }
        });
    }

    // Called on shutdown: closes the connection if it is waiting for a request.
    void CloseIfIdle() override {
        asio::post(ioc_, [self = Self()] {
            if (!self->busy_) {
                beast::error_code ec;
                self->Socket().shutdown(tcp::socket::shutdown_both, ec);
                self->Socket().close(ec);
            }
        });
    }

    // On the connection's thread: the deadline may have moved since the sweep looked.
    void Expire() override {
        asio::post(ioc_, [self = Self()] {
            if (!self->Expired(SteadyNowNs())) return;
            // The pending operation completes with an error and the connection closes.
            beast::error_code ec;
            self->Socket().shutdown(tcp::socket::shutdown_both, ec);
            self->Socket().close(ec);
        });
    }

    void Respond(HttpResponse response) override {
        if (ioc_.get_executor().running_in_this_thread()) return Write(std::move(response));
        asio::post(ioc_, [self = Self(), r = std::move(response)]() mutable {
            self->Write(std::move(r));
        });
    }

  private:
    std::shared_ptr<Session> Self() {
        return std::static_pointer_cast<Session>(shared_from_this());
    }
    tcp::socket& Socket() { return beast::get_lowest_layer(stream_); }

    // A client that connects and never completes the handshake is cut off like one that never
    // sends its request (read_timeout).
    void Handshake() {
        Deadline(server_.options.read_timeout);
        stream_.async_handshake(asio::ssl::stream_base::server,
                                beast::bind_front_handler(&Session::OnHandshake, Self()));
    }

    void OnHandshake(beast::error_code ec) {
        if (ec) {
            // Plain-HTTP clients, scanners, old TLS versions, clients that distrust the
            // certificate: the client's problem, not an error of the server.
            log::Debug("tls_handshake_failed",
                       {{"client_ip", remote_ip_}, {"error", ec.message()}});
            return Close();
        }
        ReadHeader();
    }

    void ReadHeader() {
        request_.Reset();
        parser_.emplace(request_);
        parser_->header_limit(static_cast<std::uint32_t>(server_.options.header_limit));
        // Beast checks Content-Length against the limit while parsing the headers; the real
        // limit depends on the target, so it is set in OnHeader.
        parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
        Deadline(first_ ? server_.options.read_timeout : server_.options.idle_timeout);
        first_ = false;
        WaitingForRequest(true);
        bhttp::async_read_header(stream_, buffer_, *parser_,
                                 beast::bind_front_handler(&Session::OnHeader, Self()));
    }

    void OnHeader(beast::error_code ec, std::size_t) {
        WaitingForRequest(false);
        if (ec) return OnReadError(ec);
        if (server_.stopping) return Close();
        MarkBusy();  // from here until the answer is written, shutdown waits for this request
        request_.remote_ip = remote_ip_;
        ChooseRequestId(request_.Header("X-Request-Id"), request_.request_id);
        // The front door decides from the headers alone: a request without a valid credential
        // is answered before a byte of its body is read.
        Admission admission = server_.options.admit(request_);
        if (admission.defer) {
            auto defer = std::move(admission.defer);
            defer([self = Self()](Admission decided) {
                asio::post(self->ioc_, [self, decided = std::move(decided)]() mutable {
                    decided.defer = nullptr;
                    self->Admitted(std::move(decided));
                });
            });
            return;
        }
        Admitted(std::move(admission));
    }

    // The headers' verdict: refuse, or get ready for the body and read it.
    void Admitted(Admission admission) {
        if (admission.refusal) return Refuse(std::move(*admission.refusal));
        const std::size_t limit = admission.body_limit;
        parser_->body_limit(limit);
        if (parser_->content_length() && *parser_->content_length() > limit) {
            return SendError(ErrorCode::kPayloadTooLarge,
                             "the request body is larger than " + std::to_string(limit) + " bytes");
        }
        // The most this body may take: its length, or the limit if chunked.
        const std::size_t bytes = parser_->chunked() ? limit
                                  : parser_->content_length()
                                      ? static_cast<std::size_t>(*parser_->content_length())
                                      : 0;
        if (!admission.authenticated) {
            if (bytes > 0) {
                if (!server_.ReserveUnauthenticated(bytes)) {
                    server_.budget_refusals->Inc();
                    server_.budget_log.Note("max_unauthenticated_bytes", remote_ip_);
                    auto busy = ProblemResponse(
                        Error{ErrorCode::kUnavailable,
                              "too many request bodies are being received; retry in a moment"});
                    busy.Set("Retry-After",
                             std::to_string(server_.options.busy_retry_after.count()));
                    return Refuse(std::move(busy));
                }
                reserved_ = bytes;
            }
        }
        if (!server_.options.spill_dir.empty()) {
            if (bytes > server_.options.spill_body_bytes) {
                auto file = OpenBodyFile(server_.options.spill_dir);
                if (!file) {
                    server_.spill_log.Note("cannot_create", file.error().message);
                    return SendError(ErrorCode::kUnavailable, "cannot store the request body");
                }
                parser_->SpillTo(std::move(*file));
            }
        }
        Deadline(server_.options.read_timeout);
        const auto expect = request_.Header("Expect");
        if (expect && EqualsIgnoreCase(*expect, "100-continue") && !parser_->is_done()) {
            static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
            asio::async_write(stream_, asio::buffer(kContinue.data(), kContinue.size()),
                              [self = Self()](beast::error_code wec, std::size_t) {
                                  if (wec) return self->Close();
                                  self->ReadBody();
                              });
            return;
        }
        ReadBody();
    }

    void ReadBody() {
        if (parser_->is_done()) return OnBody({}, 0);  // no body: skip a round through Asio
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
        if (ec == boost::system::errc::no_space_on_device) {
            server_.spill_log.Note("write_failed", ec.message());
            return SendError(ErrorCode::kUnavailable, "cannot store the request body");
        }
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
        request_.remote_ip = remote_ip_;  // the front door may have resolved a proxy's header
        NoDeadline();
        // The handler answers through the Responder, now or from another thread; until then
        // this session does nothing (it reads the next request only after the answer).
        try {
            server_.handler(request_, MakeResponder());
        } catch (...) {
            // The front door catches its handlers' exceptions; this is a last resort. The
            // Responder it was given answers 500 when it is destroyed unanswered.
            log::Error("handler_escaped_exception", {{"path", request_.path}});
        }
    }

    // The server's own errors (before any handler ran): problem+json from the one error table.
    void SendError(ErrorCode code, const std::string& detail) {
        MarkBusy();
        HttpResponse r = ProblemResponse(Error{code, detail});
        r.Set("X-Content-Type-Options", "nosniff");
        r.Set("Cache-Control", "no-store");
        request_.method.clear();  // not a HEAD answer, whatever was (half) parsed
        if (request_.request_id.empty()) {
            request_.request_id = parser_ && parser_->is_header_done()
                                      ? ChooseRequestId(request_.Header("X-Request-Id"))
                                      : GenerateRequestId();
        }
        Refuse(std::move(r));
    }

    // An answer given before the body was read: the rest of the request is unread, so the
    // connection cannot be reused; it is drained for a moment, then closed.
    void Refuse(HttpResponse r) {
        MarkBusy();
        r.close = true;
        request_.keep_alive = false;
        linger_ = true;
        Write(std::move(r));
    }

    void ReleaseBudget() {
        if (reserved_ == 0) return;
        server_.ReleaseUnauthenticated(reserved_);
        reserved_ = 0;
    }

    void Write(HttpResponse r) {
        response_ = std::move(r);
        const bool close = response_.close || !request_.keep_alive || server_.stopping;
        head_.clear();
        const bool with_body =
            AppendResponseHead(head_, response_,
                               HeadOptions{.request_id = request_.request_id,
                                           .close = close,
                                           .http10_keep_alive = !close && request_.version == 10,
                                           .head_request = request_.method == "HEAD"});
        const std::array<asio::const_buffer, 2> buffers{
            asio::buffer(head_), with_body ? asio::buffer(response_.body) : asio::const_buffer()};
        Deadline(server_.options.write_timeout);
        asio::async_write(stream_, buffers,
                          [self = Self(), close](beast::error_code ec, std::size_t) {
                              self->OnWritten(ec, close);
                          });
    }

    void OnWritten(beast::error_code ec, bool close) {
        MarkIdle();
        ReleaseBudget();  // the request is answered: its body is no longer held for it
        // A large download's buffer is not kept while the connection waits for more.
        if (response_.body.capacity() > 64 * 1024) {
            response_ = HttpResponse();
        } else {
            response_.body.clear();
            response_.headers.clear();
        }
        if (ec) return Close();
        if (close) return linger_ ? Linger() : Shutdown();
        ReadHeader();
    }

    // After an early answer (413, 400) the client may still be sending its body; closing at
    // once would reset the connection before it reads our answer. Drain for a while first.
    // Over TLS the TCP half-close is left out: data after it would look like truncation.
    void Linger() {
        if constexpr (!kTls) {
            beast::error_code ec;
            Socket().shutdown(tcp::socket::shutdown_send, ec);
        }
        Deadline(std::chrono::seconds(5));
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
            Deadline(kTlsShutdownTimeout);
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
        ReleaseBudget();
        beast::error_code ec;
        NoDeadline();
        Socket().shutdown(tcp::socket::shutdown_send, ec);
        Socket().close(ec);
    }

    asio::io_context& ioc_;
    // Declared before the stream, which uses it: this connection's context stays alive after a
    // reload replaced it for new connections.
    std::shared_ptr<TlsContext> tls_;
    Stream stream_;
    beast::flat_buffer buffer_;
    HttpRequest request_;  // reused by every request of the connection
    std::optional<RequestParser> parser_;
    HttpResponse response_;  // the answer being written
    std::string head_;       // its status line and headers
    std::string remote_ip_;
    bool linger_ = false;
    std::vector<char> linger_buffer_;
    bool busy_ = false;
    bool first_ = true;
    std::size_t reserved_ = 0;  // of the unauthenticated budget, for the request being read
};

void Server::Impl::Accept() {
    // Connections are spread over the loops in turn; each lives on its loop until it ends.
    asio::io_context& target = *contexts[next_context];
    next_context = (next_context + 1) % contexts.size();
    acceptor.async_accept(target, [this, &target](beast::error_code ec, tcp::socket socket) {
        OnAccept(ec, std::move(socket), target);
    });
}

void Server::Impl::OnAccept(beast::error_code ec, tcp::socket socket, asio::io_context& target) {
    if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
        accept_failures->Inc();
        accept_log.Note(OutOfDescriptors(ec) ? "out_of_descriptors" : "other", ec.message());
        if (OutOfDescriptors(ec)) {
            // Free a descriptor for the next try: the connection idle the longest goes first.
            {
                std::lock_guard lock(sessions_mu);
                if (EvictIdleLocked()) evicted->Inc();
            }
            accept_timer->expires_after(kAcceptBackoff);
            accept_timer->async_wait([this](beast::error_code wec) {
                if (!wec && !stopping) Accept();
            });
            return;
        }
        if (!stopping) Accept();
        return;
    }
    beast::error_code peer_ec;
    const auto peer = socket.remote_endpoint(peer_ec);
    std::string ip = peer_ec ? std::string() : peer.address().to_string();
    std::string_view reason;
    if (!AdmitConnection(ip, reason)) {
        refused->With({reason}).Inc();
        refused_log.Note(reason, ip);
        if (!CurrentTls()) {
            // Best effort, never waiting: the client may see this answer or only the close.
            beast::error_code wec;
            socket.non_blocking(true, wec);
            const std::string answer = RefusedAnswer(options.busy_retry_after);
            socket.write_some(asio::buffer(answer), wec);
            socket.shutdown(tcp::socket::shutdown_send, wec);
        }
        beast::error_code cec;
        socket.close(cec);
    } else if (auto context = CurrentTls()) {
        try {
            std::make_shared<Session<TlsStream>>(std::move(socket), std::move(ip), target,
                                                 std::move(context), *this)
                ->Start();
        } catch (const boost::system::system_error& e) {  // SSL_new failed: out of memory
            log::Warn("tls_session_failed", {{"error", e.what()}});
        }
    } else {
        std::make_shared<Session<PlainStream>>(std::move(socket), std::move(ip), target, *this)
            ->Start();
    }
    if (!stopping) Accept();
}

bool Server::Impl::AdmitConnection(const std::string& ip, std::string_view& reason) {
    std::lock_guard lock(sessions_mu);
    if (options.max_connections_per_ip > 0 &&
        !(options.per_ip_exempt && options.per_ip_exempt(ip))) {
        const auto it = per_ip.find(ip);
        if (it != per_ip.end() && it->second >= options.max_connections_per_ip) {
            reason = "max_connections_per_ip";
            return false;
        }
    }
    if (max_connections > 0 && sessions.size() - evicting >= max_connections) {
        if (!EvictIdleLocked()) {
            reason = "max_connections";
            return false;
        }
        evicted->Inc();
    }
    return true;
}

bool Server::Impl::EvictIdleLocked() {
    Connection* oldest = nullptr;
    std::int64_t oldest_since = kNoDeadline;
    for (Connection* c : sessions) {
        const std::int64_t since = c->idle_since();
        if (since < oldest_since && !c->evicted()) {
            oldest = c;
            oldest_since = since;
        }
    }
    if (!oldest) return false;
    // A session whose last reference is being dropped right now is closing anyway.
    if (auto session = oldest->weak_from_this().lock()) {
        session->EvictLocked();
        // The last reference may be this one; its destructor takes sessions_mu: let the
        // connection's own loop drop it.
        asio::post(acceptor.get_executor(), [session = std::move(session)] {});
    }
    return true;
}

bool Server::Impl::ReserveUnauthenticated(std::size_t bytes) {
    const std::size_t max = options.max_unauthenticated_bytes;
    std::size_t now = unauthenticated_bytes.load(std::memory_order_relaxed);
    do {
        if (max > 0 && now + bytes > max) return false;
    } while (!unauthenticated_bytes.compare_exchange_weak(now, now + bytes));
    return true;
}

void Server::Impl::RegisterMetrics(metrics::Registry& registry) {
    refused = &registry.AddCounterFamily(
        "firmo_http_connections_refused_total",
        "Connections closed at accept because a limit was reached, by limit "
        "(max_connections, max_connections_per_ip).",
        {"limit"});
    evicted = &registry.AddCounter(
        "firmo_http_connections_evicted_total",
        "Idle connections closed to make room for new ones (at max_connections, or when "
        "accept() found no descriptor free).");
    accept_failures = &registry.AddCounter(
        "firmo_http_accept_failures_total",
        "accept() failures (EMFILE, ENFILE: out of descriptors; each is followed by a pause).");
    budget_refusals = &registry.AddCounter(
        "firmo_http_unauthenticated_refused_total",
        "Requests answered 503 because max_unauthenticated_bytes was held by other requests "
        "whose bodies were being received without a checked credential.");
    registry.AddCallback("firmo_http_connections_open", "Client connections open now.", [this] {
        std::lock_guard lock(sessions_mu);
        return static_cast<double>(sessions.size());
    });
    registry.AddCallback("firmo_http_connections_max",
                         "The connection limit in force (max_connections, lowered to what "
                         "RLIMIT_NOFILE allows); 0: none.",
                         [this] {
                             std::lock_guard lock(sessions_mu);
                             return static_cast<double>(max_connections);
                         });
    registry.AddCallback("firmo_http_unauthenticated_bytes",
                         "Bytes of request bodies being received without a checked credential "
                         "(reserved at their announced length).",
                         [this] { return static_cast<double>(unauthenticated_bytes.load()); });
}

// Every kDeadlineSweep: connections whose phase overran its deadline are closed (on their own
// threads). Runs on the first loop until the loops stop.
void Server::Impl::Sweep() {
    sweep_timer->expires_after(kDeadlineSweep);
    sweep_timer->async_wait([this](beast::error_code ec) {
        if (ec) return;
        const std::int64_t now = SteadyNowNs();
        std::vector<std::shared_ptr<Connection>> expired;
        {
            std::lock_guard lock(sessions_mu);
            for (Connection* s : sessions) {
                if (!s->Expired(now)) continue;
                if (auto session = s->weak_from_this().lock())
                    expired.push_back(std::move(session));
            }
        }
        // Outside the lock, as in Drain(): a last reference may be dropped here.
        for (const auto& session : expired) session->Expire();
        expired.clear();
        Sweep();
    });
}

void Server::Impl::WaitForSignal() {
    signals.async_wait([this](beast::error_code ec, int number) {
        if (ec) return;
        if (number != SIGHUP) return BeginStop();
        // Reading files is blocking work: not on an I/O thread.
        asio::post(admin, [this] { (void)ReloadTls(); });  // logs its outcome
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
    drain_timer = std::make_unique<asio::steady_timer>(*contexts[0]);
    Drain();
}

void Server::Impl::Drain() {
    std::vector<std::shared_ptr<Connection>> alive;
    {
        std::lock_guard lock(sessions_mu);
        // A session may be mid-destruction (its count is 0, its destructor waits for this
        // mutex): only sessions still alive get the call.
        for (Connection* s : sessions) {
            if (auto session = s->weak_from_this().lock()) alive.push_back(std::move(session));
        }
    }
    // Outside the lock: the last reference to a session that ended meanwhile (on another
    // I/O thread) may be one of these, and its destructor takes the lock.
    for (const auto& session : alive) session->CloseIfIdle();
    alive.clear();
    if (busy == 0) {
        // Idle sessions are closing; give them one more tick.
        drain_timer->expires_after(std::chrono::milliseconds(50));
        drain_timer->async_wait([this](beast::error_code) { StopLoops(); });
        return;
    }
    if (std::chrono::steady_clock::now() >= drain_deadline) {
        log::Warn("shutdown_grace_exceeded", {{"in_flight", std::to_string(busy.load())}});
        StopLoops();
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

Server::Server(ServerOptions options, AsyncHandler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}

Server::Server(ServerOptions options, SyncHandler handler)
    : Server(std::move(options),
             [h = std::move(handler)](HttpRequest& req, Responder respond) { respond(h(req)); }) {}

Server::Server(ServerOptions options, Listener listener, SyncHandler handler)
    : Server(std::move(options), std::move(listener),
             [h = std::move(handler)](HttpRequest& req, Responder respond) { respond(h(req)); }) {}

Server::Server(ServerOptions options, Listener listener, AsyncHandler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {
    impl_->Adopt(std::move(listener));
}

Server::~Server() { impl_->admin.join(); }

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
    {
        // The descriptor limit decides how many connections fit: stay below it, so that
        // accept() keeps working and the database and files still find descriptors.
        rlimit nofile{};
        const std::size_t limit =
            ::getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY
                ? static_cast<std::size_t>(nofile.rlim_cur)
                : std::size_t{1} << 20;
        const std::size_t configured = impl_->options.max_connections;
        const std::size_t effective = EffectiveMaxConnections(configured, limit);
        {
            std::lock_guard lock(impl_->sessions_mu);
            impl_->max_connections = effective;
        }
        if (configured > 0 && effective < configured) {
            log::Warn(
                "max_connections_lowered",
                {{"configured", static_cast<std::int64_t>(configured)},
                 {"effective", static_cast<std::int64_t>(effective)},
                 {"rlimit_nofile", static_cast<std::int64_t>(limit)},
                 {"advice", "raise LimitNOFILE (ulimit -n) or lower server.max_connections"}});
        }
    }
    impl_->accept_timer = std::make_unique<asio::steady_timer>(*impl_->contexts[0]);
    impl_->signals.add(SIGTERM);
    impl_->signals.add(SIGINT);
    impl_->WaitForSignal();
    impl_->sweep_timer = std::make_unique<asio::steady_timer>(*impl_->contexts[0]);
    impl_->Sweep();
    impl_->Accept();
    std::vector<std::thread> threads;
    for (std::size_t i = 1; i < impl_->contexts.size(); ++i) {
        threads.emplace_back([this, i] { impl_->contexts[i]->run(); });
    }
    impl_->contexts[0]->run();
    for (auto& t : threads) t.join();
    log::Flush();
    if (impl_->busy.load() > 0) {
        // The grace period ran out with requests still in flight (a stuck handler would
        // block the join below forever). The database and blob store are crash-safe: exit.
        log::Error("shutdown_forced", {{"in_flight", std::to_string(impl_->busy.load())}});
        std::_Exit(1);
    }
    impl_->admin.join();
}

void Server::Stop() {
    asio::post(*impl_->contexts[0], [this] { impl_->BeginStop(); });
}

Result<TlsCertificateInfo> Server::ReloadTls() { return impl_->ReloadTls(); }

std::optional<TlsCertificateInfo> Server::tls_certificate() const {
    if (auto context = impl_->CurrentTls()) return context->certificate;
    return std::nullopt;
}

}  // namespace firmo::http
