#include "domain/identifiers.hpp"

#include <array>
#include <cctype>
#include <chrono>

namespace firmo::domain {

std::string_view ToString(IdentifierKind kind) {
    switch (kind) {
        case IdentifierKind::kItFiscalCode:
            return "IT-FISCAL-CODE";
        case IdentifierKind::kNoNationalId:
            return "NO-NIN";
        case IdentifierKind::kEmail:
            return "EMAIL";
        case IdentifierKind::kPhone:
            return "PHONE";
    }
    return "IT-FISCAL-CODE";
}

bool IsNationalIdentifier(IdentifierKind kind) {
    return kind == IdentifierKind::kItFiscalCode || kind == IdentifierKind::kNoNationalId;
}

std::optional<IdentifierKind> ParseIdentifierKind(std::string_view text) {
    if (text == "IT-FISCAL-CODE") return IdentifierKind::kItFiscalCode;
    if (text == "NO-NIN") return IdentifierKind::kNoNationalId;
    if (text == "EMAIL") return IdentifierKind::kEmail;
    if (text == "PHONE") return IdentifierKind::kPhone;
    return std::nullopt;
}

std::string_view EtsiPrefix(IdentifierKind kind) {
    switch (kind) {
        case IdentifierKind::kItFiscalCode:
            return "TINIT-";
        case IdentifierKind::kNoNationalId:
            return "PNONO-";
        case IdentifierKind::kEmail:
        case IdentifierKind::kPhone:
            return "";
    }
    return "";
}

namespace {

void SetWhy(std::string* why, std::string text) {
    if (why) *why = std::move(text);
}

// Value of a character in an odd (1st, 3rd, ...) position of the fiscal code.
constexpr std::array<int, 26> kOddLetters = {1,  0,  5, 7, 9, 13, 15, 17, 19, 21, 2,  4,  18,
                                             20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23};
constexpr std::array<int, 10> kOddDigits = {1, 0, 5, 7, 9, 13, 15, 17, 19, 21};

// Positions (0-based) that hold digits in a plain code and may hold omocodia letters instead.
constexpr std::array<int, 7> kDigitPositions = {6, 7, 9, 10, 12, 13, 14};
constexpr std::string_view kOmocodiaLetters = "LMNPQRSTUV";

bool IsUpperAlpha(char c) { return c >= 'A' && c <= 'Z'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

std::optional<std::string> NormalizeFiscalCode(std::string_view text, std::string* why) {
    if (text.size() != 16) {
        SetWhy(why, "must be 16 characters");
        return std::nullopt;
    }
    std::string code(text);
    for (char& c : code) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    for (int i = 0; i < 16; ++i) {
        const char c = code[static_cast<std::size_t>(i)];
        bool digit_slot = false;
        for (int p : kDigitPositions) digit_slot |= (p == i);
        const bool ok = digit_slot
                            ? (IsDigit(c) || kOmocodiaLetters.find(c) != std::string_view::npos)
                            : IsUpperAlpha(c);
        if (!ok) {
            SetWhy(why, "character " + std::to_string(i + 1) + " is not allowed there");
            return std::nullopt;
        }
    }
    // Month letter and day (with omocodia decoded) must make sense.
    constexpr std::string_view kMonths = "ABCDEHLMPRST";
    if (kMonths.find(code[8]) == std::string_view::npos) {
        SetWhy(why, "month character is not valid");
        return std::nullopt;
    }
    const auto decode = [&](char c) {
        if (IsDigit(c)) return c - '0';
        return static_cast<int>(kOmocodiaLetters.find(c));
    };
    const int day = decode(code[9]) * 10 + decode(code[10]);
    if (!((day >= 1 && day <= 31) || (day >= 41 && day <= 71))) {
        SetWhy(why, "day of birth is not valid");
        return std::nullopt;
    }
    int sum = 0;
    for (std::size_t i = 0; i < 15; ++i) {
        const char c = code[i];
        const bool odd = (i % 2) == 0;  // 1st character is position 1 (odd)
        if (odd) {
            sum += IsDigit(c) ? kOddDigits[static_cast<std::size_t>(c - '0')]
                              : kOddLetters[static_cast<std::size_t>(c - 'A')];
        } else {
            sum += IsDigit(c) ? (c - '0') : (c - 'A');
        }
    }
    const char expected = static_cast<char>('A' + sum % 26);
    if (code[15] != expected) {
        SetWhy(why, "check character does not match");
        return std::nullopt;
    }
    return code;
}

std::optional<std::string> NormalizeNorwegianNin(std::string_view text, std::string* why) {
    std::string digits;
    for (char c : text) {
        if (c == ' ') continue;
        digits.push_back(c);
    }
    if (digits.size() != 11) {
        SetWhy(why, "must be 11 digits");
        return std::nullopt;
    }
    std::array<int, 11> d{};
    for (std::size_t i = 0; i < 11; ++i) {
        if (!IsDigit(digits[i])) {
            SetWhy(why, "must be 11 digits");
            return std::nullopt;
        }
        d[i] = digits[i] - '0';
    }
    constexpr std::array<int, 9> kW1 = {3, 7, 6, 1, 8, 9, 4, 5, 2};
    constexpr std::array<int, 10> kW2 = {5, 4, 3, 2, 7, 6, 5, 4, 3, 2};
    int s1 = 0;
    for (std::size_t i = 0; i < 9; ++i) s1 += kW1[i] * d[i];
    int k1 = 11 - s1 % 11;
    if (k1 == 11) k1 = 0;
    int s2 = 0;
    for (std::size_t i = 0; i < 10; ++i) s2 += kW2[i] * d[i];
    int k2 = 11 - s2 % 11;
    if (k2 == 11) k2 = 0;
    if (k1 == 10 || k2 == 10 || k1 != d[9] || k2 != d[10]) {
        SetWhy(why, "check digits do not match");
        return std::nullopt;
    }
    // Date: DDMMYY; D-numbers add 4 to the first digit. The century comes from the individual
    // number, but any century makes a valid calendar date except 29 February, so check leniently
    // for that one day (valid in 2000 or another leap year of the possible centuries).
    int day = d[0] * 10 + d[1];
    if (day > 40) day -= 40;
    int month = d[2] * 10 + d[3];
    if (month > 80) {
        month -= 80;  // synthetic test numbers (Skatteetaten's test population)
    } else if (month > 40) {
        month -= 40;  // H-numbers (auxiliary numbers of health services)
    }
    const int yy = d[4] * 10 + d[5];
    bool date_ok = false;
    for (int century : {1800, 1900, 2000}) {
        const std::chrono::year_month_day ymd{std::chrono::year{century + yy},
                                              std::chrono::month{static_cast<unsigned>(month)},
                                              std::chrono::day{static_cast<unsigned>(day)}};
        date_ok |= ymd.ok();
    }
    if (!date_ok) {
        SetWhy(why, "date of birth is not valid");
        return std::nullopt;
    }
    return digits;
}

std::optional<std::string> NormalizeEmail(std::string_view text) {
    if (text.size() < 3 || text.size() > 254) return std::nullopt;
    const auto at = text.find('@');
    if (at == std::string_view::npos || at == 0 ||
        text.find('@', at + 1) != std::string_view::npos) {
        return std::nullopt;
    }
    const std::string_view local = text.substr(0, at);
    const std::string_view domain = text.substr(at + 1);
    if (local.size() > 64 || domain.size() < 3 || domain.find('.') == std::string_view::npos ||
        domain.front() == '.' || domain.back() == '.' ||
        domain.find("..") != std::string_view::npos || local.front() == '.' ||
        local.back() == '.' || local.find("..") != std::string_view::npos) {
        return std::nullopt;
    }
    for (unsigned char c : local) {
        if (c <= 0x20 || c == 0x7F || c == '(' || c == ')' || c == ',' || c == ':' || c == ';' ||
            c == '<' || c == '>' || c == '[' || c == ']' || c == '\\' || c == '"') {
            return std::nullopt;
        }
    }
    std::string out(local);
    out.push_back('@');
    for (unsigned char c : domain) {
        if (!(std::isalnum(c) || c == '-' || c == '.' || c >= 0x80)) return std::nullopt;
        out.push_back(static_cast<char>(std::tolower(c)));
    }
    return out;
}

std::optional<std::string> NormalizePhone(std::string_view text) {
    std::string out;
    for (char c : text) {
        if (c == ' ' || c == '-') continue;
        out.push_back(c);
    }
    if (out.size() < 9 || out.size() > 16 || out[0] != '+' || out[1] == '0') return std::nullopt;
    for (std::size_t i = 1; i < out.size(); ++i) {
        if (!IsDigit(out[i])) return std::nullopt;
    }
    return out;
}

std::string MaskContact(std::string_view address) {
    if (address.find('@') != std::string_view::npos) {
        const auto at = address.rfind('@');
        if (at == 0) return "***";
        return std::string(address.substr(0, 1)) + "***" + std::string(address.substr(at));
    }
    constexpr std::size_t kShown = 3;
    std::string out = !address.empty() && address.front() == '+' ? "+" : "";
    out.append("***");
    if (address.size() > kShown + 4) out.append(address.substr(address.size() - kShown));
    return out;
}

}  // namespace firmo::domain
