#pragma once
// Port: signers, the people an issuer asks to sign. A national identifier names at most one
// signer per issuer. Every read is scoped by issuer id.

#include <optional>
#include <string>

#include "core/error.hpp"
#include "domain/model.hpp"

namespace firmo::domain {

class SignerRepository {
  public:
    virtual ~SignerRepository() = default;
    SignerRepository() = default;
    SignerRepository(const SignerRepository&) = delete;
    SignerRepository& operator=(const SignerRepository&) = delete;

    // kAlreadyExists when the id, or the (issuer, kind, identifier) triple, is taken.
    [[nodiscard]] virtual Result<void> Insert(const Signer& signer) = 0;
    // Writes e-mail, phone, full name, language and updated_at of the signer (issuer id + id).
    [[nodiscard]] virtual Result<void> UpdateContact(const Signer& signer) = 0;
    // In a write transaction the signer found stays locked until it ends (where the store has
    // row locks), so a read-modify-write loses no concurrent change.
    [[nodiscard]] virtual Result<std::optional<Signer>> Find(const std::string& issuer_id,
                                                             const std::string& id) = 0;
    [[nodiscard]] virtual Result<std::optional<Signer>> FindByIdentifier(
        const std::string& issuer_id, IdentifierKind kind, const std::string& identifier) = 0;
};

}  // namespace firmo::domain
