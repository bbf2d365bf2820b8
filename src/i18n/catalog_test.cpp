#include "i18n/catalog.hpp"

#include <gtest/gtest.h>

#include <set>

namespace firmo::i18n {
namespace {

constexpr Timestamp At(std::int64_t unix_seconds) {
    return Timestamp(std::chrono::seconds(unix_seconds));
}
// 2026-12-17 17:00:00 UTC (18:00 in Rome and Oslo, winter time).
constexpr Timestamp kWinter = At(1797526800);
// 2026-07-01 10:15:00 UTC (12:15 in Rome, summer time).
constexpr Timestamp kSummer = At(1782900900);

TEST(I18nCatalog, BuiltinHasEnglishItalianAndNorwegian) {
    const auto& languages = Catalog::Builtin().Languages();
    EXPECT_EQ(languages, (std::vector<std::string>{"en", "it", "nb"}));
}

TEST(I18nCatalog, EveryCatalogueHasExactlyTheReferenceKeys) {
    const Catalog& catalog = Catalog::Builtin();
    const auto keys = catalog.Keys("en");
    ASSERT_GT(keys.size(), 100u);
    for (const auto& language : catalog.Languages()) {
        EXPECT_EQ(catalog.Keys(language), keys) << language << ".msg";
        // A translation, not a copy: nearly every message differs from the English one.
        std::size_t same = 0;
        for (const auto& key : keys) same += catalog.Text(language, key) == catalog.Text("en", key);
        if (language != "en") {
            EXPECT_LT(same, keys.size() / 10) << language;
        }
    }
}

TEST(I18nCatalog, ParseRejectsBrokenFilesWithTheLine) {
    auto missing_default = Catalog::Parse({{"it", "a = b\n"}});
    ASSERT_FALSE(missing_default);
    EXPECT_NE(missing_default.error().message.find("default language"), std::string::npos);

    auto no_equals = Catalog::Parse({{"en", "# fine\n\nkey without equals\n"}});
    ASSERT_FALSE(no_equals);
    EXPECT_NE(no_equals.error().message.find("en.msg line 3"), std::string::npos);

    auto bad_pattern = Catalog::Parse({{"en", "a = {n, plural, one {x}\n"}});
    ASSERT_FALSE(bad_pattern);
    EXPECT_NE(bad_pattern.error().message.find("en.msg line 1 (a)"), std::string::npos);

    auto repeated = Catalog::Parse({{"en", "a = x\na = y\n"}});
    ASSERT_FALSE(repeated);
    EXPECT_NE(repeated.error().message.find("repeated"), std::string::npos);

    auto bad_key = Catalog::Parse({{"en", "A key = x\n"}});
    EXPECT_FALSE(bad_key);
}

TEST(I18nCatalog, FormatsNamedArgumentsAndPluralsPerLanguage) {
    auto catalog = Catalog::Parse({
        {"en", "n = {n, plural, one {# minute} other {# minutes}} for {who}\nonly_en = E\n"},
        {"it", "n = {n, plural, one {# minuto} other {# minuti}} per {who}\n"},
    });
    ASSERT_TRUE(catalog) << catalog.error().message;
    EXPECT_EQ(catalog->Text("en", "n", {{"n", std::int64_t{1}}, {"who", "Ada"}}),
              "1 minute for Ada");
    EXPECT_EQ(catalog->Text("en", "n", {{"n", std::int64_t{10}}, {"who", "Ada"}}),
              "10 minutes for Ada");
    EXPECT_EQ(catalog->Text("it", "n", {{"n", std::int64_t{1}}, {"who", "Ada"}}),
              "1 minuto per Ada");
    EXPECT_EQ(catalog->Text("it", "n", {{"n", std::int64_t{2}}, {"who", "Ada"}}),
              "2 minuti per Ada");
    // Fallbacks: an unknown language, a key only English has, a key nobody has.
    EXPECT_EQ(catalog->Text("fr", "n", {{"n", std::int64_t{3}}, {"who", "Ada"}}),
              "3 minutes for Ada");
    EXPECT_EQ(catalog->Text("it", "only_en"), "E");
    EXPECT_EQ(catalog->Text("it", "nobody.has.this"), "nobody.has.this");
}

TEST(I18nCatalog, ValuesAreInsertedVerbatim) {
    auto catalog = Catalog::Parse({{"en", "a = Hello {name}, it's {n}\n"}});
    ASSERT_TRUE(catalog);
    // Braces and apostrophes in a value are not pattern syntax.
    EXPECT_EQ(catalog->Text("en", "a", {{"name", "{x} O'Brien <b>"}, {"n", "5"}}),
              "Hello {x} O'Brien <b>, it's 5");
}

TEST(I18nCatalog, ArgumentsNotGivenStayAsPlaceholders) {
    // The portal's script fills {n} and {total} of the viewer's page label itself.
    EXPECT_EQ(Catalog::Builtin().Text("it", "page.ceremony.page_of"), "Pagina {n} di {total}");
    EXPECT_EQ(Catalog::Builtin().Text("en", "page.ceremony.page_of", {{"n", "2"}}),
              "Page 2 of {total}");
}

TEST(I18nCatalog, TextsGivesEveryMessageUnderAPrefix) {
    auto catalog =
        Catalog::Parse({{"en", "p.a = A {x}\np.b = B\nq.c = C\n"}, {"it", "p.a = IA {x}\n"}});
    ASSERT_TRUE(catalog);
    const auto texts = catalog->Texts("it", "p.", {{"x", "1"}});
    EXPECT_EQ(texts, (std::map<std::string, std::string>{{"a", "IA 1"}, {"b", "B"}}));
}

TEST(I18nCatalog, SupportedLanguageOfATag) {
    const Catalog& c = Catalog::Builtin();
    EXPECT_EQ(c.Supported("it"), "it");
    EXPECT_EQ(c.Supported("it-IT"), "it");
    EXPECT_EQ(c.Supported("IT_ch"), "it");
    EXPECT_EQ(c.Supported("nb-NO"), "nb");
    EXPECT_EQ(c.Supported("no"), "nb");
    EXPECT_EQ(c.Supported("nn"), "nb");
    EXPECT_EQ(c.Supported("en-GB"), "en");
    EXPECT_EQ(c.Supported("fr"), "");
    EXPECT_EQ(c.Supported(""), "");
}

TEST(I18nCatalog, AcceptLanguageByQuality) {
    const Catalog& c = Catalog::Builtin();
    EXPECT_EQ(c.FromAcceptLanguage("it-IT,it;q=0.9,en-US;q=0.8,en;q=0.7"), "it");
    EXPECT_EQ(c.FromAcceptLanguage("fr-FR, fr;q=0.9, nb;q=0.5, en;q=0.4"), "nb");
    EXPECT_EQ(c.FromAcceptLanguage("en;q=0.2, it;q=0.8"), "it");
    EXPECT_EQ(c.FromAcceptLanguage("de, fr"), "");
    EXPECT_EQ(c.FromAcceptLanguage("it;q=0, en;q=0.1"), "en");
    EXPECT_EQ(c.FromAcceptLanguage(""), "");
    EXPECT_EQ(c.FromAcceptLanguage("*"), "");
}

TEST(I18nCatalog, DateTimeInTheLanguageAndANamedZone) {
    const Catalog& c = Catalog::Builtin();
    EXPECT_EQ(c.DateTime("en", kWinter, "Europe/Rome"), "17 December 2026, 18:00 (Italy Time)");
    EXPECT_EQ(c.DateTime("it", kWinter, "Europe/Rome"), "17 dicembre 2026, 18:00 (Ora Italia)");
    EXPECT_EQ(c.DateTime("nb", kWinter, "Europe/Oslo"),
              "17. desember 2026 kl. 18:00 (tidssone for Norge)");
    // Summer time comes from tzdata, not from rules of our own.
    EXPECT_EQ(c.DateTime("it", kSummer, "Europe/Rome"), "1 luglio 2026, 12:15 (Ora Italia)");
    EXPECT_EQ(c.DateTime("en", kWinter, "UTC"), "17 December 2026, 17:00 (UTC)");
    EXPECT_EQ(c.DateTime("en", kWinter, "Not/AZone"), "17 December 2026, 17:00 (UTC)");
    EXPECT_EQ(c.Date("it", kWinter, "Europe/Rome"), "17 dicembre 2026");
    EXPECT_EQ(c.DateTimeShort("it", kWinter, "Europe/Rome"), "17/12/2026 18:00 CET");
    EXPECT_EQ(c.DateTimeShort("nb", kSummer, "Europe/Oslo"), "1.7.2026 12:15 CEST");
    EXPECT_EQ(c.DateTimeShort("en", kWinter, "UTC"), "17 Dec 2026 17:00 UTC");
    EXPECT_EQ(c.Time("en", kSummer, "UTC"), "10:15 (UTC)");
}

}  // namespace
}  // namespace firmo::i18n
