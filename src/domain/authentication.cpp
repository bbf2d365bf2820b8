#include "domain/authentication.hpp"

#include <algorithm>

namespace firmo::domain {

std::string_view ToString(AuthLevel level) {
    switch (level) {
        case AuthLevel::kCode:
            return "code";
        case AuthLevel::kEidSubstantial:
            return "eid_substantial";
        case AuthLevel::kEidHigh:
            return "eid_high";
    }
    return "code";
}

std::optional<AuthLevel> ParseAuthLevel(std::string_view text) {
    if (text == "code") return AuthLevel::kCode;
    if (text == "eid_substantial") return AuthLevel::kEidSubstantial;
    if (text == "eid_high") return AuthLevel::kEidHigh;
    return std::nullopt;
}

bool IsEid(AuthLevel level) { return level != AuthLevel::kCode; }

bool Satisfies(AuthLevel reached, AuthLevel required) {
    return static_cast<int>(reached) >= static_cast<int>(required);
}

bool Satisfies(const std::optional<AuthLevel>& reached, AuthLevel required) {
    return reached && Satisfies(*reached, required);
}

AuthLevel DefaultAuthentication(IdentifierKind kind, bool eid_available) {
    return eid_available && IsNationalIdentifier(kind) ? AuthLevel::kEidSubstantial
                                                       : AuthLevel::kCode;
}

std::string_view ToString(IdentifierInSignedDocuments value) {
    return value == IdentifierInSignedDocuments::kName ? "name" : "identifier_and_name";
}

std::optional<IdentifierInSignedDocuments> ParseIdentifierInSignedDocuments(std::string_view text) {
    if (text == "identifier_and_name") return IdentifierInSignedDocuments::kIdentifierAndName;
    if (text == "name") return IdentifierInSignedDocuments::kName;
    return std::nullopt;
}

AcrValues DefaultAcrValues(IdentifierKind kind) {
    if (kind == IdentifierKind::kNoNationalId) {
        return {{"idporten-loa-substantial", "Level3"}, {"idporten-loa-high", "Level4"}};
    }
    // CIE id's OpenID Connect uses SPID's values.
    return {{"https://www.spid.gov.it/SpidL2"}, {"https://www.spid.gov.it/SpidL3"}};
}

std::optional<AuthLevel> LevelOfAcr(const AcrValues& values, std::string_view acr) {
    const auto has = [&](const std::vector<std::string>& list) {
        return !acr.empty() && std::find(list.begin(), list.end(), acr) != list.end();
    };
    // High first: a value configured for both levels counts as the stronger one.
    if (has(values.high)) return AuthLevel::kEidHigh;
    if (has(values.substantial)) return AuthLevel::kEidSubstantial;
    return std::nullopt;
}

std::string AcrValuesFor(const AcrValues& values, AuthLevel level) {
    const auto& list = level == AuthLevel::kEidHigh ? values.high : values.substantial;
    return list.empty() ? std::string() : list.front();
}

std::vector<std::string> SplitAcrList(std::string_view text) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t end = text.find(',', start);
        if (end == std::string_view::npos) end = text.size();
        std::string_view item = text.substr(start, end - start);
        while (!item.empty() && (item.front() == ' ' || item.front() == '\t'))
            item.remove_prefix(1);
        while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
        if (!item.empty()) out.emplace_back(item);
        start = end + 1;
    }
    return out;
}

}  // namespace firmo::domain
