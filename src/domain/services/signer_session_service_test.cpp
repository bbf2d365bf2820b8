// SignerSessionService: sessions, link + code logins, one-time codes, direct-flow redirect
// tokens. Here rather than beside the service in src/domain/services because it needs the real
// store and hasher, which only this test binary links (see jobs/testing/signer_side_fixture.hpp).

#include "domain/services/signer_session_service.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "domain/services/testing/signer_side_fixture.hpp"

namespace firmo::domain {
namespace {

using namespace firmo::domain;
using namespace firmo::domain::fixtures;
using namespace std::chrono_literals;

class SignerSessionTest : public SignerSideTest {
  protected:
    void SetUp() override {
        SignerSideTest::SetUp();
        request_ = MakeReadyRequest({{IdentifierKind::kItFiscalCode, kMario, "mario@example.org"}});
        signer_id_ = request_.signers[0].signer_id;
    }

    Result<SessionHandle> LoginWith(const std::string& code, std::string_view old_token = "") {
        return sessions_->LoginWithCode(old_token, request_.id, signer_id_, code, client_);
    }
    std::string SendLoginCode() {
        auto sent = sessions_->SendCode(request_.id, signer_id_, CodeKind::kLogin, client_);
        EXPECT_TRUE(sent) << sent.error().message;
        return codes_.sent.empty() ? "" : codes_.last().code;
    }
    // A well-formed code that is not `code`.
    static std::string WrongCode(const std::string& code) {
        return code == "000000" ? "000001" : "000000";
    }
    RequestSigner Signer0() { return Reload(request_).signers[0]; }
    std::optional<OneTimeCode> LatestCode(CodeKind kind) {
        auto tx = db_->Begin(TxMode::kRead);
        EXPECT_TRUE(tx);
        auto code = (*tx)->codes().FindLatest(request_.id, signer_id_, kind);
        EXPECT_TRUE(code);
        return code ? *code : std::nullopt;
    }

    SignatureRequest request_;
    std::string signer_id_;
};

// ---- Codes ---------------------------------------------------------------------------------

TEST_F(SignerSessionTest, CodesAreSixDigitsSentToTheSignerAndStoredOnlyHashed) {
    for (int i = 0; i < 5; ++i) {
        auto sent = sessions_->SendCode(request_.id, signer_id_, CodeKind::kLogin, client_);
        ASSERT_TRUE(sent) << sent.error().message;
        EXPECT_EQ(sent->channel, CodeChannel::kEmail);
        EXPECT_EQ(sent->masked_destination, "m***@example.org");
        EXPECT_EQ(sent->expires_at, clock_.Now() + sessions_->options().code_ttl);
        const CodeMessage& message = codes_.last();
        ASSERT_EQ(message.code.size(), 6u);
        EXPECT_TRUE(std::all_of(message.code.begin(), message.code.end(), [](char c) {
            return c >= '0' && c <= '9';
        })) << message.code;
        EXPECT_EQ(message.to, "mario@example.org");
        EXPECT_EQ(message.channel, CodeChannel::kEmail);
        EXPECT_EQ(message.purpose, CodePurpose::kLogin);
        EXPECT_EQ(message.title, "Comune di Roma");  // the issuer, never the document
        EXPECT_EQ(message.expires_at, sent->expires_at);

        const auto row = LatestCode(CodeKind::kLogin);
        ASSERT_TRUE(row);
        for (const std::string* column :
             {&row->id, &row->request_id, &row->signer_id, &row->code_hash}) {
            EXPECT_EQ(column->find(message.code), std::string::npos) << *column;
        }
        EXPECT_EQ(row->code_hash.size(), 64u);  // SHA-256 hex
        EXPECT_FALSE(row->used_at);
        // The audit line names where the code went, never the code.
        const auto events = Events(request_);
        ASSERT_FALSE(events.empty());
        EXPECT_EQ(events.back().type, "signer.code_sent");
        EXPECT_EQ(events.back().detail.find(message.code), std::string::npos);
        clock_.Advance(sessions_->options().code_resend_interval);
    }
    EXPECT_EQ(codes_.sent.size(), 5u);
}

TEST_F(SignerSessionTest, ACorrectCodeLogsInOnce) {
    const std::string code = SendLoginCode();
    auto handle = LoginWith(code);
    ASSERT_TRUE(handle) << handle.error().message;
    EXPECT_EQ(handle->session.auth_method, "code");
    EXPECT_EQ(handle->session.request_id, request_.id);
    EXPECT_EQ(handle->session.signer_id, signer_id_);
    EXPECT_EQ(handle->session.authenticated_at, clock_.Now());
    EXPECT_EQ(handle->session.expires_at, clock_.Now() + sessions_->options().session_ttl);
    EXPECT_FALSE(LatestCode(CodeKind::kLogin));  // used up

    auto again = LoginWith(code);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, ErrorCode::kUnauthenticated);
    EXPECT_EQ(Count(Events(request_), "signer.code_accepted"), 1);
}

TEST_F(SignerSessionTest, AnExpiredCodeIsGone) {
    const std::string code = SendLoginCode();
    clock_.Advance(sessions_->options().code_ttl);
    auto late = LoginWith(code);
    ASSERT_FALSE(late);
    EXPECT_EQ(late.error().code, ErrorCode::kGone);
    EXPECT_EQ(Signer0().failed_code_attempts, 0);  // the person was right, only late
    // A new code works.
    auto fresh = LoginWith(SendLoginCode());
    EXPECT_TRUE(fresh) << fresh.error().message;
}

TEST_F(SignerSessionTest, CodesOfOneKindDoNotOpenTheOther) {
    auto sent = sessions_->SendCode(request_.id, signer_id_, CodeKind::kConfirm, client_);
    ASSERT_TRUE(sent);
    EXPECT_EQ(codes_.last().purpose, CodePurpose::kConfirm);
    auto login = LoginWith(codes_.last().code);
    ASSERT_FALSE(login);
    EXPECT_EQ(login.error().code, ErrorCode::kUnauthenticated);
    EXPECT_TRUE(LatestCode(CodeKind::kConfirm));  // still usable for its own purpose
}

TEST_F(SignerSessionTest, ResendingIsThrottledAndTheNewCodeReplacesTheOld) {
    const std::string first = SendLoginCode();
    auto soon = sessions_->SendCode(request_.id, signer_id_, CodeKind::kLogin, client_);
    ASSERT_FALSE(soon);
    EXPECT_EQ(soon.error().code, ErrorCode::kRateLimited);
    EXPECT_EQ(codes_.sent.size(), 1u);
    clock_.Advance(sessions_->options().code_resend_interval - 1s);
    EXPECT_FALSE(sessions_->SendCode(request_.id, signer_id_, CodeKind::kLogin, client_));
    clock_.Advance(1s);
    const std::string second = SendLoginCode();
    EXPECT_EQ(codes_.sent.size(), 2u);
    if (first != second) {
        auto old = LoginWith(first);
        ASSERT_FALSE(old);
        EXPECT_EQ(old.error().code, ErrorCode::kUnauthenticated);
    }
    EXPECT_TRUE(LoginWith(second));
    // Once the code was used, a new one may be asked for at once (the next login).
    EXPECT_TRUE(sessions_->SendCode(request_.id, signer_id_, CodeKind::kLogin, client_));
}

TEST_F(SignerSessionTest, FiveWrongCodesBlockTheSigner) {
    const std::string code = SendLoginCode();
    const int max = sessions_->options().max_code_attempts;
    ASSERT_EQ(max, 5);
    for (int i = 1; i < max; ++i) {
        auto wrong = LoginWith(WrongCode(code));
        ASSERT_FALSE(wrong);
        EXPECT_EQ(wrong.error().code, ErrorCode::kUnauthenticated);
        EXPECT_NE(wrong.error().message.find(std::to_string(max - i)), std::string::npos)
            << wrong.error().message;
        EXPECT_EQ(Signer0().failed_code_attempts, i);
        EXPECT_EQ(Signer0().status, SignerStatus::kWaiting);
    }
    auto last = LoginWith("12345x");  // malformed codes count too
    ASSERT_FALSE(last);
    EXPECT_EQ(last.error().code, ErrorCode::kForbidden);
    EXPECT_EQ(Signer0().status, SignerStatus::kBlocked);
    EXPECT_EQ(Signer0().failed_code_attempts, max);

    const auto events = Events(request_);
    EXPECT_EQ(Count(events, "signer.code_rejected"), max);
    ASSERT_EQ(Count(events, "signer.blocked"), 1);
    const auto blocked = std::find_if(events.begin(), events.end(), [](const AuditEvent& e) {
        return e.type == "signer.blocked";
    });
    EXPECT_EQ(blocked->signer_id, signer_id_);
    EXPECT_EQ(blocked->from_status, "WAITING");
    EXPECT_EQ(blocked->to_status, "BLOCKED");

    // Blocked: even the right code is refused, and no new code is sent.
    auto right = LoginWith(code);
    ASSERT_FALSE(right);
    EXPECT_EQ(right.error().code, ErrorCode::kForbidden);
    EXPECT_TRUE(LatestCode(CodeKind::kLogin));  // not used up by the refused attempt
    clock_.Advance(1h);
    auto resend = sessions_->SendCode(request_.id, signer_id_, CodeKind::kLogin, client_);
    ASSERT_FALSE(resend);
    EXPECT_EQ(resend.error().code, ErrorCode::kForbidden);
    EXPECT_EQ(codes_.sent.size(), 1u);
}

TEST_F(SignerSessionTest, ACorrectCodeResetsTheWrongCodeCounter) {
    const std::string code = SendLoginCode();
    for (int i = 0; i < 4; ++i) EXPECT_FALSE(LoginWith(WrongCode(code)));
    EXPECT_EQ(Signer0().failed_code_attempts, 4);
    ASSERT_TRUE(LoginWith(code));
    EXPECT_EQ(Signer0().failed_code_attempts, 0);
    // Four more wrong ones do not block: the count started again.
    clock_.Advance(1min);
    const std::string next = SendLoginCode();
    for (int i = 0; i < 4; ++i) EXPECT_FALSE(LoginWith(WrongCode(next)));
    EXPECT_EQ(Signer0().status, SignerStatus::kWaiting);
    EXPECT_TRUE(LoginWith(next));
}

TEST_F(SignerSessionTest, CodesAreRefusedOnceTheSignerIsDone) {
    ASSERT_TRUE(requests_->ChangeStatus(issuer_, request_.id, RequestedStatus::kCancelled, "test"));
    auto sent = sessions_->SendCode(request_.id, signer_id_, CodeKind::kLogin, client_);
    ASSERT_FALSE(sent);
    EXPECT_EQ(sent.error().code, ErrorCode::kConflict);
    EXPECT_TRUE(codes_.sent.empty());
}

// The signer's copy (issue 16): a signer who signed a SIGNED request logs in again with the link
// and a fresh code, past the request's deadline, and reads the signed documents for
// signer_copy_ttl after the end; then neither codes nor documents.
TEST_F(SignerSessionTest, ASignerLogsInAgainForTheirCopyUntilItIsNoLongerKept) {
    SignAs(request_, 0, LoginByCode(request_, 0));
    const SignatureRequest signed_request = Reload(request_);
    ASSERT_EQ(signed_request.status, RequestStatus::kSigned);
    const std::string doc_id = signed_request.documents[0].id;
    clock_.Advance(72h);  // past the request's expires_at (48 h), within the 30 days kept
    const PortalSession session = LoginByCode(request_, 0);
    ASSERT_TRUE(session.authenticated());
    auto copy = ceremony_->DocumentBytes(session, request_.id, doc_id);
    ASSERT_TRUE(copy) << copy.error().message;
    EXPECT_EQ(copy->bytes, Blob(*signed_request.documents[0].CurrentBlobKey()));
    const Timestamp until = *signed_request.signed_at + 24h * 30;
    EXPECT_EQ(SignerCopyUntil(signed_request, 24h * 30), until);

    clock_.Set(until - 1min);
    const PortalSession last = LoginByCode(request_, 0);  // a minute before the end: still kept
    clock_.Set(until);
    auto late = sessions_->SendCode(request_.id, signer_id_, CodeKind::kLogin, client_);
    ASSERT_FALSE(late);
    EXPECT_EQ(late.error().code, ErrorCode::kGone);
    auto refused = ceremony_->DocumentBytes(last, request_.id, doc_id);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, ErrorCode::kGone);
}

// Wrong codes for the copy close the copy's login; the signer who signed stays SIGNED.
TEST_F(SignerSessionTest, WrongCodesForTheCopyDoNotUnsignTheSigner) {
    SignAs(request_, 0, LoginByCode(request_, 0));
    ASSERT_EQ(Reload(request_).status, RequestStatus::kSigned);
    clock_.Advance(1h);
    const std::string next = SendLoginCode();
    for (int i = 0; i < 4; ++i) {
        auto wrong = LoginWith(WrongCode(next));
        ASSERT_FALSE(wrong);
        EXPECT_EQ(wrong.error().code, ErrorCode::kUnauthenticated);
    }
    auto last = LoginWith(WrongCode(next));
    ASSERT_FALSE(last);
    EXPECT_EQ(last.error().code, ErrorCode::kForbidden);
    EXPECT_FALSE(LoginWith(next));  // even the right one, now
    const SignatureRequest after = Reload(request_);
    EXPECT_EQ(after.status, RequestStatus::kSigned);
    EXPECT_EQ(after.signers[0].status, SignerStatus::kSigned);
    clock_.Advance(1min);
    auto more = sessions_->SendCode(request_.id, signer_id_, CodeKind::kLogin, client_);
    ASSERT_FALSE(more);
    EXPECT_EQ(more.error().code, ErrorCode::kForbidden);
}

TEST_F(SignerSessionTest, CodesForUnknownRequestsOrSignersAreNotFound) {
    auto unknown = sessions_->SendCode("01NOSUCHREQUEST", signer_id_, CodeKind::kLogin, client_);
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
    auto stranger = sessions_->SendCode(request_.id, "01NOSUCHSIGNER", CodeKind::kLogin, client_);
    ASSERT_FALSE(stranger);
    EXPECT_EQ(stranger.error().code, ErrorCode::kNotFound);
    EXPECT_TRUE(codes_.sent.empty());
}

// ---- Sessions ------------------------------------------------------------------------------

TEST_F(SignerSessionTest, AnonymousSessionsAreStoredByTokenHash) {
    auto started = sessions_->Start(client_);
    ASSERT_TRUE(started);
    EXPECT_GE(started->token.size(), 40u);
    const PortalSession& s = started->session;
    EXPECT_FALSE(s.authenticated());
    EXPECT_FALSE(s.csrf_token.empty());
    EXPECT_EQ(s.ip, client_.ip);
    EXPECT_EQ(s.user_agent, client_.user_agent);
    EXPECT_EQ(s.expires_at, clock_.Now() + sessions_->options().anonymous_ttl);
    EXPECT_EQ(s.id_hash, sessions_->HashToken(started->token));
    EXPECT_NE(s.id_hash, started->token);

    auto found = sessions_->Find(started->token);
    ASSERT_TRUE(found);
    EXPECT_EQ(found->csrf_token, s.csrf_token);
    EXPECT_FALSE(found->authenticated());
    {
        auto tx = db_->Begin(TxMode::kRead);
        ASSERT_TRUE(tx);
        EXPECT_FALSE(*(*tx)->sessions().Find(started->token));  // the token itself is not a key
    }
    // An anonymous session reaches no request.
    auto access = sessions_->Access(*found, request_.id);
    ASSERT_FALSE(access);
    EXPECT_EQ(access.error().code, ErrorCode::kUnauthenticated);
    // Two sessions never share a token.
    auto other = sessions_->Start(client_);
    ASSERT_TRUE(other);
    EXPECT_NE(other->token, started->token);
    EXPECT_NE(other->session.csrf_token, s.csrf_token);
}

TEST_F(SignerSessionTest, UnknownOrOversizedTokensAreUnauthenticated) {
    for (const std::string& token : {std::string(), std::string("nope"), std::string(200, 'a')}) {
        auto found = sessions_->Find(token);
        ASSERT_FALSE(found);
        EXPECT_EQ(found.error().code, ErrorCode::kUnauthenticated);
    }
}

TEST_F(SignerSessionTest, SessionsExpire) {
    auto anonymous = sessions_->Start(client_);
    ASSERT_TRUE(anonymous);
    const std::string code = SendLoginCode();
    auto logged_in = LoginWith(code);
    ASSERT_TRUE(logged_in);
    clock_.Advance(sessions_->options().anonymous_ttl - 1ms);
    EXPECT_TRUE(sessions_->Find(anonymous->token));
    clock_.Advance(1ms);
    auto gone = sessions_->Find(anonymous->token);
    ASSERT_FALSE(gone);
    EXPECT_EQ(gone.error().code, ErrorCode::kUnauthenticated);
    EXPECT_TRUE(sessions_->Find(logged_in->token));  // an authenticated session lives longer
    clock_.Advance(sessions_->options().session_ttl - sessions_->options().anonymous_ttl);
    auto expired = sessions_->Find(logged_in->token);
    ASSERT_FALSE(expired);
    EXPECT_EQ(expired.error().code, ErrorCode::kUnauthenticated);
}

TEST_F(SignerSessionTest, LoginRotatesTheToken) {
    auto anonymous = sessions_->Start(client_);
    ASSERT_TRUE(anonymous);
    auto by_code = LoginWith(SendLoginCode(), anonymous->token);
    ASSERT_TRUE(by_code);
    EXPECT_NE(by_code->token, anonymous->token);
    EXPECT_NE(by_code->session.csrf_token, anonymous->session.csrf_token);
    auto old = sessions_->Find(anonymous->token);
    ASSERT_FALSE(old);
    EXPECT_EQ(old.error().code, ErrorCode::kUnauthenticated);
    auto found = sessions_->Find(by_code->token);
    ASSERT_TRUE(found);
    EXPECT_EQ(found->auth_method, "code");
    EXPECT_EQ(found->request_id, request_.id);

    VerifiedIdentity identity;
    identity.kind = IdentifierKind::kItFiscalCode;
    identity.identifier = kMario;
    identity.full_name = "Mario Rossi";
    identity.auth_time = clock_.Now() - 5s;
    auto by_eid = sessions_->LoginWithIdentity(by_code->token, identity, client_);
    ASSERT_TRUE(by_eid);
    EXPECT_NE(by_eid->token, by_code->token);
    EXPECT_FALSE(sessions_->Find(by_code->token));
    auto person = sessions_->Find(by_eid->token);
    ASSERT_TRUE(person);
    EXPECT_EQ(person->auth_method, "oidc");
    EXPECT_EQ(person->identity_kind, IdentifierKind::kItFiscalCode);
    EXPECT_EQ(person->identity, kMario);
    EXPECT_EQ(person->full_name, "Mario Rossi");
    // The login is not a re-authentication, however recent.
    EXPECT_FALSE(person->reauthenticated_at);
    EXPECT_TRUE(person->request_id.empty());

    ASSERT_TRUE(sessions_->End(by_eid->token));
    EXPECT_FALSE(sessions_->Find(by_eid->token));
}

TEST_F(SignerSessionTest, AnIdentitySessionSeesEveryRequestNamingThatPerson) {
    // The same fiscal code at another issuer: an eID names the person, not an issuer's signer,
    // and the inbox already lists messages across issuers, so Access follows the person too.
    const std::string issuer_b = MakeIssuer("ISSUER-B", "Regione Lazio");
    const SignatureRequest at_b =
        MakeReadyRequest({{IdentifierKind::kItFiscalCode, kMario, "m@example.org"}}, OneDocument(),
                         std::nullopt, issuer_b);
    const SignatureRequest not_mine =
        MakeReadyRequest({{IdentifierKind::kItFiscalCode, kGiovanni, "giovanni@example.org"}});
    const SignatureRequest second_signer = MakeReadyRequest(
        {{IdentifierKind::kItFiscalCode, kGiovanni, "giovanni@example.org"},
         {IdentifierKind::kItFiscalCode, kMario, "mario@example.org", std::nullopt, 1}});

    const PortalSession mario = LoginByIdentity(IdentifierKind::kItFiscalCode, kMario);
    auto own = sessions_->Access(mario, request_.id);
    ASSERT_TRUE(own) << own.error().message;
    EXPECT_EQ(own->signer.id, signer_id_);
    EXPECT_EQ(own->position, 0u);

    auto other_issuer = sessions_->Access(mario, at_b.id);
    ASSERT_TRUE(other_issuer) << other_issuer.error().message;
    EXPECT_EQ(other_issuer->request.issuer_id, issuer_b);
    EXPECT_EQ(other_issuer->signer.issuer_id, issuer_b);
    EXPECT_EQ(other_issuer->signer.id, at_b.signers[0].signer_id);

    auto position = sessions_->Access(mario, second_signer.id);
    ASSERT_TRUE(position);
    EXPECT_EQ(position->position, 1u);

    auto refused = sessions_->Access(mario, not_mine.id);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, ErrorCode::kNotFound);
    auto unknown = sessions_->Access(mario, "01NOSUCHREQUEST");
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);

    // The same digits under another kind of identifier are another person.
    PortalSession impostor = mario;
    impostor.identity_kind = IdentifierKind::kNoNationalId;
    auto wrong_kind = sessions_->Access(impostor, request_.id);
    ASSERT_FALSE(wrong_kind);
    EXPECT_EQ(wrong_kind.error().code, ErrorCode::kNotFound);
}

TEST_F(SignerSessionTest, ALinkSessionSeesOnlyItsRequest) {
    const SignatureRequest other = MakeReadyRequest(
        {{IdentifierKind::kItFiscalCode, kMario, "mario@example.org"}});  // same person
    const PortalSession session = LoginByCode(request_, 0);
    auto own = sessions_->Access(session, request_.id);
    ASSERT_TRUE(own) << own.error().message;
    EXPECT_EQ(own->signer.id, signer_id_);
    auto elsewhere = sessions_->Access(session, other.id);
    ASSERT_FALSE(elsewhere);
    EXPECT_EQ(elsewhere.error().code, ErrorCode::kNotFound);
}

TEST_F(SignerSessionTest, ReauthenticationMustBeTheSamePerson) {
    auto link = LoginWith(SendLoginCode());
    ASSERT_TRUE(link);
    VerifiedIdentity other;
    other.kind = IdentifierKind::kItFiscalCode;
    other.identifier = kGiovanni;
    other.auth_time = clock_.Now();
    auto refused = sessions_->Reauthenticated(link->token, other);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, ErrorCode::kForbidden);
    EXPECT_FALSE(sessions_->Find(link->token)->reauthenticated_at);
    VerifiedIdentity same = other;
    same.identifier = kMario;
    same.full_name = "Mario Rossi";
    ASSERT_TRUE(sessions_->Reauthenticated(link->token, same));
    auto after = sessions_->Find(link->token);
    ASSERT_TRUE(after);
    EXPECT_EQ(after->reauthenticated_at, clock_.Now());  // our clock, not the provider's
    EXPECT_EQ(after->full_name, "Mario Rossi");
}

// ---- Direct flow: redirect and status_query tokens ------------------------------------------

class RedirectTokenTest : public SignerSideTest {
  protected:
    void SetUp() override {
        SignerSideTest::SetUp();
        request_ = MakeReadyRequest({{IdentifierKind::kItFiscalCode, kMario, "mario@example.org"}},
                                    OneDocument(), Urls());
    }
    static RedirectUrls Urls() {
        return {"https://shop.example/done", "https://shop.example/rejected?x=1",
                "https://shop.example/error"};
    }
    std::string Issue(std::chrono::minutes ttl = 60min) {
        auto tokens = requests_->IssueRedirectTokens(issuer_, request_.id, std::nullopt, ttl);
        EXPECT_TRUE(tokens) << tokens.error().message;
        if (!tokens || tokens->size() != 1) return "";
        EXPECT_EQ((*tokens)[0].first, request_.signers[0].signer_id);
        return (*tokens)[0].second;
    }

    SignatureRequest request_;
};

TEST_F(RedirectTokenTest, ARedirectTokenOpensOneSessionOnce) {
    const std::string token = Issue();
    auto anonymous = sessions_->Start(client_);
    ASSERT_TRUE(anonymous);
    auto handle = sessions_->LoginWithRedirect(anonymous->token, token, client_);
    ASSERT_TRUE(handle) << handle.error().message;
    EXPECT_EQ(handle->session.auth_method, "redirect");
    EXPECT_EQ(handle->session.request_id, request_.id);
    EXPECT_EQ(handle->session.signer_id, request_.signers[0].signer_id);
    EXPECT_FALSE(sessions_->Find(anonymous->token));  // rotated
    EXPECT_TRUE(sessions_->Access(handle->session, request_.id));
    EXPECT_EQ(Count(Events(request_), "signer.redirected"), 1);

    auto again = sessions_->LoginWithRedirect("", token, client_);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, ErrorCode::kGone);
}

TEST_F(RedirectTokenTest, AnExpiredRedirectTokenIsGone) {
    const std::string token = Issue(10min);
    clock_.Advance(10min);
    auto late = sessions_->LoginWithRedirect("", token, client_);
    ASSERT_FALSE(late);
    EXPECT_EQ(late.error().code, ErrorCode::kGone);
}

TEST_F(RedirectTokenTest, AFreshRedirectTokenRevokesTheEarlierOne) {
    const std::string first = Issue();
    const std::string second = Issue();
    ASSERT_NE(first, second);
    auto old = sessions_->LoginWithRedirect("", first, client_);
    ASSERT_FALSE(old);
    EXPECT_EQ(old.error().code, ErrorCode::kGone);
    EXPECT_TRUE(sessions_->LoginWithRedirect("", second, client_));
}

TEST_F(RedirectTokenTest, UnknownTokensAndOtherKindsAreRefused) {
    auto unknown = sessions_->LoginWithRedirect("", "not-a-token", client_);
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error().code, ErrorCode::kForbidden);
    // A status_query token is not a way in.
    const std::string status_token = "status-token";
    ASSERT_TRUE(InWriteTransaction(*db_, [&](Transaction& tx) {
        return tx.signer_tokens().Insert(SignerToken{
            hasher_.Sha256Hex(status_token), SignerTokenKind::kStatusQuery, request_.id,
            request_.signers[0].signer_id, clock_.Now(), clock_.Now() + 1h, std::nullopt});
    }));
    auto wrong_kind = sessions_->LoginWithRedirect("", status_token, client_);
    ASSERT_FALSE(wrong_kind);
    EXPECT_EQ(wrong_kind.error().code, ErrorCode::kForbidden);
}

TEST_F(RedirectTokenTest, RedirectTokensNeedADirectFlowRequestAndAKnownSigner) {
    const SignatureRequest plain =
        MakeReadyRequest({{IdentifierKind::kItFiscalCode, kGiovanni, "g@example.org"}});
    auto refused = requests_->IssueRedirectTokens(issuer_, plain.id, std::nullopt, 60min);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, ErrorCode::kConflict);
    auto stranger =
        requests_->IssueRedirectTokens(issuer_, request_.id, std::string("01NOSUCHSIGNER"), 60min);
    ASSERT_FALSE(stranger);
    EXPECT_EQ(stranger.error().code, ErrorCode::kNotFound);
    auto foreign = requests_->IssueRedirectTokens(MakeIssuer("ISSUER-B", "Other"), request_.id,
                                                  std::nullopt, 60min);
    ASSERT_FALSE(foreign);
    EXPECT_EQ(foreign.error().code, ErrorCode::kNotFound);
}

TEST_F(RedirectTokenTest, StatusQueryTokensAnswerOnlyForTheirRequest) {
    const SignatureRequest other = MakeReadyRequest(
        {{IdentifierKind::kItFiscalCode, kGiovanni, "g@example.org"}}, OneDocument(), Urls());
    const std::string token = "the-status-token";
    ASSERT_TRUE(InWriteTransaction(*db_, [&](Transaction& tx) {
        return tx.signer_tokens().Insert(SignerToken{
            hasher_.Sha256Hex(token), SignerTokenKind::kStatusQuery, request_.id,
            request_.signers[0].signer_id, clock_.Now(), clock_.Now() + 1h, std::nullopt});
    }));
    auto ok = requests_->GetWithStatusQueryToken(issuer_, request_.id, token);
    ASSERT_TRUE(ok) << ok.error().message;
    EXPECT_EQ(ok->id, request_.id);
    EXPECT_TRUE(requests_->GetWithStatusQueryToken(issuer_, request_.id, token));  // reusable

    for (const auto& [id, candidate] : std::vector<std::pair<std::string, std::string>>{
             {request_.id, "wrong"}, {request_.id, ""}, {other.id, token}}) {
        auto refused = requests_->GetWithStatusQueryToken(issuer_, id, candidate);
        ASSERT_FALSE(refused);
        EXPECT_EQ(refused.error().code, ErrorCode::kForbidden) << candidate;
    }
    // A redirect token is not a status token.
    const std::string redirect = Issue();
    auto wrong_kind = requests_->GetWithStatusQueryToken(issuer_, request_.id, redirect);
    ASSERT_FALSE(wrong_kind);
    EXPECT_EQ(wrong_kind.error().code, ErrorCode::kForbidden);
    clock_.Advance(1h);
    auto expired = requests_->GetWithStatusQueryToken(issuer_, request_.id, token);
    ASSERT_FALSE(expired);
    EXPECT_EQ(expired.error().code, ErrorCode::kForbidden);
}

}  // namespace
}  // namespace firmo::domain
