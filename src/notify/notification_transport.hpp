#pragma once
// DeliveryTransport for the signer's notifications: e-mail through a Mailer, SMS through an
// SmsSender, with the texts of notification_mail.hpp and SMS held back during the signer's
// quiet hours (quiet_hours.hpp). Webhooks belong to another transport.
// Thread-safe when the mailer and the SMS sender are (SmtpMailer and SmsGateway are).

#include <memory>

#include "core/clock.hpp"
#include "domain/ports/delivery.hpp"
#include "notify/sms_gateway.hpp"
#include "notify/smtp_mailer.hpp"

namespace firmo::notify {

class NotificationTransport final : public domain::DeliveryTransport {
  public:
    // A null `mailer` or `sms` means that channel is not configured. `clock` (quiet hours) must
    // outlive the transport.
    NotificationTransport(std::shared_ptr<Mailer> mailer, std::shared_ptr<SmsSender> sms,
                          const Clock& clock);

    // kEmail: the rendered mail is sent; delivered. kSms: during quiet hours not sent, and
    // defer_until is the next 08:00 local; otherwise sent, with the gateway's answer as the
    // response. kInvalidArgument (retrying cannot help): a webhook, an unknown template, bad
    // parameters, a destination that is not an address or E.164 number. kUnavailable: the
    // channel is not configured, or the server or gateway is down or refuses. Logs one line per
    // attempt with the destination masked; never the text, which holds the signer's link.
    [[nodiscard]] Result<domain::DeliveryOutcome> Deliver(
        const domain::OutboxMessage& message) override;

  private:
    Result<domain::DeliveryOutcome> DeliverEmail(const domain::OutboxMessage& message);
    Result<domain::DeliveryOutcome> DeliverSms(const domain::OutboxMessage& message);

    std::shared_ptr<Mailer> mailer_;
    std::shared_ptr<SmsSender> sms_;
    const Clock& clock_;
};

}  // namespace firmo::notify
