#pragma once
// Port: background jobs, claimed with a lease so any node may run them and a dead node's work
// is taken over when its lease runs out.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "domain/model.hpp"

namespace firmo::domain {

class JobRepository {
  public:
    virtual ~JobRepository() = default;
    JobRepository() = default;
    JobRepository(const JobRepository&) = delete;
    JobRepository& operator=(const JobRepository&) = delete;

    // Returns the id the store assigned (job.id is ignored).
    [[nodiscard]] virtual Result<std::int64_t> Enqueue(const Job& job) = 0;
    // The oldest due job whose lease is free, leased to `worker` until now + lease, with its
    // attempts counted. On stores with row locks, concurrent claims skip each other's rows.
    [[nodiscard]] virtual Result<std::optional<Job>> Claim(Timestamp now,
                                                           std::chrono::milliseconds lease,
                                                           const std::string& worker) = 0;
    // Finishing a claimed job is fenced by its lease: these change the job only while `job`
    // (as claimed: same worker, same attempt) still holds it, and answer false otherwise (the
    // lease ran out and another worker took the job over).
    [[nodiscard]] virtual Result<bool> Complete(const Job& job) = 0;
    [[nodiscard]] virtual Result<bool> Retry(const Job& job, Timestamp run_at,
                                             const std::string& error) = 0;
    // Runs the job again at `run_at` without counting this run as an attempt (a poll that
    // found nothing to do yet is not a failure).
    [[nodiscard]] virtual Result<bool> Reschedule(const Job& job, Timestamp run_at) = 0;
    // The unfinished job of `kind` for one document (the newest), if any.
    [[nodiscard]] virtual Result<std::optional<Job>> FindOpen(JobKind kind,
                                                              const std::string& request_id,
                                                              const std::string& document_id) = 0;
    [[nodiscard]] virtual Result<void> Extend(std::int64_t job_id, Timestamp not_after) = 0;
    // Deletes finished jobs due before `before`; returns how many went.
    [[nodiscard]] virtual Result<std::int64_t> PurgeFinished(Timestamp before) = 0;
    // The unfinished jobs of every kind that has some, in kind order, for monitoring: one
    // statement over the pending jobs alone (an index of them), cheap enough for every scrape.
    [[nodiscard]] virtual Result<std::vector<PendingCount>> Pending() = 0;
};

}  // namespace firmo::domain
