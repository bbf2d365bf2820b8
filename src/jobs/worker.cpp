#include "jobs/worker.hpp"

#include <unistd.h>

#include <algorithm>
#include <climits>

#include "core/log.hpp"
#include "domain/services/idempotency_service.hpp"

namespace firmo::jobs {

using namespace firmo::domain;

std::string WorkerId(std::string_view hostname, long pid) {
    std::string_view host = hostname.substr(0, hostname.find('.'));
    host = host.substr(0, 32);
    return (host.empty() ? std::string("node") : std::string(host)) + "-" + std::to_string(pid);
}

std::string ThisProcessWorkerId() {
    char name[HOST_NAME_MAX + 1] = {};
    const std::string_view host = ::gethostname(name, sizeof name - 1) == 0 ? name : "";
    return WorkerId(host, static_cast<long>(::getpid()));
}

void JobSignal::Notify() {
    {
        std::lock_guard lock(mu_);
        pending_ = true;
    }
    cv_.notify_one();
}

void JobSignal::NotifyAll() {
    // Under the lock: a waiter between its check of `stop` and its wait cannot miss it.
    std::lock_guard lock(mu_);
    cv_.notify_all();
}

Worker::Worker(Database& db, RequestService& requests, CeremonyService& ceremony,
               EventService& events, JobSignal& signal, const Clock& clock, WorkerOptions options)
    : db_(db),
      requests_(requests),
      ceremony_(ceremony),
      events_(events),
      signal_(signal),
      clock_(clock),
      options_(std::move(options)) {
    if (options_.metrics) {
        jobs_total_ = &options_.metrics->AddCounterFamily(
            "firmo_jobs_total",
            "Background jobs run by this node, by kind and outcome (done, rescheduled, retry, "
            "abandoned, lease_lost).",
            {"kind", "outcome"});
        job_seconds_ = &options_.metrics->AddHistogramFamily(
            "firmo_job_duration_seconds",
            "Time to run one background job, by kind (sign_documents: signing a request's "
            "documents).",
            {"kind"});
    }
}

Worker::~Worker() { Stop(); }

void Worker::Start() {
    if (running_.exchange(true)) return;
    for (int i = 0; i < options_.threads; ++i) threads_.emplace_back([this] { Loop(); });
    for (int i = 0; i < options_.delivery_threads; ++i) {
        threads_.emplace_back([this] { DeliveryLoop(); });
    }
}

void Worker::Stop() {
    if (!running_.exchange(false)) return;
    signal_.NotifyAll();
    {
        std::lock_guard lock(mu_);
        delivery_cv_.notify_all();
    }
    for (auto& t : threads_) t.join();
    threads_.clear();
}

bool Worker::RunOneJob() {
    auto claimed = InWriteTransaction(db_, [&](Transaction& tx) {
        return tx.jobs().Claim(clock_.Now(), options_.lease, options_.worker_id);
    });
    if (!claimed) {
        log::Warn("job_claim_failed", {{"error", claimed.error().message}});
        return false;
    }
    if (!*claimed) return false;
    const Job& job = **claimed;
    const auto started = std::chrono::steady_clock::now();
    const bool signing = job.kind == JobKind::kSignDocuments;
    Result<void> result;
    std::optional<Timestamp> again;  // a look that found nothing yet: run again then
    if (signing) {
        result = ceremony_.RunSigning(job);
    } else if (job.kind == JobKind::kAwaitUpload) {
        auto next = requests_.RunAwaitUpload(job);
        if (next) {
            again = *next;
        } else {
            result = Fail(next.error());
        }
    } else if (job.kind == JobKind::kArchiveTimestamp) {
        auto next = options_.archive != nullptr
                        ? options_.archive->RunArchive(job)
                        : Result<std::optional<Timestamp>>(clock_.Now() + std::chrono::hours(24));
        if (next) {
            again = *next;
        } else {
            result = Fail(next.error());
        }
    } else if (job.kind == JobKind::kActivateRequest) {
        result = requests_.RunActivation(job);
    } else {
        result = requests_.RunValidation(job);
    }
    if (!result && job.attempts >= options_.max_attempts) {
        Result<void> abandoned;
        if (signing) {
            abandoned = ceremony_.AbandonSigning(job, result.error().message);
        } else if (job.kind == JobKind::kValidateDocument) {
            abandoned = requests_.AbandonValidation(job, result.error().message);
        }
        if (!abandoned) {
            log::Error("job_abandon_failed", {{"error", abandoned.error().message}});
        }
    }
    auto finish = InWriteTransaction(db_, [&](Transaction& tx) -> Result<bool> {
        if (result && again) return tx.jobs().Reschedule(job, *again);
        if (result || job.attempts >= options_.max_attempts) {
            if (!result) {
                log::Error("job_abandoned", {{"job", std::to_string(job.id)},
                                             {"kind", std::string(ToString(job.kind))},
                                             {"request_id", job.request_id},
                                             {"error", result.error().message}});
            }
            return tx.jobs().Complete(job);
        }
        // Exponential backoff: 2 s, 4 s, 8 s, ...
        const auto delay = std::chrono::seconds(1LL << std::min(job.attempts, 10));
        log::Warn("job_retry", {{"job", std::to_string(job.id)},
                                {"attempt", std::to_string(job.attempts)},
                                {"error", result.error().message}});
        return tx.jobs().Retry(job, clock_.Now() + delay, result.error().message);
    });
    if (finish && !*finish) {
        // This run outlived its lease and another worker holds the job now: its outcome is
        // that worker's to record (the services' own checks kept this run from storing twice).
        log::Warn("job_lease_lost", {{"job", std::to_string(job.id)},
                                     {"kind", std::string(ToString(job.kind))},
                                     {"worker", job.leased_by}});
    }
    if (!finish) log::Warn("job_finish_failed", {{"error", finish.error().message}});
    if (jobs_total_) {
        const std::string_view kind = ToString(job.kind);
        const std::string_view outcome = finish && !*finish                      ? "lease_lost"
                                         : result && again                       ? "rescheduled"
                                         : result                                ? "done"
                                         : job.attempts >= options_.max_attempts ? "abandoned"
                                                                                 : "retry";
        jobs_total_->With({kind, outcome}).Inc();
        job_seconds_->With({kind}).Observe(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    }
    return true;
}

int Worker::RunOnce() {
    int ran = 0;
    while (RunOneJob()) ++ran;
    const auto now_ms = ToUnixMillis(clock_.Now());
    auto due = next_sweep_ms_.load();
    // Compare-and-swap: of several threads finding the sweep due, one runs it.
    if (now_ms >= due && next_sweep_ms_.compare_exchange_strong(
                             due, now_ms + options_.expiry_sweep_interval.count())) {
        const Timestamp now = clock_.Now();
        auto purged = InWriteTransaction(db_, [&](Transaction& tx) -> Result<std::int64_t> {
            std::int64_t removed = 0;
            for (auto purge : {
                     tx.idempotency().Purge(now - IdempotencyService::kRetention),
                     tx.jobs().PurgeFinished(now - options_.keep_finished_jobs),
                     tx.sessions().PurgeExpired(now),
                     tx.codes().PurgeExpired(now),
                     tx.signer_tokens().PurgeExpired(now),
                     tx.rate_limits().Purge(now),
                     tx.staff().PurgeExpiredSessions(now),
                 }) {
                FIRMO_TRY(auto count, std::move(purge));
                removed += count;
            }
            return removed;
        });
        if (!purged) log::Warn("purge_failed", {{"error", purged.error().message}});
        auto reminders = requests_.SendReminders(500);
        if (!reminders) log::Warn("reminders_failed", {{"error", reminders.error().message}});
        auto expired = requests_.ExpireDue(500);
        if (!expired) {
            log::Warn("expiry_sweep_failed", {{"error", expired.error().message}});
        } else if (*expired > 0) {
            log::Info("requests_expired", {{"count", std::to_string(*expired)}});
        }
        auto retained = requests_.DeleteRetainedDocuments(100);
        if (!retained) {
            log::Warn("retention_sweep_failed", {{"error", retained.error().message}});
        } else if (*retained > 0) {
            log::Info("documents_deleted", {{"count", std::to_string(*retained)}});
        }
        if (options_.qtsp != nullptr) {
            // signing.provider = "csc": authorizations long expired. A signer whose pending
            // authorization is gone gets their turn back at their next look.
            auto swept = options_.qtsp->Sweep();
            if (!swept) {
                log::Warn("qtsp_sweep_failed", {{"error", swept.error().message}});
            } else if (*swept > 0) {
                log::Info("qtsp_authorizations_deleted", {{"count", std::to_string(*swept)}});
            }
        }
    }
    return ran;
}

void Worker::DeliveryLoop() {
    while (running_) {
        auto delivered = events_.DeliverOne();
        if (!delivered) {
            log::Warn("delivery_failed", {{"error", delivered.error().message}});
        } else if (*delivered) {
            continue;  // more may be due
        }
        std::unique_lock lock(mu_);
        delivery_cv_.wait_for(lock, options_.delivery_poll, [this] { return !running_; });
    }
}

void Worker::Loop() {
    while (running_) {
        RunOnce();
        signal_.WaitFor(options_.poll_interval, [this] { return !running_; });
    }
}

}  // namespace firmo::jobs
