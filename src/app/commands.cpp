#include "app/commands.hpp"

#include <ostream>

#include "app/root.hpp"
#include "crypto/argon2id.hpp"
#include "crypto/builtin_tsa.hpp"
#include "crypto/certificate_authority.hpp"
#include "crypto/totp.hpp"
#include "domain/services/revocation_service.hpp"
#include "domain/services/staff_service.hpp"
#include "http/forwarded.hpp"
#include "http/listener.hpp"
#include "web/staff_portal.hpp"

namespace firmo::app {

namespace {

int Report(const Error& e, std::ostream& err) {
    err << "firmo: " << e.message << "\n";
    for (const auto& v : e.violations) err << "  " << v.field << ": " << v.reason << "\n";
    return 1;
}

// What a command run once builds: the storage and the issuer-side services over it.
struct Once {
    std::unique_ptr<Storage> storage;
    std::unique_ptr<IssuerSide> issuer_side;
};

Result<Once> OpenOnce(const Config& config) {
    FIRMO_TRY(auto storage, Storage::Open(config));
    auto issuer_side =
        std::make_unique<IssuerSide>(config, *storage, IssuerSide::NoNotifications(), [] {});
    return Once{std::move(storage), std::move(issuer_side)};
}

}  // namespace

int RunServe(const Config& config, std::ostream& out, std::ostream& err) {
    // Bind first: the port behind ":0" gives the public URL every link is built from, and a
    // busy port or a bad TLS file stops here, before anything is created.
    std::optional<http::TlsOptions> tls;
    if (config.server.tls()) {
        tls = http::TlsOptions{config.server.tls_cert_file, config.server.tls_key_file,
                               config.server.tls_min_version};
    }
    auto listener = http::Listener::Open(
        {.host = config.server.listen.host, .port = config.server.listen.port, .tls = tls});
    if (!listener) return Report(listener.error(), err);
    auto node = Node::Build(config, std::move(*listener));
    if (!node) return Report(node.error(), err);
    if (auto ran = (*node)->Run(out); !ran) return Report(ran.error(), err);
    return 0;
}

int RunMigrate(const Config& config, std::ostream& out, std::ostream& err) {
    auto storage = Storage::Open(config);  // migrates
    if (!storage) return Report(storage.error(), err);
    out << "database is up to date\n";
    return 0;
}

int RunIssuerCreate(const Config& config, const std::string& name, const std::string& email,
                    std::ostream& out, std::ostream& err) {
    auto once = OpenOnce(config);
    if (!once) return Report(once.error(), err);
    auto issuer = once->issuer_side->issuers().CreateIssuer(name, email);
    if (!issuer) return Report(issuer.error(), err);
    out << issuer->id << "\n";
    return 0;
}

int RunIssuerUpdate(const Config& config, const std::string& issuer_id,
                    const domain::IssuerIdentityPatch& patch, std::ostream& out,
                    std::ostream& err) {
    auto once = OpenOnce(config);
    if (!once) return Report(once.error(), err);
    auto issuer = once->issuer_side->issuers().UpdateIdentity(issuer_id, patch);
    if (!issuer) return Report(issuer.error(), err);
    err << "issuer \"" << issuer->name << "\" <" << issuer->email << ">\n";
    out << issuer->id << "\n";
    return 0;
}

int RunApiKeyCreate(const Config& config, const std::string& issuer_id,
                    const domain::ApiKeyOptions& options, std::ostream& out, std::ostream& err) {
    if (auto allowed = http::AddressList::Parse(options.allowed_ips, "allowed address"); !allowed) {
        return Report(allowed.error(), err);
    }
    auto once = OpenOnce(config);
    if (!once) return Report(once.error(), err);
    auto key = once->issuer_side->issuers().CreateApiKey(issuer_id, options);
    if (!key) return Report(key.error(), err);
    err << "key id " << key->key.id << " (keep the key itself secret; it is not stored)\n";
    out << key->secret << "\n";
    return 0;
}

int RunApiKeyList(const Config& config, const std::string& issuer_id, std::ostream& out,
                  std::ostream& err) {
    auto once = OpenOnce(config);
    if (!once) return Report(once.error(), err);
    auto keys = once->issuer_side->issuers().ListApiKeys(issuer_id);
    if (!keys) return Report(keys.error(), err);
    const auto or_dash = [](const std::string& s) { return s.empty() ? std::string("-") : s; };
    out << "id\tprefix\tlabel\tcreated\texpires\trevoked\tallowed_ips\tlast_used\tlast_ip\tmode\n";
    for (const domain::ApiKey& k : *keys) {
        out << k.id << '\t' << k.prefix << '\t' << or_dash(k.label) << '\t'
            << FormatRfc3339(k.created_at) << '\t'
            << (k.expires_at ? FormatRfc3339(*k.expires_at) : "-") << '\t'
            << (k.revoked_at ? FormatRfc3339(*k.revoked_at) : "-") << '\t' << or_dash(k.allowed_ips)
            << '\t' << (k.last_used_at ? FormatRfc3339(*k.last_used_at) : "-") << '\t'
            << or_dash(k.last_used_ip) << '\t' << (k.test ? "test" : "live") << '\n';
    }
    return 0;
}

int RunApiKeyRevoke(const Config& config, std::optional<std::string> key_id,
                    const std::optional<std::string>& secret, std::ostream& out,
                    std::ostream& err) {
    auto once = OpenOnce(config);
    if (!once) return Report(once.error(), err);
    auto& issuers = once->issuer_side->issuers();
    if (!key_id && secret) {
        auto principal = issuers.Authenticate(*secret);
        if (!principal)
            return Report(Error{ErrorCode::kNotFound, "no active API key matches"}, err);
        key_id = principal->key_id;
    }
    if (!key_id) return Report(Error{ErrorCode::kInvalidArgument, "no key given"}, err);
    if (auto ok = issuers.RevokeApiKey(*key_id); !ok) return Report(ok.error(), err);
    out << "revoked " << *key_id << "\n";
    return 0;
}

int RunUserCreate(const Config& config, const std::string& issuer_id, const std::string& email,
                  const std::string& role, std::ostream& out, std::ostream& err) {
    const auto parsed_role = domain::ParseStaffRole(role);
    if (!parsed_role)
        return Report(Error{ErrorCode::kInvalidArgument, "unknown role " + role}, err);
    auto once = OpenOnce(config);
    if (!once) return Report(once.error(), err);
    const crypto::Argon2idHasher passwords;
    const crypto::OathTotp totp(std::string{});  // creating an account seals no TOTP secret
    domain::StaffService staff(once->issuer_side->context(), passwords, totp, nullptr);
    auto invite = staff.CreateUser(issuer_id, email, *parsed_role, "cli");
    if (!invite) return Report(invite.error(), err);
    err << "staff user " << invite->user.id << " (" << invite->user.email << ", " << role
        << "); the setup link below works once, for " << staff.options().setup_ttl.count()
        << " hours\n";
    out << web::StaffPortal::SetupUrl(PublicUrl(config.server, config.server.listen.port),
                                      invite->setup_token)
        << "\n";
    return 0;
}

int RunCaRevoke(const Config& config, const std::string& serial, const std::string& reason,
                std::ostream& out, std::ostream& err) {
    auto hex = crypto::ParseSerial(serial);
    if (!hex) return Report(hex.error(), err);
    const auto code = crypto::ParseRevocationReason(reason);
    if (!code) return Report(Error{ErrorCode::kInvalidArgument, "unknown reason " + reason}, err);
    auto storage = Storage::Open(config);
    if (!storage) return Report(storage.error(), err);
    domain::RevocationService revocations((*storage)->db(), (*storage)->clock());
    auto revoked = revocations.Revoke(*hex, *code);
    if (!revoked) return Report(revoked.error(), err);
    out << "revoked " << revoked->serial << " (" << crypto::RevocationReasonName(revoked->reason)
        << ")\n";
    return 0;
}

int RunCaTsaCert(const Config& config, std::ostream& out, std::ostream& err) {
    SystemClock clock;
    SystemRandom random;
    auto ca = crypto::CertificateAuthority::Load(config.storage.data_dir, config.ca.passphrase);
    if (!ca) return Report(ca.error(), err);
    auto tsa = OpenBuiltinTsa(config.storage.data_dir, config.ca.passphrase, *ca, clock, random,
                              config.server.public_url);
    if (!tsa) return Report(tsa.error(), err);
    auto pem = (*tsa)->ChainPem();
    if (!pem) return Report(pem.error(), err);
    out << *pem;
    return 0;
}

}  // namespace firmo::app
