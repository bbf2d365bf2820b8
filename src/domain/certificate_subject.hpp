#pragma once
// Who a signer's certificate names. The national identifier (serialNumber TINIT-... / PNONO-...
// and the country it implies) only when this signing proved it by an eID login and the request
// allows it (identifier_in_signed_documents); otherwise the person is named by name, e-mail
// address and phone number only. Pure functions; no I/O.

#include <string>
#include <string_view>

#include "domain/model.hpp"
#include "domain/ports/trust_service.hpp"

namespace firmo::domain {

// Starts the commonName of a test request's signer certificate (SignatureRequest::test).
inline constexpr std::string_view kTestSubjectPrefix = "TEST - ";

// The subject of a test request's signer: its commonName starts with kTestSubjectPrefix, and is
// cut to the 64 characters X.509 allows (RFC 5280 ub-common-name) so the prefix never stops a
// signature.
SignerIdentity MarkedAsTest(SignerIdentity identity);

// Whether a confirmation at `reached` proved this signer's national identifier.
bool IdentifierProven(const Signer& signer, const std::optional<AuthLevel>& reached);

// The name the certificate and the signature carry: the eID's name, else the issuer's, else the
// e-mail address or phone number; the identifier itself only when it may be named.
std::string SigningName(const std::string& eid_name, const Signer& signer,
                        const std::optional<AuthLevel>& reached,
                        IdentifierInSignedDocuments option);

// The certificate subject for a confirmed signer (rs.signing_name, rs.authenticated_with).
SignerIdentity CertificateSubject(const Signer& signer, const RequestSigner& rs,
                                  IdentifierInSignedDocuments option);

}  // namespace firmo::domain
