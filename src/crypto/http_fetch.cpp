#include "crypto/http_fetch.hpp"

#include <curl/curl.h>

#include <memory>

namespace firmo::crypto {
namespace {

using CurlPtr = std::unique_ptr<CURL, void (*)(CURL*)>;
using CurlListPtr = std::unique_ptr<curl_slist, void (*)(curl_slist*)>;

std::size_t CollectBody(char* data, std::size_t size, std::size_t n, void* user) {
    auto* body = static_cast<std::string*>(user);
    if (body->size() + size * n > kMaxFetchBytes) return 0;  // aborts the transfer
    body->append(data, size * n);
    return size * n;
}

}  // namespace

Result<std::string> HttpFetch(const std::string& url, std::string_view content_type,
                              std::string_view body, std::chrono::milliseconds timeout,
                              std::string_view what) {
    CurlPtr curl(curl_easy_init(), curl_easy_cleanup);
    if (!curl) return Fail(ErrorCode::kInternal, "cannot start an HTTP request");
    CurlListPtr headers(nullptr, curl_slist_free_all);
    if (!content_type.empty()) {
        headers.reset(
            curl_slist_append(nullptr, ("Content-Type: " + std::string(content_type)).c_str()));
        if (!headers) return Fail(ErrorCode::kInternal, "cannot start an HTTP request");
        curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, headers.get());
        curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, body.data());
        curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDSIZE_LARGE,
                         static_cast<curl_off_t>(body.size()));
    }
    std::string answer;
    curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
    curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, CollectBody);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &answer);
    const CURLcode rc = curl_easy_perform(curl.get());
    long status = 0;
    curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
    if (rc != CURLE_OK || status != 200) {
        return Fail(ErrorCode::kUnavailable,
                    std::string(what) + " " + url + " failed: " +
                        (rc != CURLE_OK ? curl_easy_strerror(rc)
                                        : "HTTP status " + std::to_string(status)));
    }
    return answer;
}

}  // namespace firmo::crypto
