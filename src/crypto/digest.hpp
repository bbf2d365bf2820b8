#pragma once
// Hashes and MACs used for API keys, upload/download URL signatures and document digests.
// Thin wrappers over OpenSSL's EVP interfaces; return raw bytes (use HexEncode to print).

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace firmo::crypto {

std::string Sha256(std::string_view data);
// MD5, only to check a client's Content-MD5 (Azure block-blob uploads); never for security.
std::string Md5(std::string_view data);
std::string HmacSha256(std::string_view key, std::string_view data);
// Compares in time independent of where the first difference is.

// Incremental SHA-256 for streams (documents are hashed without being held in memory).
class Sha256Stream {
  public:
    Sha256Stream();
    ~Sha256Stream();
    Sha256Stream(const Sha256Stream&) = delete;
    Sha256Stream& operator=(const Sha256Stream&) = delete;
    void Update(std::string_view data);
    std::string Finish();  // raw 32 bytes; the stream is then reset

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace firmo::crypto
