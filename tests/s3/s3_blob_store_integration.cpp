// The S3 blob store against a real S3 server: tests/s3/start.mjs (npm s3rver behind a strict
// SigV4 check) on a loopback port, started once for the suite. Path-style addressing (virtual
// hosts need DNS for bucket.host; their URL building is unit-tested in src/store/s3).

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>
#include <utility>
#include <vector>

#include "core/encoding.hpp"
#include "crypto/digest.hpp"
#include "store/s3/s3_blob_store.hpp"

namespace firmo::store {
namespace {

namespace fs = std::filesystem;

const char* const kBucket = "firmo-test";

// Runs `node start.mjs --bucket firmo-test` and reads its "S3 endpoint: ..." line. The server
// stops when its stdin closes (so also if this process dies) or on SIGTERM.
class LoopbackS3 {
  public:
    LoopbackS3() {
        const fs::path dir = FIRMO_S3_TEST_DIR;
        if (!fs::exists(dir / "node_modules" / "s3rver")) {
            error_ = "run `npm ci` in " + dir.string() + " first (the build does it)";
            return;
        }
        int out[2];
        int in[2];
        if (pipe2(out, O_CLOEXEC) != 0 || pipe2(in, O_CLOEXEC) != 0) {
            error_ = "pipe failed";
            return;
        }
        const std::string script = (dir / "start.mjs").string();
        pid_ = fork();
        if (pid_ == 0) {
            prctl(PR_SET_PDEATHSIG, SIGTERM);
            dup2(out[1], STDOUT_FILENO);
            dup2(in[0], STDIN_FILENO);
            execl(FIRMO_NODE, "node", script.c_str(), "--bucket", kBucket,
                  static_cast<char*>(nullptr));
            _exit(127);
        }
        close(out[1]);
        close(in[0]);
        stdin_fd_ = in[1];
        if (pid_ < 0) {
            close(out[0]);
            error_ = "fork failed";
            return;
        }
        stdout_fd_ = out[0];
        std::string line;
        char c;
        while (read(stdout_fd_, &c, 1) == 1) {
            if (c != '\n') {
                line += c;
                continue;
            }
            constexpr std::string_view kTag = "S3 endpoint: ";
            if (line.rfind(kTag, 0) == 0) {
                endpoint_ = line.substr(kTag.size());
                break;
            }
            line.clear();
        }
        if (endpoint_.empty()) error_ = "start.mjs printed no endpoint";
        // Keep reading stdout (so the server never blocks on a full pipe): its request log.
        drain_ = std::thread([this] {
            std::string partial;
            char buf[4096];
            ssize_t n;
            while ((n = read(stdout_fd_, buf, sizeof buf)) > 0) {
                partial.append(buf, static_cast<std::size_t>(n));
                std::size_t nl;
                while ((nl = partial.find('\n')) != std::string::npos) {
                    std::lock_guard lock(mutex_);
                    requests_.push_back(partial.substr(0, nl));
                    partial.erase(0, nl + 1);
                }
            }
        });
    }
    ~LoopbackS3() {
        if (stdin_fd_ >= 0) close(stdin_fd_);
        if (pid_ > 0) {
            kill(pid_, SIGTERM);
            int status = 0;
            waitpid(pid_, &status, 0);
        }
        if (drain_.joinable()) drain_.join();
        if (stdout_fd_ >= 0) close(stdout_fd_);
    }
    LoopbackS3(const LoopbackS3&) = delete;
    LoopbackS3& operator=(const LoopbackS3&) = delete;

    const std::string& endpoint() const { return endpoint_; }
    const std::string& error() const { return error_; }
    // The "request: METHOD URL STATUS" lines logged so far, then forgotten.
    std::vector<std::string> TakeRequests() {
        std::lock_guard lock(mutex_);
        return std::exchange(requests_, {});
    }

  private:
    pid_t pid_ = -1;
    int stdout_fd_ = -1;
    int stdin_fd_ = -1;
    std::thread drain_;
    std::string endpoint_;
    std::string error_;
    std::mutex mutex_;
    std::vector<std::string> requests_;
};

// Runs a shell command and returns its standard output.
std::string Shell(const std::string& command) {
    std::string out;
    FILE* p = popen(command.c_str(), "r");
    if (p == nullptr) return out;
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    pclose(p);
    return out;
}

std::string ReadFile(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string Sha256Hex(std::string_view data) { return HexEncode(crypto::Sha256(data)); }

class S3BlobStoreIntegration : public ::testing::Test {
  protected:
    static void SetUpTestSuite() { server_ = new LoopbackS3(); }
    static void TearDownTestSuite() {
        delete server_;
        server_ = nullptr;
    }
    void SetUp() override {
        ASSERT_TRUE(server_->error().empty()) << server_->error();
        server_->TakeRequests();
        tmp_ = fs::temp_directory_path() /
               ("firmo-s3-it-" + std::to_string(getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::create_directories(tmp_);
    }
    void TearDown() override { fs::remove_all(tmp_); }

    static S3Options Options(std::string prefix = "it") {
        S3Options o;
        o.endpoint = server_->endpoint();
        o.bucket = kBucket;
        o.prefix = std::move(prefix);
        o.access_key = "S3RVER";
        o.secret_key = "S3RVER";
        o.timeout = std::chrono::milliseconds(60000);
        return o;
    }
    static std::unique_ptr<S3BlobStore> Store(const S3Options& o) {
        auto store = S3BlobStore::Create(o);
        EXPECT_TRUE(store) << store.error().message;
        return store ? std::move(*store) : nullptr;
    }

    static LoopbackS3* server_;
    fs::path tmp_;
};

LoopbackS3* S3BlobStoreIntegration::server_ = nullptr;

TEST_F(S3BlobStoreIntegration, PutGetRemove) {
    auto store = Store(Options());
    ASSERT_TRUE(store);
    const std::string doc = "%PDF-1.7 hello S3";
    auto info = store->Put("requests/a/b.pdf", doc);
    ASSERT_TRUE(info) << info.error().message;
    EXPECT_EQ(info->size, static_cast<std::int64_t>(doc.size()));
    EXPECT_EQ(info->sha256_hex, Sha256Hex(doc));
    auto got = store->Get("requests/a/b.pdf");
    ASSERT_TRUE(got) << got.error().message;
    EXPECT_EQ(*got, doc);
    // Overwrite is a whole new blob.
    ASSERT_TRUE(store->Put("requests/a/b.pdf", "v2"));
    EXPECT_EQ(store->Get("requests/a/b.pdf"), std::string("v2"));
    // Empty blobs are blobs.
    auto empty = store->Put("requests/a/empty", "");
    ASSERT_TRUE(empty) << empty.error().message;
    EXPECT_EQ(empty->sha256_hex, Sha256Hex(""));
    EXPECT_EQ(store->Get("requests/a/empty"), std::string());

    ASSERT_TRUE(store->Remove("requests/a/b.pdf"));
    auto gone = store->Get("requests/a/b.pdf");
    ASSERT_FALSE(gone);
    EXPECT_EQ(gone.error().code, ErrorCode::kNotFound);
    // Remove is idempotent.
    EXPECT_TRUE(store->Remove("requests/a/b.pdf"));
    EXPECT_TRUE(store->Remove("requests/never/there.pdf"));
}

TEST_F(S3BlobStoreIntegration, PrefixesSeparateStores) {
    auto a = Store(Options("node-a"));
    auto b = Store(Options("node-b"));
    ASSERT_TRUE(a && b);
    ASSERT_TRUE(a->Put("k.pdf", "from a"));
    EXPECT_EQ(b->Get("k.pdf").error().code, ErrorCode::kNotFound);
    EXPECT_EQ(a->Get("k.pdf"), std::string("from a"));
    // A bare presigned GET of the prefixed key proves where the object really lives.
    auto url = a->PresignedUrl("GET", "k.pdf", 60);
    ASSERT_TRUE(url);
    EXPECT_NE(url->find("/" + std::string(kBucket) + "/node-a/k.pdf?"), std::string::npos);
}

// The file's SHA-256, read in 1 MiB pieces (never the whole file in memory).
std::string FileSha256Hex(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    crypto::Sha256Stream sha;
    std::string buf(std::size_t{1} << 20, '\0');
    while (in.read(buf.data(), static_cast<std::streamsize>(buf.size())) || in.gcount() > 0) {
        sha.Update(std::string_view(buf.data(), static_cast<std::size_t>(in.gcount())));
    }
    return HexEncode(sha.Finish());
}

TEST_F(S3BlobStoreIntegration, MultipartUploadOfALargeBlob) {
    // 100 MB (the size issue 6 asks for) in 8 MiB parts. At most one copy of the blob is in this
    // process's memory at a time: the upload's, then the download's; the local copy is hashed
    // from the file.
    constexpr std::size_t kSize = 100'000'000;
    S3Options o = Options();
    o.part_size = std::size_t{8} << 20;
    o.multipart_threshold = std::size_t{16} << 20;
    auto store = Store(o);
    ASSERT_TRUE(store);
    std::string big(kSize, '\0');
    std::mt19937_64 rng(42);
    for (std::size_t i = 0; i + 8 <= big.size(); i += 8) {
        const std::uint64_t v = rng();
        std::memcpy(big.data() + i, &v, 8);
    }
    const std::string sha = Sha256Hex(big);
    auto info = store->Put("big/doc.pdf", big);
    std::string().swap(big);
    ASSERT_TRUE(info) << info.error().message;
    EXPECT_EQ(info->size, static_cast<std::int64_t>(kSize));
    EXPECT_EQ(info->sha256_hex, sha);

    // The server saw a multipart upload: create, 12 parts (11 x 8 MiB + the rest), complete.
    // (The server logs a request when its answer is sent: wait a little for the last line.)
    const std::size_t expected_parts = (kSize + o.part_size - 1) / o.part_size;
    ASSERT_EQ(expected_parts, 12u);
    std::vector<std::string> requests;
    for (int i = 0; i < 50; ++i) {
        for (std::string& r : server_->TakeRequests()) requests.push_back(std::move(r));
        if (!requests.empty() && requests.back().find("?uploadId=") != std::string::npos &&
            requests.back().rfind("request: POST ", 0) == 0) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    int creates = 0, parts = 0, completes = 0, single_puts = 0;
    for (const std::string& r : requests) {
        if (r.find("/big/doc.pdf") == std::string::npos) continue;
        if (r.rfind("request: POST ", 0) == 0 && r.find("?uploads=") != std::string::npos &&
            r.ends_with(" 200")) {
            ++creates;
        } else if (r.rfind("request: PUT ", 0) == 0 && r.find("partNumber=") != std::string::npos &&
                   r.ends_with(" 200")) {
            ++parts;
        } else if (r.rfind("request: POST ", 0) == 0 && r.find("?uploadId=") != std::string::npos &&
                   r.ends_with(" 200")) {
            ++completes;
        } else if (r.rfind("request: PUT ", 0) == 0) {
            ++single_puts;
        }
    }
    EXPECT_EQ(creates, 1);
    EXPECT_EQ(parts, static_cast<int>(expected_parts));
    EXPECT_EQ(completes, 1);
    EXPECT_EQ(single_puts, 0);

    {
        auto got = store->Get("big/doc.pdf");
        ASSERT_TRUE(got) << got.error().message;
        EXPECT_EQ(got->size(), kSize);
        EXPECT_EQ(Sha256Hex(*got), sha);
    }
    std::string local_sha;
    std::uintmax_t local_size = 0;
    ASSERT_TRUE(store->WithLocalFile("big/doc.pdf", [&](const fs::path& p) {
        local_size = fs::file_size(p);
        local_sha = FileSha256Hex(p);
    }));
    EXPECT_EQ(local_size, kSize);
    EXPECT_EQ(local_sha, sha);
    ASSERT_TRUE(store->Remove("big/doc.pdf"));
}

TEST_F(S3BlobStoreIntegration, WithLocalFileIsATemporaryCopy) {
    auto store = Store(Options());
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->Put("local/x.pdf", "%PDF local"));
    fs::path seen;
    std::string contents;
    ASSERT_TRUE(store->WithLocalFile("local/x.pdf", [&](const fs::path& p) {
        seen = p;
        contents = ReadFile(p);
    }));
    EXPECT_EQ(contents, "%PDF local");
    EXPECT_FALSE(seen.empty());
    EXPECT_FALSE(fs::exists(seen)) << "the temporary copy must be removed";

    bool called = false;
    auto missing = store->WithLocalFile("local/none.pdf", [&](const fs::path&) { called = true; });
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
    EXPECT_FALSE(called);
}

TEST_F(S3BlobStoreIntegration, PresignedPutAndGetWithPlainCurl) {
    auto store = Store(Options());
    ASSERT_TRUE(store);
    const fs::path upload = tmp_ / "upload.pdf";
    std::ofstream(upload, std::ios::binary) << "%PDF uploaded by a browser";

    auto put_url = store->PresignedUrl("PUT", "up/r1.pdf", 300, "application/pdf");
    ASSERT_TRUE(put_url) << put_url.error().message;
    const std::string put_status = Shell(
        "curl -s -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: application/pdf' "
        "--data-binary @'" +
        upload.string() + "' '" + *put_url + "'");
    EXPECT_EQ(put_status, "200");
    EXPECT_EQ(store->Get("up/r1.pdf"), std::string("%PDF uploaded by a browser"));

    // The content type is signed: another one is refused.
    const std::string wrong_type = Shell(
        "curl -s -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: text/plain' "
        "--data-binary @'" +
        upload.string() + "' '" + *put_url + "'");
    EXPECT_EQ(wrong_type, "403");

    auto get_url = store->PresignedUrl("GET", "up/r1.pdf", 300);
    ASSERT_TRUE(get_url);
    EXPECT_EQ(Shell("curl -s '" + *get_url + "'"), "%PDF uploaded by a browser");
    // A tampered URL (another key) is refused.
    std::string tampered = *get_url;
    tampered.replace(tampered.find("r1.pdf"), 6, "r2.pdf");
    EXPECT_EQ(Shell("curl -s -o /dev/null -w '%{http_code}' '" + tampered + "'"), "403");
}

TEST_F(S3BlobStoreIntegration, StatTellsTheSizeOrNothing) {
    auto store = Store(Options());
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->Put("stat/a.pdf", "twelve bytes"));
    auto found = store->Stat("stat/a.pdf");
    ASSERT_TRUE(found) << found.error().message;
    ASSERT_TRUE(*found);
    EXPECT_EQ((*found)->size, 12);
    auto missing = store->Stat("stat/none.pdf");
    ASSERT_TRUE(missing) << missing.error().message;
    EXPECT_FALSE(*missing);
}

// What issuers get with storage.s3_direct_urls: URLs signed for the public endpoint (here
// "localhost" for the nodes' "127.0.0.1"), a PUT that needs the signed content type, and a
// GET that answers as a PDF attachment with the given file name.
TEST_F(S3BlobStoreIntegration, DirectUrlsOnThePublicEndpoint) {
    S3Options o = Options();
    o.direct_urls = true;
    o.public_endpoint = o.endpoint;
    o.public_endpoint.replace(o.public_endpoint.find("127.0.0.1"), 9, "localhost");
    auto store = Store(o);
    ASSERT_TRUE(store);
    EXPECT_TRUE(store->SupportsDirectUrls());
    const fs::path upload = tmp_ / "direct.pdf";
    std::ofstream(upload, std::ios::binary) << "%PDF direct";

    auto put_url =
        store->DirectUploadUrl("uploads/r/d-1.pdf", std::chrono::seconds(300), "application/pdf");
    ASSERT_TRUE(put_url) << put_url.error().message;
    EXPECT_EQ(put_url->rfind(o.public_endpoint + "/", 0), 0u) << *put_url;
    EXPECT_EQ(Shell("curl -s -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: "
                    "application/pdf' --data-binary @'" +
                    upload.string() + "' '" + *put_url + "'"),
              "200");
    EXPECT_EQ(store->Get("uploads/r/d-1.pdf"), std::string("%PDF direct"));

    auto get_url = store->DirectDownloadUrl("uploads/r/d-1.pdf", std::chrono::seconds(300),
                                            "application/pdf", "D1 \"signed\".pdf");
    ASSERT_TRUE(get_url) << get_url.error().message;
    const std::string headers = Shell("curl -s -D - -o /dev/null '" + *get_url + "'");
    EXPECT_NE(headers.find("200"), std::string::npos) << headers;
    EXPECT_NE(headers.find("attachment; filename=\"D1 signed.pdf\""), std::string::npos) << headers;
    EXPECT_NE(headers.find("application/pdf"), std::string::npos) << headers;
    EXPECT_EQ(Shell("curl -s '" + *get_url + "'"), "%PDF direct");
}

TEST_F(S3BlobStoreIntegration, WrongCredentialsAreAccessDenied) {
    S3Options wrong_secret = Options();
    wrong_secret.secret_key = "not-the-secret";
    S3Options wrong_key = Options();
    wrong_key.access_key = "AKIDNOBODY";
    for (const S3Options& o : {wrong_secret, wrong_key}) {
        auto store = Store(o);
        ASSERT_TRUE(store);
        auto put = store->Put("denied/x.pdf", "x");
        ASSERT_FALSE(put);
        EXPECT_EQ(put.error().code, ErrorCode::kInternal);
        EXPECT_NE(put.error().message.find("access denied"), std::string::npos)
            << put.error().message;
        EXPECT_EQ(put.error().message.find(o.secret_key), std::string::npos);
        auto get = store->Get("denied/x.pdf");
        ASSERT_FALSE(get);
        EXPECT_NE(get.error().message.find("access denied"), std::string::npos);
    }
}

TEST_F(S3BlobStoreIntegration, MissingBucketIsAnInternalError) {
    S3Options o = Options();
    o.bucket = "no-such-bucket";
    auto store = Store(o);
    ASSERT_TRUE(store);
    auto got = store->Get("x.pdf");
    ASSERT_FALSE(got);
    EXPECT_EQ(got.error().code, ErrorCode::kInternal);
    EXPECT_NE(got.error().message.find("no-such-bucket"), std::string::npos) << got.error().message;
}

}  // namespace
}  // namespace firmo::store
