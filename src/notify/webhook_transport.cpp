#include "notify/webhook_transport.hpp"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <mutex>
#include <optional>

#include "core/encoding.hpp"
#include "core/log.hpp"
#include "crypto/digest.hpp"

namespace firmo::notify {
namespace {

using CurlPtr = std::unique_ptr<CURL, void (*)(CURL*)>;
using CurlListPtr = std::unique_ptr<curl_slist, void (*)(curl_slist*)>;
using CurlUrlPtr = std::unique_ptr<CURLU, void (*)(CURLU*)>;

// A receiver has no reason to answer a webhook with more; the rest is not even read.
constexpr std::size_t kMaxResponseBody = 64 * 1024;
// What the delivery log keeps of the answer.
constexpr std::size_t kResponseSnippet = 200;

// curl_global_init is not thread-safe in every libcurl build; do it once, up front.
void InitCurlOnce() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

bool IsPrivateV4(const unsigned char* a) {
    return a[0] == 0 ||                             // "this" network
           a[0] == 10 ||                            // private
           (a[0] == 100 && (a[1] & 0xC0) == 64) ||  // shared address space (CGNAT)
           a[0] == 127 ||                           // loopback
           (a[0] == 169 && a[1] == 254) ||          // link-local, cloud metadata
           (a[0] == 172 && (a[1] & 0xF0) == 16) ||  // private
           (a[0] == 192 && a[1] == 0 && (a[2] == 0 || a[2] == 2)) ||  // IETF, TEST-NET-1
           (a[0] == 192 && a[1] == 168) ||                            // private
           (a[0] == 198 && (a[1] & 0xFE) == 18) ||                    // benchmarking
           (a[0] == 198 && a[1] == 51 && a[2] == 100) ||              // TEST-NET-2
           (a[0] == 203 && a[1] == 0 && a[2] == 113) ||               // TEST-NET-3
           a[0] >= 224;  // multicast, reserved, broadcast
}

bool IsPrivateV6(const unsigned char* a) {
    static constexpr std::array<unsigned char, 12> kMapped = {0, 0, 0, 0, 0,    0,
                                                              0, 0, 0, 0, 0xFF, 0xFF};
    static constexpr std::array<unsigned char, 12> kNat64 = {0, 0x64, 0xFF, 0x9B, 0, 0,
                                                             0, 0,    0,    0,    0, 0};
    // IPv4-mapped, IPv4-compatible (this covers :: and ::1) and NAT64 addresses reach an
    // IPv4 host: judge that one.
    if (std::memcmp(a, kMapped.data(), 12) == 0 || std::memcmp(a, kNat64.data(), 12) == 0 ||
        std::all_of(a, a + 12, [](unsigned char b) { return b == 0; })) {
        return IsPrivateV4(a + 12);
    }
    return (a[0] & 0xFE) == 0xFC ||                                         // unique local
           (a[0] == 0xFE && (a[1] & 0x80) == 0x80) ||                       // link-/site-local
           a[0] == 0xFF ||                                                  // multicast
           (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0D && a[3] == 0xB8);  // documentation
}

// State of one delivery, shared with libcurl's callbacks.
struct Exchange {
    bool allow_private = false;
    int refused = 0;  // addresses refused by the private-address check
    int allowed = 0;  // addresses a connection was attempted to
    std::string refused_address;
    std::string body;
    bool body_overflow = false;
};

std::size_t WriteBody(char* data, std::size_t size, std::size_t n, void* user) {
    auto* exchange = static_cast<Exchange*>(user);
    const std::size_t count = size * n;
    if (exchange->body.size() + count > kMaxResponseBody) {
        exchange->body_overflow = true;
        return 0;  // stop reading: libcurl ends the transfer with CURLE_WRITE_ERROR
    }
    exchange->body.append(data, count);
    return count;
}

// Called for every address libcurl is about to connect to, after DNS resolution: the one
// place where a host name that resolves (or rebinds) to an internal address can be caught.
curl_socket_t OpenSocket(void* user, curlsocktype purpose, curl_sockaddr* address) {
    auto* exchange = static_cast<Exchange*>(user);
    if (purpose == CURLSOCKTYPE_IPCXN && !exchange->allow_private) {
        std::optional<bool> is_private;
        std::array<char, INET6_ADDRSTRLEN> text{};
        if (address->family == AF_INET) {
            const auto* in = reinterpret_cast<const sockaddr_in*>(&address->addr);
            const auto* bytes = reinterpret_cast<const unsigned char*>(&in->sin_addr);
            is_private = IsPrivateV4(bytes);
            ::inet_ntop(AF_INET, &in->sin_addr, text.data(), text.size());
        } else if (address->family == AF_INET6) {
            const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&address->addr);
            is_private = IsPrivateV6(in6->sin6_addr.s6_addr);
            ::inet_ntop(AF_INET6, &in6->sin6_addr, text.data(), text.size());
        }
        // Neither IPv4 nor IPv6 (a Unix socket cannot come from an http URL): refuse too.
        if (is_private.value_or(true)) {
            ++exchange->refused;
            exchange->refused_address = text.data();
            return CURL_SOCKET_BAD;
        }
    }
    ++exchange->allowed;
    return ::socket(address->family, address->socktype, address->protocol);
}

// Printable text for the delivery log: at most `max` bytes, cut at a character boundary;
// control characters become spaces and bytes that are not UTF-8 become '?'.
std::string Snippet(std::string_view body, std::size_t max) {
    std::string out;
    std::size_t i = 0;
    while (i < body.size()) {
        const auto c = static_cast<unsigned char>(body[i]);
        std::size_t len = 1;
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
        }
        bool valid = c < 0x80 || len > 1;
        for (std::size_t k = 1; valid && k < len; ++k) {
            valid = i + k < body.size() && (static_cast<unsigned char>(body[i + k]) & 0xC0) == 0x80;
        }
        if (valid && len > 1) {
            // No overlong forms, UTF-16 surrogates or code points past U+10FFFF.
            const auto c1 = static_cast<unsigned char>(body[i + 1]);
            valid = !(c == 0xE0 && c1 < 0xA0) && !(c == 0xED && c1 >= 0xA0) &&
                    !(c == 0xF0 && c1 < 0x90) && !(c == 0xF4 && c1 >= 0x90);
        }
        if (!valid) len = 1;
        const std::size_t add = valid ? len : 1;
        if (out.size() + add > max) break;
        if (!valid) {
            out += '?';
        } else if (c < 0x20 || c == 0x7F) {
            out += ' ';
        } else {
            out.append(body.substr(i, len));
        }
        i += len;
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out;
}

bool HasLineBreak(std::string_view s) { return s.find_first_of("\r\n") != std::string::npos; }

// kInvalidArgument unless `url` is an absolute http:// or https:// URL with a host.
Result<void> CheckDestination(const std::string& url) {
    const auto bad = [] {
        return Fail(ErrorCode::kInvalidArgument,
                    "the webhook destination must be an http:// or https:// URL");
    };
    if (url.empty() || std::any_of(url.begin(), url.end(), [](char ch) {
            return static_cast<unsigned char>(ch) <= 0x20 || ch == 0x7F;
        })) {
        return bad();
    }
    if (url.find('\\') != std::string::npos) return bad();  // read as '/' by some parsers
    CurlUrlPtr parsed(curl_url(), curl_url_cleanup);
    if (!parsed) return Fail(ErrorCode::kInternal, "cannot parse a URL");
    if (curl_url_set(parsed.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) return bad();
    char* scheme = nullptr;
    if (curl_url_get(parsed.get(), CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) return bad();
    const std::string s = scheme;
    curl_free(scheme);
    if (s != "http" && s != "https") return bad();
    // Credentials in the URL: libcurl would send them as Basic authentication to whatever the
    // host turns out to be. Endpoints registered before this check reach here.
    for (CURLUPart part : {CURLUPART_USER, CURLUPART_PASSWORD}) {
        char* value = nullptr;
        const CURLUcode rc = curl_url_get(parsed.get(), part, &value, 0);
        curl_free(value);
        if (rc == CURLUE_OK) {
            return Fail(ErrorCode::kInvalidArgument,
                        "the webhook destination must not carry a user name or password");
        }
    }
    return {};
}

}  // namespace

std::string WebhookSignature(std::string_view secret, std::int64_t unix_seconds,
                             std::string_view body) {
    std::string signed_text = std::to_string(unix_seconds);
    signed_text += '.';
    signed_text.append(body);
    return "v1=" + HexEncode(crypto::HmacSha256(secret, signed_text));
}

std::string WebhookAnswerText(long status, std::string_view body, bool public_address) {
    const bool ok = status >= 200 && status <= 299;
    if (!public_address && !ok) return std::string(kWebhookNotAccepted);
    std::string text = "HTTP " + std::to_string(status);
    if (!public_address) return text;
    const std::string snippet = Snippet(body, kResponseSnippet);
    if (!snippet.empty()) text.append(": ").append(snippet);
    if (status >= 300 && status <= 399) text += " (redirects are not followed)";
    return text;
}

bool IsPrivateAddress(std::string_view ip_literal) {
    const std::string text(ip_literal);
    std::array<unsigned char, 16> bytes{};
    if (::inet_pton(AF_INET, text.c_str(), bytes.data()) == 1) return IsPrivateV4(bytes.data());
    if (::inet_pton(AF_INET6, text.c_str(), bytes.data()) == 1) return IsPrivateV6(bytes.data());
    return false;
}

Result<std::unique_ptr<WebhookTransport>> WebhookTransport::Create(WebhookOptions options,
                                                                   const Clock& clock) {
    if (options.timeout <= std::chrono::milliseconds::zero()) {
        return Fail(ErrorCode::kInvalidArgument, "the webhook timeout must be positive");
    }
    InitCurlOnce();
    return std::unique_ptr<WebhookTransport>(new WebhookTransport(options, clock));
}

WebhookTransport::WebhookTransport(WebhookOptions options, const Clock& clock)
    : options_(options), clock_(clock) {}

Result<domain::DeliveryOutcome> WebhookTransport::Deliver(const domain::OutboxMessage& message) {
    if (message.channel != domain::Channel::kWebhook) {
        // Not domain::ToString: the transport should not depend on more of the domain than
        // the port itself.
        return Fail(ErrorCode::kInvalidArgument, message.channel == domain::Channel::kEmail
                                                     ? "the webhook transport cannot deliver e-mail"
                                                     : "the webhook transport cannot deliver SMS");
    }
    if (message.secret.empty()) {
        return Fail(ErrorCode::kInvalidArgument, "the webhook endpoint has no signing secret");
    }
    FIRMO_CHECK(CheckDestination(message.destination));
    if (HasLineBreak(message.event_id) || HasLineBreak(message.template_name)) {
        return Fail(ErrorCode::kInvalidArgument,
                    "the event id and type must not contain line breaks");
    }

    const std::int64_t timestamp =
        std::chrono::duration_cast<std::chrono::seconds>(clock_.Now().time_since_epoch()).count();
    const std::string header_lines[] = {
        "Content-Type: application/json",
        "User-Agent: Firmo-Webhooks/1",
        "Firmo-Event-Id: " + message.event_id,
        "Firmo-Event-Type: " + message.template_name,
        "Firmo-Timestamp: " + std::to_string(timestamp),
        "Firmo-Signature: " + WebhookSignature(message.secret, timestamp, message.payload_json),
        // libcurl would otherwise wait for "100 Continue" before sending a body over 1 KB.
        "Expect:",
    };
    CurlListPtr headers(nullptr, curl_slist_free_all);
    for (const auto& line : header_lines) {
        curl_slist* next = curl_slist_append(headers.get(), line.c_str());
        if (next == nullptr) return Fail(ErrorCode::kInternal, "cannot build the webhook call");
        static_cast<void>(headers.release());
        headers.reset(next);
    }

    CurlPtr curl(curl_easy_init(), curl_easy_cleanup);
    if (!curl) return Fail(ErrorCode::kInternal, "cannot start a webhook call");
    CURL* c = curl.get();
    Exchange exchange;
    exchange.allow_private = options_.allow_private_addresses;
    std::array<char, CURL_ERROR_SIZE> detail{};
    const long timeout_ms = static_cast<long>(options_.timeout.count());

    curl_easy_setopt(c, CURLOPT_URL, message.destination.c_str());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    // Always a direct connection: a proxy from the environment would both bypass the
    // private-address check and send the calls somewhere the operator did not configure here.
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, message.payload_json.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(message.payload_json.size()));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, WriteBody);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &exchange);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, OpenSocket);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &exchange);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, detail.data());
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);

    const CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    char* primary_ip = nullptr;
    curl_easy_getinfo(c, CURLINFO_PRIMARY_IP, &primary_ip);
    const std::string address = primary_ip != nullptr ? primary_ip : "";
    // Public only when connected to a public address: an answer from anywhere else is not
    // the issuer's to read.
    const bool public_address = !address.empty() && !IsPrivateAddress(address);
    // An over-long answer is cut off once its status is known: the status still counts.
    const bool answered = rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && exchange.body_overflow);
    const auto log_failure = [&](std::string_view error) {
        log::Warn("webhook_failed",
                  {{"outbox_id", std::to_string(message.id)},
                   {"issuer_id", message.issuer_id},
                   {"endpoint_id", message.endpoint_id},
                   {"to", message.destination},
                   {"address", address.empty() ? exchange.refused_address : address},
                   {"error", error}});
    };
    if (!answered) {
        if (exchange.refused > 0 && exchange.allowed == 0) {
            log_failure(
                "refused: a private or reserved address (webhooks.allow_private_addresses)");
            return Fail(ErrorCode::kInvalidArgument,
                        "the webhook destination is a private or reserved address, which this "
                        "server does not call");
        }
        std::string detail_text = curl_easy_strerror(rc);
        if (detail[0] != '\0') detail_text.append(" (").append(detail.data()).append(")");
        log_failure(detail_text);
        return Fail(ErrorCode::kUnavailable, std::string(kWebhookNotAccepted));
    }
    std::string text = WebhookAnswerText(status, exchange.body, public_address);
    if (status < 200 || status > 299) {
        log_failure("HTTP " + std::to_string(status) + ": " +
                    Snippet(exchange.body, kResponseSnippet));
        return Fail(ErrorCode::kUnavailable, std::move(text));
    }
    domain::DeliveryOutcome outcome;
    outcome.delivered = true;
    outcome.response = std::move(text);
    return outcome;
}

}  // namespace firmo::notify
