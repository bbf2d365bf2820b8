#pragma once
// Port: where document bytes live (originals and signed copies). The local-folder adapter is
// the embedded default; an S3 adapter serves several nodes. Writes are atomic: a reader sees
// the whole blob or none.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace firmo::domain {

struct BlobInfo {
    std::int64_t size = 0;
    std::string sha256_hex;
};

class BlobStore {
  public:
    virtual ~BlobStore() = default;
    BlobStore() = default;
    BlobStore(const BlobStore&) = delete;
    BlobStore& operator=(const BlobStore&) = delete;

    [[nodiscard]] virtual Result<BlobInfo> Put(const std::string& key, std::string_view bytes) = 0;
    [[nodiscard]] virtual Result<std::string> Get(const std::string& key) = 0;
    // A local file holding the blob for the duration of `use` (the blob itself for the folder
    // store, a temporary copy for remote stores), for tools that want a path (qpdf).
    [[nodiscard]] virtual Result<void> WithLocalFile(
        const std::string& key, const std::function<void(const std::filesystem::path&)>& use) = 0;
    [[nodiscard]] virtual Result<void> Remove(const std::string& key) = 0;
};

}  // namespace firmo::domain
