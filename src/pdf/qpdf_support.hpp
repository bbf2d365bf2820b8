#pragma once
// Internal to src/pdf: opening untrusted PDFs with qpdf under Firmo's limits, the few
// byte-level helpers (header, startxref, a mapped file) that qpdf does not expose, and the
// inspection of a document. qpdf throws; these functions turn its exceptions into Errors so
// callers above src/pdf never see them.

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <qpdf/QPDF.hh>
#include <qpdf/QPDFObjectHandle.hh>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "pdf/inspect.hpp"
#include "pdf/object_reader.hpp"
#include "pdf/revisions.hpp"

namespace firmo::pdf::internal {

// Random access to the bytes of a document, from memory or from a file, so large files are
// read in pieces and never held whole.
class ByteSource {
  public:
    virtual ~ByteSource() = default;
    virtual std::uint64_t Size() const = 0;
    // Up to `n` bytes from `offset` (fewer at the end of the data).
    [[nodiscard]] virtual Result<std::string> ReadAt(std::uint64_t offset, std::size_t n) const = 0;
};

class MemorySource final : public ByteSource {
  public:
    explicit MemorySource(std::string_view bytes) : bytes_(bytes) {}
    std::uint64_t Size() const override { return bytes_.size(); }
    [[nodiscard]] Result<std::string> ReadAt(std::uint64_t offset, std::size_t n) const override;

  private:
    std::string_view bytes_;
};

class FileSource final : public ByteSource {
  public:
    // Fails when the file cannot be opened.
    [[nodiscard]] static Result<std::unique_ptr<FileSource>> Open(const std::filesystem::path& p);
    std::uint64_t Size() const override { return size_; }
    [[nodiscard]] Result<std::string> ReadAt(std::uint64_t offset, std::size_t n) const override;

  private:
    FileSource(std::filesystem::path path, std::uint64_t size)
        : path_(std::move(path)), size_(size) {}
    std::filesystem::path path_;
    std::uint64_t size_;
};

// A file mapped read-only into memory: its bytes without reading them all (the kernel pages
// them in as they are touched and may drop them again), for the readers that need random
// access to a whole document.
class MappedFile {
  public:
    [[nodiscard]] static Result<std::unique_ptr<MappedFile>> Open(const std::filesystem::path& p);
    ~MappedFile();
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;
    std::string_view bytes() const { return {static_cast<const char*>(data_), size_}; }
    // Tells the kernel the bytes [offset, offset + n) are done with (read again from the file
    // if touched later), so copying a large file leaves no trace in the resident set.
    void Release(std::size_t offset, std::size_t n) const;

  private:
    MappedFile(void* data, std::size_t size) : data_(data), size_(size) {}
    void* data_;
    std::size_t size_;
};

// Stable violation wording, shared by the validator and the tests.
inline constexpr std::string_view kReasonNotPdf =
    "not a PDF file (no %PDF header in its first 1024 bytes)";
inline constexpr std::string_view kReasonEncrypted =
    "the PDF is encrypted; upload it without encryption or passwords";
inline constexpr std::string_view kReasonDamaged = "the PDF file is damaged and cannot be read";
inline constexpr std::string_view kReasonRepaired =
    "the PDF file is damaged (its structure had to be repaired); save it again and re-upload";
inline constexpr std::string_view kReasonNoPages = "the PDF has no pages";
inline constexpr std::string_view kReasonBomb =
    "the PDF contains a compressed stream that expands beyond the allowed size";

// Checks that "%PDF-" occurs in the first 1024 bytes, as viewers require.
[[nodiscard]] Result<void> CheckHeader(const ByteSource& source);

// Header version ("1.7") or empty.
std::string HeaderVersion(const ByteSource& source);

// Kind of the cross-reference section that `startxref` at the end of the file points at.
[[nodiscard]] Result<XrefKind> LastXrefKind(const ByteSource& source);
// The offset after the last "startxref" keyword (the /Prev of an incremental update).
[[nodiscard]] Result<std::uint64_t> LastStartXref(const ByteSource& source);

// Opens a document with qpdf, warnings collected (not printed), encryption refused. It does
// not copy: `bytes` (a MappedFile's for a file) must outlive the returned object.
[[nodiscard]] Result<std::unique_ptr<QPDF>> OpenMemory(std::string_view bytes);

// Decoded stream data, or nullopt when it cannot be decoded or exceeds `max_bytes`.
std::optional<std::string> ReadStreamCapped(QPDFObjectHandle stream, std::size_t max_bytes);

// A rectangle array normalised; nullopt when the object is not four numbers.
std::optional<Rect> ToRect(QPDFObjectHandle array);

// What the signer needs besides PdfInfo: where each page and each field is.
struct Inspection {
    PdfInfo info;
    std::vector<ObjectRef> pages;  // the object of each page, in order
    struct Field {
        ObjectRef object;                // the terminal field
        std::vector<ObjectRef> widgets;  // its widget annotations (itself when merged)
    };
    std::map<std::string, Field> fields;  // by fully qualified name (the first of duplicates)
    // The cross-reference index it was read through (a repaired one for a damaged file) and
    // the reader, at the last revision, so the signer reads the objects it rewrites as the
    // inspection did, without parsing the catalog or an object stream again. The reader
    // refers to the document's bytes: the inspection must not outlive them.
    std::unique_ptr<RevisionIndex> index;
    std::unique_ptr<ObjectReader> reader;
};

// The inspection of a document whose bytes are `pdf`, as qpdf opened it (InspectPdfBytes/File
// without the opening). Objects are read with ObjectReader, one at a time; qpdf only says
// whether it had to repair the file (a warning) and whether it is encrypted. May throw qpdf's
// exceptions.
[[nodiscard]] Result<Inspection> InspectDocument(std::string_view pdf, QPDF& qpdf,
                                                 const PdfLimits& limits);

// Messages of the warnings qpdf collected so far (they are consumed).
std::vector<std::string> TakeWarnings(QPDF& qpdf);

}  // namespace firmo::pdf::internal
