#pragma once
// Port: delivers a one-time code to a signer addressed by e-mail or phone (the link reaches
// them separately). Only the code, a non-sensitive title and the expiry travel; never document
// content. Implemented by src/notify (SMTP e-mail; SMS gateway; a log sender for development).
// Blocking (network): never called on an I/O thread.

#include <string>

#include "core/clock.hpp"
#include "core/error.hpp"

namespace firmo::domain {

enum class CodeChannel { kEmail, kSms };

enum class CodePurpose {
    kLogin,    // to open the request from the link
    kConfirm,  // the second factor right before signing
};

struct CodeMessage {
    CodeChannel channel = CodeChannel::kEmail;
    std::string to;    // e-mail address or E.164 phone number
    std::string code;  // 6 digits
    CodePurpose purpose = CodePurpose::kLogin;
    std::string title;     // non-sensitive: the institution's name, never a document title
    std::string language;  // "en" | "it" | "nb"; unknown languages fall back to "en"
    Timestamp expires_at;
    std::string zone;  // IANA time zone the expiry is stated in; empty: UTC
};

class CodeSender {
  public:
    virtual ~CodeSender() = default;
    CodeSender() = default;
    CodeSender(const CodeSender&) = delete;
    CodeSender& operator=(const CodeSender&) = delete;

    // kUnavailable when the channel is not configured or the server refused the message.
    [[nodiscard]] virtual Result<void> Send(const CodeMessage& message) = 0;
};

}  // namespace firmo::domain
