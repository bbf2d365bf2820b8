#pragma once
// Test-only: a real SMTP server on a free loopback port (tests/smtp/sink.py, on aiosmtpd), which
// parses each received message with Python's e-mail package and saves a JSON summary.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

extern char** environ;

namespace firmo::notify::testing {

#ifdef FIRMO_SYSTEM_PYTHON
inline constexpr const char* kPython = FIRMO_SYSTEM_PYTHON;
#else
inline constexpr const char* kPython = "/usr/bin/python3";
#endif

// True when Debian's python3 can import aiosmtpd.
inline bool SinkAvailable() {
    const std::string command = std::string(kPython) + " -c 'import aiosmtpd' >/dev/null 2>&1";
    return ::access(kPython, X_OK) == 0 && std::system(command.c_str()) == 0;
}

class SmtpSink {
  public:
    // `args` are extra sink.py options (--user, --password, --cert, --key, --tls).
    SmtpSink(const std::filesystem::path& dir, std::vector<std::string> args = {}) : dir_(dir) {
        std::vector<std::string> argv_s = {kPython, FIRMO_SMTP_SINK, "--dir", dir.string()};
        argv_s.insert(argv_s.end(), args.begin(), args.end());
        std::vector<char*> argv;
        for (auto& a : argv_s) argv.push_back(a.data());
        argv.push_back(nullptr);
        int fds[2];
        if (::pipe(fds) != 0) return;
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
        // Its own log (aiosmtpd warnings, tracebacks) stays out of the test output.
        const std::string log = (dir / "sink.log").string();
        posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log.c_str(),
                                         O_WRONLY | O_CREAT | O_TRUNC, 0644);
        posix_spawn_file_actions_addclose(&actions, fds[0]);
        posix_spawn_file_actions_addclose(&actions, fds[1]);
        const int rc = posix_spawn(&pid_, kPython, &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        ::close(fds[1]);
        if (rc != 0) {
            pid_ = -1;
            ::close(fds[0]);
            return;
        }
        // "READY <port>\n", within a generous startup time.
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
    ~SmtpSink() {
        if (pid_ > 0) {
            ::kill(pid_, SIGTERM);
            int status = 0;
            ::waitpid(pid_, &status, 0);
        }
    }
    SmtpSink(const SmtpSink&) = delete;
    SmtpSink& operator=(const SmtpSink&) = delete;

    bool ok() const { return port_ > 0; }
    int port() const { return port_; }

    // The summaries of all messages received so far, in order.
    std::vector<nlohmann::json> Messages() const {
        std::vector<std::filesystem::path> files;
        for (const auto& e : std::filesystem::directory_iterator(dir_)) {
            if (e.path().extension() == ".json") files.push_back(e.path());
        }
        std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) {
            return std::stoi(a.stem().string()) < std::stoi(b.stem().string());
        });
        std::vector<nlohmann::json> out;
        for (const auto& f : files) {
            std::ifstream in(f);
            out.push_back(nlohmann::json::parse(in));
        }
        return out;
    }

  private:
    std::filesystem::path dir_;
    pid_t pid_ = -1;
    int port_ = 0;
};

}  // namespace firmo::notify::testing
