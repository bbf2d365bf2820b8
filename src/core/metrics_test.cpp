#include "core/metrics.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <thread>
#include <vector>

namespace firmo::metrics {
namespace {

TEST(Metrics, CounterAndGaugeRenderWithHelpAndType) {
    Registry r;
    auto& c = r.AddCounter("firmo_things_total", "Things done.");
    auto& g = r.AddGauge("firmo_level", "A level.");
    c.Inc();
    c.Inc(4);
    g.Set(2.5);
    g.Add(-1);
    EXPECT_EQ(r.Render(),
              "# HELP firmo_things_total Things done.\n"
              "# TYPE firmo_things_total counter\n"
              "firmo_things_total 5\n"
              "# HELP firmo_level A level.\n"
              "# TYPE firmo_level gauge\n"
              "firmo_level 1.5\n");
}

TEST(Metrics, FamiliesSortChildrenAndEscapeLabelValues) {
    Registry r;
    auto& f = r.AddCounterFamily("http_total", "Calls.", {"route", "status"});
    f.With({"/b", "200"}).Inc();
    f.With({"/a", "404"}).Inc(2);
    f.With({"/b", "200"}).Inc();
    f.With({"say \"hi\"\\\n", "500"}).Inc();
    EXPECT_EQ(r.Render(),
              "# HELP http_total Calls.\n"
              "# TYPE http_total counter\n"
              "http_total{route=\"/a\",status=\"404\"} 2\n"
              "http_total{route=\"/b\",status=\"200\"} 2\n"
              "http_total{route=\"say \\\"hi\\\"\\\\\\n\",status=\"500\"} 1\n");
}

TEST(Metrics, HistogramBucketsAreCumulativeWithSumAndCount) {
    Registry r;
    const double bounds[] = {0.1, 1};
    auto& h = r.AddHistogram("latency_seconds", "Latency.", bounds);
    h.Observe(0.05);
    h.Observe(0.1);  // on a bound: counted in that bucket (le = less or equal)
    h.Observe(0.5);
    h.Observe(7);
    EXPECT_EQ(r.Render(),
              "# HELP latency_seconds Latency.\n"
              "# TYPE latency_seconds histogram\n"
              "latency_seconds_bucket{le=\"0.1\"} 2\n"
              "latency_seconds_bucket{le=\"1\"} 3\n"
              "latency_seconds_bucket{le=\"+Inf\"} 4\n"
              "latency_seconds_sum 7.65\n"
              "latency_seconds_count 4\n");
}

TEST(Metrics, HistogramFamilyPutsLeAfterTheLabels) {
    Registry r;
    const double bounds[] = {0.5};
    auto& f = r.AddHistogramFamily("d_seconds", "D.", {"kind"}, bounds);
    f.With({"sign"}).Observe(0.25);
    const std::string text = r.Render();
    EXPECT_NE(text.find("d_seconds_bucket{kind=\"sign\",le=\"0.5\"} 1\n"), std::string::npos)
        << text;
    EXPECT_NE(text.find("d_seconds_bucket{kind=\"sign\",le=\"+Inf\"} 1\n"), std::string::npos);
    EXPECT_NE(text.find("d_seconds_sum{kind=\"sign\"} 0.25\n"), std::string::npos);
    EXPECT_NE(text.find("d_seconds_count{kind=\"sign\"} 1\n"), std::string::npos);
}

TEST(Metrics, CallbacksRunAtEveryScrape) {
    Registry r;
    int calls = 0;
    r.AddCallback("queue_depth", "Jobs waiting.", [&calls] { return ++calls * 10.0; });
    r.AddCallback("pool_in_use", "Per pool.", Type::kGauge, [] {
        return std::vector<Sample>{{{{"pool", "db"}}, 3}, {{{"pool", "heavy"}}, 1}};
    });
    r.AddCallback("nothing_yet", "Unknown for now.", Type::kGauge,
                  [] { return std::vector<Sample>{}; });
    EXPECT_NE(r.Render().find("queue_depth 10\n"), std::string::npos);
    const std::string text = r.Render();
    EXPECT_NE(text.find("queue_depth 20\n"), std::string::npos);
    EXPECT_NE(text.find("pool_in_use{pool=\"db\"} 3\npool_in_use{pool=\"heavy\"} 1\n"),
              std::string::npos);
    EXPECT_NE(text.find("# TYPE nothing_yet gauge\n"), std::string::npos);
}

TEST(Metrics, SpecialValuesAndShortestNumbers) {
    EXPECT_EQ(FormatValue(std::numeric_limits<double>::infinity()), "+Inf");
    EXPECT_EQ(FormatValue(-std::numeric_limits<double>::infinity()), "-Inf");
    EXPECT_EQ(FormatValue(std::nan("")), "NaN");
    EXPECT_EQ(FormatValue(0.005), "0.005");
    EXPECT_EQ(FormatValue(42), "42");
    EXPECT_EQ(FormatValue(-3), "-3");
    EXPECT_EQ(FormatValue(1e20), "1e+20");
}

TEST(Metrics, RegisteringTwiceSharesOrRefuses) {
    Registry r;
    auto& a = r.AddCounter("shared_total", "S.");
    auto& b = r.AddCounter("shared_total", "S.");
    EXPECT_EQ(&a, &b);
    EXPECT_THROW(r.AddGauge("shared_total", "S."), std::invalid_argument);
    r.AddCounterFamily("fam_total", "F.", {"a"});
    EXPECT_THROW(r.AddCounterFamily("fam_total", "F.", {"b"}), std::invalid_argument);
    EXPECT_THROW(r.AddCounter("bad-name", "x"), std::invalid_argument);
    EXPECT_THROW(r.AddCounter("9lives", "x"), std::invalid_argument);
    EXPECT_THROW(r.AddCounterFamily("ok_total", "x", {"__reserved"}), std::invalid_argument);
    EXPECT_THROW(r.AddHistogramFamily("h", "x", {"le"}), std::invalid_argument);
    const double unordered[] = {1, 0.5};
    EXPECT_THROW(r.AddHistogram("h2", "x", unordered), std::invalid_argument);
    EXPECT_THROW(r.AddCounterFamily("w_total", "x", {"a"}).With({"1", "2"}), std::invalid_argument);
}

TEST(Metrics, ConcurrentUpdatesLoseNothing) {
    Registry r;
    auto& c = r.AddCounter("n_total", "N.");
    auto& f = r.AddCounterFamily("m_total", "M.", {"k"});
    auto& h = r.AddHistogram("h_seconds", "H.");
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 10'000; ++i) {
                c.Inc();
                f.With({i % 2 ? "odd" : "even"}).Inc();
                h.Observe(0.001 * t);
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(c.Value(), 40'000u);
    EXPECT_EQ(f.With({"odd"}).Value() + f.With({"even"}).Value(), 40'000u);
    EXPECT_EQ(h.Read().cumulative.back(), 40'000u);
}

TEST(Metrics, ChildCacheRemembersAFewKeys) {
    Registry r;
    auto& f = r.AddCounterFamily("c_total", "C.", {"status"});
    ChildCache<Counter, 2> cache;
    EXPECT_EQ(cache.Find(200), nullptr);
    cache.Remember(200, &f.With({"200"}));
    cache.Remember(404, &f.With({"404"}));
    cache.Remember(500, &f.With({"500"}));  // full: ignored
    EXPECT_EQ(cache.Find(200), &f.With({"200"}));
    EXPECT_EQ(cache.Find(404), &f.With({"404"}));
    EXPECT_EQ(cache.Find(500), nullptr);
    EXPECT_EQ(cache.Find(0), nullptr);      // key 0 is a key like any other
    cache.Remember(200, &f.With({"500"}));  // a key is written once
    EXPECT_EQ(cache.Find(200), &f.With({"200"}));
}

}  // namespace
}  // namespace firmo::metrics
