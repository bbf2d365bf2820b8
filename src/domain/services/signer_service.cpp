#include "domain/services/signer_service.hpp"

#include "core/ids.hpp"
#include "domain/text.hpp"

namespace firmo::domain {

Result<CheckedSigner> CheckNewSigner(const NewSigner& input) {
    std::vector<Violation> violations;
    std::string why;
    std::optional<std::string> identifier;
    std::optional<std::string> email;
    if (input.email) {
        email = NormalizeEmail(*input.email);
        if (!email) violations.push_back({"email", "must be an e-mail address"});
    }
    std::optional<std::string> phone;
    if (input.phone) {
        phone = NormalizePhone(*input.phone);
        if (!phone)
            violations.push_back({"phone", "must be an E.164 number such as +393331234567"});
    }
    switch (input.kind) {
        case IdentifierKind::kItFiscalCode:
            identifier = NormalizeFiscalCode(input.identifier, &why);
            if (!identifier)
                violations.push_back({"fiscal_code", "not a valid fiscal code: " + why});
            break;
        case IdentifierKind::kNoNationalId:
            identifier = NormalizeNorwegianNin(input.identifier, &why);
            if (!identifier) {
                violations.push_back({"national_identity_number",
                                      "not a valid Norwegian national identity number: " + why});
            }
            break;
        case IdentifierKind::kEmail:
            identifier = email;
            break;
        case IdentifierKind::kPhone:
            identifier = phone;
            break;
    }
    if (!identifier && violations.empty()) {
        violations.push_back({"email", "an e-mail address or phone number is required"});
    }
    if (input.full_name) {
        CheckLength(*input.full_name, 1, kFullNameMax, "name", violations);
    }
    if (!violations.empty()) return FailValidation(std::move(violations));
    return CheckedSigner{std::move(*identifier), std::move(email), std::move(phone)};
}

Result<ResolvedSigner> SignerService::Resolve(const std::string& issuer_id,
                                              const NewSigner& input) {
    FIRMO_TRY(CheckedSigner checked, CheckNewSigner(input));
    const std::string* identifier = &checked.identifier;
    const std::optional<std::string>& email = checked.email;
    const std::optional<std::string>& phone = checked.phone;

    return InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<ResolvedSigner> {
        const Timestamp now = ctx_.clock.Now();
        FIRMO_TRY(auto existing, tx.signers().FindByIdentifier(issuer_id, input.kind, *identifier));
        if (existing) {
            if ((email && email != existing->email) || (phone && phone != existing->phone) ||
                (input.full_name && input.full_name != existing->full_name) ||
                (input.language && input.language != existing->language)) {
                if (email) existing->email = email;
                if (phone) existing->phone = phone;
                if (input.full_name) existing->full_name = input.full_name;
                if (input.language) existing->language = input.language;
                existing->updated_at = now;
                FIRMO_CHECK(tx.signers().UpdateContact(*existing));
            }
            return ResolvedSigner{std::move(*existing), false};
        }
        Signer signer{NewUlid(now, ctx_.random),
                      issuer_id,
                      input.kind,
                      *identifier,
                      email,
                      phone,
                      now,
                      now,
                      input.full_name,
                      input.language};
        FIRMO_CHECK(tx.signers().Insert(signer));
        return ResolvedSigner{std::move(signer), true};
    });
}

Result<Signer> SignerService::Get(const std::string& issuer_id, const std::string& id) {
    return InReadTransaction(ctx_.db, [&](Transaction& tx) -> Result<Signer> {
        FIRMO_TRY(auto signer, tx.signers().Find(issuer_id, id));
        if (!signer) return Fail(ErrorCode::kNotFound, "signer " + id + " not found");
        return std::move(*signer);
    });
}

}  // namespace firmo::domain
