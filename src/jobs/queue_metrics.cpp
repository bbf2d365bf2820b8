#include "jobs/queue_metrics.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/log.hpp"
#include "domain/model.hpp"

namespace firmo::jobs {

namespace {

using domain::PendingCount;

// An age gauge reuses its queue's latest reading when it is this recent (the count gauge has
// just taken it in the same scrape); otherwise it reads the queue itself.
constexpr auto kReuseReading = std::chrono::seconds(1);

// One queue: how to read it, its known kinds (reported as 0 when empty, so that series do not
// vanish), and its latest reading.
class Queue {
  public:
    using Read = Result<std::vector<PendingCount>> (*)(domain::Transaction&);

    Queue(std::string_view source, std::vector<std::string> kinds, Read read, domain::Database& db)
        : source_(source), kinds_(std::move(kinds)), read_(read), db_(db) {}

    const std::string& source() const { return source_; }
    const std::vector<std::string>& kinds() const { return kinds_; }
    std::uint64_t failures() const { return failures_.load(std::memory_order_relaxed); }

    // A fresh reading; nothing when the database failed (counted and logged).
    std::optional<std::vector<PendingCount>> ReadNow() {
        auto reading = Query();
        std::lock_guard lock(mu_);
        latest_ = reading;
        latest_at_ = std::chrono::steady_clock::now();
        return reading;
    }
    // The latest reading if recent, else a fresh one.
    std::optional<std::vector<PendingCount>> ReadRecent() {
        {
            std::lock_guard lock(mu_);
            if (latest_at_ && std::chrono::steady_clock::now() - *latest_at_ < kReuseReading) {
                return latest_;
            }
        }
        return ReadNow();
    }

  private:
    std::optional<std::vector<PendingCount>> Query() {
        std::string error;
        try {
            auto tx = db_.Begin(domain::TxMode::kSingle);
            if (tx) {
                auto got = read_(**tx);
                if (got) return std::move(*got);
                error = got.error().message;
            } else {
                error = tx.error().message;
            }
        } catch (const std::exception& e) {
            error = e.what();  // a scrape must not fail for it
        }
        failures_.fetch_add(1, std::memory_order_relaxed);
        log::Warn("metrics_collect_failed", {{"source", source_}, {"error", error}});
        return std::nullopt;
    }

    const std::string source_;
    const std::vector<std::string> kinds_;
    const Read read_;
    domain::Database& db_;
    std::atomic<std::uint64_t> failures_{0};
    std::mutex mu_;
    std::optional<std::vector<PendingCount>> latest_;
    std::optional<std::chrono::steady_clock::time_point> latest_at_;
};

// One sample per known kind (0 when it has none) and per other kind the store returned.
std::vector<metrics::Sample> CountSamples(const Queue& queue, const std::string& label,
                                          const std::vector<PendingCount>& pending) {
    std::vector<metrics::Sample> samples;
    for (const auto& kind : queue.kinds()) {
        samples.push_back(metrics::Sample{{{label, kind}}, 0});
    }
    for (const auto& p : pending) {
        auto known = std::find_if(samples.begin(), samples.end(),
                                  [&](const auto& s) { return s.labels[0].second == p.kind; });
        if (known == samples.end()) {
            samples.push_back(metrics::Sample{{{label, p.kind}}, 0});
            known = samples.end() - 1;
        }
        known->value = static_cast<double>(p.count);
    }
    return samples;
}

// Seconds since the most overdue item became due; 0 when none is due yet (or none waits).
double LatenessSeconds(const std::vector<PendingCount>& pending, Timestamp now) {
    std::optional<Timestamp> oldest;
    for (const auto& p : pending) {
        if (p.count > 0 && (!oldest || p.oldest_due < *oldest)) oldest = p.oldest_due;
    }
    if (!oldest || *oldest >= now) return 0;
    return std::chrono::duration<double>(now - *oldest).count();
}

void RegisterQueue(metrics::Registry& registry, const Clock& clock,
                   const std::shared_ptr<Queue>& queue, const std::string& count_name,
                   const std::string& count_help, const std::string& label,
                   const std::string& age_name, const std::string& age_help) {
    registry.AddCallback(count_name, count_help, metrics::Type::kGauge, [queue, label] {
        auto pending = queue->ReadNow();
        if (!pending) return std::vector<metrics::Sample>{};
        return CountSamples(*queue, label, *pending);
    });
    registry.AddCallback(age_name, age_help, metrics::Type::kGauge, [queue, &clock] {
        auto pending = queue->ReadRecent();
        if (!pending) return std::vector<metrics::Sample>{};
        return std::vector<metrics::Sample>{{{}, LatenessSeconds(*pending, clock.Now())}};
    });
}

}  // namespace

void RegisterQueueMetrics(metrics::Registry& registry, domain::Database& db, const Clock& clock) {
    std::vector<std::string> job_kinds;
    for (auto kind : {domain::JobKind::kAwaitUpload, domain::JobKind::kSignDocuments,
                      domain::JobKind::kValidateDocument, domain::JobKind::kArchiveTimestamp,
                      domain::JobKind::kActivateRequest}) {
        job_kinds.emplace_back(domain::ToString(kind));
    }
    std::vector<std::string> channels;
    for (auto channel :
         {domain::Channel::kEmail, domain::Channel::kSms, domain::Channel::kWebhook}) {
        channels.emplace_back(domain::ToString(channel));
    }
    auto jobs = std::make_shared<Queue>(
        "jobs", std::move(job_kinds), [](domain::Transaction& tx) { return tx.jobs().Pending(); },
        db);
    auto outbox = std::make_shared<Queue>(
        "outbox", std::move(channels),
        [](domain::Transaction& tx) { return tx.outbox().Pending(); }, db);
    RegisterQueue(registry, clock, jobs, "firmo_jobs_pending",
                  "Background jobs not yet done (due, scheduled or running), by kind; the whole "
                  "cluster's, read from the database.",
                  "kind", "firmo_jobs_oldest_pending_age_seconds",
                  "Seconds since the most overdue pending job became due (0 when none is due): "
                  "grows when no job thread keeps up.");
    RegisterQueue(registry, clock, outbox, "firmo_outbox_pending",
                  "Outbox messages neither delivered nor abandoned (due or waiting for a retry), "
                  "by channel; the whole cluster's, read from the database.",
                  "channel", "firmo_outbox_oldest_pending_age_seconds",
                  "Seconds since the most overdue undelivered outbox message became due (0 when "
                  "none is due): grows when no delivery thread keeps up.");
    // Last, so that a scrape counts its own failures.
    registry.AddCallback(
        "firmo_metrics_collect_errors_total",
        "Reads of the database for a scrape that failed (their samples were left out), by "
        "source (jobs, outbox).",
        metrics::Type::kCounter, [jobs, outbox] {
            std::vector<metrics::Sample> samples;
            for (const auto& queue : {jobs, outbox}) {
                samples.push_back(metrics::Sample{{{"source", queue->source()}},
                                                  static_cast<double>(queue->failures())});
            }
            return samples;
        });
}

}  // namespace firmo::jobs
