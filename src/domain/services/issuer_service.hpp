#pragma once
// Issuers and their API keys: creation (CLI and first start), authentication of every API
// call, revocation (effective at the next call: keys are looked up, never cached).

#include <optional>
#include <string>

#include "domain/services/context.hpp"

namespace firmo::domain {

struct CreatedApiKey {
    ApiKey key;
    std::string secret;  // the whole key; shown once, never stored
};

// Who is calling the issuer API.
struct Principal {
    std::string issuer_id;
    std::string key_id;
    std::string key_prefix;
};

class IssuerService {
  public:
    explicit IssuerService(ServiceContext& ctx) : ctx_(ctx) {}

    [[nodiscard]] Result<Issuer> CreateIssuer(const std::string& name, const std::string& email);
    [[nodiscard]] Result<CreatedApiKey> CreateApiKey(const std::string& issuer_id);
    [[nodiscard]] Result<void> RevokeApiKey(const std::string& key_id);
    // kUnauthenticated for an unknown, malformed or revoked key.
    [[nodiscard]] Result<Principal> Authenticate(std::string_view api_key) const;
    // Creates "Default issuer" and a key when there is no issuer at all; nullopt otherwise.
    [[nodiscard]] Result<std::optional<std::pair<Issuer, CreatedApiKey>>> Bootstrap(
        const std::string& email);

  private:
    [[nodiscard]] Result<Issuer> NewIssuer(const std::string& name, const std::string& email) const;
    CreatedApiKey NewApiKey(const std::string& issuer_id) const;

    ServiceContext& ctx_;
};

}  // namespace firmo::domain
