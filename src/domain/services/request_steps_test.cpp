#include "domain/services/request_steps.hpp"

#include <gtest/gtest.h>

namespace firmo::domain {
namespace {

Signer Make(IdentifierKind kind, std::optional<std::string> phone = std::nullopt,
            std::optional<std::string> language = std::nullopt) {
    return Signer{.kind = kind, .phone = std::move(phone), .language = std::move(language)};
}

TEST(SignerLanguage, TheIssuersChoiceThenTheIdentifiersCountryThenEnglish) {
    // The issuer's `language` wins over everything the identifier says.
    EXPECT_EQ(SignerLanguage(Make(IdentifierKind::kItFiscalCode, "+393331234567", "en")), "en");
    EXPECT_EQ(SignerLanguage(Make(IdentifierKind::kNoNationalId, std::nullopt, "it")), "it");
    EXPECT_EQ(SignerLanguage(Make(IdentifierKind::kEmail, std::nullopt, "nb")), "nb");
    // The identifier's country, then the phone's.
    EXPECT_EQ(SignerLanguage(Make(IdentifierKind::kItFiscalCode)), "it");
    EXPECT_EQ(SignerLanguage(Make(IdentifierKind::kNoNationalId, "+393331234567")), "nb");
    EXPECT_EQ(SignerLanguage(Make(IdentifierKind::kPhone, "+393331234567")), "it");
    EXPECT_EQ(SignerLanguage(Make(IdentifierKind::kEmail, "+4791234567")), "nb");
    // Nothing known: English for messages, "" for the portal (the browser decides).
    EXPECT_EQ(SignerLanguage(Make(IdentifierKind::kEmail)), "en");
    EXPECT_EQ(KnownSignerLanguage(Make(IdentifierKind::kEmail)), "");
    EXPECT_EQ(KnownSignerLanguage(Make(IdentifierKind::kPhone, "+4412345678")), "");
    EXPECT_EQ(KnownSignerLanguage(Make(IdentifierKind::kPhone, "+4791234567")), "nb");
}

}  // namespace
}  // namespace firmo::domain
