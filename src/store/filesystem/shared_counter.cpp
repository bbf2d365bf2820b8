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

constexpr std::size_t kSize = 2 * sizeof(std::uint64_t);
constexpr int kMarkBits = 16;
constexpr std::uint64_t kMarks = (std::uint64_t{1} << kMarkBits) - 1;

std::string Why(const std::filesystem::path& path, const char* step) {
    return std::string("shared counter ") + path.string() + ": " + step + ": " +
           std::strerror(errno);
}

// The same clock in every process of the host (CLOCK_MONOTONIC).
std::uint64_t Now() {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                          std::chrono::steady_clock::now().time_since_epoch())
                                          .count());
}

std::uint64_t Generation(std::uint64_t state) { return state >> kMarkBits; }
std::uint64_t Next(std::uint64_t state, std::uint64_t marks) {
    return ((Generation(state) + 1) << kMarkBits) | marks;
}

}  // namespace

Result<std::unique_ptr<SharedFileCounter>> SharedFileCounter::Open(
    const std::filesystem::path& path, std::chrono::nanoseconds stale_after) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return Fail(ErrorCode::kUnavailable, Why(path, "open"));
    struct stat st {};
    // Growing a new (empty, or of the 8-byte layout) file to 16 bytes is idempotent: several
    // processes may do it at once, and a file already in use is never shrunk.
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
        new SharedFileCounter(static_cast<Shared*>(map), stale_after));
}

SharedFileCounter::~SharedFileCounter() { ::munmap(shared_, kSize); }

// The mapping is page-aligned, so both words are aligned for lock-free atomics, which work
// across processes on the same memory.
std::uint64_t SharedFileCounter::Current() const {
    std::atomic_ref<std::uint64_t> state(shared_->state);
    std::uint64_t now_state = state.load(std::memory_order_acquire);
    if ((now_state & kMarks) == 0) return Generation(now_state);
    const std::uint64_t marked_at =
        std::atomic_ref<std::uint64_t>(shared_->marked_at).load(std::memory_order_acquire);
    const std::uint64_t now = Now();
    const auto stale = static_cast<std::uint64_t>(stale_after_.count());
    if (now < marked_at || now - marked_at < stale) return kUnknown;  // a change is on its way
    // No change was marked for longer than any lasts: its process died between its commit and
    // its announcement. Announce for it, so that copies filled before its commit are dropped.
    const std::uint64_t next = Next(now_state, 0);
    if (!state.compare_exchange_strong(now_state, next, std::memory_order_acq_rel)) {
        return kUnknown;  // it moved meanwhile: the next reading decides
    }
    return Generation(next);
}

void SharedFileCounter::WillChange() {
    // The time first: whoever sees the mark sees a time at least as recent.
    std::atomic_ref<std::uint64_t>(shared_->marked_at).store(Now(), std::memory_order_release);
    std::atomic_ref<std::uint64_t>(shared_->state).fetch_add(1, std::memory_order_acq_rel);
}

void SharedFileCounter::Announce() {
    std::atomic_ref<std::uint64_t> state(shared_->state);
    std::uint64_t now_state = state.load(std::memory_order_acquire);
    // One mark fewer (none left when a reader cleared them for a changer it took for dead).
    while (!state.compare_exchange_weak(
        now_state, Next(now_state, (now_state & kMarks) == 0 ? 0 : (now_state & kMarks) - 1),
        std::memory_order_acq_rel)) {
    }
}

}  // namespace firmo::store
