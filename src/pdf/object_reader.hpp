#pragma once
// Internal to src/pdf: a small read-only object model over a PDF's bytes, resolving objects as
// of one revision through the RevisionIndex. qpdf parses a whole object stream when one of its
// objects is asked for and keeps every object it ever parsed (several kilobytes each, nested
// values included), so walking a 100,000-object file through qpdf costs hundreds of megabytes.
// This reader parses one object at a time, keeps nothing but a few decoded object streams, and
// costs memory in proportion to what the caller holds. Not thread-safe; values are immutable
// and may outlive the reader only as long as the file's bytes.

#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "pdf/revisions.hpp"

namespace firmo::pdf::internal {

class PdfValue {
  public:
    enum class Kind : std::uint8_t {
        kNull,
        kBool,
        kNumber,
        kString,
        kName,
        kArray,
        kDictionary,
        kReference,
        kStream,
    };
    using Entries = std::vector<std::pair<std::string, PdfValue>>;  // sorted by key

    PdfValue() = default;
    static PdfValue Bool(bool v);
    static PdfValue Number(double v);
    static PdfValue String(std::string bytes);
    static PdfValue Name(std::string name);  // with its leading '/', #xx decoded
    static PdfValue Array(std::vector<PdfValue> items);
    static PdfValue Dictionary(Entries entries);
    static PdfValue Reference(ObjectRef ref);
    static PdfValue Stream(Entries dict, std::string_view raw_data);

    Kind kind() const { return kind_; }
    bool IsNull() const { return kind_ == Kind::kNull; }
    bool IsReference() const { return kind_ == Kind::kReference; }
    bool IsArray() const { return kind_ == Kind::kArray; }
    // A dictionary, not a stream (as qpdf's isDictionary).
    bool IsDictionary() const { return kind_ == Kind::kDictionary; }
    bool IsStream() const { return kind_ == Kind::kStream; }
    bool IsNumber() const { return kind_ == Kind::kNumber; }
    bool IsName() const { return kind_ == Kind::kName; }
    bool IsString() const { return kind_ == Kind::kString; }

    double number() const { return number_; }
    bool boolean() const { return number_ != 0; }
    // The bytes of a string, or a name with its leading '/'; empty otherwise.
    const std::string& text() const { return text_; }
    const std::vector<PdfValue>& items() const { return items_; }
    // A dictionary's entries, or a stream's dictionary's.
    const Entries& entries() const { return entries_; }
    ObjectRef ref() const { return ref_; }
    std::string_view stream_data() const { return stream_data_; }  // raw, as in the file

    // The entry `key` ("/Type") of a dictionary or stream; a null value when absent.
    const PdfValue& Get(std::string_view key) const;
    bool Has(std::string_view key) const { return !Get(key).IsNull(); }
    // The name's text or "" (for quick comparisons like v.NameOr() == "/Sig").
    const std::string& NameOr() const;

    // PDF syntax, canonical (one way per value), for equality and messages, and valid to
    // write back into a file (numbers in fixed notation, strings in hex). A stream writes its
    // dictionary only.
    std::string Unparse() const;
    void UnparseTo(std::string& out) const;  // appended to `out`

  private:
    Kind kind_ = Kind::kNull;
    double number_ = 0;
    std::string text_;
    std::vector<PdfValue> items_;
    Entries entries_;
    ObjectRef ref_;
    std::string_view stream_data_;
};

using ValuePtr = std::shared_ptr<const PdfValue>;

// A child of a value held elsewhere, sharing its owner's lifetime.
inline ValuePtr Child(const ValuePtr& owner, const PdfValue& child) {
    return ValuePtr(owner, &child);
}

struct ReaderLimits {
    std::size_t max_depth = 100;  // nesting of arrays and dictionaries
    std::size_t max_object_stream_bytes = 64 * 1024 * 1024;
    // Decoded object streams kept for the next object asked from them: a walk over a whole
    // document asks in no order the streams follow, and decoding one per object is slow.
    std::size_t object_stream_cache_bytes = 64 * 1024 * 1024;
};

class ObjectReader {
  public:
    // Reads `pdf` as a reader of revision `revision` does; `index` must outlive the reader.
    ObjectReader(std::string_view pdf, const RevisionIndex& index, std::size_t revision,
                 ReaderLimits limits = {});
    ~ObjectReader();
    ObjectReader(const ObjectReader&) = delete;
    ObjectReader& operator=(const ObjectReader&) = delete;

    std::size_t revision() const { return revision_; }

    // Object `number` (null when free, missing or unreadable: what readers make of it; the
    // unreadable ones are counted in problems()).
    ValuePtr Get(int number);
    // `value` itself, or the object it refers to.
    ValuePtr Resolve(const ValuePtr& value);
    // The revision's trailer dictionary (a cross-reference stream's dictionary for streams),
    // and the catalog it names; each read once.
    ValuePtr Trailer();
    ValuePtr Root();
    // Uses `trailer` instead of the revision's (a repaired file's, from qpdf).
    void OverrideTrailer(PdfValue trailer) {
        trailer_ = std::make_shared<const PdfValue>(std::move(trailer));
        root_ = nullptr;
    }

    // Decoded stream data (every filter qpdf knows), or nullopt over `cap` or undecodable.
    std::optional<std::string> Decode(const PdfValue& stream, std::size_t cap);
    // How many bytes a stream decodes to (lossless filters), counted without keeping them:
    // nullopt when that passes `cap` (`*over_cap` set) or the data cannot be decoded.
    std::optional<std::uint64_t> DecodedSize(const PdfValue& stream, std::uint64_t cap,
                                             bool* over_cap);

    // Which objects (by number) refer, directly or through others, to one of `targets`. Scans
    // every object's bytes once for references, without building values.
    std::vector<bool> Reaching(const std::vector<int>& targets);

    // Objects that could not be read (count), for the caller to report.
    std::size_t unreadable() const { return unreadable_; }

  private:
    struct ObjectStream;
    std::shared_ptr<ObjectStream> LoadObjectStream(int number);

    std::string_view pdf_;
    const RevisionIndex& index_;
    std::size_t revision_;
    ReaderLimits limits_;
    using Cached = std::list<std::pair<int, std::shared_ptr<ObjectStream>>>;
    Cached streams_;  // most recent first
    std::unordered_map<int, Cached::iterator> stream_at_;
    std::size_t cached_bytes_ = 0;
    std::size_t unreadable_ = 0;
    ValuePtr trailer_;
    ValuePtr root_;
    struct Decoder;
    std::unique_ptr<Decoder> decoder_;
};

// Appends name `name` ("/Type", as PdfValue holds names) in PDF syntax to `out`.
void UnparseName(std::string_view name, std::string& out);

// Parses one value at `pos` of `text` (advancing `pos`); references stay references. Throws
// std::runtime_error on syntax it cannot read.
PdfValue ParseValue(std::string_view text, std::size_t& pos, std::size_t max_depth = 100);

}  // namespace firmo::pdf::internal
