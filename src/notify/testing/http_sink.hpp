#pragma once
// Test-only: a real HTTP server on a free loopback port (tests/http_sink/sink.py, Python's
// standard library), which records every request as a JSON line and answers 200 unless told
// otherwise through its control endpoint. The protocol is documented at the top of sink.py.

#include <curl/curl.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace firmo::notify::testing {

#ifdef FIRMO_SYSTEM_PYTHON
inline constexpr const char* kHttpSinkPython = FIRMO_SYSTEM_PYTHON;
#else
inline constexpr const char* kHttpSinkPython = "/usr/bin/python3";
#endif

class HttpSink {
  public:
    // Records go to <dir>/requests.jsonl; the sink's own log to <dir>/http_sink.log.
    explicit HttpSink(const std::filesystem::path& dir) : out_(dir / "requests.jsonl") {
        std::vector<std::string> argv_s = {kHttpSinkPython, FIRMO_HTTP_SINK, "--out",
                                           out_.string()};
        std::vector<char*> argv;
        for (auto& a : argv_s) argv.push_back(a.data());
        argv.push_back(nullptr);
        int fds[2];
        if (::pipe(fds) != 0) return;
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
        const std::string log = (dir / "http_sink.log").string();
        posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log.c_str(),
                                         O_WRONLY | O_CREAT | O_TRUNC, 0644);
        posix_spawn_file_actions_addclose(&actions, fds[0]);
        posix_spawn_file_actions_addclose(&actions, fds[1]);
        const int rc = posix_spawn(&pid_, kHttpSinkPython, &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        ::close(fds[1]);
        if (rc != 0) {
            pid_ = -1;
            ::close(fds[0]);
            return;
        }
        std::string line;
        pollfd pfd{fds[0], POLLIN, 0};
        while (line.find('\n') == std::string::npos && ::poll(&pfd, 1, 15'000) > 0) {
            char buf[64];
            const ssize_t n = ::read(fds[0], buf, sizeof buf);
            if (n <= 0) break;
            line.append(buf, static_cast<std::size_t>(n));
        }
        ::close(fds[0]);
        if (line.rfind("READY ", 0) == 0) port_ = std::stoi(line.substr(6));
    }
    ~HttpSink() {
        if (pid_ > 0) {
            ::kill(pid_, SIGTERM);
            int status = 0;
            ::waitpid(pid_, &status, 0);
        }
    }
    HttpSink(const HttpSink&) = delete;
    HttpSink& operator=(const HttpSink&) = delete;

    bool ok() const { return port_ > 0; }
    int port() const { return port_; }
    std::string Url(const std::string& path = "/hook") const {
        return "http://127.0.0.1:" + std::to_string(port_) + path;
    }

    // The requests recorded so far, in order (control requests are not recorded), after
    // waiting up to `wait` for at least `at_least` of them.
    std::vector<nlohmann::json> Requests(
        std::size_t at_least = 0, std::chrono::milliseconds wait = std::chrono::seconds(5)) const {
        const auto deadline = std::chrono::steady_clock::now() + wait;
        for (;;) {
            std::vector<nlohmann::json> out;
            std::ifstream in(out_);
            std::string line;
            while (std::getline(in, line)) {
                if (!line.empty()) out.push_back(nlohmann::json::parse(line));
            }
            if (out.size() >= at_least || std::chrono::steady_clock::now() >= deadline) return out;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }

    // POST /_control with `rule` (e.g. {"status": 500, "times": 1}); true when accepted.
    bool Control(const nlohmann::json& rule) const {
        std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
        if (!curl) return false;
        const std::string url = Url("/_control");
        const std::string body = rule.dump();
        curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
        curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, body.c_str());
        curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, 10'000L);
        curl_easy_setopt(
            curl.get(), CURLOPT_WRITEFUNCTION,
            +[](char*, std::size_t size, std::size_t n, void*) { return size * n; });
        long status = 0;
        if (curl_easy_perform(curl.get()) != CURLE_OK) return false;
        curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
        return status == 200;
    }

  private:
    std::filesystem::path out_;
    pid_t pid_ = -1;
    int port_ = 0;
};

}  // namespace firmo::notify::testing
