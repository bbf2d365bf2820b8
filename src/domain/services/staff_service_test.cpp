// StaffService: accounts, setup links, logins, sessions and the staff audit log, on the
// in-memory store with the real Argon2id hasher (crypto, a test-only dependency).

#include "domain/services/staff_service.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "core/encoding.hpp"
#include "core/testing/temp_dir.hpp"
#include "crypto/argon2id.hpp"
#include "crypto/hasher.hpp"
#include "crypto/totp.hpp"
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
        staff_ = std::make_unique<StaffService>(*ctx_, passwords_, totp_, limits_.get());
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
    // The secret an enrolment shows, as an authenticator app reads it.
    static std::string SecretOf(const TotpEnrolment& e) {
        std::string out;
        int bits = 0;
        unsigned buffer = 0;
        for (char c : e.secret_base32) {
            const auto pos = std::string_view("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567").find(c);
            buffer = (buffer << 5) | static_cast<unsigned>(pos);
            bits += 5;
            if (bits >= 8) {
                bits -= 8;
                out += static_cast<char>((buffer >> bits) & 0xff);
            }
        }
        return out;
    }
    std::string Code(const std::string& secret) const {
        return crypto::TotpCode(secret, clock_.Now());
    }
    // Anna, with a password and a confirmed second factor; her secret.
    std::string WithTotp(const std::string& email) {
        auto session = Enrolled(email);
        auto enrolment = staff_->BeginTotp("ISSUER-A", session.user.id);
        EXPECT_TRUE(enrolment) << enrolment.error().message;
        std::string secret = SecretOf(*enrolment);
        auto on = staff_->ConfirmTotp("ISSUER-A", session.user.id, Code(secret), client_);
        EXPECT_TRUE(on) << on.error().message;
        clock_.Advance(2min);  // past the enrolment's code, and a new window of the throttle
        return secret;
    }
    void Rebuild(StaffOptions options) {
        staff_ = std::make_unique<StaffService>(*ctx_, passwords_, totp_, limits_.get(),
                                                std::move(options));
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
    crypto::OathTotp totp_{std::string(32, 's')};
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
    ASSERT_TRUE(ok->session);  // no second factor: the password is enough
    EXPECT_TRUE(staff_->Authenticate(ok->session->token));
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
    ASSERT_TRUE(next && next->session);
    clock_.Advance(8h);
    EXPECT_FALSE(staff_->Authenticate(next->session->token));
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

// ---- The optional TOTP second factor --------------------------------------------------------

TEST_F(StaffServiceTest, TotpIsOnOnlyAfterOneRightCodeAndItsSecretIsStoredSealed) {
    auto session = Enrolled("anna@example.org");
    const std::string& id = session.user.id;
    auto enrolment = staff_->BeginTotp("ISSUER-A", id);
    ASSERT_TRUE(enrolment) << enrolment.error().message;
    EXPECT_EQ(enrolment->secret_base32.size(), 32u);  // 160 bits
    EXPECT_EQ(enrolment->uri,
              "otpauth://totp/Firmo:anna%40example.org?secret=" + enrolment->secret_base32 +
                  "&issuer=Firmo&algorithm=SHA1&digits=6&period=30");
    const std::string secret = SecretOf(*enrolment);
    auto stored = InReadTransaction(
        db_, [&](Transaction& tx) { return tx.staff().FindUser("ISSUER-A", id); });
    ASSERT_TRUE(stored && *stored);
    EXPECT_FALSE((*stored)->has_totp());  // pending
    EXPECT_EQ((*stored)->totp_secret.find(enrolment->secret_base32), std::string::npos);
    EXPECT_EQ(Base64UrlDecode((*stored)->totp_secret)->find(secret), std::string::npos);
    // Pending: the password alone still logs in.
    auto login = staff_->Login("anna@example.org", kPassword, client_);
    ASSERT_TRUE(login && login->session);

    auto wrong = staff_->ConfirmTotp("ISSUER-A", id, "000000", client_);
    ASSERT_FALSE(wrong);
    EXPECT_EQ(wrong.error().code, ErrorCode::kUnauthenticated);
    auto on = staff_->ConfirmTotp("ISSUER-A", id, Code(secret), client_);
    ASSERT_TRUE(on) << on.error().message;
    EXPECT_TRUE(on->has_totp());
    auto again = staff_->BeginTotp("ISSUER-A", id);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, ErrorCode::kConflict);
    const auto actions = Actions();
    EXPECT_EQ(std::count(actions.begin(), actions.end(), "staff.totp_refused"), 1);
    EXPECT_EQ(std::count(actions.begin(), actions.end(), "staff_user.totp_enabled"), 1);
}

TEST_F(StaffServiceTest, WithTotpAPasswordOpensOnlyASecondStepThatARightCodeCompletes) {
    const std::string secret = WithTotp("anna@example.org");
    auto login = staff_->Login("anna@example.org", kPassword, client_);
    ASSERT_TRUE(login) << login.error().message;
    EXPECT_FALSE(login->session);
    EXPECT_FALSE(login->enrol);
    EXPECT_EQ(login->expires_at, clock_.Now() + 5min);
    const std::string& id = login->user.id;

    auto wrong = staff_->CompleteSecondStep("ISSUER-A", id, "123456", client_);
    ASSERT_FALSE(wrong);
    EXPECT_EQ(wrong.error().code, ErrorCode::kUnauthenticated);
    auto other_issuer = staff_->CompleteSecondStep("ISSUER-B", id, Code(secret), client_);
    ASSERT_FALSE(other_issuer);
    const std::string code = Code(secret);
    auto done = staff_->CompleteSecondStep("ISSUER-A", id, code, client_);
    ASSERT_TRUE(done) << done.error().message;
    EXPECT_TRUE(staff_->Authenticate(done->token));

    // Replay: the same code, within its window, is refused; so is the previous step's (still
    // inside the window of one step either side).
    const ClientInfo elsewhere{"198.51.100.20", "x"};  // the address's own bucket is spent
    auto replay = staff_->CompleteSecondStep("ISSUER-A", id, code, elsewhere);
    ASSERT_FALSE(replay);
    EXPECT_EQ(replay.error().code, ErrorCode::kUnauthenticated);
    auto older = staff_->CompleteSecondStep(
        "ISSUER-A", id, crypto::TotpCode(secret, clock_.Now() - 30s), elsewhere);
    ASSERT_FALSE(older);
    EXPECT_EQ(older.error().code, ErrorCode::kUnauthenticated);
    // The next step's code works.
    clock_.Advance(2min);
    EXPECT_TRUE(staff_->CompleteSecondStep("ISSUER-A", id, Code(secret), client_));
}

TEST_F(StaffServiceTest, CodesAreThrottledLikePasswords) {
    const std::string secret = WithTotp("anna@example.org");
    auto login = staff_->Login("anna@example.org", kPassword, client_);
    ASSERT_TRUE(login);
    for (int i = 0; i < 5; ++i) {
        auto wrong = staff_->CompleteSecondStep("ISSUER-A", login->user.id, "000000",
                                                ClientInfo{"198.51.100." + std::to_string(i), ""});
        EXPECT_EQ(wrong.error().code, ErrorCode::kUnauthenticated);
    }
    auto throttled = staff_->CompleteSecondStep("ISSUER-A", login->user.id, Code(secret),
                                                ClientInfo{"203.0.113.1", ""});
    ASSERT_FALSE(throttled);
    EXPECT_EQ(throttled.error().code, ErrorCode::kRateLimited);
}

TEST_F(StaffServiceTest, TurningTotpOffNeedsACodeAndAnAdminCanResetAnothersOnly) {
    const std::string secret = WithTotp("anna@example.org");
    auto admin = Enrolled("boss@example.org", StaffRole::kAdmin);
    auto anna = staff_->Login("anna@example.org", kPassword, client_);
    ASSERT_TRUE(anna);
    const std::string id = anna->user.id;
    auto wrong = staff_->DisableTotp("ISSUER-A", id, "000000", client_);
    ASSERT_FALSE(wrong);
    auto off = staff_->DisableTotp("ISSUER-A", id, Code(secret), client_);
    ASSERT_TRUE(off) << off.error().message;
    EXPECT_FALSE(off->has_totp());
    EXPECT_TRUE(off->totp_secret.empty());
    EXPECT_TRUE(staff_->Login("anna@example.org", kPassword, client_)->session);

    clock_.Advance(2min);
    (void)WithTotp("cleo@example.org");
    auto cleo = staff_->Login("cleo@example.org", kPassword, client_);
    ASSERT_TRUE(cleo && !cleo->session);
    auto own = staff_->ResetTotp("ISSUER-A", cleo->user.id, StaffActor(cleo->user.id));
    ASSERT_FALSE(own);
    EXPECT_EQ(own.error().code, ErrorCode::kConflict);
    auto foreign = staff_->ResetTotp("ISSUER-B", cleo->user.id, StaffActor(admin.user.id));
    ASSERT_FALSE(foreign);
    EXPECT_EQ(foreign.error().code, ErrorCode::kNotFound);
    auto reset = staff_->ResetTotp("ISSUER-A", cleo->user.id, StaffActor(admin.user.id));
    ASSERT_TRUE(reset) << reset.error().message;
    EXPECT_FALSE(reset->has_totp());
    EXPECT_TRUE(staff_->Login("cleo@example.org", kPassword, client_)->session);
    const auto actions = Actions();
    EXPECT_EQ(std::count(actions.begin(), actions.end(), "staff_user.totp_disabled"), 1);
    EXPECT_EQ(std::count(actions.begin(), actions.end(), "staff_user.totp_reset"), 1);
}

TEST_F(StaffServiceTest, RequireTotpMakesEveryAccountEnrolBeforeItGetsASession) {
    Enrolled("anna@example.org");
    Rebuild({.require_totp = true});
    auto login = staff_->Login("anna@example.org", kPassword, client_);
    ASSERT_TRUE(login) << login.error().message;
    EXPECT_FALSE(login->session);
    EXPECT_TRUE(login->enrol);
    const std::string& id = login->user.id;
    // No secret yet: no code can be right.
    EXPECT_FALSE(staff_->CompleteSecondStep("ISSUER-A", id, "000000", client_));
    auto enrolment = staff_->BeginTotp("ISSUER-A", id);
    ASSERT_TRUE(enrolment);
    const std::string secret = SecretOf(*enrolment);
    auto done = staff_->CompleteSecondStep("ISSUER-A", id, Code(secret), client_);
    ASSERT_TRUE(done) << done.error().message;
    EXPECT_TRUE(done->user.has_totp());
    auto off = staff_->DisableTotp("ISSUER-A", id, Code(secret), client_);
    ASSERT_FALSE(off);
    EXPECT_EQ(off.error().code, ErrorCode::kConflict);
    clock_.Advance(30s);
    auto next = staff_->Login("anna@example.org", kPassword, client_);
    ASSERT_TRUE(next);
    EXPECT_FALSE(next->enrol);
    EXPECT_TRUE(staff_->CompleteSecondStep("ISSUER-A", id, Code(secret), client_));
}

TEST_F(StaffServiceTest, WithoutRequireTotpAPendingSecretCannotBeUsedAsASecondStep) {
    auto session = Enrolled("anna@example.org");
    auto enrolment = staff_->BeginTotp("ISSUER-A", session.user.id);
    ASSERT_TRUE(enrolment);
    auto refused = staff_->CompleteSecondStep("ISSUER-A", session.user.id,
                                              Code(SecretOf(*enrolment)), client_);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, ErrorCode::kUnauthenticated);
}

// ---- Login with the institution's own OpenID provider (staff_oidc) ------------------------------

StaffRoleMap RoleMap() {
    return {{"firmo-admin", StaffRole::kAdmin},
            {"firmo-sender", StaffRole::kSender},
            {"staff", StaffRole::kViewer}};
}

TEST(StaffRoleMap, TheMostPowerfulMappedValueWins) {
    EXPECT_EQ(MapStaffRole({"staff", "firmo-admin"}, RoleMap()), StaffRole::kAdmin);
    EXPECT_EQ(MapStaffRole({"other", "firmo-sender", "staff"}, RoleMap()), StaffRole::kSender);
    EXPECT_EQ(MapStaffRole({"staff"}, RoleMap()), StaffRole::kViewer);
    EXPECT_FALSE(MapStaffRole({"other"}, RoleMap()));
    EXPECT_FALSE(MapStaffRole({}, RoleMap()));
    EXPECT_FALSE(MapStaffRole({"firmo-admin"}, {}));
}

TEST_F(StaffServiceTest, AProviderLoginCreatesTheAccountThenKeepsItsRoleInStepWithTheClaim) {
    auto first = staff_->LoginWithProvider(
        "ISSUER-A", StaffIdentity{"sub-1", "Gina@Example.org", {"firmo-admin"}}, RoleMap(),
        client_);
    ASSERT_TRUE(first) << first.error().message;
    EXPECT_EQ(first->user.email, "gina@example.org");
    EXPECT_EQ(first->user.role, StaffRole::kAdmin);
    EXPECT_TRUE(first->user.password_hash.empty());  // no password: the provider logs her in
    EXPECT_TRUE(staff_->Authenticate(first->token));
    auto later = staff_->LoginWithProvider(
        "ISSUER-A", StaffIdentity{"sub-1", "gina@example.org", {"staff"}}, RoleMap(), client_);
    ASSERT_TRUE(later);
    EXPECT_EQ(later->user.id, first->user.id);
    EXPECT_EQ(later->user.role, StaffRole::kViewer);
    const auto actions = Actions();
    EXPECT_EQ(std::count(actions.begin(), actions.end(), "staff_user.created"), 1);
    EXPECT_EQ(std::count(actions.begin(), actions.end(), "staff_user.role_changed"), 1);
    EXPECT_EQ(std::count(actions.begin(), actions.end(), "staff.login"), 2);
}

TEST_F(StaffServiceTest, AProviderLoginWithoutAMappedRoleOrForAnotherIssuersAccountIsRefused) {
    auto none = staff_->LoginWithProvider(
        "ISSUER-A", StaffIdentity{"sub-2", "hal@example.org", {"other"}}, RoleMap(), client_);
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().code, ErrorCode::kForbidden);
    EXPECT_FALSE(*InReadTransaction(
        db_, [&](Transaction& tx) { return tx.staff().FindUserByEmail("hal@example.org"); }));
    Enrolled("ola@example.org", StaffRole::kViewer, "ISSUER-B");
    auto foreign = staff_->LoginWithProvider(
        "ISSUER-A", StaffIdentity{"sub-3", "ola@example.org", {"firmo-admin"}}, RoleMap(), client_);
    ASSERT_FALSE(foreign);
    EXPECT_EQ(foreign.error().code, ErrorCode::kForbidden);
    auto bad = staff_->LoginWithProvider(
        "ISSUER-A", StaffIdentity{"sub-4", "not an address", {"staff"}}, RoleMap(), client_);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, ErrorCode::kUnauthenticated);
}

}  // namespace
}  // namespace firmo::domain
