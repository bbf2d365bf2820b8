#pragma once
// Authentication levels of a signer: what the issuer requires of each signer
// (`signers[].authentication`), what a session proved (a one-time code, or an eID login at the
// level of assurance the provider states in the ID token's `acr`), and how the levels map to
// the provider's `acr` values (SPID/CIE, ID-porten, or configured). Pure functions; no I/O.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/identifiers.hpp"

namespace firmo::domain {

// In increasing strength: a one-time code (or a link) proves control of an e-mail address or
// phone; an eID login proves the person's national identifier, at eIDAS level substantial or
// high.
enum class AuthLevel { kCode, kEidSubstantial, kEidHigh };
std::string_view ToString(AuthLevel level);  // "code" | "eid_substantial" | "eid_high"
std::optional<AuthLevel> ParseAuthLevel(std::string_view text);
bool IsEid(AuthLevel level);
// Whether `reached` is at least `required`.
bool Satisfies(AuthLevel reached, AuthLevel required);
// Whether `reached` (nullopt: nothing proved yet) is at least `required`.
bool Satisfies(const std::optional<AuthLevel>& reached, AuthLevel required);

// The level a signer must reach when the issuer names none: eID (substantial) for a signer
// addressed by a national identifier when this server offers eID login, a code otherwise (a
// server without eID cannot prove a national identifier, and a request nobody can sign helps
// no one; its certificates then name the person without the identifier).
AuthLevel DefaultAuthentication(IdentifierKind kind, bool eid_available);

// Whether the national identifier goes into the certificates of a request's signatures (when
// an eID login proved it): as Firma con IO (`identifier_and_name`) or Posten signering
// (`name`: never).
enum class IdentifierInSignedDocuments { kIdentifierAndName, kName };
std::string_view ToString(IdentifierInSignedDocuments value);  // "identifier_and_name" | "name"
std::optional<IdentifierInSignedDocuments> ParseIdentifierInSignedDocuments(std::string_view text);

// The provider's `acr` values for the two eID levels. The first value of a level is what is
// asked for (`acr_values`); any value of the list is accepted back as that level.
struct AcrValues {
    std::vector<std::string> substantial;
    std::vector<std::string> high;
    friend bool operator==(const AcrValues&, const AcrValues&) = default;
};

// SPID and CIE (fiscal code): https://www.spid.gov.it/SpidL2 / SpidL3; ID-porten (Norwegian
// NIN): idporten-loa-substantial / idporten-loa-high, and the older Level3 / Level4.
AcrValues DefaultAcrValues(IdentifierKind kind);
// The level an `acr` from the provider stands for, or nullopt when it is neither list's.
std::optional<AuthLevel> LevelOfAcr(const AcrValues& values, std::string_view acr);
// What to send as `acr_values` to ask for at least `level` (an eID level; kCode asks for
// substantial: an eID login is never weaker than that).
std::string AcrValuesFor(const AcrValues& values, AuthLevel level);
// "a,b , c" -> {"a", "b", "c"}; empty items dropped.
std::vector<std::string> SplitAcrList(std::string_view text);

}  // namespace firmo::domain
