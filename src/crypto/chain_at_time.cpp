#include "crypto/chain_at_time.hpp"

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include <algorithm>

#include "crypto/cms_verify.hpp"
#include "crypto/der.hpp"

namespace firmo::crypto {
namespace {

using OcspResponsePtr = OpensslPtr<OCSP_RESPONSE, OCSP_RESPONSE_free>;
using OcspBasicPtr = OpensslPtr<OCSP_BASICRESP, OCSP_BASICRESP_free>;
using OcspCertIdPtr = OpensslPtr<OCSP_CERTID, OCSP_CERTID_free>;
using CrlPtr = OpensslPtr<X509_CRL, X509_CRL_free>;

// Adobe's revocationInfoArchival (PDF 1.6+, ISO 32000-1 12.8.3.3.2).
constexpr const char* kAdobeRevocationOid = "1.2.840.113583.1.1.8";

time_t SecondsOf(Timestamp t) {
    return static_cast<time_t>(
        std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count());
}

// The consecutive TLVs of `content`; stops at the first malformed one.
std::vector<std::string_view> Elements(std::string_view content) {
    std::vector<std::string_view> out;
    while (!content.empty()) {
        std::size_t header = 0;
        std::size_t length = 0;
        if (!der::ReadHeader(content, &header, &length) || header + length > content.size()) break;
        out.push_back(content.substr(0, header + length));
        content.remove_prefix(header + length);
    }
    return out;
}

// The content of one TLV (empty when malformed).
std::string_view ContentOf(std::string_view tlv) {
    std::size_t header = 0;
    std::size_t length = 0;
    if (!der::ReadHeader(tlv, &header, &length) || header + length > tlv.size()) return {};
    return tlv.substr(header, length);
}

// A BasicOCSPResponse wrapped as a successful OCSPResponse, so the material holds one kind.
std::string WrapBasic(std::string_view basic_der) {
    const auto* p = reinterpret_cast<const unsigned char*>(basic_der.data());
    OcspBasicPtr basic(d2i_OCSP_BASICRESP(nullptr, &p, static_cast<long>(basic_der.size())));
    if (!basic) return {};
    OcspResponsePtr response(OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, basic.get()));
    if (!response) return {};
    return ToDer(response.get(), i2d_OCSP_RESPONSE, "OCSP response").value_or("");
}

// RevocationValues / RevocationInfoArchival: SEQUENCE { [0] EXPLICIT SEQUENCE OF CRL,
// [1] EXPLICIT SEQUENCE OF OCSP response, [2] other }.
void ReadRevocationValues(std::string_view der, bool basic_ocsp, ValidationMaterial& out) {
    for (std::string_view item : Elements(ContentOf(der))) {
        const auto tag = static_cast<unsigned char>(item.front());
        std::string_view list = ContentOf(ContentOf(item));
        if (tag == 0xA0) {
            for (auto crl : Elements(list)) out.crls.emplace_back(crl);
        } else if (tag == 0xA1) {
            for (auto ocsp : Elements(list)) {
                std::string response = basic_ocsp ? WrapBasic(ocsp) : std::string(ocsp);
                if (!response.empty()) out.ocsp_responses.push_back(std::move(response));
            }
        }
    }
}

std::string_view SequenceOf(ASN1_TYPE* value) {
    if (value == nullptr || value->type != V_ASN1_SEQUENCE) return {};
    return {reinterpret_cast<const char*>(ASN1_STRING_get0_data(value->value.sequence)),
            static_cast<std::size_t>(ASN1_STRING_length(value->value.sequence))};
}

// The revocation status of `cert` (issued by `issuer`) from the material: revoked (when), or
// good in a response or CRL that speaks for the time given.
struct Status {
    bool known = false;
    std::optional<Timestamp> revoked;
    std::string source;  // the DER it came from
};

// A response or CRL speaks for `at` when it was in force then or was issued later: a
// certificate once revoked stays revoked, so "good" issued later covers every earlier time.
bool Covers(const ASN1_TIME* this_update, const ASN1_TIME* next_update, Timestamp at) {
    auto from = TimestampOf(this_update);
    if (!from) return false;
    if (*from >= at) return true;
    auto until = TimestampOf(next_update);
    return until && at <= *until;
}

void Merge(Status& status, std::optional<Timestamp> revoked, const std::string& source) {
    if (revoked) {
        if (!status.revoked || *revoked < *status.revoked) {
            status.revoked = revoked;
            status.source = source;
        }
    } else if (!status.known) {
        status.source = source;
    }
    status.known = true;
}

void FromOcsp(X509* cert, X509* issuer, STACK_OF(X509) * pool, const std::string& der, Timestamp at,
              Status& status) {
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    OcspResponsePtr response(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(der.size())));
    if (!response || OCSP_response_status(response.get()) != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
        return;
    }
    OcspBasicPtr basic(OCSP_response_get1_basic(response.get()));
    if (!basic) return;
    // The signature with the responder's key; who the responder may be is checked below
    // (OCSP_NOVERIFY: OpenSSL would check the responder's chain at the current time).
    X509StackPtr certs(sk_X509_new_null());
    sk_X509_push(certs.get(), X509_dup(issuer));
    for (int i = 0; pool != nullptr && i < sk_X509_num(pool); ++i) {
        sk_X509_push(certs.get(), X509_dup(sk_X509_value(pool, i)));
    }
    X509StorePtr store(X509_STORE_new());
    if (OCSP_basic_verify(basic.get(), certs.get(), store.get(), OCSP_NOVERIFY) != 1) return;
    X509* responder = nullptr;
    if (OCSP_resp_get0_signer(basic.get(), &responder, certs.get()) != 1) return;
    // RFC 6960 4.2.2.2: the issuing CA itself, or a certificate it issued for OCSP signing.
    const bool authorised = X509_cmp(responder, issuer) == 0 ||
                            (X509_check_issued(issuer, responder) == X509_V_OK &&
                             (X509_get_extended_key_usage(responder) & XKU_OCSP_SIGN) != 0);
    if (!authorised) return;
    for (const EVP_MD* md : {EVP_sha1(), EVP_sha256()}) {
        OcspCertIdPtr id(OCSP_cert_to_id(md, cert, issuer));
        int state = 0;
        int reason = 0;
        ASN1_GENERALIZEDTIME* revoked_at = nullptr;
        ASN1_GENERALIZEDTIME* this_update = nullptr;
        ASN1_GENERALIZEDTIME* next_update = nullptr;
        if (!id || OCSP_resp_find_status(basic.get(), id.get(), &state, &reason, &revoked_at,
                                         &this_update, &next_update) != 1) {
            continue;
        }
        if (state == V_OCSP_CERTSTATUS_REVOKED) {
            auto when = TimestampOf(revoked_at);
            if (when) Merge(status, when, der);
        } else if (state == V_OCSP_CERTSTATUS_GOOD && Covers(this_update, next_update, at)) {
            Merge(status, std::nullopt, der);
        }
        return;
    }
}

void FromCrl(X509* cert, X509* issuer, const std::string& der, Timestamp at, Status& status) {
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    CrlPtr crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size())));
    if (!crl || X509_NAME_cmp(X509_CRL_get_issuer(crl.get()), X509_get_subject_name(issuer)) != 0 ||
        X509_CRL_verify(crl.get(), X509_get0_pubkey(issuer)) != 1) {
        return;
    }
    X509_REVOKED* entry = nullptr;
    if (X509_CRL_get0_by_cert(crl.get(), &entry, cert) == 1 && entry != nullptr) {
        auto when = TimestampOf(X509_REVOKED_get0_revocationDate(entry));
        if (when) Merge(status, when, der);
    } else if (Covers(X509_CRL_get0_lastUpdate(crl.get()), X509_CRL_get0_nextUpdate(crl.get()),
                      at)) {
        Merge(status, std::nullopt, der);
    }
}

}  // namespace

ChainAtTime CheckChainAt(X509* leaf, STACK_OF(X509) * untrusted, const TrustAnchors& anchors,
                         const ValidationMaterial& material, Timestamp at, ChainPurpose purpose,
                         std::optional<Timestamp> fresh_from) {
    ChainAtTime out;
    X509StackPtr pool(sk_X509_new_null());
    for (int i = 0; untrusted != nullptr && i < sk_X509_num(untrusted); ++i) {
        sk_X509_push(pool.get(), X509_dup(sk_X509_value(untrusted, i)));
    }
    for (const auto& der : material.certificates) {
        if (auto cert = CertificateFromDer(der)) sk_X509_push(pool.get(), cert->release());
    }
    X509StorePtr store(X509_STORE_new());
    for (int i = 0; store && i < sk_X509_num(anchors.certificates()); ++i) {
        X509_STORE_add_cert(store.get(), sk_X509_value(anchors.certificates(), i));
    }
    X509StoreCtxPtr ctx(X509_STORE_CTX_new());
    if (!store || !ctx || X509_STORE_CTX_init(ctx.get(), store.get(), leaf, pool.get()) != 1) {
        out.error = "cannot build the chain";
        ERR_clear_error();
        return out;
    }
    X509_STORE_CTX_set_time(ctx.get(), 0, SecondsOf(at));
    if (purpose == ChainPurpose::kTimestamping) {
        X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_TIMESTAMP_SIGN);
    }
    out.trusted = X509_verify_cert(ctx.get()) == 1;
    if (!out.trusted) {
        out.error = X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()));
        ERR_clear_error();
        return out;
    }
    X509StackPtr chain(X509_STORE_CTX_get1_chain(ctx.get()));
    const int n = chain ? sk_X509_num(chain.get()) : 0;
    for (int i = 0; i < n; ++i) {
        out.certificates.push_back(CertificateToDer(sk_X509_value(chain.get(), i)).value_or(""));
        auto not_after = TimestampOf(X509_get0_notAfter(sk_X509_value(chain.get(), i)));
        if (not_after && (!out.expires || *not_after < *out.expires)) out.expires = not_after;
    }
    out.revocation_known = true;
    // Every certificate below the anchor (the last of the chain).
    for (int i = 0; i + 1 < n; ++i) {
        X509* cert = sk_X509_value(chain.get(), i);
        X509* issuer = sk_X509_value(chain.get(), i + 1);
        Status status;
        for (const auto& der : material.ocsp_responses) {
            FromOcsp(cert, issuer, pool.get(), der, fresh_from.value_or(at), status);
        }
        for (const auto& der : material.crls) {
            FromCrl(cert, issuer, der, fresh_from.value_or(at), status);
        }
        if (!status.known) {
            out.revocation_known = false;
            continue;
        }
        out.used.insert(status.source);
        if (status.revoked && *status.revoked <= at) {
            if (!out.revoked_at || *status.revoked < *out.revoked_at)
                out.revoked_at = status.revoked;
        } else if (status.revoked) {
            out.revoked_after = status.revoked;
        }
    }
    ERR_clear_error();
    return out;
}

ValidationMaterial RevocationValuesOf(std::string_view cms_der) {
    ValidationMaterial out;
    const auto* p = reinterpret_cast<const unsigned char*>(cms_der.data());
    CmsPtr cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(cms_der.size())));
    auto* infos = cms ? CMS_get0_SignerInfos(cms.get()) : nullptr;
    if (infos == nullptr || sk_CMS_SignerInfo_num(infos) != 1) {
        ERR_clear_error();
        return out;
    }
    CMS_SignerInfo* si = sk_CMS_SignerInfo_value(infos, 0);
    OpensslPtr<ASN1_OBJECT, ASN1_OBJECT_free> adobe(OBJ_txt2obj(kAdobeRevocationOid, 1));
    int index = adobe ? CMS_signed_get_attr_by_OBJ(si, adobe.get(), -1) : -1;
    if (index >= 0) {
        ReadRevocationValues(
            SequenceOf(X509_ATTRIBUTE_get0_type(CMS_signed_get_attr(si, index), 0)), false, out);
    }
    index = CMS_unsigned_get_attr_by_NID(si, NID_id_smime_aa_ets_revocationValues, -1);
    if (index >= 0) {
        ReadRevocationValues(
            SequenceOf(X509_ATTRIBUTE_get0_type(CMS_unsigned_get_attr(si, index), 0)), true, out);
    }
    ERR_clear_error();
    return out;
}

}  // namespace firmo::crypto
