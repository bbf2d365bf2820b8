#pragma once
// Where a request's handler runs. Every route declares what it does, and so its lane:
//
//   kInline    never blocks (health, the OpenAPI document): runs on the I/O thread that read
//              the request, right away. No hand-off, no queue.
//   kDatabase  short blocking work: a few database statements, a small file, a template: on
//              a pool of `database_threads` threads (on PostgreSQL each statement is a round
//              trip that would stall every other connection of an I/O thread; on SQLite the
//              pool measured faster too). With `database_threads` = 0 it runs inline.
//   kHeavy     PDF work (validate-document, verify), document uploads and downloads: a pool
//              of `heavy_threads` with at most `heavy_queue` requests waiting. A request that
//              would wait beyond that is refused at once (the front door answers 503 with
//              Retry-After) instead of queueing without end.
//
// So cheap requests never wait behind PDF work: /healthz is answered by an I/O thread while
// every heavy thread is busy, and a burst of uploads costs memory only up to the queue.
// Thread-safe.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>
#include <utility>

#include "core/metrics.hpp"

namespace firmo::http {

enum class Lane : std::uint8_t { kInline, kDatabase, kHeavy };
std::string_view ToString(Lane lane);  // "inline" | "database" | "heavy"

struct LaneOptions {
    int database_threads = 0;  // 0: database work runs on the I/O threads
    int heavy_threads = 2;
    int heavy_queue = 16;  // heavy requests waiting for a thread, at most
};

// A pool of threads with an admission count (the queue budget). Used by Lanes.
class LanePool {
  public:
    LanePool(int threads, std::int64_t max_queued);
    ~LanePool();
    LanePool(const LanePool&) = delete;
    LanePool& operator=(const LanePool&) = delete;

    bool Admit();  // counts one more waiting, unless max_queued already wait
    void Started() {
        queued_.fetch_sub(1, std::memory_order_relaxed);
        running_.fetch_add(1, std::memory_order_relaxed);
    }
    void Finished() { running_.fetch_sub(1, std::memory_order_relaxed); }
    template <class F>
    void Post(F&& f) {
        PostImpl(std::make_unique<Task<std::decay_t<F>>>(std::forward<F>(f)));
    }
    std::int64_t queued() const { return queued_.load(std::memory_order_relaxed); }
    std::int64_t running() const { return running_.load(std::memory_order_relaxed); }
    std::uint64_t rejected() const { return rejected_.load(std::memory_order_relaxed); }

    struct TaskBase {
        virtual ~TaskBase() = default;
        virtual void Run() = 0;
    };

  private:
    template <class F>
    struct Task final : TaskBase {
        explicit Task(F&& fn) : f(std::move(fn)) {}
        void Run() override { f(); }
        F f;
    };
    void PostImpl(std::unique_ptr<TaskBase> task);

    struct Impl;
    std::unique_ptr<Impl> impl_;
    std::int64_t max_queued_;
    std::atomic<std::int64_t> queued_{0};
    std::atomic<std::int64_t> running_{0};
    std::atomic<std::uint64_t> rejected_{0};
};

class Lanes {
  public:
    explicit Lanes(LaneOptions options);
    // Waits for the work already queued to finish.
    ~Lanes();
    Lanes(const Lanes&) = delete;
    Lanes& operator=(const Lanes&) = delete;

    // Whether work of this lane runs on the calling (I/O) thread.
    bool RunsInline(Lane lane) const {
        return lane == Lane::kInline || (lane == Lane::kDatabase && !database_);
    }

    // Queues `work` (void()) on the lane's pool. False when the lane's queue is full: then
    // `work` is left untouched (not moved from), so the caller can still answer.
    template <class F>
    bool TryPost(Lane lane, F&& work) {
        LanePool* pool = lane == Lane::kHeavy ? heavy_.get() : database_.get();
        if (!pool || !pool->Admit()) return false;
        pool->Post([pool, w = std::forward<F>(work)]() mutable {
            pool->Started();
            w();
            pool->Finished();
        });
        return true;
    }

    struct Stats {
        std::int64_t queued = 0;   // waiting for a thread
        std::int64_t running = 0;  // on a thread now
        std::uint64_t rejected = 0;
    };
    Stats stats(Lane lane) const;

    // firmo_lane_queued{lane}, firmo_lane_running{lane}, firmo_lane_rejected_total{lane}.
    void RegisterMetrics(metrics::Registry& registry) const;

  private:
    LaneOptions options_;
    std::unique_ptr<LanePool> database_;  // null: inline
    std::unique_ptr<LanePool> heavy_;
};

}  // namespace firmo::http
