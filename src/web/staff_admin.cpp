// The sender portal's administration pages (issue 17), for an issuer's admins: its staff
// accounts and roles, its webhooks with their recent deliveries, its API keys, and the staff
// audit log. Every page acts through the services the API and the CLI use (StaffService,
// EventService, IssuerService); every change is recorded in the staff audit log. Others: 403.

#include <kainjow/mustache.hpp>

#include "core/encoding.hpp"
#include "http/forwarded.hpp"
#include "i18n/catalog.hpp"
#include "web/staff_portal.hpp"
#include "web/staff_portal_kit.hpp"

namespace firmo::web {

namespace mu = kainjow::mustache;

namespace {

constexpr int kDeliveriesShown = 20;
constexpr int kAuditShown = 200;

std::vector<std::string> FormValues(const std::multimap<std::string, std::string>& form,
                                    const char* key) {
    std::vector<std::string> out;
    auto [from, to] = form.equal_range(key);
    for (auto it = from; it != to; ++it) out.push_back(it->second);
    return out;
}

// A key's allow-list as typed ("10.0.0.0/8 2001:db8::/32,192.0.2.7"): its items, ", "-separated.
std::string AllowedAddresses(std::string_view typed) {
    std::string out;
    std::size_t pos = 0;
    while (pos < typed.size()) {
        const auto end = std::min(typed.find_first_of(", \t\r\n", pos), typed.size());
        if (end > pos) out += (out.empty() ? "" : ", ") + std::string(typed.substr(pos, end - pos));
        pos = end + 1;
    }
    return out;
}

}  // namespace

std::optional<HttpResponse> StaffPortal::RefuseAdmin(Ctx& ctx, bool post) const {
    if (!ctx.principal) return SeeOther(ctx, "/app/login");
    if (post && !CsrfOk(ctx)) return Message(ctx, 403, "staff.error.form_expired");
    if (!ctx.principal->is_admin()) return Message(ctx, 403, "staff.error.forbidden");
    return std::nullopt;
}

struct StaffPortal::AdminData {
    mu::data data;
};

HttpResponse StaffPortal::AdminPage(Ctx& ctx, const Req& req, const std::string& section,
                                    AdminData& page) const {
    mu::data& data = page.data;
    mu::list tabs;
    for (const char* name : {"users", "webhooks", "keys", "audit"}) {
        mu::data tab;
        tab.set("href", std::string("/app/admin/") + name);
        tab.set("name", ctx.T(std::string("staff.admin.tab_") + name));
        tab.set("current", section == name);
        tabs.push_back(tab);
    }
    data.set("tabs", tabs);
    data.set("t", ctx.Texts("staff.admin."));
    data.set("csrf", ctx.csrf);
    if (req.Query("error")) data.set("error", ctx.T("staff.admin.refused"));
    const std::string title = ctx.T("staff.admin.tab_" + section);
    return Page(ctx, 200, title, Render("staff_admin_" + section + ".mustache", data));
}

HttpResponse StaffPortal::AdminOnce(Ctx& ctx, const std::string& heading, const std::string& text,
                                    const std::string& value, const std::string& back) const {
    mu::data data;
    data.set("heading", heading);
    data.set("text", text);
    data.set("value", value);
    data.set("back", back);
    data.set("t", ctx.Texts("staff.admin."));
    return Page(ctx, 201, heading, Render("staff_admin_once.mustache", data));
}

HttpResponse StaffPortal::AdminHome(Req& req) {
    FIRMO_STAFF_CTX(ctx, req);
    if (auto refused = RefuseAdmin(ctx, false)) return std::move(*refused);
    return SeeOther(ctx, "/app/admin/users");
}

// ---- Users and roles ----------------------------------------------------------------------

HttpResponse StaffPortal::AdminUsers(Req& req) {
    FIRMO_STAFF_CTX(ctx, req);
    if (auto refused = RefuseAdmin(ctx, false)) return std::move(*refused);
    auto users = staff_.ListUsers(ctx.principal->user.issuer_id);
    if (!users) return ErrorPage(ctx, users.error());
    const i18n::Catalog& catalog = i18n::Catalog::Builtin();
    mu::list rows;
    for (const StaffUser& u : *users) {
        mu::data row;
        row.set("id", u.id);
        row.set("email", u.email);
        row.set("role", ctx.T("staff.admin.role_" + std::string(ToString(u.role))));
        const std::string state = u.disabled_at             ? "disabled"
                                  : u.password_hash.empty() ? "invited"
                                                            : "active";
        row.set("state", ctx.T("staff.admin.state_" + state) +
                             (u.has_totp() ? " · " + ctx.T("staff.admin.state_totp") : ""));
        row.set("created", catalog.DateTime(ctx.Language(), u.created_at, options_.time_zone));
        const bool self = u.id == ctx.principal->user.id;
        row.set("changeable", !self && !u.disabled_at);
        row.set("totp", !self && (u.has_totp() || !u.totp_secret.empty()));
        mu::list roles;
        for (StaffRole r : {StaffRole::kAdmin, StaffRole::kSender, StaffRole::kViewer}) {
            mu::data option;
            option.set("value", std::string(ToString(r)));
            option.set("name", ctx.T("staff.admin.role_" + std::string(ToString(r))));
            option.set("selected", r == u.role);
            roles.push_back(option);
        }
        row.set("roles", roles);
        rows.push_back(row);
    }
    AdminData page;
    mu::data& data = page.data;
    data.set("users", rows);
    return AdminPage(ctx, req, "users", page);
}

HttpResponse StaffPortal::AdminInvite(Req& req) {
    FIRMO_STAFF_CTX(ctx, req);
    if (auto refused = RefuseAdmin(ctx, true)) return std::move(*refused);
    const auto role = ParseStaffRole(FormValue(ctx.form, "role"));
    if (!role) return SeeOther(ctx, "/app/admin/users?error=1");
    auto invite = staff_.CreateUser(ctx.principal->user.issuer_id, FormValue(ctx.form, "email"),
                                    *role, StaffActor(ctx.principal->user.id));
    if (!invite) {
        if (invite.error().code == ErrorCode::kInvalidArgument ||
            invite.error().code == ErrorCode::kAlreadyExists) {
            return SeeOther(ctx, "/app/admin/users?error=1");
        }
        return ErrorPage(ctx, invite.error());
    }
    return AdminOnce(ctx, ctx.T("staff.admin_msg.invited_heading"),
                     ctx.T("staff.admin_msg.invited_text", {{"email", invite->user.email}}),
                     SetupUrl(options_.public_url, invite->setup_token), "/app/admin/users");
}

HttpResponse StaffPortal::AdminRole(Req& req) {
    FIRMO_STAFF_CTX(ctx, req);
    if (auto refused = RefuseAdmin(ctx, true)) return std::move(*refused);
    const auto role = ParseStaffRole(FormValue(ctx.form, "role"));
    if (!role) return SeeOther(ctx, "/app/admin/users?error=1");
    auto done = staff_.ChangeRole(ctx.principal->user.issuer_id, std::string(req.Param("user_id")),
                                  *role, StaffActor(ctx.principal->user.id));
    if (!done && done.error().code == ErrorCode::kConflict) {
        return SeeOther(ctx, "/app/admin/users?error=1");
    }
    if (!done) return ErrorPage(ctx, done.error());
    return SeeOther(ctx, "/app/admin/users");
}

HttpResponse StaffPortal::AdminDisable(Req& req) {
    FIRMO_STAFF_CTX(ctx, req);
    if (auto refused = RefuseAdmin(ctx, true)) return std::move(*refused);
    auto done = staff_.DisableUser(ctx.principal->user.issuer_id, std::string(req.Param("user_id")),
                                   StaffActor(ctx.principal->user.id));
    if (!done && done.error().code == ErrorCode::kConflict) {
        return SeeOther(ctx, "/app/admin/users?error=1");
    }
    if (!done) return ErrorPage(ctx, done.error());
    return SeeOther(ctx, "/app/admin/users");
}

// ---- Webhooks -----------------------------------------------------------------------------

HttpResponse StaffPortal::AdminWebhooks(Req& req) {
    FIRMO_STAFF_CTX(ctx, req);
    if (auto refused = RefuseAdmin(ctx, false)) return std::move(*refused);
    const std::string& issuer = ctx.principal->user.issuer_id;
    auto hooks = s_.events.Webhooks(issuer);
    if (!hooks) return ErrorPage(ctx, hooks.error());
    auto deliveries =
        s_.events.Deliveries(issuer, Channel::kWebhook, PageQuery{.limit = kDeliveriesShown});
    if (!deliveries) return ErrorPage(ctx, deliveries.error());
    const i18n::Catalog& catalog = i18n::Catalog::Builtin();
    const std::string& zone = options_.time_zone;
    mu::list rows;
    for (const WebhookEndpoint& w : *hooks) {
        mu::data row;
        row.set("id", w.id);
        row.set("url", w.url);
        std::string events;
        for (const auto& e : w.events) events += (events.empty() ? "" : ", ") + e;
        row.set("events", events.empty() ? ctx.T("staff.admin.all_events") : events);
        row.set("created", catalog.DateTime(ctx.Language(), w.created_at, zone));
        rows.push_back(row);
    }
    mu::list log;
    for (const OutboxMessage& m : deliveries->items) {
        mu::data row;
        row.set("when", catalog.DateTime(ctx.Language(), m.created_at, zone));
        row.set("event", m.template_name);
        row.set("url", m.destination);
        const std::string state = m.delivered_at   ? "delivered"
                                  : m.abandoned_at ? "abandoned"
                                                   : "pending";
        row.set("state", ctx.T("staff.admin.delivery_" + state));
        row.set("attempts", std::to_string(m.attempts));
        row.set("response", m.last_response.empty() ? m.last_error : m.last_response);
        log.push_back(row);
    }
    mu::list types;
    for (std::string_view type : kEventTypes) {
        mu::data t;
        t.set("value", std::string(type));
        types.push_back(t);
    }
    AdminData page;
    mu::data& data = page.data;
    data.set("webhooks", rows);
    data.set("has_webhooks", !hooks->empty());
    data.set("deliveries", log);
    data.set("has_deliveries", !deliveries->items.empty());
    data.set("types", types);
    return AdminPage(ctx, req, "webhooks", page);
}

HttpResponse StaffPortal::AdminAddWebhook(Req& req) {
    FIRMO_STAFF_CTX(ctx, req);
    if (auto refused = RefuseAdmin(ctx, true)) return std::move(*refused);
    const std::string& issuer = ctx.principal->user.issuer_id;
    NewWebhook input{.url = FormValue(ctx.form, "url"), .events = FormValues(ctx.form, "events")};
    auto hook = s_.events.AddWebhook(issuer, input);
    if (!hook) {
        if (hook.error().code == ErrorCode::kInvalidArgument) {
            return SeeOther(ctx, "/app/admin/webhooks?error=1");
        }
        return ErrorPage(ctx, hook.error());
    }
    const std::string actor = StaffActor(ctx.principal->user.id);
    auto recorded =
        staff_.Record(issuer, actor, "webhook.created", hook->id, "url=" + JsonQuote(hook->url));
    if (!recorded) return ErrorPage(ctx, recorded.error());
    return AdminOnce(ctx, ctx.T("staff.admin_msg.webhook_heading"),
                     ctx.T("staff.admin_msg.webhook_text", {{"url", hook->url}}), hook->secret,
                     "/app/admin/webhooks");
}

HttpResponse StaffPortal::AdminDeleteWebhook(Req& req) {
    FIRMO_STAFF_CTX(ctx, req);
    if (auto refused = RefuseAdmin(ctx, true)) return std::move(*refused);
    const std::string& issuer = ctx.principal->user.issuer_id;
    const std::string id(req.Param("webhook_id"));
    auto done = s_.events.RemoveWebhook(issuer, id);
    if (!done) return ErrorPage(ctx, done.error());
    auto recorded =
        staff_.Record(issuer, StaffActor(ctx.principal->user.id), "webhook.deleted", id, "");
    if (!recorded) return ErrorPage(ctx, recorded.error());
    return SeeOther(ctx, "/app/admin/webhooks");
}

// ---- API keys -----------------------------------------------------------------------------

HttpResponse StaffPortal::AdminKeys(Req& req) {
    FIRMO_STAFF_CTX(ctx, req);
    if (auto refused = RefuseAdmin(ctx, false)) return std::move(*refused);
    auto keys = s_.issuers.ListApiKeys(ctx.principal->user.issuer_id);
    if (!keys) return ErrorPage(ctx, keys.error());
    const i18n::Catalog& catalog = i18n::Catalog::Builtin();
    const std::string& zone = options_.time_zone;
    const Timestamp now = clock_.Now();
    mu::list rows;
    for (const ApiKey& k : *keys) {
        mu::data row;
        row.set("id", k.id);
        row.set("prefix", k.prefix);
        row.set("label", k.label);
        row.set("test", k.test);
        row.set("created", catalog.DateTime(ctx.Language(), k.created_at, zone));
        row.set("expires", k.expires_at ? catalog.DateTime(ctx.Language(), *k.expires_at, zone)
                                        : ctx.T("staff.admin.never"));
        const bool expired = k.expires_at && *k.expires_at <= now;
        row.set("state", k.revoked_at ? ctx.T("staff.admin.key_revoked")
                         : expired    ? ctx.T("staff.admin.key_expired")
                                      : ctx.T("staff.admin.key_active"));
        row.set("revocable", !k.revoked_at.has_value());
        row.set("allowed", k.allowed_ips.empty() ? ctx.T("staff.admin.anywhere") : k.allowed_ips);
        row.set("last_used",
                k.last_used_at
                    ? ctx.T("staff.admin.last_used_from",
                            {{"time", catalog.DateTime(ctx.Language(), *k.last_used_at, zone)},
                             {"ip", k.last_used_ip}})
                    : ctx.T("staff.admin.never"));
        rows.push_back(row);
    }
    AdminData page;
    mu::data& data = page.data;
    data.set("keys", rows);
    return AdminPage(ctx, req, "keys", page);
}

HttpResponse StaffPortal::AdminAddKey(Req& req) {
    FIRMO_STAFF_CTX(ctx, req);
    if (auto refused = RefuseAdmin(ctx, true)) return std::move(*refused);
    const std::string& issuer = ctx.principal->user.issuer_id;
    ApiKeyOptions options{.label = FormValue(ctx.form, "label"), .expires_at = std::nullopt};
    if (const std::string day = FormValue(ctx.form, "expires_on"); !day.empty()) {
        options.expires_at = EndOfDay(day, options_.time_zone);
        if (!options.expires_at) return SeeOther(ctx, "/app/admin/keys?error=1");
    }
    options.allowed_ips = AllowedAddresses(FormValue(ctx.form, "allowed_ips"));
    if (!http::AddressList::Parse(options.allowed_ips)) {
        return SeeOther(ctx, "/app/admin/keys?error=1");
    }
    const std::string mode = FormValue(ctx.form, "mode");
    if (mode != "" && mode != "live" && mode != "test") {
        return SeeOther(ctx, "/app/admin/keys?error=1");
    }
    options.test = mode == "test";
    auto created = s_.issuers.CreateApiKey(issuer, options);
    if (!created) {
        if (created.error().code == ErrorCode::kInvalidArgument) {
            return SeeOther(ctx, "/app/admin/keys?error=1");
        }
        return ErrorPage(ctx, created.error());
    }
    const std::string actor = StaffActor(ctx.principal->user.id);
    std::string detail = "prefix=" + created->key.prefix + " label=" + JsonQuote(options.label) +
                         " mode=" + (options.test ? "test" : "live");
    if (options.expires_at) detail += " expires_at=" + FormatRfc3339(*options.expires_at);
    if (!options.allowed_ips.empty()) detail += " allowed_ips=" + JsonQuote(options.allowed_ips);
    auto recorded = staff_.Record(issuer, actor, "api_key.created", created->key.id, detail);
    if (!recorded) return ErrorPage(ctx, recorded.error());
    return AdminOnce(ctx, ctx.T("staff.admin_msg.key_heading"),
                     ctx.T("staff.admin_msg.key_text", {{"label", options.label}}), created->secret,
                     "/app/admin/keys");
}

HttpResponse StaffPortal::AdminRevokeKey(Req& req) {
    FIRMO_STAFF_CTX(ctx, req);
    if (auto refused = RefuseAdmin(ctx, true)) return std::move(*refused);
    const std::string& issuer = ctx.principal->user.issuer_id;
    const std::string id(req.Param("key_id"));
    auto done = s_.issuers.RevokeIssuerApiKey(issuer, id);
    if (!done) return ErrorPage(ctx, done.error());
    auto recorded =
        staff_.Record(issuer, StaffActor(ctx.principal->user.id), "api_key.revoked", id, "");
    if (!recorded) return ErrorPage(ctx, recorded.error());
    return SeeOther(ctx, "/app/admin/keys");
}

// ---- The staff audit log ------------------------------------------------------------------

HttpResponse StaffPortal::AdminAudit(Req& req) {
    FIRMO_STAFF_CTX(ctx, req);
    if (auto refused = RefuseAdmin(ctx, false)) return std::move(*refused);
    auto entries = staff_.Audit(ctx.principal->user.issuer_id, kAuditShown);
    if (!entries) return ErrorPage(ctx, entries.error());
    const i18n::Catalog& catalog = i18n::Catalog::Builtin();
    mu::list rows;
    for (const StaffAuditEntry& e : *entries) {
        mu::data row;
        row.set("when", catalog.DateTime(ctx.Language(), e.at, options_.time_zone));
        row.set("actor", e.actor);
        row.set("action", e.action);
        row.set("subject", e.subject);
        row.set("detail", e.detail);
        rows.push_back(row);
    }
    AdminData page;
    mu::data& data = page.data;
    data.set("entries", rows);
    return AdminPage(ctx, req, "audit", page);
}

}  // namespace firmo::web
