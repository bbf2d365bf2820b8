#include "crypto/pkcs11_key.hpp"

#include "crypto/cms.hpp"

// The ENGINE API is deprecated in OpenSSL 3, but Debian 12 ships no pkcs11 provider, only the
// engine; this file is the one place that uses it.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#include <openssl/engine.h>
#include <openssl/err.h>

namespace firmo::crypto {

Result<Pkcs11Key> LoadPkcs11Key(std::string_view uri, std::string_view pin,
                                const std::string& module) {
    if (uri.rfind("pkcs11:", 0) != 0) {
        return Fail(ErrorCode::kInvalidArgument, "not a PKCS#11 URI: " + std::string(uri));
    }
    ENGINE_load_builtin_engines();
    ENGINE* raw = ENGINE_by_id("pkcs11");
    if (raw == nullptr) {
        return Fail(
            OpensslError("the OpenSSL pkcs11 engine is not installed "
                         "(libengine-pkcs11-openssl)"));
    }
    if (!module.empty() && ENGINE_ctrl_cmd_string(raw, "MODULE_PATH", module.c_str(), 0) != 1) {
        ENGINE_free(raw);
        return Fail(OpensslError("cannot use the PKCS#11 module " + module));
    }
    if (ENGINE_init(raw) != 1) {
        ENGINE_free(raw);
        return Fail(OpensslError("cannot initialise the pkcs11 engine"));
    }
    // From here the engine is released by its owners (init and structural references).
    std::shared_ptr<void> engine(raw, [](void* e) {
        ENGINE_finish(static_cast<ENGINE*>(e));
        ENGINE_free(static_cast<ENGINE*>(e));
    });
    // The PIN goes through the engine's PIN command, not the URI: libp11 prints the URI of a
    // key it cannot load, and a PIN must never reach a log.
    std::string pin_copy(pin);
    if (!pin_copy.empty() && ENGINE_ctrl_cmd_string(raw, "PIN", pin_copy.c_str(), 0) != 1) {
        OPENSSL_cleanse(pin_copy.data(), pin_copy.size());
        return Fail(OpensslError("cannot pass the PIN to the pkcs11 engine"));
    }
    OPENSSL_cleanse(pin_copy.data(), pin_copy.size());
    std::string uri_copy(uri);
    PkeyPtr key(ENGINE_load_private_key(raw, uri_copy.c_str(), nullptr, nullptr));
    if (!key) {
        return Fail(OpensslError("cannot load the key " + std::string(uri) + " (wrong PIN?)",
                                 ErrorCode::kUnauthenticated));
    }
    // The engine may hand out a key object without having logged in (a wrong PIN shows only
    // when signing), so prove the key usable now rather than at the first signature.
    if (!SignSha256(key.get(), std::string(32, '\x5a'))) {
        ERR_clear_error();
        return Fail(ErrorCode::kUnauthenticated,
                    "cannot sign with the key " + std::string(uri) + " (wrong PIN?)");
    }
    return Pkcs11Key{std::move(engine), std::move(key)};
}

}  // namespace firmo::crypto
#pragma GCC diagnostic pop
