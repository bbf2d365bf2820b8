#include "domain/certificate_subject.hpp"

namespace firmo::domain {

namespace {

bool MayName(const Signer& signer, const std::optional<AuthLevel>& reached,
             IdentifierInSignedDocuments option) {
    return option == IdentifierInSignedDocuments::kIdentifierAndName &&
           IdentifierProven(signer, reached);
}

}  // namespace

bool IdentifierProven(const Signer& signer, const std::optional<AuthLevel>& reached) {
    // The eID login that confirmed was checked to name this signer's identifier
    // (SignerSessionService::Access and Reauthenticated).
    return IsNationalIdentifier(signer.kind) && reached && IsEid(*reached);
}

std::string SigningName(const std::string& eid_name, const Signer& signer,
                        const std::optional<AuthLevel>& reached,
                        IdentifierInSignedDocuments option) {
    if (!eid_name.empty()) return eid_name;
    if (signer.full_name && !signer.full_name->empty()) return *signer.full_name;
    if (signer.email) return *signer.email;
    if (signer.phone) return *signer.phone;
    if (MayName(signer, reached, option)) return signer.identifier;
    return "Signer";
}

SignerIdentity CertificateSubject(const Signer& signer, const RequestSigner& rs,
                                  IdentifierInSignedDocuments option) {
    SignerIdentity identity;
    identity.full_name = rs.signing_name;
    if (MayName(signer, rs.authenticated_with, option)) {
        identity.serial_number = std::string(EtsiPrefix(signer.kind)) + signer.identifier;
        identity.country = signer.kind == IdentifierKind::kItFiscalCode ? "IT" : "NO";
    }
    if (signer.email) identity.email = *signer.email;
    if (signer.phone) identity.phone = *signer.phone;
    return identity;
}

SignerIdentity MarkedAsTest(SignerIdentity identity) {
    constexpr std::size_t kMaxCharacters = 64;
    std::string name = std::string(kTestSubjectPrefix) + identity.full_name;
    std::size_t characters = 0;
    for (std::size_t i = 0; i < name.size(); ++i) {
        // A UTF-8 character starts at every byte that is not a continuation byte (10xxxxxx).
        if ((static_cast<unsigned char>(name[i]) & 0xC0) == 0x80) continue;
        if (++characters > kMaxCharacters) {
            name.resize(i);
            break;
        }
    }
    identity.full_name = std::move(name);
    return identity;
}

}  // namespace firmo::domain
