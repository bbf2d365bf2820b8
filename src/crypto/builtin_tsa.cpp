#include "crypto/builtin_tsa.hpp"

#include <openssl/err.h>
#include <openssl/ts.h>

#include "core/log.hpp"
#include "crypto/key_files.hpp"

namespace firmo::crypto {
namespace {

using TsReqPtr = OpensslPtr<TS_REQ, TS_REQ_free>;
using TsRespPtr = OpensslPtr<TS_RESP, TS_RESP_free>;
using TsRespCtxPtr = OpensslPtr<TS_RESP_CTX, TS_RESP_CTX_free>;
using Asn1ObjectPtr = OpensslPtr<ASN1_OBJECT, ASN1_OBJECT_free>;

constexpr int kSerialBytes = 16;

struct Callbacks {
    const Clock& clock;
    Random& random;
};

// TSTInfo.serialNumber: 16 random bytes, positive (RFC 3161: unique per TSA).
ASN1_INTEGER* NextSerial(TS_RESP_CTX* ctx, void* data) {
    auto* callbacks = static_cast<Callbacks*>(data);
    std::string bytes = callbacks->random.Bytes(kSerialBytes);
    bytes[0] = static_cast<char>((static_cast<unsigned char>(bytes[0]) & 0x7F) | 0x40);
    BignumPtr bn(
        BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()), kSerialBytes, nullptr));
    ASN1_INTEGER* serial = bn ? BN_to_ASN1_INTEGER(bn.get(), nullptr) : nullptr;
    if (serial == nullptr) {
        TS_RESP_CTX_set_status_info(ctx, TS_STATUS_REJECTION, "Error during serial generation.");
        TS_RESP_CTX_add_failure_info(ctx, TS_INFO_ADD_INFO_NOT_AVAILABLE);
    }
    return serial;
}

// TSTInfo.genTime from the injected clock (tests set it; the node uses the system's).
int Now(TS_RESP_CTX* /*ctx*/, void* data, long* sec, long* usec) {
    const auto now = static_cast<Callbacks*>(data)->clock.Now().time_since_epoch();
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(now);
    *sec = static_cast<long>(seconds.count());
    *usec = static_cast<long>(
        std::chrono::duration_cast<std::chrono::microseconds>(now - seconds).count());
    return 1;
}

}  // namespace

std::filesystem::path BuiltinTsa::KeyPath(const std::filesystem::path& data_dir) {
    return data_dir / "tsa" / "tsa-key.pem";
}

std::filesystem::path BuiltinTsa::CertificatePath(const std::filesystem::path& data_dir) {
    return data_dir / "tsa" / "tsa-cert.pem";
}

Result<std::shared_ptr<BuiltinTsa>> BuiltinTsa::LoadOrCreate(const std::filesystem::path& data_dir,
                                                             const CertificateAuthority& ca,
                                                             std::string_view passphrase,
                                                             const Clock& clock, Random& random,
                                                             const TsaOptions& options) {
    X509Ptr ca_cert(X509_dup(ca.certificate()));
    if (!ca_cert) return Fail(OpensslError("out of memory"));
    auto key_pem = ReadWholeFile(KeyPath(data_dir));
    if (!key_pem) {
        FIRMO_TRY(PkeyPtr key, GenerateKey(ca.options().key_type));
        FIRMO_TRY(X509Ptr cert,
                  ca.IssueTimestampingCertificate(key.get(), options.certificate_validity, clock,
                                                  random, options.urls));
        FIRMO_TRY(std::string new_key_pem, PrivateKeyToPem(key.get(), passphrase));
        FIRMO_TRY(std::string cert_pem, CertificateToPem(cert.get()));
        auto published = PublishFolder(data_dir, "tsa",
                                       {{KeyPath(data_dir).filename(), new_key_pem, 0600},
                                        {CertificatePath(data_dir).filename(), cert_pem, 0644}});
        OPENSSL_cleanse(new_key_pem.data(), new_key_pem.size());
        if (published) {
            log::Info("tsa_created", {{"certificate", CertificatePath(data_dir).string()}});
            return std::shared_ptr<BuiltinTsa>(new BuiltinTsa(std::move(key), std::move(cert),
                                                              std::move(ca_cert),
                                                              options.policy_oid, clock, random));
        }
        if (published.error().code != ErrorCode::kAlreadyExists) {
            return tl::unexpected(published.error());
        }
        // Another node made it first: use that one.
        FIRMO_TRY(key_pem, ReadWholeFile(KeyPath(data_dir)));
    }
    FIRMO_TRY(PkeyPtr key, PrivateKeyFromPem(*key_pem, passphrase));
    OPENSSL_cleanse(key_pem->data(), key_pem->size());
    FIRMO_TRY(std::string cert_pem, ReadWholeFile(CertificatePath(data_dir)));
    FIRMO_TRY(X509StackPtr certs, CertificatesFromPem(cert_pem));
    X509Ptr cert(X509_dup(sk_X509_value(certs.get(), 0)));
    if (!cert || X509_check_private_key(cert.get(), key.get()) != 1) {
        return Fail(OpensslError("the time-stamping certificate does not match its key"));
    }
    if (X509_check_issued(ca_cert.get(), cert.get()) != X509_V_OK) {
        return Fail(ErrorCode::kConflict,
                    CertificatePath(data_dir).string() + " was not issued by this node's CA");
    }
    return std::shared_ptr<BuiltinTsa>(new BuiltinTsa(
        std::move(key), std::move(cert), std::move(ca_cert), options.policy_oid, clock, random));
}

Result<std::string> BuiltinTsa::Respond(std::string_view query) const {
    {
        const auto* p = reinterpret_cast<const unsigned char*>(query.data());
        TsReqPtr parsed(d2i_TS_REQ(nullptr, &p, static_cast<long>(query.size())));
        if (!parsed || p != reinterpret_cast<const unsigned char*>(query.data()) + query.size()) {
            ERR_clear_error();
            return Fail(ErrorCode::kMalformed, "the body is not a DER TimeStampReq");
        }
    }
    Callbacks callbacks{clock_, random_};
    TsRespCtxPtr ctx(TS_RESP_CTX_new());
    Asn1ObjectPtr policy(OBJ_txt2obj(policy_oid_.c_str(), 1));
    X509StackPtr chain(sk_X509_new_null());
    if (!ctx || !policy || !chain || sk_X509_push(chain.get(), ca_cert_.get()) == 0) {
        return Fail(OpensslError("out of memory"));
    }
    X509_up_ref(ca_cert_.get());  // the stack owns one reference
    if (TS_RESP_CTX_set_signer_cert(ctx.get(), cert_.get()) != 1 ||
        TS_RESP_CTX_set_signer_key(ctx.get(), key_.get()) != 1 ||
        TS_RESP_CTX_set_certs(ctx.get(), chain.get()) != 1 ||
        TS_RESP_CTX_set_def_policy(ctx.get(), policy.get()) != 1 ||
        TS_RESP_CTX_add_md(ctx.get(), EVP_sha256()) != 1 ||
        TS_RESP_CTX_add_md(ctx.get(), EVP_sha384()) != 1 ||
        TS_RESP_CTX_add_md(ctx.get(), EVP_sha512()) != 1 ||
        TS_RESP_CTX_set_signer_digest(ctx.get(), EVP_sha256()) != 1 ||
        // signingCertificateV2 (ESSCertIDv2, SHA-256), as ETSI EN 319 422 asks.
        TS_RESP_CTX_set_ess_cert_id_digest(ctx.get(), EVP_sha256()) != 1 ||
        TS_RESP_CTX_set_accuracy(ctx.get(), 1, 0, 0) != 1) {
        return Fail(OpensslError("cannot set up the time-stamp authority"));
    }
    TS_RESP_CTX_set_serial_cb(ctx.get(), NextSerial, &callbacks);
    TS_RESP_CTX_set_time_cb(ctx.get(), Now, &callbacks);
    BioPtr in(BIO_new_mem_buf(query.data(), static_cast<int>(query.size())));
    TsRespPtr response(in ? TS_RESP_create_response(ctx.get(), in.get()) : nullptr);
    if (!response) return Fail(OpensslError("cannot create a time-stamp response"));
    return ToDer(response.get(), i2d_TS_RESP, "cannot encode the time-stamp response");
}

Result<std::string> BuiltinTsa::ChainPem() const {
    FIRMO_TRY(std::string tsa, CertificateToPem(cert_.get()));
    FIRMO_TRY(std::string ca, CertificateToPem(ca_cert_.get()));
    return tsa + ca;
}

}  // namespace firmo::crypto
