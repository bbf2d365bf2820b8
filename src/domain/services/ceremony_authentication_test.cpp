// Authentication levels in the ceremony (issue 14): a signer below the level the request
// requires cannot confirm (403 authentication-required, nothing changed); an eID confirmation
// at the level names the national identifier in the certificate unless the request says
// `name`; a code confirmation never does. On the in-memory store with fake signers, as
// ceremony_service_test.cpp.

#include <gtest/gtest.h>

#include "domain/services/ceremony_service.hpp"
#include "domain/services/testing/signer_side_fixture.hpp"

namespace firmo::domain {
namespace {

using namespace firmo::domain::fixtures;
using namespace std::chrono_literals;

// A server that offers eID login.
class LevelTest : public SignerSideTest {
  protected:
    LevelTest() { eid_login_ = true; }

    static NewParty Mario(std::optional<AuthLevel> level = std::nullopt) {
        return {
            IdentifierKind::kItFiscalCode, kMario, "mario@example.org", "Mario Rossi", 0, level};
    }
    static VerifiedIdentity MarioEid(AuthLevel level, Timestamp at) {
        VerifiedIdentity id;
        id.kind = IdentifierKind::kItFiscalCode;
        id.identifier = kMario;
        id.full_name = "Mario Rossi (eID)";
        id.auth_time = at;
        id.level = level;
        return id;
    }
    // A link + code session of signer 0, with its token.
    SessionHandle CodeSession(const SignatureRequest& r) {
        const std::string& signer_id = r.signers[0].signer_id;
        EXPECT_TRUE(sessions_->SendCode(r.id, signer_id, CodeKind::kLogin, client_));
        auto handle = sessions_->LoginWithCode("", r.id, signer_id, codes_.last().code, client_);
        EXPECT_TRUE(handle) << handle.error().message;
        return handle ? *handle : SessionHandle{};
    }
    PortalSession Fresh(const std::string& token) {
        auto s = sessions_->Find(token);
        EXPECT_TRUE(s) << s.error().message;
        return s ? *s : PortalSession{};
    }
    static std::string DetailOf(const std::vector<AuditEvent>& events, const std::string& type) {
        for (const auto& e : events) {
            if (e.type == type) return e.detail;
        }
        return "";
    }
};

TEST_F(LevelTest, TheDefaultIsEidForANationalIdentifierAndCodeForAContact) {
    const SignatureRequest r = MakeReadyRequest(
        {Mario(), {IdentifierKind::kEmail, "", "luisa@example.org", "Luisa", 0, std::nullopt}});
    EXPECT_EQ(r.signers[0].authentication, AuthLevel::kEidSubstantial);
    EXPECT_EQ(r.signers[1].authentication, AuthLevel::kCode);
    EXPECT_EQ(Reload(r).signers[0].authentication, AuthLevel::kEidSubstantial);  // stored
    EXPECT_EQ(Reload(r).identifier_in_signed_documents,
              IdentifierInSignedDocuments::kIdentifierAndName);
}

TEST_F(LevelTest, ANinSignerWithACodeLoginCannotConfirm) {
    const SignatureRequest r = MakeReadyRequest({Mario()});
    const PortalSession session = CodeSession(r).session;
    auto view = ceremony_->Open(session, r.id, client_);
    ASSERT_TRUE(view) << view.error().message;
    EXPECT_TRUE(view->eid_required);
    EXPECT_EQ(view->second_factor, SecondFactor::kReauthentication);  // the eID, not a code
    const std::size_t codes_before = codes_.sent.size();
    auto accepted = ceremony_->Accept(session, r.id, {{0, 0}}, client_);
    ASSERT_TRUE(accepted) << accepted.error().message;
    EXPECT_EQ(accepted->second_factor, SecondFactor::kReauthentication);
    EXPECT_FALSE(accepted->code);
    EXPECT_EQ(codes_.sent.size(), codes_before);  // no confirmation code sent

    const SignatureRequest before = Reload(r);
    const auto events_before = Events(r).size();
    for (const char* code : {"", "123456"}) {
        auto refused = ceremony_->Confirm(session, r.id, code, client_);
        ASSERT_FALSE(refused);
        EXPECT_EQ(refused.error().code, ErrorCode::kAuthenticationRequired);
        EXPECT_NE(refused.error().message.find("eID"), std::string::npos);
    }
    // Nothing changed: no confirmation, no wrong-code count, no audit line, no job.
    const SignatureRequest after = Reload(r);
    EXPECT_EQ(after.status, before.status);
    EXPECT_EQ(after.updated_at, before.updated_at);
    EXPECT_FALSE(after.signers[0].confirmed_at);
    EXPECT_FALSE(after.signers[0].authenticated_with);
    EXPECT_EQ(after.signers[0].failed_code_attempts, 0);
    EXPECT_EQ(after.signers[0].status, SignerStatus::kWaiting);
    EXPECT_EQ(Events(r).size(), events_before);
    EXPECT_EQ(worker_->RunOnce(), 0);
    EXPECT_TRUE(trust_.identities.empty());
}

TEST_F(LevelTest, WithCodeAllowedTheCertificateHasNoNationalIdentifier) {
    const SignatureRequest r = MakeReadyRequest({Mario(AuthLevel::kCode)});
    SignAs(r, 0, CodeSession(r).session);
    const SignatureRequest after = Reload(r);
    EXPECT_EQ(after.status, RequestStatus::kSigned);
    EXPECT_EQ(after.signers[0].authenticated_with, AuthLevel::kCode);
    ASSERT_EQ(trust_.identities.size(), 1u);
    EXPECT_EQ(trust_.identities[0].serial_number, "");
    EXPECT_EQ(trust_.identities[0].country, "");
    EXPECT_EQ(trust_.identities[0].full_name, "Mario Rossi");
    EXPECT_EQ(trust_.identities[0].email, "mario@example.org");
    const auto events = Events(r);
    EXPECT_NE(DetailOf(events, "signer.confirmed").find("level=code"), std::string::npos);
    EXPECT_NE(DetailOf(events, "document.signed").find("signer authenticated code"),
              std::string::npos);
    EXPECT_NE(DetailOf(events, "document.signed").find("without national identifier"),
              std::string::npos);
}

TEST_F(LevelTest, AnEidReauthenticationBelowTheLevelIsRefusedAndAtTheLevelNamesTheIdentifier) {
    const SignatureRequest r = MakeReadyRequest({Mario(AuthLevel::kEidHigh)});
    auto handle = CodeSession(r);
    ASSERT_TRUE(ceremony_->Open(handle.session, r.id, client_));
    ASSERT_TRUE(ceremony_->Accept(handle.session, r.id, {{0, 0}}, client_));
    clock_.Advance(5s);
    // The provider authenticated at substantial (a provider that ignored acr_values).
    ASSERT_TRUE(sessions_->Reauthenticated(handle.token,
                                           MarioEid(AuthLevel::kEidSubstantial, clock_.Now())));
    auto low = ceremony_->Confirm(Fresh(handle.token), r.id, "", client_);
    ASSERT_FALSE(low);
    EXPECT_EQ(low.error().code, ErrorCode::kAuthenticationRequired);
    EXPECT_FALSE(Reload(r).signers[0].confirmed_at);

    clock_.Advance(5s);
    ASSERT_TRUE(
        sessions_->Reauthenticated(handle.token, MarioEid(AuthLevel::kEidHigh, clock_.Now())));
    auto view = ceremony_->Look(Fresh(handle.token), r.id);
    ASSERT_TRUE(view);
    EXPECT_FALSE(view->eid_required);
    auto ok = ceremony_->Confirm(Fresh(handle.token), r.id, "", client_);
    ASSERT_TRUE(ok) << ok.error().message;
    ASSERT_EQ(worker_->RunOnce(), 1);
    const SignatureRequest after = Reload(r);
    EXPECT_EQ(after.status, RequestStatus::kSigned);
    EXPECT_EQ(after.signers[0].authenticated_with, AuthLevel::kEidHigh);
    EXPECT_EQ(after.signers[0].signing_name, "Mario Rossi (eID)");
    ASSERT_EQ(trust_.identities.size(), 1u);
    EXPECT_EQ(trust_.identities[0].serial_number, std::string("TINIT-") + kMario);
    EXPECT_EQ(trust_.identities[0].country, "IT");
    const auto events = Events(r);
    EXPECT_NE(DetailOf(events, "signer.confirmed").find("eID level=eid_high"), std::string::npos);
    EXPECT_NE(DetailOf(events, "document.signed").find(std::string("names TINIT-") + kMario),
              std::string::npos);
}

TEST_F(LevelTest, AnotherPersonsEidDoesNotLiftACodeSession) {
    const SignatureRequest r = MakeReadyRequest({Mario()});
    auto handle = CodeSession(r);
    VerifiedIdentity giovanni = MarioEid(AuthLevel::kEidHigh, clock_.Now());
    giovanni.identifier = kGiovanni;
    auto refused = sessions_->Reauthenticated(handle.token, giovanni);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, ErrorCode::kForbidden);
    EXPECT_FALSE(Fresh(handle.token).eid_level);
}

TEST_F(LevelTest, NameOnlyKeepsTheIdentifierOutEvenAfterEid) {
    identifier_in_signed_documents_ = IdentifierInSignedDocuments::kName;
    const SignatureRequest r = MakeReadyRequest({Mario()});
    EXPECT_EQ(r.identifier_in_signed_documents, IdentifierInSignedDocuments::kName);
    PortalSession person = LoginByIdentity(IdentifierKind::kItFiscalCode, kMario, "Mario R.",
                                           AuthLevel::kEidSubstantial);
    ASSERT_TRUE(ceremony_->Open(person, r.id, client_));
    ASSERT_TRUE(ceremony_->Accept(person, r.id, {{0, 0}}, client_));
    person.reauthenticated_at = clock_.Now();
    ASSERT_TRUE(ceremony_->Confirm(person, r.id, "", client_));
    ASSERT_EQ(worker_->RunOnce(), 1);
    EXPECT_EQ(Reload(r).signers[0].authenticated_with, AuthLevel::kEidSubstantial);
    ASSERT_EQ(trust_.identities.size(), 1u);
    EXPECT_EQ(trust_.identities[0].serial_number, "");
    EXPECT_EQ(trust_.identities[0].country, "");
    EXPECT_EQ(trust_.identities[0].full_name, "Mario R.");
}

// A server without eID: explicit eID levels are refused at creation, the default is a code.
class NoEidLevelTest : public SignerSideTest {};

TEST_F(NoEidLevelTest, EidLevelsNeedAnEidServerAndANationalIdentifier) {
    DossierService dossiers(*ctx_);
    auto dossier = dossiers.Create(issuer_, NewDossier{"Dossier", std::nullopt, OneDocument()});
    ASSERT_TRUE(dossier);
    SignerService signers(*ctx_);
    auto mario = signers.Resolve(issuer_, NewSigner{IdentifierKind::kItFiscalCode, kMario,
                                                    "m@example.org", std::nullopt, std::nullopt});
    ASSERT_TRUE(mario);
    NewSignatureRequest input;
    input.dossier_id = dossier->id;
    input.signers.push_back({mario->signer.id, 0, AuthLevel::kEidHigh});
    auto refused = requests_->Create(issuer_, input, "test");
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
    ASSERT_EQ(refused.error().violations.size(), 1u);
    EXPECT_EQ(refused.error().violations[0].field, "signers[0].authentication");
    EXPECT_NE(refused.error().violations[0].reason.find("no eID login"), std::string::npos);

    input.signers[0].authentication = std::nullopt;
    auto created = requests_->Create(issuer_, input, "test");
    ASSERT_TRUE(created) << created.error().message;
    EXPECT_EQ(created->signers[0].authentication, AuthLevel::kCode);
}

TEST_F(LevelTest, AnEidLevelForAContactSignerIsRefused) {
    DossierService dossiers(*ctx_);
    auto dossier = dossiers.Create(issuer_, NewDossier{"Dossier", std::nullopt, OneDocument()});
    ASSERT_TRUE(dossier);
    SignerService signers(*ctx_);
    auto luisa = signers.Resolve(issuer_, NewSigner{IdentifierKind::kEmail, "", "l@example.org",
                                                    std::nullopt, std::nullopt});
    ASSERT_TRUE(luisa) << luisa.error().message;
    NewSignatureRequest input;
    input.dossier_id = dossier->id;
    input.signers.push_back({luisa->signer.id, 0, AuthLevel::kEidSubstantial});
    auto refused = requests_->Create(issuer_, input, "test");
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
    ASSERT_EQ(refused.error().violations.size(), 1u);
    EXPECT_EQ(refused.error().violations[0].field, "signers[0].authentication");
}

}  // namespace
}  // namespace firmo::domain
