#include "crypto/digest.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <stdexcept>

#include "crypto/openssl_util.hpp"

namespace firmo::crypto {

namespace {
using MdCtxPtr = OpensslPtr<EVP_MD_CTX, EVP_MD_CTX_free>;

void Check(int ok, const char* what) {
    // These only fail on allocation failure or a broken OpenSSL build.
    if (ok != 1) throw std::runtime_error(what);
}
}  // namespace

std::string Sha256(std::string_view data) {
    std::string out(32, '\0');
    unsigned int len = 0;
    Check(EVP_Digest(data.data(), data.size(), reinterpret_cast<unsigned char*>(out.data()), &len,
                     EVP_sha256(), nullptr),
          "EVP_Digest");
    return out;
}

std::string HmacSha256(std::string_view key, std::string_view data) {
    std::string out(32, '\0');
    unsigned int len = 0;
    const unsigned char* r = HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
                                  reinterpret_cast<const unsigned char*>(data.data()), data.size(),
                                  reinterpret_cast<unsigned char*>(out.data()), &len);
    if (r == nullptr) throw std::runtime_error("HMAC");
    return out;
}

struct Sha256Stream::Impl {
    MdCtxPtr ctx{EVP_MD_CTX_new()};
};

Sha256Stream::Sha256Stream() : impl_(std::make_unique<Impl>()) {
    if (!impl_->ctx) throw std::bad_alloc();
    Check(EVP_DigestInit_ex(impl_->ctx.get(), EVP_sha256(), nullptr), "EVP_DigestInit_ex");
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
    Check(EVP_DigestInit_ex(impl_->ctx.get(), EVP_sha256(), nullptr), "EVP_DigestInit_ex");
    return out;
}

}  // namespace firmo::crypto
