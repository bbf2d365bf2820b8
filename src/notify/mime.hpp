#pragma once
// Building an Internet message (RFC 5322 + MIME) for one recipient: headers, a
// multipart/alternative body with a text/plain and a text/html part in UTF-8, quoted-printable.
// Pure functions, no I/O; the SMTP transport lives in smtp_mailer.hpp.

#include <initializer_list>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/error.hpp"

namespace firmo::notify {

// One e-mail to one recipient. `text` and `html` are UTF-8; line breaks may be LF or CRLF.
// With an empty `html` the message is a single text/plain part.
struct Mail {
    std::string to;       // a bare address: "mario.rossi@example.org"
    std::string subject;  // UTF-8, one line
    std::string text;
    std::string html;
    // The From display name (UTF-8, one line; the address stays the configured one): the
    // institution that writes. Empty: the configured display name.
    std::string from_name;
};

struct MailAddress {
    std::string address;       // a bare address
    std::string display_name;  // UTF-8, may be empty
};

// kInvalidArgument unless `address` is a plain ASCII addr-spec (local@domain) with no spaces,
// line breaks (header injection) or characters that would need quoting.
[[nodiscard]] Result<void> CheckAddress(std::string_view address);

// The complete message with CRLF line endings. `unique` (letters and digits, e.g. random hex)
// makes the Message-ID and the MIME boundary. The From display name is `mail.from_name` when
// set, `from.display_name` otherwise. kInvalidArgument for a bad address, a line break in the
// subject or display name, or text that is not UTF-8.
[[nodiscard]] Result<std::string> BuildMessage(const Mail& mail, const MailAddress& from,
                                               Timestamp date, std::string_view unique);

// Shared by the message texts (codes, notifications).
// `templ` with each "{name}" replaced by its value, in one pass: a value that itself contains
// "{name}" stays literal; unknown placeholders stay as written.
std::string FillPlaceholders(
    std::string_view templ,
    std::initializer_list<std::pair<std::string_view, std::string_view>> values);
// An HTML mail document: lang, <title> (escaped), the viewport of a phone, a readable body
// style, `body` as given.
std::string HtmlDocument(std::string_view language, std::string_view title, std::string_view body);

// Exposed for tests.
// RFC 5322 date-time in UTC: "Mon, 23 Nov 2026 10:15:30 +0000".
std::string FormatMailDate(Timestamp t);
// RFC 2045 quoted-printable; any line break becomes CRLF, lines are at most 76 characters.
std::string EncodeQuotedPrintable(std::string_view utf8);
// ASCII text as is; otherwise RFC 2047 "=?UTF-8?B?...?=" words, each at most 75 characters,
// never splitting a UTF-8 sequence, joined by CRLF SP (folded). `first_line_used` is the
// length of what precedes the text on the header's first line ("Subject: ").
std::string EncodeHeaderText(std::string_view utf8, std::size_t first_line_used);
std::string Base64Encode(std::string_view bytes);
bool IsValidUtf8(std::string_view text);

}  // namespace firmo::notify
