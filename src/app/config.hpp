#pragma once
// Firmo's configuration: defaults, then a TOML file (--config / FIRMO_CONFIG), then
// environment variables (FIRMO_*), then command-line flags; later sources win.
// docs/OPERATIONS.md lists every key.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace firmo::app {

struct Config {
    std::string listen = "127.0.0.1:8080";
    std::string public_url;  // empty: http://<the address actually listened on>
    std::string data_dir = "./data";
    int io_threads = 1;
    int worker_threads = 4;
    int job_threads = 1;
    int db_pool = 8;
    int read_timeout_s = 30;  // to receive one request's headers and body
    int idle_timeout_s = 60;  // between requests on a keep-alive connection
    std::int64_t max_document_bytes = 10 * 1024 * 1024;
    std::int64_t max_json_bytes = 1024 * 1024;
    int rate_limit_burst = 150;
    int rate_limit_window_ms = 5000;
    std::string log_level = "info";
    bool access_log = true;
    std::string bootstrap_email = "admin@localhost.localdomain";

    std::string host() const;
    unsigned short port() const;  // 0: any free port (the server prints the one it got)
};

// Parsed command line: positional words and --flags (--name value or --name=value; a flag
// without a value is "true").
struct Args {
    std::vector<std::string> positional;
    std::map<std::string, std::string> flags;

    std::optional<std::string> Flag(const std::string& name) const;
    bool Has(const std::string& name) const { return flags.count(name) > 0; }
};

[[nodiscard]] Result<Args> ParseArgs(const std::vector<std::string>& argv,
                                     const std::vector<std::string>& boolean_flags = {"help"});

// Loads the configuration for `args`; kInvalidArgument names the bad key and source.
[[nodiscard]] Result<Config> LoadConfig(const Args& args);

}  // namespace firmo::app
