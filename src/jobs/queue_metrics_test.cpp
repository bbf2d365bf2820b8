// The queue gauges of GET /metrics: counts by kind and channel, lateness of the most overdue
// item, and a failing database costing the scrape its samples, not the scrape.

#include "jobs/queue_metrics.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <stdexcept>
#include <string>

#include "store/memory/memory_database.hpp"

namespace firmo::jobs {
namespace {

using namespace firmo::domain;
using namespace std::chrono_literals;

// The value of the sample `series` (name and labels as rendered) in `text`, if present.
std::optional<double> SampleOf(const std::string& text, const std::string& series) {
    const std::string prefix = "\n" + series + " ";
    const auto at = ("\n" + text).find(prefix);
    if (at == std::string::npos) return std::nullopt;
    return std::stod(text.substr(at + prefix.size() - 1));
}

class QueueMetricsTest : public ::testing::Test {
  protected:
    void SetUp() override { ASSERT_TRUE(db_.Migrate()); }

    void Enqueue(JobKind kind, Timestamp run_at) {
        auto tx = db_.Begin(TxMode::kWrite);
        ASSERT_TRUE(tx);
        ASSERT_TRUE((*tx)->jobs().Enqueue(Job{.kind = kind, .issuer_id = "I", .run_at = run_at}));
        ASSERT_TRUE((*tx)->Commit());
    }
    void Insert(const std::string& event_id, Channel channel, Timestamp due) {
        auto tx = db_.Begin(TxMode::kWrite);
        ASSERT_TRUE(tx);
        ASSERT_TRUE((*tx)->outbox().Insert(OutboxMessage{.event_id = event_id,
                                                         .issuer_id = "I",
                                                         .channel = channel,
                                                         .destination = "a@b.it",
                                                         .created_at = due,
                                                         .next_attempt_at = due}));
        ASSERT_TRUE((*tx)->Commit());
    }

    ManualClock clock_{FromUnixMillis(1'790'000'000'000)};
    store::memory::MemoryDatabase db_;
    metrics::Registry registry_;
};

TEST_F(QueueMetricsTest, EmptyQueuesReportZeroForEveryKindAndChannel) {
    RegisterQueueMetrics(registry_, db_, clock_);
    const std::string text = registry_.Render();
    EXPECT_NE(text.find("# TYPE firmo_jobs_pending gauge\n"), std::string::npos) << text;
    for (const char* kind : {"validate_document", "sign_documents", "await_upload"}) {
        EXPECT_EQ(SampleOf(text, std::string("firmo_jobs_pending{kind=\"") + kind + "\"}"), 0)
            << kind;
    }
    for (const char* channel : {"email", "sms", "webhook"}) {
        EXPECT_EQ(SampleOf(text, std::string("firmo_outbox_pending{channel=\"") + channel + "\"}"),
                  0)
            << channel;
    }
    EXPECT_EQ(SampleOf(text, "firmo_jobs_oldest_pending_age_seconds"), 0);
    EXPECT_EQ(SampleOf(text, "firmo_outbox_oldest_pending_age_seconds"), 0);
    EXPECT_EQ(SampleOf(text, "firmo_metrics_collect_errors_total{source=\"jobs\"}"), 0);
    EXPECT_EQ(SampleOf(text, "firmo_metrics_collect_errors_total{source=\"outbox\"}"), 0);
}

TEST_F(QueueMetricsTest, CountsByKindAndTheLatenessOfTheMostOverdueItem) {
    RegisterQueueMetrics(registry_, db_, clock_);
    const Timestamp now = clock_.Now();
    Enqueue(JobKind::kValidateDocument, now - 30s);
    Enqueue(JobKind::kValidateDocument, now - 2s);
    Enqueue(JobKind::kAwaitUpload, now + 1h);  // polled later: scheduled, not late
    Insert("e1", Channel::kEmail, now - 1500ms);
    Insert("w1", Channel::kWebhook, now + 10min);  // a retry later: not late
    std::string text = registry_.Render();
    EXPECT_EQ(SampleOf(text, "firmo_jobs_pending{kind=\"validate_document\"}"), 2);
    EXPECT_EQ(SampleOf(text, "firmo_jobs_pending{kind=\"await_upload\"}"), 1);
    EXPECT_EQ(SampleOf(text, "firmo_jobs_pending{kind=\"sign_documents\"}"), 0);
    EXPECT_EQ(SampleOf(text, "firmo_jobs_oldest_pending_age_seconds"), 30);
    EXPECT_EQ(SampleOf(text, "firmo_outbox_pending{channel=\"email\"}"), 1);
    EXPECT_EQ(SampleOf(text, "firmo_outbox_pending{channel=\"webhook\"}"), 1);
    EXPECT_EQ(SampleOf(text, "firmo_outbox_pending{channel=\"sms\"}"), 0);
    EXPECT_EQ(SampleOf(text, "firmo_outbox_oldest_pending_age_seconds"), 1.5);

    // A later scrape reads the queues again.
    Enqueue(JobKind::kSignDocuments, now - 1h);
    clock_.Advance(10s);
    text = registry_.Render();
    EXPECT_EQ(SampleOf(text, "firmo_jobs_pending{kind=\"sign_documents\"}"), 1);
    EXPECT_EQ(SampleOf(text, "firmo_jobs_oldest_pending_age_seconds"), 3610);
    EXPECT_EQ(SampleOf(text, "firmo_outbox_oldest_pending_age_seconds"), 11.5);
}

// A store that cannot open a transaction: failing (a lost connection) or throwing.
class BrokenDatabase final : public Database {
  public:
    explicit BrokenDatabase(bool throws) : throws_(throws) {}
    Result<int> Migrate() override { return 0; }
    Result<void> Ping() override { return Fail(ErrorCode::kUnavailable, "down"); }

  protected:
    Result<std::unique_ptr<Transaction>> BeginTransaction(TxMode) override {
        if (throws_) throw std::runtime_error("driver threw");
        return Fail(ErrorCode::kUnavailable, "connection refused");
    }

  private:
    bool throws_;
};

TEST_F(QueueMetricsTest, ADatabaseFailureLeavesTheSamplesOutAndIsCounted) {
    for (bool throws : {false, true}) {
        SCOPED_TRACE(throws ? "throwing" : "failing");
        BrokenDatabase broken(throws);
        metrics::Registry registry;
        RegisterQueueMetrics(registry, broken, clock_);
        std::string text;
        ASSERT_NO_THROW(text = registry.Render());
        EXPECT_NE(text.find("# TYPE firmo_jobs_pending gauge\n"), std::string::npos);
        EXPECT_EQ(text.find("firmo_jobs_pending{"), std::string::npos) << text;
        EXPECT_EQ(text.find("firmo_outbox_pending{"), std::string::npos) << text;
        EXPECT_FALSE(SampleOf(text, "firmo_jobs_oldest_pending_age_seconds"));
        EXPECT_FALSE(SampleOf(text, "firmo_outbox_oldest_pending_age_seconds"));
        // Counted in the same scrape, once per queue (the age gauge reuses the failed reading).
        EXPECT_EQ(SampleOf(text, "firmo_metrics_collect_errors_total{source=\"jobs\"}"), 1);
        EXPECT_EQ(SampleOf(text, "firmo_metrics_collect_errors_total{source=\"outbox\"}"), 1);
        EXPECT_NE(text.find("# TYPE firmo_metrics_collect_errors_total counter\n"),
                  std::string::npos);
        text = registry.Render();
        EXPECT_EQ(SampleOf(text, "firmo_metrics_collect_errors_total{source=\"jobs\"}"), 2);
    }
}

}  // namespace
}  // namespace firmo::jobs
