#pragma once
// Test-only: a loopback test server run as a child process (Debian's python3 with one of the
// scripts under tests/), which prints "READY <port>" on stdout once it accepts connections and
// is stopped with SIGTERM. Shared by the SMTP and HTTP sinks.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

extern char** environ;

namespace firmo::notify::testing {

#ifdef FIRMO_SYSTEM_PYTHON
inline constexpr const char* kPython = FIRMO_SYSTEM_PYTHON;
#else
inline constexpr const char* kPython = "/usr/bin/python3";
#endif

class ReadyServer {
  public:
    // Runs `kPython script args...`; its stderr goes to `log`. port() is 0 when it did not
    // report ready within 15 s.
    ReadyServer(const std::string& script, const std::vector<std::string>& args,
                const std::filesystem::path& log) {
        std::vector<std::string> argv_s = {kPython, script};
        argv_s.insert(argv_s.end(), args.begin(), args.end());
        std::vector<char*> argv;
        for (auto& a : argv_s) argv.push_back(a.data());
        argv.push_back(nullptr);
        int fds[2];
        if (::pipe(fds) != 0) return;
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
        const std::string log_path = log.string();
        posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log_path.c_str(),
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
    ~ReadyServer() {
        if (pid_ > 0) {
            ::kill(pid_, SIGTERM);
            int status = 0;
            ::waitpid(pid_, &status, 0);
        }
    }
    ReadyServer(const ReadyServer&) = delete;
    ReadyServer& operator=(const ReadyServer&) = delete;

    int port() const { return port_; }

  private:
    pid_t pid_ = -1;
    int port_ = 0;
};

}  // namespace firmo::notify::testing
