#pragma once
// Internal to src/pdf: the revision structure of a PDF read from its bytes, without qpdf's
// silent repairs. Follows the cross-reference chain from the last `startxref` through every
// /Prev (classic tables, cross-reference streams, hybrid files, a linearized original), groups
// the sections into revisions (the original and one per incremental update), and records what
// in that structure is not well formed: an update that points an object at bytes outside
// itself, bytes no section lists, a missing `startxref`/`%%EOF`, a /Prev that is not the
// previous section. Verification resolves "object N as of revision k" with it and asks which
// objects an update changed. Not thread-safe while reading; the result is immutable.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "pdf/inspect.hpp"

class QPDF;

namespace firmo::pdf::internal {

struct XrefEntry {
    enum class Type : std::uint8_t { kFree, kInFile, kInStream };
    Type type = Type::kFree;
    std::uint32_t generation = 0;  // kInFile, kFree; the index in the stream for kInStream
    std::uint64_t position = 0;    // kInFile: byte offset; kInStream: the stream's number
    friend bool operator==(const XrefEntry&, const XrefEntry&) = default;
};

struct ObjectRef {
    int number = 0;
    int generation = 0;
    friend bool operator==(const ObjectRef&, const ObjectRef&) = default;
};

struct Revision {
    std::uint64_t start = 0;        // first byte of its update (0 for the original)
    std::uint64_t xref_offset = 0;  // its cross-reference section (what `startxref` names)
    std::uint64_t eof_end = 0;      // just after its "%%EOF"
    std::uint64_t end = 0;          // after the end-of-line that follows "%%EOF"
    XrefKind kind = XrefKind::kTable;
    // Its trailer: the dictionary after "trailer" (kTable), or the cross-reference stream
    // object whose dictionary serves as one (kStream).
    std::uint64_t trailer_offset = 0;
    // This revision's own entries, sorted by object number, one per number.
    std::vector<std::pair<int, XrefEntry>> entries;
    std::optional<ObjectRef> root;
    std::optional<ObjectRef> info;
    bool encrypted = false;
    // Each an English sentence about this revision's structure.
    std::vector<std::string> problems;
};

struct RevisionLimits {
    std::size_t max_revisions = 1000;
    // Entries over all sections; each costs 24 bytes.
    std::size_t max_entries = 8'000'000;
    std::uint64_t max_xref_stream_bytes = 64ULL * 1024 * 1024;
};

class RevisionIndex {
  public:
    // Fails (kMalformed) only when not even the last cross-reference section can be read;
    // every other defect is a problem of the revision it is in.
    [[nodiscard]] static Result<RevisionIndex> Read(std::string_view pdf,
                                                    const RevisionLimits& limits = {});
    // One revision made of given entries and trailer, for a file whose cross-reference data
    // only a repair (qpdf's) could recover.
    static RevisionIndex FromEntries(std::vector<std::pair<int, XrefEntry>> entries,
                                     std::uint64_t trailer_offset, XrefKind kind,
                                     std::uint64_t size);

    // Oldest first; never empty.
    const std::vector<Revision>& revisions() const { return revisions_; }
    std::size_t last() const { return revisions_.size() - 1; }

    // Object `number`'s entry as a reader of revision `k` resolves it (its own sections, then
    // older ones); nullopt when no section up to `k` lists it.
    std::optional<XrefEntry> EntryAt(std::size_t k, int number) const;

    // Objects that may read differently in revision `to` than in revision `from` (< `to`):
    // their entries differ, or they sit in an object stream that does. Sorted.
    std::vector<int> Changed(std::size_t from, std::size_t to) const;

    // The revision that ends at `end` (just after its "%%EOF" or after the end-of-line).
    std::optional<std::size_t> RevisionEndingAt(std::uint64_t end) const;

    // Bytes after the last revision that are not white space (0 when none).
    std::uint64_t trailing_bytes() const { return trailing_bytes_; }

  private:
    std::vector<Revision> revisions_;
    std::uint64_t trailing_bytes_ = 0;
};

// The one revision qpdf's (repaired) cross-reference table describes.
RevisionIndex RepairedIndex(QPDF& qpdf, std::uint64_t size);

}  // namespace firmo::pdf::internal
