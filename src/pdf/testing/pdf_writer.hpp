#pragma once
// Test-only: writes PDFs object by object, as an original revision and incremental updates,
// each closed by a classic table, a cross-reference stream, or a cross-reference stream with
// the objects packed into an object stream. Entries may point anywhere (what attacks do), and
// one object of a revision may be a signature whose /ByteRange and /Contents are filled in
// from a callback. Implemented in pdf_writer_test.cpp (linked into test binaries only).

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace firmo::pdf::testing {

enum class XrefForm { kTable, kStream, kObjectStream };
std::string ToString(XrefForm form);

class PdfWriter {
  public:
    // An empty file (a header only).
    PdfWriter();
    // Continues `existing`: its last startxref becomes /Prev, its trailer's /Root, /Info and
    // /ID carry over, new objects are numbered from its /Size.
    static PdfWriter Continue(std::string existing);

    int Allocate() { return next_++; }
    // The body of object `number` ("<< ... >>", or a dictionary with "stream ... endstream")
    // for the next revision.
    void Set(int number, std::string body);
    // An entry of the next revision that frees `number`.
    void Free(int number);
    // An entry of the next revision pointing `number` at bytes already in the file.
    void PointAt(int number, std::uint64_t offset, int generation = 0);
    // An entry of the next revision placing `number` in an existing object stream.
    void PointInStream(int number, int stream, int index);
    // Bytes written now, listed by no cross-reference section (an unused second body of an
    // object, say); returns their offset.
    std::uint64_t AppendRaw(const std::string& bytes);
    // A trailer entry, e.g. ("/Root", "1 0 R"); an empty value removes it.
    void SetTrailer(const std::string& key, const std::string& value);

    // The /Prev of the next revision (by default the last revision's section).
    void SetPrev(std::uint64_t offset) { prev_ = offset; }

    // Writes what is pending as one revision.
    void Commit(XrefForm form);
    // The same, with object `signature` signed: its body holds "@BYTERANGE@" and "@CONTENTS@",
    // which become a /ByteRange over the whole revision and `reserve` bytes of contents that
    // `sign` fills from the signed bytes.
    void CommitSigned(XrefForm form, int signature, std::size_t reserve,
                      const std::function<std::string(std::string_view)>& sign);

    const std::string& bytes() const { return out_; }
    // The offset the last revision's startxref names.
    std::uint64_t last_xref() const { return prev_.value_or(0); }
    // Where the last revision wrote object `number` (nullopt when it is in an object stream
    // or was never written).
    std::optional<std::uint64_t> OffsetOf(int number) const;
    // Object stream and index of `number` when the last object-stream revision packed it.
    std::optional<std::pair<int, int>> StreamSlotOf(int number) const;

  private:
    struct Entry {
        int type = 1;  // 0 free, 1 in file, 2 in stream
        std::uint64_t field2 = 0;
        int field3 = 0;
    };
    std::string out_;
    int next_ = 1;
    std::optional<std::uint64_t> prev_;
    std::map<std::string, std::string> trailer_;
    std::map<int, std::string> pending_;
    std::map<int, Entry> entries_;  // of the next revision
    std::map<int, std::uint64_t> offsets_;
    std::map<int, std::pair<int, int>> slots_;
};

// The hex digits of `bytes` (upper case).
std::string Hex(std::string_view bytes);

}  // namespace firmo::pdf::testing
