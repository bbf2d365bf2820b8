#include "store/filesystem/folder_blob_store.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "core/testing/temp_dir.hpp"

namespace firmo::store {
namespace {

class FolderBlobStoreTest : public ::testing::Test {
  protected:
    firmo::testing::TempDir dir_{"firmo-blobs"};
    std::filesystem::path root_ = dir_.path() / "root";
};

TEST_F(FolderBlobStoreTest, PutGetRemove) {
    FolderBlobStore store(root_);
    auto info = store.Put("requests/a/b.pdf", "%PDF-1.7 hello");
    ASSERT_TRUE(info);
    EXPECT_EQ(info->size, 14);
    EXPECT_EQ(info->sha256_hex.size(), 64u);
    EXPECT_EQ(store.Get("requests/a/b.pdf"), std::string("%PDF-1.7 hello"));
    std::string seen;
    ASSERT_TRUE(store.WithLocalFile("requests/a/b.pdf", [&](const std::filesystem::path& p) {
        std::ifstream in(p);
        std::getline(in, seen);
    }));
    EXPECT_EQ(seen, "%PDF-1.7 hello");
    ASSERT_TRUE(store.Remove("requests/a/b.pdf"));
    EXPECT_EQ(store.Get("requests/a/b.pdf").error().code, ErrorCode::kNotFound);
    // No temporary files are left behind.
    for (const auto& e : std::filesystem::recursive_directory_iterator(root_)) {
        EXPECT_TRUE(e.is_directory()) << e.path();
    }
}

TEST_F(FolderBlobStoreTest, RefusesKeysThatEscapeTheRoot) {
    FolderBlobStore store(root_);
    for (const char* key : {"../etc/passwd", "/abs", "", "a/../../b", "sp ace", "nul\n"}) {
        EXPECT_FALSE(store.Put(key, "x")) << key;
    }
}

}  // namespace
}  // namespace firmo::store
