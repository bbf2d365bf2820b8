#include "domain/services/issuer_service.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>

#include "core/encoding.hpp"
#include "core/ids.hpp"
#include "domain/exit_url.hpp"
#include "domain/identifiers.hpp"
#include "domain/text.hpp"

namespace firmo::domain {

namespace {
constexpr std::string_view kKeyPrefix = "firmo_";
// Keys made since issue 17 say their mode; older ones are "firmo_" and six characters shown.
constexpr std::string_view kTestKeyPrefix = "firmo_test_";
constexpr std::string_view kLiveKeyPrefix = "firmo_live_";
constexpr std::size_t kShownRandom = 6;  // random characters shown after the mode
constexpr std::string_view kPngSignature = "\x89PNG\r\n\x1a\n";

std::string LogoKey(const std::string& issuer_id) { return "issuers/" + issuer_id + "/logo"; }

// Case-insensitive search of ASCII `needle` in `text`.
bool ContainsNoCase(std::string_view text, std::string_view needle) {
    const auto it =
        std::search(text.begin(), text.end(), needle.begin(), needle.end(), [](char a, char b) {
            return std::tolower(static_cast<unsigned char>(a)) ==
                   std::tolower(static_cast<unsigned char>(b));
        });
    return it != text.end();
}

// Why `bytes` are not a logo of `media_type`; empty when they are.
std::string LogoProblem(std::string_view media_type, std::string_view bytes) {
    if (media_type == "image/png") {
        if (!bytes.starts_with(kPngSignature)) return "is not a PNG image (no PNG signature)";
        return {};
    }
    // An SVG is only ever served as an image with a sandboxing CSP (api/issuer_api.cpp), so a
    // script in it never runs; a DTD is refused all the same (entity expansion in any reader).
    if (Utf8Length(bytes) == SIZE_MAX) return "is not UTF-8 text (an SVG image is XML)";
    if (!ContainsNoCase(bytes, "<svg")) return "has no <svg> element";
    if (ContainsNoCase(bytes, "<!DOCTYPE") || ContainsNoCase(bytes, "<!ENTITY")) {
        return "must not have a DTD (<!DOCTYPE or <!ENTITY)";
    }
    return {};
}
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

CreatedApiKey IssuerService::NewApiKey(const std::string& issuer_id, bool test) const {
    // 32 random bytes: enough entropy that a fast hash (SHA-256) is a safe way to store it. The
    // mode in the key's text tells a reader which it is; the stored ApiKey::test decides.
    const std::string_view mode = test ? kTestKeyPrefix : kLiveKeyPrefix;
    const std::string secret = std::string(mode) + Base64UrlEncode(ctx_.random.Bytes(32));
    ApiKey key{NewUlid(ctx_.clock.Now(), ctx_.random),
               issuer_id,
               ctx_.hasher.Sha256Hex(secret),
               secret.substr(0, mode.size() + kShownRandom),
               ctx_.clock.Now(),
               std::nullopt};
    key.test = test;
    return CreatedApiKey{key, secret};
}

Result<Issuer> IssuerService::CreateIssuer(const std::string& name, const std::string& email) {
    FIRMO_TRY(Issuer issuer, NewIssuer(name, email));
    return InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<Issuer> {
        FIRMO_CHECK(tx.issuers().Insert(issuer));
        return issuer;
    });
}

Result<CreatedApiKey> IssuerService::CreateApiKey(const std::string& issuer_id,
                                                  const ApiKeyOptions& options) {
    if (options.label.size() > kApiKeyLabelMax) {
        return FailValidation(
            {{"label", "at most " + std::to_string(kApiKeyLabelMax) + " characters"}});
    }
    if (options.expires_at && *options.expires_at <= ctx_.clock.Now()) {
        return FailValidation({{"expires_at", "must be in the future"}});
    }
    CreatedApiKey created = NewApiKey(issuer_id, options.test);
    created.key.label = options.label;
    created.key.expires_at = options.expires_at;
    created.key.allowed_ips = options.allowed_ips;
    return InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<CreatedApiKey> {
        FIRMO_TRY(auto issuer, tx.issuers().Find(issuer_id));
        if (!issuer) return Fail(ErrorCode::kNotFound, "no issuer " + issuer_id);
        FIRMO_CHECK(tx.issuers().InsertKey(created.key));
        return created;
    });
}

Result<void> IssuerService::RevokeApiKey(const std::string& key_id) {
    // Marked before the commit: no process trusts its cache from then until the announcement,
    // even if this one dies in between.
    if (key_changes_) key_changes_->WillChange();
    auto revoked = InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<void> {
        FIRMO_TRY(bool found, tx.issuers().RevokeKey(key_id, ctx_.clock.Now()));
        if (!found) return Fail(ErrorCode::kNotFound, "no active API key " + key_id);
        return {};
    });
    // After the commit (or whatever became of it): a process that empties its cache now finds
    // the key as it is.
    if (key_changes_) key_changes_->Announce();
    return revoked;
}

Result<std::vector<ApiKey>> IssuerService::ListApiKeys(const std::string& issuer_id) {
    return InReadTransaction(ctx_.db,
                             [&](Transaction& tx) { return tx.issuers().ListKeys(issuer_id); });
}

Result<void> IssuerService::RevokeIssuerApiKey(const std::string& issuer_id,
                                               const std::string& key_id) {
    FIRMO_TRY(auto keys, ListApiKeys(issuer_id));
    const bool mine =
        std::any_of(keys.begin(), keys.end(), [&](const ApiKey& k) { return k.id == key_id; });
    if (!mine) return Fail(ErrorCode::kNotFound, "no active API key " + key_id);
    return RevokeApiKey(key_id);
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
    if (key->expires_at && *key->expires_at <= ctx_.clock.Now()) {
        return Fail(ErrorCode::kUnauthenticated, "expired API key");
    }
    Principal principal{key->issuer_id,  key->id,          key->prefix,
                        key->expires_at, key->allowed_ips, key->test};
    if (cache) Remember(hash, principal, generation);
    return principal;
}

std::optional<Principal> IssuerService::Cached(const std::string& hash,
                                               std::uint64_t generation) const {
    std::shared_lock lock(cache_mu_);
    if (cache_generation_ != generation) return std::nullopt;
    const auto it = cache_.find(hash);
    const Timestamp now = ctx_.clock.Now();
    if (it == cache_.end() || now >= it->second.expires_at) return std::nullopt;
    const auto& key_expiry = it->second.principal.key_expires_at;
    if (key_expiry && now >= *key_expiry) return std::nullopt;  // looked up again: refused
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

void IssuerService::NoteKeyUse(const Principal& principal, const std::string& ip) const {
    key_uses_.Note(principal.key_id, ctx_.clock.Now(), ip);
}

Result<std::size_t> IssuerService::FlushKeyUses(bool all) {
    const auto due = key_uses_.Due(ctx_.clock.Now(), all);
    if (due.empty()) return std::size_t{0};
    FIRMO_CHECK(InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<void> {
        for (const KeyUse& use : due) {
            FIRMO_CHECK(tx.issuers().RecordKeyUse(use.key_id, use.at, use.ip));
        }
        return {};
    }));
    return due.size();
}

Result<std::optional<std::pair<Issuer, CreatedApiKey>>> IssuerService::Bootstrap(
    const std::string& email, const std::string& name) {
    FIRMO_TRY(auto count,
              InReadTransaction(ctx_.db, [](Transaction& tx) { return tx.issuers().Count(); }));
    if (count > 0) return std::nullopt;
    FIRMO_TRY(Issuer issuer, NewIssuer(name, email));
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

bool IssuerService::IsBrandColor(std::string_view color) {
    return color.size() == 7 && color[0] == '#' &&
           std::all_of(color.begin() + 1, color.end(),
                       [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
}

Result<Issuer> IssuerService::Find(const std::string& issuer_id) const {
    FIRMO_TRY(auto issuer, InReadTransaction(ctx_.db, [&](Transaction& tx) {
                  return tx.issuers().Find(issuer_id);
              }));
    if (!issuer) return Fail(ErrorCode::kNotFound, "no issuer " + issuer_id);
    return std::move(*issuer);
}

Result<Issuer> IssuerService::UpdateIdentity(const std::string& issuer_id,
                                             const IssuerIdentityPatch& patch) {
    std::vector<Violation> violations;
    std::optional<std::string> email;
    if (patch.display_name) CheckLength(*patch.display_name, 1, 200, "display_name", violations);
    if (patch.support_email) {
        email = NormalizeEmail(*patch.support_email);
        if (!email) violations.push_back({"support_email", "must be an e-mail address"});
    }
    if (patch.support_url && !patch.support_url->empty()) {
        auto bad = CheckExitUrl(*patch.support_url, "support_url");
        violations.insert(violations.end(), bad.begin(), bad.end());
    }
    if (patch.brand_color && !patch.brand_color->empty() && !IsBrandColor(*patch.brand_color)) {
        violations.push_back({"brand_color", "must be a colour as #rrggbb"});
    }
    if (!violations.empty()) return FailValidation(std::move(violations));
    return InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<Issuer> {
        FIRMO_TRY(auto found, tx.issuers().Find(issuer_id));
        if (!found) return Fail(ErrorCode::kNotFound, "no issuer " + issuer_id);
        Issuer issuer = std::move(*found);
        if (patch.display_name) issuer.name = *patch.display_name;
        if (email) issuer.email = *email;
        if (patch.support_url) issuer.support_url = *patch.support_url;
        if (patch.brand_color) {
            issuer.brand_color = *patch.brand_color;
            std::transform(issuer.brand_color.begin(), issuer.brand_color.end(),
                           issuer.brand_color.begin(),
                           [](char c) { return static_cast<char>(std::tolower(c)); });
        }
        FIRMO_CHECK(tx.issuers().Update(issuer));
        return issuer;
    });
}

Result<Issuer> IssuerService::SetLogo(const std::string& issuer_id, std::string_view media_type,
                                      std::string_view bytes) {
    if (media_type != "image/png" && media_type != "image/svg+xml") {
        return Fail(ErrorCode::kUnsupportedMediaType, "a logo is image/png or image/svg+xml");
    }
    if (bytes.size() > kMaxLogoBytes) {
        return Fail(ErrorCode::kPayloadTooLarge, "a logo is at most 256 KiB");
    }
    if (bytes.empty()) return FailValidation({{"logo", "is empty"}});
    if (const std::string problem = LogoProblem(media_type, bytes); !problem.empty()) {
        return FailValidation({{"logo", problem}});
    }
    FIRMO_TRY(Issuer issuer, Find(issuer_id));
    // The blob first: a row never names a logo that is not there. A logo replaced while another
    // node reads it is seen whole, old or new (BlobStore writes are atomic).
    FIRMO_TRY(BlobInfo stored, ctx_.blobs.Put(LogoKey(issuer_id), bytes));
    const std::string sha256 =
        stored.sha256_hex.empty() ? ctx_.hasher.Sha256Hex(bytes) : stored.sha256_hex;
    return InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<Issuer> {
        FIRMO_TRY(auto found, tx.issuers().Find(issuer_id));
        if (!found) return Fail(ErrorCode::kNotFound, "no issuer " + issuer_id);
        Issuer updated = std::move(*found);
        updated.logo_type = std::string(media_type);
        updated.logo_sha256 = sha256;
        FIRMO_CHECK(tx.issuers().Update(updated));
        return updated;
    });
}

Result<IssuerLogo> IssuerService::Logo(const std::string& issuer_id) const {
    FIRMO_TRY(Issuer issuer, Find(issuer_id));
    if (issuer.logo_type.empty()) return Fail(ErrorCode::kNotFound, "this issuer has no logo");
    FIRMO_TRY(std::string bytes, ctx_.blobs.Get(LogoKey(issuer_id)));
    return IssuerLogo{issuer.logo_type, std::move(bytes), issuer.logo_sha256};
}

}  // namespace firmo::domain
