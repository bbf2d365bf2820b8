#pragma once
// What the sender portal's source files share (staff_portal.cpp: accounts and following,
// staff_send.cpp: sending): the visitor's context of one request, rendering, form values.
// Internal to src/web.

#include <kainjow/mustache.hpp>
#include <map>
#include <optional>
#include <string>

#include "core/log.hpp"
#include "i18n/catalog.hpp"
#include "i18n/zone.hpp"
#include "web/page_kit.hpp"
#include "web/portal.hpp"
#include "web/staff_portal.hpp"

namespace firmo::web {

namespace mu = kainjow::mustache;
using http::HttpRequest;
using http::HttpResponse;
using namespace firmo::domain;

namespace staff_kit {

inline constexpr const char* kCookie = "firmo_staff";
inline constexpr const char* kPreCookie = "firmo_staff_pre";
inline constexpr const char* kPreCsrfPurpose = "staff-csrf";
inline constexpr const char* kPath = "/app";
// The same choice as the signer portal's switch (one cookie for the whole site).
inline constexpr const char* kLanguageCookie = "firmo_lang";
inline constexpr int kLanguageCookieSeconds = 365 * 24 * 3600;
// The login's second step (TOTP): a signed grant naming the account, in this cookie.
inline constexpr const char* kStepCookie = "firmo_staff_step";
inline constexpr const char* kStepPurpose = "staff-second-step";
// How long a login form stays valid before its CSRF token expires.
inline constexpr auto kPreSessionTtl = std::chrono::minutes(30);

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

}  // namespace staff_kit
using namespace staff_kit;

struct StaffPortal::Ctx {
    std::optional<StaffPrincipal> principal;
    std::optional<Error> failure;  // the session could not be read (the store is down)
    std::string token;             // the session's token; empty without one
    std::string new_token;         // a session opened by this request: set the cookie
    std::string pre;               // the firmo_staff_pre value (no session)
    bool set_pre = false;
    bool clear_session = false;
    std::string csrf;
    ClientInfo client;
    std::multimap<std::string, std::string> form;
    LanguageChoice language;
    std::vector<std::string> cookies;  // more Set-Cookie values (path /app), "name=value; ..."

    std::string Language() const {
        if (!language.chosen.empty()) return language.chosen;
        if (!language.browser.empty()) return language.browser;
        return std::string(i18n::kDefaultLanguage);
    }
    std::string T(std::string_view key, const i18n::Args& args = {}) const {
        return i18n::Catalog::Builtin().Text(Language(), key, args);
    }
    mu::data Texts(std::string_view prefix, const i18n::Args& args = {}) const {
        mu::data data;
        for (const auto& [name, text] : i18n::Catalog::Builtin().Texts(Language(), prefix, args)) {
            data.set(name, text);
        }
        return data;
    }
};

// Opens the visitor's context `ctx` of `req`; 503 when the session store cannot be read.
#define FIRMO_STAFF_CTX(ctx, req)                                              \
    Ctx ctx = Open(req);                                                       \
    if (ctx.failure) {                                                         \
        log::Error("staff_portal_session", {{"error", ctx.failure->message}}); \
        return HttpResponse::Text(HttpStatusOf(ErrorCode::kUnavailable),       \
                                  "temporarily unavailable");                  \
    }

}  // namespace firmo::web
