#pragma once
// A domain::ChangeSignal shared by the processes of one host through a small file mapped into
// each of them (MAP_SHARED): reading it is a memory load, announcing an atomic update that every
// mapping sees at once. This is how the processes on one SQLite file (the server, a second node
// on the same folder, the CLI) share it: for API keys (DATA_DIR/api-keys.generation) and for
// request copies (beside the database file, store/sqlite). It does not work across hosts (nodes
// on PostgreSQL use the database's notifications instead).
//
// The file holds a generation and the number of changes between their WillChange() and their
// Announce(); Current() is the generation while that number is 0, kUnknown otherwise. Nothing
// but the announcing processes moves it, so a change must be marked before it commits: a
// process that died between its commit and its announcement would otherwise leave every copy
// of the changed rows trusted. A mark older than `stale_after` is taken for such a death: the
// first process that reads it moves the generation on the dead one's behalf and clears the
// marks. A mark renewed by each new change keeps the signal unknown while changes overlap
// without pause; caches are then checked on every read, which is slower, never wrong.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>

#include "core/error.hpp"
#include "domain/ports/change_signal.hpp"

namespace firmo::store {

class SharedFileCounter final : public domain::ChangeSignal {
  public:
    // Longer than any transaction that marks a change lasts, SQLite's 10 s busy timeout included.
    static constexpr std::chrono::seconds kStaleAfter{30};

    // Opens (creating, mode 0600) the counter file at `path`.
    [[nodiscard]] static Result<std::unique_ptr<SharedFileCounter>> Open(
        const std::filesystem::path& path, std::chrono::nanoseconds stale_after = kStaleAfter);
    ~SharedFileCounter() override;

    std::uint64_t Current() const override;
    void WillChange() override;
    void Announce() override;

  private:
    // The file's 16 bytes. A file of the former 8-byte layout (a bare generation) is grown;
    // its value then reads as a generation with marks that carry no time, cleared at the
    // first Current().
    struct Shared {
        std::uint64_t state;      // generation << kMarkBits | marks
        std::uint64_t marked_at;  // steady clock (ns) of the latest WillChange()
    };
    SharedFileCounter(Shared* shared, std::chrono::nanoseconds stale_after)
        : shared_(shared), stale_after_(stale_after) {}
    Shared* shared_;  // in the shared mapping
    std::chrono::nanoseconds stale_after_;
};

}  // namespace firmo::store
