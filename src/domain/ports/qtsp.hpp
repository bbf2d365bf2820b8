#pragma once
// Ports: a qualified trust service provider reached over the CSC API v2 (the adapter is
// trust::CscGateway), and what Firmo does once a signer authorized their signatures there.

#include <string>
#include <vector>

#include "core/error.hpp"
#include "domain/ports/qtsp_authorization_repository.hpp"

namespace firmo::domain {

// A started credential authorization: the URL for the signer's browser, and what Firmo keeps
// until the provider redirects back (the state goes into the URL; only its hash is stored).
struct QtspAuthorizationStart {
    std::string url;
    std::string state;            // fresh, unguessable
    std::string sealed_verifier;  // the PKCE verifier, sealed: only the adapter can open it
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
    // The credential-scoped access token for the code of a callback. kGone when the provider
    // says the code is invalid, used or expired. Blocks (network).
    [[nodiscard]] virtual Result<std::string> ExchangeCode(const std::string& code,
                                                           const std::string& sealed_verifier) = 0;
};

// What follows a signer's authorization: sign the authorized hashes with the token (signHash),
// embed the signature values and run the post-sign steps. Wired by the composition root to the
// staged signing pipeline; until then no continuation exists and the callback says so.
class QtspContinuation {
  public:
    virtual ~QtspContinuation() = default;
    QtspContinuation() = default;
    QtspContinuation(const QtspContinuation&) = delete;
    QtspContinuation& operator=(const QtspContinuation&) = delete;

    [[nodiscard]] virtual Result<void> Authorized(const QtspAuthorization& authorization,
                                                  const std::string& credential_token) = 0;
};

}  // namespace firmo::domain
