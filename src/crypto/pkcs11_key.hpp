#pragma once
// Private keys kept in a PKCS#11 token (an HSM; SoftHSM2 in tests), used through OpenSSL's
// pkcs11 engine (Debian libengine-pkcs11-openssl): the key never leaves the token, OpenSSL
// signs through it like with any EVP_PKEY.

#include <memory>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "crypto/openssl_util.hpp"

namespace firmo::crypto {

// Owns the engine the key was loaded from; the EVP_PKEY must not outlive it.
struct Pkcs11Key {
    std::shared_ptr<void> engine;  // ENGINE*, finished and freed with the last owner
    PkeyPtr key;
};

// `uri`: an RFC 7512 PKCS#11 URI of the private key, e.g.
// "pkcs11:token=firmo;object=ca;type=private" (without a PIN); `pin` logs in to the token.
// `module`: the PKCS#11 library (e.g. /usr/lib/softhsm/libsofthsm2.so); empty lets the
// engine use p11-kit's configured modules.
[[nodiscard]] Result<Pkcs11Key> LoadPkcs11Key(std::string_view uri, std::string_view pin,
                                              const std::string& module);

}  // namespace firmo::crypto
