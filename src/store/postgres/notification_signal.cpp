#include "store/postgres/notification_signal.hpp"

#include <libpq-fe.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <vector>

#include "core/log.hpp"
#include "store/postgres/connection.hpp"

namespace firmo::store::postgres {

namespace {

using Clock = std::chrono::steady_clock;

std::int64_t Nanos(Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

std::string ErrorOf(const PGconn* conn) {
    std::string s = conn ? PQerrorMessage(conn) : "cannot allocate a connection";
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

// Waits until `fd` is ready for `events`, the wake fd fires, or `deadline`; the revents of fd
// (0 on timeout or wake-up).
short WaitFor(int fd, short events, int wake_fd, Clock::time_point deadline) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    const int timeout = static_cast<int>(std::clamp<std::int64_t>(left.count(), 0, 60'000));
    pollfd fds[2] = {{fd, events, 0}, {wake_fd, POLLIN, 0}};
    if (::poll(fds, 2, timeout) <= 0) return 0;
    return fds[0].revents;
}

}  // namespace

std::unique_ptr<NotificationSignal> NotificationSignal::Start(std::string url,
                                                              NotificationSignalOptions options) {
    std::unique_ptr<NotificationSignal> signal(
        new NotificationSignal(std::move(url), std::move(options)));
    signal->thread_ = std::thread([s = signal.get()] { s->Run(); });
    return signal;
}

NotificationSignal::NotificationSignal(std::string url, NotificationSignalOptions options)
    : url_(std::move(url)),
      options_(std::move(options)),
      wake_fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

NotificationSignal::~NotificationSignal() {
    stop_ = true;
    const std::uint64_t one = 1;
    if (wake_fd_ >= 0) (void)!::write(wake_fd_, &one, sizeof one);
    if (thread_.joinable()) thread_.join();
    if (wake_fd_ >= 0) ::close(wake_fd_);
}

std::uint64_t NotificationSignal::Current() const {
    const std::int64_t heard = heard_at_.load(std::memory_order_acquire);
    const auto trusted_for = std::chrono::nanoseconds(options_.heartbeat + options_.answer_within);
    if (heard == 0 || Nanos(Clock::now()) - heard > trusted_for.count()) return kUnknown;
    return counter_.load(std::memory_order_acquire);
}

void NotificationSignal::Announce() {
    counter_.fetch_add(1, std::memory_order_acq_rel);
    (void)Confirm();
}

void NotificationSignal::MoveLocally() { counter_.fetch_add(1, std::memory_order_acq_rel); }

int NotificationSignal::Confirm() const {
    // A connection of its own: the listening one belongs to the thread. Blocking is fine here
    // (a revocation, not a request path), within the same bound as the rest.
    const auto deadline = Clock::now() + options_.heartbeat + options_.answer_within;
    const char* keys[] = {"dbname", "application_name", "connect_timeout", nullptr};
    const char* values[] = {url_.c_str(), "firmo-announcer", "3", nullptr};
    PGconn* conn = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
    struct Closer {
        PGconn* c;
        ~Closer() {
            if (c) PQfinish(c);
        }
    } closer{conn};
    auto failed = [&](std::string_view what) {
        log::Warn("key_signal_unconfirmed", {{"stage", std::string(what)},
                                             {"error", ErrorOf(conn)},
                                             {"database", RedactUrl(url_)}});
        return -1;
    };
    if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) return failed("connect");
    PQsetNoticeProcessor(
        conn, [](void*, const char*) {}, nullptr);
    // The first value of the statement's first row ("" for a command), or nothing on failure.
    auto exec = [&](const std::string& sql,
                    std::vector<const char*> params) -> std::optional<std::string> {
        PGresult* r = PQexecParams(conn, sql.c_str(), static_cast<int>(params.size()), nullptr,
                                   params.data(), nullptr, nullptr, 0);
        std::optional<std::string> value;
        const auto status = PQresultStatus(r);
        if (status == PGRES_TUPLES_OK) value = PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "";
        if (status == PGRES_COMMAND_OK) value = "";
        PQclear(r);
        return value;
    };
    const std::string pong_channel = options_.channel + "_pong";
    const std::string ping_channel = options_.channel + "_ping";
    if (!exec("LISTEN \"" + pong_channel + "\"", {})) return failed("listen");
    // The processes listening now; each answers the ping once it has seen every change
    // committed before it (ours included).
    const std::string prefix = options_.listener_prefix + "%";
    const auto listeners_text = exec(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND application_name LIKE $1",
        {prefix.c_str()});
    if (!listeners_text) return failed("count");
    const int listeners = std::atoi(listeners_text->c_str());
    const std::string token =
        std::to_string(::getpid()) + "-" + std::to_string(Nanos(Clock::now()));
    if (!exec("SELECT pg_notify($1, $2)", {ping_channel.c_str(), token.c_str()})) {
        return failed("ping");
    }
    int answered = 0;
    const auto take_answers = [&] {
        while (PGnotify* n = PQnotifies(conn)) {
            if (pong_channel == n->relname && token == n->extra) ++answered;
            PQfreemem(n);
        }
    };
    // Answers may have come with the ping's own result: libpq queued them while reading it,
    // and the socket will not wake us for them again.
    take_answers();
    while (answered < listeners) {
        if (WaitFor(PQsocket(conn), POLLIN, wake_fd_, deadline) == 0) {
            if (Clock::now() >= deadline || stop_) break;
            continue;
        }
        if (PQconsumeInput(conn) == 0) return failed("read");
        take_answers();
    }
    if (answered < listeners) {
        // Those that did not answer stop trusting their caches by the deadline anyway.
        log::Warn("key_signal_unconfirmed", {{"stage", "answers"},
                                             {"listeners", std::to_string(listeners)},
                                             {"answered", std::to_string(answered)}});
    }
    return answered;
}

bool NotificationSignal::WaitListening(std::chrono::milliseconds timeout) const {
    const auto deadline = Clock::now() + timeout;
    while (Current() == kUnknown) {
        if (Clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
}

bool NotificationSignal::Sleep(std::chrono::milliseconds d) {
    if (stop_) return false;
    pollfd fd{wake_fd_, POLLIN, 0};
    (void)::poll(&fd, 1, static_cast<int>(d.count()));
    return !stop_;
}

void NotificationSignal::Run() {
    auto backoff = options_.first_backoff;
    while (!stop_) {
        const bool listened = Session();
        heard_at_.store(0, std::memory_order_release);  // nothing vouches for the counter now
        if (listened) backoff = options_.first_backoff;
        if (!Sleep(backoff)) break;
        backoff = std::min(backoff * 2, options_.max_backoff);
    }
}

bool NotificationSignal::Session() {
    // The URL's own settings first; ours after it win (libpq keeps the last value of a key).
    const char* keys[] = {"dbname", "application_name", nullptr};
    const char* values[] = {url_.c_str(), options_.application_name.c_str(), nullptr};
    PGconn* conn = PQconnectStartParams(keys, values, /*expand_dbname=*/1);
    struct Closer {
        PGconn* c;
        ~Closer() {
            if (c) PQfinish(c);
        }
    } closer{conn};
    auto lost = [&](std::string_view what, bool listened) {
        if (!stop_) {
            log::Warn(options_.log_prefix + "_listener_lost", {{"channel", options_.channel},
                                                               {"stage", std::string(what)},
                                                               {"error", ErrorOf(conn)},
                                                               {"database", RedactUrl(url_)}});
        }
        return listened;
    };
    if (conn == nullptr || PQstatus(conn) == CONNECTION_BAD) return lost("connect", false);

    // The server's messages on this connection (a FATAL when its backend is terminated) are
    // reported by lost(), not printed by libpq.
    PQsetNoticeProcessor(
        conn, [](void*, const char*) {}, nullptr);

    // Connect without blocking, so that stopping never waits on a slow server.
    const auto connect_deadline = Clock::now() + std::chrono::seconds(10);
    for (auto state = PGRES_POLLING_WRITING; state != PGRES_POLLING_OK;) {
        if (state == PGRES_POLLING_FAILED) return lost("connect", false);
        const short want = state == PGRES_POLLING_READING ? POLLIN : POLLOUT;
        if (WaitFor(PQsocket(conn), want, wake_fd_, connect_deadline) == 0) {
            if (stop_) return false;
            if (Clock::now() >= connect_deadline) return lost("connect timeout", false);
            continue;
        }
        state = PQconnectPoll(conn);
    }

    // The first query LISTENs (changes, and Announce()'s pings); the next ones are heartbeats
    // or answers to pings. One at a time.
    const std::string listen =
        "LISTEN \"" + options_.channel + "\"; LISTEN \"" + options_.channel + "_ping\"";
    const std::string pong_channel = options_.channel + "_pong";
    const std::string ping_channel = options_.channel + "_ping";
    std::vector<std::string> pongs;  // pings to answer, in order
    if (PQsendQuery(conn, listen.c_str()) == 0) return lost("listen", false);
    bool listening = false;
    bool outstanding = true;
    auto sent_at = Clock::now();
    while (!stop_) {
        if (!outstanding && !pongs.empty()) {
            // The answer doubles as a heartbeat.
            const char* params[] = {pong_channel.c_str(), pongs.front().c_str()};
            if (PQsendQueryParams(conn, "SELECT pg_notify($1, $2)", 2, nullptr, params, nullptr,
                                  nullptr, 0) == 0) {
                return lost("pong", listening);
            }
            pongs.erase(pongs.begin());
            outstanding = true;
            sent_at = Clock::now();
        }
        const auto deadline =
            outstanding ? sent_at + options_.answer_within : sent_at + options_.heartbeat;
        const short ready = WaitFor(PQsocket(conn), POLLIN, wake_fd_, deadline);
        if (stop_) break;
        if (ready != 0) {
            if (PQconsumeInput(conn) == 0 || PQstatus(conn) == CONNECTION_BAD) {
                return lost("read", listening);
            }
            // Every notification on the channel moves the counter (payloads are not used). A
            // ping is answered after the notifications before it: they are delivered in commit
            // order, so the answer says every change committed before the ping is seen here.
            const auto take_notifications = [&] {
                while (PGnotify* n = PQnotifies(conn)) {
                    if (options_.channel == n->relname) {
                        counter_.fetch_add(1, std::memory_order_acq_rel);
                    } else if (ping_channel == n->relname) {
                        pongs.emplace_back(n->extra);
                    }
                    PQfreemem(n);
                }
            };
            take_notifications();
            while (outstanding && PQisBusy(conn) == 0) {
                PGresult* r = PQgetResult(conn);
                if (r == nullptr) {  // the query is complete
                    outstanding = false;
                    if (!listening) {
                        // Whatever was announced while nobody listened is lost: move on.
                        counter_.fetch_add(1, std::memory_order_acq_rel);
                        // Said only when listening again: a CLI command should stay quiet.
                        if (connections_++ > 0) {
                            log::Info(options_.log_prefix + "_listening_again",
                                      {{"channel", options_.channel}});
                        }
                        listening = true;
                    }
                    heard_at_.store(Nanos(Clock::now()), std::memory_order_release);
                    break;
                }
                const auto status = PQresultStatus(r);
                PQclear(r);
                if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
                    return lost(listening ? "heartbeat" : "listen", listening);
                }
            }
            // Reading the results may have parsed notifications that arrived with them: they
            // are in libpq's queue now, and the socket will not wake us for them again.
            take_notifications();
            continue;
        }
        const auto now = Clock::now();
        if (outstanding && now >= deadline) return lost("no answer", listening);
        if (!outstanding && now >= deadline) {
            if (PQsendQuery(conn, "SELECT 1") == 0) return lost("heartbeat", listening);
            outstanding = true;
            sent_at = now;
        }
    }
    return listening;
}

}  // namespace firmo::store::postgres
