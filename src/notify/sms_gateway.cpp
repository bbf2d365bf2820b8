#include "notify/sms_gateway.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>

#include "core/encoding.hpp"
#include "notify/mime.hpp"

namespace firmo::notify {
namespace {

using CurlPtr = std::unique_ptr<CURL, void (*)(CURL*)>;
using CurlListPtr = std::unique_ptr<curl_slist, void (*)(curl_slist*)>;

constexpr std::size_t kResponseKept = 200;
// Read further than kept, so a link echoed back is redacted whole before the cut.
constexpr std::size_t kResponseRead = 4096;
constexpr std::array<std::string_view, 3> kPlaceholders = {"to", "text", "sender"};

// curl_global_init is not thread-safe in every libcurl build; do it once, up front.
void InitCurlOnce() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() &&
           std::equal(prefix.begin(), prefix.end(), s.begin(), [](char a, char b) {
               return std::tolower(static_cast<unsigned char>(a)) ==
                      std::tolower(static_cast<unsigned char>(b));
           });
}

bool IsTokenChar(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// The first 200 bytes of the body, cut at a UTF-8 boundary, control characters as spaces, so
// the delivery log gets one readable line.
std::string Excerpt(std::string_view body) {
    std::size_t n = std::min(body.size(), kResponseKept);
    while (n > 0 && n < body.size() && (static_cast<unsigned char>(body[n]) & 0xC0) == 0x80) --n;
    std::string out(body.substr(0, n));
    for (char& c : out) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = ' ';
    }
    if (!IsValidUtf8(out)) {
        for (char& c : out) {
            if (static_cast<unsigned char>(c) >= 0x80) c = '?';
        }
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out;
}

std::size_t KeepResponse(char* data, std::size_t size, std::size_t n, void* user) {
    auto* body = static_cast<std::string*>(user);
    const std::size_t bytes = size * n;
    if (body->size() < kResponseRead) {
        body->append(data, std::min(bytes, kResponseRead - body->size()));
    }
    return bytes;
}

// Links in the text are credentials (they open a signer's request), and some gateways echo the
// message back: every http(s) URL of the text, also as JSON with "\/" escapes, becomes
// "[link]" before the answer reaches a log.
std::string RedactLinks(std::string body, std::string_view text) {
    std::size_t i = 0;
    while (i < text.size()) {
        const auto http = text.find("http", i);
        if (http == std::string_view::npos) break;
        auto end = text.find_first_of(" \t\r\n\"'<>", http);
        if (end == std::string_view::npos) end = text.size();
        std::string_view word = text.substr(http, end - http);
        while (!word.empty() &&
               std::string_view(".,;:!?)]").find(word.back()) != std::string_view::npos) {
            word.remove_suffix(1);
        }
        i = end;
        if (!StartsWithNoCase(word, "http://") && !StartsWithNoCase(word, "https://")) continue;
        std::string escaped;
        for (char c : word) {
            if (c == '/') escaped.push_back('\\');
            escaped.push_back(c);
        }
        for (const std::string& needle : {std::string(word), escaped}) {
            for (auto at = body.find(needle); at != std::string::npos; at = body.find(needle, at)) {
                body.replace(at, needle.size(), "[link]");
            }
        }
    }
    return body;
}

// The placeholders in a template; nullopt for an unterminated "{{".
std::optional<std::vector<std::string_view>> PlaceholdersOf(std::string_view templ) {
    std::vector<std::string_view> names;
    std::size_t i = 0;
    while ((i = templ.find("{{", i)) != std::string_view::npos) {
        const auto close = templ.find("}}", i + 2);
        if (close == std::string_view::npos) return std::nullopt;
        names.push_back(templ.substr(i + 2, close - i - 2));
        i = close + 2;
    }
    return names;
}

}  // namespace

bool IsE164(std::string_view number) {
    constexpr std::size_t kMinDigits = 8;
    constexpr std::size_t kMaxDigits = 15;
    if (number.size() < 1 + kMinDigits || number.size() > 1 + kMaxDigits) return false;
    if (number[0] != '+' || number[1] == '0') return false;
    return std::all_of(number.begin() + 1, number.end(),
                       [](char c) { return c >= '0' && c <= '9'; });
}

std::string JsonEscape(std::string_view s) {
    const std::string quoted = JsonQuote(s);
    return quoted.substr(1, quoted.size() - 2);
}

std::string FillBodyTemplate(std::string_view templ, std::string_view to, std::string_view text,
                             std::string_view sender) {
    std::string out;
    std::size_t i = 0;
    while (i < templ.size()) {
        const auto open = templ.find("{{", i);
        if (open == std::string_view::npos) break;
        const auto close = templ.find("}}", open + 2);
        if (close == std::string_view::npos) break;
        out.append(templ.substr(i, open - i));
        const std::string_view name = templ.substr(open + 2, close - open - 2);
        if (name == "to") {
            out.append(JsonEscape(to));
        } else if (name == "text") {
            out.append(JsonEscape(text));
        } else if (name == "sender") {
            out.append(JsonEscape(sender));
        } else {
            out.append(templ.substr(open, close - open + 2));
        }
        i = close + 2;
    }
    out.append(templ.substr(std::min(i, templ.size())));
    return out;
}

Result<std::unique_ptr<SmsGateway>> SmsGateway::Create(SmsOptions options) {
    const bool http = StartsWithNoCase(options.url, "http://");
    const bool https = StartsWithNoCase(options.url, "https://");
    const std::size_t host_at = http ? 7 : 8;
    const std::string_view url = options.url;
    const std::string_view authority =
        url.substr(std::min(host_at, url.size()),
                   url.find_first_of("/?#", std::min(host_at, url.size())) - host_at);
    if ((!http && !https) || authority.empty() || authority.front() == ':' ||
        std::any_of(url.begin(), url.end(), [](char c) {
            return static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7F;
        })) {
        return Fail(ErrorCode::kInvalidArgument,
                    "the SMS gateway URL must be http://host[:port]/path or https://...");
    }
    // Credentials in the URL would end up in error messages and logs.
    if (authority.find('@') != std::string_view::npos) {
        return Fail(ErrorCode::kInvalidArgument,
                    "put SMS gateway credentials in the auth header, not the URL");
    }
    if (!options.auth_header.empty()) {
        const std::string_view h = options.auth_header;
        const auto colon = h.find(':');
        if (colon == std::string_view::npos || colon == 0 ||
            !std::all_of(h.begin(), h.begin() + static_cast<std::ptrdiff_t>(colon), IsTokenChar) ||
            h.find_first_of("\r\n") != std::string_view::npos ||
            h.substr(colon + 1).find_first_not_of(" \t") == std::string_view::npos) {
            return Fail(ErrorCode::kInvalidArgument,
                        "the SMS gateway auth header must be one \"Name: value\" line");
        }
    }
    auto names = PlaceholdersOf(options.body_template);
    if (!names) {
        return Fail(ErrorCode::kInvalidArgument, "the SMS body template has an unclosed {{");
    }
    for (std::string_view name : *names) {
        if (std::find(kPlaceholders.begin(), kPlaceholders.end(), name) == kPlaceholders.end()) {
            return Fail(ErrorCode::kInvalidArgument,
                        "the SMS body template has an unknown placeholder {{" + std::string(name) +
                            "}} (known: {{to}}, {{text}}, {{sender}})");
        }
    }
    for (std::string_view needed : {"to", "text"}) {
        if (std::find(names->begin(), names->end(), needed) == names->end()) {
            return Fail(ErrorCode::kInvalidArgument,
                        "the SMS body template must contain {{" + std::string(needed) + "}}");
        }
    }
    // Values with quotes, backslashes and line breaks: their escaped forms are only valid JSON
    // inside a string literal, so a placeholder outside quotes is caught here.
    const std::string sample =
        FillBodyTemplate(options.body_template, "+\"4\\7\n", "\"te\\xt\"\n\tæ€", "\"s\\\n");
    if (!nlohmann::json::accept(sample)) {
        return Fail(ErrorCode::kInvalidArgument,
                    "the SMS body template is not valid JSON once filled in (placeholders "
                    "belong inside string literals: \"{{text}}\")");
    }
    if (!IsValidUtf8(options.sender)) {
        return Fail(ErrorCode::kInvalidArgument, "the SMS sender is not valid UTF-8");
    }
    if (options.timeout <= std::chrono::milliseconds::zero()) {
        return Fail(ErrorCode::kInvalidArgument, "the SMS gateway timeout must be positive");
    }
    InitCurlOnce();
    return std::unique_ptr<SmsGateway>(new SmsGateway(std::move(options)));
}

SmsGateway::SmsGateway(SmsOptions options)
    : options_(std::move(options)),
      origin_(options_.url.substr(
          0,
          options_.url.find_first_of("/?#", StartsWithNoCase(options_.url, "http://") ? 7 : 8))) {}

Result<std::string> SmsGateway::Send(std::string_view to, std::string_view text) {
    if (!IsE164(to)) {
        return Fail(ErrorCode::kInvalidArgument, "an SMS goes to an E.164 number (+4791234567)");
    }
    if (text.empty() || !IsValidUtf8(text)) {
        return Fail(ErrorCode::kInvalidArgument, "the SMS text is empty or not UTF-8");
    }
    const std::string body = FillBodyTemplate(options_.body_template, to, text, options_.sender);

    CurlPtr curl(curl_easy_init(), curl_easy_cleanup);
    CurlListPtr headers(curl_slist_append(nullptr, "Content-Type: application/json"),
                        curl_slist_free_all);
    if (!curl || !headers) return Fail(ErrorCode::kInternal, "cannot start an HTTP request");
    // "Expect: 100-continue" would cost a round trip (or a one-second wait) per message.
    for (const char* h : {"Accept: application/json, */*", "Expect:"}) {
        curl_slist* more = curl_slist_append(headers.get(), h);
        if (more == nullptr) return Fail(ErrorCode::kInternal, "cannot start an HTTP request");
    }
    if (!options_.auth_header.empty() &&
        curl_slist_append(headers.get(), options_.auth_header.c_str()) == nullptr) {
        return Fail(ErrorCode::kInternal, "cannot start an HTTP request");
    }
    CURL* c = curl.get();
    std::string response;
    std::array<char, CURL_ERROR_SIZE> detail{};
    curl_easy_setopt(c, CURLOPT_URL, options_.url.c_str());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(c, CURLOPT_USERAGENT, "Firmo");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, KeepResponse);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &response);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.timeout.count()));
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, detail.data());

    const CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
        std::string message = "SMS gateway " + origin_ + ": " + curl_easy_strerror(rc);
        if (detail[0] != '\0') message.append(" (").append(detail.data()).append(")");
        return Fail(ErrorCode::kUnavailable, std::move(message));
    }
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    std::string answer = "HTTP " + std::to_string(status);
    if (const std::string excerpt = Excerpt(RedactLinks(std::move(response), text));
        !excerpt.empty()) {
        answer.append(" ").append(excerpt);
    }
    if (status < 200 || status > 299) {
        std::string message = "SMS gateway " + origin_ + " answered " + answer;
        if (status >= 300 && status < 400) message.append(" (redirects are not followed)");
        return Fail(ErrorCode::kUnavailable, std::move(message));
    }
    return answer;
}

}  // namespace firmo::notify
