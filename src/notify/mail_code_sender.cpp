#include "notify/mail_code_sender.hpp"

#include "core/log.hpp"
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
               {"to", MaskRecipient(message.channel, message.to)},
               {"purpose", message.purpose == domain::CodePurpose::kLogin ? "login" : "confirm"},
               {"code", message.code},
               {"expires_at", FormatRfc3339(message.expires_at)}});
    return {};
}

std::string MaskRecipient(domain::CodeChannel channel, std::string_view to) {
    if (channel == domain::CodeChannel::kEmail) {
        const auto at = to.rfind('@');
        if (at == std::string_view::npos || at == 0) return "***";
        return std::string(to.substr(0, 1)) + "***" + std::string(to.substr(at));
    }
    constexpr std::size_t kShown = 3;
    std::string out = !to.empty() && to.front() == '+' ? "+" : "";
    out.append("***");
    if (to.size() > kShown + 4) out.append(to.substr(to.size() - kShown));
    return out;
}

}  // namespace firmo::notify
