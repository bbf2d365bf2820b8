// The storage contract: every domain::Database adapter must pass these. Parameterised by
// backend; SQLite and the in-memory store always run, PostgreSQL joins when
// FIRMO_TEST_POSTGRES_URL names a server.

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <numeric>
#include <random>
#include <thread>
#include <tuple>

#include "core/ids.hpp"
#include "core/testing/temp_dir.hpp"
#include "domain/ports/database.hpp"
#include "store/memory/memory_database.hpp"
#include "store/postgres/postgres_database.hpp"
#include "store/sqlite/sqlite_database.hpp"

namespace firmo::store {
namespace {

using namespace firmo::domain;
using namespace std::chrono_literals;

struct Backend {
    std::string name;
    std::function<std::unique_ptr<Database>(const std::filesystem::path& dir)> open;
};

// PostgreSQL: each test gets a fresh database on the server named by FIRMO_TEST_POSTGRES_URL
// (scripts/with-postgres.sh starts a private one), dropped when the test's Database goes away.
// Random names keep parallel test processes apart.
std::string WithDatabase(const std::string& url, const std::string& name) {
    // postgresql://user@host:port/db?params -> the same with `name` as db.
    const auto scheme = url.find("://");
    if (scheme == std::string::npos) return url + " dbname=" + name;  // key=value form
    const auto query = url.find('?', scheme + 3);
    const auto slash = url.find('/', scheme + 3);
    const auto path_end = query == std::string::npos ? url.size() : query;
    const auto rest = query == std::string::npos ? std::string() : url.substr(query);
    if (slash == std::string::npos || slash > path_end) {
        return url.substr(0, path_end) + "/" + name + rest;
    }
    return url.substr(0, slash) + "/" + name + rest;
}

bool AdminExec(const std::string& url, const std::string& statement) {
    PGconn* conn = PQconnectdb(url.c_str());
    bool ok = PQstatus(conn) == CONNECTION_OK;
    if (ok) {
        PGresult* res = PQexec(conn, statement.c_str());
        ok = PQresultStatus(res) == PGRES_COMMAND_OK;
        if (!ok) ADD_FAILURE() << statement << ": " << PQerrorMessage(conn);
        PQclear(res);
    } else {
        ADD_FAILURE() << "cannot connect to FIRMO_TEST_POSTGRES_URL: " << PQerrorMessage(conn);
    }
    PQfinish(conn);
    return ok;
}

class ScratchPostgres final : public Database {
  public:
    static std::unique_ptr<Database> Create(const std::string& admin_url) {
        std::random_device device;
        std::mt19937_64 bits((static_cast<std::uint64_t>(device()) << 32) ^ device() ^
                             static_cast<std::uint64_t>(::getpid()));
        const std::string name = "firmo_test_" + std::to_string(bits());
        if (!AdminExec(admin_url, "CREATE DATABASE " + name)) return nullptr;
        std::unique_ptr<ScratchPostgres> scratch(new ScratchPostgres(admin_url, name));
        auto db = postgres::PostgresDatabase::Open(WithDatabase(admin_url, name), 4);
        if (!db) {
            ADD_FAILURE() << db.error().message;
            return nullptr;
        }
        scratch->db_ = std::move(*db);
        return scratch;
    }
    ~ScratchPostgres() override {
        db_.reset();  // closes the pool first
        AdminExec(admin_url_, "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    }
    Result<int> Migrate() override { return db_->Migrate(); }
    Result<void> Ping() override { return db_->Ping(); }
    std::optional<ConnectionUse> Connections() const override { return db_->Connections(); }

  protected:
    Result<std::unique_ptr<Transaction>> BeginTransaction(TxMode mode) override {
        return db_->Begin(mode);
    }

  private:
    ScratchPostgres(std::string admin_url, std::string name)
        : admin_url_(std::move(admin_url)), name_(std::move(name)) {}
    std::string admin_url_;
    std::string name_;
    std::unique_ptr<postgres::PostgresDatabase> db_;
};

std::vector<Backend> Backends() {
    std::vector<Backend> backends{
        {"sqlite",
         [](const std::filesystem::path& dir) -> std::unique_ptr<Database> {
             auto db = sqlite::SqliteDatabase::Open((dir / "firmo.db").string(), 4);
             if (!db) return nullptr;
             return std::move(*db);
         }},
        {"memory", [](const std::filesystem::path&) -> std::unique_ptr<Database> {
             return std::make_unique<memory::MemoryDatabase>();
         }}};
    if (const char* url = std::getenv("FIRMO_TEST_POSTGRES_URL"); url && *url) {
        backends.push_back({"postgres", [admin = std::string(url)](const std::filesystem::path&) {
                                return ScratchPostgres::Create(admin);
                            }});
    }
    return backends;
}

class RepositoryContract : public ::testing::TestWithParam<Backend> {
  protected:
    void SetUp() override {
        db_ = GetParam().open(dir_.path());
        ASSERT_TRUE(db_);
        auto migrated = db_->Migrate();
        ASSERT_TRUE(migrated) << migrated.error().message;
        EXPECT_GT(*migrated, 0);
        issuer_a_ = MakeIssuer("Comune di Roma");
        issuer_b_ = MakeIssuer("Oslo kommune");
    }
    void TearDown() override { db_.reset(); }

    std::unique_ptr<Transaction> Write() {
        auto tx = db_->Begin(TxMode::kWrite);
        EXPECT_TRUE(tx);
        return std::move(*tx);
    }
    std::unique_ptr<Transaction> Read() {
        auto tx = db_->Begin(TxMode::kRead);
        EXPECT_TRUE(tx);
        return std::move(*tx);
    }
    std::string Id() { return NewUlid(clock_.Now(), random_); }

    std::string MakeIssuer(const std::string& name) {
        auto tx = Write();
        Issuer issuer{Id(), name, "ops@example.org", clock_.Now()};
        EXPECT_TRUE(tx->issuers().Insert(issuer));
        EXPECT_TRUE(tx->Commit());
        return issuer.id;
    }

    Dossier MakeDossier(const std::string& issuer_id) {
        Dossier d{Id(),
                  issuer_id,
                  "Contratto di lavoro",
                  "hr@example.org",
                  {DocumentMetadata{
                      "Contract",
                      {SignatureField{FieldByName{"Signature1"},
                                      Clause{"I accept the terms", ClauseType::kRequired}},
                       SignatureField{FieldAtPosition{1, 10.5, 20, 150, 40},
                                      Clause{"Marketing consent", ClauseType::kOptional}}}}},
                  clock_.Now()};
        auto tx = Write();
        EXPECT_TRUE(tx->dossiers().Insert(d));
        EXPECT_TRUE(tx->Commit());
        return d;
    }

    Signer MakeSigner(const std::string& issuer_id, const std::string& code) {
        Signer s{Id(),         issuer_id,   IdentifierKind::kItFiscalCode,
                 code,         "a@b.it",    std::nullopt,
                 clock_.Now(), clock_.Now()};
        auto tx = Write();
        EXPECT_TRUE(tx->signers().Insert(s));
        EXPECT_TRUE(tx->Commit());
        return s;
    }

    SignatureRequest MakeRequest(const Dossier& d, const Signer& s) {
        SignatureRequest r;
        r.id = Id();
        r.issuer_id = d.issuer_id;
        r.dossier_id = d.id;
        r.expires_at = clock_.Now() + 24h;
        r.reference = "ref-1";
        r.created_at = r.updated_at = clock_.Now();
        r.signers.resize(1);
        r.signers[0].signer_id = s.id;
        Document doc;
        doc.id = Id();
        doc.metadata = d.documents[0];
        doc.created_at = doc.updated_at = clock_.Now();
        r.documents = {doc};
        auto tx = Write();
        EXPECT_TRUE(tx->requests().Insert(r));
        EXPECT_TRUE(tx->Commit());
        return r;
    }

    ManualClock clock_{FromUnixMillis(1'790'000'000'000)};
    SeededRandom random_{42};
    testing::TempDir dir_{"firmo-contract"};
    std::unique_ptr<Database> db_;
    std::string issuer_a_;
    std::string issuer_b_;
};

TEST_P(RepositoryContract, MigrateIsIdempotent) {
    auto again = db_->Migrate();
    ASSERT_TRUE(again);
    EXPECT_EQ(*again, 0);
    EXPECT_TRUE(db_->Ping());
}

TEST_P(RepositoryContract, ApiKeysAreFoundByHashAndRevoked) {
    ApiKey key{Id(), issuer_a_, "hash-1", "firmo_abc", clock_.Now(), std::nullopt};
    {
        auto tx = Write();
        ASSERT_TRUE(tx->issuers().InsertKey(key));
        ASSERT_TRUE(tx->Commit());
    }
    {
        auto found = Read()->issuers().FindKeyByHash("hash-1");
        ASSERT_TRUE(found && *found);
        EXPECT_EQ((*found)->issuer_id, issuer_a_);
        EXPECT_FALSE((*found)->revoked_at);
    }
    {
        auto tx = Write();
        EXPECT_EQ(tx->issuers().RevokeKey(key.id, clock_.Now()), true);
        EXPECT_EQ(tx->issuers().RevokeKey(key.id, clock_.Now()), false);  // already revoked
        ASSERT_TRUE(tx->Commit());
    }
    auto found = Read()->issuers().FindKeyByHash("hash-1");
    ASSERT_TRUE(found && *found);
    EXPECT_TRUE((*found)->revoked_at);
    EXPECT_FALSE(*Read()->issuers().FindKeyByHash("other"));
}

TEST_P(RepositoryContract, UncommittedTransactionsRollBack) {
    {
        auto tx = Write();
        ASSERT_TRUE(tx->issuers().Insert(Issuer{"X1", "Ghost", "g@example.org", clock_.Now()}));
    }
    EXPECT_FALSE(*Read()->issuers().Find("X1"));
    EXPECT_EQ(*Read()->issuers().Count(), 2);
}

TEST_P(RepositoryContract, DossiersRoundTripAndAreScopedByIssuer) {
    const Dossier d = MakeDossier(issuer_a_);
    auto found = Read()->dossiers().Find(issuer_a_, d.id);
    ASSERT_TRUE(found && *found);
    EXPECT_EQ((*found)->title, d.title);
    EXPECT_EQ((*found)->documents, d.documents);
    EXPECT_FALSE(*Read()->dossiers().Find(issuer_b_, d.id));
}

TEST_P(RepositoryContract, DossierPagesAreNewestFirstWithACursor) {
    std::vector<std::string> ids;
    for (int i = 0; i < 5; ++i) {
        clock_.Advance(1ms);
        ids.push_back(MakeDossier(issuer_a_).id);
    }
    MakeDossier(issuer_b_);
    auto first = Read()->dossiers().List(issuer_a_, PageQuery{2, std::nullopt});
    ASSERT_TRUE(first);
    ASSERT_EQ(first->items.size(), 2u);
    EXPECT_EQ(first->items[0].id, ids[4]);
    EXPECT_EQ(first->items[1].id, ids[3]);
    ASSERT_TRUE(first->next_after_id);
    auto rest = Read()->dossiers().List(issuer_a_, PageQuery{10, first->next_after_id});
    ASSERT_TRUE(rest);
    ASSERT_EQ(rest->items.size(), 3u);
    EXPECT_EQ(rest->items[2].id, ids[0]);
    EXPECT_FALSE(rest->next_after_id);
}

TEST_P(RepositoryContract, SignerIdentifiersAreUniquePerIssuer) {
    const Signer s = MakeSigner(issuer_a_, "RSSMRA80A01H501U");
    MakeSigner(issuer_b_, "RSSMRA80A01H501U");  // another issuer may know the same person
    {
        auto tx = Write();
        Signer dup = s;
        dup.id = Id();
        auto r = tx->signers().Insert(dup);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().code, ErrorCode::kAlreadyExists);
    }
    auto found = Read()->signers().FindByIdentifier(issuer_a_, IdentifierKind::kItFiscalCode,
                                                    "RSSMRA80A01H501U");
    ASSERT_TRUE(found && *found);
    EXPECT_EQ((*found)->id, s.id);
    EXPECT_FALSE(*Read()->signers().Find(issuer_b_, s.id));
    Signer updated = s;
    updated.phone = "+393331234567";
    {
        auto tx = Write();
        ASSERT_TRUE(tx->signers().UpdateContact(updated));
        ASSERT_TRUE(tx->Commit());
    }
    EXPECT_EQ((*Read()->signers().Find(issuer_a_, s.id))->phone, std::string("+393331234567"));
}

TEST_P(RepositoryContract, RequestsRoundTripWithSignersAndDocuments) {
    const Dossier d = MakeDossier(issuer_a_);
    const Signer s = MakeSigner(issuer_a_, "RSSMRA80A01H501U");
    SignatureRequest r = MakeRequest(d, s);
    auto found = Read()->requests().Find(issuer_a_, r.id);
    ASSERT_TRUE(found && *found);
    const auto& got = **found;
    EXPECT_EQ(got.status, RequestStatus::kDraft);
    EXPECT_EQ(got.reference, std::string("ref-1"));
    EXPECT_EQ(got.expires_at, r.expires_at);
    ASSERT_EQ(got.signers.size(), 1u);
    EXPECT_EQ(got.signers[0].signer_id, s.id);
    ASSERT_EQ(got.documents.size(), 1u);
    EXPECT_EQ(got.documents[0].metadata, d.documents[0]);
    EXPECT_EQ(got.documents[0].status, DocumentStatus::kWaitForUpload);
    EXPECT_FALSE(*Read()->requests().Find(issuer_b_, r.id));

    r.status = RequestStatus::kCancelled;
    r.cancelled_at = clock_.Now();
    r.signers[0].status = SignerStatus::kCancelled;
    r.documents[0].status = DocumentStatus::kRejected;
    r.documents[0].violations = {{"file", "not a PDF"}};
    r.documents[0].upload_generation = 3;
    r.documents[0].blob_key = "k";
    {
        auto tx = Write();
        ASSERT_TRUE(tx->requests().Update(r));
        ASSERT_TRUE(tx->Commit());
    }
    const auto again = **Read()->requests().Find(issuer_a_, r.id);
    EXPECT_EQ(again.status, RequestStatus::kCancelled);
    EXPECT_EQ(again.cancelled_at, r.cancelled_at);
    EXPECT_EQ(again.signers[0].status, SignerStatus::kCancelled);
    EXPECT_EQ(again.documents[0].violations, r.documents[0].violations);
    EXPECT_EQ(again.documents[0].upload_generation, 3);
    EXPECT_EQ(again.documents[0].blob_key, std::string("k"));

    // Another issuer cannot overwrite it.
    SignatureRequest foreign = r;
    foreign.issuer_id = issuer_b_;
    auto tx = Write();
    auto denied = tx->requests().Update(foreign);
    ASSERT_FALSE(denied);
    EXPECT_EQ(denied.error().code, ErrorCode::kNotFound);
}

// PostgreSQL keeps read copies of requests, checked against the row's version (store/sql/
// request_cache.hpp): every reader must still see each committed change, never a rolled-back one,
// and never another issuer's request.
TEST_P(RepositoryContract, ReadsSeeEveryCommittedChangeOfARequestAndNoRolledBackOne) {
    const Dossier d = MakeDossier(issuer_a_);
    const Signer s = MakeSigner(issuer_a_, "RSSMRA80A01H501U");
    SignatureRequest r = MakeRequest(d, s);
    const auto reference_seen = [&](const std::string& expected) {
        for (const auto mode : {TxMode::kRead, TxMode::kSingle}) {
            auto tx = db_->Begin(mode);
            ASSERT_TRUE(tx);
            auto by_issuer = (*tx)->requests().Find(issuer_a_, r.id);
            ASSERT_TRUE(by_issuer && *by_issuer);
            EXPECT_EQ((*by_issuer)->reference, expected);
            EXPECT_EQ((*by_issuer)->signers.size(), r.signers.size());
            EXPECT_EQ((*by_issuer)->documents[0].status, r.documents[0].status);
            auto by_id = (*tx)->requests().FindForSigner(r.id);
            ASSERT_TRUE(by_id && *by_id);
            EXPECT_EQ((*by_id)->reference, expected);
            auto foreign = (*tx)->requests().Find(issuer_b_, r.id);
            ASSERT_TRUE(foreign);
            EXPECT_FALSE(*foreign);
        }
    };
    reference_seen("ref-1");
    reference_seen("ref-1");  // the second read may come from a copy

    for (int i = 2; i <= 4; ++i) {  // changes in quick succession, each read back
        r.reference = "ref-" + std::to_string(i);
        r.documents[0].status =
            i % 2 == 0 ? DocumentStatus::kReady : DocumentStatus::kWaitForUpload;
        auto tx = Write();
        ASSERT_TRUE(tx->requests().Update(r));
        ASSERT_TRUE(tx->Commit());
        reference_seen(*r.reference);
    }

    {  // a change that rolls back, read inside its own transaction first
        SignatureRequest ghost = r;
        ghost.reference = "ghost";
        ghost.signers.push_back(RequestSigner{.signer_id = s.id});
        auto tx = Write();
        ASSERT_TRUE(tx->requests().Update(ghost));
        auto own = tx->requests().Find(issuer_a_, r.id);
        ASSERT_TRUE(own && *own);
        EXPECT_EQ((*own)->reference, std::string("ghost"));
    }
    reference_seen("ref-4");

    {  // the next committed change counts the same version the ghost would have had
        r.reference = "ref-5";
        auto tx = Write();
        ASSERT_TRUE(tx->requests().Update(r));
        ASSERT_TRUE(tx->Commit());
    }
    reference_seen("ref-5");
}

TEST_P(RepositoryContract, SignersAndDocumentsComeBackInTheirPositionsOrder) {
    const Dossier d = MakeDossier(issuer_a_);
    SignatureRequest r;
    r.id = Id();
    r.issuer_id = d.issuer_id;
    r.dossier_id = d.id;
    r.expires_at = clock_.Now() + 24h;
    r.created_at = r.updated_at = clock_.Now();
    // Ids that do not sort as the positions do, so only the positions can give the order.
    for (const char* code : {"VRDGPP80A01H501X", "BNCLCU80A01H501Z", "DNTDNT80A01H501Q"}) {
        RequestSigner s;
        s.signer_id = MakeSigner(issuer_a_, code).id;
        r.signers.insert(r.signers.begin(), s);
    }
    for (const char* title : {"First", "Second", "Third"}) {
        Document doc;
        doc.id = Id();
        doc.metadata = d.documents[0];
        doc.metadata.title = title;
        doc.created_at = doc.updated_at = clock_.Now();
        r.documents.insert(r.documents.begin(), doc);
    }
    for (std::size_t i = 0; i < r.documents.size(); ++i) r.documents[i].index = static_cast<int>(i);
    {
        auto tx = Write();
        ASSERT_TRUE(tx->requests().Insert(r));
        ASSERT_TRUE(tx->Commit());
    }
    const auto check = [&](const SignatureRequest& got) {
        ASSERT_EQ(got.signers.size(), r.signers.size());
        for (std::size_t i = 0; i < r.signers.size(); ++i) {
            EXPECT_EQ(got.signers[i].signer_id, r.signers[i].signer_id) << i;
        }
        ASSERT_EQ(got.documents.size(), r.documents.size());
        for (std::size_t i = 0; i < r.documents.size(); ++i) {
            EXPECT_EQ(got.documents[i].id, r.documents[i].id) << i;
            EXPECT_EQ(got.documents[i].metadata, r.documents[i].metadata) << i;
        }
    };
    check(**Read()->requests().Find(issuer_a_, r.id));
    check(**Read()->requests().FindForSigner(r.id));
    EXPECT_FALSE(*Read()->requests().Find(issuer_b_, r.id));
}

TEST_P(RepositoryContract, RequestListsFilterByStatusAndDossier) {
    const Dossier d1 = MakeDossier(issuer_a_);
    const Dossier d2 = MakeDossier(issuer_a_);
    const Signer s = MakeSigner(issuer_a_, "RSSMRA80A01H501U");
    MakeRequest(d1, s);
    clock_.Advance(1ms);
    SignatureRequest r2 = MakeRequest(d2, s);
    r2.status = RequestStatus::kReady;
    {
        auto tx = Write();
        ASSERT_TRUE(tx->requests().Update(r2));
        ASSERT_TRUE(tx->Commit());
    }
    auto all = Read()->requests().List(issuer_a_, {}, PageQuery{10, std::nullopt});
    ASSERT_TRUE(all);
    EXPECT_EQ(all->items.size(), 2u);
    auto ready = Read()->requests().List(
        issuer_a_, RequestFilter{std::nullopt, RequestStatus::kReady}, PageQuery{10, std::nullopt});
    ASSERT_EQ(ready->items.size(), 1u);
    EXPECT_EQ(ready->items[0].id, r2.id);
    EXPECT_EQ(ready->items[0].documents.size(), 1u);
    auto by_dossier = Read()->requests().List(issuer_a_, RequestFilter{d1.id, std::nullopt},
                                              PageQuery{10, std::nullopt});
    ASSERT_EQ(by_dossier->items.size(), 1u);
    EXPECT_EQ(by_dossier->items[0].dossier_id, d1.id);
    EXPECT_TRUE(Read()->requests().List(issuer_b_, {}, PageQuery{10, std::nullopt})->items.empty());
}

TEST_P(RepositoryContract, ExpiredListingSkipsTerminalRequests) {
    const Dossier d = MakeDossier(issuer_a_);
    const Signer s = MakeSigner(issuer_a_, "RSSMRA80A01H501U");
    SignatureRequest live = MakeRequest(d, s);
    SignatureRequest done = MakeRequest(d, s);
    done.status = RequestStatus::kSigned;
    {
        auto tx = Write();
        ASSERT_TRUE(tx->requests().Update(done));
        ASSERT_TRUE(tx->Commit());
    }
    EXPECT_TRUE(Read()->requests().ListExpired(clock_.Now(), 10)->empty());
    auto due = Read()->requests().ListExpired(clock_.Now() + 25h, 10);
    ASSERT_TRUE(due);
    ASSERT_EQ(due->size(), 1u);
    EXPECT_EQ((*due)[0], std::make_pair(issuer_a_, live.id));
}

TEST_P(RepositoryContract, AuditEventsKeepTheirOrder) {
    const Dossier d = MakeDossier(issuer_a_);
    const SignatureRequest r = MakeRequest(d, MakeSigner(issuer_a_, "RSSMRA80A01H501U"));
    {
        auto tx = Write();
        for (const char* type :
             {"signature_request.created", "document.uploaded", "document.ready"}) {
            ASSERT_TRUE(tx->audit().Append(
                AuditEvent{0, r.id, clock_.Now(), type, "A", "B", "", "", "test", ""}));
        }
        ASSERT_TRUE(tx->Commit());
    }
    auto events = Read()->audit().List(r.id);
    ASSERT_TRUE(events);
    ASSERT_EQ(events->size(), 3u);
    EXPECT_EQ((*events)[1].type, "document.uploaded");
    EXPECT_LT((*events)[0].seq, (*events)[1].seq);
    EXPECT_LT((*events)[1].seq, (*events)[2].seq);
}

TEST_P(RepositoryContract, JobsAreLeasedOnceAndRetried) {
    Job job;
    job.issuer_id = issuer_a_;
    job.request_id = "R";
    job.document_id = "D";
    job.generation = 1;
    job.run_at = clock_.Now();
    {
        auto tx = Write();
        ASSERT_TRUE(tx->jobs().Enqueue(job));
        ASSERT_TRUE(tx->Commit());
    }
    auto claim = [&](const char* worker) {
        auto tx = Write();
        auto j = tx->jobs().Claim(clock_.Now(), 30s, worker);
        EXPECT_TRUE(j);
        EXPECT_TRUE(tx->Commit());
        return *j;
    };
    auto first = claim("w1");
    ASSERT_TRUE(first);
    EXPECT_EQ(first->attempts, 1);
    EXPECT_FALSE(claim("w2"));  // leased
    clock_.Advance(31s);        // lease ran out: the worker died
    auto second = claim("w2");
    ASSERT_TRUE(second);
    EXPECT_EQ(second->id, first->id);
    EXPECT_EQ(second->attempts, 2);
    {
        auto tx = Write();
        // The first claim's lease was taken over: it can no longer finish or reset the job.
        EXPECT_FALSE(*tx->jobs().Complete(*first));
        EXPECT_FALSE(*tx->jobs().Retry(*first, clock_.Now() + 10s, "stale"));
        EXPECT_FALSE(*tx->jobs().Reschedule(*first, clock_.Now() + 10s));
        ASSERT_TRUE(*tx->jobs().Retry(*second, clock_.Now() + 10s, "boom"));
        ASSERT_TRUE(tx->Commit());
    }
    EXPECT_FALSE(claim("w1"));  // not due yet
    clock_.Advance(10s);
    auto third = claim("w1");
    ASSERT_TRUE(third);
    EXPECT_EQ(third->last_error, "boom");
    {
        auto tx = Write();
        ASSERT_TRUE(*tx->jobs().Complete(*third));
        ASSERT_TRUE(tx->Commit());
    }
    clock_.Advance(1h);
    EXPECT_FALSE(claim("w1"));
}

TEST_P(RepositoryContract, AwaitJobsCarryTheirKeyAndArePolledWithoutCountingAttempts) {
    Job job;
    job.kind = JobKind::kAwaitUpload;
    job.issuer_id = issuer_a_;
    job.request_id = "R";
    job.document_id = "D";
    job.run_at = clock_.Now();
    job.blob_key = "uploads/R/D-1.pdf";
    job.created_at = clock_.Now();
    job.not_after = clock_.Now() + 1h;
    {
        auto tx = Write();
        ASSERT_TRUE(tx->jobs().Enqueue(job));
        Job other = job;  // another document's watch, and a finished one of this document
        other.document_id = "D2";
        ASSERT_TRUE(tx->jobs().Enqueue(other));
        ASSERT_TRUE(tx->Commit());
    }
    {
        auto tx = Write();
        auto open = tx->jobs().FindOpen(JobKind::kAwaitUpload, "R", "D");
        ASSERT_TRUE(open);
        ASSERT_TRUE(*open);
        EXPECT_EQ((*open)->blob_key, "uploads/R/D-1.pdf");
        EXPECT_EQ((*open)->created_at, clock_.Now());
        EXPECT_EQ((*open)->not_after, clock_.Now() + 1h);
        EXPECT_EQ((*open)->kind, JobKind::kAwaitUpload);
        EXPECT_FALSE(*tx->jobs().FindOpen(JobKind::kValidateDocument, "R", "D"));
        EXPECT_FALSE(*tx->jobs().FindOpen(JobKind::kAwaitUpload, "R", "D3"));
        ASSERT_TRUE(tx->jobs().Extend((*open)->id, clock_.Now() + 2h));
        ASSERT_TRUE(tx->Commit());
    }
    auto claim = [&] {
        auto tx = Write();
        auto j = tx->jobs().Claim(clock_.Now(), 30s, "w");
        EXPECT_TRUE(j);
        EXPECT_TRUE(tx->Commit());
        return *j;
    };
    auto first = claim();
    ASSERT_TRUE(first);
    ASSERT_EQ(first->document_id, "D");
    EXPECT_EQ(first->not_after, clock_.Now() + 2h);
    EXPECT_EQ(first->attempts, 1);
    {
        auto tx = Write();
        ASSERT_TRUE(*tx->jobs().Reschedule(*first, clock_.Now() + 5s));
        ASSERT_TRUE(tx->Commit());
    }
    auto d2 = claim();  // the other document's job; this one is not due yet
    ASSERT_TRUE(d2);
    EXPECT_EQ(d2->document_id, "D2");
    clock_.Advance(5s);
    auto again = claim();  // due again, lease free at once, and the poll was not an attempt
    ASSERT_TRUE(again);
    EXPECT_EQ(again->id, first->id);
    EXPECT_EQ(again->attempts, 1);
    {
        auto tx = Write();
        ASSERT_TRUE(*tx->jobs().Complete(*again));
        EXPECT_FALSE(*tx->jobs().FindOpen(JobKind::kAwaitUpload, "R", "D"));
        ASSERT_TRUE(tx->Commit());
    }
}

TEST_P(RepositoryContract, SettingsKeepTheFirstValue) {
    auto tx = Write();
    EXPECT_EQ(tx->settings().PutIfAbsent("secret", "one"), std::string("one"));
    EXPECT_EQ(tx->settings().PutIfAbsent("secret", "two"), std::string("one"));
    ASSERT_TRUE(tx->Commit());
    EXPECT_EQ(*Read()->settings().Get("secret"), std::string("one"));
    EXPECT_FALSE(*Read()->settings().Get("absent"));
}

TEST_P(RepositoryContract, IdempotencyKeysAreClaimedOnceAndExpire) {
    const IdempotencyRecord fresh{issuer_a_, "k1", "h1", 0, "", "", clock_.Now()};
    const auto claim = [&](const IdempotencyRecord& r, Timestamp stale_before) {
        auto tx = Write();
        auto got = tx->idempotency().Claim(r, stale_before);
        EXPECT_TRUE(got);
        EXPECT_TRUE(tx->Commit());
        return *got;
    };
    EXPECT_FALSE(claim(fresh, clock_.Now() - 24h));  // first claim wins
    auto second = claim(fresh, clock_.Now() - 24h);
    ASSERT_TRUE(second);
    EXPECT_EQ(second->status, 0);  // still running
    {
        auto tx = Write();
        ASSERT_TRUE(tx->idempotency().Complete({issuer_a_, "k1", "", 201, "{}", "/x", {}}));
        ASSERT_TRUE(tx->Commit());
    }
    auto done = claim(fresh, clock_.Now() - 24h);
    ASSERT_TRUE(done);
    EXPECT_EQ(done->status, 201);
    EXPECT_EQ(done->location, "/x");
    EXPECT_EQ(done->request_hash, "h1");
    // Another issuer's key space is separate.
    EXPECT_FALSE(claim({issuer_b_, "k1", "h2", 0, "", "", clock_.Now()}, clock_.Now() - 24h));
    // After the retention period the key is free again.
    clock_.Advance(25h);
    EXPECT_FALSE(claim(fresh, clock_.Now() - 24h));
    {
        auto tx = Write();
        ASSERT_TRUE(tx->idempotency().Release(issuer_a_, "k1"));
        ASSERT_TRUE(tx->Commit());
    }
    EXPECT_FALSE(claim(fresh, clock_.Now() - 24h));
}

TEST_P(RepositoryContract, PurgeDropsOldIdempotencyKeysAndFinishedJobs) {
    Job job;
    job.issuer_id = issuer_a_;
    job.request_id = "R";
    job.document_id = "D";
    job.run_at = clock_.Now();
    {
        auto tx = Write();
        ASSERT_TRUE(tx->idempotency().Claim({issuer_a_, "old", "h", 201, "{}", "", clock_.Now()},
                                            clock_.Now()));
        auto done_id = tx->jobs().Enqueue(job);
        ASSERT_TRUE(done_id);
        Job done = job;
        done.id = *done_id;
        ASSERT_TRUE(*tx->jobs().Complete(done));
        ASSERT_TRUE(tx->jobs().Enqueue(job));  // pending: must survive
        ASSERT_TRUE(tx->Commit());
    }
    clock_.Advance(2h);
    {
        auto tx = Write();
        EXPECT_EQ(tx->idempotency().Purge(clock_.Now() - 1h), 1);
        EXPECT_EQ(tx->jobs().PurgeFinished(clock_.Now() - 1h), 1);
        ASSERT_TRUE(tx->Commit());
    }
    auto tx = Write();
    auto pending = tx->jobs().Claim(clock_.Now(), 30s, "w");
    ASSERT_TRUE(pending && *pending);
    auto fresh = tx->idempotency().Claim({issuer_a_, "old", "h2", 0, "", "", clock_.Now()},
                                         clock_.Now() - 24h);
    ASSERT_TRUE(fresh);
    EXPECT_FALSE(*fresh);  // the old record was gone
}

// ---- Signer side -------------------------------------------------------------------------

TEST_P(RepositoryContract, SignerSideColumnsOfRequestsRoundTrip) {
    const Dossier d = MakeDossier(issuer_a_);
    Signer s{Id(),         issuer_a_,    IdentifierKind::kEmail, "mario@example.org", std::nullopt,
             std::nullopt, clock_.Now(), clock_.Now(),           "Mario Rossi"};
    Signer p{Id(),         issuer_a_,    IdentifierKind::kPhone, "+393331234567", std::nullopt,
             std::nullopt, clock_.Now(), clock_.Now(),           std::nullopt};
    {
        auto tx = Write();
        ASSERT_TRUE(tx->signers().Insert(s));
        ASSERT_TRUE(tx->signers().Insert(p));
        ASSERT_TRUE(tx->Commit());
    }
    const auto email = *Read()->signers().Find(issuer_a_, s.id);
    ASSERT_TRUE(email);
    EXPECT_EQ(email->kind, IdentifierKind::kEmail);
    EXPECT_EQ(email->identifier, "mario@example.org");
    EXPECT_EQ(email->full_name, std::string("Mario Rossi"));
    const auto phone =
        *Read()->signers().FindByIdentifier(issuer_a_, IdentifierKind::kPhone, "+393331234567");
    ASSERT_TRUE(phone);
    EXPECT_EQ(phone->id, p.id);
    EXPECT_FALSE(phone->full_name);
    // The identifier kinds are separate key spaces.
    EXPECT_FALSE(*Read()->signers().FindByIdentifier(issuer_a_, IdentifierKind::kPhone,
                                                     "mario@example.org"));
    Signer renamed = *email;
    renamed.full_name = "Mario B. Rossi";
    {
        auto tx = Write();
        ASSERT_TRUE(tx->signers().UpdateContact(renamed));
        ASSERT_TRUE(tx->Commit());
    }
    EXPECT_EQ((*Read()->signers().Find(issuer_a_, s.id))->full_name, std::string("Mario B. Rossi"));

    // A fresh request: the new columns start empty.
    SignatureRequest r = MakeRequest(d, s);
    {
        const auto got = **Read()->requests().Find(issuer_a_, r.id);
        EXPECT_FALSE(got.redirect);
        EXPECT_FALSE(got.notification_id);
        EXPECT_TRUE(got.signers[0].accepted_fields.empty());
        EXPECT_FALSE(got.signers[0].accepted_at);
        EXPECT_EQ(got.signers[0].failed_code_attempts, 0);
        EXPECT_FALSE(got.documents[0].signed_blob_key);
        EXPECT_EQ(got.documents[0].signature_count, 0);
    }
    // Inserted with values.
    SignatureRequest direct = r;
    direct.id = Id();
    direct.documents[0].id = Id();
    direct.redirect =
        RedirectUrls{"https://a.example/ok", "https://a.example/no", "https://a.example/err"};
    direct.notification_id = "N1";
    direct.signers[0].accepted_fields = {{0, 0}, {0, 1}};
    direct.signers[0].accepted_at = clock_.Now() + 1s;
    direct.signers[0].signing_name = "Mario Rossi";
    direct.documents[0].signed_blob_key = "signed-1";
    direct.documents[0].signed_size = 1234;
    direct.documents[0].signed_sha256_hex = std::string(64, 'a');
    direct.documents[0].signature_count = 1;
    {
        auto tx = Write();
        ASSERT_TRUE(tx->requests().Insert(direct));
        ASSERT_TRUE(tx->Commit());
    }
    {
        const auto got = **Read()->requests().Find(issuer_a_, direct.id);
        EXPECT_EQ(got.redirect, direct.redirect);
        EXPECT_EQ(got.notification_id, std::string("N1"));
        EXPECT_EQ(got.signers[0].accepted_fields, direct.signers[0].accepted_fields);
        EXPECT_EQ(got.signers[0].accepted_at, direct.signers[0].accepted_at);
        EXPECT_EQ(got.signers[0].signing_name, "Mario Rossi");
        EXPECT_EQ(got.documents[0].signed_blob_key, std::string("signed-1"));
        EXPECT_EQ(got.documents[0].signed_size, 1234);
        EXPECT_EQ(got.documents[0].signed_sha256_hex, std::string(64, 'a'));
        EXPECT_EQ(got.documents[0].signature_count, 1);
        EXPECT_EQ(got.documents[0].CurrentBlobKey(), std::string("signed-1"));
    }
    // Updated.
    r.redirect =
        RedirectUrls{"https://b.example/ok?x=1", "https://b.example/no", "https://b.example/err"};
    r.notification_id = "N2";
    RequestSigner& rs = r.signers[0];
    rs.accepted_fields = {{0, 1}};
    rs.accepted_at = clock_.Now() + 2s;
    rs.confirmed_at = clock_.Now() + 3s;
    rs.signing_name = "M. Rossi";
    rs.failed_code_attempts = 4;
    rs.reject_reason = "wrong salary";
    Document& doc = r.documents[0];
    doc.blob_key = "upload";
    doc.signed_blob_key = "signed-2";
    doc.signed_size = 99;
    doc.signed_sha256_hex = std::string(64, 'b');
    doc.signature_count = 2;
    {
        auto tx = Write();
        ASSERT_TRUE(tx->requests().Update(r));
        ASSERT_TRUE(tx->Commit());
    }
    const auto got = **Read()->requests().Find(issuer_a_, r.id);
    EXPECT_EQ(got.redirect, r.redirect);
    EXPECT_EQ(got.notification_id, std::string("N2"));
    EXPECT_EQ(got.signers[0].accepted_fields, rs.accepted_fields);
    EXPECT_EQ(got.signers[0].accepted_at, rs.accepted_at);
    EXPECT_EQ(got.signers[0].confirmed_at, rs.confirmed_at);
    EXPECT_EQ(got.signers[0].signing_name, "M. Rossi");
    EXPECT_EQ(got.signers[0].failed_code_attempts, 4);
    EXPECT_EQ(got.signers[0].reject_reason, std::string("wrong salary"));
    EXPECT_EQ(got.documents[0].blob_key, std::string("upload"));
    EXPECT_EQ(got.documents[0].signed_blob_key, std::string("signed-2"));
    EXPECT_EQ(got.documents[0].signed_size, 99);
    EXPECT_EQ(got.documents[0].signed_sha256_hex, std::string(64, 'b'));
    EXPECT_EQ(got.documents[0].signature_count, 2);
    // And cleared again.
    r.redirect.reset();
    r.signers[0].accepted_fields.clear();
    r.signers[0].accepted_at.reset();
    r.signers[0].confirmed_at.reset();
    r.signers[0].reject_reason.reset();
    r.documents[0].signed_blob_key.reset();
    {
        auto tx = Write();
        ASSERT_TRUE(tx->requests().Update(r));
        ASSERT_TRUE(tx->Commit());
    }
    const auto cleared = **Read()->requests().Find(issuer_a_, r.id);
    EXPECT_FALSE(cleared.redirect);
    EXPECT_TRUE(cleared.signers[0].accepted_fields.empty());
    EXPECT_FALSE(cleared.signers[0].accepted_at);
    EXPECT_FALSE(cleared.signers[0].confirmed_at);
    EXPECT_FALSE(cleared.signers[0].reject_reason);
    EXPECT_FALSE(cleared.documents[0].signed_blob_key);
}

TEST_P(RepositoryContract, SignerSideFindsRequestsOfAnyIssuer) {
    const SignatureRequest a =
        MakeRequest(MakeDossier(issuer_a_), MakeSigner(issuer_a_, "RSSMRA80A01H501U"));
    const SignatureRequest b =
        MakeRequest(MakeDossier(issuer_b_), MakeSigner(issuer_b_, "RSSMRA80A01H501U"));
    for (const auto* r : {&a, &b}) {
        auto found = Read()->requests().FindForSigner(r->id);
        ASSERT_TRUE(found && *found);
        EXPECT_EQ((*found)->issuer_id, r->issuer_id);
        ASSERT_EQ((*found)->signers.size(), 1u);
        EXPECT_EQ((*found)->signers[0].signer_id, r->signers[0].signer_id);
        ASSERT_EQ((*found)->documents.size(), 1u);
        EXPECT_EQ((*found)->documents[0].id, r->documents[0].id);
    }
    auto none = Read()->requests().FindForSigner("01NOSUCHREQUEST");
    ASSERT_TRUE(none);
    EXPECT_FALSE(*none);
}

TEST_P(RepositoryContract, SessionsRoundTripUpdateAndDelete) {
    PortalSession anon;
    anon.id_hash = "hash-anon";
    anon.csrf_token = "csrf-1";
    anon.created_at = clock_.Now();
    anon.expires_at = clock_.Now() + 30min;
    anon.ip = "192.0.2.1";
    anon.user_agent = "Firefox";
    PortalSession eid;
    eid.id_hash = "hash-eid";
    eid.csrf_token = "csrf-2";
    eid.auth_method = "oidc";
    eid.identity_kind = IdentifierKind::kNoNationalId;
    eid.identity = "01017012345";
    eid.full_name = "Kari Nordmann";
    eid.authenticated_at = clock_.Now() + 1s;
    eid.reauthenticated_at = clock_.Now() + 2s;
    eid.pending_json = R"({"state":"s"})";
    eid.created_at = clock_.Now();
    eid.expires_at = clock_.Now() + 1h;
    eid.ip = "2001:db8::1";
    eid.user_agent = "Safari";
    {
        auto tx = Write();
        ASSERT_TRUE(tx->sessions().Insert(anon));
        ASSERT_TRUE(tx->sessions().Insert(eid));
        ASSERT_TRUE(tx->Commit());
    }
    const auto expect_same = [](const PortalSession& got, const PortalSession& want) {
        EXPECT_EQ(got.id_hash, want.id_hash);
        EXPECT_EQ(got.csrf_token, want.csrf_token);
        EXPECT_EQ(got.auth_method, want.auth_method);
        EXPECT_EQ(got.identity_kind, want.identity_kind);
        EXPECT_EQ(got.identity, want.identity);
        EXPECT_EQ(got.full_name, want.full_name);
        EXPECT_EQ(got.request_id, want.request_id);
        EXPECT_EQ(got.signer_id, want.signer_id);
        EXPECT_EQ(got.authenticated_at, want.authenticated_at);
        EXPECT_EQ(got.reauthenticated_at, want.reauthenticated_at);
        EXPECT_EQ(got.pending_json, want.pending_json);
        EXPECT_EQ(got.created_at, want.created_at);
        EXPECT_EQ(got.expires_at, want.expires_at);
        EXPECT_EQ(got.ip, want.ip);
        EXPECT_EQ(got.user_agent, want.user_agent);
    };
    {
        auto got = Read()->sessions().Find("hash-anon");
        ASSERT_TRUE(got && *got);
        expect_same(**got, anon);
        EXPECT_FALSE((*got)->authenticated());
        auto got_eid = Read()->sessions().Find("hash-eid");
        ASSERT_TRUE(got_eid && *got_eid);
        expect_same(**got_eid, eid);
    }
    // A link login: the session now names one request and signer.
    anon.auth_method = "code";
    anon.request_id = "R1";
    anon.signer_id = "S1";
    anon.csrf_token = "csrf-3";
    anon.authenticated_at = clock_.Now() + 5s;
    anon.expires_at = clock_.Now() + 2h;
    anon.pending_json = "{}";
    anon.ip = "192.0.2.2";
    anon.user_agent = "Chrome";
    eid.identity_kind.reset();
    eid.reauthenticated_at.reset();
    {
        auto tx = Write();
        ASSERT_TRUE(tx->sessions().Update(anon));
        ASSERT_TRUE(tx->sessions().Update(eid));
        ASSERT_TRUE(tx->Commit());
    }
    expect_same(**Read()->sessions().Find("hash-anon"), anon);
    expect_same(**Read()->sessions().Find("hash-eid"), eid);
    {
        PortalSession ghost = anon;
        ghost.id_hash = "hash-ghost";
        auto tx = Write();
        auto missing = tx->sessions().Update(ghost);
        ASSERT_FALSE(missing);
        EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
    }
    {
        auto tx = Write();
        ASSERT_TRUE(tx->sessions().Delete("hash-anon"));
        ASSERT_TRUE(tx->sessions().Delete("hash-unknown"));  // deleting nothing is fine
        ASSERT_TRUE(tx->Commit());
    }
    EXPECT_FALSE(*Read()->sessions().Find("hash-anon"));
    EXPECT_TRUE(*Read()->sessions().Find("hash-eid"));
}

TEST_P(RepositoryContract, LatestCodeIsTheNewestUnusedOfThatKindAndSigner) {
    const Dossier d = MakeDossier(issuer_a_);
    const Signer s = MakeSigner(issuer_a_, "RSSMRA80A01H501U");
    const Signer other = MakeSigner(issuer_a_, "VRDGPP80A01H501X");
    SignatureRequest r = MakeRequest(d, s);
    const auto insert = [&](const std::string& signer_id, CodeKind kind, const std::string& hash) {
        clock_.Advance(1ms);  // ids (ULIDs) order by time
        OneTimeCode c{Id(),        r.id, signer_id, kind, hash, clock_.Now(), clock_.Now() + 10min,
                      std::nullopt};
        auto tx = Write();
        EXPECT_TRUE(tx->codes().Insert(c));
        EXPECT_TRUE(tx->Commit());
        return c;
    };
    {
        auto none = Read()->codes().FindLatest(r.id, s.id, CodeKind::kLogin);
        ASSERT_TRUE(none);
        EXPECT_FALSE(*none);
    }
    const OneTimeCode first = insert(s.id, CodeKind::kLogin, "h1");
    const OneTimeCode second = insert(s.id, CodeKind::kLogin, "h2");
    const OneTimeCode confirm = insert(s.id, CodeKind::kConfirm, "h3");
    insert(other.id, CodeKind::kLogin, "h4");  // another signer's, newer
    {
        auto latest = Read()->codes().FindLatest(r.id, s.id, CodeKind::kLogin);
        ASSERT_TRUE(latest && *latest);
        EXPECT_EQ((*latest)->id, second.id);
        EXPECT_EQ((*latest)->request_id, r.id);
        EXPECT_EQ((*latest)->signer_id, s.id);
        EXPECT_EQ((*latest)->kind, CodeKind::kLogin);
        EXPECT_EQ((*latest)->code_hash, "h2");
        EXPECT_EQ((*latest)->created_at, second.created_at);
        EXPECT_EQ((*latest)->expires_at, second.expires_at);
        EXPECT_FALSE((*latest)->used_at);
        auto latest_confirm = Read()->codes().FindLatest(r.id, s.id, CodeKind::kConfirm);
        ASSERT_TRUE(latest_confirm && *latest_confirm);
        EXPECT_EQ((*latest_confirm)->id, confirm.id);
        EXPECT_EQ((*latest_confirm)->code_hash, "h3");
    }
    {
        auto tx = Write();
        EXPECT_EQ(tx->codes().Use(second.id, clock_.Now()), true);
        EXPECT_EQ(tx->codes().Use(second.id, clock_.Now()), false);  // once
        EXPECT_EQ(tx->codes().Use("no-such-code", clock_.Now()), false);
        ASSERT_TRUE(tx->Commit());
    }
    // A used code is skipped: the older unused one is the latest now.
    auto latest = Read()->codes().FindLatest(r.id, s.id, CodeKind::kLogin);
    ASSERT_TRUE(latest && *latest);
    EXPECT_EQ((*latest)->id, first.id);
    {
        auto tx = Write();
        EXPECT_EQ(tx->codes().Use(first.id, clock_.Now()), true);
        ASSERT_TRUE(tx->Commit());
    }
    EXPECT_FALSE(*Read()->codes().FindLatest(r.id, s.id, CodeKind::kLogin));
    EXPECT_TRUE(*Read()->codes().FindLatest(r.id, s.id, CodeKind::kConfirm));  // untouched
    EXPECT_TRUE(*Read()->codes().FindLatest(r.id, other.id, CodeKind::kLogin));
}

TEST_P(RepositoryContract, SignerTokensAreUsedOnceAndRevokedByKindAndSigner) {
    const Dossier d = MakeDossier(issuer_a_);
    const Signer s = MakeSigner(issuer_a_, "RSSMRA80A01H501U");
    const Signer other = MakeSigner(issuer_a_, "VRDGPP80A01H501X");
    SignatureRequest r = MakeRequest(d, s);
    const auto token = [&](const std::string& hash, SignerTokenKind kind,
                           const std::string& signer_id) {
        return SignerToken{hash,        kind, r.id, signer_id, clock_.Now(), clock_.Now() + 1h,
                           std::nullopt};
    };
    const SignerToken redirect = token("t-redirect", SignerTokenKind::kRedirect, s.id);
    {
        auto tx = Write();
        ASSERT_TRUE(tx->signer_tokens().Insert(redirect));
        ASSERT_TRUE(
            tx->signer_tokens().Insert(token("t-redirect-2", SignerTokenKind::kRedirect, s.id)));
        ASSERT_TRUE(
            tx->signer_tokens().Insert(token("t-status", SignerTokenKind::kStatusQuery, s.id)));
        ASSERT_TRUE(
            tx->signer_tokens().Insert(token("t-other", SignerTokenKind::kRedirect, other.id)));
        ASSERT_TRUE(tx->Commit());
    }
    {
        auto found = Read()->signer_tokens().Find("t-redirect");
        ASSERT_TRUE(found && *found);
        EXPECT_EQ((*found)->token_hash, "t-redirect");
        EXPECT_EQ((*found)->kind, SignerTokenKind::kRedirect);
        EXPECT_EQ((*found)->request_id, r.id);
        EXPECT_EQ((*found)->signer_id, s.id);
        EXPECT_EQ((*found)->created_at, redirect.created_at);
        EXPECT_EQ((*found)->expires_at, redirect.expires_at);
        EXPECT_FALSE((*found)->used_at);
        EXPECT_EQ((*Read()->signer_tokens().Find("t-status"))->kind, SignerTokenKind::kStatusQuery);
        EXPECT_FALSE(*Read()->signer_tokens().Find("t-unknown"));
    }
    const Timestamp used_at = clock_.Now() + 1s;
    {
        auto tx = Write();
        EXPECT_EQ(tx->signer_tokens().Use("t-redirect", used_at), true);
        EXPECT_EQ(tx->signer_tokens().Use("t-redirect", used_at + 1s), false);
        EXPECT_EQ(tx->signer_tokens().Use("t-unknown", used_at), false);
        ASSERT_TRUE(tx->Commit());
    }
    EXPECT_EQ((*Read()->signer_tokens().Find("t-redirect"))->used_at, used_at);  // the first use
    const Timestamp revoked_at = clock_.Now() + 2s;
    {
        auto tx = Write();
        ASSERT_TRUE(tx->signer_tokens().Revoke(r.id, s.id, SignerTokenKind::kRedirect, revoked_at));
        ASSERT_TRUE(tx->Commit());
    }
    EXPECT_EQ((*Read()->signer_tokens().Find("t-redirect-2"))->used_at, revoked_at);
    EXPECT_EQ((*Read()->signer_tokens().Find("t-redirect"))->used_at, used_at);  // not overwritten
    EXPECT_FALSE((*Read()->signer_tokens().Find("t-status"))->used_at);          // another kind
    EXPECT_FALSE((*Read()->signer_tokens().Find("t-other"))->used_at);           // another signer
    auto tx = Write();
    EXPECT_EQ(tx->signer_tokens().Use("t-redirect-2", clock_.Now()), false);
    EXPECT_EQ(tx->signer_tokens().Use("t-other", clock_.Now()), true);
}

TEST_P(RepositoryContract, InboxListsOneIdentityNewestFirstAndIsUniquePerKind) {
    const Dossier d = MakeDossier(issuer_a_);
    const Signer s = MakeSigner(issuer_a_, "RSSMRA80A01H501U");
    std::vector<SignatureRequest> requests;
    for (int i = 0; i < 3; ++i) requests.push_back(MakeRequest(d, s));
    const auto message = [&](const SignatureRequest& r, IdentifierKind kind,
                             const std::string& identity, MessageKind what) {
        clock_.Advance(1ms);
        return InboxMessage{Id(),         kind,
                            identity,     r.issuer_id,
                            r.id,         r.signers[0].signer_id,
                            what,         "Contratto di lavoro",
                            clock_.Now(), std::nullopt};
    };
    std::vector<InboxMessage> mine;
    {
        auto tx = Write();
        for (const auto& r : requests) {
            mine.push_back(message(r, IdentifierKind::kItFiscalCode, "RSSMRA80A01H501U",
                                   MessageKind::kSignRequest));
            ASSERT_TRUE(tx->inbox().Insert(mine.back()));
        }
        mine.push_back(message(requests[0], IdentifierKind::kItFiscalCode, "RSSMRA80A01H501U",
                               MessageKind::kSignedDocuments));
        mine.back().read_at = clock_.Now() + 1s;
        ASSERT_TRUE(tx->inbox().Insert(mine.back()));
        // Someone else's, and the same digits under another kind of identifier.
        InboxMessage theirs = message(requests[1], IdentifierKind::kItFiscalCode,
                                      "VRDGPP80A01H501X", MessageKind::kSignedDocuments);
        theirs.signer_id = "S-OTHER";
        ASSERT_TRUE(tx->inbox().Insert(theirs));
        InboxMessage other_kind = message(requests[2], IdentifierKind::kNoNationalId,
                                          "RSSMRA80A01H501U", MessageKind::kSignedDocuments);
        other_kind.signer_id = "S-NO";
        ASSERT_TRUE(tx->inbox().Insert(other_kind));
        ASSERT_TRUE(tx->Commit());
    }
    auto first = Read()->inbox().List(IdentifierKind::kItFiscalCode, "RSSMRA80A01H501U",
                                      PageQuery{3, std::nullopt});
    ASSERT_TRUE(first);
    ASSERT_EQ(first->items.size(), 3u);
    EXPECT_EQ(first->items[0].id, mine[3].id);
    EXPECT_EQ(first->items[1].id, mine[2].id);
    EXPECT_EQ(first->items[2].id, mine[1].id);
    const InboxMessage& newest = first->items[0];
    EXPECT_EQ(newest.identity_kind, IdentifierKind::kItFiscalCode);
    EXPECT_EQ(newest.identity, "RSSMRA80A01H501U");
    EXPECT_EQ(newest.issuer_id, issuer_a_);
    EXPECT_EQ(newest.request_id, requests[0].id);
    EXPECT_EQ(newest.signer_id, s.id);
    EXPECT_EQ(newest.kind, MessageKind::kSignedDocuments);
    EXPECT_EQ(newest.title, "Contratto di lavoro");
    EXPECT_EQ(newest.created_at, mine[3].created_at);
    EXPECT_EQ(newest.read_at, mine[3].read_at);
    EXPECT_FALSE(first->items[1].read_at);
    ASSERT_TRUE(first->next_after_id);
    auto rest = Read()->inbox().List(IdentifierKind::kItFiscalCode, "RSSMRA80A01H501U",
                                     PageQuery{3, first->next_after_id});
    ASSERT_TRUE(rest);
    ASSERT_EQ(rest->items.size(), 1u);
    EXPECT_EQ(rest->items[0].id, mine[0].id);
    EXPECT_FALSE(rest->next_after_id);
    auto other_kind = Read()->inbox().List(IdentifierKind::kNoNationalId, "RSSMRA80A01H501U",
                                           PageQuery{10, std::nullopt});
    ASSERT_EQ(other_kind->items.size(), 1u);
    EXPECT_EQ(other_kind->items[0].signer_id, "S-NO");
    EXPECT_TRUE(Read()
                    ->inbox()
                    .List(IdentifierKind::kItFiscalCode, "NOBODY", PageQuery{10, std::nullopt})
                    ->items.empty());

    EXPECT_EQ(Read()->inbox().Has(requests[0].id, s.id, MessageKind::kSignRequest), true);
    EXPECT_EQ(Read()->inbox().Has(requests[0].id, s.id, MessageKind::kSignedDocuments), true);
    EXPECT_EQ(Read()->inbox().Has(requests[1].id, s.id, MessageKind::kSignedDocuments), false);
    EXPECT_EQ(Read()->inbox().Has(requests[0].id, "S-OTHER", MessageKind::kSignRequest), false);
    // One message per (request, signer, kind).
    auto tx = Write();
    InboxMessage dup = message(requests[0], IdentifierKind::kItFiscalCode, "RSSMRA80A01H501U",
                               MessageKind::kSignRequest);
    auto refused = tx->inbox().Insert(dup);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, ErrorCode::kAlreadyExists);
}

TEST_P(RepositoryContract, PurgeSignerSideDropsOnlyExpiredRows) {
    const SignatureRequest r =
        MakeRequest(MakeDossier(issuer_a_), MakeSigner(issuer_a_, "RSSMRA80A01H501U"));
    const std::string signer_id = r.signers[0].signer_id;
    const Timestamp now = clock_.Now();
    const auto session = [&](const std::string& hash, Timestamp expires_at) {
        PortalSession x;
        x.id_hash = hash;
        x.created_at = now - 2h;
        x.expires_at = expires_at;
        return x;
    };
    const std::string old_code = Id();
    const std::string live_code = Id();
    {
        auto tx = Write();
        ASSERT_TRUE(tx->sessions().Insert(session("s-old", now - 1ms)));
        ASSERT_TRUE(tx->sessions().Insert(session("s-now", now)));  // expires at now: kept
        ASSERT_TRUE(tx->sessions().Insert(session("s-live", now + 1h)));
        ASSERT_TRUE(tx->codes().Insert(OneTimeCode{old_code, r.id, signer_id, CodeKind::kLogin, "h",
                                                   now - 2h, now - 1h, std::nullopt}));
        ASSERT_TRUE(tx->codes().Insert(OneTimeCode{live_code, r.id, signer_id, CodeKind::kConfirm,
                                                   "h", now, now + 10min, std::nullopt}));
        ASSERT_TRUE(
            tx->signer_tokens().Insert(SignerToken{"t-old", SignerTokenKind::kRedirect, r.id,
                                                   signer_id, now - 2h, now - 1h, now - 90min}));
        ASSERT_TRUE(
            tx->signer_tokens().Insert(SignerToken{"t-live", SignerTokenKind::kStatusQuery, r.id,
                                                   signer_id, now, now + 7 * 24h, std::nullopt}));
        ASSERT_TRUE(tx->Commit());
    }
    {
        auto tx = Write();
        EXPECT_EQ(tx->sessions().PurgeExpired(now), 1);
        EXPECT_EQ(tx->codes().PurgeExpired(now), 1);
        EXPECT_EQ(tx->signer_tokens().PurgeExpired(now), 1);
        ASSERT_TRUE(tx->Commit());
    }
    EXPECT_FALSE(*Read()->sessions().Find("s-old"));
    EXPECT_TRUE(*Read()->sessions().Find("s-now"));
    EXPECT_TRUE(*Read()->sessions().Find("s-live"));
    EXPECT_FALSE(*Read()->codes().FindLatest(r.id, signer_id, CodeKind::kLogin));
    auto live = Read()->codes().FindLatest(r.id, signer_id, CodeKind::kConfirm);
    ASSERT_TRUE(live && *live);
    EXPECT_EQ((*live)->id, live_code);
    EXPECT_FALSE(*Read()->signer_tokens().Find("t-old"));
    EXPECT_TRUE(*Read()->signer_tokens().Find("t-live"));
    {
        auto tx = Write();
        EXPECT_EQ(*tx->sessions().PurgeExpired(now) + *tx->codes().PurgeExpired(now) +
                      *tx->signer_tokens().PurgeExpired(now),
                  0);  // nothing more
    }
}

// ---- Rate limits ----------------------------------------------------------------------------

TEST_P(RepositoryContract, RateLimitHitsCountPerWindowAndRollOver) {
    const Timestamp w0 = FromUnixMillis(1'790'000'000'000);
    const auto hit = [&](const std::string& bucket, Timestamp window_start,
                         std::chrono::milliseconds window = 5s) {
        auto tx = db_->Begin(TxMode::kSingleWrite);
        EXPECT_TRUE(tx);
        auto counted = (*tx)->rate_limits().Add(bucket, window_start, window, 1);
        EXPECT_TRUE(counted) << counted.error().message;
        return counted ? std::make_tuple(ToUnixMillis(counted->window_start) - ToUnixMillis(w0),
                                         counted->calls, counted->previous_calls)
                       : std::make_tuple(std::int64_t{-1}, std::int64_t{-1}, std::int64_t{-1});
    };
    using T = std::tuple<std::int64_t, std::int64_t, std::int64_t>;  // start - w0, calls, previous
    EXPECT_EQ(hit("key:a", w0), T(0, 1, 0));
    EXPECT_EQ(hit("key:a", w0), T(0, 2, 0));
    EXPECT_EQ(hit("key:a", w0), T(0, 3, 0));
    EXPECT_EQ(hit("ip:192.0.2.1", w0), T(0, 1, 0));  // buckets are apart
    // The next window: the calls so far become the previous window's.
    EXPECT_EQ(hit("key:a", w0 + 5s), T(5000, 1, 3));
    EXPECT_EQ(hit("key:a", w0 + 5s), T(5000, 2, 3));
    // A node whose clock is behind still sees w0: its call counts in the stored, newer window.
    EXPECT_EQ(hit("key:a", w0), T(5000, 3, 3));
    // A window with no calls in between: nothing previous.
    EXPECT_EQ(hit("key:a", w0 + 15s), T(15000, 1, 0));
    // Another window length (a node configured otherwise) counts apart.
    EXPECT_EQ(hit("key:a", w0 + 20s, 10s), T(20000, 1, 0));
    EXPECT_EQ(hit("key:a", w0 + 15s), T(15000, 2, 0));
    EXPECT_EQ(hit("key:a", w0 + 30s, 10s), T(30000, 1, 1));
    EXPECT_EQ(hit("key:a", w0 + 20s), T(20000, 1, 2));
    EXPECT_EQ(hit("ip:192.0.2.1", w0), T(0, 2, 0));
}

TEST_P(RepositoryContract, RateLimitPurgeDropsBucketsWhoseWindowsAreOver) {
    const Timestamp t = clock_.Now();
    for (const auto& [bucket, start] :
         {std::pair{"key:old", t - 10s}, std::pair{"key:previous", t - 5s},
          std::pair{"key:now", t}}) {
        auto tx = db_->Begin(TxMode::kSingleWrite);
        ASSERT_TRUE(tx);
        ASSERT_TRUE((*tx)->rate_limits().Add(bucket, start, 5s, 1));
    }
    {
        auto tx = Write();
        // key:previous still counts (as the previous window) until t + 5s.
        EXPECT_EQ(tx->rate_limits().Purge(t), 1);
        EXPECT_EQ(tx->rate_limits().Purge(t + 5s - 1ms), 0);
        EXPECT_EQ(tx->rate_limits().Purge(t + 5s), 1);
        ASSERT_TRUE(tx->Commit());
    }
    // What is left counts on: key:now. A row with a longer window lives longer.
    auto tx = db_->Begin(TxMode::kSingleWrite);
    ASSERT_TRUE(tx);
    EXPECT_EQ((*tx)->rate_limits().Add("key:now", t, 5s, 1)->calls, 2);
    EXPECT_EQ((*tx)->rate_limits().Add("key:now", t, 6s, 1)->calls, 1);
    EXPECT_EQ((*tx)->rate_limits().Purge(t + 10s), 1);
    EXPECT_EQ((*tx)->rate_limits().Purge(t + 12s - 1ms), 0);
    EXPECT_EQ((*tx)->rate_limits().Purge(t + 12s), 1);
}

// ---- Outbox, webhooks, polling queue --------------------------------------------------------

TEST_P(RepositoryContract, OutboxInsertsOncePerEventChannelAndDestination) {
    OutboxMessage m;
    m.event_id = "evt_1";
    m.issuer_id = issuer_a_;
    m.request_id = "R1";
    m.channel = Channel::kWebhook;
    m.destination = "https://hooks.example.org/firmo";
    m.template_name = "signature_request.signed";
    m.language = "it";
    m.payload_json = R"({"id":"evt_1"})";
    m.endpoint_id = "W1";
    m.created_at = clock_.Now();
    m.next_attempt_at = clock_.Now() + 5s;
    {
        auto tx = Write();
        EXPECT_EQ(tx->outbox().Insert(m), true);
        EXPECT_EQ(tx->outbox().Insert(m), false);  // the same (event, channel, destination)
        OutboxMessage other_destination = m;
        other_destination.destination = "https://other.example.org/";
        EXPECT_EQ(tx->outbox().Insert(other_destination), true);
        OutboxMessage other_channel = m;
        other_channel.channel = Channel::kEmail;
        EXPECT_EQ(tx->outbox().Insert(other_channel), true);
        OutboxMessage other_event = m;
        other_event.event_id = "evt_2";
        EXPECT_EQ(tx->outbox().Insert(other_event), true);
        ASSERT_TRUE(tx->Commit());
    }
    auto page = Read()->outbox().List(issuer_a_, Channel::kWebhook, PageQuery{10, std::nullopt});
    ASSERT_TRUE(page);
    ASSERT_EQ(page->items.size(), 3u);
    const std::int64_t id = page->items.back().id;  // oldest: the first insert
    auto found = Read()->outbox().Find(issuer_a_, id);
    ASSERT_TRUE(found && *found);
    const OutboxMessage& got = **found;
    EXPECT_EQ(got.id, id);
    EXPECT_EQ(got.event_id, m.event_id);
    EXPECT_EQ(got.issuer_id, m.issuer_id);
    EXPECT_EQ(got.request_id, m.request_id);
    EXPECT_EQ(got.channel, m.channel);
    EXPECT_EQ(got.destination, m.destination);
    EXPECT_EQ(got.template_name, m.template_name);
    EXPECT_EQ(got.language, m.language);
    EXPECT_EQ(got.payload_json, m.payload_json);
    EXPECT_EQ(got.endpoint_id, m.endpoint_id);
    EXPECT_EQ(got.attempts, 0);
    EXPECT_EQ(got.created_at, m.created_at);
    EXPECT_EQ(got.next_attempt_at, m.next_attempt_at);
    EXPECT_FALSE(got.delivered_at);
    EXPECT_FALSE(got.abandoned_at);
    EXPECT_EQ(got.last_error, "");
    EXPECT_EQ(got.last_response, "");
    EXPECT_EQ(got.secret, "");                            // never stored
    EXPECT_FALSE(*Read()->outbox().Find(issuer_b_, id));  // another issuer's
    EXPECT_FALSE(*Read()->outbox().Find(issuer_a_, id + 1000));
}

TEST_P(RepositoryContract, OutboxClaimsDueMessagesOldestFirstUnderALease) {
    const Timestamp t0 = clock_.Now();
    const auto insert = [&](const std::string& event_id, Timestamp next_attempt_at) {
        OutboxMessage m;
        m.event_id = event_id;
        m.issuer_id = issuer_a_;
        m.request_id = "R1";
        m.channel = Channel::kEmail;
        m.destination = "a@b.it";
        m.template_name = "sign_request";
        m.language = "it";
        m.payload_json = "{}";
        m.created_at = t0;
        m.next_attempt_at = next_attempt_at;
        auto tx = Write();
        EXPECT_EQ(tx->outbox().Insert(m), true);
        EXPECT_TRUE(tx->Commit());
    };
    const auto claim = [&](Timestamp now) {
        auto tx = Write();
        auto got = tx->outbox().Claim(now, 30s);
        EXPECT_TRUE(got);
        EXPECT_TRUE(tx->Commit());
        return got ? *got : std::nullopt;
    };
    const auto update = [&](const OutboxMessage& m) {
        auto tx = Write();
        EXPECT_TRUE(tx->outbox().Update(m));
        EXPECT_TRUE(tx->Commit());
    };
    insert("later", t0 + 2s);
    insert("first", t0 - 2s);
    insert("second", t0 - 1s);
    insert("future", t0 + 1h);
    insert("delivered", t0 - 3s);
    insert("abandoned", t0 - 3s);
    // Take the delivered and the abandoned one out of the running.
    for (int i = 0; i < 2; ++i) {
        auto m = claim(t0);
        ASSERT_TRUE(m);
        ASSERT_TRUE(m->event_id == "delivered" || m->event_id == "abandoned") << m->event_id;
        if (m->event_id == "delivered") {
            m->delivered_at = t0;
        } else {
            m->abandoned_at = t0;
        }
        update(*m);
    }
    auto a = claim(t0);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->event_id, "first");
    auto b = claim(t0);  // the first is leased: the next due one
    ASSERT_TRUE(b);
    EXPECT_EQ(b->event_id, "second");
    EXPECT_FALSE(claim(t0));  // "later" and "future" are not due, the rest leased
    auto c = claim(t0 + 2s);  // "later" is due now
    ASSERT_TRUE(c);
    EXPECT_EQ(c->event_id, "later");
    EXPECT_FALSE(claim(t0 + 29s));  // every due message still leased
    auto again = claim(t0 + 30s);   // the lease of the first ran out: the worker died
    ASSERT_TRUE(again);
    EXPECT_EQ(again->event_id, "first");
    EXPECT_EQ(again->id, a->id);
    // An update ends the lease: a failed attempt is claimable when it is due again.
    b->attempts = 1;
    b->next_attempt_at = t0 + 31s;
    update(*b);
    EXPECT_EQ(claim(t0 + 31s)->event_id, "second");
    EXPECT_EQ(claim(t0 + 40s)->event_id, "later");  // its lease ran out at t0 + 32s
    EXPECT_FALSE(claim(t0 + 59s));
}

// Issue 12: one issuer's backlog (or unresponsive endpoint) must not hold up another's
// messages: claims go round robin over the issuers with due messages.
TEST_P(RepositoryContract, OutboxClaimsRoundRobinOverIssuers) {
    const Timestamp t0 = clock_.Now();
    int n = 0;
    const auto insert = [&](const std::string& issuer, Timestamp next_attempt_at) {
        OutboxMessage m;
        m.event_id = "evt_" + std::to_string(++n);
        m.issuer_id = issuer;
        m.request_id = "R1";
        m.channel = Channel::kWebhook;
        m.destination = "https://hooks.example.org/" + issuer;
        m.template_name = "signature_request.signed";
        m.payload_json = "{}";
        m.created_at = t0;
        m.next_attempt_at = next_attempt_at;
        auto tx = Write();
        EXPECT_EQ(tx->outbox().Insert(m), true);
        EXPECT_TRUE(tx->Commit());
        return m.event_id;
    };
    const auto claim = [&]() -> std::string {
        auto tx = Write();
        auto got = tx->outbox().Claim(t0, 30s);
        EXPECT_TRUE(got);
        EXPECT_TRUE(tx->Commit());
        return got && *got ? (*got)->event_id : "none";
    };
    // Issuer A has a backlog of five older messages; B's two come after all of them.
    std::vector<std::string> a(5);
    for (int i = 0; i < 5; ++i)
        a[static_cast<std::size_t>(i)] = insert(issuer_a_, t0 - 10s + std::chrono::seconds(i));
    EXPECT_EQ(claim(), a[0]);
    const std::string b1 = insert(issuer_b_, t0 - 1s);
    const std::string b2 = insert(issuer_b_, t0);
    EXPECT_EQ(claim(), b1);  // B has not been served yet: its turn before A's second
    EXPECT_EQ(claim(), a[1]);
    EXPECT_EQ(claim(), b2);
    EXPECT_EQ(claim(), a[2]);
    EXPECT_EQ(claim(), a[3]);  // B has nothing due: A again
    // A new issuer-B message waits for at most one more of A's.
    const std::string b3 = insert(issuer_b_, t0);
    EXPECT_EQ(claim(), b3);
    EXPECT_EQ(claim(), a[4]);
    EXPECT_EQ(claim(), "none");
}

// An issuer whose messages are all done rests behind the active ones, and its next message
// brings it back to the front; a failed attempt keeps the issuer in the round.
TEST_P(RepositoryContract, OutboxTurnsRestAndWake) {
    const Timestamp t0 = clock_.Now();
    int n = 0;
    const auto insert = [&](const std::string& issuer, Timestamp next_attempt_at) {
        OutboxMessage m;
        m.event_id = "evt_" + std::to_string(++n);
        m.issuer_id = issuer;
        m.request_id = "R1";
        m.channel = Channel::kEmail;
        m.destination = issuer + "@example.org";
        m.template_name = "sign_request";
        m.payload_json = "{}";
        m.created_at = t0;
        m.next_attempt_at = next_attempt_at;
        auto tx = Write();
        EXPECT_EQ(tx->outbox().Insert(m), true);
        EXPECT_TRUE(tx->Commit());
        return m.event_id;
    };
    const auto claim = [&](Timestamp now) -> std::optional<OutboxMessage> {
        auto tx = Write();
        auto got = tx->outbox().Claim(now, 30s);
        EXPECT_TRUE(got);
        EXPECT_TRUE(tx->Commit());
        return got ? *got : std::nullopt;
    };
    const auto update = [&](const OutboxMessage& m) {
        auto tx = Write();
        EXPECT_TRUE(tx->outbox().Update(m));
        EXPECT_TRUE(tx->Commit());
    };
    // B is served and done: it rests.
    insert(issuer_b_, t0);
    auto b = claim(t0);
    ASSERT_TRUE(b);
    b->delivered_at = t0;
    update(*b);
    // A gets a backlog and is served twice (its turn moves back each time).
    const std::string a1 = insert(issuer_a_, t0), a2 = insert(issuer_a_, t0);
    const std::string a3 = insert(issuer_a_, t0);
    auto first = claim(t0);
    ASSERT_TRUE(first);
    EXPECT_EQ(first->event_id, a1);
    // A failed attempt, due again at once: A stays in the round.
    first->attempts = 1;
    update(*first);
    // B's new message goes before A's next one.
    const std::string b2 = insert(issuer_b_, t0);
    EXPECT_EQ(claim(t0)->event_id, b2);
    EXPECT_EQ(claim(t0)->event_id, a1);  // the oldest of A's, retried
    EXPECT_EQ(claim(t0)->event_id, a2);
    EXPECT_EQ(claim(t0)->event_id, a3);
    EXPECT_FALSE(claim(t0));
}

TEST_P(RepositoryContract, OutboxUpdatesRecordEveryAttemptField) {
    OutboxMessage m;
    m.event_id = "evt_u";
    m.issuer_id = issuer_a_;
    m.request_id = "R1";
    m.channel = Channel::kSms;
    m.destination = "+393331234567";
    m.template_name = "reminder";
    m.language = "it";
    m.payload_json = "{}";
    m.created_at = clock_.Now();
    m.next_attempt_at = clock_.Now();
    {
        auto tx = Write();
        ASSERT_EQ(tx->outbox().Insert(m), true);
        ASSERT_TRUE(tx->Commit());
    }
    auto claimed = [&] {
        auto tx = Write();
        auto got = tx->outbox().Claim(clock_.Now(), 30s);
        EXPECT_TRUE(got && *got);
        EXPECT_TRUE(tx->Commit());
        return **got;
    }();
    claimed.attempts = 3;
    claimed.next_attempt_at = clock_.Now() + 10min;
    claimed.last_error = "gateway down";
    claimed.last_response = "HTTP 503";
    {
        auto tx = Write();
        ASSERT_TRUE(tx->outbox().Update(claimed));
        ASSERT_TRUE(tx->Commit());
    }
    auto got = **Read()->outbox().Find(issuer_a_, claimed.id);
    EXPECT_EQ(got.attempts, 3);
    EXPECT_EQ(got.next_attempt_at, claimed.next_attempt_at);
    EXPECT_EQ(got.last_error, "gateway down");
    EXPECT_EQ(got.last_response, "HTTP 503");
    EXPECT_FALSE(got.delivered_at);
    EXPECT_FALSE(got.abandoned_at);
    EXPECT_EQ(got.destination, m.destination);  // not touched by an update
    EXPECT_EQ(got.channel, Channel::kSms);

    got.attempts = 4;
    got.delivered_at = clock_.Now() + 11min;
    got.abandoned_at = clock_.Now() + 12min;
    got.last_error = "";
    got.last_response = "250 OK";
    {
        auto tx = Write();
        ASSERT_TRUE(tx->outbox().Update(got));
        ASSERT_TRUE(tx->Commit());
    }
    auto again = **Read()->outbox().Find(issuer_a_, claimed.id);
    EXPECT_EQ(again.attempts, 4);
    EXPECT_EQ(again.delivered_at, got.delivered_at);
    EXPECT_EQ(again.abandoned_at, got.abandoned_at);
    EXPECT_EQ(again.last_error, "");
    EXPECT_EQ(again.last_response, "250 OK");
    // And back: a redelivery clears both.
    again.delivered_at.reset();
    again.abandoned_at.reset();
    {
        auto tx = Write();
        ASSERT_TRUE(tx->outbox().Update(again));
        ASSERT_TRUE(tx->Commit());
    }
    auto cleared = **Read()->outbox().Find(issuer_a_, claimed.id);
    EXPECT_FALSE(cleared.delivered_at);
    EXPECT_FALSE(cleared.abandoned_at);
}

TEST_P(RepositoryContract, OutboxListsOneIssuerAndChannelNewestFirstWithACursor) {
    const auto insert = [&](const std::string& issuer_id, Channel channel, int n) {
        OutboxMessage m;
        m.event_id = "evt_" + std::to_string(n);
        m.issuer_id = issuer_id;
        m.request_id = "R1";
        m.channel = channel;
        m.destination = "https://hooks.example.org/";
        m.template_name = "signer.signed";
        m.payload_json = "{}";
        m.created_at = clock_.Now();
        m.next_attempt_at = clock_.Now();
        auto tx = Write();
        EXPECT_EQ(tx->outbox().Insert(m), true);
        EXPECT_TRUE(tx->Commit());
    };
    for (int i = 0; i < 5; ++i) insert(issuer_a_, Channel::kWebhook, i);
    insert(issuer_a_, Channel::kEmail, 100);
    insert(issuer_b_, Channel::kWebhook, 200);
    auto first = Read()->outbox().List(issuer_a_, Channel::kWebhook, PageQuery{2, std::nullopt});
    ASSERT_TRUE(first);
    ASSERT_EQ(first->items.size(), 2u);
    EXPECT_EQ(first->items[0].event_id, "evt_4");
    EXPECT_EQ(first->items[1].event_id, "evt_3");
    EXPECT_GT(first->items[0].id, first->items[1].id);
    ASSERT_TRUE(first->next_after_id);
    EXPECT_EQ(*first->next_after_id, std::to_string(first->items[1].id));  // a decimal id
    auto rest =
        Read()->outbox().List(issuer_a_, Channel::kWebhook, PageQuery{10, first->next_after_id});
    ASSERT_TRUE(rest);
    ASSERT_EQ(rest->items.size(), 3u);
    EXPECT_EQ(rest->items[0].event_id, "evt_2");
    EXPECT_EQ(rest->items[2].event_id, "evt_0");
    EXPECT_FALSE(rest->next_after_id);
    auto email = Read()->outbox().List(issuer_a_, Channel::kEmail, PageQuery{10, std::nullopt});
    ASSERT_EQ(email->items.size(), 1u);
    EXPECT_EQ(email->items[0].event_id, "evt_100");
    auto theirs = Read()->outbox().List(issuer_b_, Channel::kWebhook, PageQuery{10, std::nullopt});
    ASSERT_EQ(theirs->items.size(), 1u);
    EXPECT_EQ(theirs->items[0].event_id, "evt_200");
    EXPECT_TRUE(Read()
                    ->outbox()
                    .List(issuer_b_, Channel::kSms, PageQuery{10, std::nullopt})
                    ->items.empty());
    auto bad = Read()->outbox().List(issuer_a_, Channel::kWebhook, PageQuery{10, "not-a-number"});
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
}

TEST_P(RepositoryContract, WebhooksAreScopedByIssuer) {
    const WebhookEndpoint all{Id(),      issuer_a_, "https://a.example.org/hook",
                              "whsec_1", {},        clock_.Now()};
    const WebhookEndpoint some{Id(),
                               issuer_a_,
                               "https://a.example.org/signed",
                               "whsec_2",
                               {"signature_request.signed", "signer.blocked"},
                               clock_.Now() + 1s};
    const WebhookEndpoint theirs{Id(),      issuer_b_, "https://b.example.org/",
                                 "whsec_3", {},        clock_.Now()};
    {
        auto tx = Write();
        ASSERT_TRUE(tx->webhooks().Insert(all));
        ASSERT_TRUE(tx->webhooks().Insert(some));
        ASSERT_TRUE(tx->webhooks().Insert(theirs));
        ASSERT_TRUE(tx->Commit());
    }
    auto mine = Read()->webhooks().List(issuer_a_);
    ASSERT_TRUE(mine);
    ASSERT_EQ(mine->size(), 2u);
    const auto find = [&](const std::string& id) -> const WebhookEndpoint* {
        for (const auto& w : *mine) {
            if (w.id == id) return &w;
        }
        return nullptr;
    };
    const WebhookEndpoint* got_some = find(some.id);
    ASSERT_TRUE(got_some);
    EXPECT_EQ(got_some->issuer_id, issuer_a_);
    EXPECT_EQ(got_some->url, some.url);
    EXPECT_EQ(got_some->secret, some.secret);
    EXPECT_EQ(got_some->events, some.events);
    EXPECT_EQ(got_some->created_at, some.created_at);
    const WebhookEndpoint* got_all = find(all.id);
    ASSERT_TRUE(got_all);
    EXPECT_TRUE(got_all->events.empty());
    {
        auto tx = Write();
        EXPECT_EQ(tx->webhooks().Delete(issuer_a_, theirs.id), false);  // another issuer's
        EXPECT_EQ(tx->webhooks().Delete(issuer_a_, "no-such-id"), false);
        EXPECT_EQ(tx->webhooks().Delete(issuer_a_, all.id), true);
        EXPECT_EQ(tx->webhooks().Delete(issuer_a_, all.id), false);  // gone
        ASSERT_TRUE(tx->Commit());
    }
    auto left = Read()->webhooks().List(issuer_a_);
    ASSERT_EQ(left->size(), 1u);
    EXPECT_EQ((*left)[0].id, some.id);
    auto still_theirs = Read()->webhooks().List(issuer_b_);
    ASSERT_EQ(still_theirs->size(), 1u);
    EXPECT_EQ((*still_theirs)[0].id, theirs.id);
}

TEST_P(RepositoryContract, StatusChangesAreServedOldestFirstUntilConfirmed) {
    const Timestamp t0 = clock_.Now();
    const auto change = [&](const std::string& issuer_id, const std::string& event_id,
                            Timestamp visible_at) {
        return StatusChange{0,        issuer_id,
                            event_id, "signature_request.signed",
                            "R1",     R"({"id":")" + event_id + R"("})",
                            t0,       visible_at};
    };
    {
        auto tx = Write();
        ASSERT_TRUE(tx->status_changes().Insert(change(issuer_a_, "evt_1", t0)));
        ASSERT_TRUE(tx->status_changes().Insert(change(issuer_a_, "evt_2", t0)));
        ASSERT_TRUE(tx->status_changes().Insert(change(issuer_a_, "evt_later", t0 + 1min)));
        ASSERT_TRUE(tx->status_changes().Insert(change(issuer_b_, "evt_b", t0)));
        // A duplicate event id is ignored (not an error, and not a second entry).
        StatusChange dup = change(issuer_a_, "evt_1", t0);
        dup.type = "signer.signed";
        ASSERT_TRUE(tx->status_changes().Insert(dup));
        ASSERT_TRUE(tx->Commit());
    }
    const auto next = [&](const std::string& issuer_id, Timestamp now) {
        auto got = Read()->status_changes().Next(issuer_id, "", now);
        EXPECT_TRUE(got);
        return got ? *got : std::nullopt;
    };
    auto first = next(issuer_a_, t0);
    ASSERT_TRUE(first);
    EXPECT_EQ(first->event_id, "evt_1");
    EXPECT_EQ(first->issuer_id, issuer_a_);
    EXPECT_EQ(first->type, "signature_request.signed");  // the first insert, not the duplicate
    EXPECT_EQ(first->request_id, "R1");
    EXPECT_EQ(first->payload_json, R"({"id":"evt_1"})");
    EXPECT_EQ(first->created_at, t0);
    EXPECT_EQ(first->visible_at, t0);
    EXPECT_GT(first->seq, 0);
    EXPECT_EQ(next(issuer_b_, t0)->event_id, "evt_b");
    EXPECT_FALSE(next(issuer_a_, t0 - 1ms));  // nothing visible yet

    // Hidden (served, unconfirmed): the next one comes first until it is visible again.
    {
        auto tx = Write();
        ASSERT_TRUE(tx->status_changes().Hide(first->seq, t0 + 10min));
        ASSERT_TRUE(tx->Commit());
    }
    auto second = next(issuer_a_, t0);
    ASSERT_TRUE(second);
    EXPECT_EQ(second->event_id, "evt_2");
    EXPECT_GT(second->seq, first->seq);
    {
        auto tx = Write();
        EXPECT_EQ(tx->status_changes().Confirm(issuer_b_, second->seq, t0), false);  // not theirs
        EXPECT_EQ(tx->status_changes().Confirm(issuer_a_, second->seq, t0), true);
        EXPECT_EQ(tx->status_changes().Confirm(issuer_a_, second->seq, t0), false);  // once
        EXPECT_EQ(tx->status_changes().Confirm(issuer_a_, second->seq + 1000, t0), false);
        ASSERT_TRUE(tx->Commit());
    }
    EXPECT_FALSE(next(issuer_a_, t0));
    EXPECT_EQ(next(issuer_a_, t0 + 1min)->event_id, "evt_later");
    EXPECT_EQ(next(issuer_a_, t0 + 10min)->event_id, "evt_1");  // visible again, oldest first
    {
        auto tx = Write();
        EXPECT_EQ(tx->status_changes().Confirm(issuer_a_, first->seq, t0), true);
        ASSERT_TRUE(tx->Commit());
    }
    EXPECT_EQ(next(issuer_a_, t0 + 10min)->event_id, "evt_later");
    EXPECT_EQ(next(issuer_b_, t0 + 10min)->event_id, "evt_b");  // untouched
}

// Issue 18 (migration 16): each named polling queue is served apart from the default one.
TEST_P(RepositoryContract, StatusChangesAreServedPerPollingQueue) {
    const Timestamp t0 = clock_.Now();
    const auto change = [&](const std::string& event_id, const std::string& queue) {
        return StatusChange{0,  issuer_a_, event_id, "signature_request.signed", "R1", "{}",
                            t0, t0,        queue};
    };
    {
        auto tx = Write();
        ASSERT_TRUE(tx->status_changes().Insert(change("evt_hr", "hr")));
        ASSERT_TRUE(tx->status_changes().Insert(change("evt_default", "")));
        ASSERT_TRUE(tx->status_changes().Insert(change("evt_sales", "sales")));
        ASSERT_TRUE(tx->Commit());
    }
    const auto next = [&](const std::string& queue) -> std::string {
        auto got = Read()->status_changes().Next(issuer_a_, queue, t0);
        EXPECT_TRUE(got);
        return got && *got ? (*got)->event_id + "/" + (*got)->polling_queue : "none";
    };
    EXPECT_EQ(next(""), "evt_default/");
    EXPECT_EQ(next("hr"), "evt_hr/hr");
    EXPECT_EQ(next("sales"), "evt_sales/sales");
    EXPECT_EQ(next("other"), "none");
    EXPECT_EQ(next("HR"), "none");  // names are exact

    {
        auto tx = Write();
        ASSERT_TRUE(tx->status_changes().SetNextPollAt(issuer_a_, "hr", t0 + 10s));
        ASSERT_TRUE(tx->Commit());
    }
    EXPECT_EQ(*Read()->status_changes().NextPollAt(issuer_a_, "hr"), t0 + 10s);
    EXPECT_FALSE(*Read()->status_changes().NextPollAt(issuer_a_, ""));
    EXPECT_FALSE(*Read()->status_changes().NextPollAt(issuer_a_, "sales"));
}

// Issue 18 (migration 16): a request's polling queue and its signers' on_behalf_of.
TEST_P(RepositoryContract, PollingQueueAndOnBehalfOfRoundTrip) {
    const Dossier d = MakeDossier(issuer_a_);
    SignatureRequest r = MakeRequest(d, MakeSigner(issuer_a_, "RSSMRA80A01H501U"));
    auto got = **Read()->requests().Find(issuer_a_, r.id);
    EXPECT_EQ(got.polling_queue, "");
    EXPECT_EQ(got.signers.at(0).on_behalf_of, OnBehalfOf::kSelf);

    SignatureRequest other = r;
    other.id = Id();
    other.polling_queue = "hr-contracts";
    other.signers[0].on_behalf_of = OnBehalfOf::kOther;
    for (auto& doc : other.documents) doc.id = Id();
    {
        auto tx = Write();
        ASSERT_TRUE(tx->requests().Insert(other));
        ASSERT_TRUE(tx->Commit());
    }
    got = **Read()->requests().Find(issuer_a_, other.id);
    EXPECT_EQ(got.polling_queue, "hr-contracts");
    EXPECT_EQ(got.signers.at(0).on_behalf_of, OnBehalfOf::kOther);
    ASSERT_EQ(got.documents.size(), 1u);  // the aggregate read's later columns are in place
    EXPECT_EQ(got.documents[0].metadata, d.documents[0]);
    auto listed = Read()->requests().List(issuer_a_, {}, PageQuery{10, std::nullopt});
    ASSERT_TRUE(listed);
    for (const auto& item : listed->items) {
        EXPECT_EQ(item.polling_queue, item.id == other.id ? "hr-contracts" : "");
    }
}

TEST_P(RepositoryContract, NextPollTimeIsUpserted) {
    EXPECT_FALSE(*Read()->status_changes().NextPollAt(issuer_a_, ""));
    {
        auto tx = Write();
        ASSERT_TRUE(tx->status_changes().SetNextPollAt(issuer_a_, "", clock_.Now() + 10s));
        ASSERT_TRUE(tx->Commit());
    }
    EXPECT_EQ(*Read()->status_changes().NextPollAt(issuer_a_, ""), clock_.Now() + 10s);
    EXPECT_FALSE(*Read()->status_changes().NextPollAt(issuer_b_, ""));
    {
        auto tx = Write();
        ASSERT_TRUE(tx->status_changes().SetNextPollAt(issuer_a_, "",
                                                       clock_.Now() + 1s));  // may also move back
        ASSERT_TRUE(tx->Commit());
    }
    EXPECT_EQ(*Read()->status_changes().NextPollAt(issuer_a_, ""), clock_.Now() + 1s);
}

TEST_P(RepositoryContract, RemindableRequestsAreNotifiedLiveAndExpiringBeforeTheBound) {
    const Dossier d = MakeDossier(issuer_a_);
    const Signer s = MakeSigner(issuer_a_, "RSSMRA80A01H501U");
    const auto make = [&](RequestStatus status, bool notified, std::chrono::hours expires_in) {
        clock_.Advance(1ms);
        SignatureRequest r = MakeRequest(d, s);
        r.status = status;
        if (notified) r.notification_id = "N-" + r.id;
        r.expires_at = clock_.Now() + expires_in;
        auto tx = Write();
        EXPECT_TRUE(tx->requests().Update(r));
        EXPECT_TRUE(tx->Commit());
        return r;
    };
    const SignatureRequest ready = make(RequestStatus::kReady, true, 20h);
    const SignatureRequest waiting = make(RequestStatus::kWaitForSignature, true, 10h);
    make(RequestStatus::kReady, false, 10h);             // never notified
    make(RequestStatus::kWaitForQtsp, true, 10h);        // being signed
    make(RequestStatus::kSigned, true, 10h);             // done
    make(RequestStatus::kCancelled, true, 10h);          // done
    make(RequestStatus::kWaitForSignature, true, 100h);  // expires after the bound
    const Timestamp bound = clock_.Now() + 24h;
    auto due = Read()->requests().ListRemindable(bound, 10);
    ASSERT_TRUE(due);
    ASSERT_EQ(due->size(), 2u);
    EXPECT_EQ((*due)[0], std::make_pair(issuer_a_, waiting.id));  // the soonest expiry first
    EXPECT_EQ((*due)[1], std::make_pair(issuer_a_, ready.id));
    auto limited = Read()->requests().ListRemindable(bound, 1);
    ASSERT_EQ(limited->size(), 1u);
    EXPECT_EQ((*limited)[0].second, waiting.id);
    EXPECT_TRUE(Read()->requests().ListRemindable(clock_.Now(), 10)->empty());
}

TEST_P(RepositoryContract, AutoNotifyRoundTrips) {
    const Dossier d = MakeDossier(issuer_a_);
    const Signer s = MakeSigner(issuer_a_, "RSSMRA80A01H501U");
    SignatureRequest r;
    r.id = Id();
    r.issuer_id = issuer_a_;
    r.dossier_id = d.id;
    r.expires_at = clock_.Now() + 24h;
    r.created_at = r.updated_at = clock_.Now();
    r.signers.resize(1);
    r.signers[0].signer_id = s.id;
    r.auto_notify = true;
    {
        auto tx = Write();
        ASSERT_TRUE(tx->requests().Insert(r));
        ASSERT_TRUE(tx->Commit());
    }
    EXPECT_TRUE((*Read()->requests().Find(issuer_a_, r.id))->auto_notify);
    EXPECT_TRUE((*Read()->requests().FindForSigner(r.id))->auto_notify);
    EXPECT_TRUE(
        Read()->requests().List(issuer_a_, {}, PageQuery{10, std::nullopt})->items[0].auto_notify);
    const SignatureRequest plain = MakeRequest(d, s);
    EXPECT_FALSE((*Read()->requests().Find(issuer_a_, plain.id))->auto_notify);
    r.auto_notify = false;
    {
        auto tx = Write();
        ASSERT_TRUE(tx->requests().Update(r));
        ASSERT_TRUE(tx->Commit());
    }
    EXPECT_FALSE((*Read()->requests().Find(issuer_a_, r.id))->auto_notify);
}

// A read-modify-write inside one write transaction never loses a concurrent one: SQLite by its
// single writer, PostgreSQL by locking the rows FindRequest reads.
TEST_P(RepositoryContract, ConcurrentReadModifyWritesOfARequestAreNotLost) {
    const Dossier d = MakeDossier(issuer_a_);
    const SignatureRequest r = MakeRequest(d, MakeSigner(issuer_a_, "RSSMRA80A01H501U"));
    constexpr int kThreads = 4;
    constexpr int kRounds = 10;
    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kRounds; ++i) {
                auto tx = db_->Begin(TxMode::kWrite);
                if (!tx) {
                    ++failures;
                    continue;
                }
                auto found = t % 2 == 0 ? (*tx)->requests().Find(issuer_a_, r.id)
                                        : (*tx)->requests().FindForSigner(r.id);
                if (!found || !*found) {
                    ++failures;
                    continue;
                }
                SignatureRequest next = **found;
                next.signers[0].failed_code_attempts += 1;
                if (!(*tx)->requests().Update(next) || !(*tx)->Commit()) ++failures;
            }
        });
    }
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(failures.load(), 0);
    const auto got = **Read()->requests().Find(issuer_a_, r.id);
    EXPECT_EQ(got.signers[0].failed_code_attempts, kThreads * kRounds);
}

// Concurrent claimers never get the same job.
TEST_P(RepositoryContract, ConcurrentClaimsTakeEachJobOnce) {
    constexpr int kJobs = 12;
    {
        auto tx = Write();
        for (int i = 0; i < kJobs; ++i) {
            Job job;
            job.issuer_id = issuer_a_;
            job.request_id = "R" + std::to_string(i);
            job.document_id = "D";
            job.generation = 1;
            job.run_at = clock_.Now();
            ASSERT_TRUE(tx->jobs().Enqueue(job));
        }
        ASSERT_TRUE(tx->Commit());
    }
    std::mutex mu;
    std::vector<std::int64_t> claimed;
    std::vector<std::thread> threads;
    for (int t = 0; t < 3; ++t) {
        threads.emplace_back([&, t] {
            while (true) {
                auto tx = db_->Begin(TxMode::kWrite);
                if (!tx) return;
                auto job = (*tx)->jobs().Claim(clock_.Now(), 60s, "w" + std::to_string(t));
                if (!job || !*job) return;
                if (!(*tx)->Commit()) return;
                std::lock_guard lock(mu);
                claimed.push_back((*job)->id);
            }
        });
    }
    for (auto& thread : threads) thread.join();
    std::sort(claimed.begin(), claimed.end());
    EXPECT_EQ(claimed.size(), static_cast<std::size_t>(kJobs));
    EXPECT_EQ(std::adjacent_find(claimed.begin(), claimed.end()), claimed.end());
}

// Several nodes counting calls of one key at once: every call is counted once, and each gets
// its own count back (the upsert is atomic on its own, outside any transaction).
TEST_P(RepositoryContract, ConcurrentRateLimitHitsAreNotLost) {
    constexpr int kThreads = 4;
    constexpr int kRounds = 25;
    std::mutex mu;
    std::vector<std::int64_t> seen;
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < kRounds; ++i) {
                auto tx = db_->Begin(TxMode::kSingleWrite);
                if (!tx) {
                    ++failures;
                    continue;
                }
                auto counted = (*tx)->rate_limits().Add("key:shared", clock_.Now(), 60s, 1);
                if (!counted) {
                    ++failures;
                    continue;
                }
                std::lock_guard lock(mu);
                seen.push_back(counted->calls);
            }
        });
    }
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(failures.load(), 0);
    std::sort(seen.begin(), seen.end());
    std::vector<std::int64_t> expected(kThreads * kRounds);
    std::iota(expected.begin(), expected.end(), 1);
    EXPECT_EQ(seen, expected);
}

// ---- Units of work ---------------------------------------------------------------------------

TEST_P(RepositoryContract, AUnitCommitsItsJoinedTransactionsTogether) {
    auto unit = UnitOfWork::Begin(*db_);
    ASSERT_TRUE(unit) << unit.error().message;
    {
        auto tx = db_->Begin(TxMode::kWrite);  // joins the unit
        ASSERT_TRUE(tx);
        ASSERT_TRUE((*tx)->issuers().Insert(Issuer{"U1", "Unit", "u@example.org", clock_.Now()}));
        ASSERT_TRUE((*tx)->Commit());  // commits nothing yet
    }
    {
        auto tx = db_->Begin(TxMode::kRead);  // joins too, and sees the unit's writes
        ASSERT_TRUE(tx);
        EXPECT_TRUE(*(*tx)->issuers().Find("U1"));
    }
    std::thread([&] {  // another thread has a transaction of its own
        auto tx = db_->Begin(TxMode::kRead);
        ASSERT_TRUE(tx);
        EXPECT_FALSE(*(*tx)->issuers().Find("U1"));
    })
        .join();
    ASSERT_TRUE((*unit)->Commit());
    EXPECT_TRUE(*Read()->issuers().Find("U1"));
}

TEST_P(RepositoryContract, ADroppedUnitRollsBackItsJoinedTransactions) {
    {
        auto unit = UnitOfWork::Begin(*db_);
        ASSERT_TRUE(unit);
        auto tx = db_->Begin(TxMode::kWrite);
        ASSERT_TRUE(tx);
        ASSERT_TRUE((*tx)->issuers().Insert(Issuer{"U1", "Unit", "u@example.org", clock_.Now()}));
        ASSERT_TRUE((*tx)->Commit());
    }
    EXPECT_FALSE(*Read()->issuers().Find("U1"));
    EXPECT_TRUE(UnitOfWork::Begin(*db_));  // the unit has ended: the thread may open another
}

TEST_P(RepositoryContract, AJoinedWriteEndingUncommittedAbortsTheUnit) {
    auto unit = UnitOfWork::Begin(*db_);
    ASSERT_TRUE(unit);
    {
        auto tx = db_->Begin(TxMode::kWrite);
        ASSERT_TRUE(tx);
        ASSERT_TRUE((*tx)->issuers().Insert(Issuer{"U1", "Half", "u@example.org", clock_.Now()}));
    }  // its service failed half-way
    {
        auto tx = db_->Begin(TxMode::kRead);  // reads end without Commit: no harm
    }
    EXPECT_TRUE((*unit)->aborted());
    EXPECT_FALSE((*unit)->Commit());
    unit->reset();
    EXPECT_FALSE(*Read()->issuers().Find("U1"));
    EXPECT_TRUE(UnitOfWork::Begin(*db_));
}

TEST_P(RepositoryContract, UnitsDoNotNest) {
    auto unit = UnitOfWork::Begin(*db_);
    ASSERT_TRUE(unit);
    auto nested = UnitOfWork::Begin(*db_);
    ASSERT_FALSE(nested);
    EXPECT_EQ(nested.error().code, ErrorCode::kInternal);
}

// The claim of an Idempotency-Key in a unit: a second unit claiming the same key waits for the
// first to end, then finds its answer.
TEST_P(RepositoryContract, ASecondClaimOfAKeyWaitsForTheFirstUnitAndFindsItsAnswer) {
    const IdempotencyRecord fresh{issuer_a_, "k", "h", 0, "", "", clock_.Now()};
    auto first = UnitOfWork::Begin(*db_);
    ASSERT_TRUE(first);
    auto claimed = (*first)->tx().idempotency().Claim(fresh, clock_.Now() - 24h);
    ASSERT_TRUE(claimed);
    ASSERT_FALSE(*claimed);
    std::atomic<bool> first_committed{false};
    std::optional<IdempotencyRecord> seen;
    std::thread second([&] {
        auto unit = UnitOfWork::Begin(*db_);  // SQLite, memory: waits here for the writer lock
        ASSERT_TRUE(unit);
        auto found = (*unit)->tx().idempotency().Claim(fresh, clock_.Now() - 24h);  // PostgreSQL
        ASSERT_TRUE(found) << found.error().message;
        EXPECT_TRUE(first_committed.load());
        seen = *found;
    });
    std::this_thread::sleep_for(50ms);  // let the second claim reach its wait (not asserted)
    IdempotencyRecord done = fresh;
    done.status = 201;
    done.body = "{\"id\":1}";
    ASSERT_TRUE((*first)->tx().idempotency().Complete(done));
    first_committed = true;
    ASSERT_TRUE((*first)->Commit());
    second.join();
    ASSERT_TRUE(seen);
    EXPECT_EQ(seen->status, 201);
    EXPECT_EQ(seen->body, "{\"id\":1}");
}

// What a /metrics scrape reads: unfinished jobs by kind (leased ones too), with the earliest
// due time of each kind; finished jobs are not counted.
TEST_P(RepositoryContract, PendingJobsAreCountedByKindWithTheirEarliestDueTime) {
    const Timestamp t0 = clock_.Now();
    {
        auto none = Read()->jobs().Pending();
        ASSERT_TRUE(none) << none.error().message;
        EXPECT_TRUE(none->empty());
    }
    const auto enqueue = [&](JobKind kind, Timestamp run_at) {
        Job job;
        job.kind = kind;
        job.issuer_id = issuer_a_;
        job.request_id = "R";
        job.document_id = "D";
        job.run_at = run_at;
        auto tx = Write();
        EXPECT_TRUE(tx->jobs().Enqueue(job));
        EXPECT_TRUE(tx->Commit());
    };
    enqueue(JobKind::kValidateDocument, t0 - 10s);  // finished below
    enqueue(JobKind::kValidateDocument, t0 - 3s);   // leased below
    enqueue(JobKind::kValidateDocument, t0 + 5s);
    enqueue(JobKind::kSignDocuments, t0 + 1h);
    enqueue(JobKind::kAwaitUpload, t0);
    {
        auto tx = Write();
        auto done = tx->jobs().Claim(t0, 30s, "w1");
        ASSERT_TRUE(done && *done);
        EXPECT_EQ((*done)->run_at, t0 - 10s);
        ASSERT_TRUE(*tx->jobs().Complete(**done));
        auto leased = tx->jobs().Claim(t0, 30s, "w1");
        ASSERT_TRUE(leased && *leased);
        EXPECT_EQ((*leased)->run_at, t0 - 3s);
        ASSERT_TRUE(tx->Commit());
    }
    auto pending = Read()->jobs().Pending();
    ASSERT_TRUE(pending) << pending.error().message;
    ASSERT_EQ(pending->size(), 3u);
    EXPECT_EQ((*pending)[0].kind, "await_upload");
    EXPECT_EQ((*pending)[0].count, 1);
    EXPECT_EQ((*pending)[0].oldest_due, t0);
    EXPECT_EQ((*pending)[1].kind, "sign_documents");
    EXPECT_EQ((*pending)[1].count, 1);
    EXPECT_EQ((*pending)[1].oldest_due, t0 + 1h);
    EXPECT_EQ((*pending)[2].kind, "validate_document");
    EXPECT_EQ((*pending)[2].count, 2);
    EXPECT_EQ((*pending)[2].oldest_due, t0 - 3s);
}

// The same for the outbox: messages neither delivered nor abandoned, by channel.
TEST_P(RepositoryContract, PendingOutboxMessagesAreCountedByChannelWithTheirEarliestDueTime) {
    const Timestamp t0 = clock_.Now();
    {
        auto none = Read()->outbox().Pending();
        ASSERT_TRUE(none) << none.error().message;
        EXPECT_TRUE(none->empty());
    }
    const auto insert = [&](const std::string& event_id, Channel channel, Timestamp due) {
        OutboxMessage m;
        m.event_id = event_id;
        m.issuer_id = issuer_a_;
        m.request_id = "R1";
        m.channel = channel;
        m.destination = "a@b.it";
        m.template_name = "sign_request";
        m.language = "it";
        m.payload_json = "{}";
        m.created_at = t0 - 1h;
        m.next_attempt_at = due;
        auto tx = Write();
        EXPECT_EQ(tx->outbox().Insert(m), true);
        EXPECT_TRUE(tx->Commit());
    };
    insert("delivered", Channel::kSms, t0 - 5s);
    insert("abandoned", Channel::kSms, t0 - 4s);
    insert("late", Channel::kEmail, t0 - 1s);
    insert("soon", Channel::kEmail, t0 + 2s);
    insert("retry", Channel::kWebhook, t0 + 10min);
    {
        auto tx = Write();
        for (int i = 0; i < 2; ++i) {
            auto m = tx->outbox().Claim(t0, 30s);
            ASSERT_TRUE(m && *m);
            if ((*m)->event_id == "delivered") {
                (*m)->delivered_at = t0;
            } else {
                (*m)->abandoned_at = t0;
            }
            ASSERT_TRUE(tx->outbox().Update(**m));
        }
        ASSERT_TRUE(tx->Commit());
    }
    auto pending = Read()->outbox().Pending();
    ASSERT_TRUE(pending) << pending.error().message;
    ASSERT_EQ(pending->size(), 2u);
    EXPECT_EQ((*pending)[0].kind, "email");
    EXPECT_EQ((*pending)[0].count, 2);
    EXPECT_EQ((*pending)[0].oldest_due, t0 - 1s);
    EXPECT_EQ((*pending)[1].kind, "webhook");
    EXPECT_EQ((*pending)[1].count, 1);
    EXPECT_EQ((*pending)[1].oldest_due, t0 + 10min);
}

// The SQL stores report their pool (firmo_db_pool_*); the memory store has none.
TEST_P(RepositoryContract, SqlStoresReportTheirConnectionPool) {
    if (GetParam().name == "memory") {
        EXPECT_FALSE(db_->Connections());
        return;
    }
    auto idle = db_->Connections();
    ASSERT_TRUE(idle);
    EXPECT_EQ(idle->size, 4);
    EXPECT_EQ(idle->waiting, 0);
    auto a = Read();
    auto b = Read();
    auto busy = db_->Connections();
    ASSERT_TRUE(busy);
    // Two transactions hold one each (SQLite's checkpointer may briefly hold one more).
    EXPECT_GE(busy->in_use, 2);
    EXPECT_LE(busy->in_use, busy->size);
}

TEST_P(RepositoryContract, RevocationsKeepTheFirstAndListOldestFirst) {
    const Revocation later{.serial = "4A01", .revoked_at = clock_.Now(), .reason = 1};
    const Revocation earlier{.serial = "7F02", .revoked_at = clock_.Now() - 1h, .reason = 0};
    {
        auto tx = Write();
        EXPECT_EQ(tx->revocations().Revoke(later), later);
        EXPECT_EQ(tx->revocations().Revoke(earlier), earlier);
        Revocation again = later;
        again.revoked_at = clock_.Now() + 1h;
        again.reason = 4;
        EXPECT_EQ(tx->revocations().Revoke(again), later);  // never moved in time
        ASSERT_TRUE(tx->Commit());
    }
    EXPECT_EQ(*Read()->revocations().Find("4A01"), later);
    EXPECT_FALSE(*Read()->revocations().Find("4A02"));
    EXPECT_EQ(*Read()->revocations().List(), (std::vector<Revocation>{earlier, later}));
}

TEST_P(RepositoryContract, SignerLanguageRoundTripsAndIsUpdated) {
    Signer s{.id = Id(),
             .issuer_id = issuer_a_,
             .kind = IdentifierKind::kEmail,
             .identifier = "anna@example.org",
             .created_at = clock_.Now(),
             .updated_at = clock_.Now(),
             .language = "nb"};
    Signer none{.id = Id(),
                .issuer_id = issuer_a_,
                .kind = IdentifierKind::kEmail,
                .identifier = "ola@example.org",
                .created_at = clock_.Now(),
                .updated_at = clock_.Now()};
    {
        auto tx = Write();
        ASSERT_TRUE(tx->signers().Insert(s));
        ASSERT_TRUE(tx->signers().Insert(none));
        ASSERT_TRUE(tx->Commit());
    }
    EXPECT_EQ((*Read()->signers().Find(issuer_a_, s.id))->language, std::string("nb"));
    EXPECT_FALSE((*Read()->signers().Find(issuer_a_, none.id))->language);
    s.language = "it";
    {
        auto tx = Write();
        ASSERT_TRUE(tx->signers().UpdateContact(s));
        ASSERT_TRUE(tx->Commit());
    }
    const auto found =
        *Read()->signers().FindByIdentifier(issuer_a_, IdentifierKind::kEmail, "anna@example.org");
    ASSERT_TRUE(found);
    EXPECT_EQ(found->language, std::string("it"));
}

// Issue 14: the level each signer must reach and reached, the request's choice about the
// identifier in certificates, and a session's eID level, through insert, update and every read.
TEST_P(RepositoryContract, AuthenticationLevelsRoundTrip) {
    const Dossier d = MakeDossier(issuer_a_);
    const Signer s = MakeSigner(issuer_a_, "RSSMRA80A01H501U");
    const Signer t = MakeSigner(issuer_a_, "BNCGVN75L15F205G");
    SignatureRequest r;
    r.id = Id();
    r.issuer_id = issuer_a_;
    r.dossier_id = d.id;
    r.expires_at = clock_.Now() + 24h;
    r.created_at = r.updated_at = clock_.Now();
    r.signers.resize(2);
    r.signers[0].signer_id = s.id;
    r.signers[0].authentication = AuthLevel::kEidHigh;
    r.signers[1].signer_id = t.id;
    r.signers[1].authentication = AuthLevel::kCode;
    r.identifier_in_signed_documents = IdentifierInSignedDocuments::kName;
    {
        auto tx = Write();
        ASSERT_TRUE(tx->requests().Insert(r));
        ASSERT_TRUE(tx->Commit());
    }
    const auto check = [&](const SignatureRequest& got) {
        EXPECT_EQ(got.identifier_in_signed_documents, IdentifierInSignedDocuments::kName);
        ASSERT_EQ(got.signers.size(), 2u);
        EXPECT_EQ(got.signers[0].authentication, AuthLevel::kEidHigh);
        EXPECT_EQ(got.signers[1].authentication, AuthLevel::kCode);
        EXPECT_EQ(got.signers[0].authenticated_with, r.signers[0].authenticated_with);
        EXPECT_EQ(got.signers[1].authenticated_with, r.signers[1].authenticated_with);
    };
    check(**Read()->requests().Find(issuer_a_, r.id));
    r.signers[0].authenticated_with = AuthLevel::kEidHigh;
    r.signers[1].authenticated_with = AuthLevel::kCode;
    {
        auto tx = Write();
        ASSERT_TRUE(tx->requests().Update(r));
        ASSERT_TRUE(tx->Commit());
    }
    check(**Read()->requests().Find(issuer_a_, r.id));
    check(**Read()->requests().FindForSigner(r.id));
    check(Read()->requests().List(issuer_a_, {}, PageQuery{10, std::nullopt})->items[0]);
    const SignatureRequest plain = MakeRequest(d, s);
    const SignatureRequest got_plain = **Read()->requests().Find(issuer_a_, plain.id);
    EXPECT_EQ(got_plain.identifier_in_signed_documents,
              IdentifierInSignedDocuments::kIdentifierAndName);
    EXPECT_EQ(got_plain.signers[0].authentication, AuthLevel::kCode);
    EXPECT_FALSE(got_plain.signers[0].authenticated_with);

    PortalSession session;
    session.id_hash = "hash-level";
    session.csrf_token = "csrf";
    session.created_at = clock_.Now();
    session.expires_at = clock_.Now() + 1h;
    {
        auto tx = Write();
        ASSERT_TRUE(tx->sessions().Insert(session));
        ASSERT_TRUE(tx->Commit());
    }
    EXPECT_FALSE((*Read()->sessions().Find("hash-level"))->eid_level);
    session.eid_level = AuthLevel::kEidSubstantial;
    {
        auto tx = Write();
        ASSERT_TRUE(tx->sessions().Update(session));
        ASSERT_TRUE(tx->Commit());
    }
    EXPECT_EQ((*Read()->sessions().Find("hash-level"))->eid_level, AuthLevel::kEidSubstantial);
}

// Issue 18 (migration 12): the Posten lifecycle columns of dossiers and requests.
TEST_P(RepositoryContract, PostenLifecycleColumnsRoundTrip) {
    Dossier d = MakeDossier(issuer_a_);
    EXPECT_FALSE((*Read()->dossiers().Find(issuer_a_, d.id))->non_sensitive_title);
    d.id = Id();
    d.non_sensitive_title = "Pratica 12";
    {
        auto tx = Write();
        ASSERT_TRUE(tx->dossiers().Insert(d));
        ASSERT_TRUE(tx->Commit());
    }
    EXPECT_EQ((*Read()->dossiers().Find(issuer_a_, d.id))->non_sensitive_title,
              std::string("Pratica 12"));

    SignatureRequest r = MakeRequest(d, MakeSigner(issuer_a_, "RSSMRA80A01H501U"));
    auto got = **Read()->requests().Find(issuer_a_, r.id);
    EXPECT_FALSE(got.non_sensitive_title);
    EXPECT_FALSE(got.activates_at);
    r.non_sensitive_title = "Documento";
    r.activates_at = clock_.Now() + std::chrono::hours(5);
    {
        auto tx = Write();
        ASSERT_TRUE(tx->requests().Update(r));
        ASSERT_TRUE(tx->Commit());
    }
    got = **Read()->requests().Find(issuer_a_, r.id);  // the one-statement aggregate read
    EXPECT_EQ(got.non_sensitive_title, std::string("Documento"));
    EXPECT_EQ(got.activates_at, r.activates_at);
    ASSERT_EQ(got.signers.size(), 1u);  // the columns after the request's are where they were
    ASSERT_EQ(got.documents.size(), 1u);
    EXPECT_EQ(got.documents[0].metadata, d.documents[0]);
    auto tx = Write();  // a locking read (FOR UPDATE on PostgreSQL) reads them too
    auto locked = tx->requests().Find(issuer_a_, r.id);
    ASSERT_TRUE(locked && *locked);
    EXPECT_EQ((*locked)->activates_at, r.activates_at);
}

// Issue 18 (migration 16): when a final request's documents were deleted, and the retention
// sweep's list: final requests that kept their documents, ended at or before the bound.
TEST_P(RepositoryContract, DocumentsDeletedAtAndRetentionList) {
    const Dossier d = MakeDossier(issuer_a_);
    MakeRequest(d, MakeSigner(issuer_a_, "RSSMRA80A01H501U"));  // live: never listed
    SignatureRequest ended = MakeRequest(d, MakeSigner(issuer_a_, "VRDGPP80A01H501X"));
    SignatureRequest deleted = MakeRequest(d, MakeSigner(issuer_a_, "BNCLRA80A41H501Y"));
    EXPECT_FALSE((*Read()->requests().Find(issuer_a_, ended.id))->documents_deleted_at);
    ended.status = RequestStatus::kSigned;
    ended.updated_at = clock_.Now() + std::chrono::hours(1);
    deleted.status = RequestStatus::kCancelled;
    deleted.documents_deleted_at = clock_.Now() + std::chrono::hours(2);
    {
        auto tx = Write();
        ASSERT_TRUE(tx->requests().Update(ended));
        ASSERT_TRUE(tx->requests().Update(deleted));
        ASSERT_TRUE(tx->Commit());
    }
    auto got = **Read()->requests().Find(issuer_a_, deleted.id);
    EXPECT_EQ(got.documents_deleted_at, deleted.documents_deleted_at);
    ASSERT_EQ(got.signers.size(), 1u);  // the aggregate read's later columns are in place
    ASSERT_EQ(got.documents.size(), 1u);
    EXPECT_EQ(got.documents[0].metadata, d.documents[0]);
    {
        auto tx = Write();
        auto locked = tx->requests().Find(issuer_a_, deleted.id);
        ASSERT_TRUE(locked && *locked);
        EXPECT_EQ((*locked)->documents_deleted_at, deleted.documents_deleted_at);
    }
    using Pairs = std::vector<std::pair<std::string, std::string>>;
    EXPECT_EQ(*Read()->requests().ListDocumentsRetained(clock_.Now(), 10), Pairs{});
    const auto later = clock_.Now() + std::chrono::hours(1);
    EXPECT_EQ(*Read()->requests().ListDocumentsRetained(later, 10), (Pairs{{issuer_a_, ended.id}}));
    EXPECT_EQ(Read()->requests().ListDocumentsRetained(later, 0)->size(), 0u);
}

TEST_P(RepositoryContract, IssuerIdentityIsUpdatedWhole) {
    auto before = Read()->issuers().Find(issuer_a_);
    ASSERT_TRUE(before && *before);
    EXPECT_EQ((*before)->support_url, "");  // a new issuer has no identity yet
    Issuer changed = **before;
    changed.name = "Città di Roma";
    changed.email = "aiuto@example.org";
    changed.support_url = "https://example.org/aiuto";
    changed.brand_color = "#0055aa";
    changed.logo_type = "image/png";
    changed.logo_sha256 = std::string(64, 'a');
    {
        auto tx = Write();
        EXPECT_EQ(tx->issuers().Update(changed), true);
        Issuer ghost = changed;
        ghost.id = "nobody";
        EXPECT_EQ(tx->issuers().Update(ghost), false);
        ASSERT_TRUE(tx->Commit());
    }
    auto after = Read()->issuers().Find(issuer_a_);
    ASSERT_TRUE(after && *after);
    EXPECT_EQ((*after)->name, "Città di Roma");
    EXPECT_EQ((*after)->email, "aiuto@example.org");
    EXPECT_EQ((*after)->support_url, "https://example.org/aiuto");
    EXPECT_EQ((*after)->brand_color, "#0055aa");
    EXPECT_EQ((*after)->logo_type, "image/png");
    EXPECT_EQ((*after)->logo_sha256, std::string(64, 'a'));
    EXPECT_EQ((*after)->created_at, (*before)->created_at);
}

TEST_P(RepositoryContract, QtspAuthorizationsFinishOnceBeforeTheyExpire) {
    const Timestamp now = clock_.Now();
    const QtspAuthorization a{.state_hash = std::string(64, 'a'),
                              .request_id = Id(),
                              .signer_id = Id(),
                              .credential_id = "cred-1",
                              .hashes = {"aGFzaDE", "aGFzaDI"},
                              .sealed_verifier = "c2VhbGVk",
                              .created_at = now,
                              .expires_at = now + 10min};
    QtspAuthorization late = a;
    late.state_hash = std::string(64, 'b');
    late.hashes = {"b25l"};
    late.expires_at = now + 1min;
    {
        auto tx = Write();
        ASSERT_TRUE(tx->qtsp_authorizations().Insert(a));
        ASSERT_TRUE(tx->qtsp_authorizations().Insert(late));
        ASSERT_TRUE(tx->Commit());
    }
    {
        auto tx = Write();
        auto again = tx->qtsp_authorizations().Insert(a);
        ASSERT_FALSE(again);
        EXPECT_EQ(again.error().code, ErrorCode::kAlreadyExists);
    }
    EXPECT_EQ(*Read()->qtsp_authorizations().Find(a.state_hash), a);
    EXPECT_FALSE(*Read()->qtsp_authorizations().Find(std::string(64, 'c')));
    {
        auto tx = Write();
        EXPECT_EQ(tx->qtsp_authorizations().Finish(a.state_hash, "authorized", now + 1s), true);
        // A replay, and an expired one: neither finishes.
        EXPECT_EQ(tx->qtsp_authorizations().Finish(a.state_hash, "denied", now + 2s), false);
        EXPECT_EQ(tx->qtsp_authorizations().Finish(late.state_hash, "authorized", now + 1min),
                  false);
        EXPECT_EQ(tx->qtsp_authorizations().Finish(std::string(64, 'c'), "denied", now), false);
        ASSERT_TRUE(tx->Commit());
    }
    auto finished = *Read()->qtsp_authorizations().Find(a.state_hash);
    ASSERT_TRUE(finished);
    EXPECT_EQ(finished->outcome, "authorized");
    EXPECT_EQ(finished->finished_at, now + 1s);
    EXPECT_EQ((*Read()->qtsp_authorizations().Find(late.state_hash))->outcome, "");
    {
        auto tx = Write();
        EXPECT_EQ(tx->qtsp_authorizations().DeleteExpired(now + 2min), 1);
        ASSERT_TRUE(tx->Commit());
    }
    EXPECT_FALSE(*Read()->qtsp_authorizations().Find(late.state_hash));
    EXPECT_TRUE(*Read()->qtsp_authorizations().Find(a.state_hash));
}

// Issue 15: the sealed code and token rest on the row (Insert ignores them), and expired tokens
// are forgotten.
TEST_P(RepositoryContract, QtspAuthorizationsKeepTheirSecretsUntilForgotten) {
    const Timestamp now = clock_.Now();
    QtspAuthorization a{.state_hash = std::string(64, 'd'),
                        .request_id = Id(),
                        .signer_id = Id(),
                        .credential_id = "cred-1",
                        .hashes = {"aGFzaDE"},
                        .sealed_verifier = "c2VhbGVk",
                        .created_at = now,
                        .expires_at = now + 10min,
                        .sealed_code = "ignored by Insert"};
    QtspAuthorization b = a;
    b.state_hash = std::string(64, 'e');
    b.sealed_code = "";
    {
        auto tx = Write();
        ASSERT_TRUE(tx->qtsp_authorizations().Insert(a));
        ASSERT_TRUE(tx->qtsp_authorizations().Insert(b));
        ASSERT_TRUE(tx->Commit());
    }
    EXPECT_EQ((*Read()->qtsp_authorizations().Find(a.state_hash))->sealed_code, "");
    a.sealed_code = "sealed-code";
    a.sealed_token = "sealed-token-a";
    a.token_expires_at = now + 1min;
    b.sealed_code = "sealed-code-b";
    b.sealed_token = "sealed-token-b";
    b.token_expires_at = now + 5min;
    {
        auto tx = Write();
        EXPECT_EQ(tx->qtsp_authorizations().KeepSecrets(a), true);
        EXPECT_EQ(tx->qtsp_authorizations().KeepSecrets(b), true);
        QtspAuthorization missing = a;
        missing.state_hash = std::string(64, 'f');
        EXPECT_EQ(tx->qtsp_authorizations().KeepSecrets(missing), false);
        ASSERT_TRUE(tx->Commit());
    }
    auto found = *Read()->qtsp_authorizations().Find(a.state_hash);
    ASSERT_TRUE(found);
    EXPECT_EQ(found->sealed_code, "sealed-code");
    EXPECT_EQ(found->sealed_token, "sealed-token-a");
    EXPECT_EQ(found->token_expires_at, now + 1min);
    {
        auto tx = Write();
        EXPECT_EQ(tx->qtsp_authorizations().ForgetExpiredTokens(now + 2min), 1);
        ASSERT_TRUE(tx->Commit());
    }
    found = *Read()->qtsp_authorizations().Find(a.state_hash);
    EXPECT_EQ(found->sealed_token, "");
    EXPECT_FALSE(found->token_expires_at);
    EXPECT_EQ(found->sealed_code, "sealed-code");
    EXPECT_EQ((*Read()->qtsp_authorizations().Find(b.state_hash))->sealed_token, "sealed-token-b");
    // Cleared again (the token was used): empty and absent.
    a.sealed_code.clear();
    a.sealed_token.clear();
    a.token_expires_at.reset();
    {
        auto tx = Write();
        EXPECT_EQ(tx->qtsp_authorizations().KeepSecrets(a), true);
        ASSERT_TRUE(tx->Commit());
    }
    EXPECT_EQ(*Read()->qtsp_authorizations().Find(a.state_hash),
              (QtspAuthorization{.state_hash = a.state_hash,
                                 .request_id = a.request_id,
                                 .signer_id = a.signer_id,
                                 .credential_id = a.credential_id,
                                 .hashes = a.hashes,
                                 .sealed_verifier = a.sealed_verifier,
                                 .created_at = a.created_at,
                                 .expires_at = a.expires_at}));
}

// Issue 17: staff accounts, sessions and the staff audit log, scoped by issuer.
TEST_P(RepositoryContract, StaffAccountsSessionsAndAuditAreScopedByIssuer) {
    StaffUser anna{.id = Id(),
                   .issuer_id = issuer_a_,
                   .email = "anna@example.org",
                   .role = StaffRole::kAdmin,
                   .setup_token_hash = "setup-hash-anna",
                   .setup_expires_at = clock_.Now() + 24h,
                   .created_at = clock_.Now(),
                   .updated_at = clock_.Now()};
    StaffUser ola{.id = Id(),
                  .issuer_id = issuer_b_,
                  .email = "ola@example.org",
                  .role = StaffRole::kViewer,
                  .password_hash = "$argon2id$x",
                  .created_at = clock_.Now(),
                  .updated_at = clock_.Now()};
    {
        auto tx = Write();
        ASSERT_TRUE(tx->staff().InsertUser(anna));
        ASSERT_TRUE(tx->staff().InsertUser(ola));  // no setup token: NULL, not a second ""
        ASSERT_TRUE(tx->Commit());
    }
    {
        StaffUser same_email = ola;
        same_email.id = Id();
        same_email.issuer_id = issuer_a_;
        auto tx = Write();
        auto taken = tx->staff().InsertUser(same_email);
        ASSERT_FALSE(taken);
        EXPECT_EQ(taken.error().code, ErrorCode::kAlreadyExists);
    }
    EXPECT_EQ(*Read()->staff().FindUser(issuer_a_, anna.id), anna);
    EXPECT_FALSE(*Read()->staff().FindUser(issuer_b_, anna.id));  // another issuer's: none
    EXPECT_EQ(*Read()->staff().FindUserByEmail("ola@example.org"), ola);
    EXPECT_EQ(*Read()->staff().FindUserBySetupToken("setup-hash-anna"), anna);
    EXPECT_FALSE(*Read()->staff().FindUserBySetupToken(""));
    EXPECT_FALSE(*Read()->staff().FindUserBySetupToken("other"));

    anna.password_hash = "$argon2id$y";
    anna.setup_token_hash.clear();
    anna.setup_expires_at.reset();
    anna.role = StaffRole::kSender;
    anna.updated_at = clock_.Now() + 1s;
    anna.disabled_at = clock_.Now() + 2s;
    anna.totp_secret = "c2VhbGVkLXNlY3JldA";  // migration 22: the second factor round-trips
    anna.totp_enabled_at = clock_.Now() + 3s;
    anna.totp_last_step = 59'333'333'333;
    {
        auto tx = Write();
        ASSERT_TRUE(tx->staff().UpdateUser(anna));
        StaffUser foreign = anna;
        foreign.issuer_id = issuer_b_;
        auto refused = tx->staff().UpdateUser(foreign);
        ASSERT_FALSE(refused);
        EXPECT_EQ(refused.error().code, ErrorCode::kNotFound);
        ASSERT_TRUE(tx->Commit());
    }
    EXPECT_EQ(*Read()->staff().FindUser(issuer_a_, anna.id), anna);
    EXPECT_FALSE(*Read()->staff().FindUserBySetupToken("setup-hash-anna"));
    EXPECT_EQ(*Read()->staff().ListUsers(issuer_a_), std::vector<StaffUser>{anna});

    const StaffSession session{.id_hash = "session-hash",
                               .user_id = anna.id,
                               .issuer_id = issuer_a_,
                               .csrf_token = "csrf",
                               .created_at = clock_.Now(),
                               .expires_at = clock_.Now() + 8h,
                               .ip = "192.0.2.1",
                               .user_agent = "Mozilla"};
    StaffSession old = session;
    old.id_hash = "old-hash";
    old.expires_at = clock_.Now() - 1s;
    {
        auto tx = Write();
        ASSERT_TRUE(tx->staff().InsertSession(session));
        ASSERT_TRUE(tx->staff().InsertSession(old));
        ASSERT_TRUE(tx->Commit());
    }
    EXPECT_EQ(*Read()->staff().FindSession("session-hash"), session);
    {
        auto tx = Write();
        EXPECT_EQ(*tx->staff().PurgeExpiredSessions(clock_.Now()), 1);
        ASSERT_TRUE(tx->Commit());
    }
    EXPECT_FALSE(*Read()->staff().FindSession("old-hash"));
    {
        auto tx = Write();
        ASSERT_TRUE(tx->staff().DeleteSessionsOf(anna.id));
        ASSERT_TRUE(tx->Commit());
    }
    EXPECT_FALSE(*Read()->staff().FindSession("session-hash"));

    {
        auto tx = Write();
        for (const auto& [issuer, action] :
             {std::pair{issuer_a_, "staff_user.created"}, std::pair{issuer_b_, "staff.login"},
              std::pair{issuer_a_, "staff.login"}}) {
            ASSERT_TRUE(tx->staff().AppendAudit(StaffAuditEntry{.issuer_id = issuer,
                                                                .at = clock_.Now(),
                                                                .actor = "cli",
                                                                .action = action,
                                                                .subject = anna.id,
                                                                .detail = "ip=192.0.2.1"}));
        }
        ASSERT_TRUE(tx->Commit());
    }
    auto audit = *Read()->staff().ListAudit(issuer_a_, 10);
    ASSERT_EQ(audit.size(), 2u);
    EXPECT_EQ(audit[0].action, "staff.login");  // newest first
    EXPECT_EQ(audit[1].action, "staff_user.created");
    EXPECT_GT(audit[0].seq, audit[1].seq);
    EXPECT_EQ(audit[1].detail, "ip=192.0.2.1");
    EXPECT_EQ(Read()->staff().ListAudit(issuer_a_, 1)->size(), 1u);
}

TEST_P(RepositoryContract, ApiKeysKeepLabelAndExpiryAndAreListedPerIssuer) {
    const Timestamp expiry = clock_.Now() + std::chrono::hours(24);
    const ApiKey older{.id = Id(),
                       .issuer_id = issuer_a_,
                       .key_hash = "hash-older",
                       .prefix = "firmo_old",
                       .created_at = clock_.Now(),
                       .revoked_at = std::nullopt,
                       .label = "Protocol system",
                       .expires_at = expiry};
    clock_.Advance(std::chrono::seconds(1));
    const ApiKey newer{.id = Id(),
                       .issuer_id = issuer_a_,
                       .key_hash = "hash-newer",
                       .prefix = "firmo_new",
                       .created_at = clock_.Now(),
                       .revoked_at = std::nullopt,
                       .label = "",
                       .expires_at = std::nullopt};
    const ApiKey other{.id = Id(),
                       .issuer_id = issuer_b_,
                       .key_hash = "hash-other",
                       .prefix = "firmo_oth",
                       .created_at = clock_.Now(),
                       .revoked_at = std::nullopt,
                       .label = "B",
                       .expires_at = std::nullopt};
    {
        auto tx = Write();
        for (const auto& k : {older, newer, other}) ASSERT_TRUE(tx->issuers().InsertKey(k));
        ASSERT_TRUE(tx->issuers().RevokeKey(newer.id, clock_.Now()));
        ASSERT_TRUE(tx->Commit());
    }
    auto found = Read()->issuers().FindKeyByHash("hash-older");
    ASSERT_TRUE(found && *found);
    EXPECT_EQ((*found)->label, "Protocol system");
    EXPECT_EQ((*found)->expires_at, expiry);
    auto keys = Read()->issuers().ListKeys(issuer_a_);
    ASSERT_TRUE(keys) << keys.error().message;
    ASSERT_EQ(keys->size(), 2u);
    EXPECT_EQ((*keys)[0].id, newer.id);  // newest first, revoked ones too
    EXPECT_TRUE((*keys)[0].revoked_at);
    EXPECT_FALSE((*keys)[0].expires_at);
    EXPECT_EQ((*keys)[1].id, older.id);
    EXPECT_EQ((*keys)[1].label, "Protocol system");
    EXPECT_EQ(Read()->issuers().ListKeys(issuer_b_)->size(), 1u);
}

TEST_P(RepositoryContract, ApiKeysKeepTheirAllowListAndTheirLatestUse) {
    const ApiKey key{.id = Id(),
                     .issuer_id = issuer_a_,
                     .key_hash = "hash-used",
                     .prefix = "firmo_use",
                     .created_at = clock_.Now(),
                     .allowed_ips = "10.0.0.0/8, 2001:db8::/32"};
    {
        auto tx = Write();
        ASSERT_TRUE(tx->issuers().InsertKey(key));
        ASSERT_TRUE(tx->Commit());
    }
    auto found = Read()->issuers().FindKeyByHash("hash-used");
    ASSERT_TRUE(found && *found);
    EXPECT_EQ((*found)->allowed_ips, "10.0.0.0/8, 2001:db8::/32");
    EXPECT_FALSE((*found)->last_used_at);
    EXPECT_EQ((*found)->last_used_ip, "");
    const Timestamp first = clock_.Now() + std::chrono::minutes(1);
    const Timestamp later = first + std::chrono::minutes(1);
    {
        auto tx = Write();
        ASSERT_TRUE(tx->issuers().RecordKeyUse(key.id, later, "10.0.0.2"));
        // Another node flushes an older use afterwards: the later one stays.
        ASSERT_TRUE(tx->issuers().RecordKeyUse(key.id, first, "10.0.0.1"));
        ASSERT_TRUE(tx->issuers().RecordKeyUse("no-such-key", first, "10.0.0.1"));
        ASSERT_TRUE(tx->Commit());
    }
    auto keys = Read()->issuers().ListKeys(issuer_a_);
    ASSERT_TRUE(keys) << keys.error().message;
    ASSERT_EQ(keys->size(), 1u);
    EXPECT_EQ((*keys)[0].last_used_at, later);
    EXPECT_EQ((*keys)[0].last_used_ip, "10.0.0.2");
}

// Issue 17: a key's mode and a request's test flag are stored, survive an update of the request
// (they never change), and the list filters by them (none: both).
TEST_P(RepositoryContract, TestModeOfKeysAndRequestsRoundTripsAndFiltersLists) {
    ApiKey test_key{Id(), issuer_a_, "hash-test", "firmo_test_abcdef", clock_.Now(), std::nullopt};
    test_key.test = true;
    ApiKey live_key{Id(), issuer_a_, "hash-live", "firmo_live_abcdef", clock_.Now(), std::nullopt};
    {
        auto tx = Write();
        ASSERT_TRUE(tx->issuers().InsertKey(test_key));
        ASSERT_TRUE(tx->issuers().InsertKey(live_key));
        ASSERT_TRUE(tx->Commit());
    }
    auto found_test = Read()->issuers().FindKeyByHash("hash-test");
    ASSERT_TRUE(found_test && *found_test);
    EXPECT_TRUE((*found_test)->test);
    auto found_live = Read()->issuers().FindKeyByHash("hash-live");
    ASSERT_TRUE(found_live && *found_live);
    EXPECT_FALSE((*found_live)->test);
    auto keys = Read()->issuers().ListKeys(issuer_a_);
    ASSERT_TRUE(keys);
    ASSERT_EQ(keys->size(), 2u);
    EXPECT_EQ((*keys)[0].test + (*keys)[1].test, 1);

    const Dossier d = MakeDossier(issuer_a_);
    const Signer s = MakeSigner(issuer_a_, "RSSMRA80A01H501U");
    const SignatureRequest live = MakeRequest(d, s);
    clock_.Advance(1ms);
    SignatureRequest test;
    test.id = Id();
    test.issuer_id = issuer_a_;
    test.dossier_id = d.id;
    test.expires_at = clock_.Now() + 24h;
    test.created_at = test.updated_at = clock_.Now();
    test.signers.resize(1);
    test.signers[0].signer_id = s.id;
    test.test = true;
    {
        auto tx = Write();
        ASSERT_TRUE(tx->requests().Insert(test));
        ASSERT_TRUE(tx->Commit());
    }
    test.status = RequestStatus::kReady;
    {
        auto tx = Write();
        ASSERT_TRUE(tx->requests().Update(test));
        ASSERT_TRUE(tx->Commit());
    }
    auto read = Read()->requests().Find(issuer_a_, test.id);
    ASSERT_TRUE(read && *read) << (read ? "" : read.error().message);
    EXPECT_TRUE((*read)->test);
    EXPECT_EQ((*read)->status, RequestStatus::kReady);
    auto for_signer = Read()->requests().FindForSigner(test.id);
    ASSERT_TRUE(for_signer && *for_signer);
    EXPECT_TRUE((*for_signer)->test);
    auto read_live = Read()->requests().Find(issuer_a_, live.id);
    ASSERT_TRUE(read_live && *read_live);
    EXPECT_FALSE((*read_live)->test);

    const auto ids = [&](std::optional<bool> mode) {
        RequestFilter filter;
        filter.test = mode;
        auto page = Read()->requests().List(issuer_a_, filter, PageQuery{10, std::nullopt});
        EXPECT_TRUE(page) << page.error().message;
        std::vector<std::string> out;
        if (page) {
            for (const auto& r : page->items) out.push_back(r.id);
        }
        return out;
    };
    EXPECT_EQ(ids(std::nullopt), (std::vector<std::string>{test.id, live.id}));
    EXPECT_EQ(ids(true), std::vector<std::string>{test.id});
    EXPECT_EQ(ids(false), std::vector<std::string>{live.id});
}

// Issue 17: the queue a change is stored in (a test request's are "test:"...), which a key's
// confirmation is checked against; another issuer's change has none.
TEST_P(RepositoryContract, StatusChangesTellTheirQueue) {
    StatusChange test{0,    issuer_a_,    "evt_t",      "signature_request.ready",     "R1",
                      "{}", clock_.Now(), clock_.Now(), StoredPollingQueue("hr", true)};
    StatusChange live{0,    issuer_a_, "evt_l",      "signature_request.ready",
                      "R2", "{}",      clock_.Now(), clock_.Now(),
                      ""};
    {
        auto tx = Write();
        ASSERT_TRUE(tx->status_changes().Insert(test));
        ASSERT_TRUE(tx->status_changes().Insert(live));
        ASSERT_TRUE(tx->Commit());
    }
    auto served = Read()->status_changes().Next(issuer_a_, "test:hr", clock_.Now());
    ASSERT_TRUE(served && *served);
    EXPECT_EQ((*served)->event_id, "evt_t");
    auto queue = Read()->status_changes().QueueOf(issuer_a_, (*served)->seq);
    ASSERT_TRUE(queue) << queue.error().message;
    EXPECT_EQ(*queue, std::optional<std::string>("test:hr"));
    auto other = Read()->status_changes().QueueOf(issuer_b_, (*served)->seq);
    ASSERT_TRUE(other);
    EXPECT_FALSE(*other);
    auto default_queue = Read()->status_changes().Next(issuer_a_, "", clock_.Now());
    ASSERT_TRUE(default_queue && *default_queue);
    EXPECT_EQ(*Read()->status_changes().QueueOf(issuer_a_, (*default_queue)->seq),
              std::optional<std::string>(""));
    EXPECT_FALSE(*Read()->status_changes().QueueOf(issuer_a_, 999'999));
}

INSTANTIATE_TEST_SUITE_P(Backends, RepositoryContract, ::testing::ValuesIn(Backends()),
                         [](const auto& param_info) { return param_info.param.name; });

}  // namespace
}  // namespace firmo::store
