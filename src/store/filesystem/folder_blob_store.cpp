#include "store/filesystem/folder_blob_store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/encoding.hpp"
#include "core/log.hpp"
#include "crypto/digest.hpp"

namespace firmo::store {

namespace fs = std::filesystem;

FolderBlobStore::FolderBlobStore(fs::path root) : root_(std::move(root)) {}

Result<fs::path> FolderBlobStore::PathFor(const std::string& key) const {
    // Keys are made by Firmo, but check anyway: nothing may escape the root.
    if (key.empty() || key.size() > 512 || key.front() == '/' ||
        key.find("..") != std::string::npos) {
        return Fail(ErrorCode::kInternal, "invalid blob key");
    }
    for (char c : key) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                        (c >= '0' && c <= '9') || c == '/' || c == '-' || c == '_' || c == '.';
        if (!ok) return Fail(ErrorCode::kInternal, "invalid blob key");
    }
    return root_ / key;
}

namespace {

// The path and the OS error go to the log; the caller (and so a client) sees a plain message.
Error IoError(const std::string& what, const fs::path& path) {
    log::Error("blob_io_failed",
               {{"op", what}, {"path", path.string()}, {"error", std::strerror(errno)}});
    return Error{ErrorCode::kUnavailable, "document storage is unavailable"};
}

}  // namespace

Result<domain::BlobInfo> FolderBlobStore::Put(const std::string& key, std::string_view bytes) {
    FIRMO_TRY(fs::path path, PathFor(key));
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    if (ec) {
        errno = ec.value();
        return Fail(IoError("cannot create", path.parent_path()));
    }
    static std::atomic<unsigned> counter{0};
    const fs::path tmp =
        path.string() + ".tmp" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return Fail(IoError("cannot create", tmp));
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            Error e = IoError("cannot write", tmp);
            ::close(fd);
            ::unlink(tmp.c_str());
            return Fail(std::move(e));
        }
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
        Error e = IoError("cannot sync", tmp);
        ::unlink(tmp.c_str());
        return Fail(std::move(e));
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        Error e = IoError("cannot rename into", path);
        ::unlink(tmp.c_str());
        return Fail(std::move(e));
    }
    return domain::BlobInfo{static_cast<std::int64_t>(bytes.size()),
                            HexEncode(crypto::Sha256(bytes))};
}

Result<std::string> FolderBlobStore::Get(const std::string& key) {
    FIRMO_TRY(fs::path path, PathFor(key));
    std::ifstream in(path, std::ios::binary);
    if (!in) return Fail(ErrorCode::kNotFound, "no blob " + key);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

Result<void> FolderBlobStore::WithLocalFile(const std::string& key,
                                            const std::function<void(const fs::path&)>& use) {
    FIRMO_TRY(fs::path path, PathFor(key));
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) return Fail(ErrorCode::kNotFound, "no blob " + key);
    use(path);
    return {};
}

Result<void> FolderBlobStore::Remove(const std::string& key) {
    FIRMO_TRY(fs::path path, PathFor(key));
    std::error_code ec;
    fs::remove(path, ec);
    if (ec) {
        errno = ec.value();
        return Fail(IoError("cannot remove", path));
    }
    return {};
}

Result<std::optional<domain::BlobInfo>> FolderBlobStore::Stat(const std::string& key) {
    FIRMO_TRY(fs::path path, PathFor(key));
    std::error_code ec;
    const auto size = fs::file_size(path, ec);
    if (ec == std::errc::no_such_file_or_directory) return std::optional<domain::BlobInfo>();
    if (ec) {
        errno = ec.value();
        return Fail(IoError("cannot read", path));
    }
    return std::make_optional(domain::BlobInfo{static_cast<std::int64_t>(size), ""});
}

}  // namespace firmo::store
