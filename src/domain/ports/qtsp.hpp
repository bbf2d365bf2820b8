#pragma once
// Ports: a qualified trust service provider reached over the CSC API v2 (the adapter is
// trust::CscGateway), and what Firmo does once a signer authorized their signatures there.

#include <chrono>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "domain/ports/hash_signer.hpp"
#include "domain/ports/qtsp_authorization_repository.hpp"

namespace firmo::domain {

class Transaction;

// A started credential authorization: the URL for the signer's browser, and what Firmo keeps
// until the provider redirects back (the state goes into the URL; only its hash is stored).
struct QtspAuthorizationStart {
    std::string url;
    std::string state;            // fresh, unguessable
    std::string sealed_verifier;  // the PKCE verifier, sealed: only the adapter can open it
};

// A credential-scoped token from a code exchange, sealed, and how long the provider honours it.
struct QtspToken {
    std::string sealed;
    std::chrono::seconds lifetime{0};
};

// A signer's credential at the provider: its id and what the prepare stage must know.
struct QtspCredential {
    std::string id;
    SignerCredential credential;  // the provider's certificate and chain
    std::string description;      // for the audit log: subject, SCAL, qualifier
};

class QtspGateway {
  public:
    virtual ~QtspGateway() = default;
    QtspGateway() = default;
    QtspGateway(const QtspGateway&) = delete;
    QtspGateway& operator=(const QtspGateway&) = delete;

    // `digests`: raw SHA-256 digests the signer authorizes, in signing order. May block.
    [[nodiscard]] virtual Result<QtspAuthorizationStart> StartAuthorization(
        const std::string& credential_id, const std::vector<std::string>& digests) = 0;
    // The credential the provider keeps for `user_id` (credentials/list, then credentials/info
    // with the chain). kNotFound when it has none. Blocks (network).
    [[nodiscard]] virtual Result<QtspCredential> FindCredential(const std::string& user_id) = 0;
    // Seals a secret (an authorization code) so that it may rest in shared storage; only this
    // adapter opens it.
    [[nodiscard]] virtual Result<std::string> Seal(const std::string& secret) = 0;
    // Exchanges the sealed code of a callback (with the sealed PKCE verifier) for the
    // credential-scoped token, returned sealed so that it may rest in shared storage until a
    // signHash uses it. kGone when the provider says the code is invalid, used or expired.
    // Blocks (network).
    [[nodiscard]] virtual Result<QtspToken> ExchangeCode(const std::string& sealed_code,
                                                         const std::string& sealed_verifier) = 0;
    // Signs `digests` (raw SHA-256, in order) with the sealed token: one signature value per
    // digest, checked against the credential's certificate. Blocks (network).
    [[nodiscard]] virtual Result<std::vector<std::string>> SignHashes(
        const std::string& sealed_token, const std::string& credential_id,
        const std::vector<std::string>& digests) = 0;
};

// What follows the provider's answer: after an authorization, sign the authorized hashes
// (signHash, in a job), embed the signature values and run the post-sign steps; after a
// denial, give the signer their turn back. CeremonyService implements it.
class QtspContinuation {
  public:
    virtual ~QtspContinuation() = default;
    QtspContinuation() = default;
    QtspContinuation(const QtspContinuation&) = delete;
    QtspContinuation& operator=(const QtspContinuation&) = delete;

    // `code`: the authorization code of the callback (a bearer secret: seal it before storing).
    // Runs inside `tx`, the transaction that finishes the authorization: what it queues commits
    // with the claim or not at all, so a failure leaves the authorization pending (the callback
    // may come again, or it expires and the signer gets their turn back).
    [[nodiscard]] virtual Result<void> Authorized(Transaction& tx,
                                                  const QtspAuthorization& authorization,
                                                  const std::string& code) = 0;
    [[nodiscard]] virtual Result<void> Denied(const QtspAuthorization& authorization) = 0;
};

}  // namespace firmo::domain
