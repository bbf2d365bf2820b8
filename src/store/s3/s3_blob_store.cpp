#include "store/s3/s3_blob_store.hpp"

#include <curl/curl.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <mutex>
#include <utility>

#include "core/encoding.hpp"
#include "core/log.hpp"
#include "crypto/digest.hpp"

namespace firmo::store {

namespace {

constexpr std::size_t kMinPartSize = std::size_t{5} << 20;  // S3's minimum (but the last part)
constexpr std::size_t kMaxParts = 10000;
constexpr std::size_t kMaxErrorBody = std::size_t{64} << 10;

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

std::string Trim(std::string_view s, char c) {
    while (!s.empty() && s.front() == c) s.remove_prefix(1);
    while (!s.empty() && s.back() == c) s.remove_suffix(1);
    return std::string(s);
}

// Bucket names as S3 allows them (3-63 of a-z 0-9 . -), which also keeps them safe in a host.
bool ValidBucket(std::string_view b) {
    if (b.size() < 3 || b.size() > 63) return false;
    for (char c : b) {
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-')) {
            return false;
        }
    }
    return b.front() != '.' && b.front() != '-' && b.back() != '.' && b.back() != '-';
}

// Text of the first <tag>...</tag> in a small S3 XML document ("" if none).
std::string XmlText(std::string_view xml, std::string_view tag) {
    const std::string open = "<" + std::string(tag) + ">";
    const std::string close = "</" + std::string(tag) + ">";
    const auto b = xml.find(open);
    if (b == std::string_view::npos) return "";
    const auto start = b + open.size();
    const auto e = xml.find(close, start);
    if (e == std::string_view::npos) return "";
    return std::string(xml.substr(start, e - start));
}

using CurlPtr = std::unique_ptr<CURL, void (*)(CURL*)>;
using CurlListPtr = std::unique_ptr<curl_slist, void (*)(curl_slist*)>;

}  // namespace

Result<S3Options> ParseS3Url(std::string_view url) {
    constexpr std::string_view kScheme = "s3://";
    if (!StartsWith(url, kScheme)) {
        return Fail(ErrorCode::kInvalidArgument, "storage.url: an S3 URL starts with s3://");
    }
    url.remove_prefix(kScheme.size());
    if (url.find_first_of("?#") != std::string_view::npos) {
        return Fail(ErrorCode::kInvalidArgument,
                    "storage.url: s3://bucket/prefix takes no query or fragment");
    }
    const auto slash = url.find('/');
    S3Options options;
    options.bucket = std::string(url.substr(0, slash));
    if (!ValidBucket(options.bucket)) {
        return Fail(ErrorCode::kInvalidArgument,
                    "storage.url: invalid S3 bucket name '" + options.bucket + "'");
    }
    if (slash != std::string_view::npos) options.prefix = Trim(url.substr(slash + 1), '/');
    if (options.prefix.find("//") != std::string::npos ||
        options.prefix.find("..") != std::string::npos) {
        return Fail(ErrorCode::kInvalidArgument, "storage.url: invalid S3 key prefix");
    }
    return options;
}

struct S3BlobStore::Reply {
    long status = 0;  // 0: no HTTP answer (network failure)
    std::string curl_error;
    std::string body;  // the body, unless it went to `sink`; always the body of errors
    std::string etag;
    std::string content_length;
};

struct S3BlobStore::Call {
    std::string method;
    std::string object_key;
    s3::Pairs query;
    s3::Pairs headers;          // besides host, x-amz-date, x-amz-content-sha256
    std::string_view body;      // request body (PUT, POST)
    std::FILE* sink = nullptr;  // where a 2xx body goes (else into Reply::body)
};

S3BlobStore::Endpoint S3BlobStore::SplitEndpoint(std::string_view ep) {
    Endpoint e;
    e.scheme = StartsWith(ep, "https://") ? "https" : "http";
    ep.remove_prefix(e.scheme.size() + 3);
    e.authority = Trim(ep, '/');
    const std::string default_port = e.scheme == "https" ? ":443" : ":80";
    if (e.authority.size() > default_port.size() &&
        e.authority.compare(e.authority.size() - default_port.size(), default_port.size(),
                            default_port) == 0) {
        e.authority.resize(e.authority.size() - default_port.size());
    }
    return e;
}

S3BlobStore::S3BlobStore(S3Options options) : options_(std::move(options)) {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    endpoint_ = SplitEndpoint(options_.endpoint);
    public_endpoint_ =
        options_.public_endpoint.empty() ? endpoint_ : SplitEndpoint(options_.public_endpoint);
    options_.prefix = Trim(options_.prefix, '/');
}

namespace {

Result<void> CheckEndpoint(std::string_view setting, const std::string& endpoint) {
    const std::string_view ep = endpoint;
    if (!StartsWith(ep, "http://") && !StartsWith(ep, "https://")) {
        return Fail(
            ErrorCode::kInvalidArgument,
            std::string(setting) + " must be an http:// or https:// URL: '" + endpoint + "'");
    }
    const std::string rest = Trim(ep.substr(ep.find("//") + 2), '/');
    if (rest.empty() || rest.find_first_of("/?#@ ") != std::string::npos) {
        return Fail(
            ErrorCode::kInvalidArgument,
            std::string(setting) + " must be scheme://host[:port] only: '" + endpoint + "'");
    }
    return {};
}

}  // namespace

Result<std::unique_ptr<S3BlobStore>> S3BlobStore::Create(S3Options options) {
    const std::string_view ep = options.endpoint;
    FIRMO_CHECK(CheckEndpoint("S3 endpoint", options.endpoint));
    if (!options.public_endpoint.empty()) {
        FIRMO_CHECK(CheckEndpoint("S3 public endpoint", options.public_endpoint));
    }
    if (!ValidBucket(options.bucket)) {
        return Fail(ErrorCode::kInvalidArgument, "invalid S3 bucket name '" + options.bucket + "'");
    }
    if (!options.path_style && options.bucket.find('.') != std::string::npos &&
        StartsWith(ep, "https://")) {
        return Fail(ErrorCode::kInvalidArgument,
                    "S3 bucket names with dots need path-style addressing over https");
    }
    if (options.region.empty()) return Fail(ErrorCode::kInvalidArgument, "S3 region is empty");
    if (options.access_key.empty() || options.secret_key.empty()) {
        return Fail(ErrorCode::kInvalidArgument, "S3 access key and secret key are required");
    }
    if (options.part_size < kMinPartSize) {
        return Fail(ErrorCode::kInvalidArgument, "S3 part size must be at least 5 MiB");
    }
    if (options.multipart_threshold < options.part_size) {
        return Fail(ErrorCode::kInvalidArgument,
                    "S3 multipart threshold must be at least the part size");
    }
    return std::unique_ptr<S3BlobStore>(new S3BlobStore(std::move(options)));
}

s3::SigV4Credentials S3BlobStore::Credentials() const {
    return {options_.access_key, options_.secret_key, options_.region, "s3"};
}

Result<std::string> S3BlobStore::ObjectKey(const std::string& key) const {
    // Same rule as the folder store: keys are made by Firmo, but check anyway.
    if (key.empty() || key.size() > 512 || key.front() == '/' ||
        key.find("..") != std::string::npos || key.find("//") != std::string::npos) {
        return Fail(ErrorCode::kInternal, "invalid blob key");
    }
    for (char c : key) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                        (c >= '0' && c <= '9') || c == '/' || c == '-' || c == '_' || c == '.';
        if (!ok) return Fail(ErrorCode::kInternal, "invalid blob key");
    }
    return options_.prefix.empty() ? key : options_.prefix + "/" + key;
}

S3BlobStore::Target S3BlobStore::TargetFor(std::string_view object_key,
                                           bool public_endpoint) const {
    const Endpoint& e = public_endpoint ? public_endpoint_ : endpoint_;
    Target t;
    const std::string path = s3::UriEncode(object_key, /*keep_slash=*/true);
    if (options_.path_style) {
        t.host = e.authority;
        t.canonical_uri = "/" + options_.bucket + "/" + path;
    } else {
        t.host = options_.bucket + "." + e.authority;
        t.canonical_uri = "/" + path;
    }
    t.url = e.scheme + "://" + t.host + t.canonical_uri;
    return t;
}

namespace {

struct Transfer {
    CURL* curl = nullptr;
    std::string_view upload;
    std::size_t uploaded = 0;
    std::FILE* sink = nullptr;
    bool sink_failed = false;
    std::string* body = nullptr;
    std::string* etag = nullptr;
    std::string* content_length = nullptr;
};

long StatusOf(CURL* curl) {
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    return status;
}

std::size_t OnRead(char* buffer, std::size_t size, std::size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const std::size_t len = std::min(size * n, t->upload.size() - t->uploaded);
    std::copy_n(t->upload.data() + t->uploaded, len, buffer);
    t->uploaded += len;
    return len;
}

std::size_t OnWrite(char* data, std::size_t size, std::size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const std::size_t len = size * n;
    const long status = StatusOf(t->curl);
    if (t->sink != nullptr && status >= 200 && status < 300) {
        if (std::fwrite(data, 1, len, t->sink) != len) {
            t->sink_failed = true;
            return 0;
        }
        return len;
    }
    if ((status < 200 || status >= 300) && t->body->size() + len > kMaxErrorBody) return len;
    t->body->append(data, len);
    return len;
}

std::size_t OnHeader(char* data, std::size_t size, std::size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const std::size_t len = size * n;
    std::string_view line(data, len);
    const auto colon = line.find(':');
    if (colon != std::string_view::npos) {
        std::string name(line.substr(0, colon));
        std::transform(name.begin(), name.end(), name.begin(),
                       [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; });
        std::string* target = name == "etag"             ? t->etag
                              : name == "content-length" ? t->content_length
                                                         : nullptr;
        if (target != nullptr) {
            std::string_view v = line.substr(colon + 1);
            while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
            while (!v.empty() && (v.back() == '\r' || v.back() == '\n' || v.back() == ' ')) {
                v.remove_suffix(1);
            }
            *target = std::string(v);
        }
    }
    return len;
}

}  // namespace

Result<S3BlobStore::Reply> S3BlobStore::Send(const Call& call) const {
    const Target target = TargetFor(call.object_key);
    const std::string amz_date = s3::AmzDate(std::chrono::system_clock::now());
    const std::string payload_hash = HexEncode(crypto::Sha256(call.body));

    s3::SigV4Request request{call.method, target.canonical_uri, call.query, call.headers,
                             payload_hash};
    request.headers.emplace_back("host", target.host);
    request.headers.emplace_back("x-amz-content-sha256", payload_hash);
    request.headers.emplace_back("x-amz-date", amz_date);
    const std::string authorization = s3::AuthorizationHeader(request, Credentials(), amz_date);

    CurlPtr curl(curl_easy_init(), curl_easy_cleanup);
    if (!curl) return Fail(ErrorCode::kInternal, "cannot start an HTTP request");
    CurlListPtr headers(nullptr, curl_slist_free_all);
    auto add_header = [&](const std::string& line) {
        curl_slist* list = headers.release();
        curl_slist* appended = curl_slist_append(list, line.c_str());
        headers.reset(appended != nullptr ? appended : list);
        return appended != nullptr;
    };
    bool ok = true;
    for (const auto& [name, value] : request.headers) ok = ok && add_header(name + ": " + value);
    ok = ok && add_header("Authorization: " + authorization);
    ok = ok && add_header("Expect:");  // no 100-continue round trip
    if (call.method == "POST" &&
        std::none_of(call.headers.begin(), call.headers.end(),
                     [](const auto& h) { return h.first == "content-type"; })) {
        ok = ok && add_header("Content-Type:");  // not curl's form-urlencoded default
    }
    if (!ok) return Fail(ErrorCode::kInternal, "cannot build HTTP headers");

    std::string url = target.url;
    const std::string query = s3::CanonicalQueryString(call.query);
    if (!query.empty()) url += "?" + query;

    Reply reply;
    Transfer transfer;
    transfer.curl = curl.get();
    transfer.upload = call.body;
    transfer.sink = call.sink;
    transfer.body = &reply.body;
    transfer.etag = &reply.etag;
    transfer.content_length = &reply.content_length;
    char error_buffer[CURL_ERROR_SIZE] = {};

    CURL* h = curl.get();
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(std::min<std::int64_t>(options_.timeout.count(), 10000)));
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, OnWrite);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &transfer);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, OnHeader);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &transfer);
    if (call.method == "PUT") {
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, OnRead);
        curl_easy_setopt(h, CURLOPT_READDATA, &transfer);
        curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(call.body.size()));
    } else if (call.method == "POST") {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, call.body.data());
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(call.body.size()));
    } else if (call.method == "HEAD") {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (call.method != "GET") {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, call.method.c_str());
    }

    const CURLcode rc = curl_easy_perform(h);
    if (transfer.sink_failed) {
        log::Error("s3_local_write_failed", {{"key", call.object_key}});
        return Fail(ErrorCode::kUnavailable, "cannot write a temporary copy of a document");
    }
    if (rc != CURLE_OK) {
        reply.status = 0;
        reply.curl_error = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(rc);
        return reply;
    }
    reply.status = StatusOf(h);
    return reply;
}

Error S3BlobStore::Failure(std::string_view op, std::string_view object_key,
                           const Reply& reply) const {
    const std::string code = XmlText(reply.body, "Code");
    const std::string status = std::to_string(reply.status);
    if (reply.status == 0 || reply.status >= 500) {
        log::Error("s3_unavailable", {{"op", op},
                                      {"key", object_key},
                                      {"status", status},
                                      {"code", code},
                                      {"error", reply.curl_error}});
        return Error{ErrorCode::kUnavailable, "document storage is unavailable"};
    }
    if (reply.status == 404 && (code == "NoSuchKey" || code.empty())) {
        return Error{ErrorCode::kNotFound, "no blob " + std::string(object_key)};
    }
    if (reply.status == 403) {
        // The S3 error code (InvalidAccessKeyId, SignatureDoesNotMatch, AccessDenied, ...) and
        // the bucket only: never the keys.
        log::Error("s3_access_denied",
                   {{"op", op}, {"bucket", options_.bucket}, {"key", object_key}, {"code", code}});
        return Error{ErrorCode::kInternal,
                     "S3 access denied (" + (code.empty() ? std::string("403") : code) +
                         "): check the storage credentials and the bucket policy"};
    }
    log::Error("s3_request_failed", {{"op", op},
                                     {"bucket", options_.bucket},
                                     {"key", object_key},
                                     {"status", status},
                                     {"code", code}});
    if (code == "NoSuchBucket") {
        return Error{ErrorCode::kInternal, "S3 bucket " + options_.bucket + " does not exist"};
    }
    return Error{ErrorCode::kInternal,
                 "S3 " + std::string(op) + " failed: " + (code.empty() ? "HTTP " + status : code)};
}

Result<domain::BlobInfo> S3BlobStore::Put(const std::string& key, std::string_view bytes) {
    FIRMO_TRY(std::string object_key, ObjectKey(key));
    if (bytes.size() >= options_.multipart_threshold) return PutMultipart(object_key, bytes);
    Call call{"PUT", object_key, {}, {}, bytes};
    FIRMO_TRY(Reply reply, Send(call));
    if (reply.status != 200) return Fail(Failure("put", object_key, reply));
    return domain::BlobInfo{static_cast<std::int64_t>(bytes.size()),
                            HexEncode(crypto::Sha256(bytes))};
}

Result<domain::BlobInfo> S3BlobStore::PutMultipart(const std::string& object_key,
                                                   std::string_view bytes) {
    std::size_t part_size = options_.part_size;
    // S3 allows 10,000 parts: grow the parts for (very) large blobs.
    if (bytes.size() / part_size >= kMaxParts) part_size = bytes.size() / (kMaxParts - 1) + 1;

    FIRMO_TRY(Reply created, Send(Call{"POST", object_key, {{"uploads", ""}}, {}, {}}));
    if (created.status != 200) return Fail(Failure("create multipart upload", object_key, created));
    const std::string upload_id = XmlText(created.body, "UploadId");
    if (upload_id.empty()) {
        log::Error("s3_request_failed", {{"op", "create multipart upload"}, {"key", object_key}});
        return Fail(ErrorCode::kInternal, "S3 create multipart upload returned no upload id");
    }
    auto abort = [&](Error error) -> Result<domain::BlobInfo> {
        auto aborted = Send(Call{"DELETE", object_key, {{"uploadId", upload_id}}, {}, {}});
        if (!aborted ||
            (aborted->status != 204 && aborted->status != 200 && aborted->status != 404)) {
            log::Warn("s3_abort_multipart_failed", {{"key", object_key}});
        }
        return Fail(std::move(error));
    };

    crypto::Sha256Stream whole;
    std::string complete = "<CompleteMultipartUpload>";
    int part_number = 0;
    for (std::size_t offset = 0; offset < bytes.size(); offset += part_size) {
        const std::string_view part = bytes.substr(offset, part_size);
        whole.Update(part);
        ++part_number;
        auto sent =
            Send(Call{"PUT",
                      object_key,
                      {{"partNumber", std::to_string(part_number)}, {"uploadId", upload_id}},
                      {},
                      part});
        if (!sent) return abort(std::move(sent).error());
        if (sent->status != 200) return abort(Failure("upload part", object_key, *sent));
        if (sent->etag.empty()) {
            return abort(Error{ErrorCode::kInternal, "S3 upload part returned no ETag"});
        }
        complete += "<Part><PartNumber>" + std::to_string(part_number) + "</PartNumber><ETag>" +
                    sent->etag + "</ETag></Part>";
    }
    complete += "</CompleteMultipartUpload>";

    auto done = Send(Call{"POST",
                          object_key,
                          {{"uploadId", upload_id}},
                          {{"content-type", "application/xml"}},
                          complete});
    if (!done) return abort(std::move(done).error());
    // CompleteMultipartUpload can fail after a 200, with an <Error> document as the body.
    if (done->status != 200 || done->body.find("<Error>") != std::string::npos) {
        if (done->status == 200) done->status = 500;
        return abort(Failure("complete multipart upload", object_key, *done));
    }
    return domain::BlobInfo{static_cast<std::int64_t>(bytes.size()), HexEncode(whole.Finish())};
}

Result<std::string> S3BlobStore::Get(const std::string& key) {
    FIRMO_TRY(std::string object_key, ObjectKey(key));
    FIRMO_TRY(Reply reply, Send(Call{"GET", object_key, {}, {}, {}}));
    if (reply.status != 200) return Fail(Failure("get", object_key, reply));
    return std::move(reply.body);
}

Result<void> S3BlobStore::WithLocalFile(
    const std::string& key, const std::function<void(const std::filesystem::path&)>& use) {
    FIRMO_TRY(std::string object_key, ObjectKey(key));
    std::error_code ec;
    std::string pattern = (std::filesystem::temp_directory_path(ec) / "firmo-s3-XXXXXX").string();
    const int fd = ::mkstemp(pattern.data());
    if (fd < 0) {
        log::Error("s3_temp_file_failed", {{"dir", pattern}});
        return Fail(ErrorCode::kUnavailable, "cannot create a temporary copy of a document");
    }
    // Removed however we leave (including an exception from `use`).
    struct Cleanup {
        std::string path;
        std::FILE* file = nullptr;
        ~Cleanup() {
            if (file != nullptr) std::fclose(file);
            ::unlink(path.c_str());
        }
    } cleanup{pattern, ::fdopen(fd, "wb")};
    if (cleanup.file == nullptr) {
        ::close(fd);
        return Fail(ErrorCode::kUnavailable, "cannot create a temporary copy of a document");
    }
    Call call{"GET", object_key, {}, {}, {}};
    call.sink = cleanup.file;
    FIRMO_TRY(Reply reply, Send(call));
    if (reply.status != 200) return Fail(Failure("get", object_key, reply));
    const int closed = std::fclose(cleanup.file);
    cleanup.file = nullptr;
    if (closed != 0) {
        log::Error("s3_local_write_failed", {{"key", object_key}});
        return Fail(ErrorCode::kUnavailable, "cannot write a temporary copy of a document");
    }
    use(std::filesystem::path(pattern));
    return {};
}

Result<void> S3BlobStore::Remove(const std::string& key) {
    FIRMO_TRY(std::string object_key, ObjectKey(key));
    FIRMO_TRY(Reply reply, Send(Call{"DELETE", object_key, {}, {}, {}}));
    if (reply.status == 204 || reply.status == 200 || reply.status == 404) return {};
    return Fail(Failure("remove", object_key, reply));
}

Result<std::optional<domain::BlobInfo>> S3BlobStore::Stat(const std::string& key) {
    FIRMO_TRY(std::string object_key, ObjectKey(key));
    FIRMO_TRY(Reply reply, Send(Call{"HEAD", object_key, {}, {}, {}}));
    if (reply.status == 404) return std::optional<domain::BlobInfo>();
    if (reply.status != 200) return Fail(Failure("stat", object_key, reply));
    std::int64_t size = -1;
    const auto& text = reply.content_length;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), size);
    if (ec != std::errc() || end != text.data() + text.size() || size < 0) {
        log::Error("s3_bad_content_length", {{"key", object_key}, {"value", text}});
        return Fail(ErrorCode::kUnavailable, "document storage gave no object size");
    }
    return std::make_optional(domain::BlobInfo{size, ""});
}

Result<std::string> S3BlobStore::PresignedUrl(std::string_view method, const std::string& key,
                                              long expires_seconds, std::string_view content_type,
                                              const s3::Pairs& query) {
    if (method != "GET" && method != "PUT") {
        return Fail(ErrorCode::kInternal, "presigned URLs are for GET or PUT");
    }
    if (expires_seconds < 1 || expires_seconds > 7 * 24 * 3600) {
        return Fail(ErrorCode::kInternal, "presigned URLs last 1 s to 7 days");
    }
    FIRMO_TRY(std::string object_key, ObjectKey(key));
    const Target target = TargetFor(object_key, /*public_endpoint=*/true);
    s3::SigV4Request request{
        std::string(method), target.canonical_uri, query, {{"host", target.host}}, ""};
    if (!content_type.empty()) request.headers.emplace_back("content-type", content_type);
    const std::string signed_query = s3::PresignQuery(
        request, Credentials(), s3::AmzDate(std::chrono::system_clock::now()), expires_seconds);
    return target.url + "?" + signed_query;
}

Result<std::string> S3BlobStore::DirectUploadUrl(const std::string& key, std::chrono::seconds ttl,
                                                 std::string_view content_type) {
    return PresignedUrl("PUT", key, static_cast<long>(ttl.count()), content_type);
}

Result<std::string> S3BlobStore::DirectDownloadUrl(const std::string& key, std::chrono::seconds ttl,
                                                   std::string_view content_type,
                                                   std::string_view filename) {
    s3::Pairs query{{"response-content-type", std::string(content_type)}};
    if (!filename.empty()) {
        std::string safe;  // a quoted-string without quotes, backslashes or controls
        for (char c : filename) {
            if (c != '"' && c != '\\' && static_cast<unsigned char>(c) >= 0x20) safe += c;
        }
        query.emplace_back("response-content-disposition", "attachment; filename=\"" + safe + "\"");
    }
    return PresignedUrl("GET", key, static_cast<long>(ttl.count()), {}, query);
}

}  // namespace firmo::store
