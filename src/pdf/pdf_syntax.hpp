#pragma once
// Internal to src/pdf: writing small pieces of PDF syntax by hand (strings, numbers, dates,
// dictionaries with some keys replaced), for the objects of an incremental update.

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "pdf/object_reader.hpp"

namespace firmo::pdf::internal {

// (literal string) with \, ( and ) escaped and non-printable bytes as octal escapes.
std::string LiteralString(std::string_view bytes);
// A text string (PDF 7.9.2.2): literal when plain ASCII, else UTF-16BE with a BOM, in hex.
std::string TextString(std::string_view utf8);
// UTF-8 to WinAnsiEncoding for the standard Helvetica font; characters outside Latin-1 -> '?'.
std::string Utf8ToWinAnsi(std::string_view utf8);
// Shortest decimal form with at most 4 decimals ("12", "12.5", "-0.25").
std::string Number(double v);
// D:YYYYMMDDHHmmSS+00'00' (UTC).
std::string PdfDate(Timestamp t);
// Parses D:YYYY[MM[DD[HH[mm[SS]]]]][Z|+HH'mm'|-HH'mm'] (offset honoured); nullopt if malformed.
std::optional<Timestamp> ParsePdfDate(std::string_view text);
// YYYY-MM-DD HH:MM UTC, for people.
std::string HumanDate(Timestamp t);
// "<< ... >>" of `dict` (anything but a dictionary counts as empty) with `replace` keys (e.g.
// "/V") set to their given PDF text, added when missing; every other entry is written back as
// read (references as references), null ones left out.
std::string DictWith(const PdfValue& dict, const std::map<std::string, std::string>& replace);
// "[... extra]": the items of `array` (anything but an array has none), then `extra`.
std::string ArrayWith(const PdfValue& array, const std::string& extra);
// "n g R".
std::string Ref(ObjectRef ref);

}  // namespace firmo::pdf::internal
