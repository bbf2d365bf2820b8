#include "domain/identifiers.hpp"

#include <gtest/gtest.h>

namespace firmo::domain {
namespace {

TEST(FiscalCode, AcceptsRealCodes) {
    for (const char* code :
         {"RSSMRA80A01H501U", "RSSMRA85T10A562S", "BNCGVN75L15F205G", "VRDLGU90E41Z404B"}) {
        EXPECT_EQ(NormalizeFiscalCode(code), std::string(code)) << code;
    }
}

TEST(FiscalCode, AcceptsOmocodia) {
    EXPECT_TRUE(NormalizeFiscalCode("RSSMRA80A01H50MM"));
    EXPECT_TRUE(NormalizeFiscalCode("RSSMRAUNALMHRNMH"));  // every digit replaced
}

TEST(FiscalCode, NormalisesCase) {
    EXPECT_EQ(NormalizeFiscalCode("rssmra80a01h501u"), std::string("RSSMRA80A01H501U"));
}

TEST(FiscalCode, RejectsWithReason) {
    std::string why;
    EXPECT_FALSE(NormalizeFiscalCode("RSSMRA80A01H501X", &why));
    EXPECT_EQ(why, "check character does not match");
    EXPECT_FALSE(NormalizeFiscalCode("RSSMRA80A01H501", &why));
    EXPECT_EQ(why, "must be 16 characters");
    EXPECT_FALSE(NormalizeFiscalCode("RSSMRA80Z01H501U", &why));
    EXPECT_EQ(why, "month character is not valid");
    EXPECT_FALSE(NormalizeFiscalCode("RSSMRA80A35H501U", &why));
    EXPECT_EQ(why, "day of birth is not valid");
    EXPECT_FALSE(NormalizeFiscalCode("RSSMRA8AA01H501U", &why));  // 'A' not an omocodia letter
    EXPECT_FALSE(NormalizeFiscalCode("1SSMRA80A01H501U", &why));
    EXPECT_FALSE(NormalizeFiscalCode("RSSMRA80A01H501\xC3", &why));
    EXPECT_FALSE(NormalizeFiscalCode("", &why));
}

TEST(NorwegianNin, AcceptsValidNumbers) {
    for (const char* nin : {"15076500565", "01010012356", "31129949980", "29020012380",
                            "41018512007" /* D-number */}) {
        EXPECT_EQ(NormalizeNorwegianNin(nin), std::string(nin)) << nin;
    }
}

TEST(NorwegianNin, AcceptsHNumbersAndSyntheticTestNumbers) {
    EXPECT_TRUE(NormalizeNorwegianNin("01410010085"));   // H-number: month + 40
    EXPECT_TRUE(NormalizeNorwegianNin("01810010068"));   // synthetic: month + 80
    EXPECT_FALSE(NormalizeNorwegianNin("01930010096"));  // month 93 - 80 = 13
}

TEST(NorwegianNin, RejectsBadChecksumsAndDates) {
    std::string why;
    EXPECT_FALSE(NormalizeNorwegianNin("15076500566", &why));
    EXPECT_EQ(why, "check digits do not match");
    EXPECT_FALSE(NormalizeNorwegianNin("15076500575", &why));
    EXPECT_FALSE(NormalizeNorwegianNin("1507650056", &why));
    EXPECT_EQ(why, "must be 11 digits");
    EXPECT_FALSE(NormalizeNorwegianNin("1507650056a", &why));
    EXPECT_FALSE(NormalizeNorwegianNin("29020110048", &why));  // 29 Feb of a non-leap year
    EXPECT_EQ(why, "date of birth is not valid");
    EXPECT_FALSE(NormalizeNorwegianNin("32017510036", &why));  // day 32
    EXPECT_EQ(why, "date of birth is not valid");
}

TEST(Email, NormalisesDomainAndRejectsJunk) {
    EXPECT_EQ(NormalizeEmail("Mario.Rossi@Example.IT"), std::string("Mario.Rossi@example.it"));
    for (const char* bad : {"", "a@b", "no-at.example.com", "a@@b.it", "a b@c.it", "a@b..it",
                            "@b.it", "a@.b.it", "a@b.it."}) {
        EXPECT_FALSE(NormalizeEmail(bad)) << bad;
    }
}

TEST(Phone, RequiresE164) {
    EXPECT_EQ(NormalizePhone("+39 333 123-4567"), std::string("+393331234567"));
    EXPECT_EQ(NormalizePhone("+4791234567"), std::string("+4791234567"));
    for (const char* bad :
         {"", "3331234567", "+0123456789", "+39abc12345", "+1234567", "+12345678901234567"}) {
        EXPECT_FALSE(NormalizePhone(bad)) << bad;
    }
}

TEST(Etsi, Prefixes) {
    EXPECT_EQ(EtsiPrefix(IdentifierKind::kItFiscalCode), "TINIT-");
    EXPECT_EQ(EtsiPrefix(IdentifierKind::kNoNationalId), "PNONO-");
}

TEST(MaskContact, KeepsTheFirstLetterAndDomainOrTheLastDigits) {
    EXPECT_EQ(MaskContact("mario.rossi@example.org"), "m***@example.org");
    EXPECT_EQ(MaskContact("@example.org"), "***");
    EXPECT_EQ(MaskContact("+393331234567"), "+***567");
    EXPECT_EQ(MaskContact("12345"), "***");
}

}  // namespace
}  // namespace firmo::domain
