#pragma once
// Every text a signer reads (portal pages, e-mails, SMS, error pages) comes from a message
// catalogue: one file per language in src/i18n/messages/<language>.msg, compiled into the
// binary, each line `key = ICU MessageFormat pattern` (plurals, selects; see the file's head).
// Adding a language is adding a file. Dates are formatted here too, per language and in a
// named time zone (ICU and the system's tzdata).
//
// Thread safety: a Catalog is immutable after construction; every method is const and safe to
// call from any thread (ICU formatters are never shared: each thread caches the ones it built).

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"

namespace firmo::i18n {

// The language every catalogue is checked against, and the last fallback.
inline constexpr std::string_view kDefaultLanguage = "en";

// A named argument of a message: text, or a number (for `{n, plural, ...}`).
using Arg = std::variant<std::string, std::int64_t>;
using Args = std::vector<std::pair<std::string, Arg>>;

class Catalog {
  public:
    // Parses catalogues given as language -> file text. kInvalidArgument names the file and
    // line of a malformed line, a duplicate key or a pattern ICU cannot compile, and a language
    // without the default language's catalogue.
    [[nodiscard]] static Result<Catalog> Parse(const std::map<std::string, std::string>& files);
    // The catalogues compiled into the binary (parsed once; a broken one aborts at start,
    // which the unit tests catch first).
    static const Catalog& Builtin();

    // The languages there is a catalogue for, sorted ("en", "it", "nb").
    const std::vector<std::string>& Languages() const { return languages_; }
    // A supported language for a BCP 47 tag ("it-IT" -> "it"; "no", "nn" -> "nb" when there is
    // a Norwegian bokmål catalogue), or "" when there is none.
    std::string Supported(std::string_view tag) const;
    // The first supported language of an Accept-Language header, by q-value (ties: order
    // given), or "".
    std::string FromAcceptLanguage(std::string_view header) const;

    // The message `key` in `language`, formatted with `args`. A language without a catalogue
    // falls back to kDefaultLanguage, a key missing there too answers the key itself (the
    // tests check that every key used exists). A failure of ICU answers the raw pattern.
    std::string Text(std::string_view language, std::string_view key, const Args& args = {}) const;
    // Every message whose key starts with `prefix`, formatted with `args` (arguments a message
    // does not use are ignored), keyed by the rest of the key: what a page template gets.
    std::map<std::string, std::string> Texts(std::string_view language, std::string_view prefix,
                                             const Args& args = {}) const;
    // Date and time of `t` in `language`'s style (key `format.datetime`, an ICU date pattern)
    // in the IANA time zone `zone` ("Europe/Rome"; unknown zones are UTC), followed by the
    // zone's name as the language says it (key `format.datetime_zone`).
    std::string DateTime(std::string_view language, Timestamp t, std::string_view zone) const;
    // Short, for an SMS: key `format.datetime_short`, whose pattern names the zone itself.
    std::string DateTimeShort(std::string_view language, Timestamp t, std::string_view zone) const;
    // Only the date (key `format.date`), without the zone.
    std::string Date(std::string_view language, Timestamp t, std::string_view zone) const;
    // Only the time of day (key `format.time`) and the zone's name, as DateTime.
    std::string Time(std::string_view language, Timestamp t, std::string_view zone) const;
    // The keys of `language`'s own catalogue (for tests).
    std::vector<std::string> Keys(std::string_view language = kDefaultLanguage) const;

  private:
    using Messages = std::map<std::string, std::string, std::less<>>;
    const Messages& MessagesOf(std::string_view language) const;
    std::string_view Pattern(std::string_view language, std::string_view key) const;
    std::string Format(std::string_view language, std::string_view pattern, const Args& args) const;
    std::string WithZone(std::string_view language, std::string when, std::string_view zone) const;
    std::string FormatTime(std::string_view language, std::string_view pattern_key, Timestamp t,
                           std::string_view zone) const;

    std::map<std::string, Messages, std::less<>> messages_;
    std::vector<std::string> languages_;
};

}  // namespace firmo::i18n
