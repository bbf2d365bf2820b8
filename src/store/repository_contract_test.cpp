// The storage contract: every domain::Database adapter must pass these. Parameterised by
// backend; SQLite always runs, PostgreSQL joins when its adapter exists and a server is given.

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <memory>

#include "core/ids.hpp"
#include "core/testing/temp_dir.hpp"
#include "domain/ports/repository.hpp"
#include "store/sqlite/sqlite_database.hpp"

namespace firmo::store {
namespace {

using namespace firmo::domain;
using namespace std::chrono_literals;

struct Backend {
    std::string name;
    std::function<std::unique_ptr<Database>(const std::filesystem::path& dir)> open;
};

std::vector<Backend> Backends() {
    return {{"sqlite", [](const std::filesystem::path& dir) -> std::unique_ptr<Database> {
                 auto db = sqlite::SqliteDatabase::Open((dir / "firmo.db").string(), 4);
                 if (!db) return nullptr;
                 return std::move(*db);
             }}};
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
        EXPECT_TRUE(tx->InsertIssuer(issuer));
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
        EXPECT_TRUE(tx->InsertDossier(d));
        EXPECT_TRUE(tx->Commit());
        return d;
    }

    Signer MakeSigner(const std::string& issuer_id, const std::string& code) {
        Signer s{Id(),         issuer_id,   IdentifierKind::kItFiscalCode,
                 code,         "a@b.it",    std::nullopt,
                 clock_.Now(), clock_.Now()};
        auto tx = Write();
        EXPECT_TRUE(tx->InsertSigner(s));
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
        EXPECT_TRUE(tx->InsertRequest(r));
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
        ASSERT_TRUE(tx->InsertApiKey(key));
        ASSERT_TRUE(tx->Commit());
    }
    {
        auto found = Read()->FindApiKeyByHash("hash-1");
        ASSERT_TRUE(found && *found);
        EXPECT_EQ((*found)->issuer_id, issuer_a_);
        EXPECT_FALSE((*found)->revoked_at);
    }
    {
        auto tx = Write();
        EXPECT_EQ(tx->RevokeApiKey(key.id, clock_.Now()), true);
        EXPECT_EQ(tx->RevokeApiKey(key.id, clock_.Now()), false);  // already revoked
        ASSERT_TRUE(tx->Commit());
    }
    auto found = Read()->FindApiKeyByHash("hash-1");
    ASSERT_TRUE(found && *found);
    EXPECT_TRUE((*found)->revoked_at);
    EXPECT_FALSE(*Read()->FindApiKeyByHash("other"));
}

TEST_P(RepositoryContract, UncommittedTransactionsRollBack) {
    {
        auto tx = Write();
        ASSERT_TRUE(tx->InsertIssuer(Issuer{"X1", "Ghost", "g@example.org", clock_.Now()}));
    }
    EXPECT_FALSE(*Read()->FindIssuer("X1"));
    EXPECT_EQ(*Read()->CountIssuers(), 2);
}

TEST_P(RepositoryContract, DossiersRoundTripAndAreScopedByIssuer) {
    const Dossier d = MakeDossier(issuer_a_);
    auto found = Read()->FindDossier(issuer_a_, d.id);
    ASSERT_TRUE(found && *found);
    EXPECT_EQ((*found)->title, d.title);
    EXPECT_EQ((*found)->documents, d.documents);
    EXPECT_FALSE(*Read()->FindDossier(issuer_b_, d.id));
}

TEST_P(RepositoryContract, DossierPagesAreNewestFirstWithACursor) {
    std::vector<std::string> ids;
    for (int i = 0; i < 5; ++i) {
        clock_.Advance(1ms);
        ids.push_back(MakeDossier(issuer_a_).id);
    }
    MakeDossier(issuer_b_);
    auto first = Read()->ListDossiers(issuer_a_, PageQuery{2, std::nullopt});
    ASSERT_TRUE(first);
    ASSERT_EQ(first->items.size(), 2u);
    EXPECT_EQ(first->items[0].id, ids[4]);
    EXPECT_EQ(first->items[1].id, ids[3]);
    ASSERT_TRUE(first->next_after_id);
    auto rest = Read()->ListDossiers(issuer_a_, PageQuery{10, first->next_after_id});
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
        auto r = tx->InsertSigner(dup);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().code, ErrorCode::kAlreadyExists);
    }
    auto found = Read()->FindSignerByIdentifier(issuer_a_, IdentifierKind::kItFiscalCode,
                                                "RSSMRA80A01H501U");
    ASSERT_TRUE(found && *found);
    EXPECT_EQ((*found)->id, s.id);
    EXPECT_FALSE(*Read()->FindSigner(issuer_b_, s.id));
    Signer updated = s;
    updated.phone = "+393331234567";
    {
        auto tx = Write();
        ASSERT_TRUE(tx->UpdateSignerContact(updated));
        ASSERT_TRUE(tx->Commit());
    }
    EXPECT_EQ((*Read()->FindSigner(issuer_a_, s.id))->phone, std::string("+393331234567"));
}

TEST_P(RepositoryContract, RequestsRoundTripWithSignersAndDocuments) {
    const Dossier d = MakeDossier(issuer_a_);
    const Signer s = MakeSigner(issuer_a_, "RSSMRA80A01H501U");
    SignatureRequest r = MakeRequest(d, s);
    auto found = Read()->FindRequest(issuer_a_, r.id);
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
    EXPECT_FALSE(*Read()->FindRequest(issuer_b_, r.id));

    r.status = RequestStatus::kCancelled;
    r.cancelled_at = clock_.Now();
    r.signers[0].status = SignerStatus::kCancelled;
    r.documents[0].status = DocumentStatus::kRejected;
    r.documents[0].violations = {{"file", "not a PDF"}};
    r.documents[0].upload_generation = 3;
    r.documents[0].blob_key = "k";
    {
        auto tx = Write();
        ASSERT_TRUE(tx->UpdateRequest(r));
        ASSERT_TRUE(tx->Commit());
    }
    const auto again = **Read()->FindRequest(issuer_a_, r.id);
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
    auto denied = tx->UpdateRequest(foreign);
    ASSERT_FALSE(denied);
    EXPECT_EQ(denied.error().code, ErrorCode::kNotFound);
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
        ASSERT_TRUE(tx->UpdateRequest(r2));
        ASSERT_TRUE(tx->Commit());
    }
    auto all = Read()->ListRequests(issuer_a_, {}, PageQuery{10, std::nullopt});
    ASSERT_TRUE(all);
    EXPECT_EQ(all->items.size(), 2u);
    auto ready = Read()->ListRequests(issuer_a_, RequestFilter{std::nullopt, RequestStatus::kReady},
                                      PageQuery{10, std::nullopt});
    ASSERT_EQ(ready->items.size(), 1u);
    EXPECT_EQ(ready->items[0].id, r2.id);
    EXPECT_EQ(ready->items[0].documents.size(), 1u);
    auto by_dossier = Read()->ListRequests(issuer_a_, RequestFilter{d1.id, std::nullopt},
                                           PageQuery{10, std::nullopt});
    ASSERT_EQ(by_dossier->items.size(), 1u);
    EXPECT_EQ(by_dossier->items[0].dossier_id, d1.id);
    EXPECT_TRUE(Read()->ListRequests(issuer_b_, {}, PageQuery{10, std::nullopt})->items.empty());
}

TEST_P(RepositoryContract, ExpiredListingSkipsTerminalRequests) {
    const Dossier d = MakeDossier(issuer_a_);
    const Signer s = MakeSigner(issuer_a_, "RSSMRA80A01H501U");
    SignatureRequest live = MakeRequest(d, s);
    SignatureRequest done = MakeRequest(d, s);
    done.status = RequestStatus::kSigned;
    {
        auto tx = Write();
        ASSERT_TRUE(tx->UpdateRequest(done));
        ASSERT_TRUE(tx->Commit());
    }
    EXPECT_TRUE(Read()->ListExpired(clock_.Now(), 10)->empty());
    auto due = Read()->ListExpired(clock_.Now() + 25h, 10);
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
            ASSERT_TRUE(tx->AppendEvent(
                AuditEvent{0, r.id, clock_.Now(), type, "A", "B", "", "", "test", ""}));
        }
        ASSERT_TRUE(tx->Commit());
    }
    auto events = Read()->ListEvents(r.id);
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
        ASSERT_TRUE(tx->EnqueueJob(job));
        ASSERT_TRUE(tx->Commit());
    }
    auto claim = [&](const char* worker) {
        auto tx = Write();
        auto j = tx->ClaimJob(clock_.Now(), 30s, worker);
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
        ASSERT_TRUE(tx->RetryJob(second->id, clock_.Now() + 10s, "boom"));
        ASSERT_TRUE(tx->Commit());
    }
    EXPECT_FALSE(claim("w1"));  // not due yet
    clock_.Advance(10s);
    auto third = claim("w1");
    ASSERT_TRUE(third);
    EXPECT_EQ(third->last_error, "boom");
    {
        auto tx = Write();
        ASSERT_TRUE(tx->CompleteJob(third->id));
        ASSERT_TRUE(tx->Commit());
    }
    clock_.Advance(1h);
    EXPECT_FALSE(claim("w1"));
}

TEST_P(RepositoryContract, SettingsKeepTheFirstValue) {
    auto tx = Write();
    EXPECT_EQ(tx->PutSettingIfAbsent("secret", "one"), std::string("one"));
    EXPECT_EQ(tx->PutSettingIfAbsent("secret", "two"), std::string("one"));
    ASSERT_TRUE(tx->Commit());
    EXPECT_EQ(*Read()->GetSetting("secret"), std::string("one"));
    EXPECT_FALSE(*Read()->GetSetting("absent"));
}

TEST_P(RepositoryContract, IdempotencyKeysAreClaimedOnceAndExpire) {
    const IdempotencyRecord fresh{issuer_a_, "k1", "h1", 0, "", "", clock_.Now()};
    const auto claim = [&](const IdempotencyRecord& r, Timestamp stale_before) {
        auto tx = Write();
        auto got = tx->ClaimIdempotencyKey(r, stale_before);
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
        ASSERT_TRUE(tx->CompleteIdempotencyKey({issuer_a_, "k1", "", 201, "{}", "/x", {}}));
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
        ASSERT_TRUE(tx->ReleaseIdempotencyKey(issuer_a_, "k1"));
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
        ASSERT_TRUE(tx->ClaimIdempotencyKey({issuer_a_, "old", "h", 201, "{}", "", clock_.Now()},
                                            clock_.Now()));
        auto done_id = tx->EnqueueJob(job);
        ASSERT_TRUE(done_id);
        ASSERT_TRUE(tx->CompleteJob(*done_id));
        ASSERT_TRUE(tx->EnqueueJob(job));  // pending: must survive
        ASSERT_TRUE(tx->Commit());
    }
    clock_.Advance(2h);
    {
        auto tx = Write();
        EXPECT_EQ(tx->Purge(clock_.Now() - 1h, clock_.Now() - 1h), 2);
        ASSERT_TRUE(tx->Commit());
    }
    auto tx = Write();
    auto pending = tx->ClaimJob(clock_.Now(), 30s, "w");
    ASSERT_TRUE(pending && *pending);
    auto fresh = tx->ClaimIdempotencyKey({issuer_a_, "old", "h2", 0, "", "", clock_.Now()},
                                         clock_.Now() - 24h);
    ASSERT_TRUE(fresh);
    EXPECT_FALSE(*fresh);  // the old record was gone
}

INSTANTIATE_TEST_SUITE_P(Backends, RepositoryContract, ::testing::ValuesIn(Backends()),
                         [](const auto& param_info) { return param_info.param.name; });

}  // namespace
}  // namespace firmo::store
