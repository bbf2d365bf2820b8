#include "oidc/http_fetcher.hpp"

#include <curl/curl.h>

#include <memory>
#include <mutex>
#include <string_view>

namespace firmo::oidc {
namespace {

using CurlPtr = std::unique_ptr<CURL, void (*)(CURL*)>;
using CurlListPtr = std::unique_ptr<curl_slist, void (*)(curl_slist*)>;

struct Sink {
    std::string body;
    std::size_t max_body = 0;
    bool too_large = false;
};

std::size_t CollectBody(char* data, std::size_t size, std::size_t n, void* user) {
    auto* sink = static_cast<Sink*>(user);
    if (sink->body.size() + size * n > sink->max_body) {
        sink->too_large = true;
        return 0;  // aborts the transfer
    }
    sink->body.append(data, size * n);
    return size * n;
}

bool HasHttpScheme(std::string_view url) {
    auto starts_with_nocase = [&](std::string_view prefix) {
        if (url.size() < prefix.size()) return false;
        for (std::size_t i = 0; i < prefix.size(); ++i) {
            char c = url[i];
            if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
            if (c != prefix[i]) return false;
        }
        return true;
    };
    return starts_with_nocase("http://") || starts_with_nocase("https://");
}

}  // namespace

CurlHttpFetcher::CurlHttpFetcher(std::chrono::milliseconds timeout, std::size_t max_body)
    : timeout_(timeout), max_body_(max_body) {
    // curl_global_init is not thread-safe on every libcurl build; do it once, up front, instead
    // of letting the first curl_easy_init of several worker threads race on it.
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

Result<HttpReply> CurlHttpFetcher::Fetch(const HttpCall& call) {
    if (!HasHttpScheme(call.url)) {
        return Fail(ErrorCode::kInvalidArgument, "not an http(s) URL: " + call.url);
    }
    if (call.method != "GET" && call.method != "POST") {
        return Fail(ErrorCode::kInternal, "unsupported HTTP method " + call.method);
    }
    CurlPtr curl(curl_easy_init(), curl_easy_cleanup);
    if (!curl) return Fail(ErrorCode::kInternal, "cannot start an HTTP request");
    CurlListPtr headers(nullptr, curl_slist_free_all);
    for (const std::string& h : call.headers) {
        curl_slist* list = headers.release();
        curl_slist* appended = curl_slist_append(list, h.c_str());
        headers.reset(appended != nullptr ? appended : list);  // on failure `list` is intact
        if (appended == nullptr) return Fail(ErrorCode::kInternal, "cannot build HTTP headers");
    }
    Sink sink;
    sink.max_body = max_body_;
    CURL* h = curl.get();
    curl_easy_setopt(h, CURLOPT_URL, call.url.c_str());
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_.count()));
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(max_body_));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, CollectBody);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
    if (headers) curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
    if (call.method == "POST") {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, call.body.data());
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(call.body.size()));
    }
    const CURLcode rc = curl_easy_perform(h);
    if (rc != CURLE_OK) {
        const bool too_large = sink.too_large || rc == CURLE_FILESIZE_EXCEEDED;
        return Fail(ErrorCode::kUnavailable,
                    "HTTP " + call.method + " " + call.url + " failed: " +
                        (too_large ? "response larger than " + std::to_string(max_body_) + " bytes"
                                   : std::string(curl_easy_strerror(rc))));
    }
    HttpReply reply;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &reply.status);
    char* content_type = nullptr;
    if (curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &content_type) == CURLE_OK &&
        content_type != nullptr) {
        reply.content_type = content_type;
    }
    reply.body = std::move(sink.body);
    return reply;
}

}  // namespace firmo::oidc
