#include "web/page_kit.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "i18n/catalog.hpp"

namespace firmo::web {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Every problem a page may tell has words in every catalogue, and they are the language's own.
TEST(PageKit, EveryProblemHasItsTextInEveryLanguage) {
    const i18n::Catalog& catalog = i18n::Catalog::Builtin();
    for (const std::string& language : catalog.Languages()) {
        for (const ErrorKind& kind : AllErrorKinds()) {
            const std::string text = ProblemText(language, kind.code);
            EXPECT_THAT(text, Not(HasSubstr("problem."))) << language << " " << kind.slug;
            if (language != "en") {
                EXPECT_NE(text, ProblemText("en", kind.code)) << kind.slug;
            }
        }
    }
    EXPECT_EQ(ProblemText("it", ErrorCode::kNotFound), "Qui non c'è nulla.");
    const std::string texts = ProblemTexts("nb");
    EXPECT_THAT(texts, HasSubstr("\"urn:firmo:problem:rate-limited\":\"For mange forsøk."));
}

http::HttpRequest PageRequest(std::string path, std::string accept, std::string cookie = "") {
    http::HttpRequest req;
    req.method = "GET";
    req.path = path;
    req.target = std::move(path);
    req.headers.Add("Accept", std::move(accept));
    if (!cookie.empty()) req.headers.Add("Cookie", std::move(cookie));
    return req;
}

// The front door's own refusal of a page, in the visitor's language; the API's stays English.
TEST(PageKit, AProblemABrowserGetsForAPageIsAPageInItsLanguage) {
    const http::HttpResponse problem = [] {
        auto r = http::ProblemResponse(Error{ErrorCode::kUnavailable, "busy"});
        r.Set("Retry-After", "2");
        return r;
    }();
    auto page = problem;
    ProblemAsPage(PageRequest("/s/REQ1/documents/D1/file", "text/html,*/*", "firmo_lang=it"), page);
    EXPECT_EQ(page.status, 503);
    EXPECT_THAT(page.body, HasSubstr("<html lang=\"it\""));
    EXPECT_THAT(page.body, HasSubstr(ProblemText("it", ErrorCode::kUnavailable)));
    EXPECT_THAT(page.body, Not(HasSubstr("Service Unavailable")));
    bool html = false, retry = false, csp = false;
    for (const auto& [name, value] : page.headers) {
        html |= name == "Content-Type" && value == "text/html; charset=utf-8";
        retry |= name == "Retry-After" && value == "2";
        csp |= name == "Content-Security-Policy";
    }
    EXPECT_TRUE(html && retry && csp);

    auto nb = problem;
    auto req = PageRequest("/app/send", "text/html");
    req.headers.Add("Accept-Language", "nb-NO,nb;q=0.9");
    ProblemAsPage(req, nb);
    EXPECT_THAT(nb.body, HasSubstr("<html lang=\"nb\""));
    EXPECT_THAT(nb.body, HasSubstr("href=\"/app\""));

    // The API, and a page's script asking for JSON, keep the problem as it is.
    for (const auto& kept : {PageRequest("/api/v1/dossiers", "text/html", "firmo_lang=it"),
                             PageRequest("/app/send", "application/json", "firmo_lang=it")}) {
        auto same = problem;
        ProblemAsPage(kept, same);
        EXPECT_EQ(same.body, problem.body) << kept.path;
    }
    // Not a problem: untouched.
    auto ok = http::HttpResponse::Text(200, "fine");
    ProblemAsPage(PageRequest("/", "text/html"), ok);
    EXPECT_EQ(ok.body, "fine");
}

}  // namespace
}  // namespace firmo::web
