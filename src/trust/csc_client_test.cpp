// The CSC API v2 client against the strict test QTSP (tests/qtsp/csc-provider.mjs) on a
// loopback port: a full round trip whose signatures verify with the returned certificate, and
// every strictness rule of the provider surfacing as a precise client error.

#include "trust/csc_client.hpp"

#include <curl/curl.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <thread>

#include "core/encoding.hpp"
#include "crypto/digest.hpp"
#include "trust/csc_gateway.hpp"

namespace firmo::trust {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr const char* kRedirect = "http://127.0.0.1:9/qtsp/callback";
constexpr const char* kSecret = "s3cret-for-tests";
constexpr const char* kRsaUser = "RSSMRA80A01H501U";
constexpr const char* kEcUser = "eve";

// Runs `node csc-provider.mjs 0 CONFIG` and waits for its "CSC provider: ..." line.
class LoopbackQtsp {
  public:
    LoopbackQtsp() {
        const json config = {{"clients",
                              {{{"client_id", "firmo"},
                                {"client_secret", kSecret},
                                {"redirect_uris", {kRedirect}}}}},
                             {"users",
                              {{{"userID", kRsaUser}, {"name", "Mario Rossi"}, {"key", "rsa"}},
                               {{"userID", kEcUser}, {"name", "Eve Curve"}, {"key", "ec"}}}}};
        int out[2];
        if (pipe2(out, O_CLOEXEC) != 0) return;
        const std::string script = fs::path(FIRMO_TEST_QTSP_DIR) / "csc-provider.mjs";
        const std::string text = config.dump();
        pid_ = fork();
        if (pid_ == 0) {
            prctl(PR_SET_PDEATHSIG, SIGTERM);
            dup2(out[1], STDOUT_FILENO);
            execl(FIRMO_NODE, "node", script.c_str(), "0", text.c_str(),
                  static_cast<char*>(nullptr));
            _exit(127);
        }
        close(out[1]);
        fd_ = out[0];
        std::string seen;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        const std::regex line("CSC provider: (\\S+)\n");
        std::smatch m;
        while (std::chrono::steady_clock::now() < deadline) {
            pollfd p{fd_, POLLIN, 0};
            if (poll(&p, 1, 200) <= 0) continue;
            char buf[512];
            const ssize_t n = read(fd_, buf, sizeof buf);
            if (n <= 0) break;
            seen.append(buf, static_cast<std::size_t>(n));
            if (std::regex_search(seen, m, line)) {
                url_ = m[1];
                break;
            }
        }
        drain_ = std::thread([fd = fd_] {
            char buf[4096];
            while (read(fd, buf, sizeof buf) > 0) {
            }
        });
    }
    ~LoopbackQtsp() {
        if (pid_ > 0) {
            kill(pid_, SIGTERM);
            int status = 0;
            waitpid(pid_, &status, 0);
        }
        if (drain_.joinable()) drain_.join();
        if (fd_ >= 0) close(fd_);
    }
    LoopbackQtsp(const LoopbackQtsp&) = delete;
    LoopbackQtsp& operator=(const LoopbackQtsp&) = delete;
    const std::string& url() const { return url_; }

  private:
    pid_t pid_ = -1;
    int fd_ = -1;
    std::thread drain_;
    std::string url_;
};

std::size_t Collect(char* data, std::size_t size, std::size_t n, void* user) {
    static_cast<std::string*>(user)->append(data, size * n);
    return size * n;
}

// The signer's browser: opens the authorization page, presses `decision` ("allow" | "deny"),
// and returns the query of the redirect back to Firmo.
std::map<std::string, std::string> Browse(const std::string& authorize_url,
                                          const std::string& decision) {
    std::map<std::string, std::string> back;
    std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
    std::string page;
    curl_easy_setopt(curl.get(), CURLOPT_URL, authorize_url.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, Collect);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &page);
    if (curl_easy_perform(curl.get()) != CURLE_OK) return back;
    std::smatch m;
    if (!std::regex_search(page, m, std::regex("name=\"tx\" value=\"([^\"]+)\""))) {
        back["page"] = page;
        return back;
    }
    const std::string form = "tx=" + m[1].str() + "&decision=" + decision;
    const std::string decide = authorize_url.substr(0, authorize_url.find('?')) + "/decision";
    std::string ignored;
    curl_easy_setopt(curl.get(), CURLOPT_URL, decide.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, form.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &ignored);
    if (curl_easy_perform(curl.get()) != CURLE_OK) return back;
    char* location = nullptr;
    curl_easy_getinfo(curl.get(), CURLINFO_REDIRECT_URL, &location);
    if (location == nullptr) return back;
    const std::string loc = location;
    const std::string query = loc.substr(loc.find('?') + 1);
    std::size_t at = 0;
    while (at < query.size()) {
        std::size_t amp = query.find('&', at);
        if (amp == std::string::npos) amp = query.size();
        const std::string pair = query.substr(at, amp - at);
        const std::size_t eq = pair.find('=');
        back[pair.substr(0, eq)] = PercentDecode(pair.substr(eq + 1), true).value_or("");
        at = amp + 1;
    }
    return back;
}

bool VerifiesWith(const std::string& cert_der, const std::string& digest,
                  const std::string& signature) {
    const auto* p = reinterpret_cast<const unsigned char*>(cert_der.data());
    X509* cert = d2i_X509(nullptr, &p, static_cast<long>(cert_der.size()));
    EVP_PKEY* key = cert ? X509_get0_pubkey(cert) : nullptr;
    EVP_PKEY_CTX* ctx = key ? EVP_PKEY_CTX_new(key, nullptr) : nullptr;
    bool ok = ctx && EVP_PKEY_verify_init(ctx) == 1 &&
              EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) == 1 &&
              (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA ||
               EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1) &&
              EVP_PKEY_verify(
                  ctx, reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                  reinterpret_cast<const unsigned char*>(digest.data()), digest.size()) == 1;
    EVP_PKEY_CTX_free(ctx);
    X509_free(cert);
    return ok;
}

class CscClientTest : public ::testing::Test {
  protected:
    // One provider for the suite, ended at exit.
    static LoopbackQtsp& Qtsp() {
        static LoopbackQtsp qtsp;
        return qtsp;
    }
    void SetUp() override { ASSERT_FALSE(Qtsp().url().empty()) << "the test QTSP did not start"; }

    CscSettings Settings(std::string secret = kSecret) const {
        return CscSettings{Qtsp().url() + "/csc/v2", "", "firmo", std::move(secret), kRedirect};
    }

    // The signer authorizes `hashes` of `credential`; returns the callback's query.
    std::map<std::string, std::string> Authorize(CscClient& client, const CscCredential& credential,
                                                 const std::vector<std::string>& hashes,
                                                 const Pkce& pkce,
                                                 const std::string& decision = "allow") {
        auto url =
            client.AuthorizationUrl({credential.id, hashes, "state-123", pkce.challenge, ""});
        EXPECT_TRUE(url) << url.error().message;
        return url ? Browse(*url, decision) : std::map<std::string, std::string>{};
    }

    // The credential of `user` and a token authorizing `hashes` with it.
    std::pair<CscCredential, std::string> Authorized(CscClient& client, const std::string& user,
                                                     const std::vector<std::string>& hashes) {
        auto ids = client.ListCredentials(user);
        EXPECT_TRUE(ids && ids->size() == 1);
        auto credential = client.CredentialInfo(ids->at(0));
        EXPECT_TRUE(credential) << credential.error().message;
        Pkce pkce = MakePkce(random_);
        auto back = Authorize(client, *credential, hashes, pkce);
        auto token = client.ExchangeCode(back["code"], pkce.verifier);
        EXPECT_TRUE(token) << token.error().message;
        return {*credential, token ? *token : ""};
    }

    oidc::CurlHttpFetcher fetcher_{std::chrono::seconds(10)};
    SystemRandom random_;
    metrics::Registry registry_;
};

TEST_F(CscClientTest, FullRoundTripSignsTheAuthorizedDigestsWithTheReturnedCertificate) {
    CscClient client(Settings(), fetcher_, &registry_);
    auto info = client.Info();
    ASSERT_TRUE(info) << info.error().message;
    EXPECT_EQ(info->specs, "2.0.0.0");
    EXPECT_EQ(info->oauth2, Qtsp().url());

    auto ids = client.ListCredentials(kRsaUser);
    ASSERT_TRUE(ids) << ids.error().message;
    ASSERT_EQ(ids->size(), 1U);
    auto credential = client.CredentialInfo(ids->at(0));
    ASSERT_TRUE(credential) << credential.error().message;
    EXPECT_EQ(credential->chain_der.size(), 2U);
    EXPECT_EQ(credential->scal, "2");
    EXPECT_EQ(credential->signature_qualifier, "eu_eidas_qes");
    EXPECT_EQ(credential->auth_mode, "oauth2code");
    EXPECT_NE(credential->subject.find("Mario Rossi"), std::string::npos) << credential->subject;

    const std::vector<std::string> digests = {crypto::Sha256("document one"),
                                              crypto::Sha256("document two")};
    Pkce pkce = MakePkce(random_);
    auto back = Authorize(client, *credential, digests, pkce);
    ASSERT_EQ(back["state"], "state-123");
    ASSERT_FALSE(back["code"].empty());
    auto token = client.ExchangeCode(back["code"], pkce.verifier);
    ASSERT_TRUE(token) << token.error().message;

    auto signatures = client.SignHash(*token, *credential, digests);
    ASSERT_TRUE(signatures) << signatures.error().message;
    ASSERT_EQ(signatures->size(), 2U);
    for (std::size_t i = 0; i < digests.size(); ++i) {
        EXPECT_TRUE(VerifiesWith(credential->chain_der[0], digests[i], (*signatures)[i]));
        EXPECT_FALSE(VerifiesWith(credential->chain_der[0], digests[1 - i], (*signatures)[i]));
    }
    auto& calls = registry_.AddCounterFamily("firmo_csc_calls_total", "", {"call", "outcome"});
    EXPECT_EQ(calls.With({"signatures/signHash", "ok"}).Value(), 1U);
    EXPECT_EQ(calls.With({"oauth2/token", "ok"}).Value(), 2U);  // service token (cached) + code
}

TEST_F(CscClientTest, EcdsaCredentialRoundTrip) {
    CscClient client(Settings(), fetcher_);
    const std::vector<std::string> digests = {crypto::Sha256("ec document")};
    auto [credential, token] = Authorized(client, kEcUser, digests);
    EXPECT_EQ(credential.key_algorithms, std::vector<std::string>{std::string(kOidEcdsaSha256)});
    auto signatures = client.SignHash(token, credential, digests);
    ASSERT_TRUE(signatures) << signatures.error().message;
    EXPECT_TRUE(VerifiesWith(credential.chain_der[0], digests[0], signatures->at(0)));
}

TEST_F(CscClientTest, WrongClientSecretIsRefusedWithTheProvidersReasonAndNoSecret) {
    CscClient client(Settings("wrong-secret-value"), fetcher_, &registry_);
    auto ids = client.ListCredentials(kRsaUser);
    ASSERT_FALSE(ids);
    EXPECT_EQ(ids.error().code, ErrorCode::kForbidden);
    EXPECT_EQ(ids.error().message,
              "QTSP oauth2/token refused (HTTP 401 invalid_client): client authentication failed");
    EXPECT_EQ(ids.error().message.find("wrong-secret-value"), std::string::npos);
    auto& calls = registry_.AddCounterFamily("firmo_csc_calls_total", "", {"call", "outcome"});
    EXPECT_EQ(calls.With({"oauth2/token", "refused"}).Value(), 1U);
}

TEST_F(CscClientTest, ReplayedCodeIsGone) {
    CscClient client(Settings(), fetcher_);
    auto ids = client.ListCredentials(kRsaUser);
    ASSERT_TRUE(ids);
    auto credential = client.CredentialInfo(ids->at(0));
    ASSERT_TRUE(credential);
    Pkce pkce = MakePkce(random_);
    auto back = Authorize(client, *credential, {crypto::Sha256("replay")}, pkce);
    ASSERT_TRUE(client.ExchangeCode(back["code"], pkce.verifier));
    auto again = client.ExchangeCode(back["code"], pkce.verifier);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, ErrorCode::kGone);
    EXPECT_NE(again.error().message.find("invalid_grant"), std::string::npos);
}

TEST_F(CscClientTest, WrongPkceVerifierIsRefused) {
    CscClient client(Settings(), fetcher_);
    auto ids = client.ListCredentials(kRsaUser);
    ASSERT_TRUE(ids);
    auto credential = client.CredentialInfo(ids->at(0));
    ASSERT_TRUE(credential);
    Pkce pkce = MakePkce(random_);
    auto back = Authorize(client, *credential, {crypto::Sha256("pkce")}, pkce);
    auto token = client.ExchangeCode(back["code"], MakePkce(random_).verifier);
    ASSERT_FALSE(token);
    EXPECT_EQ(token.error().code, ErrorCode::kGone);
    EXPECT_EQ(token.error().message,
              "QTSP oauth2/token refused (HTTP 400 invalid_grant): PKCE verification failed");
}

TEST_F(CscClientTest, TokenIsNotReusableBeyondNumSignatures) {
    CscClient client(Settings(), fetcher_);
    const std::vector<std::string> digests = {crypto::Sha256("once")};
    auto [credential, token] = Authorized(client, kRsaUser, digests);
    ASSERT_TRUE(client.SignHash(token, credential, digests));
    auto again = client.SignHash(token, credential, digests);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, ErrorCode::kForbidden);
    EXPECT_NE(again.error().message.find("QTSP signatures/signHash refused (HTTP 400 "
                                         "invalid_request)"),
              std::string::npos)
        << again.error().message;
}

TEST_F(CscClientTest, HashesOtherThanTheAuthorizedOnesAreRefused) {
    CscClient client(Settings(), fetcher_);
    auto [credential, token] = Authorized(client, kRsaUser, {crypto::Sha256("authorized")});
    auto other = client.SignHash(token, credential, {crypto::Sha256("something else")});
    ASSERT_FALSE(other);
    EXPECT_EQ(other.error().message,
              "QTSP signatures/signHash refused (HTTP 400 invalid_request): a hash was not "
              "authorized by the user");
}

TEST_F(CscClientTest, TokenIsBoundToItsCredential) {
    CscClient client(Settings(), fetcher_);
    const std::vector<std::string> digests = {crypto::Sha256("bound")};
    auto [rsa, token] = Authorized(client, kRsaUser, digests);
    auto ec_ids = client.ListCredentials(kEcUser);
    ASSERT_TRUE(ec_ids);
    auto ec = client.CredentialInfo(ec_ids->at(0));
    ASSERT_TRUE(ec);
    auto signed_with_other = client.SignHash(token, *ec, digests);
    ASSERT_FALSE(signed_with_other);
    EXPECT_NE(signed_with_other.error().message.find("not issued for this credentialID"),
              std::string::npos)
        << signed_with_other.error().message;
}

TEST_F(CscClientTest, UnknownCredentialAndUnknownUser) {
    CscClient client(Settings(), fetcher_);
    auto ids = client.ListCredentials("nobody");
    ASSERT_TRUE(ids);
    EXPECT_TRUE(ids->empty());
    auto info = client.CredentialInfo("cred-nope");
    ASSERT_FALSE(info);
    EXPECT_EQ(info.error().message,
              "QTSP credentials/info refused (HTTP 400 invalid_request): Invalid parameter "
              "credentialID");
}

TEST_F(CscClientTest, AuthorizationUrlCarriesEveryMemberAndADeniedOneComesBackDenied) {
    CscClient client(Settings(), fetcher_);
    const std::string digest = crypto::Sha256("deny me");
    auto url = client.AuthorizationUrl({"cred-x", {digest, digest}, "st", "ch", "it"});
    ASSERT_TRUE(url);
    for (const std::string& part : std::vector<std::string>{
             "/oauth2/authorize?response_type=code&client_id=firmo&redirect_uri=" +
                 PercentEncode(kRedirect) + "&scope=credential&credentialID=cred-x&numSignatures=2",
             "&hashes=" + Base64UrlEncode(digest) + "%2C" + Base64UrlEncode(digest),
             "&hashAlgorithmOID=2.16.840.1.101.3.4.2.1&state=st&code_challenge=ch"
             "&code_challenge_method=S256&lang=it"}) {
        EXPECT_NE(url->find(part), std::string::npos) << part << " not in " << *url;
    }
    auto bad = client.AuthorizationUrl({"cred-x", {"short"}, "", "ch", ""});
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);

    auto ids = client.ListCredentials(kRsaUser);
    ASSERT_TRUE(ids);
    auto credential = client.CredentialInfo(ids->at(0));
    ASSERT_TRUE(credential);
    auto back = Authorize(client, *credential, {digest}, MakePkce(random_), "deny");
    EXPECT_EQ(back["error"], "access_denied");
    EXPECT_EQ(back["state"], "state-123");
    EXPECT_EQ(back.count("code"), 0U);
}

TEST_F(CscClientTest, AProviderThatDoesNotAnswerIsUnavailable) {
    CscClient client({"http://127.0.0.1:9/csc/v2", "", "firmo", kSecret, kRedirect}, fetcher_,
                     &registry_);
    auto info = client.Info();
    ASSERT_FALSE(info);
    EXPECT_EQ(info.error().code, ErrorCode::kUnavailable);
    EXPECT_EQ(info.error().message.rfind("QTSP info failed: ", 0), 0U) << info.error().message;
    auto& calls = registry_.AddCounterFamily("firmo_csc_calls_total", "", {"call", "outcome"});
    EXPECT_EQ(calls.With({"info", "unavailable"}).Value(), 1U);
}

TEST_F(CscClientTest, GatewaySealsTheVerifierAndItsStateComesBack) {
    CscClient client(Settings(), fetcher_);
    CscGateway gateway(client, random_, std::string(32, 'k'));
    auto ids = client.ListCredentials(kRsaUser);
    ASSERT_TRUE(ids);
    auto credential = client.CredentialInfo(ids->at(0));
    ASSERT_TRUE(credential);
    const std::vector<std::string> digests = {crypto::Sha256("through the gateway")};
    auto start = gateway.StartAuthorization(credential->id, digests);
    ASSERT_TRUE(start) << start.error().message;
    EXPECT_EQ(start->state.size(), 43U);
    EXPECT_NE(start->url.find("state=" + start->state), std::string::npos);
    auto back = Browse(start->url, "allow");
    EXPECT_EQ(back["state"], start->state);
    auto sealed_code = gateway.Seal(back["code"]);
    ASSERT_TRUE(sealed_code);
    EXPECT_EQ(sealed_code->find(back["code"]), std::string::npos);
    // A sealed value altered at rest does not open.
    std::string altered = start->sealed_verifier;
    altered[5] = altered[5] == 'A' ? 'B' : 'A';
    EXPECT_EQ(gateway.ExchangeCode(*sealed_code, altered).error().code, ErrorCode::kForbidden);
    // (the provider never saw that attempt: the code is still good)
    auto token = gateway.ExchangeCode(*sealed_code, start->sealed_verifier);
    ASSERT_TRUE(token) << token.error().message;
    EXPECT_EQ(token->lifetime, std::chrono::seconds(300));  // the provider's expires_in
    auto signatures = gateway.SignHashes(token->sealed, credential->id, digests);
    ASSERT_TRUE(signatures) << signatures.error().message;
    EXPECT_TRUE(VerifiesWith(credential->chain_der[0], digests[0], signatures->at(0)));
}

// Two nodes share the seal key and the database, nothing else: the token node A got for a
// code, sealed, signs on node B (a fresh adapter), while exchanging the spent code again fails.
TEST_F(CscClientTest, ASealedTokenSignsOnAnotherNodeAndTheCodeIsSpent) {
    CscClient client_a(Settings(), fetcher_);
    CscGateway node_a(client_a, random_, std::string(32, 'k'));
    auto ids = client_a.ListCredentials(kRsaUser);
    ASSERT_TRUE(ids);
    const std::vector<std::string> digests = {crypto::Sha256("node a"), crypto::Sha256("node b")};
    auto start = node_a.StartAuthorization(ids->at(0), digests);
    ASSERT_TRUE(start) << start.error().message;
    auto back = Browse(start->url, "allow");
    auto sealed_code = node_a.Seal(back["code"]);
    ASSERT_TRUE(sealed_code);
    auto token = node_a.ExchangeCode(*sealed_code, start->sealed_verifier);
    ASSERT_TRUE(token) << token.error().message;

    CscClient client_b(Settings(), fetcher_, &registry_);
    CscGateway node_b(client_b, random_, std::string(32, 'k'));
    auto again = node_b.ExchangeCode(*sealed_code, start->sealed_verifier);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, ErrorCode::kGone);
    auto signatures = node_b.SignHashes(token->sealed, ids->at(0), digests);
    ASSERT_TRUE(signatures) << signatures.error().message;
    EXPECT_EQ(signatures->size(), 2U);
    // Node B's calls, in /metrics: the refused exchange and the signHash.
    auto& calls = registry_.AddCounterFamily("firmo_csc_calls_total", "", {"call", "outcome"});
    EXPECT_EQ(calls.With({"oauth2/token", "refused"}).Value(), 1U);
    EXPECT_EQ(calls.With({"signatures/signHash", "ok"}).Value(), 1U);
    // A node with another seal key cannot use it.
    CscGateway stranger(client_b, random_, std::string(32, 'x'));
    EXPECT_EQ(stranger.SignHashes(token->sealed, ids->at(0), digests).error().code,
              ErrorCode::kForbidden);
}

}  // namespace
}  // namespace firmo::trust
