#include "notify/mail_code_sender.hpp"

#include "core/log.hpp"
#include "domain/identifiers.hpp"
#include "notify/code_mail.hpp"

namespace firmo::notify {

MailCodeSender::MailCodeSender(std::shared_ptr<Mailer> mailer, const Clock& clock)
    : mailer_(std::move(mailer)), clock_(clock) {}

Result<void> MailCodeSender::Send(const domain::CodeMessage& message) {
    if (message.channel != domain::CodeChannel::kEmail) {
        return Fail(ErrorCode::kUnavailable, "no SMS gateway configured");
    }
    FIRMO_TRY(const Mail mail, BuildCodeMail(message, clock_.Now()));
    return mailer_->Send(mail);
}

Result<void> LogCodeSender::Send(const domain::CodeMessage& message) {
    const bool email = message.channel == domain::CodeChannel::kEmail;
    log::Warn("code_not_sent_dev_mode",
              {{"channel", email ? "email" : "sms"},
               {"to", domain::MaskContact(message.to)},
               {"purpose", message.purpose == domain::CodePurpose::kLogin ? "login" : "confirm"},
               {"code", message.code},
               {"expires_at", FormatRfc3339(message.expires_at)}});
    return {};
}

}  // namespace firmo::notify
