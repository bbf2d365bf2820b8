#pragma once
// Port: what the archive job needs of the PDF engine (src/pdf/archive_timestamper.hpp): until
// when a signed PDF's proof holds, and a renewal of that proof (PAdES B-LTA: validation data
// for the last time-stamp, then a new document time-stamp, as incremental updates that leave
// every earlier signature valid). Blocking (files, a time-stamp authority): worker threads only.

#include <filesystem>
#include <optional>

#include "core/clock.hpp"
#include "core/error.hpp"

namespace firmo::domain {

class ArchiveTimestamper {
  public:
    virtual ~ArchiveTimestamper() = default;
    ArchiveTimestamper() = default;
    ArchiveTimestamper(const ArchiveTimestamper&) = delete;
    ArchiveTimestamper& operator=(const ArchiveTimestamper&) = delete;

    // The expiry of the chain of the last valid time-stamp of `pdf` (the PAdES validation
    // model, at `now`); nullopt when no valid time-stamp proves a time (nothing to renew).
    [[nodiscard]] virtual Result<std::optional<Timestamp>> ProofUntil(
        const std::filesystem::path& pdf, Timestamp now) const = 0;
    // Writes `out`: `in` plus validation data for its last time-stamp and a new document
    // time-stamp; `out`'s new proof_until.
    [[nodiscard]] virtual Result<std::optional<Timestamp>> Renew(const std::filesystem::path& in,
                                                                 const std::filesystem::path& out,
                                                                 Timestamp now) const = 0;
};

}  // namespace firmo::domain
