#pragma once
// Issuers and their API keys: creation (CLI and first start), authentication of every API
// call, revocation (effective at the next call).
//
// Key cache: with a ChangeSignal, Authenticate() remembers the keys it found active (by the
// key's SHA-256, never the key itself) and skips the database for them. A revocation
// announces itself on the signal after it commits, which every process sharing the database
// sees before its next lookup: the cache is emptied, the key looked up, and refused. So "a
// revoked key stops working at the next call" holds across processes and nodes, as without
// the cache. An entry also expires after kKeyCacheTtl, which bounds how long a process that
// died between committing a revocation and announcing it could leave a key working (on
// PostgreSQL the revoking transaction announces itself, see store/postgres/notification_signal).
// Without a signal, or while it answers ChangeSignal::kUnknown (its connection is down),
// nothing is cached or trusted. Thread-safe.

#include <chrono>
#include <cstdint>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "domain/ports/change_signal.hpp"
#include "domain/services/context.hpp"
#include "domain/services/key_use_log.hpp"

namespace firmo::domain {

// What a new API key is for and until when (none: no end).
struct ApiKeyOptions {
    std::string label;
    std::optional<Timestamp> expires_at;
    // Where calls may come from (ApiKey::allowed_ips), already checked by the caller with
    // http::AddressList::Parse (the domain has no IP parser); empty: anywhere.
    std::string allowed_ips;
    bool test = false;  // a test key (ApiKey::test): "firmo_test_..."; else "firmo_live_..."
};
inline constexpr std::size_t kApiKeyLabelMax = 100;

struct CreatedApiKey {
    ApiKey key;
    std::string secret;  // the whole key; shown once, never stored
};

// A change of how signers see an issuer (PATCH /api/v1/issuer): members left out stay as they
// are; an empty support_url or brand_color removes it.
struct IssuerIdentityPatch {
    std::optional<std::string> display_name;
    std::optional<std::string> support_email;
    std::optional<std::string> support_url;
    std::optional<std::string> brand_color;
};

struct IssuerLogo {
    std::string media_type;  // "image/png" or "image/svg+xml"
    std::string bytes;
    std::string sha256;  // hex, the version in its URL
};

// Who is calling the issuer API.
struct Principal {
    std::string issuer_id;
    std::string key_id;
    std::string key_prefix;
    std::optional<Timestamp> key_expires_at;  // a cached principal is dropped from then on
    std::string allowed_ips;                  // ApiKey::allowed_ips; the front door checks it
    bool test = false;                        // ApiKey::test

    // The requests this key reaches: those of its mode only.
    RequestScope Scope() const { return RequestScope(issuer_id, test); }
};

class IssuerService {
  public:
    static constexpr std::chrono::seconds kKeyCacheTtl{60};
    static constexpr std::size_t kKeyCacheMax = 10'000;
    // "Last used" is written at most this often per key.
    static constexpr std::chrono::seconds kKeyUseInterval{60};

    // `key_changes`: where revocations are announced and watched; null: no key cache.
    explicit IssuerService(ServiceContext& ctx, ChangeSignal* key_changes = nullptr)
        : ctx_(ctx), key_changes_(key_changes) {}

    [[nodiscard]] Result<Issuer> CreateIssuer(const std::string& name, const std::string& email);
    // kInvalidArgument for a label longer than kApiKeyLabelMax or an expiry in the past.
    [[nodiscard]] Result<CreatedApiKey> CreateApiKey(const std::string& issuer_id,
                                                     const ApiKeyOptions& options = {});
    [[nodiscard]] Result<void> RevokeApiKey(const std::string& key_id);
    // The issuer's keys (newest first, revoked ones too), and one of them revoked: kNotFound
    // for a key of another issuer or one already revoked.
    [[nodiscard]] Result<std::vector<ApiKey>> ListApiKeys(const std::string& issuer_id);
    [[nodiscard]] Result<void> RevokeIssuerApiKey(const std::string& issuer_id,
                                                  const std::string& key_id);
    // Whether `api_key` has the shape of a key Firmo issues (checked without the database:
    // the front door refuses other requests before reading their bodies).
    static bool WellFormedKey(std::string_view api_key);
    // kUnauthenticated for an unknown, malformed or revoked key.
    [[nodiscard]] Result<Principal> Authenticate(std::string_view api_key) const;
    // A call authenticated with the key from `ip`: remembered in memory, written by
    // FlushKeyUses (no write per call).
    void NoteKeyUse(const Principal& principal, const std::string& ip) const;
    // Writes the last use of each key used since, at most once per kKeyUseInterval per key
    // (every pending one with `all`: at shutdown); how many were written. Blocks (database).
    [[nodiscard]] Result<std::size_t> FlushKeyUses(bool all = false);
    // Creates the issuer `name` and a key when there is no issuer at all; nullopt otherwise.
    [[nodiscard]] Result<std::optional<std::pair<Issuer, CreatedApiKey>>> Bootstrap(
        const std::string& email, const std::string& name = "Default issuer");

    // Issue 16: the institution's identity, shown on every page and e-mail a signer gets.
    static constexpr std::size_t kMaxLogoBytes = 256 * 1024;
    // kNotFound when there is no such issuer.
    [[nodiscard]] Result<Issuer> Find(const std::string& issuer_id) const;
    // kInvalidArgument (violations by member) for a bad value; kNotFound for no such issuer.
    [[nodiscard]] Result<Issuer> UpdateIdentity(const std::string& issuer_id,
                                                const IssuerIdentityPatch& patch);
    // `media_type` "image/png" (the bytes must start with the PNG signature) or "image/svg+xml"
    // (UTF-8 with an <svg> element and no DTD: no entities); kUnsupportedMediaType for another
    // type, kPayloadTooLarge above kMaxLogoBytes, kInvalidArgument for bytes that are not the
    // type. The logo replaces the previous one.
    [[nodiscard]] Result<Issuer> SetLogo(const std::string& issuer_id, std::string_view media_type,
                                         std::string_view bytes);
    // kNotFound when the issuer has no logo.
    [[nodiscard]] Result<IssuerLogo> Logo(const std::string& issuer_id) const;
    // "#rrggbb" (hex digits of either case).
    static bool IsBrandColor(std::string_view color);

  private:
    [[nodiscard]] Result<Issuer> NewIssuer(const std::string& name, const std::string& email) const;
    CreatedApiKey NewApiKey(const std::string& issuer_id, bool test = false) const;
    std::optional<Principal> Cached(const std::string& hash, std::uint64_t generation) const;
    void Remember(const std::string& hash, const Principal& principal,
                  std::uint64_t generation) const;

    ServiceContext& ctx_;
    ChangeSignal* key_changes_;
    struct CachedKey {
        Principal principal;
        Timestamp expires_at;
    };
    mutable std::shared_mutex cache_mu_;
    mutable std::uint64_t cache_generation_ = 0;  // the signal's value the entries are from
    mutable std::unordered_map<std::string, CachedKey> cache_;  // by key hash
    mutable KeyUseLog key_uses_{kKeyUseInterval};
};

}  // namespace firmo::domain
