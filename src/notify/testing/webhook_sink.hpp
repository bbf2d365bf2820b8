#pragma once
// Test-only: tests/http_sink/stdout_sink.py, a generic HTTP server on a free loopback port that
// prints every request it receives as one JSON line on stdout and can be told to answer the next
// requests with another status (POST /_control). A reader thread collects the lines.

#include <curl/curl.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace firmo::notify::testing {

#ifdef FIRMO_SYSTEM_PYTHON
inline constexpr const char* kWebhookSinkPython = FIRMO_SYSTEM_PYTHON;
#else
inline constexpr const char* kWebhookSinkPython = "/usr/bin/python3";
#endif

class WebhookSink {
  public:
    WebhookSink() {
        std::string script = FIRMO_HTTP_STDOUT_SINK;
        std::string python = kWebhookSinkPython;
        std::vector<char*> argv = {python.data(), script.data(), nullptr};
        int fds[2];
        if (::pipe(fds) != 0) return;
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
        posix_spawn_file_actions_addclose(&actions, fds[0]);
        posix_spawn_file_actions_addclose(&actions, fds[1]);
        const int rc = posix_spawn(&pid_, python.c_str(), &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        ::close(fds[1]);
        if (rc != 0) {
            pid_ = -1;
            ::close(fds[0]);
            return;
        }
        fd_ = fds[0];
        reader_ = std::thread([this] { Read(); });
        std::unique_lock lock(mu_);
        cv_.wait_for(lock, std::chrono::seconds(15), [this] { return port_ != 0 || eof_; });
    }
    ~WebhookSink() {
        if (pid_ > 0) {
            ::kill(pid_, SIGTERM);
            int status = 0;
            ::waitpid(pid_, &status, 0);
        }
        if (reader_.joinable()) reader_.join();  // the pipe is at EOF once the sink is gone
        if (fd_ >= 0) ::close(fd_);
    }
    WebhookSink(const WebhookSink&) = delete;
    WebhookSink& operator=(const WebhookSink&) = delete;

    bool ok() const {
        std::lock_guard lock(mu_);
        return port_ != 0;
    }
    int port() const {
        std::lock_guard lock(mu_);
        return port_;
    }
    std::string Url(const std::string& path = "/hook") const {
        return "http://127.0.0.1:" + std::to_string(port()) + path;
    }

    // The requests received so far, after waiting up to `wait` for at least `at_least`.
    std::vector<nlohmann::json> Requests(
        std::size_t at_least = 0, std::chrono::milliseconds wait = std::chrono::seconds(5)) const {
        std::unique_lock lock(mu_);
        cv_.wait_for(lock, wait, [&] { return requests_.size() >= at_least || eof_; });
        return requests_;
    }

    // POST /_control with `spec` ({"status": 500, "times": 1, ...}); true on a 200.
    bool Control(const nlohmann::json& spec) const {
        std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
        std::unique_ptr<curl_slist, void (*)(curl_slist*)> headers(
            curl_slist_append(nullptr, "Content-Type: application/json"), curl_slist_free_all);
        if (!curl || !headers) return false;
        const std::string body = spec.dump();
        const std::string url = Url("/_control");
        curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
        curl_easy_setopt(curl.get(), CURLOPT_PROXY, "");
        curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, body.c_str());
        curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, headers.get());
        curl_easy_setopt(
            curl.get(), CURLOPT_WRITEFUNCTION,
            +[](char*, std::size_t s, std::size_t n, void*) { return s * n; });
        curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT, 10L);
        long status = 0;
        return curl_easy_perform(curl.get()) == CURLE_OK &&
               curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status) == CURLE_OK &&
               status == 200;
    }

  private:
    void Read() {
        std::string buffer;
        char chunk[4096];
        for (;;) {
            const ssize_t n = ::read(fd_, chunk, sizeof chunk);
            if (n <= 0) break;
            buffer.append(chunk, static_cast<std::size_t>(n));
            std::size_t end;
            while ((end = buffer.find('\n')) != std::string::npos) {
                const std::string line = buffer.substr(0, end);
                buffer.erase(0, end + 1);
                std::lock_guard lock(mu_);
                if (line.rfind("READY ", 0) == 0) {
                    port_ = std::stoi(line.substr(6));
                } else if (!line.empty() && line.front() == '{') {
                    requests_.push_back(nlohmann::json::parse(line));
                }
                cv_.notify_all();
            }
        }
        std::lock_guard lock(mu_);
        eof_ = true;
        cv_.notify_all();
    }

    pid_t pid_ = -1;
    int fd_ = -1;
    std::thread reader_;
    mutable std::mutex mu_;
    mutable std::condition_variable cv_;
    int port_ = 0;
    bool eof_ = false;
    std::vector<nlohmann::json> requests_;
};

}  // namespace firmo::notify::testing
