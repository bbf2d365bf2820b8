#pragma once
// The commands that read the configuration: serve, migrate, issuer create, apikey
// create|revoke. Each builds only the part of the object graph it needs (app/root.hpp), prints
// its result's id or key alone on the last line of stdout (for scripts) and returns the exit
// code: 0 success, 1 failure. The command line itself is app/cli.hpp.

#include <iosfwd>
#include <optional>
#include <string>

#include "app/config.hpp"
#include "domain/services/issuer_service.hpp"

namespace firmo::app {

int RunServe(const Config& config, std::ostream& out, std::ostream& err);
int RunMigrate(const Config& config, std::ostream& out, std::ostream& err);
int RunIssuerCreate(const Config& config, const std::string& name, const std::string& email,
                    std::ostream& out, std::ostream& err);
int RunIssuerUpdate(const Config& config, const std::string& issuer_id,
                    const domain::IssuerIdentityPatch& patch, std::ostream& out, std::ostream& err);
// `options.allowed_ips` as typed (checked here, like the admin page does).
int RunApiKeyCreate(const Config& config, const std::string& issuer_id,
                    const domain::ApiKeyOptions& options, std::ostream& out, std::ostream& err);
// firmo apikey list --issuer ID: one line per key, newest first (revoked ones too), with its
// last use (approximate to a minute).
int RunApiKeyList(const Config& config, const std::string& issuer_id, std::ostream& out,
                  std::ostream& err);
// One of `key_id` and `secret` names the key.
int RunApiKeyRevoke(const Config& config, std::optional<std::string> key_id,
                    const std::optional<std::string>& secret, std::ostream& out, std::ostream& err);

// firmo ca revoke SERIAL --reason NAME: records the revocation in the database (the CRL and
// OCSP of every node read it).
int RunCaRevoke(const Config& config, const std::string& serial, const std::string& reason,
                std::ostream& out, std::ostream& err);
// firmo user create --issuer ID --email E --role admin|sender|viewer: a staff account of the
// sender portal; prints the one-time setup URL ({public_url}/app/setup/{token}) last.
int RunUserCreate(const Config& config, const std::string& issuer_id, const std::string& email,
                  const std::string& role, std::ostream& out, std::ostream& err);
// firmo ca tsa-cert: the built-in TSA's chain (PEM), created from the CA when absent.
int RunCaTsaCert(const Config& config, std::ostream& out, std::ostream& err);

}  // namespace firmo::app
