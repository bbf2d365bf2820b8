#include "store/filesystem/shared_counter.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

namespace firmo::store {

namespace {

constexpr std::size_t kSize = sizeof(std::uint64_t);

std::string Why(const std::filesystem::path& path, const char* step) {
    return std::string("shared counter ") + path.string() + ": " + step + ": " +
           std::strerror(errno);
}

}  // namespace

Result<std::unique_ptr<SharedFileCounter>> SharedFileCounter::Open(
    const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return Fail(ErrorCode::kUnavailable, Why(path, "open"));
    struct stat st {};
    // Growing a new (empty) file to 8 bytes of zeros is idempotent: several processes may do
    // it at once, and a file already in use is never shrunk.
    if (::fstat(fd, &st) != 0 ||
        (st.st_size < static_cast<off_t>(kSize) && ::ftruncate(fd, kSize) != 0)) {
        const auto error = Why(path, "size");
        ::close(fd);
        return Fail(ErrorCode::kUnavailable, error);
    }
    void* map = ::mmap(nullptr, kSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    const auto error = map == MAP_FAILED ? Why(path, "mmap") : std::string();
    ::close(fd);  // the mapping stays valid
    if (map == MAP_FAILED) return Fail(ErrorCode::kUnavailable, error);
    return std::unique_ptr<SharedFileCounter>(
        new SharedFileCounter(static_cast<std::uint64_t*>(map)));
}

SharedFileCounter::~SharedFileCounter() { ::munmap(value_, kSize); }

// The mapping is page-aligned, so the counter is aligned for lock-free atomics, which work
// across processes on the same memory.
std::uint64_t SharedFileCounter::Current() const {
    return std::atomic_ref<std::uint64_t>(*value_).load(std::memory_order_acquire);
}

void SharedFileCounter::Announce() {
    std::atomic_ref<std::uint64_t>(*value_).fetch_add(1, std::memory_order_acq_rel);
}

}  // namespace firmo::store
