#include "http/lanes.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <exception>
#include <limits>

#include "core/log.hpp"

namespace firmo::http {

std::string_view ToString(Lane lane) {
    switch (lane) {
        case Lane::kInline:
            return "inline";
        case Lane::kDatabase:
            return "database";
        case Lane::kHeavy:
            return "heavy";
    }
    return "inline";
}

struct LanePool::Impl {
    explicit Impl(int threads) : pool(static_cast<std::size_t>(threads)) {}
    boost::asio::thread_pool pool;
};

LanePool::LanePool(int threads, std::int64_t max_queued)
    : impl_(std::make_unique<Impl>(threads)), max_queued_(max_queued) {}

LanePool::~LanePool() { impl_->pool.join(); }

bool LanePool::Admit() {
    std::int64_t queued = queued_.load(std::memory_order_relaxed);
    do {
        if (queued >= max_queued_) {
            rejected_.fetch_add(1, std::memory_order_relaxed);
            return false;
        }
    } while (!queued_.compare_exchange_weak(queued, queued + 1, std::memory_order_relaxed));
    return true;
}

void LanePool::PostImpl(std::unique_ptr<TaskBase> task) {
    boost::asio::post(impl_->pool, [task = std::move(task)] {
        try {
            task->Run();
        } catch (const std::exception& e) {
            // Handlers answer their own errors; an exception here is a bug, and must not end
            // the pool's thread (and so the process).
            log::Error("lane_task_exception", {{"what", e.what()}});
        } catch (...) {
            log::Error("lane_task_exception");
        }
    });
}

Lanes::Lanes(LaneOptions options) : options_(options) {
    if (options_.database_threads > 0) {
        database_ = std::make_unique<LanePool>(options_.database_threads,
                                               std::numeric_limits<std::int64_t>::max());
    }
    heavy_ = std::make_unique<LanePool>(std::max(1, options_.heavy_threads),
                                        std::max(0, options_.heavy_queue));
}

Lanes::~Lanes() = default;

Lanes::Stats Lanes::stats(Lane lane) const {
    const LanePool* pool = lane == Lane::kHeavy      ? heavy_.get()
                           : lane == Lane::kDatabase ? database_.get()
                                                     : nullptr;
    if (!pool) return {};
    return {pool->queued(), pool->running(), pool->rejected()};
}

void Lanes::RegisterMetrics(metrics::Registry& registry) const {
    const auto per_lane = [this](auto field) {
        return [this, field] {
            std::vector<metrics::Sample> samples;
            for (Lane lane : {Lane::kDatabase, Lane::kHeavy}) {
                if (RunsInline(lane)) continue;
                samples.push_back(metrics::Sample{{{"lane", std::string(ToString(lane))}},
                                                  static_cast<double>(field(stats(lane)))});
            }
            return samples;
        };
    };
    registry.AddCallback("firmo_lane_queued", "Requests waiting for a thread of their lane.",
                         metrics::Type::kGauge, per_lane([](const Stats& s) { return s.queued; }));
    registry.AddCallback("firmo_lane_running", "Requests running on a thread of their lane.",
                         metrics::Type::kGauge, per_lane([](const Stats& s) { return s.running; }));
    registry.AddCallback(
        "firmo_lane_rejected_total",
        "Requests refused with 503 because their lane's queue was full.", metrics::Type::kCounter,
        per_lane([](const Stats& s) { return static_cast<std::int64_t>(s.rejected); }));
}

}  // namespace firmo::http
