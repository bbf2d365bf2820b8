#pragma once
// Internal to the sender portal's files (staff_portal.cpp, staff_admin.cpp): the visitor's
// context of one request and the template helpers they share.

#include <kainjow/mustache.hpp>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/log.hpp"
#include "i18n/catalog.hpp"
#include "i18n/zone.hpp"
#include "web/page_kit.hpp"
#include "web/portal.hpp"
#include "web/staff_portal.hpp"

namespace firmo::web {

namespace staff_internal {

namespace mu = kainjow::mustache;

inline std::string Render(std::string_view template_name, const mu::data& data) {
    mu::mustache tmpl{std::string(EmbeddedFile(template_name))};
    return tmpl.render(data);
}

inline std::string FormValue(const std::multimap<std::string, std::string>& form, const char* key) {
    auto it = form.find(key);
    return it == form.end() ? std::string() : it->second;
}

// "2026-12-31" (a date picker's value) as the end of that day in `zone`.
inline std::optional<Timestamp> EndOfDay(std::string_view date, const std::string& zone) {
    const auto midnight_utc = ParseRfc3339(std::string(date) + "T23:59:59Z");
    if (!midnight_utc || date.size() != 10) return std::nullopt;
    return *midnight_utc - i18n::UtcOffset(zone, *midnight_utc);
}

}  // namespace staff_internal

struct StaffPortal::Ctx {
    std::optional<domain::StaffPrincipal> principal;
    std::optional<Error> failure;  // the session could not be read (the store is down)
    std::string token;             // the session's token; empty without one
    std::string new_token;         // a session opened by this request: set the cookie
    std::string pre;               // the firmo_staff_pre value (no session)
    bool set_pre = false;
    bool clear_session = false;
    std::string csrf;
    domain::ClientInfo client;
    std::multimap<std::string, std::string> form;
    LanguageChoice language;

    std::string Language() const {
        if (!language.chosen.empty()) return language.chosen;
        if (!language.browser.empty()) return language.browser;
        return std::string(i18n::kDefaultLanguage);
    }
    std::string T(std::string_view key, const i18n::Args& args = {}) const {
        return i18n::Catalog::Builtin().Text(Language(), key, args);
    }
    staff_internal::mu::data Texts(std::string_view prefix, const i18n::Args& args = {}) const {
        staff_internal::mu::data data;
        for (const auto& [name, text] : i18n::Catalog::Builtin().Texts(Language(), prefix, args)) {
            data.set(name, text);
        }
        return data;
    }
};

// Opens the visitor's context; a store that cannot read sessions answers 503.
#define FIRMO_STAFF_CTX(ctx, req)                                              \
    Ctx ctx = Open(req);                                                       \
    if (ctx.failure) {                                                         \
        log::Error("staff_portal_session", {{"error", ctx.failure->message}}); \
        return HttpResponse::Text(HttpStatusOf(ErrorCode::kUnavailable),       \
                                  "temporarily unavailable");                  \
    }

}  // namespace firmo::web
