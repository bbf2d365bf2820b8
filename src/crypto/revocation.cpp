// The built-in CA's revocation services: CertificateAuthority::Crl and ::AnswerOcsp (declared
// in certificate_authority.hpp), serial numbers and CRLReason names.

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>

#include <array>
#include <cctype>

#include "crypto/certificate_authority.hpp"

namespace firmo::crypto {
namespace {

using CrlPtr = OpensslPtr<X509_CRL, X509_CRL_free>;
using RevokedPtr = OpensslPtr<X509_REVOKED, X509_REVOKED_free>;
using Asn1TimePtr = OpensslPtr<ASN1_TIME, ASN1_TIME_free>;
using Asn1EnumeratedPtr = OpensslPtr<ASN1_ENUMERATED, ASN1_ENUMERATED_free>;
using OcspRequestPtr = OpensslPtr<OCSP_REQUEST, OCSP_REQUEST_free>;
using OcspResponsePtr = OpensslPtr<OCSP_RESPONSE, OCSP_RESPONSE_free>;
using OcspBasicPtr = OpensslPtr<OCSP_BASICRESP, OCSP_BASICRESP_free>;
using OcspCertIdPtr = OpensslPtr<OCSP_CERTID, OCSP_CERTID_free>;

// RFC 5280 section 5.3.1; 7 is not used.
constexpr std::array<std::string_view, 11> kReasons = {
    "unspecified",   "keyCompromise",        "cACompromise",    "affiliationChanged",
    "superseded",    "cessationOfOperation", "certificateHold", "",
    "removeFromCRL", "privilegeWithdrawn",   "aACompromise"};

Asn1TimePtr TimeOf(Timestamp t) {
    const auto seconds =
        std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
    return Asn1TimePtr(ASN1_TIME_set(nullptr, static_cast<time_t>(seconds)));
}

Result<Asn1IntegerPtr> IntegerOfHex(const std::string& hex) {
    BIGNUM* raw = nullptr;
    if (BN_hex2bn(&raw, hex.c_str()) == 0) {
        return Fail(ErrorCode::kInvalidArgument, "not a serial number: " + hex);
    }
    BignumPtr bn(raw);
    Asn1IntegerPtr out(BN_to_ASN1_INTEGER(bn.get(), nullptr));
    if (!out) return Fail(OpensslError("out of memory"));
    return out;
}

}  // namespace

CertificateUrls CertificateUrls::Under(std::string_view public_url) {
    std::string base(public_url);
    while (!base.empty() && base.back() == '/') base.pop_back();
    return {.ocsp = base + "/pki/ocsp",
            .ca_issuers = base + "/pki/ca.crt",
            .crl = base + "/pki/ca.crl"};
}

std::string SerialOf(const ASN1_INTEGER* serial) {
    BignumPtr bn(ASN1_INTEGER_to_BN(serial, nullptr));
    if (!bn) return {};
    char* hex = BN_bn2hex(bn.get());
    if (hex == nullptr) return {};
    std::string out(hex);
    OPENSSL_free(hex);
    return out;
}

std::string SerialOf(const X509* cert) { return SerialOf(X509_get0_serialNumber(cert)); }

Result<std::string> ParseSerial(std::string_view text) {
    std::string hex;
    if (text.starts_with("0x") || text.starts_with("0X")) text.remove_prefix(2);
    for (char c : text) {
        if (c == ':' || c == ' ') continue;
        if (std::isxdigit(static_cast<unsigned char>(c)) == 0) {
            return Fail(ErrorCode::kInvalidArgument,
                        "a serial number is hexadecimal (as `openssl x509 -serial` prints it)");
        }
        hex += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    const auto first = hex.find_first_not_of('0');
    if (hex.empty() || hex.size() > 40) {
        return Fail(ErrorCode::kInvalidArgument, "a serial number has 1 to 20 bytes");
    }
    return first == std::string::npos ? std::string("0") : hex.substr(first);
}

std::optional<int> ParseRevocationReason(std::string_view name) {
    for (std::size_t i = 0; i < kReasons.size(); ++i) {
        if (!kReasons[i].empty() && kReasons[i] == name) return static_cast<int>(i);
    }
    return std::nullopt;
}

std::string_view RevocationReasonName(int code) {
    if (code < 0 || static_cast<std::size_t>(code) >= kReasons.size()) return "unspecified";
    return kReasons[static_cast<std::size_t>(code)];
}

Result<std::string> CertificateAuthority::Crl(const std::vector<domain::Revocation>& revoked,
                                              Timestamp now,
                                              std::chrono::seconds next_update) const {
    CrlPtr crl(X509_CRL_new());
    auto this_update = TimeOf(now);
    auto next = TimeOf(now + next_update);
    if (!crl || !this_update || !next || X509_CRL_set_version(crl.get(), X509_CRL_VERSION_2) != 1 ||
        X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(cert_.get())) != 1 ||
        X509_CRL_set1_lastUpdate(crl.get(), this_update.get()) != 1 ||
        X509_CRL_set1_nextUpdate(crl.get(), next.get()) != 1) {
        return Fail(OpensslError("cannot build the CRL"));
    }
    for (const auto& r : revoked) {
        FIRMO_TRY(Asn1IntegerPtr serial, IntegerOfHex(r.serial));
        RevokedPtr entry(X509_REVOKED_new());
        auto when = TimeOf(r.revoked_at);
        if (!entry || !when || X509_REVOKED_set_serialNumber(entry.get(), serial.get()) != 1 ||
            X509_REVOKED_set_revocationDate(entry.get(), when.get()) != 1) {
            return Fail(OpensslError("cannot build the CRL"));
        }
        // RFC 5280 5.3.1: "unspecified" SHOULD be left out.
        if (r.reason != 0) {
            Asn1EnumeratedPtr reason(ASN1_ENUMERATED_new());
            if (!reason || ASN1_ENUMERATED_set(reason.get(), r.reason) != 1 ||
                X509_REVOKED_add1_ext_i2d(entry.get(), NID_crl_reason, reason.get(), 0, 0) != 1) {
                return Fail(OpensslError("cannot build the CRL"));
            }
        }
        if (X509_CRL_add0_revoked(crl.get(), entry.get()) != 1) {
            return Fail(OpensslError("cannot build the CRL"));
        }
        (void)entry.release();  // owned by the CRL now
    }
    // The CRL number must grow from one CRL to the next, on every node: seconds do.
    const auto number_value =
        std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    Asn1IntegerPtr number(ASN1_INTEGER_new());
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, cert_.get(), nullptr, nullptr, crl.get(), 0);
    X509ExtensionPtr aki(
        X509V3_EXT_conf_nid(nullptr, &ctx, NID_authority_key_identifier, "keyid:always"));
    if (!number || ASN1_INTEGER_set_int64(number.get(), number_value) != 1 ||
        X509_CRL_add1_ext_i2d(crl.get(), NID_crl_number, number.get(), 0, 0) != 1 || !aki ||
        X509_CRL_add_ext(crl.get(), aki.get(), -1) != 1 || X509_CRL_sort(crl.get()) != 1 ||
        X509_CRL_sign(crl.get(), key_.get(), EVP_sha256()) <= 0) {
        return Fail(OpensslError("cannot sign the CRL"));
    }
    return ToDer(crl.get(), i2d_X509_CRL, "cannot encode the CRL");
}

Result<std::string> CertificateAuthority::AnswerOcsp(std::string_view request_der,
                                                     const RevocationLookup& lookup, Timestamp now,
                                                     std::chrono::seconds next_update) const {
    const auto* p = reinterpret_cast<const unsigned char*>(request_der.data());
    OcspRequestPtr request(d2i_OCSP_REQUEST(nullptr, &p, static_cast<long>(request_der.size())));
    if (!request ||
        p != reinterpret_cast<const unsigned char*>(request_der.data()) + request_der.size()) {
        ERR_clear_error();
        return Fail(ErrorCode::kMalformed, "the body is not a DER OCSPRequest");
    }
    const int count = OCSP_request_onereq_count(request.get());
    if (count <= 0 || count > 100) {
        return Fail(ErrorCode::kInvalidArgument,
                    "an OCSP request asks about 1 to 100 certificates");
    }
    OcspBasicPtr basic(OCSP_BASICRESP_new());
    auto this_update = TimeOf(now);
    auto next = TimeOf(now + next_update);
    if (!basic || !this_update || !next) return Fail(OpensslError("out of memory"));
    for (int i = 0; i < count; ++i) {
        OCSP_CERTID* id = OCSP_onereq_get0_id(OCSP_request_onereq_get0(request.get(), i));
        ASN1_OBJECT* hash_algorithm = nullptr;
        ASN1_INTEGER* serial = nullptr;
        if (OCSP_id_get0_info(nullptr, &hash_algorithm, nullptr, &serial, id) != 1) {
            return Fail(ErrorCode::kMalformed, "an OCSP request without a certificate id");
        }
        // Is it about a certificate of ours? Same issuer name and key hashes, with the
        // request's hash algorithm.
        const EVP_MD* md = EVP_get_digestbyobj(hash_algorithm);
        OcspCertIdPtr ours(md == nullptr
                               ? nullptr
                               : OCSP_cert_id_new(md, X509_get_subject_name(cert_.get()),
                                                  X509_get0_pubkey_bitstr(cert_.get()), serial));
        ERR_clear_error();
        int status = V_OCSP_CERTSTATUS_UNKNOWN;
        int reason = -1;
        Asn1TimePtr revoked_at;
        if (ours && OCSP_id_issuer_cmp(ours.get(), id) == 0) {
            FIRMO_TRY(auto revocation, lookup(SerialOf(serial)));
            if (revocation) {
                status = V_OCSP_CERTSTATUS_REVOKED;
                reason = revocation->reason;
                revoked_at = TimeOf(revocation->revoked_at);
            } else {
                status = V_OCSP_CERTSTATUS_GOOD;
            }
        }
        if (OCSP_basic_add1_status(basic.get(), id, status, reason, revoked_at.get(),
                                   this_update.get(), next.get()) == nullptr) {
            return Fail(OpensslError("cannot build the OCSP response"));
        }
    }
    // Echoes the nonce if the request has one (-1 when it has none: fine).
    if (OCSP_copy_nonce(basic.get(), request.get()) == 0) {
        return Fail(OpensslError("cannot copy the OCSP nonce"));
    }
    // Responder id by key hash; the CA's certificate is not repeated (the client has it).
    if (OCSP_basic_sign(basic.get(), cert_.get(), key_.get(), EVP_sha256(), nullptr,
                        OCSP_RESPID_KEY | OCSP_NOCERTS) != 1) {
        return Fail(OpensslError("cannot sign the OCSP response"));
    }
    OcspResponsePtr response(OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, basic.get()));
    if (!response) return Fail(OpensslError("cannot build the OCSP response"));
    return ToDer(response.get(), i2d_OCSP_RESPONSE, "cannot encode the OCSP response");
}

}  // namespace firmo::crypto
