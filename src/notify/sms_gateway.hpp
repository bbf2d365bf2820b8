#pragma once
// Sending one SMS: the SmsSender port, and SmsGateway, which POSTs a JSON body to an HTTP(S)
// SMS gateway with libcurl. The body comes from a template with {{to}}, {{text}} and
// {{sender}} placeholders, so most gateways' JSON APIs fit without code. Blocking (network, up
// to the timeout): never call it on an I/O thread. Thread-safe: every Send uses its own
// connection.

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace firmo::notify {

class SmsSender {
  public:
    virtual ~SmsSender() = default;
    SmsSender() = default;
    SmsSender(const SmsSender&) = delete;
    SmsSender& operator=(const SmsSender&) = delete;

    // The gateway's answer for the delivery log (e.g. "HTTP 202 {\"id\":\"abc\"}").
    // kInvalidArgument for a message that cannot be sent as given (not an E.164 number, text
    // empty or not UTF-8); kUnavailable when the gateway cannot be reached or refuses.
    [[nodiscard]] virtual Result<std::string> Send(std::string_view to, std::string_view text) = 0;
};

struct SmsOptions {
    std::string url;          // "https://sms.example.net/v1/messages" (http:// or https://)
    std::string auth_header;  // optional, one header: "Authorization: Bearer xyz"
    // JSON with placeholders inside string literals; each is replaced by the JSON-escaped value.
    std::string body_template = R"({"to":"{{to}}","text":"{{text}}"})";
    std::string sender;  // {{sender}}: the sender name or number, if the gateway wants one
    std::chrono::milliseconds timeout{10'000};  // the whole exchange, connect included
};

class SmsGateway final : public SmsSender {
  public:
    // kInvalidArgument for a URL that is not http(s)://host..., or that carries credentials
    // (use auth_header); an auth header that is not one "Name: value" line; a body template
    // that is not valid JSON once its placeholders are filled, uses an unknown placeholder, or
    // lacks {{to}} or {{text}}; a non-positive timeout.
    [[nodiscard]] static Result<std::unique_ptr<SmsGateway>> Create(SmsOptions options);

    // 2xx: sent, and the answer is "HTTP <status> <first 200 bytes of the body>". Any other
    // status (redirects are not followed) or a transport error: kUnavailable.
    [[nodiscard]] Result<std::string> Send(std::string_view to, std::string_view text) override;

  private:
    explicit SmsGateway(SmsOptions options);

    const SmsOptions options_;
    const std::string origin_;  // scheme://host[:port], safe for messages and logs
};

// "+" and 8 to 15 digits, the first not 0.
bool IsE164(std::string_view number);

// Exposed for tests: the template with every {{to}}, {{text}} and {{sender}} replaced by the
// JSON-string-escaped value (no quotes added; the template has them). Unknown placeholders are
// left as they are (Create refuses them).
std::string FillBodyTemplate(std::string_view templ, std::string_view to, std::string_view text,
                             std::string_view sender);
// The contents of a JSON string literal for `s` (quotes, backslash and control characters
// escaped; UTF-8 passed through).
std::string JsonEscape(std::string_view s);

}  // namespace firmo::notify
