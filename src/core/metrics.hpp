#pragma once
// Metrics in the Prometheus text format 0.0.4: a Registry of counters, gauges and histograms,
// plain or with labels (a Family), and gauges computed at scrape time by a callback (queue
// depths, pool use: whatever is cheaper to ask than to track). Any module may add to the
// registry it is given; GET /metrics renders it.
//
// Thread safety: everything is thread-safe. Updating a metric is a relaxed atomic operation
// (no lock, no allocation). Family::With() takes a lock and may allocate: call it once and
// keep the reference (children live as long as the registry), or use a ChildCache on hot
// paths. Registration is meant for start-up; Render() takes the registry's lock.
//
// Cardinality: label values must come from small closed sets (a route pattern, never a raw
// path; a status code; a job kind). Every distinct combination is kept for the life of the
// process.

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace firmo::metrics {

// Upper bounds (seconds) for request and job durations: 0.5 ms to 10 s.
inline constexpr std::array<double, 14> kLatencyBuckets = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0};

class Counter {
  public:
    void Inc(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
    std::uint64_t Value() const { return value_.load(std::memory_order_relaxed); }

  private:
    std::atomic<std::uint64_t> value_{0};
};

class Gauge {
  public:
    void Set(double v) { value_.store(v, std::memory_order_relaxed); }
    void Add(double v) { value_.fetch_add(v, std::memory_order_relaxed); }
    double Value() const { return value_.load(std::memory_order_relaxed); }

  private:
    std::atomic<double> value_{0};
};

class Histogram {
  public:
    // `bounds`: the buckets' upper bounds, strictly increasing (+Inf is implicit).
    explicit Histogram(std::span<const double> bounds);
    void Observe(double value);

    struct Snapshot {
        std::vector<std::uint64_t> cumulative;  // per bound, then +Inf (== count)
        double sum = 0;
    };
    Snapshot Read() const;
    const std::vector<double>& bounds() const { return bounds_; }

  private:
    std::vector<double> bounds_;
    std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;  // per bucket (not cumulative)
    std::atomic<double> sum_{0};
};

enum class Type { kCounter, kGauge, kHistogram };

class Registry;

// A metric with labels: one child per combination of label values, created on first use.
template <class M>
class Family {
  public:
    // The child for these label values (as many as the family's label names). The reference
    // stays valid as long as the registry.
    M& With(std::initializer_list<std::string_view> values);
    const std::vector<std::string>& label_names() const { return label_names_; }

  private:
    friend class Registry;
    Family(std::vector<std::string> label_names, std::vector<double> bounds)
        : label_names_(std::move(label_names)), bounds_(std::move(bounds)) {}

    std::vector<std::string> label_names_;
    std::vector<double> bounds_;  // histograms only
    mutable std::shared_mutex mu_;
    std::map<std::vector<std::string>, std::unique_ptr<M>, std::less<>> children_;
};

// A few children of a family found by a small integer key without a lock: for hot paths
// whose key is known to stay within a handful of values (e.g. status codes of one route).
// Slots are written once; when all are taken, Find() misses and the caller uses With().
template <class M, std::size_t N = 8>
class ChildCache {
  public:
    M* Find(std::uint32_t key) const {
        for (const auto& slot : slots_) {
            const auto k = slot.key.load(std::memory_order_acquire);
            if (k == 0) return nullptr;
            if (k == key + 1) return slot.child.load(std::memory_order_relaxed);
        }
        return nullptr;
    }
    void Remember(std::uint32_t key, M* child) {
        std::lock_guard lock(mu_);
        for (auto& slot : slots_) {
            const auto k = slot.key.load(std::memory_order_relaxed);
            if (k == key + 1) return;
            if (k == 0) {
                slot.child.store(child, std::memory_order_relaxed);
                slot.key.store(key + 1, std::memory_order_release);
                return;
            }
        }
    }

  private:
    struct Slot {
        std::atomic<std::uint32_t> key{0};  // key + 1; 0: free
        std::atomic<M*> child{nullptr};
    };
    std::array<Slot, N> slots_;
    std::mutex mu_;
};

// One sample of a gauge computed at scrape time.
struct Sample {
    std::vector<std::pair<std::string, std::string>> labels;  // (name, value)
    double value = 0;
};

class Registry {
  public:
    Registry() = default;
    Registry(const Registry&) = delete;
    Registry& operator=(const Registry&) = delete;

    // Registering a name twice returns the first metric when the type and labels match (so
    // two components may share one), and throws std::invalid_argument otherwise, or when a
    // name is not a valid metric or label name: both are programming errors.
    Counter& AddCounter(const std::string& name, const std::string& help);
    Gauge& AddGauge(const std::string& name, const std::string& help);
    Histogram& AddHistogram(const std::string& name, const std::string& help,
                            std::span<const double> bounds = kLatencyBuckets);
    Family<Counter>& AddCounterFamily(const std::string& name, const std::string& help,
                                      std::vector<std::string> labels);
    Family<Gauge>& AddGaugeFamily(const std::string& name, const std::string& help,
                                  std::vector<std::string> labels);
    Family<Histogram>& AddHistogramFamily(const std::string& name, const std::string& help,
                                          std::vector<std::string> labels,
                                          std::span<const double> bounds = kLatencyBuckets);
    // A gauge (or counter) whose samples `collect` computes at every scrape. It runs on the
    // thread that renders (GET /metrics runs on the database lane: it may query the
    // database). An empty result prints only the HELP and TYPE lines.
    void AddCallback(const std::string& name, const std::string& help, Type type,
                     std::function<std::vector<Sample>()> collect);
    // The common case: one unlabelled value.
    void AddCallback(const std::string& name, const std::string& help,
                     std::function<double()> value);

    // Every metric in the text format 0.0.4, in registration order; the children of a family
    // sorted by their label values.
    std::string Render() const;

  private:
    struct Entry {
        std::string name;
        std::string help;
        Type type;
        std::vector<std::string> labels;
        std::unique_ptr<Counter> counter;
        std::unique_ptr<Gauge> gauge;
        std::unique_ptr<Histogram> histogram;
        std::unique_ptr<Family<Counter>> counters;
        std::unique_ptr<Family<Gauge>> gauges;
        std::unique_ptr<Family<Histogram>> histograms;
        std::function<std::vector<Sample>()> collect;
    };
    // The entry named `name`, created by `make` when new; checks type and labels.
    Entry& Find(const std::string& name, Type type, const std::vector<std::string>& labels,
                bool callback, const std::function<void(Entry&)>& make);

    mutable std::mutex mu_;
    std::vector<std::unique_ptr<Entry>> entries_;
};

// The text format's escaping of a label value: backslash, double quote and newline.
std::string EscapeLabelValue(std::string_view value);
// A sample value as the text format writes it: integers without a fraction, +Inf, -Inf, NaN.
std::string FormatValue(double value);

}  // namespace firmo::metrics
