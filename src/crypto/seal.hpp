#pragma once
// Authenticated encryption of small values kept at rest (AES-256-GCM, random 96-bit nonce):
// sealed = nonce || ciphertext || tag. `context` is bound to the value (authenticated, not
// stored): opening under another context fails like a wrong key. Used for recorded answers
// that carry a bearer secret (see api/frontend.cpp).

#include <string>
#include <string_view>

#include "core/error.hpp"

namespace firmo::crypto {

// `key`: 32 bytes.
[[nodiscard]] Result<std::string> Seal(std::string_view key, std::string_view plaintext,
                                       std::string_view context);
// kForbidden when the key or context is not the one it was sealed with, or the value was
// altered; kInvalidArgument when it is too short to be sealed.
[[nodiscard]] Result<std::string> Open(std::string_view key, std::string_view sealed,
                                       std::string_view context);

}  // namespace firmo::crypto
