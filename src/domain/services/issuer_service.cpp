#include "domain/services/issuer_service.hpp"

#include "core/encoding.hpp"
#include "core/ids.hpp"
#include "domain/text.hpp"

namespace firmo::domain {

namespace {
constexpr std::string_view kKeyPrefix = "firmo_";
constexpr std::size_t kShownPrefix = 12;
}  // namespace

Result<Issuer> IssuerService::NewIssuer(const std::string& name, const std::string& email) const {
    std::vector<Violation> violations;
    CheckLength(name, 1, 200, "name", violations);
    const auto normalized_email = NormalizeEmail(email);
    if (!normalized_email) violations.push_back({"email", "must be an e-mail address"});
    if (!violations.empty()) return FailValidation(std::move(violations));
    return Issuer{NewUlid(ctx_.clock.Now(), ctx_.random), name, *normalized_email,
                  ctx_.clock.Now()};
}

CreatedApiKey IssuerService::NewApiKey(const std::string& issuer_id) const {
    // 32 random bytes: enough entropy that a fast hash (SHA-256) is a safe way to store it.
    const std::string secret = std::string(kKeyPrefix) + Base64UrlEncode(ctx_.random.Bytes(32));
    ApiKey key{
        NewUlid(ctx_.clock.Now(), ctx_.random), issuer_id,        ctx_.hasher.Sha256Hex(secret),
        secret.substr(0, kShownPrefix),         ctx_.clock.Now(), std::nullopt};
    return CreatedApiKey{key, secret};
}

Result<Issuer> IssuerService::CreateIssuer(const std::string& name, const std::string& email) {
    FIRMO_TRY(Issuer issuer, NewIssuer(name, email));
    return InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<Issuer> {
        FIRMO_CHECK(tx.issuers().Insert(issuer));
        return issuer;
    });
}

Result<CreatedApiKey> IssuerService::CreateApiKey(const std::string& issuer_id) {
    CreatedApiKey created = NewApiKey(issuer_id);
    return InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<CreatedApiKey> {
        FIRMO_TRY(auto issuer, tx.issuers().Find(issuer_id));
        if (!issuer) return Fail(ErrorCode::kNotFound, "no issuer " + issuer_id);
        FIRMO_CHECK(tx.issuers().InsertKey(created.key));
        return created;
    });
}

Result<void> IssuerService::RevokeApiKey(const std::string& key_id) {
    FIRMO_CHECK(InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<void> {
        FIRMO_TRY(bool revoked, tx.issuers().RevokeKey(key_id, ctx_.clock.Now()));
        if (!revoked) return Fail(ErrorCode::kNotFound, "no active API key " + key_id);
        return {};
    }));
    // After the commit: a process that empties its cache now finds the key revoked.
    if (key_changes_) key_changes_->Announce();
    return {};
}

bool IssuerService::WellFormedKey(std::string_view api_key) {
    return api_key.size() >= kKeyPrefix.size() + 8 && api_key.size() <= 200 &&
           api_key.substr(0, kKeyPrefix.size()) == kKeyPrefix;
}

Result<Principal> IssuerService::Authenticate(std::string_view api_key) const {
    if (!WellFormedKey(api_key)) {
        return Fail(ErrorCode::kUnauthenticated, "missing or malformed API key");
    }
    const std::string hash = ctx_.hasher.Sha256Hex(api_key);
    // Read before the lookup: an entry is filed under the generation it was current at, so a
    // revocation announced during the lookup makes it stale at once.
    // kUnknown: the signal cannot vouch that it would have seen a revocation (its connection
    // is down): look the key up, and remember nothing.
    const std::uint64_t generation =
        key_changes_ ? key_changes_->Current() : ChangeSignal::kUnknown;
    const bool cache = generation != ChangeSignal::kUnknown;
    if (cache) {
        if (auto principal = Cached(hash, generation)) return *principal;
    }
    FIRMO_TRY(auto tx, ctx_.db.Begin(TxMode::kSingle));
    FIRMO_TRY(auto key, tx->issuers().FindKeyByHash(hash));
    if (!key || key->revoked_at) {
        return Fail(ErrorCode::kUnauthenticated, "unknown or revoked API key");
    }
    Principal principal{key->issuer_id, key->id, key->prefix};
    if (cache) Remember(hash, principal, generation);
    return principal;
}

std::optional<Principal> IssuerService::Cached(const std::string& hash,
                                               std::uint64_t generation) const {
    std::shared_lock lock(cache_mu_);
    if (cache_generation_ != generation) return std::nullopt;
    const auto it = cache_.find(hash);
    if (it == cache_.end() || ctx_.clock.Now() >= it->second.expires_at) return std::nullopt;
    return it->second.principal;
}

void IssuerService::Remember(const std::string& hash, const Principal& principal,
                             std::uint64_t generation) const {
    std::unique_lock lock(cache_mu_);
    if (generation < cache_generation_) return;  // already stale: a newer change is known
    if (generation > cache_generation_ || cache_.size() >= kKeyCacheMax) {
        cache_.clear();
        cache_generation_ = generation;
    }
    cache_[hash] = CachedKey{principal, ctx_.clock.Now() + kKeyCacheTtl};
}

Result<std::optional<std::pair<Issuer, CreatedApiKey>>> IssuerService::Bootstrap(
    const std::string& email) {
    FIRMO_TRY(auto count,
              InReadTransaction(ctx_.db, [](Transaction& tx) { return tx.issuers().Count(); }));
    if (count > 0) return std::nullopt;
    FIRMO_TRY(Issuer issuer, NewIssuer("Default issuer", email));
    CreatedApiKey key = NewApiKey(issuer.id);
    // Nodes started together on an empty database: the one whose claim of the setting wins
    // creates the default issuer, in the same transaction; the others create nothing.
    FIRMO_TRY(bool created, InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<bool> {
                  FIRMO_TRY(auto winner, tx.settings().PutIfAbsent("bootstrap_issuer", issuer.id));
                  if (winner != issuer.id) return false;
                  FIRMO_CHECK(tx.issuers().Insert(issuer));
                  FIRMO_CHECK(tx.issuers().InsertKey(key.key));
                  return true;
              }));
    if (!created) return std::nullopt;
    return std::make_optional(std::make_pair(std::move(issuer), std::move(key)));
}

}  // namespace firmo::domain
