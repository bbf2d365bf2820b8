#include "core/scratch_dir.hpp"

#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace firmo {

Result<ScratchDir> ScratchDir::Create(std::string_view prefix) {
    std::error_code ec;
    const auto tmp = std::filesystem::temp_directory_path(ec);
    if (ec) return Fail(ErrorCode::kInternal, "no temporary folder: " + ec.message());
    std::string pattern = (tmp / (std::string(prefix) + "-XXXXXX")).string();
    if (::mkdtemp(pattern.data()) == nullptr) {
        return Fail(ErrorCode::kInternal, "cannot create " + pattern + ": " + std::strerror(errno));
    }
    return ScratchDir(std::filesystem::path(pattern));
}

ScratchDir::~ScratchDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
}

}  // namespace firmo
