#pragma once
// For tests: a fresh directory, unique across processes (ctest runs tests in parallel), removed
// with everything in it when the object goes away.

#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <string>

namespace firmo::testing {

class TempDir {
  public:
    explicit TempDir(const std::string& prefix = "firmo-test") {
        std::string pattern =
            (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
        if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::filesystem::path& path() const { return path_; }

  private:
    std::filesystem::path path_;
};

}  // namespace firmo::testing
