#include "notify/sms_code_sender.hpp"

#include <algorithm>

#include "core/log.hpp"
#include "domain/identifiers.hpp"
#include "i18n/catalog.hpp"
#include "notify/code_mail.hpp"
#include "notify/mail_code_sender.hpp"
#include "notify/mime.hpp"

namespace firmo::notify {

namespace {

constexpr std::size_t kTitleMax = 30;

}  // namespace

Result<std::string> BuildCodeSms(const domain::CodeMessage& message, Timestamp now) {
    const std::string& code = message.code;
    if (code.size() < 4 || code.size() > 12 ||
        !std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return Fail(ErrorCode::kInvalidArgument, "a one-time code is 4 to 12 digits");
    }
    std::string title = message.title.empty() ? "Firmo" : message.title;
    if (title.size() > kTitleMax) {
        title.resize(kTitleMax - 3);
        // Do not cut a UTF-8 sequence in half.
        while (!title.empty() && (static_cast<unsigned char>(title.back()) & 0xC0) == 0x80) {
            title.pop_back();
        }
        if (!title.empty() && static_cast<unsigned char>(title.back()) >= 0xC0) title.pop_back();
        title += "...";
    }
    const auto left = std::chrono::duration_cast<std::chrono::minutes>(message.expires_at - now);
    const std::string minutes = std::to_string(std::max<long>(1, static_cast<long>(left.count())));
    return i18n::Catalog::Builtin().Text(CodeLanguage(message.language), "code.sms",
                                         {{"code", code}, {"title", title}, {"minutes", minutes}});
}

Result<void> RoutingCodeSender::Send(const domain::CodeMessage& message) {
    if (message.channel == domain::CodeChannel::kEmail) return email_->Send(message);
    if (!sms_) return Fail(ErrorCode::kUnavailable, "no SMS gateway configured");
    FIRMO_TRY(auto text, BuildCodeSms(message, clock_.Now()));
    FIRMO_TRY(auto answer, sms_->Send(message.to, text));
    log::Info("code_sent", {{"channel", "sms"}, {"to", domain::MaskContact(message.to)}});
    (void)answer;
    return {};
}

}  // namespace firmo::notify
