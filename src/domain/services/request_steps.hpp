#pragma once
// Steps shared by the issuer-side and signer-side services: applying an event to a request or
// one of its signers (through the pure transitions, logged in the same transaction), and
// putting "a document to sign" in the inbox of the signers whose turn it is.

#include <string>

#include "core/random.hpp"
#include "domain/ports/repository.hpp"

namespace firmo::domain {

// Applies `event` to the request and cascades cancel/expire to its waiting signers.
[[nodiscard]] Result<void> ApplyRequestEvent(Transaction& tx, SignatureRequest& request,
                                             RequestEvent event, const std::string& actor,
                                             const std::string& detail, Timestamp now);
[[nodiscard]] Result<void> ApplySignerEvent(Transaction& tx, SignatureRequest& request,
                                            std::size_t position, SignerEvent event,
                                            const std::string& actor, const std::string& detail,
                                            Timestamp now);

// Every WAITING signer whose turn it is and who logs in with a national identifier gets one
// "a document to sign" message (never twice for the same request).
[[nodiscard]] Result<int> MessageSignersWhoseTurn(Transaction& tx, const SignatureRequest& request,
                                                  const std::string& title, Timestamp now,
                                                  Random& random);

bool IsTurnOf(const SignatureRequest& request, std::size_t position);

// A random URL-safe secret (256 bits) for capability tokens.
std::string NewSecretToken(Random& random);

}  // namespace firmo::domain
