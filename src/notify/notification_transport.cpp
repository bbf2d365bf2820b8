#include "notify/notification_transport.hpp"

#include "core/log.hpp"
#include "domain/identifiers.hpp"
#include "notify/mail_code_sender.hpp"
#include "notify/notification_mail.hpp"
#include "notify/quiet_hours.hpp"

namespace firmo::notify {
namespace {

using domain::Channel;
using domain::DeliveryOutcome;
using domain::OutboxMessage;

// One line per attempt for the operator: which message, where (masked), and how it went.
void LogAttempt(const OutboxMessage& m, std::string_view channel, std::string_view outcome,
                std::string_view detail) {
    const std::string id = std::to_string(m.id);
    const std::string to = domain::MaskContact(m.destination);
    const bool failed = outcome == "failed";
    log::Write(failed ? log::Level::kWarn : log::Level::kInfo,
               "notification_" + std::string(outcome),
               {{"outbox_id", id},
                {"channel", channel},
                {"template", m.template_name},
                {"to", to},
                {failed ? "error" : "detail", detail}});
}

}  // namespace

NotificationTransport::NotificationTransport(std::shared_ptr<Mailer> mailer,
                                             std::shared_ptr<SmsSender> sms, const Clock& clock)
    : mailer_(std::move(mailer)), sms_(std::move(sms)), clock_(clock) {}

Result<DeliveryOutcome> NotificationTransport::Deliver(const OutboxMessage& message) {
    switch (message.channel) {
        case Channel::kEmail:
            return DeliverEmail(message);
        case Channel::kSms:
            return DeliverSms(message);
        case Channel::kWebhook:
            break;
    }
    return Fail(ErrorCode::kInvalidArgument,
                "webhook messages are not this transport's channel (e-mail and SMS only)");
}

Result<DeliveryOutcome> NotificationTransport::DeliverEmail(const OutboxMessage& message) {
    // Rendered first: a message that can never be sent is abandoned even while e-mail is down.
    auto mail = BuildNotificationMail(message);
    if (mail && !mailer_) {
        mail = Fail(ErrorCode::kUnavailable,
                    "e-mail is not configured (no SMTP server): the notification waits");
    }
    if (!mail) {
        LogAttempt(message, "email", "failed", mail.error().message);
        return Fail(std::move(mail).error());
    }
    if (auto sent = mailer_->Send(*mail); !sent) {
        LogAttempt(message, "email", "failed", sent.error().message);
        return Fail(std::move(sent).error());
    }
    LogAttempt(message, "email", "delivered", "accepted by the SMTP server");
    return DeliveryOutcome{true, std::nullopt, "accepted by the SMTP server"};
}

Result<DeliveryOutcome> NotificationTransport::DeliverSms(const OutboxMessage& message) {
    auto text = BuildNotificationSms(message);
    if (text && !IsE164(message.destination)) {
        text = Fail(ErrorCode::kInvalidArgument, "an SMS goes to an E.164 number (+4791234567)");
    }
    if (text && !sms_) {
        text = Fail(ErrorCode::kUnavailable,
                    "SMS is not configured (no sms.url): the notification waits");
    }
    if (!text) {
        LogAttempt(message, "sms", "failed", text.error().message);
        return Fail(std::move(text).error());
    }
    if (const auto until = QuietUntil(message.destination, clock_.Now())) {
        LogAttempt(message, "sms", "deferred", "quiet hours until " + FormatRfc3339(*until));
        return DeliveryOutcome{false, until, "quiet hours (22:00-08:00 local)"};
    }
    auto answer = sms_->Send(message.destination, *text);
    if (!answer) {
        LogAttempt(message, "sms", "failed", answer.error().message);
        return Fail(std::move(answer).error());
    }
    LogAttempt(message, "sms", "delivered", *answer);
    return DeliveryOutcome{true, std::nullopt, std::move(*answer)};
}

}  // namespace firmo::notify
