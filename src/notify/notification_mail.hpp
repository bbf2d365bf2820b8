#pragma once
// The notifications a signer gets about a signature request, by e-mail and by SMS, in the
// signer's language: "sign_request", "reminder", "signed_documents", "expired". Pure: the texts
// are the message catalogue's "mail.*" (src/i18n/messages).
//
// Parameters come from OutboxMessage::payload_json, a JSON object:
//   {"issuer": "Comune di Bologna", "title": "Contratto di locazione",
//    "link": "https://firmo.example.org/s/...", "expires_at": "2026-12-01T18:00:00Z",
//    "zone": "Europe/Rome"}
// ("zone", optional: the IANA time zone the expiry is written in; UTC without it)
// needed by template: sign_request and reminder: all four; signed_documents: issuer, title,
// link; expired: issuer, title, expires_at. Other members are ignored. The link is a credential
// (it opens the request): it appears in the message, never in an error.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "domain/ports/delivery.hpp"
#include "notify/mime.hpp"

namespace firmo::notify {

// One SMS segment: 160 GSM 03.38 septets. Text that needs UCS-2 is held to two segments
// (2 x 67 UTF-16 units), because a link alone nearly fills one 70-character UCS-2 segment.
inline constexpr std::size_t kSmsGsmLimit = 160;
inline constexpr std::size_t kSmsUcs2Limit = 134;

// kInvalidArgument for an unknown template, a payload that is not a JSON object, a missing or
// empty parameter, a link that is not an absolute http(s) URL of printable ASCII, an expiry that
// is not RFC 3339, or text that is not UTF-8. The language falls back as CodeLanguage does.
[[nodiscard]] Result<Mail> BuildNotificationMail(const domain::OutboxMessage& message);
// The same notification as one short text with the link. The title (and, if still needed, the
// issuer's name) is shortened with "..." so the text fits kSmsGsmLimit septets (kSmsUcs2Limit
// UTF-16 units when it is not GSM text); a very long link can still make it longer.
[[nodiscard]] Result<std::string> BuildNotificationSms(const domain::OutboxMessage& message);

// Exposed for tests: the length of `utf8` in GSM 03.38 septets (extension characters such as
// '{' or '€' count two), nullopt when some character is not in the GSM alphabet.
std::optional<std::size_t> GsmSeptets(std::string_view utf8);

}  // namespace firmo::notify
