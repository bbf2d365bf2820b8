#pragma once
// Writes API keys' "last used" (domain::IssuerService::FlushKeyUses) from a thread of its own,
// every `tick`, and everything still pending when it stops (shutdown). The per-key limit of
// one write a minute is the service's; the tick only bounds how late a first use shows. On
// every node, API-only ones included (the jobs' Worker may not run there).

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "domain/services/issuer_service.hpp"

namespace firmo::jobs {

class KeyUseFlusher {
  public:
    KeyUseFlusher(domain::IssuerService& issuers, std::chrono::milliseconds tick)
        : issuers_(issuers), tick_(tick) {}
    ~KeyUseFlusher() { Stop(); }
    KeyUseFlusher(const KeyUseFlusher&) = delete;
    KeyUseFlusher& operator=(const KeyUseFlusher&) = delete;

    void Start();
    // Stops the thread, then writes every pending use. Idempotent.
    void Stop();

  private:
    void Flush(bool all);

    domain::IssuerService& issuers_;
    const std::chrono::milliseconds tick_;
    std::mutex mu_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace firmo::jobs
