#pragma once
// The e-mail that carries a one-time code (login or confirmation before signing), in the
// signer's language. Pure: the texts are the message catalogue's "code.*" (src/i18n/messages).

#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "domain/ports/code_sender.hpp"
#include "notify/mime.hpp"

namespace firmo::notify {

// The catalogue language for a language tag ("it-IT" -> "it", "no" -> "nb"); a language without
// a catalogue is "en".
std::string_view CodeLanguage(std::string_view tag);

// Subject, text and HTML naming the title (institution), the code and when it expires (in
// minutes from `now` and as a clock time with its zone). kInvalidArgument unless the code is 4 to
// 12 digits. The recipient is copied as is; the mailer checks it.
[[nodiscard]] Result<Mail> BuildCodeMail(const domain::CodeMessage& message, Timestamp now);

}  // namespace firmo::notify
