#include "core/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <type_traits>

namespace firmo::metrics {

namespace {

bool ValidName(std::string_view name, bool label) {
    if (name.empty()) return false;
    if (label && name.starts_with("__")) return false;  // reserved for Prometheus itself
    for (std::size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        const bool letter =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (!label && c == ':');
        if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
    }
    return true;
}

std::string_view TypeName(Type type) {
    switch (type) {
        case Type::kCounter:
            return "counter";
        case Type::kGauge:
            return "gauge";
        case Type::kHistogram:
            return "histogram";
    }
    return "untyped";
}

std::string EscapeHelp(std::string_view help) {
    std::string out;
    for (char c : help) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

// {a="x",b="y"} from names and values (extra: one more pair, e.g. le="0.5"); "" when empty.
std::string LabelText(const std::vector<std::string>& names, const std::vector<std::string>& values,
                      std::string_view extra_name = {}, std::string_view extra_value = {}) {
    if (names.empty() && extra_name.empty()) return {};
    std::string out = "{";
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (i > 0) out += ',';
        out += names[i];
        out += "=\"";
        out += EscapeLabelValue(values[i]);
        out += '"';
    }
    if (!extra_name.empty()) {
        if (!names.empty()) out += ',';
        out += extra_name;
        out += "=\"";
        out += extra_value;
        out += '"';
    }
    out += '}';
    return out;
}

void RenderHistogram(std::string& out, const std::string& name, const Histogram& h,
                     const std::vector<std::string>& names,
                     const std::vector<std::string>& values) {
    const auto snapshot = h.Read();
    const auto& bounds = h.bounds();
    for (std::size_t i = 0; i <= bounds.size(); ++i) {
        const std::string le = i < bounds.size() ? FormatValue(bounds[i]) : "+Inf";
        out += name + "_bucket" + LabelText(names, values, "le", le) + " " +
               std::to_string(snapshot.cumulative[i]) + "\n";
    }
    out += name + "_sum" + LabelText(names, values) + " " + FormatValue(snapshot.sum) + "\n";
    out += name + "_count" + LabelText(names, values) + " " +
           std::to_string(snapshot.cumulative.back()) + "\n";
}

template <class M>
void RenderFamily(std::string& out, const std::string& name, const Family<M>& family,
                  const std::vector<std::pair<std::vector<std::string>, const M*>>& children) {
    for (const auto& [values, child] : children) {
        if constexpr (std::is_same_v<M, Histogram>) {
            RenderHistogram(out, name, *child, family.label_names(), values);
        } else {
            out += name + LabelText(family.label_names(), values) + " " +
                   FormatValue(static_cast<double>(child->Value())) + "\n";
        }
    }
}

}  // namespace

std::string EscapeLabelValue(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (char c : value) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '"') {
            out += "\\\"";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

std::string FormatValue(double value) {
    if (std::isnan(value)) return "NaN";
    if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
    if (value == std::floor(value) && std::fabs(value) < 1e15) {
        return std::to_string(static_cast<long long>(value));
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", value);
    // The shortest form that reads back the same, for readable bounds such as 0.005.
    for (int precision = 1; precision < 17; ++precision) {
        char shorter[32];
        std::snprintf(shorter, sizeof shorter, "%.*g", precision, value);
        if (std::strtod(shorter, nullptr) == value) return shorter;
    }
    return buf;
}

Histogram::Histogram(std::span<const double> bounds)
    : bounds_(bounds.begin(), bounds.end()),
      counts_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds.size() + 1)) {
    for (std::size_t i = 1; i < bounds_.size(); ++i) {
        if (!(bounds_[i - 1] < bounds_[i])) {
            throw std::invalid_argument("histogram bounds must increase");
        }
    }
}

void Histogram::Observe(double value) {
    // A linear scan: 14 bounds are faster to walk than to bisect.
    std::size_t i = 0;
    while (i < bounds_.size() && value > bounds_[i]) ++i;
    counts_[i].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(value, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::Read() const {
    Snapshot s;
    std::uint64_t total = 0;
    for (std::size_t i = 0; i <= bounds_.size(); ++i) {
        total += counts_[i].load(std::memory_order_relaxed);
        s.cumulative.push_back(total);
    }
    s.sum = sum_.load(std::memory_order_relaxed);
    return s;
}

template <class M>
M& Family<M>::With(std::initializer_list<std::string_view> values) {
    if (values.size() != label_names_.size()) {
        throw std::invalid_argument("wrong number of label values");
    }
    std::vector<std::string> key(values.begin(), values.end());
    {
        std::shared_lock lock(mu_);
        if (auto it = children_.find(key); it != children_.end()) return *it->second;
    }
    std::unique_lock lock(mu_);
    auto& child = children_[std::move(key)];
    if (!child) {
        if constexpr (std::is_same_v<M, Histogram>) {
            child = std::make_unique<Histogram>(bounds_);
        } else {
            child = std::make_unique<M>();
        }
    }
    return *child;
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

Registry::Entry& Registry::Find(const std::string& name, Type type,
                                const std::vector<std::string>& labels, bool callback,
                                const std::function<void(Entry&)>& make) {
    if (!ValidName(name, false)) throw std::invalid_argument("bad metric name: " + name);
    for (const auto& label : labels) {
        if (!ValidName(label, true) || label == "le") {
            throw std::invalid_argument("bad label name: " + label);
        }
    }
    std::lock_guard lock(mu_);
    for (auto& e : entries_) {
        if (e->name != name) continue;
        if (e->type != type || e->labels != labels || static_cast<bool>(e->collect) != callback) {
            throw std::invalid_argument("metric " + name + " registered twice, differently");
        }
        return *e;
    }
    auto entry = std::make_unique<Entry>();
    entry->name = name;
    entry->type = type;
    entry->labels = labels;
    make(*entry);
    entries_.push_back(std::move(entry));
    return *entries_.back();
}

Counter& Registry::AddCounter(const std::string& name, const std::string& help) {
    return *Find(name, Type::kCounter, {}, false, [&](Entry& e) {
                e.help = help;
                e.counter = std::make_unique<Counter>();
            }).counter;
}

Gauge& Registry::AddGauge(const std::string& name, const std::string& help) {
    return *Find(name, Type::kGauge, {}, false, [&](Entry& e) {
                e.help = help;
                e.gauge = std::make_unique<Gauge>();
            }).gauge;
}

Histogram& Registry::AddHistogram(const std::string& name, const std::string& help,
                                  std::span<const double> bounds) {
    return *Find(name, Type::kHistogram, {}, false, [&](Entry& e) {
                e.help = help;
                e.histogram = std::make_unique<Histogram>(bounds);
            }).histogram;
}

Family<Counter>& Registry::AddCounterFamily(const std::string& name, const std::string& help,
                                            std::vector<std::string> labels) {
    return *Find(name, Type::kCounter, labels, false, [&](Entry& e) {
                e.help = help;
                e.counters.reset(new Family<Counter>(labels, {}));
            }).counters;
}

Family<Gauge>& Registry::AddGaugeFamily(const std::string& name, const std::string& help,
                                        std::vector<std::string> labels) {
    return *Find(name, Type::kGauge, labels, false, [&](Entry& e) {
                e.help = help;
                e.gauges.reset(new Family<Gauge>(labels, {}));
            }).gauges;
}

Family<Histogram>& Registry::AddHistogramFamily(const std::string& name, const std::string& help,
                                                std::vector<std::string> labels,
                                                std::span<const double> bounds) {
    // Checks the bounds once, here, rather than at the first child.
    Histogram check(bounds);
    return *Find(name, Type::kHistogram, labels, false, [&](Entry& e) {
                e.help = help;
                e.histograms.reset(new Family<Histogram>(
                    labels, std::vector<double>(bounds.begin(), bounds.end())));
            }).histograms;
}

void Registry::AddCallback(const std::string& name, const std::string& help, Type type,
                           std::function<std::vector<Sample>()> collect) {
    if (type == Type::kHistogram) throw std::invalid_argument("callbacks give counters or gauges");
    Find(name, type, {}, true, [&](Entry& e) {
        e.help = help;
        e.collect = std::move(collect);
    });
}

void Registry::AddCallback(const std::string& name, const std::string& help,
                           std::function<double()> value) {
    AddCallback(name, help, Type::kGauge, [value = std::move(value)] {
        return std::vector<Sample>{Sample{{}, value()}};
    });
}

std::string Registry::Render() const {
    // Copies what to print under the lock, prints outside of it: callbacks may be slow.
    struct Item {
        const Entry* entry;
        std::vector<std::pair<std::vector<std::string>, const Counter*>> counters;
        std::vector<std::pair<std::vector<std::string>, const Gauge*>> gauges;
        std::vector<std::pair<std::vector<std::string>, const Histogram*>> histograms;
    };
    std::vector<Item> items;
    {
        std::lock_guard lock(mu_);
        for (const auto& e : entries_) {
            Item item{e.get(), {}, {}, {}};
            const auto copy = [](const auto& family, auto& out) {
                std::shared_lock family_lock(family->mu_);
                for (const auto& [values, child] : family->children_) {
                    out.emplace_back(values, child.get());
                }
            };
            if (e->counters) copy(e->counters, item.counters);
            if (e->gauges) copy(e->gauges, item.gauges);
            if (e->histograms) copy(e->histograms, item.histograms);
            items.push_back(std::move(item));
        }
    }
    std::string out;
    for (const auto& item : items) {
        const Entry& e = *item.entry;
        out += "# HELP " + e.name + " " + EscapeHelp(e.help) + "\n";
        out += "# TYPE " + e.name + " " + std::string(TypeName(e.type)) + "\n";
        if (e.counter) out += e.name + " " + std::to_string(e.counter->Value()) + "\n";
        if (e.gauge) out += e.name + " " + FormatValue(e.gauge->Value()) + "\n";
        if (e.histogram) RenderHistogram(out, e.name, *e.histogram, {}, {});
        if (e.counters) RenderFamily(out, e.name, *e.counters, item.counters);
        if (e.gauges) RenderFamily(out, e.name, *e.gauges, item.gauges);
        if (e.histograms) RenderFamily(out, e.name, *e.histograms, item.histograms);
        if (e.collect) {
            for (const auto& sample : e.collect()) {
                std::vector<std::string> names;
                std::vector<std::string> values;
                for (const auto& [n, v] : sample.labels) {
                    names.push_back(n);
                    values.push_back(v);
                }
                out += e.name + LabelText(names, values) + " " + FormatValue(sample.value) + "\n";
            }
        }
    }
    return out;
}

}  // namespace firmo::metrics
