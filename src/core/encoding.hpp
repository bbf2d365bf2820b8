#pragma once
// Byte <-> text encodings used in tokens and URLs.

#include <optional>
#include <string>
#include <string_view>

namespace firmo {

std::string HexEncode(std::string_view bytes);
std::optional<std::string> HexDecode(std::string_view hex);
// RFC 4648 section 5, no padding.
std::string Base64UrlEncode(std::string_view bytes);
std::optional<std::string> Base64UrlDecode(std::string_view text);
// Percent-decoding of a URL path segment or query value ('+' is a space only in queries).
std::optional<std::string> PercentDecode(std::string_view text, bool plus_is_space);
std::string PercentEncode(std::string_view text);

// Equality of secrets in time independent of where they differ (sizes are not secret).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// `text` as a JSON string literal, quotes included (for code without a JSON library, such as
// the domain's event bodies). Control characters (and DEL) are escaped; bytes >= 0x80 pass
// through.
std::string JsonQuote(std::string_view text);
// The same, appended to `out` (no temporary string: for hot paths such as log lines).
void AppendJsonQuoted(std::string& out, std::string_view text);
// Whether every byte is below 0x80.
bool IsAscii(std::string_view text);

// `text` with every byte that is not part of well-formed UTF-8 (overlong forms and surrogates
// included) replaced by U+FFFD, as nlohmann's dump(..., replace) does.
std::string ToValidUtf8(std::string_view text);

// `text` safe in HTML and XML text and quoted attributes: & < > " ' as character references.
std::string EscapeMarkup(std::string_view text);

}  // namespace firmo
