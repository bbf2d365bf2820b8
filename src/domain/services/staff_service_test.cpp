// StaffService: accounts, setup links, logins, sessions and the staff audit log, on the
// in-memory store with the real Argon2id hasher (crypto, a test-only dependency).

#include "domain/services/staff_service.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "core/testing/temp_dir.hpp"
#include "crypto/argon2id.hpp"
#include "crypto/hasher.hpp"
#include "domain/services/testing/fakes.hpp"
#include "store/filesystem/folder_blob_store.hpp"
#include "store/memory/memory_database.hpp"

namespace firmo::domain {
namespace {

using namespace std::chrono_literals;

constexpr const char* kPassword = "a long enough password";

class StaffServiceTest : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_TRUE(db_.Migrate());
        ctx_ = std::make_unique<ServiceContext>(
            ServiceContext{db_, blobs_, validator_, hasher_, clock_, random_, Limits{}});
        limits_ = std::make_unique<RateLimitService>(db_, clock_, RateLimit{5, 60s});
        staff_ = std::make_unique<StaffService>(*ctx_, passwords_, limits_.get());
        for (const auto& [id, name] :
             {std::pair{"ISSUER-A", "Comune di Roma"}, std::pair{"ISSUER-B", "Oslo kommune"}}) {
            ASSERT_TRUE(InWriteTransaction(db_, [&](Transaction& tx) {
                return tx.issuers().Insert(Issuer{id, name, "ops@example.org", clock_.Now()});
            }));
        }
    }

    StaffInvite Invite(const std::string& email, StaffRole role = StaffRole::kSender,
                       const std::string& issuer = "ISSUER-A") {
        auto invite = staff_->CreateUser(issuer, email, role, "cli");
        EXPECT_TRUE(invite) << invite.error().message;
        return invite ? *invite : StaffInvite{};
    }
    StaffSessionHandle Enrolled(const std::string& email, StaffRole role = StaffRole::kSender,
                                const std::string& issuer = "ISSUER-A") {
        auto invite = Invite(email, role, issuer);
        auto done = staff_->CompleteSetup(invite.setup_token, kPassword, client_);
        EXPECT_TRUE(done) << done.error().message;
        return done ? *done : StaffSessionHandle{};
    }
    std::vector<std::string> Actions(const std::string& issuer = "ISSUER-A") {
        auto audit = staff_->Audit(issuer, 100);
        EXPECT_TRUE(audit);
        std::vector<std::string> out;
        for (const auto& e : *audit) out.push_back(e.action);
        std::reverse(out.begin(), out.end());
        return out;
    }

    firmo::testing::TempDir dir_;
    store::memory::MemoryDatabase db_;
    store::FolderBlobStore blobs_{dir_.path() / "documents"};
    fixtures::AcceptingValidator validator_;
    crypto::OpenSslHasher hasher_;
    ManualClock clock_{FromUnixMillis(1'780'000'000'000)};
    SeededRandom random_{17};
    crypto::Argon2idHasher passwords_;
    std::unique_ptr<ServiceContext> ctx_;
    std::unique_ptr<RateLimitService> limits_;
    std::unique_ptr<StaffService> staff_;
    ClientInfo client_{"192.0.2.7", "Mozilla/5.0"};
};

TEST_F(StaffServiceTest, AnAccountStartsWithoutAPasswordAndASetupTokenStoredHashed) {
    auto invite = Invite(" Anna.Rossi@Comune.Roma.IT ", StaffRole::kAdmin);
    EXPECT_EQ(invite.user.email, "anna.rossi@comune.roma.it");
    EXPECT_EQ(invite.user.role, StaffRole::kAdmin);
    EXPECT_TRUE(invite.user.password_hash.empty());
    EXPECT_EQ(invite.setup_token.size(), 43u);
    EXPECT_EQ(invite.user.setup_token_hash, hasher_.Sha256Hex(invite.setup_token));
    EXPECT_EQ(invite.user.setup_expires_at, clock_.Now() + 24h);
    auto account = staff_->SetupAccount(invite.setup_token);
    ASSERT_TRUE(account);
    EXPECT_EQ(account->id, invite.user.id);
    EXPECT_EQ(Actions(), (std::vector<std::string>{"staff_user.created"}));
}

TEST_F(StaffServiceTest, CreationRefusesBadAddressesTakenAddressesAndUnknownIssuers) {
    Invite("anna@example.org");
    for (const char* bad : {"", "anna", "@example.org", "anna@example", "a b@example.org",
                            "anna@@example.org", "anna@example.org."}) {
        auto refused = staff_->CreateUser("ISSUER-A", bad, StaffRole::kViewer, "cli");
        ASSERT_FALSE(refused) << bad;
        EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument) << bad;
    }
    auto taken = staff_->CreateUser("ISSUER-B", "ANNA@example.org", StaffRole::kViewer, "cli");
    ASSERT_FALSE(taken);
    EXPECT_EQ(taken.error().code, ErrorCode::kAlreadyExists);
    auto unknown = staff_->CreateUser("NOBODY", "ola@example.org", StaffRole::kViewer, "cli");
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
}

TEST_F(StaffServiceTest, TheSetupTokenSetsAnArgon2idPasswordOnceAndLogsThePersonIn) {
    auto invite = Invite("anna@example.org");
    auto short_password = staff_->CompleteSetup(invite.setup_token, "too short", client_);
    ASSERT_FALSE(short_password);
    EXPECT_EQ(short_password.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(short_password.error().violations.at(0).field, "password");

    auto done = staff_->CompleteSetup(invite.setup_token, kPassword, client_);
    ASSERT_TRUE(done) << done.error().message;
    EXPECT_EQ(done->user.id, invite.user.id);
    EXPECT_TRUE(done->user.password_hash.starts_with("$argon2id$"));
    EXPECT_TRUE(done->user.setup_token_hash.empty());
    auto me = staff_->Authenticate(done->token);
    ASSERT_TRUE(me) << me.error().message;
    EXPECT_EQ(me->user.id, invite.user.id);
    EXPECT_EQ(me->session.issuer_id, "ISSUER-A");
    EXPECT_EQ(me->session.csrf_token, done->session.csrf_token);
    EXPECT_EQ(me->session.id_hash, hasher_.Sha256Hex(done->token));

    // Single use: the same link cannot set another password.
    auto again = staff_->CompleteSetup(invite.setup_token, "another long password", client_);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, ErrorCode::kNotFound);
    EXPECT_FALSE(staff_->SetupAccount(invite.setup_token));
    EXPECT_EQ(Actions(), (std::vector<std::string>{"staff_user.created", "staff_user.password_set",
                                                   "staff.login"}));
}

TEST_F(StaffServiceTest, ASetupTokenExpiresAfter24Hours) {
    auto invite = Invite("anna@example.org");
    clock_.Advance(24h);
    auto expired = staff_->SetupAccount(invite.setup_token);
    ASSERT_FALSE(expired);
    EXPECT_EQ(expired.error().code, ErrorCode::kGone);
    auto refused = staff_->CompleteSetup(invite.setup_token, kPassword, client_);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, ErrorCode::kGone);
}

TEST_F(StaffServiceTest, LoginNeedsTheRightPasswordAndSaysNothingAboutWhichPartWasWrong) {
    Enrolled("anna@example.org");
    Invite("bruno@example.org");  // no password yet
    auto ok = staff_->Login("Anna@Example.org", kPassword, client_);
    ASSERT_TRUE(ok) << ok.error().message;
    EXPECT_TRUE(staff_->Authenticate(ok->token));
    for (auto [email, password] :
         {std::pair{"anna@example.org", "a wrong long password"},
          std::pair{"nobody@example.org", kPassword}, std::pair{"bruno@example.org", ""}}) {
        auto refused = staff_->Login(email, password, ClientInfo{"198.51.100.1", "x"});
        ASSERT_FALSE(refused) << email;
        EXPECT_EQ(refused.error().code, ErrorCode::kUnauthenticated) << email;
        EXPECT_EQ(refused.error().message, "wrong e-mail address or password");
    }
    const auto actions = Actions();
    EXPECT_EQ(std::count(actions.begin(), actions.end(), "staff.login_refused"), 2);
}

TEST_F(StaffServiceTest, LoginsAreThrottledPerAddressAndPerAccount) {
    Enrolled("anna@example.org");
    for (int i = 0; i < 5; ++i) {
        auto refused = staff_->Login("anna@example.org", "a wrong long password",
                                     ClientInfo{"198.51.100." + std::to_string(i), "x"});
        EXPECT_EQ(refused.error().code, ErrorCode::kUnauthenticated);
    }
    // The account has had its five tries this minute, from whatever address.
    auto throttled = staff_->Login("anna@example.org", kPassword, ClientInfo{"203.0.113.9", "x"});
    ASSERT_FALSE(throttled);
    EXPECT_EQ(throttled.error().code, ErrorCode::kRateLimited);
    // One address cannot go on to other accounts either.
    for (int i = 0; i < 5; ++i) {
        (void)staff_->Login("x" + std::to_string(i) + "@example.org", "pw", client_);
    }
    auto by_ip = staff_->Login("someone@example.org", kPassword, client_);
    ASSERT_FALSE(by_ip);
    EXPECT_EQ(by_ip.error().code, ErrorCode::kRateLimited);
    clock_.Advance(2min);
    EXPECT_TRUE(staff_->Login("anna@example.org", kPassword, ClientInfo{"203.0.113.9", "x"}));
}

TEST_F(StaffServiceTest, SessionsExpireAndEndAtLogout) {
    auto session = Enrolled("anna@example.org");
    ASSERT_TRUE(staff_->Logout(session.token, client_));
    auto gone = staff_->Authenticate(session.token);
    ASSERT_FALSE(gone);
    EXPECT_EQ(gone.error().code, ErrorCode::kUnauthenticated);

    auto next = staff_->Login("anna@example.org", kPassword, client_);
    ASSERT_TRUE(next);
    clock_.Advance(8h);
    EXPECT_FALSE(staff_->Authenticate(next->token));
    EXPECT_FALSE(staff_->Authenticate(""));
    EXPECT_FALSE(staff_->Authenticate("not-a-token"));
    const auto actions = Actions();
    EXPECT_EQ(std::count(actions.begin(), actions.end(), "staff.logout"), 1);
}

TEST_F(StaffServiceTest, OneIssuersAuditLogShowsNothingOfAnothers) {
    Enrolled("anna@example.org", StaffRole::kAdmin, "ISSUER-A");
    Enrolled("ola@example.org", StaffRole::kAdmin, "ISSUER-B");
    auto a = staff_->Audit("ISSUER-A", 100);
    ASSERT_TRUE(a);
    for (const auto& e : *a) EXPECT_EQ(e.issuer_id, "ISSUER-A");
    EXPECT_EQ(a->size(), 3u);
}

}  // namespace
}  // namespace firmo::domain
