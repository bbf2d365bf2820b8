#include "oidc/claims.hpp"

#include <string_view>

namespace firmo::oidc {
namespace {

std::string StringClaim(const nlohmann::json& claims, const char* name) {
    auto it = claims.find(name);
    return it != claims.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

Result<std::string> MapIdentifier(const nlohmann::json& claims, const std::string& claim,
                                  domain::IdentifierKind kind) {
    auto it = claims.find(claim);
    if (it == claims.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
        return Fail(ErrorCode::kUnauthenticated,
                    "the identity provider did not send the '" + claim + "' claim");
    }
    std::string_view value = it->get_ref<const std::string&>();
    std::string why;
    std::optional<std::string> normalized;
    if (kind == domain::IdentifierKind::kItFiscalCode) {
        // SPID and CIE send the ETSI semantics identifier form, "TINIT-<fiscal code>".
        constexpr std::string_view kEtsiPrefix = "TINIT-";
        if (value.size() > kEtsiPrefix.size()) {
            std::string head(value.substr(0, kEtsiPrefix.size()));
            for (char& c : head) c = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c;
            if (head == kEtsiPrefix) value.remove_prefix(kEtsiPrefix.size());
        }
        normalized = domain::NormalizeFiscalCode(value, &why);
    } else {
        normalized = domain::NormalizeNorwegianNin(value, &why);
    }
    if (!normalized) {
        return Fail(ErrorCode::kUnauthenticated, "the '" + claim + "' claim is not a valid " +
                                                     std::string(domain::ToString(kind)) +
                                                     (why.empty() ? "" : ": " + why));
    }
    return *normalized;
}

Result<domain::VerifiedIdentity> MapIdentity(const nlohmann::json& claims, const std::string& claim,
                                             domain::IdentifierKind kind) {
    domain::VerifiedIdentity identity;
    FIRMO_TRY(identity.identifier, MapIdentifier(claims, claim, kind));
    identity.kind = kind;
    identity.subject = StringClaim(claims, "sub");
    identity.given_name = StringClaim(claims, "given_name");
    identity.family_name = StringClaim(claims, "family_name");
    identity.full_name = StringClaim(claims, "name");
    if (identity.full_name.empty()) {
        identity.full_name = identity.given_name;
        if (!identity.full_name.empty() && !identity.family_name.empty()) {
            identity.full_name += ' ';
        }
        identity.full_name += identity.family_name;
    }
    return identity;
}

}  // namespace firmo::oidc
