#pragma once
// A private working folder for one piece of file work (the PDFs of a signing, a renewal, a
// report): made fresh in the system's temporary folder by mkdtemp (mode 0700, a name no other
// process holds, never a folder that already existed) and removed with its contents on every
// path out. A name made from the caller's clock and random source is not enough: two processes
// with the same seed (the tests) or a folder made beforehand would share it, and the first to
// finish would remove the other's files.

#include <filesystem>
#include <string_view>
#include <utility>

#include "core/error.hpp"

namespace firmo {

class ScratchDir {
  public:
    // A new folder "<tmp>/<prefix>-XXXXXX".
    [[nodiscard]] static Result<ScratchDir> Create(std::string_view prefix);
    ScratchDir(ScratchDir&& other) noexcept : path_(std::exchange(other.path_, {})) {}
    ScratchDir& operator=(ScratchDir&&) = delete;
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    ~ScratchDir();

    const std::filesystem::path& path() const { return path_; }

  private:
    explicit ScratchDir(std::filesystem::path path) : path_(std::move(path)) {}
    std::filesystem::path path_;
};

}  // namespace firmo
