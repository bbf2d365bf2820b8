#pragma once
// Test-only: a real HTTP server on a free loopback port (tests/http_sink/sink.py, Python's
// standard library), which records every request as a JSON line and answers 200 unless told
// otherwise through its control endpoint. The protocol is documented at the top of sink.py.

#include <curl/curl.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "notify/testing/ready_server.hpp"

namespace firmo::notify::testing {

class HttpSink {
  public:
    // Records go to <dir>/requests.jsonl; the sink's own log to <dir>/http_sink.log.
    explicit HttpSink(const std::filesystem::path& dir)
        : out_(dir / "requests.jsonl"),
          server_(FIRMO_HTTP_SINK, {"--out", out_.string()}, dir / "http_sink.log") {}
    HttpSink(const HttpSink&) = delete;
    HttpSink& operator=(const HttpSink&) = delete;

    bool ok() const { return server_.port() > 0; }
    int port() const { return server_.port(); }
    std::string Url(const std::string& path = "/hook") const {
        return "http://127.0.0.1:" + std::to_string(server_.port()) + path;
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
    ReadyServer server_;
};

}  // namespace firmo::notify::testing
