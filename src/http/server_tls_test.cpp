// The server over TLS, end to end on a loopback port: real clients (libcurl, and a bare OpenSSL
// client for what curl cannot be made to offer) against certificates made by the openssl
// command line, an implementation independent of the server's.

#include <arpa/inet.h>
#include <curl/curl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "core/testing/temp_dir.hpp"
#include "crypto/openssl_util.hpp"
#include "crypto/testing/openssl_tsa.hpp"
#include "http/server.hpp"
#include "http/tls_context.hpp"

namespace firmo::http {
namespace {

namespace fs = std::filesystem;
using crypto::testing::Shell;
using SslCtxPtr = crypto::OpensslPtr<SSL_CTX, SSL_CTX_free>;
using SslPtr = crypto::OpensslPtr<SSL, SSL_free>;

// A root CA, an intermediate, and server certificates issued by either, in `dir`.
class TestPki {
  public:
    explicit TestPki(fs::path dir) : dir_(std::move(dir)) {
        std::ofstream(dir_ / "pki.cnf") << "[req]\ndistinguished_name = dn\nprompt = no\n[dn]\n"
                                           "[ca_ext]\nbasicConstraints = critical,CA:TRUE\n"
                                           "keyUsage = critical,keyCertSign,cRLSign\n"
                                           "subjectKeyIdentifier = hash\n";
        ok_ =
            Shell("openssl req -x509 -config " + Path("pki.cnf") +
                  " -extensions ca_ext -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
                  "-days 30 -subj '/CN=Firmo Test Root' -keyout " +
                  Path("root.key") + " -out " + Path("root.pem")) == 0 &&
            Shell("openssl req -new -config " + Path("pki.cnf") +
                  " -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
                  "-subj '/CN=Firmo Test Intermediate' -keyout " +
                  Path("intermediate.key") + " -out " + Path("intermediate.csr")) == 0 &&
            Shell("openssl x509 -req -in " + Path("intermediate.csr") + " -CA " + Path("root.pem") +
                  " -CAkey " + Path("root.key") + " -CAcreateserial -days 30 -extfile " +
                  Path("pki.cnf") + " -extensions ca_ext -out " + Path("intermediate.pem")) == 0;
    }
    bool ok() const { return ok_; }
    std::string root() const { return Path("root.pem"); }

    struct Issued {
        std::string cert;  // leaf (and the intermediate when it signed)
        std::string key;
    };
    // `name`.pem / `name`.key for CN=`name`; `san` like "IP:127.0.0.1"; key "ec" or "rsa".
    Issued Issue(const std::string& name, const std::string& san = "IP:127.0.0.1", int days = 30,
                 bool by_intermediate = false, const std::string& key = "ec") {
        std::ofstream(dir_ / (name + ".ext"))
            << "basicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature,"
               "keyEncipherment\nextendedKeyUsage = serverAuth\nsubjectAltName = "
            << san << "\n";
        const std::string issuer = by_intermediate ? "intermediate" : "root";
        const std::string newkey =
            key == "rsa" ? "-newkey rsa:2048" : "-newkey ec -pkeyopt ec_paramgen_curve:P-256";
        const bool made = Shell("openssl req -new -config " + Path("pki.cnf") + " " + newkey +
                                " -nodes -subj '/CN=" + name + "' -keyout " + Path(name + ".key") +
                                " -out " + Path(name + ".csr")) == 0 &&
                          Shell("openssl x509 -req -in " + Path(name + ".csr") + " -CA " +
                                Path(issuer + ".pem") + " -CAkey " + Path(issuer + ".key") +
                                " -CAcreateserial -days " + std::to_string(days) + " -extfile " +
                                Path(name + ".ext") + " -out " + Path(name + ".leaf.pem")) == 0;
        EXPECT_TRUE(made) << "openssl could not issue " << name;
        std::string chain = crypto::testing::Slurp(dir_ / (name + ".leaf.pem"));
        if (by_intermediate) chain += crypto::testing::Slurp(dir_ / "intermediate.pem");
        std::ofstream(dir_ / (name + ".pem")) << chain;
        fs::permissions(dir_ / (name + ".key"), fs::perms::owner_read | fs::perms::owner_write,
                        fs::perm_options::replace);
        return {Path(name + ".pem"), Path(name + ".key")};
    }
    std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  private:
    fs::path dir_;
    bool ok_ = false;
};

// A file descriptor closed on scope exit.
struct Fd {
    int fd = -1;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

// A blocking loopback connection whose reads and writes give up after `timeout`.
int ConnectLoopback(unsigned short port, std::chrono::seconds timeout = std::chrono::seconds(5)) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{static_cast<time_t>(timeout.count()), 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

// What a client saw of the peer closing: true for an orderly close or a reset, false when the
// read timed out with the connection still open. `received` gets any bytes read before.
bool ClosedByPeer(int fd, std::string* received = nullptr) {
    char buf[4096];
    for (;;) {
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n == 0) return true;
        if (n < 0) return errno == ECONNRESET;
        if (received) received->append(buf, static_cast<std::size_t>(n));
    }
}

struct ClientOptions {
    std::string ca_file;  // empty: no verification
    int min_version = TLS1_2_VERSION;
    int max_version = 0;  // 0: the highest
    std::string ciphers;  // TLS 1.2 suites; empty: OpenSSL's
    bool legacy = false;  // security level 0, so that TLS 1.0/1.1 can be offered at all
    std::string alpn;     // wire format, e.g. "\x02h2\x08http/1.1"
};

// A TLS client on OpenSSL directly: it can offer what curl refuses to (TLS 1.1, CBC suites).
class TlsClient {
  public:
    TlsClient(unsigned short port, const ClientOptions& o) {
        ctx_.reset(SSL_CTX_new(TLS_client_method()));
        if (o.legacy) {
            SSL_CTX_set_security_level(ctx_.get(), 0);
            SSL_CTX_set_cipher_list(ctx_.get(), "DEFAULT:@SECLEVEL=0");
        }
        SSL_CTX_set_min_proto_version(ctx_.get(), o.min_version);
        SSL_CTX_set_max_proto_version(ctx_.get(), o.max_version);
        if (!o.ciphers.empty()) SSL_CTX_set_cipher_list(ctx_.get(), o.ciphers.c_str());
        if (!o.ca_file.empty()) {
            SSL_CTX_load_verify_locations(ctx_.get(), o.ca_file.c_str(), nullptr);
            SSL_CTX_set_verify(ctx_.get(), SSL_VERIFY_PEER, nullptr);
        }
        if (!o.alpn.empty()) {
            SSL_CTX_set_alpn_protos(ctx_.get(),
                                    reinterpret_cast<const unsigned char*>(o.alpn.data()),
                                    static_cast<unsigned>(o.alpn.size()));
        }
        socket_.fd = ConnectLoopback(port);
        ssl_.reset(SSL_new(ctx_.get()));
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_.get()), "127.0.0.1");
        SSL_set_fd(ssl_.get(), socket_.fd);
        ERR_clear_error();
        connected_ = SSL_connect(ssl_.get()) == 1;
        error_ = ERR_peek_error();
        ERR_clear_error();
    }

    bool connected() const { return connected_; }
    // OpenSSL's reason for a failed handshake, e.g. SSL_R_TLSV1_ALERT_PROTOCOL_VERSION.
    int reason() const { return ERR_GET_REASON(error_); }
    std::string error() const {
        char buf[256];
        ERR_error_string_n(error_, buf, sizeof buf);
        return buf;
    }
    std::string version() const { return SSL_get_version(ssl_.get()); }
    std::string cipher() const { return SSL_get_cipher_name(ssl_.get()); }
    std::string alpn() const {
        const unsigned char* p = nullptr;
        unsigned len = 0;
        SSL_get0_alpn_selected(ssl_.get(), &p, &len);
        return std::string(reinterpret_cast<const char*>(p), len);
    }
    std::string peer_cn() const {
        X509* cert = SSL_get0_peer_certificate(ssl_.get());
        return cert ? crypto::NameEntry(X509_get_subject_name(cert), NID_commonName) : "";
    }
    int peer_chain_length() const {
        STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl_.get());
        return chain ? sk_X509_num(chain) : 0;
    }

    // One keep-alive request; the body of the answer, or "" when it failed.
    std::string Get(const std::string& path) {
        const std::string request = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
        if (SSL_write(ssl_.get(), request.data(), static_cast<int>(request.size())) <= 0) return "";
        std::string in;
        char buf[4096];
        for (;;) {
            const auto end = in.find("\r\n\r\n");
            if (end != std::string::npos) {
                const auto cl = in.find("Content-Length: ");
                if (cl != std::string::npos && cl < end) {
                    const std::size_t length = std::stoul(in.substr(cl + 16));
                    if (in.size() >= end + 4 + length) return in.substr(end + 4, length);
                }
            }
            const int n = SSL_read(ssl_.get(), buf, sizeof buf);
            if (n <= 0) return "";
            in.append(buf, static_cast<std::size_t>(n));
        }
    }

  private:
    SslCtxPtr ctx_;
    Fd socket_;
    SslPtr ssl_;
    bool connected_ = false;
    unsigned long error_ = 0;
};

struct CurlResult {
    CURLcode code = CURLE_OK;
    long status = 0;
    std::string body;
};

std::size_t Collect(char* data, std::size_t size, std::size_t n, void* out) {
    static_cast<std::string*>(out)->append(data, size * n);
    return size * n;
}

// GET `url` with curl verifying the server against `ca_file` (chain and host name).
CurlResult CurlGet(const std::string& url, const std::string& ca_file) {
    CurlResult r;
    CURL* curl = curl_easy_init();
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file.c_str());
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r.body);
    r.code = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.status);
    curl_easy_cleanup(curl);
    return r;
}

// A server on a free loopback port, run on its own thread until the object goes away.
class RunningServer {
  public:
    explicit RunningServer(ServerOptions options)
        : server_(std::move(options),
                  [](HttpRequest& req) { return HttpResponse::Text(200, "hello " + req.path); }) {}
    ~RunningServer() {
        if (thread_.joinable()) {
            server_.Stop();
            thread_.join();
        }
    }
    Result<void> Start() {
        FIRMO_CHECK(server_.Listen());
        thread_ = std::thread([this] { server_.Run(); });
        return {};
    }
    // Stops and reports whether Run() returned within `limit`.
    bool StopWithin(std::chrono::seconds limit) {
        auto done = std::async(std::launch::async, [this] { thread_.join(); });
        server_.Stop();
        return done.wait_for(limit) == std::future_status::ready;
    }
    Server& server() { return server_; }
    unsigned short port() const { return server_.port(); }
    std::string url(const std::string& path) const {
        return "https://127.0.0.1:" + std::to_string(port()) + path;
    }

  private:
    Server server_;
    std::thread thread_;
};

class TlsServerTest : public ::testing::Test {
  protected:
    void SetUp() override {
        if (!pki_.ok()) FAIL() << "the openssl command line is missing or failed";
        a_ = pki_.Issue("server-a");
    }

    ServerOptions Options(const TestPki::Issued& issued,
                          TlsVersion min_version = TlsVersion::kTls12) {
        ServerOptions o;
        o.host = "127.0.0.1";
        o.port = 0;
        o.read_timeout = std::chrono::seconds(1);
        o.shutdown_grace = std::chrono::seconds(10);
        o.tls = TlsOptions{issued.cert, issued.key, min_version};
        return o;
    }

    std::unique_ptr<RunningServer> Start(ServerOptions options) {
        auto server = std::make_unique<RunningServer>(std::move(options));
        auto started = server->Start();
        EXPECT_TRUE(started) << started.error().message;
        return started ? std::move(server) : nullptr;
    }

    // The error Listen() gives for these files (empty when it succeeded).
    std::string ListenError(const std::string& cert, const std::string& key) {
        ServerOptions o = Options(a_);
        o.tls->cert_file = cert;
        o.tls->key_file = key;
        Server server(o, [](HttpRequest&) { return HttpResponse::Text(200, ""); });
        auto listened = server.Listen();
        return listened ? std::string() : listened.error().message;
    }

    std::string Write(const std::string& name, const std::string& text, fs::perms perms) {
        const auto path = dir_.path() / name;
        std::ofstream(path) << text;
        fs::permissions(path, perms, fs::perm_options::replace);
        return path.string();
    }

    ClientOptions Verified() const { return ClientOptions{pki_.root()}; }

    // The files a reloading server is configured with: copies, to be overwritten by Replace().
    TestPki::Issued Live(const TestPki::Issued& first) {
        TestPki::Issued live{pki_.Path("live.pem"), pki_.Path("live.key")};
        Replace(live, first);
        return live;
    }
    static void Replace(const TestPki::Issued& live, const TestPki::Issued& with) {
        fs::copy_file(with.cert, live.cert, fs::copy_options::overwrite_existing);
        fs::copy_file(with.key, live.key, fs::copy_options::overwrite_existing);
    }

    firmo::testing::TempDir dir_{"firmo-tls"};
    TestPki pki_{dir_.path()};
    TestPki::Issued a_;
};

TEST_F(TlsServerTest, HttpsGetVerifiesTheChainAndTheIpAddress) {
    auto server = Start(Options(a_));
    ASSERT_TRUE(server);
    ASSERT_TRUE(server->server().tls_certificate());
    EXPECT_EQ(server->server().tls_certificate()->subject, "CN=server-a");

    const auto ok = CurlGet(server->url("/healthz"), pki_.root());
    EXPECT_EQ(ok.code, CURLE_OK) << curl_easy_strerror(ok.code);
    EXPECT_EQ(ok.status, 200);
    EXPECT_EQ(ok.body, "hello /healthz");

    // curl checks the name: a certificate for another name is refused on 127.0.0.1 ...
    auto other = Start(Options(pki_.Issue("server-other", "DNS:other.example")));
    ASSERT_TRUE(other);
    EXPECT_EQ(CurlGet(other->url("/healthz"), pki_.root()).code, CURLE_PEER_FAILED_VERIFICATION);
    // ... and so is a chain up to a root it does not trust.
    EXPECT_EQ(CurlGet(server->url("/healthz"), pki_.Path("server-other.leaf.pem")).code,
              CURLE_PEER_FAILED_VERIFICATION);
}

TEST_F(TlsServerTest, ServesTheIntermediatesAfterTheCertificate) {
    auto server = Start(Options(pki_.Issue("server-b", "IP:127.0.0.1", 30, true)));
    ASSERT_TRUE(server);
    EXPECT_EQ(server->server().tls_certificate()->chain_length, 2);
    // The client trusts the root only: the intermediate must come from the server.
    TlsClient client(server->port(), Verified());
    ASSERT_TRUE(client.connected()) << client.error();
    EXPECT_EQ(client.peer_cn(), "server-b");
    EXPECT_EQ(client.peer_chain_length(), 2);
    EXPECT_EQ(CurlGet(server->url("/x"), pki_.root()).body, "hello /x");
}

TEST_F(TlsServerTest, RsaCertificatesWorkToo) {
    auto server = Start(Options(pki_.Issue("server-rsa", "IP:127.0.0.1", 30, false, "rsa")));
    ASSERT_TRUE(server);
    ClientOptions tls12 = Verified();
    tls12.max_version = TLS1_2_VERSION;
    TlsClient client(server->port(), tls12);
    ASSERT_TRUE(client.connected()) << client.error();
    EXPECT_EQ(client.cipher(), "ECDHE-RSA-AES128-GCM-SHA256");
    EXPECT_EQ(client.Get("/rsa"), "hello /rsa");
}

TEST_F(TlsServerTest, NegotiatesModernProtocolsAndHttp11) {
    auto server = Start(Options(a_));
    ASSERT_TRUE(server);
    ClientOptions o = Verified();
    o.alpn = std::string("\x02h2\x08http/1.1", 12);
    TlsClient tls13(server->port(), o);
    ASSERT_TRUE(tls13.connected()) << tls13.error();
    EXPECT_EQ(tls13.version(), "TLSv1.3");
    EXPECT_EQ(tls13.alpn(), "http/1.1");
    EXPECT_EQ(tls13.Get("/alpn"), "hello /alpn");

    // TLS 1.2: the server's order wins over the client's (ChaCha20 listed first).
    o.max_version = TLS1_2_VERSION;
    o.ciphers = "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256";
    TlsClient tls12(server->port(), o);
    ASSERT_TRUE(tls12.connected()) << tls12.error();
    EXPECT_EQ(tls12.version(), "TLSv1.2");
    EXPECT_EQ(tls12.cipher(), "ECDHE-ECDSA-AES128-GCM-SHA256");
}

TEST_F(TlsServerTest, RefusesTls11AndNonAeadSuites) {
    auto server = Start(Options(a_));
    ASSERT_TRUE(server);
    // The same legacy-capable client gets in with TLS 1.2: the refusal below is the server's.
    ClientOptions legacy{.legacy = true};
    legacy.min_version = TLS1_VERSION;
    legacy.max_version = TLS1_2_VERSION;
    EXPECT_TRUE(TlsClient(server->port(), legacy).connected());

    legacy.max_version = TLS1_1_VERSION;
    TlsClient tls11(server->port(), legacy);
    EXPECT_FALSE(tls11.connected());
    EXPECT_EQ(tls11.reason(), SSL_R_TLSV1_ALERT_PROTOCOL_VERSION) << tls11.error();
    legacy.min_version = TLS1_VERSION;
    legacy.max_version = TLS1_VERSION;
    TlsClient tls10(server->port(), legacy);
    EXPECT_FALSE(tls10.connected());
    EXPECT_EQ(tls10.reason(), SSL_R_TLSV1_ALERT_PROTOCOL_VERSION) << tls10.error();

    ClientOptions cbc;
    cbc.max_version = TLS1_2_VERSION;
    cbc.ciphers = "ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES256-SHA";
    TlsClient cbc_client(server->port(), cbc);
    EXPECT_FALSE(cbc_client.connected());
    EXPECT_EQ(cbc_client.reason(), SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE) << cbc_client.error();

    // Still serving.
    EXPECT_EQ(CurlGet(server->url("/after"), pki_.root()).body, "hello /after");
}

TEST_F(TlsServerTest, MinimumVersion13RefusesTls12) {
    auto server = Start(Options(a_, TlsVersion::kTls13));
    ASSERT_TRUE(server);
    ClientOptions tls12 = Verified();
    tls12.max_version = TLS1_2_VERSION;
    TlsClient old(server->port(), tls12);
    EXPECT_FALSE(old.connected());
    EXPECT_EQ(old.reason(), SSL_R_TLSV1_ALERT_PROTOCOL_VERSION) << old.error();
    TlsClient current(server->port(), Verified());
    ASSERT_TRUE(current.connected()) << current.error();
    EXPECT_EQ(current.version(), "TLSv1.3");
}

TEST_F(TlsServerTest, PlainHttpOnTheTlsPortIsClosedUnanswered) {
    auto server = Start(Options(a_));
    ASSERT_TRUE(server);
    Fd plain{ConnectLoopback(server->port())};
    ASSERT_GE(plain.fd, 0);
    const std::string request = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    ASSERT_EQ(::send(plain.fd, request.data(), request.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(request.size()));
    std::string received;
    EXPECT_TRUE(ClosedByPeer(plain.fd, &received));
    EXPECT_EQ(received.find("HTTP/"), std::string::npos) << received;
    EXPECT_EQ(CurlGet(server->url("/healthz"), pki_.root()).body, "hello /healthz");
}

TEST_F(TlsServerTest, ClientsThatNeverFinishTheHandshakeAreCutOff) {
    auto server = Start(Options(a_));  // read_timeout 1 s; the client waits up to 5 s
    ASSERT_TRUE(server);
    Fd silent{ConnectLoopback(server->port())};
    ASSERT_GE(silent.fd, 0);
    Fd partial{ConnectLoopback(server->port())};
    ASSERT_GE(partial.fd, 0);
    // The first bytes of a ClientHello record, then nothing.
    const char hello_start[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01};
    ASSERT_EQ(::send(partial.fd, hello_start, sizeof hello_start, MSG_NOSIGNAL),
              static_cast<ssize_t>(sizeof hello_start));
    EXPECT_TRUE(ClosedByPeer(silent.fd));
    EXPECT_TRUE(ClosedByPeer(partial.fd));
    EXPECT_EQ(CurlGet(server->url("/healthz"), pki_.root()).body, "hello /healthz");
}

TEST_F(TlsServerTest, BadFilesStopListenWithTheReason) {
    const auto rw = fs::perms::owner_read | fs::perms::owner_write;
    const auto missing = ListenError(pki_.Path("nope.pem"), a_.key);
    EXPECT_NE(missing.find("TLS certificate file " + pki_.Path("nope.pem") +
                           ": No such file or directory"),
              std::string::npos)
        << missing;
    const auto missing_key = ListenError(a_.cert, pki_.Path("nope.key"));
    EXPECT_NE(missing_key.find("TLS key file " + pki_.Path("nope.key")), std::string::npos)
        << missing_key;

    const auto garbage = Write("garbage.pem", "not a certificate\n", rw);
    EXPECT_NE(ListenError(garbage, a_.key).find("no PEM certificate"), std::string::npos);
    EXPECT_NE(ListenError(a_.cert, garbage).find("no PEM private key"), std::string::npos);

    const auto other = pki_.Issue("server-c");
    const auto mismatch = ListenError(a_.cert, other.key);
    EXPECT_NE(mismatch.find("does not match the certificate in " + a_.cert), std::string::npos)
        << mismatch;

    const auto world = Write("world.key", crypto::testing::Slurp(a_.key),
                             rw | fs::perms::group_read | fs::perms::others_read);
    const auto world_error = ListenError(a_.cert, world);
    EXPECT_NE(world_error.find("other users can read it (mode 0644)"), std::string::npos)
        << world_error;
    // Group access is a warning only (Debian's ssl-cert group).
    const auto group =
        Write("group.key", crypto::testing::Slurp(a_.key), rw | fs::perms::group_read);
    EXPECT_EQ(ListenError(a_.cert, group), "");

    ASSERT_EQ(Shell("openssl pkey -in " + a_.key + " -aes256 -passout pass:secret -out " +
                    pki_.Path("encrypted.key")),
              0);
    fs::permissions(pki_.Path("encrypted.key"), rw, fs::perm_options::replace);
    EXPECT_NE(ListenError(a_.cert, pki_.Path("encrypted.key")).find("encrypted"),
              std::string::npos);

    // The intermediate before the certificate it issued.
    const auto b = pki_.Issue("server-b", "IP:127.0.0.1", 30, true);
    const auto reversed = Write("reversed.pem",
                                crypto::testing::Slurp(pki_.Path("intermediate.pem")) +
                                    crypto::testing::Slurp(pki_.Path("server-b.leaf.pem")),
                                rw);
    const auto order = ListenError(reversed, b.key);
    EXPECT_NE(order.find("did not issue certificate 1"), std::string::npos) << order;

    EXPECT_EQ(ListenError(a_.cert, a_.key), "");
}

TEST_F(TlsServerTest, ReloadServesTheNewCertificateToNewConnections) {
    const auto live = Live(a_);
    auto server = Start(Options(live));
    ASSERT_TRUE(server);
    TlsClient before(server->port(), Verified());
    ASSERT_TRUE(before.connected()) << before.error();
    EXPECT_EQ(before.peer_cn(), "server-a");
    EXPECT_EQ(before.Get("/1"), "hello /1");

    Replace(live, pki_.Issue("server-b"));
    auto reloaded = server->server().ReloadTls();
    ASSERT_TRUE(reloaded) << reloaded.error().message;
    EXPECT_EQ(reloaded->subject, "CN=server-b");
    TlsClient after(server->port(), Verified());
    ASSERT_TRUE(after.connected()) << after.error();
    EXPECT_EQ(after.peer_cn(), "server-b");
    // The connection opened before the reload goes on.
    EXPECT_EQ(before.Get("/2"), "hello /2");

    // Broken files: the error says why, and the last good certificate stays.
    std::ofstream(live.key, std::ios::trunc) << "broken";
    auto failed = server->server().ReloadTls();
    ASSERT_FALSE(failed);
    EXPECT_NE(failed.error().message.find("no PEM private key"), std::string::npos);
    EXPECT_EQ(server->server().tls_certificate()->subject, "CN=server-b");
    TlsClient still(server->port(), Verified());
    ASSERT_TRUE(still.connected()) << still.error();
    EXPECT_EQ(still.peer_cn(), "server-b");
}

TEST_F(TlsServerTest, SighupReloadsTheCertificate) {
    const auto live = Live(a_);
    auto server = Start(Options(live));
    ASSERT_TRUE(server);
    EXPECT_EQ(TlsClient(server->port(), Verified()).peer_cn(), "server-a");

    Replace(live, pki_.Issue("server-b"));
    ASSERT_EQ(::kill(::getpid(), SIGHUP), 0);  // the process would end if nobody handled it
    std::string seen;
    for (int i = 0; i < 100 && seen != "server-b"; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        seen = TlsClient(server->port(), Verified()).peer_cn();
    }
    EXPECT_EQ(seen, "server-b");
}

TEST_F(TlsServerTest, StopClosesIdleAndHandshakingConnections) {
    auto server = Start(Options(a_));
    ASSERT_TRUE(server);
    TlsClient idle(server->port(), Verified());
    ASSERT_TRUE(idle.connected()) << idle.error();
    EXPECT_EQ(idle.Get("/idle"), "hello /idle");
    Fd handshaking{ConnectLoopback(server->port())};
    ASSERT_GE(handshaking.fd, 0);
    // shutdown_grace is 10 s: returning well before means the connections were closed.
    EXPECT_TRUE(server->StopWithin(std::chrono::seconds(5)));
}

TEST_F(TlsServerTest, StartupLogNamesTheCertificateAndWarnsBeforeExpiry) {
    const auto soon = pki_.Issue("server-soon", "IP:127.0.0.1", 3);
    ::testing::internal::CaptureStderr();
    {
        auto server = Start(Options(soon));
        ASSERT_TRUE(server);
    }
    const std::string log = ::testing::internal::GetCapturedStderr();
    EXPECT_NE(log.find("tls_enabled"), std::string::npos) << log;
    EXPECT_NE(log.find("CN=server-soon"), std::string::npos) << log;
    EXPECT_NE(log.find("not_after"), std::string::npos) << log;
    EXPECT_NE(log.find("tls_certificate_expires_soon"), std::string::npos) << log;

    ::testing::internal::CaptureStderr();
    {
        auto server = Start(Options(a_));  // 30 days
        ASSERT_TRUE(server);
    }
    const std::string quiet = ::testing::internal::GetCapturedStderr();
    EXPECT_NE(quiet.find("tls_enabled"), std::string::npos) << quiet;
    EXPECT_EQ(quiet.find("expires_soon"), std::string::npos) << quiet;
}

TEST(TlsExpiry, WarnsFourteenDaysAhead) {
    const Timestamp now = Timestamp(std::chrono::seconds(1'800'000'000));
    TlsCertificateInfo c;
    c.not_after = now + std::chrono::days(15);
    EXPECT_EQ(ExpiryAt(c, now), CertificateExpiry::kValid);
    c.not_after = now + std::chrono::days(14);
    EXPECT_EQ(ExpiryAt(c, now), CertificateExpiry::kExpiresSoon);
    c.not_after = now + std::chrono::seconds(1);
    EXPECT_EQ(ExpiryAt(c, now), CertificateExpiry::kExpiresSoon);
    c.not_after = now;
    EXPECT_EQ(ExpiryAt(c, now), CertificateExpiry::kExpired);
    c.not_after = now - std::chrono::days(1);
    EXPECT_EQ(ExpiryAt(c, now), CertificateExpiry::kExpired);
}

}  // namespace
}  // namespace firmo::http
