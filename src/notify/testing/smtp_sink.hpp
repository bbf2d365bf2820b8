#pragma once
// Test-only: a real SMTP server on a free loopback port (tests/smtp/sink.py, on aiosmtpd), which
// parses each received message with Python's e-mail package and saves a JSON summary.

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "notify/testing/ready_server.hpp"

namespace firmo::notify::testing {

// True when Debian's python3 can import aiosmtpd.
inline bool SinkAvailable() {
    const std::string command = std::string(kPython) + " -c 'import aiosmtpd' >/dev/null 2>&1";
    return ::access(kPython, X_OK) == 0 && std::system(command.c_str()) == 0;
}

class SmtpSink {
  public:
    // `args` are extra sink.py options (--user, --password, --cert, --key, --tls).
    SmtpSink(const std::filesystem::path& dir, std::vector<std::string> args = {})
        : dir_(dir), server_(FIRMO_SMTP_SINK, WithDir(dir, std::move(args)), dir / "sink.log") {}
    SmtpSink(const SmtpSink&) = delete;
    SmtpSink& operator=(const SmtpSink&) = delete;

    bool ok() const { return server_.port() > 0; }
    int port() const { return server_.port(); }

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
    static std::vector<std::string> WithDir(const std::filesystem::path& dir,
                                            std::vector<std::string> args) {
        args.insert(args.begin(), {"--dir", dir.string()});
        return args;
    }

    std::filesystem::path dir_;
    ReadyServer server_;
};

}  // namespace firmo::notify::testing
