#pragma once
// Gauges of the queues every node shares, read from the database at each scrape of
// GET /metrics (which runs on the database lane): background jobs not yet done, by kind, and
// outbox messages neither delivered nor abandoned, by channel, with how late the most overdue
// of each queue is. These are cluster-wide values: every node reports the same numbers.
//
// A scrape costs one statement per queue (JobRepository::Pending, OutboxRepository::Pending,
// each over a partial index of the pending rows): a queue's age gauge reuses the reading its
// count gauge has just taken. When the database fails, the samples are left out of that scrape
// (never an exception, never a made-up zero) and firmo_metrics_collect_errors_total{source}
// counts the failure.
//
// Thread safety: the callbacks may run from concurrent scrapes. They block on the database.

#include "core/clock.hpp"
#include "core/metrics.hpp"
#include "domain/ports/database.hpp"

namespace firmo::jobs {

// Registers firmo_jobs_pending, firmo_jobs_oldest_pending_age_seconds, firmo_outbox_pending,
// firmo_outbox_oldest_pending_age_seconds and firmo_metrics_collect_errors_total. `db` and
// `clock` must outlive every Render() of `registry`.
void RegisterQueueMetrics(metrics::Registry& registry, domain::Database& db, const Clock& clock);

}  // namespace firmo::jobs
