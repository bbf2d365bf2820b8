#pragma once
// One-time codes by SMS (through the SMS gateway), and the sender that routes each code to its
// channel: e-mail codes to the e-mail sender, SMS codes to the gateway. A code is sent at the
// signer's own request, so the notification quiet hours do not apply to it.

#include <memory>

#include "domain/ports/code_sender.hpp"
#include "notify/sms_gateway.hpp"

namespace firmo::notify {

// The SMS text of a code in the message's language (en, it, nb): the code first (phones offer
// it for autofill), the institution's name, the validity, and "never share it".
[[nodiscard]] Result<std::string> BuildCodeSms(const domain::CodeMessage& message, Timestamp now);

class RoutingCodeSender final : public domain::CodeSender {
  public:
    // `email` must not be null; a null `sms` leaves SMS codes unavailable (503).
    RoutingCodeSender(std::unique_ptr<domain::CodeSender> email, std::shared_ptr<SmsSender> sms,
                      const Clock& clock)
        : email_(std::move(email)), sms_(std::move(sms)), clock_(clock) {}

    [[nodiscard]] Result<void> Send(const domain::CodeMessage& message) override;

  private:
    std::unique_ptr<domain::CodeSender> email_;
    std::shared_ptr<SmsSender> sms_;
    const Clock& clock_;
};

}  // namespace firmo::notify
