#pragma once
// Background work: claims jobs from the database with a lease (so any node may run them and a
// crashed node's jobs are taken over once the lease ends), runs them off the HTTP threads,
// retries failures with backoff, and sweeps expired requests periodically.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/metrics.hpp"
#include "domain/services/archive_service.hpp"
#include "domain/services/ceremony_service.hpp"
#include "domain/services/event_service.hpp"
#include "domain/services/request_service.hpp"

namespace firmo::jobs {

struct WorkerOptions {
    int threads = 1;  // jobs and the periodic sweep; 0: not on this node (an API-only node)
    std::chrono::milliseconds poll_interval{1000};  // when idle and not woken
    std::chrono::milliseconds lease{60'000};
    std::chrono::milliseconds expiry_sweep_interval{10'000};
    int max_attempts = 5;
    std::chrono::hours keep_finished_jobs{24 * 7};  // then the sweep deletes them
    std::string worker_id = "worker";
    int delivery_threads = 1;  // outbox delivery (e-mail, SMS, webhooks); 0: not on this node
    std::chrono::milliseconds delivery_poll{100};  // an indexed lookup: cheap
    // Where job metrics go (firmo_jobs_total{kind,outcome}, firmo_job_duration_seconds{kind}:
    // the sign_documents kind is the signing time); null: none.
    metrics::Registry* metrics = nullptr;
    // Runs the archive re-time-stamping jobs; null: they wait a day at a time (a node built
    // without the PDF engine, tests).
    domain::ArchiveService* archive = nullptr;
    // signing.provider = "csc": the sweep deletes long-expired QTSP authorizations; null: none.
    domain::QtspService* qtsp = nullptr;
};

// Wakes idle job threads as soon as a job is enqueued. Made before the services (their
// context's on_job_enqueued calls Notify() after a commit that enqueued a job) and handed to
// the Worker that waits on it, so neither needs the other to exist first. Thread-safe.
class JobSignal {
  public:
    void Notify();
    // Waits until Notify() (since the last wait), `timeout`, or `stop()` holds; NotifyAll()
    // makes every waiter check `stop` again.
    template <typename Stop>
    void WaitFor(std::chrono::milliseconds timeout, Stop stop) {
        std::unique_lock lock(mu_);
        cv_.wait_for(lock, timeout, [&] { return pending_ || stop(); });
        pending_ = false;
    }
    void NotifyAll();

  private:
    std::mutex mu_;
    std::condition_variable cv_;
    bool pending_ = false;
};

// "<host>-<pid>", the value of jobs.leased_by: tells an operator which node holds a job. The
// host name is cut at its first dot and to 32 characters so the id stays short; without a host
// name it is "node-<pid>".
std::string WorkerId(std::string_view hostname, long pid);
// WorkerId() of this process (gethostname, getpid).
std::string ThisProcessWorkerId();

class Worker {
  public:
    // Validation and upload jobs and the sweep run on `requests`, signing jobs on `ceremony`
    // (and through it the trust service), outbox delivery on `events`; `signal` wakes the job
    // threads when a job is enqueued. All must outlive the worker.
    Worker(domain::Database& db, domain::RequestService& requests,
           domain::CeremonyService& ceremony, domain::EventService& events, JobSignal& signal,
           const Clock& clock, WorkerOptions options);
    ~Worker();
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    void Start();
    // signing.provider = "csc": the sweep also deletes long-expired QTSP authorizations.
    // Before Start().
    void UseQtsp(domain::QtspService* qtsp) { options_.qtsp = qtsp; }
    void Stop();  // finishes the job at hand, then returns

    // One round: run every due job, then sweep expiry if due. For tests and the CLI.
    int RunOnce();

  private:
    void Loop();
    void DeliveryLoop();
    bool RunOneJob();

    domain::Database& db_;
    domain::RequestService& requests_;
    domain::CeremonyService& ceremony_;
    domain::EventService& events_;
    JobSignal& signal_;
    const Clock& clock_;
    WorkerOptions options_;
    std::atomic<bool> running_{false};
    std::mutex mu_;
    std::condition_variable delivery_cv_;
    std::vector<std::thread> threads_;
    std::atomic<std::int64_t> next_sweep_ms_{0};
    metrics::Family<metrics::Counter>* jobs_total_ = nullptr;
    metrics::Family<metrics::Histogram>* job_seconds_ = nullptr;
};

}  // namespace firmo::jobs
