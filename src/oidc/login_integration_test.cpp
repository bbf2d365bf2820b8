// The relying party against a real OpenID provider: tests/node/oidc-provider.mjs (npm
// oidc-provider) on a loopback port, its development login and consent forms driven over plain
// HTTP by a small cookie-keeping client standing in for the browser.

#include <curl/curl.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "core/encoding.hpp"
#include "oidc/oidc_identity_provider.hpp"

namespace firmo::oidc {
namespace {

namespace fs = std::filesystem;
using domain::IdentifierKind;
using nlohmann::json;

const std::string kRedirect = "http://127.0.0.1:9/firmo/callback";

// Runs `node oidc-provider.mjs 0 CONFIG` and waits for its "OIDC issuer: ..." line.
class LoopbackProvider {
  public:
    explicit LoopbackProvider(const json& config) {
        const fs::path node_dir = FIRMO_TEST_NODE_DIR;
        if (!fs::exists(node_dir / "node_modules" / "oidc-provider")) {
            error_ = "run `npm ci` in " + node_dir.string() + " first";
            return;
        }
        int out[2];
        if (pipe2(out, O_CLOEXEC) != 0) {
            error_ = "pipe failed";
            return;
        }
        const std::string script = (node_dir / "oidc-provider.mjs").string();
        const std::string config_text = config.dump();
        pid_ = fork();
        if (pid_ == 0) {
            // The provider must not outlive a crashed test.
            prctl(PR_SET_PDEATHSIG, SIGTERM);
            dup2(out[1], STDOUT_FILENO);
            execl(FIRMO_NODE, "node", script.c_str(), "0", config_text.c_str(),
                  static_cast<char*>(nullptr));
            _exit(127);
        }
        close(out[1]);
        if (pid_ < 0) {
            close(out[0]);
            error_ = "fork failed";
            return;
        }
        stdout_fd_ = out[0];
        ReadIssuer();
        // Keep draining stdout so the provider never blocks on a full pipe.
        drain_ = std::thread([fd = stdout_fd_] {
            char buf[4096];
            while (read(fd, buf, sizeof buf) > 0) {
            }
        });
    }
    ~LoopbackProvider() {
        if (pid_ > 0) {
            kill(pid_, SIGTERM);
            int status = 0;
            waitpid(pid_, &status, 0);
        }
        if (drain_.joinable()) drain_.join();
        if (stdout_fd_ >= 0) close(stdout_fd_);
    }
    LoopbackProvider(const LoopbackProvider&) = delete;
    LoopbackProvider& operator=(const LoopbackProvider&) = delete;

    const std::string& issuer() const { return issuer_; }
    const std::string& error() const { return error_; }

  private:
    void ReadIssuer() {
        constexpr std::string_view kPrefix = "OIDC issuer: ";
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
        std::string text;
        while (std::chrono::steady_clock::now() < deadline) {
            pollfd p{stdout_fd_, POLLIN, 0};
            if (poll(&p, 1, 200) <= 0) continue;
            char buf[512];
            const ssize_t n = read(stdout_fd_, buf, sizeof buf);
            if (n <= 0) break;
            text.append(buf, static_cast<std::size_t>(n));
            const std::size_t at = text.find(kPrefix);
            const std::size_t eol = at == std::string::npos ? at : text.find('\n', at);
            if (eol != std::string::npos) {
                issuer_ = text.substr(at + kPrefix.size(), eol - at - kPrefix.size());
                return;
            }
        }
        error_ = "the provider did not start (stdout: '" + text + "')";
    }

    pid_t pid_ = -1;
    int stdout_fd_ = -1;
    std::thread drain_;
    std::string issuer_;
    std::string error_;
};

// The browser: a libcurl handle with a cookie jar that does not follow redirects by itself.
class Browser {
  public:
    Browser() : curl_(curl_easy_init(), curl_easy_cleanup) {
        curl_easy_setopt(curl_.get(), CURLOPT_COOKIEFILE, "");  // in-memory cookie engine
        curl_easy_setopt(curl_.get(), CURLOPT_TIMEOUT, 20L);
        curl_easy_setopt(curl_.get(), CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(curl_.get(), CURLOPT_WRITEFUNCTION, Collect);
    }

    // Follows the authorization request through the login (and, when asked, consent) forms
    // until the provider redirects to `redirect_uri`; returns that URL, or "" with `error_`.
    std::string SignIn(const std::string& authorize_url, const std::string& login) {
        std::string url = authorize_url;
        std::optional<std::string> form;
        for (int step = 0; step < 20; ++step) {
            std::string body;
            long status = 0;
            std::string location;
            if (!Request(url, form, &status, &location, &body)) return "";
            form.reset();
            if (status >= 300 && status < 400) {
                if (location.rfind(kRedirect, 0) == 0) return location;
                url = location;
                continue;
            }
            if (status != 200) {
                error_ = "HTTP " + std::to_string(status) + " from " + url + ": " + body;
                return "";
            }
            std::smatch action;
            if (!std::regex_search(body, action, std::regex(R"re(<form[^>]*action="([^"]*)")re"))) {
                error_ = "no form at " + url + ": " + body;
                return "";
            }
            std::string fields;
            const std::regex input(R"re(<input[^>]*>)re");
            const std::regex name_attr(R"re(name="([^"]*)")re");
            const std::regex value_attr(R"re(value="([^"]*)")re");
            for (auto it = std::sregex_iterator(body.begin(), body.end(), input);
                 it != std::sregex_iterator(); ++it) {
                const std::string tag = it->str();
                std::smatch name;
                std::smatch value;
                if (!std::regex_search(tag, name, name_attr)) continue;
                std::string v = std::regex_search(tag, value, value_attr) ? value[1].str() : "";
                if (name[1] == "login") v = login;
                if (name[1] == "password") v = "any password";
                if (!fields.empty()) fields += '&';
                fields += PercentEncode(name[1].str()) + "=" + PercentEncode(v);
            }
            const std::string target = action[1].str();
            url = target.rfind("http", 0) == 0 ? target : Origin(url) + target;
            form = fields;
        }
        error_ = "too many steps";
        return "";
    }
    const std::string& error() const { return error_; }

  private:
    static std::size_t Collect(char* data, std::size_t size, std::size_t n, void* user) {
        static_cast<std::string*>(user)->append(data, size * n);
        return size * n;
    }
    static std::string Origin(const std::string& url) {
        return url.substr(0, url.find('/', url.find("://") + 3));
    }
    bool Request(const std::string& url, const std::optional<std::string>& form, long* status,
                 std::string* location, std::string* body) {
        CURL* h = curl_.get();
        curl_easy_setopt(h, CURLOPT_URL, url.c_str());
        curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
        if (form) {
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, form->c_str());
        } else {
            curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
        }
        const CURLcode rc = curl_easy_perform(h);
        if (rc != CURLE_OK) {
            error_ = url + ": " + curl_easy_strerror(rc);
            return false;
        }
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
        char* redirect = nullptr;
        curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &redirect);
        *location = redirect != nullptr ? redirect : "";
        return true;
    }

    std::unique_ptr<CURL, void (*)(CURL*)> curl_;
    std::string error_;
};

// The libcurl fetcher, remembering which URLs the relying party asked for.
class RecordingFetcher final : public HttpFetcher {
  public:
    Result<HttpReply> Fetch(const HttpCall& call) override {
        {
            std::lock_guard lock(mu_);
            urls_.push_back(call.url);
        }
        return inner_.Fetch(call);
    }
    int CallsEndingWith(const std::string& suffix) {
        std::lock_guard lock(mu_);
        int n = 0;
        for (const std::string& url : urls_) {
            n += url.size() >= suffix.size() &&
                         url.compare(url.size() - suffix.size(), suffix.size(), suffix) == 0
                     ? 1
                     : 0;
        }
        return n;
    }

  private:
    CurlHttpFetcher inner_;
    std::mutex mu_;
    std::vector<std::string> urls_;
};

std::map<std::string, std::string> QueryOf(const std::string& url) {
    std::map<std::string, std::string> out;
    const std::string query = url.substr(url.find('?') + 1);
    std::size_t start = 0;
    while (start < query.size()) {
        std::size_t end = query.find('&', start);
        if (end == std::string::npos) end = query.size();
        const std::string pair = query.substr(start, end - start);
        const std::size_t eq = pair.find('=');
        if (eq != std::string::npos) {
            out[pair.substr(0, eq)] = PercentDecode(pair.substr(eq + 1), true).value_or("");
        }
        start = end + 1;
    }
    return out;
}

class OidcLoginTest : public ::testing::Test {
  protected:
    // The provider's authorization response for `start` after signing in as `login`.
    std::map<std::string, std::string> SignIn(Browser& browser, const domain::LoginStart& start,
                                              const std::string& login) {
        const std::string callback = browser.SignIn(start.authorize_url, login);
        EXPECT_FALSE(callback.empty()) << browser.error();
        auto params = QueryOf(callback);
        EXPECT_EQ(params["state"], start.state) << callback;  // the portal's check
        EXPECT_FALSE(params["code"].empty()) << callback;
        return params;
    }

    SystemClock clock_;
    SystemRandom random_;
};

TEST_F(OidcLoginTest, FiscalNumberFromTheIdTokenThenReauthentication) {
    LoopbackProvider provider({{"client_id", "firmo"},
                               {"client_secret", "a secret: with / odd + characters"},
                               {"redirect_uris", {kRedirect}},
                               {"accounts",
                                {{"mario",
                                  {{"fiscal_number", "TINIT-RSSMRA80A01H501U"},
                                   {"name", "Mario Rossi"},
                                   {"given_name", "Mario"},
                                   {"family_name", "Rossi"}}}}}});
    ASSERT_TRUE(provider.error().empty()) << provider.error();
    OidcOptions options;
    options.issuer = provider.issuer();
    options.client_id = "firmo";
    options.client_secret = "a secret: with / odd + characters";
    options.identifier_kind = IdentifierKind::kItFiscalCode;
    auto http = std::make_shared<RecordingFetcher>();
    auto rp = OidcIdentityProvider::Create(options, http, clock_, random_);
    ASSERT_TRUE(rp) << rp.error().message;

    Browser browser;
    auto start = (*rp)->BeginLogin(kRedirect, false, domain::AuthLevel::kEidSubstantial);
    ASSERT_TRUE(start) << start.error().message;
    auto params = SignIn(browser, *start, "mario");
    EXPECT_EQ(params["iss"], provider.issuer());  // RFC 9207
    auto identity = (*rp)->CompleteLogin(params["code"], kRedirect, *start);
    ASSERT_TRUE(identity) << identity.error().message;
    EXPECT_EQ(identity->kind, IdentifierKind::kItFiscalCode);
    EXPECT_EQ(identity->identifier, "RSSMRA80A01H501U");
    EXPECT_EQ(identity->full_name, "Mario Rossi");
    EXPECT_EQ(identity->given_name, "Mario");
    EXPECT_EQ(identity->family_name, "Rossi");
    EXPECT_EQ(identity->subject, "mario");
    EXPECT_EQ(http->CallsEndingWith("/me"), 0);  // everything came in the ID token

    // A code is good once.
    auto replay = (*rp)->CompleteLogin(params["code"], kRedirect, *start);
    ASSERT_FALSE(replay);
    EXPECT_EQ(replay.error().code, ErrorCode::kUnauthenticated);
    EXPECT_NE(replay.error().message.find("invalid_grant"), std::string::npos)
        << replay.error().message;

    // Re-authentication in the same browser session: the provider asks for the login again
    // (prompt=login, max_age=0) and reports a fresh auth_time.
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // auth_time has 1 s steps
    auto again = (*rp)->BeginLogin(kRedirect, true, domain::AuthLevel::kEidSubstantial);
    ASSERT_TRUE(again) << again.error().message;
    auto params2 = SignIn(browser, *again, "mario");
    auto second = (*rp)->CompleteLogin(params2["code"], kRedirect, *again);
    ASSERT_TRUE(second) << second.error().message;
    EXPECT_EQ(second->identifier, "RSSMRA80A01H501U");
    EXPECT_GT(second->auth_time, identity->auth_time);
    EXPECT_GE(second->auth_time + std::chrono::seconds(1), again->started_at);
}

TEST_F(OidcLoginTest, PidFromUserinfoForAPublicClientWithEs256) {
    LoopbackProvider provider(
        {{"client_id", "firmo-public"},
         {"redirect_uris", {kRedirect}},
         {"id_token_claims", false},
         {"id_token_signed_response_alg", "ES256"},
         {"accounts",
          {{"kari",
            {{"pid", "01810010068"}, {"given_name", "Kari"}, {"family_name", "Nordmann"}}}}}});
    ASSERT_TRUE(provider.error().empty()) << provider.error();
    OidcOptions options;
    options.issuer = provider.issuer();
    options.client_id = "firmo-public";
    options.identifier_claim = "pid";
    options.identifier_kind = IdentifierKind::kNoNationalId;
    auto http = std::make_shared<RecordingFetcher>();
    auto rp = OidcIdentityProvider::Create(options, http, clock_, random_);
    ASSERT_TRUE(rp) << rp.error().message;

    Browser browser;
    auto start = (*rp)->BeginLogin(kRedirect, false, domain::AuthLevel::kEidSubstantial);
    ASSERT_TRUE(start) << start.error().message;
    auto params = SignIn(browser, *start, "kari");
    auto identity = (*rp)->CompleteLogin(params["code"], kRedirect, *start);
    ASSERT_TRUE(identity) << identity.error().message;
    EXPECT_EQ(identity->kind, IdentifierKind::kNoNationalId);
    EXPECT_EQ(identity->identifier, "01810010068");
    EXPECT_EQ(identity->full_name, "Kari Nordmann");
    EXPECT_EQ(identity->subject, "kari");
    EXPECT_EQ(http->CallsEndingWith("/me"), 1);  // oidc-provider's userinfo endpoint
}

TEST_F(OidcLoginTest, WrongPkceVerifierAndInvalidFiscalCode) {
    LoopbackProvider provider({{"client_id", "firmo"},
                               {"client_secret", "s"},
                               {"redirect_uris", {kRedirect}},
                               {"accounts",
                                {{"mario", {{"fiscal_number", "TINIT-RSSMRA80A01H501U"}}},
                                 {"bad", {{"fiscal_number", "TINIT-RSSMRA80A01H501X"}}}}}});
    ASSERT_TRUE(provider.error().empty()) << provider.error();
    OidcOptions options;
    options.issuer = provider.issuer();
    options.client_id = "firmo";
    options.client_secret = "s";
    auto rp = OidcIdentityProvider::Create(options, clock_, random_);
    ASSERT_TRUE(rp) << rp.error().message;

    Browser browser;
    auto start = (*rp)->BeginLogin(kRedirect, false, domain::AuthLevel::kEidSubstantial);
    ASSERT_TRUE(start);
    auto params = SignIn(browser, *start, "mario");
    domain::LoginStart tampered = *start;
    tampered.code_verifier = std::string(43, 'A');
    auto refused = (*rp)->CompleteLogin(params["code"], kRedirect, tampered);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, ErrorCode::kUnauthenticated);
    EXPECT_NE(refused.error().message.find("invalid_grant"), std::string::npos);

    // A person whose provider record holds an invalid fiscal code is not let in.
    auto start2 = (*rp)->BeginLogin(kRedirect, true, domain::AuthLevel::kEidSubstantial);
    ASSERT_TRUE(start2);
    auto params2 = SignIn(browser, *start2, "bad");
    auto invalid = (*rp)->CompleteLogin(params2["code"], kRedirect, *start2);
    ASSERT_FALSE(invalid);
    EXPECT_EQ(invalid.error().code, ErrorCode::kUnauthenticated);
    EXPECT_NE(invalid.error().message.find("not a valid IT-FISCAL-CODE"), std::string::npos)
        << invalid.error().message;
}

// Issue 14: the provider is asked for a level (acr_values) and its answer (the ID token's acr)
// is checked; the test provider's accounts reach configurable levels.
TEST_F(OidcLoginTest, AcrValuesAreSentAndALowerAcrIsRefused) {
    LoopbackProvider provider(
        {{"client_id", "firmo"},
         {"client_secret", "s"},
         {"redirect_uris", {kRedirect}},
         {"accounts",
          {{"mario",
            {{"fiscal_number", "TINIT-RSSMRA80A01H501U"},
             {"name", "Mario Rossi"},
             {"acr", "https://www.spid.gov.it/SpidL2"}}},
           {"anna",
            {{"fiscal_number", "TINIT-BNCGVN75L15F205G"},
             {"name", "Anna Bianchi"},
             {"acr", "https://www.spid.gov.it/SpidL3"}}},
           {"nolevel", {{"fiscal_number", "TINIT-BNCGVN75L15F205G"}, {"acr", ""}}}}}});
    ASSERT_TRUE(provider.error().empty()) << provider.error();
    OidcOptions options;
    options.issuer = provider.issuer();
    options.client_id = "firmo";
    options.client_secret = "s";
    auto rp = OidcIdentityProvider::Create(options, clock_, random_);
    ASSERT_TRUE(rp) << rp.error().message;

    // Asked for high, authenticated at SpidL2: refused.
    Browser browser;
    auto high = (*rp)->BeginLogin(kRedirect, false, domain::AuthLevel::kEidHigh);
    ASSERT_TRUE(high) << high.error().message;
    EXPECT_EQ(QueryOf(high->authorize_url)["acr_values"], "https://www.spid.gov.it/SpidL3");
    auto params = SignIn(browser, *high, "mario");
    auto refused = (*rp)->CompleteLogin(params["code"], kRedirect, *high);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, ErrorCode::kAuthenticationRequired);
    EXPECT_NE(refused.error().message.find("acr 'https://www.spid.gov.it/SpidL2'"),
              std::string::npos)
        << refused.error().message;

    // Substantial is what Mario reaches.
    Browser browser2;
    auto substantial = (*rp)->BeginLogin(kRedirect, false, domain::AuthLevel::kEidSubstantial);
    ASSERT_TRUE(substantial);
    auto params2 = SignIn(browser2, *substantial, "mario");
    auto mario = (*rp)->CompleteLogin(params2["code"], kRedirect, *substantial);
    ASSERT_TRUE(mario) << mario.error().message;
    EXPECT_EQ(mario->level, domain::AuthLevel::kEidSubstantial);
    EXPECT_EQ(mario->acr, "https://www.spid.gov.it/SpidL2");

    // Anna reaches high, also when only substantial was asked for.
    Browser browser3;
    auto asked = (*rp)->BeginLogin(kRedirect, false, domain::AuthLevel::kEidSubstantial);
    ASSERT_TRUE(asked);
    auto params3 = SignIn(browser3, *asked, "anna");
    auto anna = (*rp)->CompleteLogin(params3["code"], kRedirect, *asked);
    ASSERT_TRUE(anna) << anna.error().message;
    EXPECT_EQ(anna->level, domain::AuthLevel::kEidHigh);

    // An ID token without acr states no level: refused.
    Browser browser4;
    auto none = (*rp)->BeginLogin(kRedirect, false, domain::AuthLevel::kEidSubstantial);
    ASSERT_TRUE(none);
    auto params4 = SignIn(browser4, *none, "nolevel");
    auto unknown = (*rp)->CompleteLogin(params4["code"], kRedirect, *none);
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error().code, ErrorCode::kAuthenticationRequired);
    EXPECT_NE(unknown.error().message.find("no acr"), std::string::npos) << unknown.error().message;
}

TEST_F(OidcLoginTest, IdportenLevelsAtLoginAndReauthentication) {
    // No acr configured: the provider grants the level asked for, as ID-porten does for a
    // person with a high-level eID.
    LoopbackProvider provider({{"client_id", "firmo-public"},
                               {"redirect_uris", {kRedirect}},
                               {"accounts", {{"kari", {{"pid", "01810010068"}}}}}});
    ASSERT_TRUE(provider.error().empty()) << provider.error();
    OidcOptions options;
    options.issuer = provider.issuer();
    options.client_id = "firmo-public";
    options.identifier_claim = "pid";
    options.identifier_kind = IdentifierKind::kNoNationalId;
    auto rp = OidcIdentityProvider::Create(options, clock_, random_);
    ASSERT_TRUE(rp) << rp.error().message;

    Browser browser;
    auto login = (*rp)->BeginLogin(kRedirect, false, domain::AuthLevel::kEidSubstantial);
    ASSERT_TRUE(login);
    EXPECT_EQ(QueryOf(login->authorize_url)["acr_values"], "idporten-loa-substantial");
    auto params = SignIn(browser, *login, "kari");
    auto first = (*rp)->CompleteLogin(params["code"], kRedirect, *login);
    ASSERT_TRUE(first) << first.error().message;
    EXPECT_EQ(first->level, domain::AuthLevel::kEidSubstantial);
    EXPECT_EQ(first->acr, "idporten-loa-substantial");

    std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // auth_time has 1 s steps
    auto again = (*rp)->BeginLogin(kRedirect, true, domain::AuthLevel::kEidHigh);
    ASSERT_TRUE(again);
    auto q = QueryOf(again->authorize_url);
    EXPECT_EQ(q["acr_values"], "idporten-loa-high");
    EXPECT_EQ(q["prompt"], "login");
    auto params2 = SignIn(browser, *again, "kari");
    auto second = (*rp)->CompleteLogin(params2["code"], kRedirect, *again);
    ASSERT_TRUE(second) << second.error().message;
    EXPECT_EQ(second->level, domain::AuthLevel::kEidHigh);
    EXPECT_EQ(second->acr, "idporten-loa-high");
}

TEST(CurlHttpFetcherTest, RefusesOtherSchemesRedirectsAndLargeBodies) {
    CurlHttpFetcher http(std::chrono::seconds(5));
    HttpCall file;
    file.url = "file:///etc/passwd";
    auto refused = http.Fetch(file);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
    HttpCall closed;
    closed.url = "http://127.0.0.1:1/";
    EXPECT_EQ(http.Fetch(closed).error().code, ErrorCode::kUnavailable);

    LoopbackProvider provider(json{{"redirect_uris", {kRedirect}}});
    ASSERT_TRUE(provider.error().empty()) << provider.error();
    HttpCall discovery;
    discovery.url = provider.issuer() + "/.well-known/openid-configuration";
    auto reply = http.Fetch(discovery);
    ASSERT_TRUE(reply) << reply.error().message;
    EXPECT_EQ(reply->status, 200);
    EXPECT_EQ(reply->content_type.rfind("application/json", 0), 0U) << reply->content_type;
    EXPECT_NE(reply->body.find(provider.issuer()), std::string::npos);
    // The authorization endpoint answers with a redirect; the fetcher reports it, not follows it.
    HttpCall authorize;
    authorize.url = provider.issuer() + "/auth?client_id=firmo&response_type=code&scope=openid" +
                    "&redirect_uri=" + PercentEncode(kRedirect);
    auto redirect = http.Fetch(authorize);
    ASSERT_TRUE(redirect) << redirect.error().message;
    EXPECT_GE(redirect->status, 300);
    EXPECT_LT(redirect->status, 400);
    // Over the size cap.
    CurlHttpFetcher small(std::chrono::seconds(5), 100);
    auto too_large = small.Fetch(discovery);
    ASSERT_FALSE(too_large);
    EXPECT_EQ(too_large.error().code, ErrorCode::kUnavailable);
    EXPECT_NE(too_large.error().message.find("larger than 100 bytes"), std::string::npos);
}

}  // namespace
}  // namespace firmo::oidc
