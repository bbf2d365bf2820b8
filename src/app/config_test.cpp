#include "app/config.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace firmo::app {
namespace {

Result<Config> Load(const std::vector<std::string>& argv) {
    auto args = ParseArgs(argv);
    if (!args) return tl::unexpected(args.error());
    return LoadConfig(*args);
}

TEST(Config, DefaultsThenFileThenEnvThenFlags) {
    const auto file = std::filesystem::temp_directory_path() / "firmo-config-test.toml";
    {
        std::ofstream out(file);
        out << "[server]\nlisten = \"127.0.0.1:9000\"\nworker_threads = 3\n"
               "[storage]\ndata_dir = \"/tmp/from-file\"\n";
    }
    ::unsetenv("FIRMO_LISTEN");
    ::setenv("FIRMO_DATA_DIR", "/tmp/from-env", 1);
    auto c = Load({"serve", "--config", file.string(), "--worker-threads=6"});
    ::unsetenv("FIRMO_DATA_DIR");
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c->listen, "127.0.0.1:9000");
    EXPECT_EQ(c->port(), 9000);
    EXPECT_EQ(c->data_dir, "/tmp/from-env");
    EXPECT_EQ(c->database_threads, 6);  // worker_threads: the database lane's former name
    EXPECT_EQ(c->io_threads, 0);        // one per core
    std::filesystem::remove(file);
}

TEST(Config, RejectsUnknownKeysAndBadValues) {
    const auto file = std::filesystem::temp_directory_path() / "firmo-config-bad.toml";
    {
        std::ofstream out(file);
        out << "[server]\nlisten_adress = \"x\"\n";
    }
    auto c = Load({"serve", "--config", file.string()});
    ASSERT_FALSE(c);
    EXPECT_NE(c.error().message.find("server.listen_adress"), std::string::npos);
    std::filesystem::remove(file);
    EXPECT_FALSE(Load({"serve", "--config", "/nonexistent/firmo.toml"}));
    EXPECT_FALSE(Load({"serve", "--listen", "nohost"}));
    EXPECT_FALSE(Load({"serve", "--listen", "127.0.0.1:99999"}));
    EXPECT_FALSE(Load({"serve", "--worker-threads", "-1"}));
    EXPECT_FALSE(Load({"serve", "--heavy-threads", "0"}));
    EXPECT_FALSE(Load({"serve", "--log-format", "xml"}));
    EXPECT_FALSE(Load({"serve", "--metrics-allow", "localhost"}));
    EXPECT_FALSE(Load({"serve", "--node-id", "a b"}));
    EXPECT_FALSE(Load({"serve", "--log-level", "loud"}));
    EXPECT_FALSE(Load({"serve", "--public-url", "ftp://x"}));
    EXPECT_TRUE(Load({"serve", "--listen", "127.0.0.1:0"}));
    EXPECT_FALSE(ParseArgs({"serve", "--listen"}));
}

TEST(Config, LanesLogFormatNodeAndMetricsAllow) {
    auto defaults = Load({"serve"});
    ASSERT_TRUE(defaults);
    EXPECT_EQ(defaults->database_threads, -1);  // auto
    EXPECT_EQ(defaults->heavy_threads, 2);
    EXPECT_EQ(defaults->heavy_queue, 16);
    EXPECT_EQ(defaults->log_format, "text");
    EXPECT_EQ(defaults->node_id, "");
    EXPECT_EQ(defaults->metrics_allow, "127.0.0.0/8, ::1");
    auto c =
        Load({"serve", "--database-threads", "auto", "--heavy-threads", "3", "--heavy-queue", "0",
              "--log-format", "json", "--node-id", "web-1", "--metrics-allow", "10.0.0.0/8"});
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c->database_threads, -1);
    EXPECT_EQ(c->heavy_threads, 3);
    EXPECT_EQ(c->heavy_queue, 0);
    EXPECT_EQ(c->log_format, "json");
    EXPECT_EQ(c->node_id, "web-1");
    EXPECT_EQ(c->metrics_allow, "10.0.0.0/8");
    ::setenv("FIRMO_LOG_FORMAT", "json", 1);
    auto env = Load({"serve", "--database-threads", "4"});
    ::unsetenv("FIRMO_LOG_FORMAT");
    ASSERT_TRUE(env);
    EXPECT_EQ(env->log_format, "json");
    EXPECT_EQ(env->database_threads, 4);
}

TEST(Config, JobLeaseFromFileEnvAndFlagWithinItsRange) {
    ::unsetenv("FIRMO_JOB_LEASE_MS");
    auto defaults = Load({"serve"});
    ASSERT_TRUE(defaults) << defaults.error().message;
    EXPECT_EQ(defaults->job_lease_ms, 60'000);

    const auto file = std::filesystem::temp_directory_path() / "firmo-config-lease.toml";
    {
        std::ofstream out(file);
        out << "[jobs]\nlease_ms = 5000\n";
    }
    auto from_file = Load({"serve", "--config", file.string()});
    ASSERT_TRUE(from_file) << from_file.error().message;
    EXPECT_EQ(from_file->job_lease_ms, 5000);
    ::setenv("FIRMO_JOB_LEASE_MS", "7000", 1);
    auto from_env = Load({"serve", "--config", file.string()});
    auto from_flag = Load({"serve", "--config", file.string(), "--job-lease-ms", "9000"});
    ::unsetenv("FIRMO_JOB_LEASE_MS");
    std::filesystem::remove(file);
    ASSERT_TRUE(from_env) << from_env.error().message;
    EXPECT_EQ(from_env->job_lease_ms, 7000);
    ASSERT_TRUE(from_flag) << from_flag.error().message;
    EXPECT_EQ(from_flag->job_lease_ms, 9000);

    // 1 s .. 1 h: shorter leases would expire under a busy node's ordinary jobs.
    EXPECT_TRUE(Load({"serve", "--job-lease-ms", "1000"}));
    EXPECT_TRUE(Load({"serve", "--job-lease-ms", "3600000"}));
    EXPECT_FALSE(Load({"serve", "--job-lease-ms", "999"}));
    EXPECT_FALSE(Load({"serve", "--job-lease-ms", "3600001"}));
    EXPECT_FALSE(Load({"serve", "--job-lease-ms", "60s"}));
    ::setenv("FIRMO_JOB_LEASE_MS", "0", 1);
    auto bad_env = Load({"serve"});
    ::unsetenv("FIRMO_JOB_LEASE_MS");
    ASSERT_FALSE(bad_env);
    EXPECT_NE(bad_env.error().message.find("FIRMO_JOB_LEASE_MS"), std::string::npos);
}

TEST(Config, TlsNeedsBothFilesFromAnySource) {
    ::unsetenv("FIRMO_TLS_CERT_FILE");
    ::unsetenv("FIRMO_TLS_KEY_FILE");
    auto plain = Load({"serve"});
    ASSERT_TRUE(plain) << plain.error().message;
    EXPECT_FALSE(plain->tls());
    EXPECT_EQ(plain->tls_min_version, "1.2");

    auto only_cert = Load({"serve", "--tls-cert-file", "/etc/firmo/chain.pem"});
    ASSERT_FALSE(only_cert);
    EXPECT_NE(only_cert.error().message.find("server.tls_key_file is missing"), std::string::npos)
        << only_cert.error().message;
    auto only_key = Load({"serve", "--tls-key-file", "/etc/firmo/key.pem"});
    ASSERT_FALSE(only_key);
    EXPECT_NE(only_key.error().message.find("server.tls_cert_file is missing"), std::string::npos)
        << only_key.error().message;

    // One from the environment, the other from a flag.
    ::setenv("FIRMO_TLS_CERT_FILE", "/etc/firmo/chain.pem", 1);
    auto both = Load({"serve", "--tls-key-file=/etc/firmo/key.pem", "--tls-min-version", "1.3"});
    ::unsetenv("FIRMO_TLS_CERT_FILE");
    ASSERT_TRUE(both) << both.error().message;
    EXPECT_TRUE(both->tls());
    EXPECT_EQ(both->tls_cert_file, "/etc/firmo/chain.pem");
    EXPECT_EQ(both->tls_key_file, "/etc/firmo/key.pem");
    EXPECT_EQ(both->tls_min_version, "1.3");

    EXPECT_FALSE(Load({"serve", "--tls-min-version", "1.1"}));
    EXPECT_FALSE(Load({"serve", "--tls-min-version", "1.0"}));
}

TEST(Config, PublicUrlFollowsTheSchemeUnlessSet) {
    Config c;
    c.listen = "127.0.0.1:0";
    EXPECT_EQ(c.ListenUrl(8080), "http://127.0.0.1:8080");
    EXPECT_EQ(c.PublicUrl(8080), "http://127.0.0.1:8080");
    c.tls_cert_file = "chain.pem";
    c.tls_key_file = "key.pem";
    EXPECT_EQ(c.ListenUrl(8443), "https://127.0.0.1:8443");
    EXPECT_EQ(c.PublicUrl(8443), "https://127.0.0.1:8443");
    c.public_url = "https://sign.example.org";
    EXPECT_EQ(c.PublicUrl(8443), "https://sign.example.org");
}

TEST(Config, SecureCookiesUnlessPlainHttpLoopback) {
    Config c;
    ASSERT_EQ(c.secure_cookies, "auto");
    EXPECT_FALSE(c.SecureCookies("http://127.0.0.1:8080"));
    EXPECT_FALSE(c.SecureCookies("http://localhost:8080"));
    EXPECT_FALSE(c.SecureCookies("http://[::1]:8080"));
    // HTTPS served by Firmo on loopback: browsers keep Secure cookies there.
    EXPECT_TRUE(c.SecureCookies("https://127.0.0.1:8443"));
    EXPECT_TRUE(c.SecureCookies("https://localhost:8443"));
    EXPECT_TRUE(c.SecureCookies("https://sign.example.org"));
    EXPECT_TRUE(c.SecureCookies("http://sign.example.org"));
    c.secure_cookies = "false";
    EXPECT_FALSE(c.SecureCookies("https://sign.example.org"));
    c.secure_cookies = "true";
    EXPECT_TRUE(c.SecureCookies("http://127.0.0.1:8080"));
}

TEST(Config, ParsesHostAndPort) {
    Config c;
    c.listen = "[::1]:8443";
    EXPECT_EQ(c.host(), "::1");
    EXPECT_EQ(c.port(), 8443);
}

}  // namespace
}  // namespace firmo::app
