#include "crypto/timestamp.hpp"

#include <openssl/err.h>
#include <openssl/ts.h>

#include "crypto/digest.hpp"
#include "crypto/http_fetch.hpp"
#include "crypto/openssl_util.hpp"

namespace firmo::crypto {
namespace {

using TsReqPtr = OpensslPtr<TS_REQ, TS_REQ_free>;
using TsRespPtr = OpensslPtr<TS_RESP, TS_RESP_free>;
using TsImprintPtr = OpensslPtr<TS_MSG_IMPRINT, TS_MSG_IMPRINT_free>;
using AlgorPtr = OpensslPtr<X509_ALGOR, X509_ALGOR_free>;
constexpr int kNonceBytes = 8;

}  // namespace

HttpTimestampAuthority::HttpTimestampAuthority(std::string url, std::chrono::milliseconds timeout)
    : url_(std::move(url)), timeout_(timeout) {}

Result<std::string> HttpTimestampAuthority::Exchange(std::string_view request) {
    return HttpFetch(url_, "application/timestamp-query", request, timeout_,
                     "time-stamp authority");
}

Result<std::string> RequestTimestampToken(TimestampAuthority& tsa, std::string_view sha256,
                                          Random& random) {
    TsReqPtr request(TS_REQ_new());
    TsImprintPtr imprint(TS_MSG_IMPRINT_new());
    AlgorPtr algorithm(X509_ALGOR_new());
    std::string nonce_bytes = random.Bytes(kNonceBytes);
    nonce_bytes[0] = static_cast<char>(static_cast<unsigned char>(nonce_bytes[0]) & 0x7F);
    BignumPtr nonce_bn(BN_bin2bn(reinterpret_cast<const unsigned char*>(nonce_bytes.data()),
                                 kNonceBytes, nullptr));
    Asn1IntegerPtr nonce(nonce_bn ? BN_to_ASN1_INTEGER(nonce_bn.get(), nullptr) : nullptr);
    if (!request || !imprint || !algorithm || !nonce ||
        X509_ALGOR_set0(algorithm.get(), OBJ_nid2obj(NID_sha256), V_ASN1_NULL, nullptr) != 1 ||
        TS_MSG_IMPRINT_set_algo(imprint.get(), algorithm.get()) != 1 ||
        TS_MSG_IMPRINT_set_msg(imprint.get(),
                               reinterpret_cast<unsigned char*>(const_cast<char*>(sha256.data())),
                               static_cast<int>(sha256.size())) != 1 ||
        TS_REQ_set_version(request.get(), 1) != 1 ||
        TS_REQ_set_msg_imprint(request.get(), imprint.get()) != 1 ||
        TS_REQ_set_nonce(request.get(), nonce.get()) != 1 ||
        TS_REQ_set_cert_req(request.get(), 1) != 1) {
        return Fail(OpensslError("cannot build a time-stamp request"));
    }
    FIRMO_TRY(std::string request_der, ToDer(request.get(), i2d_TS_REQ, "cannot encode request"));
    FIRMO_TRY(std::string response_der, tsa.Exchange(request_der));

    const auto* p = reinterpret_cast<const unsigned char*>(response_der.data());
    TsRespPtr response(d2i_TS_RESP(nullptr, &p, static_cast<long>(response_der.size())));
    if (!response) {
        ERR_clear_error();
        return Fail(ErrorCode::kUnavailable, "the time-stamp authority sent no valid response");
    }
    long status =
        ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(TS_RESP_get_status_info(response.get())));
    // 0 granted, 1 granted with modifications.
    if (status != 0 && status != 1) {
        return Fail(
            ErrorCode::kUnavailable,
            "the time-stamp authority refused the request (status " + std::to_string(status) + ")");
    }
    TS_TST_INFO* info = TS_RESP_get_tst_info(response.get());
    PKCS7* token = TS_RESP_get_token(response.get());
    if (info == nullptr || token == nullptr) {
        return Fail(ErrorCode::kUnavailable, "the time-stamp response carries no token");
    }
    ASN1_OCTET_STRING* stamped = TS_MSG_IMPRINT_get_msg(TS_TST_INFO_get_msg_imprint(info));
    const ASN1_INTEGER* stamped_nonce = TS_TST_INFO_get_nonce(info);
    if (stamped == nullptr ||
        std::string_view(reinterpret_cast<const char*>(ASN1_STRING_get0_data(stamped)),
                         static_cast<std::size_t>(ASN1_STRING_length(stamped))) != sha256 ||
        stamped_nonce == nullptr || ASN1_INTEGER_cmp(stamped_nonce, nonce.get()) != 0) {
        return Fail(ErrorCode::kUnavailable, "the time-stamp token does not match the request");
    }
    return ToDer(token, i2d_PKCS7, "cannot encode the time-stamp token");
}

Result<std::string> AddSignatureTimestamp(std::string_view cms_der, TimestampAuthority& tsa,
                                          Random& random) {
    const auto* p = reinterpret_cast<const unsigned char*>(cms_der.data());
    CmsPtr cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(cms_der.size())));
    auto* infos = cms ? CMS_get0_SignerInfos(cms.get()) : nullptr;
    if (infos == nullptr || sk_CMS_SignerInfo_num(infos) != 1) {
        ERR_clear_error();
        return Fail(ErrorCode::kInvalidArgument, "not a CMS SignedData with one signer");
    }
    CMS_SignerInfo* si = sk_CMS_SignerInfo_value(infos, 0);
    ASN1_OCTET_STRING* signature = CMS_SignerInfo_get0_signature(si);
    std::string value(reinterpret_cast<const char*>(ASN1_STRING_get0_data(signature)),
                      static_cast<std::size_t>(ASN1_STRING_length(signature)));
    FIRMO_TRY(std::string token, RequestTimestampToken(tsa, Sha256(value), random));
    // The token is a complete DER SEQUENCE, stored as the attribute value verbatim.
    if (CMS_unsigned_add1_attr_by_NID(si, NID_id_smime_aa_timeStampToken, V_ASN1_SEQUENCE,
                                      token.data(), static_cast<int>(token.size())) != 1) {
        return Fail(OpensslError("cannot add the time-stamp to the signature"));
    }
    return ToDer(cms.get(), i2d_CMS_ContentInfo, "cannot encode the signature");
}

TimestampingSession::TimestampingSession(std::unique_ptr<domain::SigningSession> inner,
                                         std::shared_ptr<TimestampAuthority> tsa, Random& random,
                                         std::size_t token_reserve)
    : inner_(std::move(inner)),
      tsa_(std::move(tsa)),
      random_(random),
      token_reserve_(token_reserve) {}

Result<std::string> TimestampingSession::SignDigest(std::string_view sha256) {
    FIRMO_TRY(std::string cms, inner_->SignDigest(sha256));
    return AddSignatureTimestamp(cms, *tsa_, random_);
}

std::size_t TimestampingSession::MaxSignatureSize() const {
    return inner_->MaxSignatureSize() + token_reserve_;
}

}  // namespace firmo::crypto
