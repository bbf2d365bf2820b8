#include "crypto/seal.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "crypto/openssl_util.hpp"

namespace firmo::crypto {

namespace {

using CipherCtxPtr = OpensslPtr<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>;
constexpr std::size_t kNonce = 12;
constexpr std::size_t kTag = 16;

const unsigned char* Bytes(std::string_view s) {
    return reinterpret_cast<const unsigned char*>(s.data());
}
unsigned char* Bytes(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }
int Length(std::string_view s) { return static_cast<int>(s.size()); }

}  // namespace

Result<std::string> Seal(std::string_view key, std::string_view plaintext,
                         std::string_view context) {
    if (key.size() != 32) return Fail(ErrorCode::kInternal, "seal: the key must be 32 bytes");
    std::string out(kNonce + plaintext.size() + kTag, '\0');
    if (RAND_bytes(Bytes(out), static_cast<int>(kNonce)) != 1) {
        return Fail(OpensslError("seal: RAND_bytes"));
    }
    CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
    int len = 0;
    auto* cipher = Bytes(out) + kNonce;
    if (!ctx ||
        EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, Bytes(key), Bytes(out)) != 1 ||
        EVP_EncryptUpdate(ctx.get(), nullptr, &len, Bytes(context), Length(context)) != 1 ||
        EVP_EncryptUpdate(ctx.get(), cipher, &len, Bytes(plaintext), Length(plaintext)) != 1 ||
        EVP_EncryptFinal_ex(ctx.get(), cipher + len, &len) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTag),
                            cipher + plaintext.size()) != 1) {
        return Fail(OpensslError("seal"));
    }
    return out;
}

Result<std::string> Open(std::string_view key, std::string_view sealed, std::string_view context) {
    if (key.size() != 32) return Fail(ErrorCode::kInternal, "open: the key must be 32 bytes");
    if (sealed.size() < kNonce + kTag) {
        return Fail(ErrorCode::kInvalidArgument, "open: too short to be sealed");
    }
    const auto nonce = sealed.substr(0, kNonce);
    const auto cipher = sealed.substr(kNonce, sealed.size() - kNonce - kTag);
    std::string tag(sealed.substr(sealed.size() - kTag));
    std::string out(cipher.size(), '\0');
    CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
    int len = 0;
    if (!ctx ||
        EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, Bytes(key), Bytes(nonce)) != 1 ||
        EVP_DecryptUpdate(ctx.get(), nullptr, &len, Bytes(context), Length(context)) != 1 ||
        EVP_DecryptUpdate(ctx.get(), Bytes(out), &len, Bytes(cipher), Length(cipher)) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTag), Bytes(tag)) !=
            1) {
        return Fail(OpensslError("open"));
    }
    if (EVP_DecryptFinal_ex(ctx.get(), Bytes(out) + len, &len) != 1) {
        ERR_clear_error();
        return Fail(ErrorCode::kForbidden, "open: wrong key or context, or an altered value");
    }
    return out;
}

}  // namespace firmo::crypto
