#include "crypto/validation_data.hpp"

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include <algorithm>

#include "crypto/http_fetch.hpp"

namespace firmo::crypto {

void ValidationData::Append(const ValidationData& other) {
    auto add = [](std::vector<std::string>& to, const std::vector<std::string>& from) {
        for (const auto& item : from) {
            if (std::find(to.begin(), to.end(), item) == to.end()) to.push_back(item);
        }
    };
    add(certificates, other.certificates);
    add(ocsp_responses, other.ocsp_responses);
    add(crls, other.crls);
}

namespace {

using OcspRequestPtr = OpensslPtr<OCSP_REQUEST, OCSP_REQUEST_free>;
using OcspResponsePtr = OpensslPtr<OCSP_RESPONSE, OCSP_RESPONSE_free>;
using CrlPtr = OpensslPtr<X509_CRL, X509_CRL_free>;
using InfoAccessPtr = OpensslPtr<AUTHORITY_INFO_ACCESS, AUTHORITY_INFO_ACCESS_free>;
using DistPointsPtr = OpensslPtr<CRL_DIST_POINTS, CRL_DIST_POINTS_free>;

// Signature-time-stamp tokens nest at most once in practice; the bound only stops a hostile
// file from recursing.
constexpr int kMaxNesting = 4;

void AddOnce(std::vector<std::string>& list, std::string der) {
    if (std::find(list.begin(), list.end(), der) == list.end()) list.push_back(std::move(der));
}

Result<void> CollectCertificates(std::string_view der, int depth, std::vector<std::string>& out) {
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    CmsPtr cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(der.size())));
    if (!cms || OBJ_obj2nid(CMS_get0_type(cms.get())) != NID_pkcs7_signed) {
        ERR_clear_error();
        return Fail(ErrorCode::kMalformed, "not a CMS SignedData");
    }
    X509StackPtr certs(CMS_get1_certs(cms.get()));
    for (int i = 0; certs && i < sk_X509_num(certs.get()); ++i) {
        FIRMO_TRY(std::string c, CertificateToDer(sk_X509_value(certs.get(), i)));
        AddOnce(out, std::move(c));
    }
    if (depth >= kMaxNesting) return {};
    STACK_OF(CMS_SignerInfo)* infos = CMS_get0_SignerInfos(cms.get());
    for (int i = 0; infos != nullptr && i < sk_CMS_SignerInfo_num(infos); ++i) {
        CMS_SignerInfo* si = sk_CMS_SignerInfo_value(infos, i);
        for (int at = CMS_unsigned_get_attr_by_NID(si, NID_id_smime_aa_timeStampToken, -1); at >= 0;
             at = CMS_unsigned_get_attr_by_NID(si, NID_id_smime_aa_timeStampToken, at)) {
            ASN1_TYPE* value = X509_ATTRIBUTE_get0_type(CMS_unsigned_get_attr(si, at), 0);
            if (value == nullptr || value->type != V_ASN1_SEQUENCE) continue;
            FIRMO_CHECK(CollectCertificates(
                std::string_view(
                    reinterpret_cast<const char*>(ASN1_STRING_get0_data(value->value.sequence)),
                    static_cast<std::size_t>(ASN1_STRING_length(value->value.sequence))),
                depth + 1, out));
        }
    }
    ERR_clear_error();
    return {};
}

std::string SubjectOf(X509* cert) {
    char buffer[256];
    X509_NAME_oneline(X509_get_subject_name(cert), buffer, sizeof buffer);
    return buffer;
}

bool Issued(X509* issuer, X509* subject) {
    const bool issued = X509_check_issued(issuer, subject) == X509_V_OK;
    ERR_clear_error();
    return issued;
}

// The first URI of an AIA entry of `method` (OCSP or caIssuers).
std::string AccessUrl(X509* cert, int method) {
    InfoAccessPtr info(static_cast<AUTHORITY_INFO_ACCESS*>(
        X509_get_ext_d2i(cert, NID_info_access, nullptr, nullptr)));
    for (int i = 0; info && i < sk_ACCESS_DESCRIPTION_num(info.get()); ++i) {
        ACCESS_DESCRIPTION* ad = sk_ACCESS_DESCRIPTION_value(info.get(), i);
        if (OBJ_obj2nid(ad->method) == method && ad->location->type == GEN_URI) {
            const ASN1_IA5STRING* uri = ad->location->d.uniformResourceIdentifier;
            return {reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                    static_cast<std::size_t>(ASN1_STRING_length(uri))};
        }
    }
    return {};
}

std::string CrlUrl(X509* cert) {
    DistPointsPtr points(static_cast<CRL_DIST_POINTS*>(
        X509_get_ext_d2i(cert, NID_crl_distribution_points, nullptr, nullptr)));
    for (int i = 0; points && i < sk_DIST_POINT_num(points.get()); ++i) {
        DIST_POINT* dp = sk_DIST_POINT_value(points.get(), i);
        if (dp->distpoint == nullptr || dp->distpoint->type != 0) continue;
        GENERAL_NAMES* names = dp->distpoint->name.fullname;
        for (int j = 0; j < sk_GENERAL_NAME_num(names); ++j) {
            GENERAL_NAME* name = sk_GENERAL_NAME_value(names, j);
            if (name->type != GEN_URI) continue;
            const ASN1_IA5STRING* uri = name->d.uniformResourceIdentifier;
            return {reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                    static_cast<std::size_t>(ASN1_STRING_length(uri))};
        }
    }
    return {};
}

Result<std::string> OcspRequestFor(X509* cert, X509* issuer) {
    OcspRequestPtr request(OCSP_REQUEST_new());
    OCSP_CERTID* id = OCSP_cert_to_id(EVP_sha1(), cert, issuer);
    if (!request || id == nullptr || OCSP_request_add0_id(request.get(), id) == nullptr) {
        OCSP_CERTID_free(id);
        return Fail(OpensslError("cannot build an OCSP request"));
    }
    return ToDer(request.get(), i2d_OCSP_REQUEST, "cannot encode an OCSP request");
}

Result<void> CheckOcspResponse(std::string_view der, X509* cert) {
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    OcspResponsePtr response(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(der.size())));
    if (!response || OCSP_response_status(response.get()) != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
        ERR_clear_error();
        return Fail(ErrorCode::kUnavailable,
                    "the OCSP responder gave no successful answer for " + SubjectOf(cert));
    }
    return {};
}

Result<void> CheckCrl(std::string_view der, X509* cert) {
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    CrlPtr crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size())));
    if (!crl) {
        ERR_clear_error();
        return Fail(ErrorCode::kUnavailable, "the CRL for " + SubjectOf(cert) + " is not a CRL");
    }
    return {};
}

}  // namespace

Result<std::vector<std::string>> CertificatesInSignature(std::string_view cms) {
    std::vector<std::string> out;
    FIRMO_CHECK(CollectCertificates(cms, 0, out));
    return out;
}

Result<ValidationData> ValidationDataCollector::Collect(
    const std::vector<std::string>& certificates, const std::vector<std::string>& stored) const {
    ValidationData data;
    std::vector<X509Ptr> pool;
    // Issuers only: their status is already in the DSS, or they are not in `certificates`.
    std::vector<X509Ptr> known;
    for (const auto& der : stored) {
        FIRMO_TRY(X509Ptr cert, CertificateFromDer(der));
        known.push_back(std::move(cert));
    }
    for (const auto& der : certificates) {
        if (std::find(data.certificates.begin(), data.certificates.end(), der) !=
            data.certificates.end()) {
            continue;
        }
        FIRMO_TRY(X509Ptr cert, CertificateFromDer(der));
        data.certificates.push_back(der);
        pool.push_back(std::move(cert));
    }
    bool local_crl = false;
    // Grows while missing issuers are fetched; indices stay valid.
    for (std::size_t i = 0; i < pool.size(); ++i) {
        X509* cert = pool[i].get();
        if (Issued(cert, cert)) continue;  // a root: trusted or not, nothing revokes it
        X509* issuer = nullptr;
        for (const auto* list : {&pool, &known}) {
            for (const auto& candidate : *list) {
                if (issuer == nullptr && candidate.get() != cert && Issued(candidate.get(), cert)) {
                    issuer = candidate.get();
                }
            }
        }
        if (issuer == nullptr && options_.local.certificate != nullptr &&
            Issued(options_.local.certificate, cert)) {
            FIRMO_TRY(std::string der, CertificateToDer(options_.local.certificate));
            FIRMO_TRY(X509Ptr copy, CertificateFromDer(der));
            data.certificates.push_back(std::move(der));
            issuer = copy.get();
            pool.push_back(std::move(copy));
        }
        if (issuer == nullptr) {
            const std::string url = AccessUrl(cert, NID_ad_ca_issuers);
            if (url.empty()) {
                return Fail(ErrorCode::kUnavailable,
                            "the issuer of " + SubjectOf(cert) + " is unknown");
            }
            FIRMO_TRY(std::string der,
                      HttpFetch(url, "", "", options_.http_timeout, "issuer certificate download"));
            auto fetched = CertificateFromDer(der);
            if (!fetched || !Issued(fetched->get(), cert)) {
                return Fail(ErrorCode::kUnavailable,
                            "no issuer certificate for " + SubjectOf(cert) + " at " + url);
            }
            issuer = fetched->get();
            data.certificates.push_back(std::move(der));
            pool.push_back(std::move(*fetched));
            cert = pool[i].get();
        }

        const bool ours = options_.local.certificate != nullptr &&
                          X509_cmp(issuer, options_.local.certificate) == 0;
        FIRMO_TRY(std::string request, OcspRequestFor(cert, issuer));
        if (ours) {
            auto answer = options_.local.ocsp(request);
            if (answer) {
                FIRMO_CHECK(CheckOcspResponse(*answer, cert));
                AddOnce(data.ocsp_responses, std::move(*answer));
                local_crl = local_crl || static_cast<bool>(options_.local.crl);
                continue;
            }
            // Not answered here: asked where the certificate says, like any other.
            if (answer.error().code != ErrorCode::kNotFound) return Fail(answer.error());
        }
        if (const std::string url = AccessUrl(cert, NID_ad_OCSP); !url.empty()) {
            FIRMO_TRY(std::string answer, HttpFetch(url, "application/ocsp-request", request,
                                                    options_.http_timeout, "OCSP responder"));
            FIRMO_CHECK(CheckOcspResponse(answer, cert));
            AddOnce(data.ocsp_responses, std::move(answer));
        } else if (const std::string crl_url = CrlUrl(cert); !crl_url.empty()) {
            FIRMO_TRY(std::string crl,
                      HttpFetch(crl_url, "", "", options_.http_timeout, "CRL download"));
            FIRMO_CHECK(CheckCrl(crl, cert));
            AddOnce(data.crls, std::move(crl));
        } else {
            return Fail(ErrorCode::kUnavailable,
                        "the certificate of " + SubjectOf(cert) +
                            " names no OCSP responder and no CRL: its status cannot be proven");
        }
    }
    if (local_crl) {
        FIRMO_TRY(std::string crl, options_.local.crl());
        data.crls.push_back(std::move(crl));
    }
    return data;
}

}  // namespace firmo::crypto
