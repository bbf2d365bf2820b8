// Unit tests of the S3 adapter that need no server: URL parsing, option checks, addressing
// (path-style and virtual-host-style), presigned URLs and the mapping of a dead endpoint.
// The adapter against a real S3 server: tests/s3/s3_blob_store_integration.cpp.

#include "store/s3/s3_blob_store.hpp"

#include <gtest/gtest.h>

namespace firmo::store {
namespace {

S3Options Options(bool path_style = true) {
    S3Options o;
    o.endpoint = "http://127.0.0.1:9000";
    o.bucket = "firmo-docs";
    o.prefix = "prod";
    o.access_key = "AKIDEXAMPLE";
    o.secret_key = "secret";
    o.path_style = path_style;
    return o;
}

TEST(ParseS3Url, BucketAndPrefix) {
    auto o = ParseS3Url("s3://firmo-docs/node/a/");
    ASSERT_TRUE(o) << o.error().message;
    EXPECT_EQ(o->bucket, "firmo-docs");
    EXPECT_EQ(o->prefix, "node/a");
    EXPECT_EQ(o->region, "us-east-1");
    EXPECT_TRUE(o->path_style);
    auto bare = ParseS3Url("s3://firmo-docs");
    ASSERT_TRUE(bare);
    EXPECT_EQ(bare->bucket, "firmo-docs");
    EXPECT_EQ(bare->prefix, "");
}

TEST(ParseS3Url, Refuses) {
    for (const char* url : {"http://b/p", "s3://", "s3://B/p", "s3://ab", "s3://b_x/p",
                            "s3://bucket/a/../b", "s3://bucket/p?x=1", "s3://-bucket"}) {
        EXPECT_FALSE(ParseS3Url(url)) << url;
    }
}

TEST(S3BlobStore, CreateChecksOptions) {
    EXPECT_TRUE(S3BlobStore::Create(Options()));
    auto bad = [](auto mutate) {
        S3Options o = Options();
        mutate(o);
        return !S3BlobStore::Create(o);
    };
    EXPECT_TRUE(bad([](S3Options& o) { o.endpoint = "ftp://x"; }));
    EXPECT_TRUE(bad([](S3Options& o) { o.endpoint = "http://host/path"; }));
    EXPECT_TRUE(bad([](S3Options& o) { o.bucket = ""; }));
    EXPECT_TRUE(bad([](S3Options& o) { o.secret_key = ""; }));
    EXPECT_TRUE(bad([](S3Options& o) { o.part_size = 1 << 20; }));
    EXPECT_TRUE(bad([](S3Options& o) { o.multipart_threshold = 6 << 20; }));
}

TEST(S3BlobStore, PathStyleAddressing) {
    auto store = S3BlobStore::Create(Options());
    ASSERT_TRUE(store);
    auto key = (*store)->ObjectKey("requests/r1/doc 1.pdf");
    EXPECT_FALSE(key);  // spaces are not in Firmo's key alphabet
    key = (*store)->ObjectKey("requests/r1/doc-1.pdf");
    ASSERT_TRUE(key);
    EXPECT_EQ(*key, "prod/requests/r1/doc-1.pdf");
    const auto t = (*store)->TargetFor(*key);
    EXPECT_EQ(t.url, "http://127.0.0.1:9000/firmo-docs/prod/requests/r1/doc-1.pdf");
    EXPECT_EQ(t.host, "127.0.0.1:9000");
    EXPECT_EQ(t.canonical_uri, "/firmo-docs/prod/requests/r1/doc-1.pdf");
    EXPECT_EQ((*store)->TargetFor("a b+c").canonical_uri, "/firmo-docs/a%20b%2Bc");
}

TEST(S3BlobStore, VirtualHostAddressingDropsDefaultPort) {
    S3Options o = Options(/*path_style=*/false);
    o.endpoint = "https://s3.eu-west-3.amazonaws.com:443/";
    o.prefix = "";
    auto store = S3BlobStore::Create(o);
    ASSERT_TRUE(store) << store.error().message;
    const auto t = (*store)->TargetFor("a/b.pdf");
    EXPECT_EQ(t.url, "https://firmo-docs.s3.eu-west-3.amazonaws.com/a/b.pdf");
    EXPECT_EQ(t.host, "firmo-docs.s3.eu-west-3.amazonaws.com");
    EXPECT_EQ(t.canonical_uri, "/a/b.pdf");
}

TEST(S3BlobStore, KeysCannotEscape) {
    auto store = S3BlobStore::Create(Options());
    ASSERT_TRUE(store);
    for (const char* key : {"../x", "/abs", "", "a//b", "a/../b", "nul\n"}) {
        EXPECT_FALSE((*store)->ObjectKey(key)) << key;
        EXPECT_FALSE((*store)->Put(key, "x")) << key;
    }
}

TEST(S3BlobStore, PresignedUrlShape) {
    auto store = S3BlobStore::Create(Options());
    ASSERT_TRUE(store);
    auto url = (*store)->PresignedUrl("PUT", "up/x.pdf", 900, "application/pdf");
    ASSERT_TRUE(url);
    EXPECT_EQ(url->rfind("http://127.0.0.1:9000/firmo-docs/prod/up/x.pdf?", 0), 0u) << *url;
    EXPECT_NE(url->find("X-Amz-Algorithm=AWS4-HMAC-SHA256"), std::string::npos);
    EXPECT_NE(url->find("X-Amz-Expires=900"), std::string::npos);
    EXPECT_NE(url->find("X-Amz-SignedHeaders=content-type%3Bhost"), std::string::npos);
    EXPECT_NE(url->find("X-Amz-Credential=AKIDEXAMPLE%2F"), std::string::npos);
    EXPECT_EQ(url->find("secret"), std::string::npos);
    EXPECT_FALSE((*store)->PresignedUrl("DELETE", "up/x.pdf", 900));
    EXPECT_FALSE((*store)->PresignedUrl("GET", "up/x.pdf", 0));
    EXPECT_FALSE((*store)->PresignedUrl("GET", "up/x.pdf", 8 * 24 * 3600));
}

TEST(S3BlobStore, DeadEndpointIsUnavailable) {
    S3Options o = Options();
    o.endpoint = "http://127.0.0.1:1";  // nothing listens on port 1
    o.timeout = std::chrono::milliseconds(2000);
    auto store = S3BlobStore::Create(o);
    ASSERT_TRUE(store);
    auto got = (*store)->Get("a.pdf");
    ASSERT_FALSE(got);
    EXPECT_EQ(got.error().code, ErrorCode::kUnavailable);
    auto put = (*store)->Put("a.pdf", "x");
    ASSERT_FALSE(put);
    EXPECT_EQ(put.error().code, ErrorCode::kUnavailable);
    EXPECT_EQ((*store)->Remove("a.pdf").error().code, ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace firmo::store
