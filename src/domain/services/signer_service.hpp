#pragma once
// Signers: a national identifier (checked, normalised) resolves to an opaque signer id, the
// same id for the same person within an issuer, so identifiers need not travel further.

#include <optional>
#include <string>

#include "domain/services/context.hpp"

namespace firmo::domain {

struct NewSigner {
    IdentifierKind kind = IdentifierKind::kItFiscalCode;
    std::string identifier;
    std::optional<std::string> email;
    std::optional<std::string> phone;
    std::optional<std::string> full_name;  // for the certificate when no eID login names them
    std::optional<std::string> language;   // "it" | "en" | "nb" (the API checks the set)
};

inline constexpr std::size_t kFullNameMax = 120;

struct ResolvedSigner {
    Signer signer;
    bool created = false;
};

// A new signer's identifier and contact data, checked and normalised (what Resolve stores).
struct CheckedSigner {
    std::string identifier;
    std::optional<std::string> email;
    std::optional<std::string> phone;
};
// Every check Resolve makes before it reads the store (the sender portal's "validate").
[[nodiscard]] Result<CheckedSigner> CheckNewSigner(const NewSigner& input);

class SignerService {
  public:
    explicit SignerService(ServiceContext& ctx) : ctx_(ctx) {}

    // Validates the identifier; returns the existing signer (updating contact data given) or
    // a new one. A signer of kind kEmail / kPhone is reached by a link plus a one-time code;
    // their identifier is the address or number.
    [[nodiscard]] Result<ResolvedSigner> Resolve(const std::string& issuer_id,
                                                 const NewSigner& input);
    [[nodiscard]] Result<Signer> Get(const std::string& issuer_id, const std::string& id);

  private:
    ServiceContext& ctx_;
};

}  // namespace firmo::domain
