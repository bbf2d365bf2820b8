// CeremonyService with a QTSP (signing.provider = "csc"), with fakes of the ports: the
// provider (QtspGateway) and the staged PDF signer. Confirmation prepares and waits for the
// provider; the callback queues the job that signs; a denial or an expiry gives the signer
// their turn back; provider errors are retried and end in FAILED; a replay signs nothing.

#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "core/encoding.hpp"
#include "domain/services/qtsp_service.hpp"
#include "domain/services/testing/signer_side_fixture.hpp"

namespace firmo::domain {
namespace {

using namespace fixtures;

class FakeProvider final : public QtspGateway {
  public:
    Result<QtspAuthorizationStart> StartAuthorization(
        const std::string& credential_id, const std::vector<std::string>& digests) override {
        ++started;
        authorized_digests = digests;
        const std::string state = "state-" + std::to_string(started);
        return QtspAuthorizationStart{"https://qtsp.example/oauth2/authorize?credentialID=" +
                                          credential_id + "&state=" + state,
                                      state, "verifier-" + std::to_string(started)};
    }
    // As the provider does: a code is single-use, a token signs once (numSignatures).
    Result<QtspToken> ExchangeCode(const std::string& sealed_code,
                                   const std::string& sealed_verifier) override {
        exchanges.push_back({sealed_code, sealed_verifier});
        if (!spent_codes.insert(sealed_code).second) {
            return Fail(ErrorCode::kGone,
                        "QTSP oauth2/token refused (HTTP 400 invalid_grant): invalid, used or "
                        "expired authorization code");
        }
        const std::string token = "sealed-token:" + sealed_code;
        live_tokens.insert(token);
        return QtspToken{token, std::chrono::seconds(300)};
    }
    Result<QtspCredential> FindCredential(const std::string& user_id) override {
        users.push_back(user_id);
        if (user_id == kLuigia) return Fail(ErrorCode::kNotFound, "no credential");
        return QtspCredential{"cred-1", SignerCredential{"cert", {"ca"}, 256}, "CN=Mario, SCAL 2"};
    }
    Result<std::string> Seal(const std::string& secret) override {
        if (seal_failures > 0) {
            --seal_failures;
            return Fail(ErrorCode::kInternal, "sealing failed");
        }
        return "sealed:" + secret;
    }
    Result<std::vector<std::string>> SignHashes(const std::string& sealed_token,
                                                const std::string& credential_id,
                                                const std::vector<std::string>& digests) override {
        signed_calls.push_back({sealed_token, credential_id, digests});
        if (failures > 0) {
            --failures;
            return Fail(failure,
                        "QTSP signatures/signHash refused (HTTP 400 invalid_request): "
                        "the credential is locked");
        }
        if (live_tokens.erase(sealed_token) == 0) {
            return Fail(ErrorCode::kForbidden,
                        "QTSP signatures/signHash refused (HTTP 401 "
                        "invalid_token)");
        }
        std::vector<std::string> values;
        for (std::size_t i = 0; i < digests.size(); ++i)
            values.push_back("value-" + std::to_string(i));
        return values;
    }

    struct Exchange {
        std::string sealed_code, sealed_verifier;
    };
    struct SignCall {
        std::string sealed_token, credential_id;
        std::vector<std::string> digests;
    };
    int started = 0;
    int failures = 0;
    ErrorCode failure = ErrorCode::kUnavailable;
    std::vector<std::string> authorized_digests;
    std::vector<std::string> users;
    std::vector<SignCall> signed_calls;
    std::vector<Exchange> exchanges;
    std::set<std::string> spent_codes;
    std::set<std::string> live_tokens;
    int seal_failures = 0;
};

// Prepare: the digest names the file and the field; Embed: appends the value.
class FakeStaged final : public StagedDocumentSigner {
  public:
    Result<StagedSignature> Prepare(const std::filesystem::path& in, const SignatureField& field,
                                    const SignatureDetails& details,
                                    const SignerCredential& credential) const override {
        std::ifstream src(in, std::ios::binary);
        std::string bytes(std::istreambuf_iterator<char>(src), {});
        std::string digest = bytes.substr(bytes.size() > 20 ? bytes.size() - 20 : 0);
        digest.resize(32, '#');
        prepared.push_back(details.reason + "|" + field.clause.title + "|" +
                           credential.certificate_der);
        return StagedSignature{"prepared:" + details.signer_name, digest};
    }
    Result<void> Embed(const std::filesystem::path& in, const std::filesystem::path& out,
                       const std::string& text, const std::string& value) const override {
        std::ifstream src(in, std::ios::binary);
        std::string bytes(std::istreambuf_iterator<char>(src), {});
        std::ofstream dst(out, std::ios::binary);
        dst << bytes << "%qtsp " << text << " " << value << "\n";
        return {};
    }
    mutable std::vector<std::string> prepared;
};

class CeremonyQtspTest : public SignerSideTest {
  protected:
    void SetUp() override {
        SignerSideTest::SetUp();
        qtsp_ = std::make_unique<QtspService>(*ctx_, provider_, ceremony_.get());
        ceremony_->UseQtsp({.service = qtsp_.get(), .gateway = &provider_, .staged = &staged_});
    }

    // Logs in, accepts and confirms: the URL for the provider.
    std::string Confirm(const SignatureRequest& r, const PortalSession& session) {
        EXPECT_TRUE(ceremony_->Open(session, r.id, client_));
        auto accepted = ceremony_->Accept(session, r.id, {{0, 0}}, client_);
        EXPECT_TRUE(accepted) << accepted.error().message;
        auto confirmed = ceremony_->Confirm(session, r.id, codes_.last().code, client_);
        EXPECT_TRUE(confirmed) << confirmed.error().message;
        if (!confirmed || !confirmed->qtsp_authorization_url) return "";
        return *confirmed->qtsp_authorization_url;
    }

    FakeProvider provider_;
    FakeStaged staged_;
    std::unique_ptr<QtspService> qtsp_;
};

TEST_F(CeremonyQtspTest, ConfirmationWaitsForTheProviderAndTheCallbackSigns) {
    auto r = MakeReadyRequest({{.identifier = kMario, .email = "mario@example.org"}});
    auto session = LoginByCode(r, 0);
    const std::string url = Confirm(r, session);
    EXPECT_EQ(url, "https://qtsp.example/oauth2/authorize?credentialID=cred-1&state=state-1");
    EXPECT_EQ(provider_.users, std::vector<std::string>{kMario});
    ASSERT_EQ(staged_.prepared.size(), 1U);
    EXPECT_EQ(staged_.prepared[0], "I accept the terms|I accept the terms|cert");
    EXPECT_EQ(Reload(r).status, RequestStatus::kWaitForQtsp);
    // Nothing is signed before the provider answers, and the built-in signer never signs.
    EXPECT_EQ(worker_->RunOnce(), 0);
    EXPECT_TRUE(document_signer_.calls.empty());
    auto pending = ceremony_->QtspAuthorizationUrl(session, r.id);
    ASSERT_TRUE(pending);
    EXPECT_EQ(pending->value_or(""), url);

    auto back = qtsp_->Callback({"state-1", "the-code", std::nullopt, std::nullopt});
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(*ceremony_->QtspAuthorizationUrl(session, r.id), std::nullopt);
    EXPECT_GT(worker_->RunOnce(), 0);
    auto after = Reload(r);
    EXPECT_EQ(after.status, RequestStatus::kSigned);
    EXPECT_EQ(after.signers[0].status, SignerStatus::kSigned);
    ASSERT_EQ(provider_.exchanges.size(), 1U);
    EXPECT_EQ(provider_.exchanges[0].sealed_code, "sealed:the-code");  // never in clear at rest
    EXPECT_EQ(provider_.exchanges[0].sealed_verifier, "verifier-1");
    ASSERT_EQ(provider_.signed_calls.size(), 1U);
    const auto& call = provider_.signed_calls[0];
    EXPECT_EQ(call.sealed_token, "sealed-token:sealed:the-code");
    EXPECT_EQ(call.credential_id, "cred-1");
    EXPECT_EQ(call.digests, provider_.authorized_digests);  // what was authorized, exactly
    const std::string signed_pdf = Blob(*after.documents[0].signed_blob_key);
    EXPECT_NE(signed_pdf.find("%qtsp prepared:"), std::string::npos);
    EXPECT_NE(signed_pdf.find(" value-0\n"), std::string::npos);
    auto events = Events(r);
    for (const char* type : {"signer.qtsp_credential", "signer.qtsp_redirected",
                             "signer.qtsp_authorized", "signer.qtsp_token", "signer.qtsp_signed",
                             "document.signed", "signature_request.signed"}) {
        EXPECT_EQ(Count(events, type), 1) << type;
    }
    for (const auto& e : events) EXPECT_EQ(e.detail.find("the-code"), std::string::npos);
    // Signed: no secret stays on the authorization's row.
    auto row = *qtsp_->Find(hasher_.Sha256Hex("state-1"));
    ASSERT_TRUE(row);
    EXPECT_EQ(row->sealed_code, "");
    EXPECT_EQ(row->sealed_token, "");
    EXPECT_FALSE(row->token_expires_at);

    // A replayed callback signs nothing.
    auto replay = qtsp_->Callback({"state-1", "the-code", std::nullopt, std::nullopt});
    ASSERT_FALSE(replay);
    EXPECT_EQ(replay.error().code, ErrorCode::kGone);
    EXPECT_EQ(worker_->RunOnce(), 0);
    EXPECT_EQ(provider_.signed_calls.size(), 1U);
}

TEST_F(CeremonyQtspTest, ADenialGivesTheTurnBackAndTheSignerSignsOnASecondTry) {
    auto r = MakeReadyRequest({{.identifier = kMario, .email = "mario@example.org"}});
    auto session = LoginByCode(r, 0);
    ASSERT_FALSE(Confirm(r, session).empty());
    auto denied = qtsp_->Callback({"state-1", std::nullopt, "access_denied", "said no"});
    ASSERT_TRUE(denied) << denied.error().message;
    auto after = Reload(r);
    EXPECT_EQ(after.status, RequestStatus::kWaitForSignature);
    EXPECT_FALSE(after.signers[0].confirmed_at);
    EXPECT_EQ(Count(Events(r), "signature_request.qtsp_not_authorized"), 1);
    EXPECT_EQ(worker_->RunOnce(), 0);

    ASSERT_FALSE(Confirm(r, session).empty());
    ASSERT_TRUE(qtsp_->Callback({"state-2", "code-2", std::nullopt, std::nullopt}));
    EXPECT_GT(worker_->RunOnce(), 0);
    EXPECT_EQ(Reload(r).status, RequestStatus::kSigned);
    EXPECT_EQ(provider_.signed_calls.size(), 1U);
}

TEST_F(CeremonyQtspTest, AnExpiredAuthorizationGivesTheTurnBackAtTheNextLook) {
    auto r = MakeReadyRequest({{.identifier = kMario, .email = "mario@example.org"}});
    auto session = LoginByCode(r, 0);
    ASSERT_FALSE(Confirm(r, session).empty());
    clock_.Advance(16min);
    EXPECT_EQ(*ceremony_->QtspAuthorizationUrl(session, r.id), std::nullopt);
    auto after = Reload(r);
    EXPECT_EQ(after.status, RequestStatus::kWaitForSignature);
    EXPECT_FALSE(after.signers[0].confirmed_at);
    // The provider's late answer changes nothing.
    EXPECT_EQ(qtsp_->Callback({"state-1", "late", std::nullopt, std::nullopt}).error().code,
              ErrorCode::kGone);
    EXPECT_EQ(worker_->RunOnce(), 0);
    // The sweep, an hour on, deletes the authorization; the signer can still try again.
    clock_.Advance(2h);
    EXPECT_EQ(*qtsp_->Sweep(), 1);
    ASSERT_FALSE(Confirm(r, session).empty());
    EXPECT_EQ(Reload(r).status, RequestStatus::kWaitForQtsp);
}

TEST_F(CeremonyQtspTest, NoCredentialAtTheProviderLeavesTheSignerTheirTurn) {
    auto r = MakeReadyRequest({{.identifier = kLuigia, .email = "luigia@example.org"}});
    auto session = LoginByCode(r, 0);
    ASSERT_TRUE(ceremony_->Open(session, r.id, client_));
    ASSERT_TRUE(ceremony_->Accept(session, r.id, {{0, 0}}, client_));
    auto confirmed = ceremony_->Confirm(session, r.id, codes_.last().code, client_);
    ASSERT_FALSE(confirmed);
    EXPECT_EQ(confirmed.error().code, ErrorCode::kNotFound);
    auto after = Reload(r);
    EXPECT_EQ(after.status, RequestStatus::kWaitForSignature);
    EXPECT_FALSE(after.signers[0].confirmed_at);
}

TEST_F(CeremonyQtspTest, ProviderErrorsAreRetriedThenTheRequestFailsWithTheReason) {
    auto r = MakeReadyRequest({{.identifier = kMario, .email = "mario@example.org"}});
    auto session = LoginByCode(r, 0);
    ASSERT_FALSE(Confirm(r, session).empty());
    provider_.failures = 10;
    ASSERT_TRUE(qtsp_->Callback({"state-1", "code-1", std::nullopt, std::nullopt}));
    EXPECT_GT(worker_->RunOnce(), 0);  // attempt 1 fails
    EXPECT_EQ(Reload(r).status, RequestStatus::kWaitForQtsp);
    clock_.Advance(1min);
    EXPECT_GT(worker_->RunOnce(), 0);  // attempt 2 (the fixture's last) fails
    auto after = Reload(r);
    EXPECT_EQ(after.status, RequestStatus::kFailed);
    EXPECT_EQ(provider_.signed_calls.size(), 2U);
    auto events = Events(r);
    EXPECT_EQ(Count(events, "signer.qtsp_sign_failed"), 2);
    bool reason = false;
    for (const auto& e : events) {
        if (e.type == "signature_request.failed") {
            reason = e.detail.find("the credential is locked") != std::string::npos;
        }
    }
    EXPECT_TRUE(reason);
}

TEST_F(CeremonyQtspTest, ARetryAfterAPassingErrorSigns) {
    auto r = MakeReadyRequest({{.identifier = kMario, .email = "mario@example.org"}});
    auto session = LoginByCode(r, 0);
    ASSERT_FALSE(Confirm(r, session).empty());
    provider_.failures = 1;
    ASSERT_TRUE(qtsp_->Callback({"state-1", "code-1", std::nullopt, std::nullopt}));
    EXPECT_GT(worker_->RunOnce(), 0);
    clock_.Advance(1min);
    EXPECT_GT(worker_->RunOnce(), 0);
    EXPECT_EQ(Reload(r).status, RequestStatus::kSigned);
}

// Another node (or this one after a restart) picks up the retry: it must use the token the
// first attempt got, not exchange the single-use code again.
TEST_F(CeremonyQtspTest, ARetryOnAnotherNodeUsesTheTokenOfTheFirstExchange) {
    auto r = MakeReadyRequest({{.identifier = kMario, .email = "mario@example.org"}});
    auto session = LoginByCode(r, 0);
    ASSERT_FALSE(Confirm(r, session).empty());
    provider_.failures = 1;  // signHash: 503 once
    ASSERT_TRUE(qtsp_->Callback({"state-1", "code-1", std::nullopt, std::nullopt}));
    EXPECT_GT(worker_->RunOnce(), 0);  // node A: exchange, then signHash fails
    EXPECT_EQ(Reload(r).status, RequestStatus::kWaitForQtsp);
    auto row = *qtsp_->Find(hasher_.Sha256Hex("state-1"));
    ASSERT_TRUE(row);
    EXPECT_EQ(row->sealed_token, "sealed-token:sealed:code-1");  // sealed, where all nodes see it
    EXPECT_EQ(row->token_expires_at, clock_.Now() + 270s);       // the provider's 300 s, less 30

    // Node B: services and a worker of its own, the same database and blob store.
    CeremonyService ceremony_b(*ctx_, *sessions_, trust_, document_signer_);
    QtspService qtsp_b(*ctx_, provider_, &ceremony_b);
    ceremony_b.UseQtsp({.service = &qtsp_b, .gateway = &provider_, .staged = &staged_});
    jobs::WorkerOptions options;
    options.max_attempts = 2;
    jobs::Worker worker_b(*db_, *requests_, ceremony_b, *worker_events_, signal_, clock_, options);
    worker_.reset();  // node A is gone
    clock_.Advance(1min);
    EXPECT_GT(worker_b.RunOnce(), 0);
    EXPECT_EQ(Reload(r).status, RequestStatus::kSigned);
    EXPECT_EQ(provider_.exchanges.size(), 1U);  // the code was exchanged once
    EXPECT_EQ(provider_.signed_calls.size(), 2U);
    EXPECT_EQ(provider_.signed_calls[1].sealed_token, "sealed-token:sealed:code-1");
    // Every call in the audit log: one exchange, a failed and a good signHash; no secret.
    auto events = Events(r);
    EXPECT_EQ(Count(events, "signer.qtsp_token"), 1);
    EXPECT_EQ(Count(events, "signer.qtsp_sign_failed"), 1);
    EXPECT_EQ(Count(events, "signer.qtsp_signed"), 1);
    for (const auto& e : events) {
        EXPECT_EQ(e.detail.find("code-1"), std::string::npos) << e.type;
        EXPECT_EQ(e.detail.find("sealed:"), std::string::npos) << e.type;
        EXPECT_EQ(e.detail.find("sealed-token"), std::string::npos) << e.type;
    }
}

// A kept token the provider no longer honours is not used: the job exchanges again (which the
// provider refuses for a spent code, and the request ends with that reason).
TEST_F(CeremonyQtspTest, AnExpiredTokenIsNotUsed) {
    auto r = MakeReadyRequest({{.identifier = kMario, .email = "mario@example.org"}});
    auto session = LoginByCode(r, 0);
    ASSERT_FALSE(Confirm(r, session).empty());
    provider_.failures = 1;
    ASSERT_TRUE(qtsp_->Callback({"state-1", "code-1", std::nullopt, std::nullopt}));
    EXPECT_GT(worker_->RunOnce(), 0);
    clock_.Advance(5min);
    EXPECT_GT(worker_->RunOnce(), 0);
    EXPECT_EQ(provider_.exchanges.size(), 2U);
    EXPECT_EQ(provider_.signed_calls.size(), 1U);
    EXPECT_EQ(Reload(r).status, RequestStatus::kFailed);
}

// The callback claims the authorization and queues the signing job in one transaction: when
// that fails half-way, nothing is claimed, so the signer is never left in WAIT_FOR_QTSP with
// no job; the provider's redirect, reloaded, signs.
TEST_F(CeremonyQtspTest, ACallbackThatCannotQueueTheJobClaimsNothing) {
    auto r = MakeReadyRequest({{.identifier = kMario, .email = "mario@example.org"}});
    auto session = LoginByCode(r, 0);
    ASSERT_FALSE(Confirm(r, session).empty());
    provider_.seal_failures = 1;
    auto failed = qtsp_->Callback({"state-1", "code-1", std::nullopt, std::nullopt});
    ASSERT_FALSE(failed);
    EXPECT_EQ(Count(Events(r), "signer.qtsp_authorized"), 0);
    EXPECT_EQ(worker_->RunOnce(), 0);
    EXPECT_FALSE((*qtsp_->Find(hasher_.Sha256Hex("state-1")))->finished_at);
    ASSERT_TRUE(qtsp_->Callback({"state-1", "code-1", std::nullopt, std::nullopt}));
    EXPECT_GT(worker_->RunOnce(), 0);
    EXPECT_EQ(Reload(r).status, RequestStatus::kSigned);
}

// Left alone after such a failure, the authorization expires and the signer gets their turn.
TEST_F(CeremonyQtspTest, AnUnqueuedAuthorizationExpiresAndGivesTheTurnBack) {
    auto r = MakeReadyRequest({{.identifier = kMario, .email = "mario@example.org"}});
    auto session = LoginByCode(r, 0);
    ASSERT_FALSE(Confirm(r, session).empty());
    provider_.seal_failures = 1;
    ASSERT_FALSE(qtsp_->Callback({"state-1", "code-1", std::nullopt, std::nullopt}));
    clock_.Advance(16min);
    EXPECT_EQ(*ceremony_->QtspAuthorizationUrl(session, r.id), std::nullopt);
    auto after = Reload(r);
    EXPECT_EQ(after.status, RequestStatus::kWaitForSignature);
    EXPECT_FALSE(after.signers[0].confirmed_at);
}

}  // namespace
}  // namespace firmo::domain
