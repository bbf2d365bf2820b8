#include "i18n/catalog.hpp"

#include <unicode/msgfmt.h>
#include <unicode/smpdtfmt.h>
#include <unicode/timezone.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <memory>

namespace firmo::i18n {

namespace embedded {
std::string_view EmbeddedFile(std::string_view name);
std::vector<std::string_view> EmbeddedFileNames();
}  // namespace embedded

namespace {

std::string_view Trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
        s.remove_suffix(1);
    }
    return s;
}

std::string Lower(std::string_view s) {
    std::string out;
    for (char c : s) {
        out.push_back(c == '_' ? '-'
                               : static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
    return out;
}

bool ValidKey(std::string_view key) {
    return !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
    });
}

std::string ToUtf8(const icu::UnicodeString& s) {
    std::string out;
    s.toUTF8String(out);
    return out;
}

icu::UnicodeString FromUtf8(std::string_view s) {
    return icu::UnicodeString::fromUTF8(icu::StringPiece(s.data(), static_cast<int32_t>(s.size())));
}

// A pattern without braces or apostrophes is its own text: no need to ask ICU.
bool IsPlain(std::string_view pattern) {
    return pattern.find_first_of("{}'") == std::string_view::npos;
}

Result<void> CheckPattern(const std::string& language, std::string_view pattern) {
    if (IsPlain(pattern)) return {};
    UErrorCode status = U_ZERO_ERROR;
    UParseError parse{};
    icu::MessageFormat format(FromUtf8(pattern), icu::Locale(language.c_str()), parse, status);
    if (U_FAILURE(status)) {
        return Fail(ErrorCode::kInvalidArgument, std::string("not an ICU MessageFormat pattern (") +
                                                     u_errorName(status) + " at offset " +
                                                     std::to_string(parse.offset) + ")");
    }
    return {};
}

std::unique_ptr<icu::TimeZone> ZoneOf(std::string_view zone) {
    std::unique_ptr<icu::TimeZone> tz(icu::TimeZone::createTimeZone(FromUtf8(zone)));
    icu::UnicodeString id;
    if (!tz || tz->getID(id) == icu::UnicodeString(UCAL_UNKNOWN_ZONE_ID)) {
        tz.reset(icu::TimeZone::createTimeZone("Etc/UTC"));
    }
    return tz;
}

// Building an ICU formatter costs far more than using it (locale data, zone names: about 0.7 ms
// for a date format), and ICU formatters are not to be shared between threads: each thread
// keeps the ones it built. Keys are bounded (catalogue keys x languages, tzdata's zones).
template <typename T>
using Cache = std::map<std::string, std::unique_ptr<T>, std::less<>>;

const icu::MessageFormat* CachedMessageFormat(const std::string& language,
                                              std::string_view pattern) {
    thread_local Cache<icu::MessageFormat> cache;
    std::string key = language + '\n' + std::string(pattern);
    if (auto it = cache.find(key); it != cache.end()) return it->second.get();
    UErrorCode status = U_ZERO_ERROR;
    auto format = std::make_unique<icu::MessageFormat>(FromUtf8(pattern),
                                                       icu::Locale(language.c_str()), status);
    if (U_FAILURE(status)) return nullptr;
    return cache.emplace(std::move(key), std::move(format)).first->second.get();
}

const icu::SimpleDateFormat* CachedDateFormat(const std::string& language, std::string_view pattern,
                                              const icu::TimeZone& zone) {
    thread_local Cache<icu::SimpleDateFormat> cache;
    icu::UnicodeString zone_id;
    zone.getID(zone_id);
    std::string key = language + '\n' + std::string(pattern) + '\n' + ToUtf8(zone_id);
    if (auto it = cache.find(key); it != cache.end()) return it->second.get();
    UErrorCode status = U_ZERO_ERROR;
    auto format = std::make_unique<icu::SimpleDateFormat>(FromUtf8(pattern),
                                                          icu::Locale(language.c_str()), status);
    if (U_FAILURE(status)) return nullptr;
    format->setTimeZone(zone);
    return cache.emplace(std::move(key), std::move(format)).first->second.get();
}

bool IsUtc(const icu::TimeZone& tz) {
    icu::UnicodeString id;
    tz.getID(id);
    return id == "Etc/UTC" || id == "UTC" || id == "Etc/GMT" || id == "GMT" || id == "Etc/Unknown";
}

}  // namespace

Result<Catalog> Catalog::Parse(const std::map<std::string, std::string>& files) {
    Catalog catalog;
    for (const auto& [language, text] : files) {
        Messages messages;
        std::size_t line_number = 0;
        std::string_view rest = text;
        while (!rest.empty()) {
            const auto end = rest.find('\n');
            const std::string_view raw = rest.substr(0, end);
            rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
            ++line_number;
            const std::string_view line = Trim(raw);
            if (line.empty() || line.front() == '#') continue;
            const std::string where = language + ".msg line " + std::to_string(line_number);
            const auto eq = line.find('=');
            if (eq == std::string_view::npos) {
                return Fail(ErrorCode::kInvalidArgument, where + ": expected key = pattern");
            }
            const std::string key(Trim(line.substr(0, eq)));
            const std::string pattern(Trim(line.substr(eq + 1)));
            if (!ValidKey(key)) {
                return Fail(ErrorCode::kInvalidArgument,
                            where + ": a key is lower-case letters, digits, '_' and '.'");
            }
            if (auto ok = CheckPattern(language, pattern); !ok) {
                return Fail(ErrorCode::kInvalidArgument,
                            where + " (" + key + "): " + ok.error().message);
            }
            if (!messages.emplace(key, pattern).second) {
                return Fail(ErrorCode::kInvalidArgument,
                            where + ": the key " + key + " is repeated");
            }
        }
        catalog.messages_.emplace(language, std::move(messages));
        catalog.languages_.push_back(language);
    }
    if (!catalog.messages_.contains(kDefaultLanguage)) {
        return Fail(ErrorCode::kInvalidArgument, "there is no catalogue for the default language " +
                                                     std::string(kDefaultLanguage));
    }
    std::sort(catalog.languages_.begin(), catalog.languages_.end());
    return catalog;
}

const Catalog& Catalog::Builtin() {
    static const Catalog kCatalog = [] {
        std::map<std::string, std::string> files;
        for (std::string_view name : embedded::EmbeddedFileNames()) {
            if (!name.ends_with(".msg")) continue;
            files.emplace(std::string(name.substr(0, name.size() - 4)),
                          std::string(embedded::EmbeddedFile(name)));
        }
        auto parsed = Parse(files);
        if (!parsed) {
            // A catalogue compiled in is part of the program: a broken one is a build defect.
            std::fprintf(stderr, "firmo: broken message catalogue: %s\n",
                         parsed.error().message.c_str());
            std::abort();
        }
        return std::move(*parsed);
    }();
    return kCatalog;
}

std::string Catalog::Supported(std::string_view tag) const {
    std::string lower = Lower(Trim(tag));
    if (lower.empty()) return {};
    if (messages_.contains(lower)) return lower;
    std::string primary = lower.substr(0, lower.find('-'));
    if (messages_.contains(primary)) return primary;
    // "no" (Norwegian) and "nn" (nynorsk) readers read bokmål rather than English.
    if ((primary == "no" || primary == "nn") && messages_.contains("nb")) return "nb";
    return {};
}

std::string Catalog::FromAcceptLanguage(std::string_view header) const {
    struct Choice {
        std::string language;
        double q;
    };
    std::vector<Choice> choices;
    std::string_view rest = header;
    while (!rest.empty()) {
        const auto comma = rest.find(',');
        const std::string_view item = Trim(rest.substr(0, comma));
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
        const auto semi = item.find(';');
        const std::string_view tag = Trim(item.substr(0, semi));
        double q = 1.0;
        if (semi != std::string_view::npos) {
            const std::string_view param = Trim(item.substr(semi + 1));
            if (param.starts_with("q="))
                q = std::strtod(std::string(param.substr(2)).c_str(), nullptr);
        }
        if (q <= 0) continue;
        if (std::string language = Supported(tag); !language.empty()) {
            choices.push_back({std::move(language), q});
        }
    }
    std::stable_sort(choices.begin(), choices.end(),
                     [](const Choice& a, const Choice& b) { return a.q > b.q; });
    return choices.empty() ? std::string() : choices.front().language;
}

const Catalog::Messages& Catalog::MessagesOf(std::string_view language) const {
    const auto it = messages_.find(language);
    return it != messages_.end() ? it->second : messages_.find(kDefaultLanguage)->second;
}

std::string_view Catalog::Pattern(std::string_view language, std::string_view key) const {
    const Messages& messages = MessagesOf(language);
    if (auto it = messages.find(key); it != messages.end()) return it->second;
    const Messages& fallback = MessagesOf(kDefaultLanguage);
    if (auto it = fallback.find(key); it != fallback.end()) return it->second;
    return key;
}

std::string Catalog::Format(std::string_view language, std::string_view pattern,
                            const Args& args) const {
    if (IsPlain(pattern)) return std::string(pattern);
    const std::string lang =
        messages_.contains(language) ? std::string(language) : std::string(kDefaultLanguage);
    const icu::MessageFormat* format = CachedMessageFormat(lang, pattern);
    if (format == nullptr) return std::string(pattern);
    UErrorCode status = U_ZERO_ERROR;
    std::vector<icu::UnicodeString> names;
    std::vector<icu::Formattable> values;
    names.reserve(args.size());
    values.reserve(args.size());
    for (const auto& [name, value] : args) {
        names.push_back(FromUtf8(name));
        if (const auto* number = std::get_if<std::int64_t>(&value)) {
            values.emplace_back(static_cast<int64_t>(*number));
        } else {
            values.emplace_back(FromUtf8(std::get<std::string>(value)));
        }
    }
    icu::UnicodeString out;
    format->format(names.data(), values.data(), static_cast<int32_t>(names.size()), out, status);
    if (U_FAILURE(status)) return std::string(pattern);
    return ToUtf8(out);
}

std::string Catalog::Text(std::string_view language, std::string_view key, const Args& args) const {
    return Format(language, Pattern(language, key), args);
}

std::map<std::string, std::string> Catalog::Texts(std::string_view language,
                                                  std::string_view prefix, const Args& args) const {
    std::map<std::string, std::string> out;
    // The default language first, so a key a translation lacks still has its text.
    for (const Messages* messages : {&MessagesOf(kDefaultLanguage), &MessagesOf(language)}) {
        for (auto it = messages->lower_bound(prefix);
             it != messages->end() && std::string_view(it->first).starts_with(prefix); ++it) {
            out[it->first.substr(prefix.size())] = it->first;
        }
    }
    for (auto& [name, key] : out) key = Text(language, key, args);
    return out;
}

std::string Catalog::FormatTime(std::string_view language, std::string_view pattern_key,
                                Timestamp t, std::string_view zone) const {
    const std::string lang =
        messages_.contains(language) ? std::string(language) : std::string(kDefaultLanguage);
    const auto tz = ZoneOf(zone);
    const auto udate = static_cast<UDate>(t.time_since_epoch().count());
    const icu::SimpleDateFormat* format = CachedDateFormat(lang, Pattern(lang, pattern_key), *tz);
    if (format == nullptr) return {};
    icu::UnicodeString out;
    format->format(udate, out);
    return ToUtf8(out);
}

std::string Catalog::DateTime(std::string_view language, Timestamp t, std::string_view zone) const {
    return WithZone(language, FormatTime(language, "format.datetime", t, zone), zone);
}

std::string Catalog::DateTimeShort(std::string_view language, Timestamp t,
                                   std::string_view zone) const {
    return FormatTime(language, "format.datetime_short", t, zone);
}

std::string Catalog::Time(std::string_view language, Timestamp t, std::string_view zone) const {
    return WithZone(language, FormatTime(language, "format.time", t, zone), zone);
}

std::string Catalog::WithZone(std::string_view language, std::string when,
                              std::string_view zone) const {
    const auto tz = ZoneOf(zone);
    std::string zone_name = "UTC";
    if (!IsUtc(*tz)) {
        const std::string lang =
            messages_.contains(language) ? std::string(language) : std::string(kDefaultLanguage);
        // The generic location name: "Italy Time", "Ora Italia", "tidssone for Norge".
        thread_local std::map<std::string, std::string, std::less<>> names;
        icu::UnicodeString id;
        tz->getID(id);
        std::string key = lang + '\n' + ToUtf8(id);
        auto it = names.find(key);
        if (it == names.end()) {
            icu::UnicodeString name;
            tz->getDisplayName(false, icu::TimeZone::GENERIC_LOCATION, icu::Locale(lang.c_str()),
                               name);
            it = names.emplace(std::move(key), ToUtf8(name)).first;
        }
        zone_name = it->second;
    }
    return Text(language, "format.datetime_zone", {{"datetime", when}, {"zone", zone_name}});
}

std::string Catalog::Date(std::string_view language, Timestamp t, std::string_view zone) const {
    return FormatTime(language, "format.date", t, zone);
}

std::vector<std::string> Catalog::Keys(std::string_view language) const {
    std::vector<std::string> keys;
    for (const auto& [key, pattern] : MessagesOf(language)) keys.push_back(key);
    return keys;
}

}  // namespace firmo::i18n
