#pragma once
// From an eID provider's claims to Firmo's identity: the configured identifier claim
// (`fiscal_number` as SPID/CIE send it, "TINIT-" + fiscal code; `pid` from ID-porten) normalised
// by the domain rules, plus the person's names. Pure functions.

#include <nlohmann/json.hpp>
#include <string>

#include "core/error.hpp"
#include "domain/identifiers.hpp"
#include "domain/ports/identity_provider.hpp"

namespace firmo::oidc {

// The normalised identifier in claims[claim]; kUnauthenticated when missing or invalid.
[[nodiscard]] Result<std::string> MapIdentifier(const nlohmann::json& claims,
                                                const std::string& claim,
                                                domain::IdentifierKind kind);

// kind, identifier (as MapIdentifier), names and subject (`sub`); auth_time is left to the caller.
[[nodiscard]] Result<domain::VerifiedIdentity> MapIdentity(const nlohmann::json& claims,
                                                           const std::string& claim,
                                                           domain::IdentifierKind kind);

}  // namespace firmo::oidc
