#pragma once
// National identifiers and contact data: syntax and checksum validation, and normalisation to
// the one form Firmo stores (upper-case fiscal code, digits-only NIN, lower-case e-mail domain,
// E.164 phone). Pure functions; no I/O.

#include <optional>
#include <string>
#include <string_view>

namespace firmo::domain {

// National identifiers, or (for signers reached only by a link and a one-time code) the
// e-mail address or phone number itself.
enum class IdentifierKind { kItFiscalCode, kNoNationalId, kEmail, kPhone };
std::string_view ToString(IdentifierKind kind);  // "IT-FISCAL-CODE" / "NO-NIN" / "EMAIL" / "PHONE"
bool IsNationalIdentifier(IdentifierKind kind);
std::optional<IdentifierKind> ParseIdentifierKind(std::string_view text);

// ETSI EN 319 412-1 semantics identifier prefix for the certificate serialNumber,
// e.g. "TINIT-" for an Italian fiscal code, "PNONO-" for a Norwegian national identity number;
// empty for contact identifiers (the certificate then names the person only).
std::string_view EtsiPrefix(IdentifierKind kind);

// Italian codice fiscale: 16 characters, check character over the first 15, omocodia allowed.
// Returns the upper-cased code, or nullopt with `why` set.
std::optional<std::string> NormalizeFiscalCode(std::string_view text, std::string* why = nullptr);

// Norwegian fødselsnummer / D-number / H-number: 11 digits, a valid date (D-numbers add 40 to
// the day, H-numbers 40 to the month, synthetic test numbers 80 to the month), two mod-11
// check digits.
std::optional<std::string> NormalizeNorwegianNin(std::string_view text, std::string* why = nullptr);

// A pragmatic e-mail check (one @, sane local part, dotted domain, no spaces; <= 254 chars);
// lower-cases the domain.
std::optional<std::string> NormalizeEmail(std::string_view text);

// E.164: '+' then 8-15 digits, first digit not 0. Spaces and dashes are removed first.
std::optional<std::string> NormalizePhone(std::string_view text);

// An e-mail address or phone number as shown to the person or written to logs:
// "m***@example.org", "+***567".
std::string MaskContact(std::string_view address);

}  // namespace firmo::domain
