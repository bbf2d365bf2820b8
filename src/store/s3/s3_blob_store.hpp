#pragma once
// Blob store on an S3-compatible object store (AWS S3, MinIO, Ceph RGW, ...), so several Firmo
// nodes can share documents. libcurl for HTTP, SigV4 (sigv4.hpp) for authentication.
//
// Keys map to "<prefix>/<key>" in the bucket. A PUT or a completed multipart upload is atomic
// in S3, so readers see the whole blob or none; blobs of at least `multipart_threshold` bytes
// go up in parts of `part_size` (the upload is aborted if any step fails). WithLocalFile
// downloads into a temporary file that is removed afterwards. Remove of a missing key is fine.
//
// Errors: network failures and 5xx -> kUnavailable; 403 -> kInternal ("access denied", the
// credentials or the bucket policy are wrong); NoSuchKey -> kNotFound. Secrets are never logged.

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "domain/ports/blob_store.hpp"
#include "store/s3/sigv4.hpp"

namespace firmo::store {

struct S3Options {
    std::string endpoint;  // http(s)://host[:port]
    std::string region = "us-east-1";
    std::string bucket;
    std::string prefix;  // without leading or trailing '/'; may be empty
    std::string access_key;
    std::string secret_key;
    bool path_style = true;  // http://host/bucket/key; false: http://bucket.host/key
    std::size_t multipart_threshold = std::size_t{16} << 20;
    std::size_t part_size = std::size_t{8} << 20;
    std::chrono::milliseconds timeout{60000};
    // Pre-signed URLs for clients (issuers upload to and download from the store directly).
    bool direct_urls = false;
    // The endpoint as clients reach it, when it differs from `endpoint` (e.g. nodes use an
    // internal address); pre-signed URLs are signed for this host. Empty: `endpoint`.
    std::string public_endpoint;
};

// "s3://bucket" or "s3://bucket/some/prefix" (the value of `storage.url`): fills bucket and
// prefix; endpoint, region and credentials come from their own settings.
Result<S3Options> ParseS3Url(std::string_view url);

class S3BlobStore final : public domain::BlobStore {
  public:
    // Checks the options (endpoint scheme, bucket name, part sizes) and sets up libcurl.
    static Result<std::unique_ptr<S3BlobStore>> Create(S3Options options);

    Result<domain::BlobInfo> Put(const std::string& key, std::string_view bytes) override;
    Result<std::string> Get(const std::string& key) override;
    Result<void> WithLocalFile(
        const std::string& key,
        const std::function<void(const std::filesystem::path&)>& use) override;
    Result<void> Remove(const std::string& key) override;
    // HEAD: the size (Content-Length) of the object, or nothing for 404.
    Result<std::optional<domain::BlobInfo>> Stat(const std::string& key) override;

    bool SupportsDirectUrls() const override { return options_.direct_urls; }
    Result<std::string> DirectUploadUrl(const std::string& key, std::chrono::seconds ttl,
                                        std::string_view content_type) override;
    Result<std::string> DirectDownloadUrl(const std::string& key, std::chrono::seconds ttl,
                                          std::string_view content_type,
                                          std::string_view filename) override;

    // A SigV4 query-signed URL for a direct "PUT" or "GET" of `key` by a client, valid for
    // `expires` seconds (1 s .. 7 days), on the public endpoint. For PUT with a content type,
    // the client must send exactly that Content-Type header. `query` adds signed parameters
    // (e.g. response-content-disposition for a GET).
    Result<std::string> PresignedUrl(std::string_view method, const std::string& key,
                                     long expires_seconds, std::string_view content_type = {},
                                     const s3::Pairs& query = {});

    // Addressing, exposed for tests.
    struct Target {
        std::string url;            // without query string
        std::string host;           // the Host header (port only if not the scheme's default)
        std::string canonical_uri;  // URI-encoded path, as signed
    };
    Result<std::string> ObjectKey(const std::string& key) const;
    Target TargetFor(std::string_view object_key, bool public_endpoint = false) const;

    const S3Options& options() const { return options_; }

  private:
    explicit S3BlobStore(S3Options options);

    struct Reply;
    struct Call;
    Result<Reply> Send(const Call& call) const;
    Error Failure(std::string_view op, std::string_view object_key, const Reply& reply) const;
    Result<domain::BlobInfo> PutMultipart(const std::string& object_key, std::string_view bytes);
    s3::SigV4Credentials Credentials() const;

    S3Options options_;
    struct Endpoint {
        std::string scheme;     // "http" or "https"
        std::string authority;  // host[:port], default port dropped
    };
    static Endpoint SplitEndpoint(std::string_view endpoint);
    Endpoint endpoint_;
    Endpoint public_endpoint_;
};

}  // namespace firmo::store
