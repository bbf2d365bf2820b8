#include "jobs/key_use_flusher.hpp"

#include "core/log.hpp"

namespace firmo::jobs {

void KeyUseFlusher::Start() {
    thread_ = std::thread([this] {
        std::unique_lock lock(mu_);
        while (!wake_.wait_for(lock, tick_, [this] { return stopping_; })) {
            lock.unlock();
            Flush(false);
            lock.lock();
        }
    });
}

void KeyUseFlusher::Stop() {
    {
        const std::lock_guard lock(mu_);
        if (stopping_) return;
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
    Flush(true);
}

void KeyUseFlusher::Flush(bool all) {
    // "Last used" is approximate: a failed write is logged, not retried.
    if (auto written = issuers_.FlushKeyUses(all); !written) {
        log::Warn("api_key_use_not_written", {{"error", written.error().message}});
    }
}

}  // namespace firmo::jobs
