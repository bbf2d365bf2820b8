#pragma once
// Port: where document bytes live (originals and signed copies). The local-folder adapter is
// the embedded default; an S3 adapter serves several nodes. Writes are atomic: a reader sees
// the whole blob or none.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
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
    // The size of a blob, or nothing when there is none (sha256_hex stays empty: remote stores
    // cannot tell it without reading the blob).
    [[nodiscard]] virtual Result<std::optional<BlobInfo>> Stat(const std::string& key) = 0;

    // Direct client access without passing through Firmo (S3 pre-signed URLs). Stores that
    // cannot hand out such URLs say so with kInternal; callers check SupportsDirectUrls().
    virtual bool SupportsDirectUrls() const { return false; }
    // A URL to PUT the blob at `key`, with exactly `content_type`, until `ttl` has passed.
    [[nodiscard]] virtual Result<std::string> DirectUploadUrl(const std::string& key,
                                                              std::chrono::seconds ttl,
                                                              std::string_view content_type);
    // A URL to GET the blob at `key` until `ttl` has passed; the answer carries `content_type`
    // and offers to save it as `filename`.
    [[nodiscard]] virtual Result<std::string> DirectDownloadUrl(const std::string& key,
                                                                std::chrono::seconds ttl,
                                                                std::string_view content_type,
                                                                std::string_view filename);
};

inline Result<std::string> BlobStore::DirectUploadUrl(const std::string&, std::chrono::seconds,
                                                      std::string_view) {
    return Fail(ErrorCode::kInternal, "this document store has no direct upload URLs");
}

inline Result<std::string> BlobStore::DirectDownloadUrl(const std::string&, std::chrono::seconds,
                                                        std::string_view, std::string_view) {
    return Fail(ErrorCode::kInternal, "this document store has no direct download URLs");
}

}  // namespace firmo::domain
