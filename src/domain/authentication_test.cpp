#include "domain/authentication.hpp"

#include <gtest/gtest.h>

#include "domain/certificate_subject.hpp"

namespace firmo::domain {
namespace {

constexpr AuthLevel kAll[] = {AuthLevel::kCode, AuthLevel::kEidSubstantial, AuthLevel::kEidHigh};

TEST(AuthLevel, TextRoundTripsAndUnknownIsRefused) {
    for (AuthLevel level : kAll) EXPECT_EQ(ParseAuthLevel(ToString(level)), level);
    EXPECT_EQ(ToString(AuthLevel::kEidHigh), "eid_high");
    EXPECT_EQ(ToString(AuthLevel::kEidSubstantial), "eid_substantial");
    EXPECT_EQ(ToString(AuthLevel::kCode), "code");
    EXPECT_FALSE(ParseAuthLevel("EID_HIGH"));
    EXPECT_FALSE(ParseAuthLevel(""));
    EXPECT_FALSE(ParseAuthLevel("eid_low"));
}

TEST(AuthLevel, SatisfiesIsAnOrderOverEveryPair) {
    for (std::size_t reached = 0; reached < std::size(kAll); ++reached) {
        for (std::size_t required = 0; required < std::size(kAll); ++required) {
            EXPECT_EQ(Satisfies(kAll[reached], kAll[required]), reached >= required)
                << ToString(kAll[reached]) << " vs " << ToString(kAll[required]);
            EXPECT_EQ(Satisfies(std::optional<AuthLevel>(kAll[reached]), kAll[required]),
                      reached >= required);
        }
        // Nothing proved satisfies nothing, not even a code.
        EXPECT_FALSE(Satisfies(std::nullopt, kAll[reached]));
    }
    EXPECT_FALSE(IsEid(AuthLevel::kCode));
    EXPECT_TRUE(IsEid(AuthLevel::kEidSubstantial));
    EXPECT_TRUE(IsEid(AuthLevel::kEidHigh));
}

TEST(AuthLevel, DefaultIsEidForANationalIdentifierWhenTheServerOffersEid) {
    for (IdentifierKind kind : {IdentifierKind::kItFiscalCode, IdentifierKind::kNoNationalId}) {
        EXPECT_EQ(DefaultAuthentication(kind, true), AuthLevel::kEidSubstantial);
        EXPECT_EQ(DefaultAuthentication(kind, false), AuthLevel::kCode);
    }
    for (IdentifierKind kind : {IdentifierKind::kEmail, IdentifierKind::kPhone}) {
        EXPECT_EQ(DefaultAuthentication(kind, true), AuthLevel::kCode);
        EXPECT_EQ(DefaultAuthentication(kind, false), AuthLevel::kCode);
    }
}

TEST(AuthLevel, IdentifierInSignedDocumentsText) {
    EXPECT_EQ(ParseIdentifierInSignedDocuments("identifier_and_name"),
              IdentifierInSignedDocuments::kIdentifierAndName);
    EXPECT_EQ(ParseIdentifierInSignedDocuments("name"), IdentifierInSignedDocuments::kName);
    EXPECT_FALSE(ParseIdentifierInSignedDocuments("identifier"));
    EXPECT_EQ(ToString(IdentifierInSignedDocuments::kName), "name");
    EXPECT_EQ(ToString(IdentifierInSignedDocuments::kIdentifierAndName), "identifier_and_name");
}

TEST(AcrValues, DefaultsForSpidCieAndIdporten) {
    const AcrValues spid = DefaultAcrValues(IdentifierKind::kItFiscalCode);
    EXPECT_EQ(AcrValuesFor(spid, AuthLevel::kEidSubstantial), "https://www.spid.gov.it/SpidL2");
    EXPECT_EQ(AcrValuesFor(spid, AuthLevel::kEidHigh), "https://www.spid.gov.it/SpidL3");
    EXPECT_EQ(AcrValuesFor(spid, AuthLevel::kCode), "https://www.spid.gov.it/SpidL2");
    EXPECT_EQ(LevelOfAcr(spid, "https://www.spid.gov.it/SpidL3"), AuthLevel::kEidHigh);
    EXPECT_EQ(LevelOfAcr(spid, "https://www.spid.gov.it/SpidL2"), AuthLevel::kEidSubstantial);
    EXPECT_FALSE(LevelOfAcr(spid, "https://www.spid.gov.it/SpidL1"));  // low: not a level here
    EXPECT_FALSE(LevelOfAcr(spid, ""));

    const AcrValues idporten = DefaultAcrValues(IdentifierKind::kNoNationalId);
    EXPECT_EQ(AcrValuesFor(idporten, AuthLevel::kEidSubstantial), "idporten-loa-substantial");
    EXPECT_EQ(AcrValuesFor(idporten, AuthLevel::kEidHigh), "idporten-loa-high");
    EXPECT_EQ(LevelOfAcr(idporten, "Level4"), AuthLevel::kEidHigh);  // the older names
    EXPECT_EQ(LevelOfAcr(idporten, "Level3"), AuthLevel::kEidSubstantial);
    EXPECT_EQ(LevelOfAcr(idporten, "idporten-loa-high"), AuthLevel::kEidHigh);
    EXPECT_FALSE(LevelOfAcr(idporten, "idporten-loa-low"));
    EXPECT_FALSE(LevelOfAcr(idporten, "https://www.spid.gov.it/SpidL3"));  // another provider's
}

TEST(AcrValues, ConfiguredListsAndAValueInBothCountsAsHigh) {
    const AcrValues both{SplitAcrList(" a, b ,,c "), SplitAcrList("c")};
    EXPECT_EQ(both.substantial, (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_EQ(LevelOfAcr(both, "c"), AuthLevel::kEidHigh);
    EXPECT_EQ(LevelOfAcr(both, "b"), AuthLevel::kEidSubstantial);
    EXPECT_TRUE(SplitAcrList("").empty());
    EXPECT_EQ(AcrValuesFor(AcrValues{}, AuthLevel::kEidHigh), "");
}

Signer NinSigner() {
    Signer s;
    s.kind = IdentifierKind::kNoNationalId;
    s.identifier = "15076500565";
    s.email = "kari@example.no";
    s.phone = "+4791234567";
    s.full_name = "Kari Nordmann";
    return s;
}

TEST(CertificateSubject, IdentifierOnlyAfterAnEidConfirmationAndWhenAllowed) {
    const Signer signer = NinSigner();
    RequestSigner rs;
    rs.signing_name = "Kari Nordmann";
    const auto subject = [&](std::optional<AuthLevel> reached, IdentifierInSignedDocuments o) {
        rs.authenticated_with = reached;
        return CertificateSubject(signer, rs, o);
    };
    using enum IdentifierInSignedDocuments;
    for (AuthLevel eid : {AuthLevel::kEidSubstantial, AuthLevel::kEidHigh}) {
        const SignerIdentity proven = subject(eid, kIdentifierAndName);
        EXPECT_EQ(proven.serial_number, "PNONO-15076500565");
        EXPECT_EQ(proven.country, "NO");
        EXPECT_EQ(proven.full_name, "Kari Nordmann");
        const SignerIdentity name_only = subject(eid, kName);
        EXPECT_EQ(name_only.serial_number, "");
        EXPECT_EQ(name_only.country, "");
    }
    for (std::optional<AuthLevel> unproven :
         {std::optional<AuthLevel>(AuthLevel::kCode), std::optional<AuthLevel>()}) {
        for (IdentifierInSignedDocuments o : {kIdentifierAndName, kName}) {
            const SignerIdentity s = subject(unproven, o);
            EXPECT_EQ(s.serial_number, "");
            EXPECT_EQ(s.country, "");
            EXPECT_EQ(s.full_name, "Kari Nordmann");
            EXPECT_EQ(s.email, "kari@example.no");
            EXPECT_EQ(s.phone, "+4791234567");
        }
    }
    // A contact signer has no identifier to prove.
    Signer contact;
    contact.kind = IdentifierKind::kEmail;
    contact.identifier = "a@example.org";
    contact.email = "a@example.org";
    rs.authenticated_with = AuthLevel::kEidHigh;
    EXPECT_EQ(CertificateSubject(contact, rs, kIdentifierAndName).serial_number, "");
}

TEST(CertificateSubject, TheNameNeverFallsBackToAnUnprovenIdentifier) {
    Signer bare;
    bare.kind = IdentifierKind::kItFiscalCode;
    bare.identifier = "RSSMRA80A01H501U";
    using enum IdentifierInSignedDocuments;
    EXPECT_EQ(SigningName("Mario Rossi", bare, AuthLevel::kEidHigh, kName), "Mario Rossi");
    EXPECT_EQ(SigningName("", bare, AuthLevel::kEidHigh, kIdentifierAndName), "RSSMRA80A01H501U");
    EXPECT_EQ(SigningName("", bare, AuthLevel::kEidHigh, kName), "Signer");
    EXPECT_EQ(SigningName("", bare, AuthLevel::kCode, kIdentifierAndName), "Signer");
    bare.phone = "+393331234567";
    EXPECT_EQ(SigningName("", bare, AuthLevel::kCode, kIdentifierAndName), "+393331234567");
    bare.email = "m@example.it";
    EXPECT_EQ(SigningName("", bare, AuthLevel::kCode, kIdentifierAndName), "m@example.it");
    bare.full_name = "Mario Rossi";
    EXPECT_EQ(SigningName("", bare, std::nullopt, kIdentifierAndName), "Mario Rossi");
}

}  // namespace
}  // namespace firmo::domain
