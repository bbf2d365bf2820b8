// The institution's colour in the portal (issue 16): the style sheet and its contrast choices.

#include <gtest/gtest.h>

#include "api/issuer_identity_api.hpp"

namespace firmo::api {
namespace {

TEST(IssuerTheme, ContrastRatioFollowsWcag) {
    EXPECT_NEAR(ContrastRatio("#000000", "#ffffff"), 21.0, 1e-9);
    EXPECT_NEAR(ContrastRatio("#ffffff", "#ffffff"), 1.0, 1e-9);
    EXPECT_NEAR(ContrastRatio("#767676", "#ffffff"), 4.54, 0.01);  // the lightest AA grey
    EXPECT_NEAR(ContrastRatio("#0B5CAD", "#FFFFFF"), ContrastRatio("#0b5cad", "#ffffff"), 1e-12);
    EXPECT_EQ(ContrastRatio("#12345", "#ffffff"), 1.0);
    EXPECT_EQ(ContrastRatio("red", "#ffffff"), 1.0);
}

TEST(IssuerTheme, TextOnTheBrandColourIsWhicheverOfBlackAndWhiteContrastsMore) {
    // Dark blue: white text; the colour reads on white, so links keep it.
    const std::string dark = IssuerThemeCss("#003366");
    EXPECT_NE(dark.find("--brand: #003366; --brand-ink: #ffffff;"), std::string::npos) << dark;
    EXPECT_EQ(dark.find("a, button.link"), std::string::npos);
    // Yellow: black text; links fall back to the default blue (yellow on white is unreadable).
    const std::string light = IssuerThemeCss("#ffd500");
    EXPECT_NE(light.find("--brand-ink: #000000;"), std::string::npos) << light;
    EXPECT_NE(light.find("a, button.link { color: #0b5cad; }"), std::string::npos);
    // Whatever the colour, the chosen ink passes AA (4.5:1).
    for (const char* c : {"#777777", "#808080", "#ff0000", "#00ff00", "#0000ff", "#7f7f00"}) {
        const std::string css = IssuerThemeCss(c);
        const bool white = css.find("--brand-ink: #ffffff") != std::string::npos;
        EXPECT_GE(ContrastRatio(c, white ? "#ffffff" : "#000000"), 4.5) << c;
    }
}

TEST(IssuerTheme, NoColourNoSheetAndNothingButAColourGetsIn) {
    EXPECT_EQ(IssuerThemeCss(""), "");
    EXPECT_EQ(IssuerThemeCss("#fff"), "");
    EXPECT_EQ(IssuerThemeCss("#ff0000; } body { display: none"), "");
    domain::Issuer issuer;
    issuer.id = "01ISSUER";
    EXPECT_EQ(IssuerThemeUrl(issuer), "");
    issuer.brand_color = "#a1b2c3";
    EXPECT_EQ(IssuerThemeUrl(issuer), "/issuers/01ISSUER/theme.css?v=a1b2c3");
}

}  // namespace
}  // namespace firmo::api
