#include "crypto/hasher.hpp"

#include "core/encoding.hpp"
#include "crypto/digest.hpp"

namespace firmo::crypto {

std::string OpenSslHasher::Sha256Hex(std::string_view data) const {
    return HexEncode(Sha256(data));
}

}  // namespace firmo::crypto
