#pragma once
// A domain::ChangeSignal shared by the processes of one host through a small file in the data
// folder, mapped into each of them (MAP_SHARED): reading it is a memory load, announcing an
// atomic increment that every mapping sees at once. This is how the SQLite file's processes
// (the server, a second node on the same folder, the CLI) share it; it does not work across
// hosts (nodes on PostgreSQL use the database's notifications instead).

#include <cstdint>
#include <filesystem>
#include <memory>

#include "core/error.hpp"
#include "domain/ports/change_signal.hpp"

namespace firmo::store {

class SharedFileCounter final : public domain::ChangeSignal {
  public:
    // Opens (creating, mode 0600) the counter file at `path`.
    [[nodiscard]] static Result<std::unique_ptr<SharedFileCounter>> Open(
        const std::filesystem::path& path);
    ~SharedFileCounter() override;

    std::uint64_t Current() const override;
    void Announce() override;

  private:
    explicit SharedFileCounter(std::uint64_t* value) : value_(value) {}
    std::uint64_t* value_;  // in the shared mapping
};

}  // namespace firmo::store
