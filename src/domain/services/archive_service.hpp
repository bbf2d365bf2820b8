#pragma once
// The archive re-time-stamping of signed documents (PAdES B-LTA): before the certificate of a
// stored document's last time-stamp expires, add validation data for that time-stamp and a new
// document time-stamp, and store the result as the document's current signed version. Each
// signed document has one open job (JobKind::kArchiveTimestamp, enqueued when its request is
// signed) that is rescheduled for its next renewal, so several nodes share the work through the
// job leases. A run is idempotent: it renews only a document whose proof ends within
// `renew_before`, and stores only over the version it read. Thread-safe; blocking (files, the
// time-stamp authority): worker threads only.

#include <chrono>

#include "core/metrics.hpp"
#include "domain/model.hpp"
#include "domain/ports/archive_timestamper.hpp"
#include "domain/services/context.hpp"

namespace firmo::domain {

struct ArchiveOptions {
    bool enabled = true;
    // Renew when the last time-stamp's chain expires within this.
    std::chrono::seconds renew_before{std::chrono::hours(24 * 90)};
    // After a failed renewal (a TSA down), try again this much later.
    std::chrono::seconds retry_after{std::chrono::hours(1)};
    // While disabled, or for a document nothing time-stamps, look again this much later.
    std::chrono::seconds idle_recheck{std::chrono::hours(24)};
};

class ArchiveService {
  public:
    // `metrics` may be null (no metrics): firmo_archive_timestamps_total{outcome}.
    ArchiveService(ServiceContext& ctx, const ArchiveTimestamper& timestamper,
                   ArchiveOptions options, metrics::Registry* metrics = nullptr);

    // The enqueued job of a document just signed for good (its request SIGNED): first due a
    // day later.
    static Job JobFor(const SignatureRequest& request, const Document& document, Timestamp now);

    // One run of a document's job: when to run it again, or nothing when the job is over (the
    // request or document is gone). A failed renewal is logged, counted and tried again later
    // (never abandoned: the document would drop out of the archive).
    [[nodiscard]] Result<std::optional<Timestamp>> RunArchive(const Job& job);

  private:
    void Count(const char* outcome);

    ServiceContext& ctx_;
    const ArchiveTimestamper& timestamper_;
    ArchiveOptions options_;
    metrics::Family<metrics::Counter>* outcomes_ = nullptr;
};

}  // namespace firmo::domain
