#include "oidc/staff_provider.hpp"

#include <nlohmann/json.hpp>

#include "oidc/jwt.hpp"

namespace firmo::oidc {

Result<std::unique_ptr<OidcStaffProvider>> OidcStaffProvider::Create(
    const StaffOidcOptions& options, std::shared_ptr<HttpFetcher> http, const Clock& clock,
    Random& random) {
    if (options.role_claim.empty()) {
        return FailValidation({{"staff_oidc.role_claim", "must not be empty"}});
    }
    OidcOptions o;
    o.issuer = options.issuer;
    o.client_id = options.client_id;
    o.client_secret = options.client_secret;
    o.scopes = options.scopes;
    o.identifier_claim = options.email_claim;
    o.eid = false;
    auto client = OidcIdentityProvider::Create(std::move(o), std::move(http), clock, random);
    if (!client) {
        // The shared client names its options "oidc.*": here they are staff_oidc's.
        Error e = client.error();
        for (Violation& v : e.violations) {
            if (v.field.rfind("oidc.", 0) == 0) v.field = "staff_" + v.field;
            if (v.field == "staff_oidc.identifier_claim") v.field = "staff_oidc.email_claim";
        }
        return tl::unexpected(std::move(e));
    }
    return std::unique_ptr<OidcStaffProvider>(
        new OidcStaffProvider(std::move(*client), options.role_claim));
}

Result<domain::LoginStart> OidcStaffProvider::BeginLogin(const std::string& redirect_uri) {
    return client_->BeginPlainLogin(redirect_uri);
}

Result<domain::StaffIdentity> OidcStaffProvider::CompleteLogin(const std::string& code,
                                                               const std::string& redirect_uri,
                                                               const domain::LoginStart& pending) {
    FIRMO_TRY(IdToken token, client_->VerifyCode(code, redirect_uri, pending));
    FIRMO_TRY(domain::StaffIdentity identity,
              MapStaffIdentity(token.claims, client_->options().identifier_claim, role_claim_));
    identity.subject = token.subject;
    return identity;
}

Result<domain::StaffIdentity> MapStaffIdentity(const nlohmann::json& claims,
                                               const std::string& email_claim,
                                               const std::string& role_claim) {
    domain::StaffIdentity identity;
    const auto email = claims.find(email_claim);
    if (email == claims.end() || !email->is_string() || email->get<std::string>().empty()) {
        return Fail(ErrorCode::kUnauthenticated,
                    "the provider sent no e-mail address (claim '" + email_claim + "')");
    }
    identity.email = email->get<std::string>();
    if (const auto roles = claims.find(role_claim); roles != claims.end()) {
        if (roles->is_string()) identity.roles.push_back(roles->get<std::string>());
        if (roles->is_array()) {
            for (const auto& r : *roles) {
                if (r.is_string()) identity.roles.push_back(r.get<std::string>());
            }
        }
    }
    return identity;
}

}  // namespace firmo::oidc
