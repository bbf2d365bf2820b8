#include "crypto/digest.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>

#include <new>
#include <stdexcept>

#include "crypto/openssl_util.hpp"

namespace firmo::crypto {

namespace {
using MdCtxPtr = OpensslPtr<EVP_MD_CTX, EVP_MD_CTX_free>;

void Check(int ok, const char* what) {
    // These only fail on allocation failure or a broken OpenSSL build.
    if (ok != 1) throw std::runtime_error(what);
}

// SHA-256 fetched once: EVP_sha256() makes every EVP_DigestInit look the algorithm up again.
const EVP_MD* FetchedSha256() {
    using MdPtr = OpensslPtr<EVP_MD, EVP_MD_free>;
    static const MdPtr md(EVP_MD_fetch(nullptr, "SHA256", nullptr));
    if (!md) throw std::runtime_error("EVP_MD_fetch SHA256");
    return md.get();
}
}  // namespace

std::string Sha256(std::string_view data) {
    // A fetched algorithm and a context per thread: EVP_Digest(..., EVP_sha256()) looks the
    // algorithm up and allocates a context at every call, which cost more than hashing an API
    // key (hashed on every authenticated request).
    thread_local const MdCtxPtr ctx(EVP_MD_CTX_new());
    if (!ctx) throw std::bad_alloc();
    std::string out(32, '\0');
    unsigned int len = 0;
    Check(EVP_DigestInit_ex2(ctx.get(), FetchedSha256(), nullptr), "EVP_DigestInit_ex2");
    Check(EVP_DigestUpdate(ctx.get(), data.data(), data.size()), "EVP_DigestUpdate");
    Check(EVP_DigestFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len),
          "EVP_DigestFinal_ex");
    return out;
}

std::string Md5(std::string_view data) {
    std::string out(16, '\0');
    unsigned int len = 0;
    Check(EVP_Digest(data.data(), data.size(), reinterpret_cast<unsigned char*>(out.data()), &len,
                     EVP_md5(), nullptr),
          "EVP_Digest");
    return out;
}

namespace {

using MacPtr = OpensslPtr<EVP_MAC, EVP_MAC_free>;
using MacCtxPtr = OpensslPtr<EVP_MAC_CTX, EVP_MAC_CTX_free>;

// An HMAC-SHA256 context per thread, keyed with the last key it was given. HMAC() looks the
// algorithms up in OpenSSL's provider store at every call, which cost more than the MAC of a
// short message (URL signatures are computed several times per API response); re-initialising
// a keyed context with the same key only resets its state.
class ThreadHmac {
  public:
    ThreadHmac() {
        static const MacPtr mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
        if (!mac) throw std::runtime_error("EVP_MAC_fetch HMAC");
        ctx_.reset(EVP_MAC_CTX_new(mac.get()));
        if (!ctx_) throw std::bad_alloc();
        char digest[] = "SHA256";
        const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest, 0),
                                     OSSL_PARAM_construct_end()};
        Check(EVP_MAC_CTX_set_params(ctx_.get(), params), "EVP_MAC_CTX_set_params");
    }
    ~ThreadHmac() { OPENSSL_cleanse(key_.data(), key_.size()); }

    std::string Mac(std::string_view key, std::string_view data) {
        if (!keyed_ || key != key_) {
            OPENSSL_cleanse(key_.data(), key_.size());
            keyed_ = false;
            Check(EVP_MAC_init(ctx_.get(), reinterpret_cast<const unsigned char*>(key.data()),
                               key.size(), nullptr),
                  "EVP_MAC_init");
            key_.assign(key);
            keyed_ = true;
        } else {
            Check(EVP_MAC_init(ctx_.get(), nullptr, 0, nullptr), "EVP_MAC_init");
        }
        Check(EVP_MAC_update(ctx_.get(), reinterpret_cast<const unsigned char*>(data.data()),
                             data.size()),
              "EVP_MAC_update");
        std::string out(32, '\0');
        std::size_t len = 0;
        Check(EVP_MAC_final(ctx_.get(), reinterpret_cast<unsigned char*>(out.data()), &len,
                            out.size()),
              "EVP_MAC_final");
        out.resize(len);
        return out;
    }

  private:
    MacCtxPtr ctx_;
    std::string key_;
    bool keyed_ = false;
};

}  // namespace

std::string HmacSha256(std::string_view key, std::string_view data) {
    thread_local ThreadHmac hmac;
    return hmac.Mac(key, data);
}

struct Sha256Stream::Impl {
    MdCtxPtr ctx{EVP_MD_CTX_new()};
};

Sha256Stream::Sha256Stream() : impl_(std::make_unique<Impl>()) {
    if (!impl_->ctx) throw std::bad_alloc();
    Check(EVP_DigestInit_ex2(impl_->ctx.get(), FetchedSha256(), nullptr), "EVP_DigestInit_ex2");
}
Sha256Stream::~Sha256Stream() = default;

void Sha256Stream::Update(std::string_view data) {
    Check(EVP_DigestUpdate(impl_->ctx.get(), data.data(), data.size()), "EVP_DigestUpdate");
}

std::string Sha256Stream::Finish() {
    std::string out(32, '\0');
    unsigned int len = 0;
    Check(EVP_DigestFinal_ex(impl_->ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len),
          "EVP_DigestFinal_ex");
    Check(EVP_DigestInit_ex2(impl_->ctx.get(), FetchedSha256(), nullptr), "EVP_DigestInit_ex2");
    return out;
}

}  // namespace firmo::crypto
