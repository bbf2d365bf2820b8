// The API-key cache on PostgreSQL: two IssuerServices, each on its own connection pool and
// its own NotificationSignal (two nodes), on one database. A key revoked on one node is refused
// on the other once the notification arrives; while a node's listening connection is down (its
// backend terminated), the node trusts no cached key. Runs when FIRMO_TEST_POSTGRES_URL names
// a server (ctest: store.postgres_key_signal, on scripts/with-postgres.sh's cluster).

#include "store/postgres/notification_signal.hpp"

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <thread>

#include "core/ids.hpp"
#include "core/testing/temp_dir.hpp"
#include "crypto/hasher.hpp"
#include "domain/services/issuer_service.hpp"
#include "domain/services/testing/fakes.hpp"
#include "domain/services/testing/polled_request.hpp"
#include "store/filesystem/folder_blob_store.hpp"
#include "store/postgres/postgres_database.hpp"

namespace firmo::store::postgres {
namespace {

using namespace std::chrono_literals;
using domain::ChangeSignal;
using Clock = std::chrono::steady_clock;

// `url` with its database replaced by `name` (URI or key=value form).
std::string WithDatabase(const std::string& url, const std::string& name) {
    const auto scheme = url.find("://");
    if (scheme == std::string::npos) return url + " dbname=" + name;
    const auto query = url.find('?', scheme + 3);
    const auto path_end = query == std::string::npos ? url.size() : query;
    const auto rest = query == std::string::npos ? std::string() : url.substr(query);
    const auto slash = url.find('/', scheme + 3);
    if (slash == std::string::npos || slash > path_end) {
        return url.substr(0, path_end) + "/" + name + rest;
    }
    return url.substr(0, slash) + "/" + name + rest;
}

// Runs `statement` on a connection of its own; the first value of the first row.
std::string Sql(const std::string& url, const std::string& statement) {
    PGconn* conn = PQconnectdb(url.c_str());
    std::string value;
    if (PQstatus(conn) != CONNECTION_OK) {
        ADD_FAILURE() << "cannot connect: " << PQerrorMessage(conn);
    } else {
        PGresult* res = PQexec(conn, statement.c_str());
        const auto status = PQresultStatus(res);
        if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
            ADD_FAILURE() << statement << ": " << PQerrorMessage(conn);
        } else if (PQntuples(res) > 0) {
            value = PQgetvalue(res, 0, 0);
        }
        PQclear(res);
    }
    PQfinish(conn);
    return value;
}

std::vector<std::string> Urls() {
    const char* url = std::getenv("FIRMO_TEST_POSTGRES_URL");
    if (url == nullptr || *url == '\0') return {};
    return {url};
}

// One node: its own pool, signal and IssuerService.
struct Node {
    Node(const std::string& url, const std::string& name, NotificationSignalOptions options,
         const std::filesystem::path& dir, std::uint64_t seed)
        : blobs(dir / name), random(seed) {
        auto opened = PostgresDatabase::Open(url, 2);
        EXPECT_TRUE(opened) << (opened ? "" : opened.error().message);
        if (opened) db = std::move(*opened);
        options.application_name = "firmo-listener-" + name;
        signal = NotificationSignal::Start(url, options);
        ctx = std::make_unique<domain::ServiceContext>(domain::ServiceContext{
            *db, blobs, validator, hasher, clock, random, domain::Limits{}, [] {}});
        issuers = std::make_unique<domain::IssuerService>(*ctx, signal.get());
    }
    ~Node() {
        issuers.reset();
        signal.reset();
    }

    std::unique_ptr<PostgresDatabase> db;
    FolderBlobStore blobs;
    domain::fixtures::AcceptingValidator validator;
    crypto::OpenSslHasher hasher;
    ManualClock clock{FromUnixMillis(1'795'000'000'000)};
    SeededRandom random;
    std::unique_ptr<NotificationSignal> signal;
    std::unique_ptr<domain::ServiceContext> ctx;
    std::unique_ptr<domain::IssuerService> issuers;
};

// Until `signal` shows a value other than `from` (kUnknown included), or `timeout`.
bool WaitChange(const NotificationSignal& signal, std::uint64_t from,
                std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (signal.Current() == from) {
        if (Clock::now() >= deadline) return false;
        std::this_thread::sleep_for(1ms);
    }
    return true;
}

class PgKeySignal : public ::testing::TestWithParam<std::string> {
  protected:
    void SetUp() override {
        admin_ = GetParam();
        std::mt19937_64 bits(std::random_device{}() ^ static_cast<std::uint64_t>(::getpid()));
        name_ = "firmo_signal_" + std::to_string(bits());
        Sql(admin_, "CREATE DATABASE " + name_);
        url_ = WithDatabase(admin_, name_);
    }
    void TearDown() override {
        b_.reset();
        a_.reset();
        Sql(admin_, "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    }

    void StartNodes(NotificationSignalOptions b_options) {
        NotificationSignalOptions fast;
        fast.heartbeat = 200ms;
        a_ = std::make_unique<Node>(url_, "a", fast, dir_.path(), 1);
        ASSERT_TRUE(a_->db);
        auto migrated = a_->db->Migrate();
        ASSERT_TRUE(migrated) << migrated.error().message;
        b_ = std::make_unique<Node>(url_, "b", b_options, dir_.path(), 2);
        ASSERT_TRUE(b_->db);
        ASSERT_TRUE(a_->signal->WaitListening(10s));
        ASSERT_TRUE(b_->signal->WaitListening(10s));
        auto issuer = a_->issuers->CreateIssuer("Comune di Roma", "it@roma.example");
        ASSERT_TRUE(issuer);
        issuer_id_ = issuer->id;
    }
    domain::CreatedApiKey NewKey() {
        auto key = a_->issuers->CreateApiKey(issuer_id_);
        EXPECT_TRUE(key);
        return key ? *key : domain::CreatedApiKey{};
    }
    // Changes the stored key without the trigger: a lookup in the database no longer finds it,
    // so only a cached key still authenticates.
    void HideKeyBehindTheCache(const domain::ApiKey& key) {
        Sql(url_,
            "BEGIN; ALTER TABLE api_keys DISABLE TRIGGER api_keys_changed; "
            "UPDATE api_keys SET key_hash = 'hidden-' || key_hash WHERE id = '" +
                key.id + "'; ALTER TABLE api_keys ENABLE TRIGGER api_keys_changed; COMMIT");
    }

    firmo::testing::TempDir dir_{"firmo-pg-signal"};
    std::string admin_;
    std::string name_;
    std::string url_;
    std::string issuer_id_;
    std::unique_ptr<Node> a_;
    std::unique_ptr<Node> b_;
};

TEST_P(PgKeySignal, KeyRevokedOnOneNodeIsRefusedOnTheOther) {
    NotificationSignalOptions options;
    options.heartbeat = 200ms;
    ASSERT_NO_FATAL_FAILURE(StartNodes(options));
    const auto key = NewKey();
    ASSERT_TRUE(b_->issuers->Authenticate(key.secret));

    // Node b now answers from its cache: the key no longer found in the database still works.
    HideKeyBehindTheCache(key.key);
    EXPECT_TRUE(b_->issuers->Authenticate(key.secret)) << "the key was not cached";
    Sql(url_, "UPDATE api_keys SET key_hash = '" + key.key.key_hash + "' WHERE id = '" +
                  key.key.id + "'");  // back (this one notifies)
    ASSERT_TRUE(b_->issuers->Authenticate(key.secret));

    const auto before = b_->signal->Current();
    const auto revoking = Clock::now();
    ASSERT_TRUE(a_->issuers->RevokeApiKey(key.key.id));
    const auto took =
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - revoking);
    // The revocation returned once both listeners confirmed: the next call on either node is
    // refused, without waiting for anything.
    EXPECT_NE(b_->signal->Current(), before);
    EXPECT_NE(b_->signal->Current(), ChangeSignal::kUnknown);
    EXPECT_EQ(a_->issuers->Authenticate(key.secret).error().code, ErrorCode::kUnauthenticated);
    auto refused = b_->issuers->Authenticate(key.secret);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, ErrorCode::kUnauthenticated);
    EXPECT_EQ(a_->signal->Confirm(), 2);  // both listeners answer
    std::cout << "revocation confirmed by both nodes in " << took.count() << " us\n";
}

// A key's last use is written once a minute per key and node: that must not empty every node's
// key cache (only changes of what authentication reads notify).
TEST_P(PgKeySignal, RecordingAKeysUseLeavesTheCachesAlone) {
    NotificationSignalOptions options;
    options.heartbeat = 200ms;
    ASSERT_NO_FATAL_FAILURE(StartNodes(options));
    const auto key = NewKey();
    auto principal = a_->issuers->Authenticate(key.secret);
    ASSERT_TRUE(principal);
    const auto before = b_->signal->Current();
    a_->issuers->NoteKeyUse(*principal, "192.0.2.1");
    auto written = a_->issuers->FlushKeyUses();
    ASSERT_TRUE(written) << written.error().message;
    EXPECT_EQ(*written, 1u);
    std::this_thread::sleep_for(500ms);  // a notification arrives within milliseconds
    EXPECT_EQ(b_->signal->Current(), before);
    // A revocation still does.
    ASSERT_TRUE(a_->issuers->RevokeApiKey(key.key.id));
    EXPECT_NE(b_->signal->Current(), before);
}

TEST_P(PgKeySignal, NodeWhoseListenerIsKilledTrustsNoCachedKey) {
    NotificationSignalOptions options;
    options.heartbeat = 200ms;
    // Stays down long enough to be observed, and longer than a revocation waits for answers
    // (3 s): a listener counted but not listening yet does not answer.
    options.first_backoff = 4000ms;
    ASSERT_NO_FATAL_FAILURE(StartNodes(options));
    const auto revoked = NewKey();
    const auto kept = NewKey();
    ASSERT_TRUE(b_->issuers->Authenticate(revoked.secret));
    ASSERT_TRUE(b_->issuers->Authenticate(kept.secret));
    const auto before = b_->signal->Current();

    EXPECT_EQ(Sql(url_,
                  "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                  "WHERE application_name = 'firmo-listener-b') t"),
              "1");
    ASSERT_TRUE(WaitChange(*b_->signal, before, 5s));
    ASSERT_EQ(b_->signal->Current(), ChangeSignal::kUnknown);

    // Revoked while b listens to nobody: b never gets this notification, and must not need it.
    ASSERT_TRUE(a_->issuers->RevokeApiKey(revoked.key.id));
    ASSERT_EQ(b_->signal->Current(), ChangeSignal::kUnknown);
    auto refused = b_->issuers->Authenticate(revoked.secret);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, ErrorCode::kUnauthenticated);
    // The other key still works, looked up each time: hidden from the database, it fails.
    EXPECT_TRUE(b_->issuers->Authenticate(kept.secret));
    HideKeyBehindTheCache(kept.key);
    EXPECT_FALSE(b_->issuers->Authenticate(kept.secret)) << "a cached key was trusted";
    Sql(url_, "UPDATE api_keys SET key_hash = '" + kept.key.key_hash + "' WHERE id = '" +
                  kept.key.id + "'");

    // Listening again (after the backoff) with a counter no earlier entry matches.
    ASSERT_TRUE(b_->signal->WaitListening(10s));
    EXPECT_EQ(b_->signal->connections(), 2u);
    EXPECT_NE(b_->signal->Current(), before);
    EXPECT_TRUE(b_->issuers->Authenticate(kept.secret));
    EXPECT_FALSE(b_->issuers->Authenticate(revoked.secret));
}

// The request copies on PostgreSQL (store/sql/request_cache.hpp): two databases (two nodes) on
// one server. Once node b has checked its copy of a request, it hands it back without asking
// the server; a change committed on node a reaches it with the trigger's notification, and a
// change on node b itself is seen by its very next read.
class PgRequestCopies : public PgKeySignal {
  protected:
    void Open() {
        for (auto* db : {&a_db_, &b_db_}) {
            auto opened = PostgresDatabase::Open(url_, 2);
            ASSERT_TRUE(opened) << opened.error().message;
            *db = std::move(*opened);
            auto migrated = (*db)->Migrate();
            ASSERT_TRUE(migrated) << migrated.error().message;
        }
        for (auto* db : {&a_db_, &b_db_}) {
            const auto deadline = Clock::now() + 10s;
            while ((*db)->request_changes()->Current() == ChangeSignal::kUnknown) {
                ASSERT_LT(Clock::now(), deadline) << "the request listener does not listen";
                std::this_thread::sleep_for(5ms);
            }
        }
        auto polled = domain::fixtures::MakePolledRequest(clock_.Now(), [this] { return Id(); });
        request_ = polled.request;
        ASSERT_TRUE(domain::fixtures::Insert(*a_db_, polled));
    }
    std::string Id() { return NewUlid(clock_.Now(), random_); }
    std::optional<std::string> Reference(PostgresDatabase& db) {
        return domain::fixtures::ReferenceOf(db, request_);
    }
    void Update(PostgresDatabase& db, const std::string& reference) {
        ASSERT_TRUE(domain::fixtures::Rename(db, request_, reference));
    }
    // Changes the reference without the trigger: only a read that asks the server sees it.
    void ChangeBehindTheCopies(const std::string& reference) {
        Sql(url_,
            "BEGIN; ALTER TABLE signature_requests DISABLE TRIGGER signature_requests_changed; "
            "UPDATE signature_requests SET reference = '" +
                reference + "', version = version + 1 WHERE id = '" + request_.id +
                "'; ALTER TABLE signature_requests ENABLE TRIGGER signature_requests_changed; "
                "COMMIT");
    }
    void TearDown() override {
        a_db_.reset();
        b_db_.reset();
        PgKeySignal::TearDown();
    }

    ManualClock clock_{FromUnixMillis(1'795'000'000'000)};
    SeededRandom random_{7};
    std::unique_ptr<PostgresDatabase> a_db_;
    std::unique_ptr<PostgresDatabase> b_db_;
    domain::SignatureRequest request_;
};

TEST_P(PgRequestCopies, ACheckedCopyIsServedUntilAChangeIsNotified) {
    ASSERT_NO_FATAL_FAILURE(Open());
    EXPECT_EQ(Reference(*b_db_), "ref-1");  // read: the copy is made and checked

    // No notification: node b keeps handing back its copy without asking the server.
    ChangeBehindTheCopies("unseen");
    EXPECT_EQ(Reference(*b_db_), "ref-1") << "the copy was checked against the server";

    // A change committed on node a: node b sees it once the notification has arrived.
    const auto before = b_db_->request_changes()->Current();
    Update(*a_db_, "ref-2");
    const auto deadline = Clock::now() + 5s;
    while (b_db_->request_changes()->Current() == before && Clock::now() < deadline) {
        std::this_thread::sleep_for(1ms);
    }
    EXPECT_EQ(Reference(*b_db_), "ref-2");
    EXPECT_EQ(Reference(*a_db_), "ref-2");

    // A change on node b itself: its next read sees it, with no notification to wait for.
    EXPECT_EQ(Reference(*b_db_), "ref-2");  // a checked copy again
    Update(*b_db_, "ref-3");
    EXPECT_EQ(Reference(*b_db_), "ref-3");
}

TEST_P(PgRequestCopies, ACopyIsCheckedAgainAfterTheListenerReconnects) {
    ASSERT_NO_FATAL_FAILURE(Open());
    EXPECT_EQ(Reference(*b_db_), "ref-1");
    // Node b's listener is cut off; changes made while nobody listens are never notified.
    const auto before = b_db_->request_changes()->Current();
    Sql(admin_,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = "
        "'firmo-request-listener' AND datname = '" +
            name_ + "'");
    const auto deadline = Clock::now() + 20s;
    while (true) {
        const auto now = b_db_->request_changes()->Current();
        if (now != before && now != ChangeSignal::kUnknown) break;  // listening again
        ASSERT_LT(Clock::now(), deadline) << "the request listener did not reconnect";
        std::this_thread::sleep_for(5ms);
    }
    // Listening again moved the counter: the copy is checked before it is trusted again.
    ChangeBehindTheCopies("after");
    EXPECT_EQ(Reference(*b_db_), "after");
}

INSTANTIATE_TEST_SUITE_P(Postgres, PgKeySignal, ::testing::ValuesIn(Urls()));
INSTANTIATE_TEST_SUITE_P(Postgres, PgRequestCopies, ::testing::ValuesIn(Urls()));
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(PgKeySignal);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(PgRequestCopies);

}  // namespace
}  // namespace firmo::store::postgres
