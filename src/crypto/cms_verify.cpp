#include "crypto/cms_verify.hpp"

#include <openssl/err.h>
#include <openssl/ess.h>
#include <openssl/ts.h>

#include <chrono>
#include <fstream>
#include <sstream>

namespace firmo::crypto {
namespace {

using EssV2Ptr = OpensslPtr<ESS_SIGNING_CERT_V2, ESS_SIGNING_CERT_V2_free>;
using EssV1Ptr = OpensslPtr<ESS_SIGNING_CERT, ESS_SIGNING_CERT_free>;
using MdCtxPtr = OpensslPtr<EVP_MD_CTX, EVP_MD_CTX_free>;
using Pkcs7Ptr = OpensslPtr<PKCS7, PKCS7_free>;
using TstInfoPtr = OpensslPtr<TS_TST_INFO, TS_TST_INFO_free>;
using TsVerifyCtxPtr = OpensslPtr<TS_VERIFY_CTX, TS_VERIFY_CTX_free>;

CMS_SignerInfo* FirstSigner(CMS_ContentInfo* cms) {
    auto* infos = CMS_get0_SignerInfos(cms);
    if (infos == nullptr || sk_CMS_SignerInfo_num(infos) != 1) return nullptr;
    return sk_CMS_SignerInfo_value(infos, 0);
}

const EVP_MD* SignerDigest(CMS_SignerInfo* si) {
    X509_ALGOR* digest = nullptr;
    CMS_SignerInfo_get0_algs(si, nullptr, nullptr, &digest, nullptr);
    if (digest == nullptr) return nullptr;
    const ASN1_OBJECT* oid = nullptr;
    X509_ALGOR_get0(&oid, nullptr, nullptr, digest);
    return EVP_get_digestbynid(OBJ_obj2nid(oid));
}

// The signer's signature over `digest` itself (a SignerInfo without signed attributes):
// RSA PKCS#1 v1.5 over the DigestInfo, or (EC)DSA over the digest.
bool VerifyOverDigest(CMS_SignerInfo* si, X509* signer, std::string_view digest) {
    const EVP_MD* md = SignerDigest(si);
    EVP_PKEY* key = X509_get0_pubkey(signer);
    ASN1_OCTET_STRING* signature = CMS_SignerInfo_get0_signature(si);
    if (md == nullptr || key == nullptr || signature == nullptr ||
        digest.size() != static_cast<std::size_t>(EVP_MD_get_size(md))) {
        return false;
    }
    X509_ALGOR* sig_alg = nullptr;
    CMS_SignerInfo_get0_algs(si, nullptr, nullptr, nullptr, &sig_alg);
    const ASN1_OBJECT* oid = nullptr;
    if (sig_alg != nullptr) X509_ALGOR_get0(&oid, nullptr, nullptr, sig_alg);
    if (oid != nullptr && OBJ_obj2nid(oid) == NID_rsassaPss) return false;  // needs its params
    OpensslPtr<EVP_PKEY_CTX, EVP_PKEY_CTX_free> ctx(EVP_PKEY_CTX_new(key, nullptr));
    bool ok =
        ctx && EVP_PKEY_verify_init(ctx.get()) == 1 &&
        EVP_PKEY_CTX_set_signature_md(ctx.get(), md) == 1 &&
        EVP_PKEY_verify(ctx.get(), ASN1_STRING_get0_data(signature),
                        static_cast<std::size_t>(ASN1_STRING_length(signature)),
                        reinterpret_cast<const unsigned char*>(digest.data()), digest.size()) == 1;
    ERR_clear_error();
    return ok;
}

X509StorePtr StoreOf(const TrustAnchors& anchors) {
    X509StorePtr store(X509_STORE_new());
    for (int i = 0; store && i < sk_X509_num(anchors.certificates()); ++i) {
        X509_STORE_add_cert(store.get(), sk_X509_value(anchors.certificates(), i));
    }
    return store;
}

// An RFC 3161 token: readable, its message imprint the digest (with the token's algorithm) of
// `pieces`, its signature and TSA chain good up to `anchors` (at the current time).
struct TokenCheck {
    bool readable = false;
    bool imprint_matches = false;
    bool valid = false;  // signature and chain
    std::optional<Timestamp> time;
    std::string authority;  // the TSA certificate's subject
    std::string authority_common_name;
    ChainAtTime chain;  // the TSA's, at `at` (only when `at` was given)
};

TokenCheck CheckToken(std::string_view der, const std::vector<std::string_view>& pieces,
                      const TrustAnchors& anchors, std::optional<Timestamp> at,
                      const ValidationMaterial* material) {
    TokenCheck out;
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    Pkcs7Ptr token(d2i_PKCS7(nullptr, &p, static_cast<long>(der.size())));
    TstInfoPtr info(token ? PKCS7_to_TS_TST_INFO(token.get()) : nullptr);
    if (!token || !info) {
        ERR_clear_error();
        return out;
    }
    out.readable = true;
    out.time = TimestampOf(TS_TST_INFO_get_time(info.get()));
    STACK_OF(PKCS7_SIGNER_INFO)* signers = PKCS7_get_signer_info(token.get());
    if (signers != nullptr && sk_PKCS7_SIGNER_INFO_num(signers) == 1) {
        X509* tsa =
            PKCS7_cert_from_signer_info(token.get(), sk_PKCS7_SIGNER_INFO_value(signers, 0));
        if (tsa != nullptr) {
            out.authority = NameToString(X509_get_subject_name(tsa));
            out.authority_common_name = NameEntry(X509_get_subject_name(tsa), NID_commonName);
        }
    }
    TS_MSG_IMPRINT* imprint = TS_TST_INFO_get_msg_imprint(info.get());
    const ASN1_OBJECT* oid = nullptr;
    X509_ALGOR_get0(&oid, nullptr, nullptr, TS_MSG_IMPRINT_get_algo(imprint));
    const EVP_MD* md = EVP_get_digestbynid(OBJ_obj2nid(oid));
    MdCtxPtr md_ctx(EVP_MD_CTX_new());
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;
    if (md != nullptr && md_ctx && EVP_DigestInit_ex(md_ctx.get(), md, nullptr) == 1) {
        for (auto piece : pieces) EVP_DigestUpdate(md_ctx.get(), piece.data(), piece.size());
        if (EVP_DigestFinal_ex(md_ctx.get(), digest, &digest_len) == 1) {
            ASN1_OCTET_STRING* stamped = TS_MSG_IMPRINT_get_msg(imprint);
            out.imprint_matches =
                stamped != nullptr &&
                std::string_view(reinterpret_cast<const char*>(ASN1_STRING_get0_data(stamped)),
                                 static_cast<std::size_t>(ASN1_STRING_length(stamped))) ==
                    std::string_view(reinterpret_cast<const char*>(digest), digest_len);
        }
    }
    TsVerifyCtxPtr ctx(TS_VERIFY_CTX_new());
    X509StorePtr store = StoreOf(anchors);
    if (ctx && store) {
        // The store's time is the time the TSA's chain is checked at (the context inherits
        // it), and the embedded certificates may complete the chain.
        if (at) {
            X509_VERIFY_PARAM_set_time(
                X509_STORE_get0_param(store.get()),
                static_cast<time_t>(
                    std::chrono::duration_cast<std::chrono::seconds>(at->time_since_epoch())
                        .count()));
        }
        if (material != nullptr && !material->certificates.empty()) {
            X509StackPtr extra(sk_X509_new_null());
            for (const auto& cert_der : material->certificates) {
                if (auto cert = CertificateFromDer(cert_der)) {
                    sk_X509_push(extra.get(), cert->release());
                }
            }
            TS_VERIFY_CTX_set_certs(ctx.get(), extra.release());  // the context owns them
        }
        TS_VERIFY_CTX_set_flags(ctx.get(), TS_VFY_VERSION | TS_VFY_SIGNATURE);
        TS_VERIFY_CTX_set_store(ctx.get(), store.release());  // the context owns it now
        out.valid = TS_RESP_verify_token(ctx.get(), token.get()) == 1;
    }
    if (out.valid && at) {
        STACK_OF(PKCS7_SIGNER_INFO)* infos = PKCS7_get_signer_info(token.get());
        X509* tsa = PKCS7_cert_from_signer_info(token.get(), sk_PKCS7_SIGNER_INFO_value(infos, 0));
        const ValidationMaterial none;
        out.chain =
            CheckChainAt(tsa, token->d.sign->cert, anchors, material != nullptr ? *material : none,
                         *at, ChainPurpose::kTimestamping, out.time);
        if (out.chain.revoked_at) out.valid = false;
    }
    ERR_clear_error();
    return out;
}

// The signature-time-stamp attribute: token over the signature value (RFC 3161,
// EN 319 122-1 5.3), verified with the token's own certificates up to `anchors`.
void CheckTimestamp(CMS_SignerInfo* si, const TrustAnchors& anchors, const CmsCheckTimes& times,
                    CmsVerification& v) {
    int index = CMS_unsigned_get_attr_by_NID(si, NID_id_smime_aa_timeStampToken, -1);
    if (index < 0) return;
    v.timestamped = true;
    ASN1_TYPE* value = X509_ATTRIBUTE_get0_type(CMS_unsigned_get_attr(si, index), 0);
    if (value == nullptr || value->type != V_ASN1_SEQUENCE) {
        v.problems.push_back("the signature time-stamp cannot be read");
        return;
    }
    ASN1_OCTET_STRING* signature = CMS_SignerInfo_get0_signature(si);
    TokenCheck token = CheckToken(
        std::string_view(
            reinterpret_cast<const char*>(ASN1_STRING_get0_data(value->value.sequence)),
            static_cast<std::size_t>(ASN1_STRING_length(value->value.sequence))),
        {std::string_view(reinterpret_cast<const char*>(ASN1_STRING_get0_data(signature)),
                          static_cast<std::size_t>(ASN1_STRING_length(signature)))},
        anchors, times.timestamp, times.material);
    if (!token.readable) {
        v.problems.push_back("the signature time-stamp cannot be read");
        return;
    }
    v.timestamp_valid = token.imprint_matches && token.valid;
    v.timestamp_time = token.time;
    v.timestamp_authority = token.authority;
    v.timestamp_chain = token.chain;
    if (token.chain.revoked_at) {
        v.problems.push_back("the signature time-stamp's authority certificate was revoked on " +
                             FormatRfc3339(*token.chain.revoked_at));
    } else if (!v.timestamp_valid) {
        v.problems.push_back("the signature time-stamp is not valid");
    }
}

}  // namespace

TrustAnchors::TrustAnchors()
    : certs_(sk_X509_new_null(), [](STACK_OF(X509) * s) { sk_X509_pop_free(s, X509_free); }) {}

Result<TrustAnchors> TrustAnchors::FromPem(std::string_view pem) {
    FIRMO_TRY(X509StackPtr certs, CertificatesFromPem(pem));
    TrustAnchors anchors;
    while (sk_X509_num(certs.get()) > 0)
        sk_X509_push(anchors.certs_.get(), sk_X509_shift(certs.get()));
    return anchors;
}

Result<TrustAnchors> TrustAnchors::FromFiles(const std::vector<std::filesystem::path>& pem_files) {
    std::string all;
    for (const auto& path : pem_files) {
        std::ifstream in(path);
        if (!in) return Fail(ErrorCode::kNotFound, "cannot read " + path.string());
        std::ostringstream s;
        s << in.rdbuf();
        all += s.str() + "\n";
    }
    return FromPem(all);
}

std::size_t TrustAnchors::size() const {
    return static_cast<std::size_t>(sk_X509_num(certs_.get()));
}

Result<DetachedCms> DetachedCms::Parse(std::string_view der) {
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    // The /Contents string is zero-padded after the DER; d2i reads one object and stops.
    CmsPtr cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(der.size())));
    ERR_clear_error();
    if (!cms || OBJ_obj2nid(CMS_get0_type(cms.get())) != NID_pkcs7_signed) {
        return Fail(ErrorCode::kMalformed, "the signature is not a CMS SignedData");
    }
    CMS_SignerInfo* si = FirstSigner(cms.get());
    if (si == nullptr) return Fail(ErrorCode::kMalformed, "the CMS must have exactly one signer");
    if (SignerDigest(si) == nullptr) {
        return Fail(ErrorCode::kMalformed, "unsupported digest algorithm in the signature");
    }
    return DetachedCms(std::move(cms));
}

std::string DetachedCms::DigestName() const {
    const EVP_MD* md = SignerDigest(FirstSigner(cms_.get()));
    return md != nullptr ? EVP_MD_get0_name(md) : "";
}

Result<std::string> DetachedCms::DigestOf(const std::vector<std::string_view>& pieces) const {
    const EVP_MD* md = SignerDigest(FirstSigner(cms_.get()));
    MdCtxPtr ctx(EVP_MD_CTX_new());
    if (!ctx || md == nullptr || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1) {
        return Fail(OpensslError("cannot start digest"));
    }
    for (auto piece : pieces) EVP_DigestUpdate(ctx.get(), piece.data(), piece.size());
    std::string out(static_cast<std::size_t>(EVP_MD_get_size(md)), '\0');
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len) != 1) {
        return Fail(OpensslError("cannot finish digest"));
    }
    return out;
}

CmsVerification DetachedCms::Verify(std::string_view content_digest, const TrustAnchors& anchors,
                                    Timestamp claimed_time,
                                    std::optional<Timestamp> forced_time) const {
    return Verify(content_digest, anchors,
                  CmsCheckTimes{.signer = forced_time, .without_timestamp = claimed_time});
}

CmsVerification DetachedCms::Verify(std::string_view content_digest, const TrustAnchors& anchors,
                                    const CmsCheckTimes& times) const {
    CmsVerification v;
    CMS_SignerInfo* si = FirstSigner(cms_.get());
    X509StackPtr certs(CMS_get1_certs(cms_.get()));
    X509* signer = nullptr;
    for (int i = 0; certs && i < sk_X509_num(certs.get()); ++i) {
        if (CMS_SignerInfo_cert_cmp(si, sk_X509_value(certs.get(), i)) == 0) {
            signer = sk_X509_value(certs.get(), i);
            break;
        }
    }
    if (signer == nullptr) {
        v.problems.push_back("the signer's certificate is not included in the signature");
        ERR_clear_error();
        return v;
    }
    v.signer_subject = NameToString(X509_get_subject_name(signer));
    v.signer_common_name = NameEntry(X509_get_subject_name(signer), NID_commonName);
    v.signer_serial_number = NameEntry(X509_get_subject_name(signer), NID_serialNumber);
    v.signer_certificate_der = CertificateToDer(signer).value_or("");

    CMS_SignerInfo_set1_signer_cert(si, signer);
    v.has_signed_attributes = CMS_signed_get_attr_count(si) > 0;
    if (v.has_signed_attributes) {
        v.signature_valid = CMS_SignerInfo_verify(si) == 1;
        auto* md = static_cast<ASN1_OCTET_STRING*>(CMS_signed_get0_data_by_OBJ(
            si, OBJ_nid2obj(NID_pkcs9_messageDigest), -3, V_ASN1_OCTET_STRING));
        v.digest_matches =
            md != nullptr &&
            std::string_view(reinterpret_cast<const char*>(ASN1_STRING_get0_data(md)),
                             static_cast<std::size_t>(ASN1_STRING_length(md))) == content_digest;
    } else {
        // RFC 5652 5.4: without signed attributes the signature is over the content itself,
        // so it verifies against the content's digest, and only if that digest is right.
        v.signature_valid = VerifyOverDigest(si, signer, content_digest);
        v.digest_matches = v.signature_valid;
    }
    if (!v.signature_valid) v.problems.push_back("the signature value does not verify");
    if (!v.digest_matches) {
        v.problems.push_back("the document's digest does not match the signed digest");
    }
    int st_index = CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime, -1);
    if (st_index >= 0) {
        X509_ATTRIBUTE* attr = CMS_signed_get_attr(si, st_index);
        ASN1_TYPE* value = X509_ATTRIBUTE_get0_type(attr, 0);
        if (value != nullptr &&
            (value->type == V_ASN1_UTCTIME || value->type == V_ASN1_GENERALIZEDTIME)) {
            v.cms_signing_time =
                TimestampOf(reinterpret_cast<const ASN1_TIME*>(value->value.asn1_string));
        }
    }

    // ESS signing-certificate-v2 (or v1, which adbe.pkcs7 producers may use) binds the
    // certificate to the signature, so it cannot be swapped for another with the same key.
    X509StackPtr chain_first(sk_X509_new_null());
    sk_X509_push(chain_first.get(), X509_dup(signer));
    for (int i = 0; i < sk_X509_num(certs.get()); ++i) {
        if (sk_X509_value(certs.get(), i) != signer) {
            sk_X509_push(chain_first.get(), X509_dup(sk_X509_value(certs.get(), i)));
        }
    }
    auto ess_blob = [&](int nid) -> std::string_view {
        auto* seq = static_cast<ASN1_STRING*>(
            CMS_signed_get0_data_by_OBJ(si, OBJ_nid2obj(nid), -3, V_ASN1_SEQUENCE));
        if (seq == nullptr) return {};
        return {reinterpret_cast<const char*>(ASN1_STRING_get0_data(seq)),
                static_cast<std::size_t>(ASN1_STRING_length(seq))};
    };
    std::string_view v2_der = ess_blob(NID_id_smime_aa_signingCertificateV2);
    std::string_view v1_der = ess_blob(NID_id_smime_aa_signingCertificate);
    const auto* p2 = reinterpret_cast<const unsigned char*>(v2_der.data());
    const auto* p1 = reinterpret_cast<const unsigned char*>(v1_der.data());
    EssV2Ptr v2(v2_der.empty()
                    ? nullptr
                    : d2i_ESS_SIGNING_CERT_V2(nullptr, &p2, static_cast<long>(v2_der.size())));
    EssV1Ptr v1(v1_der.empty()
                    ? nullptr
                    : d2i_ESS_SIGNING_CERT(nullptr, &p1, static_cast<long>(v1_der.size())));
    if (!v.has_signed_attributes) {
        // Nothing to bind the certificate with; the caller decides whether the format needs it.
    } else if (!v1 && !v2) {
        v.problems.push_back("no signing-certificate attribute binds the certificate");
    } else if (OSSL_ESS_check_signing_certs(v1.get(), v2.get(), chain_first.get(), 1) != 1) {
        v.problems.push_back("the signing-certificate attribute names another certificate");
    } else {
        v.signing_certificate_ok = true;
    }

    CheckTimestamp(si, anchors, times, v);
    const Timestamp at = times.signer.value_or(
        v.timestamp_valid && v.timestamp_time ? *v.timestamp_time : times.without_timestamp);
    const ValidationMaterial none;
    v.chain_time = at;
    v.chain = CheckChainAt(signer, certs.get(), anchors,
                           times.material != nullptr ? *times.material : none, at,
                           ChainPurpose::kSigning);
    v.chain_trusted = v.chain.trusted && !v.chain.revoked_at;
    v.chain_error = v.chain.error;
    if (!v.chain.trusted) {
        v.problems.push_back(
            "the certificate chain is not trusted: " +
            (v.chain_error.empty() ? std::string("no trust anchor") : v.chain_error));
    } else if (v.chain.revoked_at) {
        v.problems.push_back("the signer's certificate was revoked on " +
                             FormatRfc3339(*v.chain.revoked_at) + ", before " + FormatRfc3339(at) +
                             ", the time the signature is proven to exist");
    }
    std::uint32_t usage = X509_get_key_usage(signer);
    if (usage != UINT32_MAX && (usage & (KU_NON_REPUDIATION | KU_DIGITAL_SIGNATURE)) == 0) {
        v.problems.push_back("the signer's certificate is not for signing (key usage)");
    }
    ERR_clear_error();
    return v;
}

CmsVerification VerifyTimestampToken(std::string_view token_der,
                                     const std::vector<std::string_view>& pieces,
                                     const TrustAnchors& anchors, std::optional<Timestamp> at,
                                     const ValidationMaterial* material) {
    CmsVerification v;
    v.timestamped = true;
    TokenCheck token = CheckToken(token_der, pieces, anchors, at, material);
    v.chain_time = at;
    v.chain = v.timestamp_chain = token.chain;
    if (!token.readable) {
        v.problems.push_back("the document time-stamp cannot be read");
        return v;
    }
    v.has_signed_attributes = true;
    v.digest_matches = token.imprint_matches;
    v.signature_valid = v.chain_trusted = token.valid;
    v.signing_certificate_ok = token.valid;
    v.timestamp_valid = token.imprint_matches && token.valid;
    v.timestamp_time = token.time;
    v.timestamp_authority = token.authority;
    v.signer_subject = token.authority;
    v.signer_common_name = token.authority_common_name;
    if (!v.digest_matches) {
        v.problems.push_back("the document's digest does not match the time-stamped digest");
    }
    if (token.chain.revoked_at) {
        v.problems.push_back("the document time-stamp's authority certificate was revoked on " +
                             FormatRfc3339(*token.chain.revoked_at));
    } else if (!token.valid) {
        v.problems.push_back(
            "the document time-stamp's signature or authority is not valid or not trusted");
    }
    return v;
}

}  // namespace firmo::crypto
