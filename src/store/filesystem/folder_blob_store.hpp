#pragma once
// Blob store on a local folder (the embedded default). Keys map to relative paths; writes go
// to a temporary file that is fsynced and renamed into place, so a crash never leaves half a
// document under a key.

#include <filesystem>

#include "domain/ports/blob_store.hpp"

namespace firmo::store {

class FolderBlobStore final : public domain::BlobStore {
  public:
    explicit FolderBlobStore(std::filesystem::path root);

    Result<domain::BlobInfo> Put(const std::string& key, std::string_view bytes) override;
    Result<std::string> Get(const std::string& key) override;
    Result<void> WithLocalFile(
        const std::string& key,
        const std::function<void(const std::filesystem::path&)>& use) override;
    Result<void> Remove(const std::string& key) override;
    Result<std::optional<domain::BlobInfo>> Stat(const std::string& key) override;

  private:
    Result<std::filesystem::path> PathFor(const std::string& key) const;
    std::filesystem::path root_;
};

}  // namespace firmo::store
