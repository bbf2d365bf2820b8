#include "pdf/revisions.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <qpdf/Buffer.hh>
#include <qpdf/BufferInputSource.hh>
#include <qpdf/QPDF.hh>
#include <qpdf/QPDFExc.hh>
#include <qpdf/QPDFObjectHandle.hh>
#include <qpdf/QPDFTokenizer.hh>
#include <qpdf/QPDFXRefEntry.hh>
#include <set>
#include <stdexcept>

#include "pdf/qpdf_support.hpp"

namespace firmo::pdf::internal {
namespace {

// `startxref` sits in the last kilobyte of a well-formed file; garbage after it is reported,
// but a megabyte of it is not searched.
constexpr std::size_t kTailSearch = 1024 * 1024;
// A classic entry is 20 bytes; 18 is the least a sloppy writer produces.
constexpr std::uint64_t kMinEntryBytes = 18;

bool IsSpace(char c) {
    return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == '\0';
}

bool IsDelimiter(char c) {
    return c == '(' || c == ')' || c == '<' || c == '>' || c == '[' || c == ']' || c == '{' ||
           c == '}' || c == '/' || c == '%';
}

// White space and, unless told otherwise, comments.
std::uint64_t SkipSpace(std::string_view pdf, std::uint64_t pos, bool comments = true) {
    while (pos < pdf.size()) {
        char c = pdf[pos];
        if (IsSpace(c)) {
            ++pos;
        } else if (comments && c == '%') {
            while (pos < pdf.size() && pdf[pos] != '\n' && pdf[pos] != '\r') ++pos;
        } else {
            break;
        }
    }
    return pos;
}

bool KeywordAt(std::string_view pdf, std::uint64_t pos, std::string_view word) {
    if (pos > pdf.size() || pdf.substr(pos, word.size()) != word) return false;
    std::uint64_t after = pos + word.size();
    return after >= pdf.size() || IsSpace(pdf[after]) || IsDelimiter(pdf[after]);
}

std::optional<std::uint64_t> UnsignedAt(std::string_view pdf, std::uint64_t& pos) {
    std::uint64_t value = 0;
    std::uint64_t start = pos;
    while (pos < pdf.size() && pdf[pos] >= '0' && pdf[pos] <= '9' && pos - start < 19) {
        value = value * 10 + static_cast<std::uint64_t>(pdf[pos] - '0');
        ++pos;
    }
    if (pos == start) return std::nullopt;
    return value;
}

std::optional<ObjectRef> RefOf(QPDFObjectHandle h) {
    if (!h.isIndirect()) return std::nullopt;
    return ObjectRef{h.getObjectID(), h.getGeneration()};
}

std::optional<std::uint64_t> DirectUnsigned(QPDFObjectHandle dict, const char* key) {
    if (!dict.hasKey(key)) return std::nullopt;
    QPDFObjectHandle v = dict.getKey(key);
    if (v.isIndirect() || !v.isInteger() || v.getIntValue() < 0) return std::nullopt;
    return static_cast<std::uint64_t>(v.getIntValue());
}

struct Section {
    std::uint64_t offset = 0;
    XrefKind kind = XrefKind::kTable;
    std::uint64_t body_end = 0;    // after the trailer dictionary, or after the stream's endobj
    std::uint64_t trailer_at = 0;  // the trailer dictionary, or the stream object
    std::vector<std::pair<int, XrefEntry>> entries;  // as listed, duplicates removed
    std::optional<std::uint64_t> prev;
    std::optional<std::uint64_t> xref_stm;
    std::optional<std::pair<std::uint64_t, std::uint64_t>> xref_stm_span;
    std::optional<ObjectRef> root;
    std::optional<ObjectRef> info;
    bool encrypted = false;
    std::vector<std::string> problems;
};

// "n g obj ... endobj" at an offset.
struct ObjectSpan {
    int number = 0;
    int generation = 0;
    std::uint64_t end = 0;  // after "endobj"
    QPDFObjectHandle value;
    std::string_view stream_data;  // raw, when the object is a stream
};

class SectionReader {
  public:
    SectionReader(std::string_view pdf, const RevisionLimits& limits)
        : pdf_(pdf),
          // Read-only: qpdf's Buffer wants a mutable pointer but never writes through it here.
          buffer_(reinterpret_cast<unsigned char*>(const_cast<char*>(pdf.data())), pdf.size()),
          input_(std::make_shared<BufferInputSource>("revisions", &buffer_)),
          limits_(limits) {
        scratch_.setSuppressWarnings(true);
    }

    Result<Section> Read(std::uint64_t offset) {
        Section s;
        s.offset = offset;
        std::uint64_t pos = SkipSpace(pdf_, offset, false);
        if (KeywordAt(pdf_, pos, "xref")) {
            s.kind = XrefKind::kTable;
            FIRMO_CHECK(ReadTable(pos + 4, s));
            if (s.xref_stm) {
                auto hybrid = Read(*s.xref_stm);
                if (!hybrid || hybrid->kind != XrefKind::kStream) {
                    s.problems.push_back("its /XRefStm names no cross-reference stream");
                } else {
                    MergeHybrid(s, *hybrid);
                }
            }
        } else {
            s.kind = XrefKind::kStream;
            FIRMO_CHECK(ReadStream(s));
        }
        return s;
    }

    // The object at `offset` (white space before it allowed, as readers do), or nullopt.
    // `length_of` resolves an indirect /Length.
    template <typename LengthOf>
    std::optional<ObjectSpan> ObjectAt(std::uint64_t offset, LengthOf&& length_of) {
        try {
            auto header = HeaderAt(offset);
            if (!header) return std::nullopt;
            ObjectSpan span;
            span.number = header->number;
            span.generation = header->generation;
            std::uint64_t pos = 0;
            std::uint64_t after = 0;
            span.value = ParseAt(header->after, &after);
            pos = SkipSpace(pdf_, after);
            if (KeywordAt(pdf_, pos, "stream") && span.value.isDictionary()) {
                pos += 6;
                if (pdf_.substr(pos, 2) == "\r\n") {
                    pos += 2;
                } else if (pos < pdf_.size() && (pdf_[pos] == '\n' || pdf_[pos] == '\r')) {
                    ++pos;
                }
                std::optional<std::uint64_t> length;
                QPDFObjectHandle l = span.value.getKey("/Length");
                if (l.isIndirect()) {
                    length = length_of(l.getObjectID());
                } else if (l.isInteger() && l.getIntValue() >= 0) {
                    length = static_cast<std::uint64_t>(l.getIntValue());
                }
                if (!length || *length > pdf_.size() - pos) return std::nullopt;
                span.stream_data = pdf_.substr(pos, *length);
                pos = SkipSpace(pdf_, pos + *length);
                if (!KeywordAt(pdf_, pos, "endstream")) return std::nullopt;
                pos = SkipSpace(pdf_, pos + 9);
            }
            if (!KeywordAt(pdf_, pos, "endobj")) return std::nullopt;
            span.end = pos + 6;
            return span;
        } catch (const std::exception&) {
            return std::nullopt;
        }
    }

    std::optional<ObjectSpan> ObjectAt(std::uint64_t offset) {
        return ObjectAt(offset, [](int) { return std::optional<std::uint64_t>(); });
    }

    struct Header {
        int number = 0;
        int generation = 0;
        std::uint64_t after = 0;  // just after "obj"
    };
    // "n g obj" at `offset` (white space before it allowed, as readers do).
    std::optional<Header> HeaderAt(std::uint64_t offset) const {
        std::uint64_t pos = SkipSpace(pdf_, offset, false);
        auto number = UnsignedAt(pdf_, pos);
        if (!number || pos >= pdf_.size() || !IsSpace(pdf_[pos])) return std::nullopt;
        pos = SkipSpace(pdf_, pos, false);
        auto generation = UnsignedAt(pdf_, pos);
        if (!generation) return std::nullopt;
        pos = SkipSpace(pdf_, pos, false);
        if (!KeywordAt(pdf_, pos, "obj") || *number > INT32_MAX || *generation > 65535) {
            return std::nullopt;
        }
        return Header{static_cast<int>(*number), static_cast<int>(*generation), pos + 3};
    }

    // A direct integer object "n g obj 123 endobj" (an indirect /Length).
    std::optional<std::uint64_t> IntegerObjectAt(std::uint64_t offset) {
        auto span = ObjectAt(offset);
        if (!span || !span->value.isInteger() || span->value.getIntValue() < 0) return std::nullopt;
        return static_cast<std::uint64_t>(span->value.getIntValue());
    }

    std::size_t total_entries() const { return total_entries_; }

  private:
    QPDFObjectHandle ParseAt(std::uint64_t offset, std::uint64_t* after) {
        input_->seek(static_cast<qpdf_offset_t>(offset), SEEK_SET);
        QPDFTokenizer tokenizer;
        bool empty = false;
        QPDFObjectHandle h = QPDFObjectHandle::parse(input_, "cross-reference data", tokenizer,
                                                     empty, nullptr, &scratch_);
        *after = static_cast<std::uint64_t>(input_->tell());
        return h;
    }

    Result<void> CountEntries(std::uint64_t n) {
        total_entries_ += static_cast<std::size_t>(n);
        if (total_entries_ > limits_.max_entries) {
            return Fail(ErrorCode::kPayloadTooLarge,
                        "the PDF lists more than " + std::to_string(limits_.max_entries) +
                            " objects in its cross-reference sections");
        }
        return {};
    }

    void Add(Section& s, std::uint64_t number, XrefEntry entry) {
        if (number > INT32_MAX) {
            s.problems.push_back("it lists an object number out of range");
            return;
        }
        s.entries.emplace_back(static_cast<int>(number), entry);
    }

    // Sorts entries and keeps the first of duplicates (readers disagree on which wins).
    static void Normalize(Section& s) {
        std::stable_sort(s.entries.begin(), s.entries.end(),
                         [](const auto& a, const auto& b) { return a.first < b.first; });
        auto last = std::unique(s.entries.begin(), s.entries.end(),
                                [](const auto& a, const auto& b) { return a.first == b.first; });
        if (last != s.entries.end()) {
            s.problems.push_back("it lists object " + std::to_string(last->first) +
                                 " more than once");
            s.entries.erase(last, s.entries.end());
        }
    }

    void ReadTrailer(QPDFObjectHandle dict, Section& s) {
        s.prev = DirectUnsigned(dict, "/Prev");
        s.xref_stm = DirectUnsigned(dict, "/XRefStm");
        s.root = RefOf(dict.getKey("/Root"));
        if (dict.hasKey("/Info")) s.info = RefOf(dict.getKey("/Info"));
        s.encrypted = dict.hasKey("/Encrypt");
        if (dict.hasKey("/Prev") && !s.prev) s.problems.push_back("its /Prev is not a number");
    }

    Result<void> ReadTable(std::uint64_t pos, Section& s) {
        auto bad = [&](const std::string& why) {
            return Fail(ErrorCode::kMalformed, "the cross-reference table at offset " +
                                                   std::to_string(s.offset) + " " + why);
        };
        for (;;) {
            pos = SkipSpace(pdf_, pos);
            if (KeywordAt(pdf_, pos, "trailer")) break;
            auto first = UnsignedAt(pdf_, pos);
            pos = SkipSpace(pdf_, pos, false);
            auto count = UnsignedAt(pdf_, pos);
            if (!first || !count) return bad("is malformed");
            if (*count > (pdf_.size() - pos) / kMinEntryBytes) return bad("is truncated");
            FIRMO_CHECK(CountEntries(*count));
            for (std::uint64_t i = 0; i < *count; ++i) {
                pos = SkipSpace(pdf_, pos, false);
                auto offset = UnsignedAt(pdf_, pos);
                pos = SkipSpace(pdf_, pos, false);
                auto generation = UnsignedAt(pdf_, pos);
                pos = SkipSpace(pdf_, pos, false);
                if (!offset || !generation || pos >= pdf_.size() ||
                    (pdf_[pos] != 'n' && pdf_[pos] != 'f') || *generation > 65535) {
                    return bad("has a malformed entry");
                }
                XrefEntry e;
                e.type = pdf_[pos] == 'n' ? XrefEntry::Type::kInFile : XrefEntry::Type::kFree;
                e.position = *offset;
                e.generation = static_cast<std::uint32_t>(*generation);
                Add(s, *first + i, e);
                ++pos;
            }
        }
        std::uint64_t after = 0;
        QPDFObjectHandle dict = ParseAt(pos + 7, &after);
        if (!dict.isDictionary()) return bad("has no trailer dictionary");
        s.body_end = after;
        s.trailer_at = SkipSpace(pdf_, pos + 7);
        ReadTrailer(dict, s);
        Normalize(s);
        return {};
    }

    Result<void> ReadStream(Section& s) {
        auto bad = [&](const std::string& why) {
            return Fail(ErrorCode::kMalformed, "the cross-reference stream at offset " +
                                                   std::to_string(s.offset) + " " + why);
        };
        auto span = ObjectAt(s.offset);
        if (!span || !span->value.isDictionary() || span->stream_data.data() == nullptr) {
            return bad("cannot be read");
        }
        QPDFObjectHandle dict = span->value;
        if (!dict.getKey("/Type").isName() || dict.getKey("/Type").getName() != "/XRef") {
            return bad("is not of /Type /XRef");
        }
        s.body_end = span->end;
        s.trailer_at = s.offset;
        QPDFObjectHandle w = dict.getKey("/W");
        int widths[3] = {0, 0, 0};
        if (w.isIndirect() || !w.isArray() || w.getArrayNItems() != 3) return bad("has no /W");
        for (int i = 0; i < 3; ++i) {
            QPDFObjectHandle item = w.getArrayItem(i);
            if (!item.isInteger() || item.getIntValue() < 0 || item.getIntValue() > 8) {
                return bad("has a bad /W");
            }
            widths[i] = static_cast<int>(item.getIntValue());
        }
        auto size = DirectUnsigned(dict, "/Size");
        if (!size) return bad("has no /Size");
        std::vector<std::pair<std::uint64_t, std::uint64_t>> index;
        QPDFObjectHandle idx = dict.getKey("/Index");
        if (idx.isArray() && !idx.isIndirect() && idx.getArrayNItems() % 2 == 0) {
            for (int i = 0; i + 1 < idx.getArrayNItems(); i += 2) {
                QPDFObjectHandle a = idx.getArrayItem(i);
                QPDFObjectHandle b = idx.getArrayItem(i + 1);
                if (!a.isInteger() || !b.isInteger() || a.getIntValue() < 0 ||
                    b.getIntValue() < 0) {
                    return bad("has a bad /Index");
                }
                index.emplace_back(a.getIntValue(), b.getIntValue());
            }
        } else if (dict.hasKey("/Index")) {
            return bad("has a bad /Index");
        } else {
            index.emplace_back(0, *size);
        }
        for (const char* key : {"/Filter", "/DecodeParms"}) {
            if (dict.getKey(key).isIndirect()) return bad("has an indirect " + std::string(key));
        }
        // Streams need an opened document: an empty one, made on the first cross-reference
        // stream (a file with tables only never pays for it; parsing needs no more than the
        // context for its references).
        if (!scratch_opened_) {
            scratch_.emptyPDF();
            scratch_opened_ = true;
        }
        QPDFObjectHandle stream = scratch_.newStream(std::string(span->stream_data));
        stream.replaceStreamData(std::string(span->stream_data), dict.getKey("/Filter"),
                                 dict.getKey("/DecodeParms"));
        auto data =
            ReadStreamCapped(stream, static_cast<std::size_t>(limits_.max_xref_stream_bytes));
        if (!data) return bad("cannot be decoded");
        const std::size_t row = static_cast<std::size_t>(widths[0] + widths[1] + widths[2]);
        if (row == 0) return bad("has a bad /W");
        std::size_t at = 0;
        auto field = [&](int width, std::uint64_t fallback) {
            if (width == 0) return fallback;
            std::uint64_t v = 0;
            for (int i = 0; i < width; ++i) {
                v = (v << 8) | static_cast<unsigned char>((*data)[at++]);
            }
            return v;
        };
        for (const auto& [first, count] : index) {
            if (count > (data->size() - at) / row) return bad("is shorter than its /Index");
            FIRMO_CHECK(CountEntries(count));
            for (std::uint64_t i = 0; i < count; ++i) {
                std::uint64_t type = field(widths[0], 1);
                std::uint64_t f2 = field(widths[1], 0);
                std::uint64_t f3 = field(widths[2], 0);
                XrefEntry e;
                if (type == 0) {
                    e.type = XrefEntry::Type::kFree;
                } else if (type == 1) {
                    e.type = XrefEntry::Type::kInFile;
                } else if (type == 2) {
                    e.type = XrefEntry::Type::kInStream;
                } else {
                    continue;  // reserved types are ignored by readers (7.5.8.3)
                }
                if (f3 > UINT32_MAX) return bad("has an entry out of range");
                e.position = f2;
                e.generation = static_cast<std::uint32_t>(f3);
                Add(s, first + i, e);
            }
        }
        ReadTrailer(dict, s);
        Normalize(s);
        return {};
    }

    // A hybrid file's table lists what older readers need; its /XRefStm adds the objects in
    // object streams, which the table leaves out or lists as free.
    static void MergeHybrid(Section& table, const Section& stream) {
        std::map<int, XrefEntry> merged;
        for (const auto& [n, e] : table.entries) merged[n] = e;
        int conflicts = 0;
        for (const auto& [n, e] : stream.entries) {
            auto it = merged.find(n);
            if (it == merged.end() || (it->second.type == XrefEntry::Type::kFree && n != 0)) {
                merged[n] = e;
            } else if (e.type != XrefEntry::Type::kFree && !(it->second == e)) {
                ++conflicts;  // readers that ignore /XRefStm and those that do not disagree
            }
        }
        if (conflicts > 0) {
            table.problems.push_back("its table and its /XRefStm give " +
                                     std::to_string(conflicts) +
                                     " objects different places (readers disagree on them)");
        }
        table.entries.assign(merged.begin(), merged.end());
        table.xref_stm_span = std::make_pair(stream.offset, stream.body_end);
        for (const auto& p : stream.problems) table.problems.push_back(p);
    }

    std::string_view pdf_;
    Buffer buffer_;
    std::shared_ptr<InputSource> input_;
    const RevisionLimits& limits_;
    QPDF scratch_;
    bool scratch_opened_ = false;
    std::size_t total_entries_ = 0;
};

bool InUse(const std::optional<XrefEntry>& e) { return e && e->type != XrefEntry::Type::kFree; }

bool SameEntry(const std::optional<XrefEntry>& a, const std::optional<XrefEntry>& b) {
    if (!InUse(a) || !InUse(b)) return InUse(a) == InUse(b);
    return *a == *b;
}

const XrefEntry* Find(const std::vector<std::pair<int, XrefEntry>>& entries, int number) {
    auto it = std::lower_bound(entries.begin(), entries.end(), number,
                               [](const auto& e, int n) { return e.first < n; });
    return it != entries.end() && it->first == number ? &it->second : nullptr;
}

std::string Plural(std::uint64_t n, const char* what) {
    return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
}

}  // namespace

Result<RevisionIndex> RevisionIndex::Read(std::string_view pdf, const RevisionLimits& limits) {
    try {
        std::size_t from = pdf.size() > kTailSearch ? pdf.size() - kTailSearch : 0;
        std::size_t at = pdf.substr(from).rfind("startxref");
        if (at == std::string_view::npos) {
            return Fail(ErrorCode::kMalformed, "no startxref at the end of the file");
        }
        std::uint64_t pos = SkipSpace(pdf, from + at + 9);
        auto last_xref = UnsignedAt(pdf, pos);
        if (!last_xref || *last_xref >= pdf.size()) {
            return Fail(ErrorCode::kMalformed, "bad startxref offset");
        }

        SectionReader reader(pdf, limits);
        std::vector<Section> chain;
        std::set<std::uint64_t> seen;
        std::vector<std::string> chain_problems;
        std::uint64_t offset = *last_xref;
        for (;;) {
            auto section = reader.Read(offset);
            if (!section) {
                if (chain.empty() || section.error().code == ErrorCode::kPayloadTooLarge) {
                    return Fail(std::move(section).error());
                }
                chain_problems.push_back("its /Prev names no readable cross-reference section (" +
                                         section.error().message + ")");
                break;
            }
            seen.insert(offset);
            chain.push_back(std::move(*section));
            if (!chain.back().prev) break;
            if (chain.size() > limits.max_revisions) {
                chain_problems.push_back("the file has more than " +
                                         std::to_string(limits.max_revisions) +
                                         " revisions; older ones were not read");
                break;
            }
            offset = *chain.back().prev;
            if (seen.count(offset) > 0 || offset >= pdf.size()) {
                chain_problems.push_back("its /Prev chain loops or points outside the file");
                break;
            }
        }
        std::reverse(chain.begin(), chain.end());

        RevisionIndex index;
        std::size_t next = 0;
        // A linearized original: the first-page section (near the top, named by startxref)
        // has a /Prev to the main section at the end, which has none. Together they are the
        // original revision.
        const bool linearized = chain.size() >= 2 && !chain[0].prev &&
                                chain[1].prev == chain[0].offset &&
                                chain[1].offset < chain[0].offset;
        if (linearized) {
            Revision r;
            r.xref_offset = chain[1].offset;
            r.kind = chain[1].kind;
            r.trailer_offset = chain[1].trailer_at;
            std::map<int, XrefEntry> merged;
            for (const auto& [n, e] : chain[0].entries) merged[n] = e;
            for (const auto& [n, e] : chain[1].entries) merged[n] = e;
            r.entries.assign(merged.begin(), merged.end());
            r.root = chain[1].root ? chain[1].root : chain[0].root;
            r.info = chain[1].info ? chain[1].info : chain[0].info;
            r.encrypted = chain[0].encrypted || chain[1].encrypted;
            r.problems = chain[0].problems;
            r.problems.insert(r.problems.end(), chain[1].problems.begin(), chain[1].problems.end());
            r.end = r.eof_end = chain[0].body_end;
            index.revisions_.push_back(std::move(r));
            next = 2;
        }
        std::vector<const Section*> section_of;  // per revision, the section that ends it
        if (linearized) section_of.push_back(&chain[0]);
        for (; next < chain.size(); ++next) {
            Revision r;
            r.xref_offset = chain[next].offset;
            r.kind = chain[next].kind;
            r.trailer_offset = chain[next].trailer_at;
            r.entries = std::move(chain[next].entries);
            r.root = chain[next].root;
            r.info = chain[next].info;
            r.encrypted = chain[next].encrypted;
            r.problems = std::move(chain[next].problems);
            r.end = r.eof_end = chain[next].body_end;
            index.revisions_.push_back(std::move(r));
            section_of.push_back(&chain[next]);
        }
        if (!chain_problems.empty()) {
            auto& oldest = index.revisions_.front().problems;
            oldest.insert(oldest.end(), chain_problems.begin(), chain_problems.end());
        }

        // Each revision closes with "startxref <its section> %%EOF".
        for (std::size_t k = 0; k < index.revisions_.size(); ++k) {
            Revision& r = index.revisions_[k];
            std::uint64_t p = SkipSpace(pdf, section_of[k]->body_end);
            if (KeywordAt(pdf, p, "endobj")) p = SkipSpace(pdf, p + 6);  // tolerated duplicate
            std::optional<std::uint64_t> named;
            if (KeywordAt(pdf, p, "startxref")) {
                p = SkipSpace(pdf, p + 9);
                named = UnsignedAt(pdf, p);
                p = SkipSpace(pdf, p, false);
            }
            if (!named || pdf.substr(p, 5) != "%%EOF") {
                r.problems.push_back("it does not end with startxref and %%EOF");
                continue;
            }
            if (*named != r.xref_offset) {
                r.problems.push_back("its startxref does not name its cross-reference section");
            }
            r.eof_end = p + 5;
            r.end = r.eof_end;
            if (pdf.substr(r.end, 2) == "\r\n") {
                r.end += 2;
            } else if (r.end < pdf.size() && (pdf[r.end] == '\n' || pdf[r.end] == '\r')) {
                r.end += 1;
            }
        }

        // Every update starts where the previous revision ended and lists, in its own
        // section, exactly the objects it writes.
        for (std::size_t k = 0; k < index.revisions_.size(); ++k) {
            Revision& r = index.revisions_[k];
            r.start = k == 0 ? 0 : index.revisions_[k - 1].end;
            if (k > 0 && r.xref_offset < r.start) {
                r.problems.push_back("its cross-reference section lies inside an earlier revision");
                continue;
            }
            auto length_of = [&](int number) -> std::optional<std::uint64_t> {
                auto e = index.EntryAt(k, number);
                if (!e || e->type != XrefEntry::Type::kInFile) return std::nullopt;
                return reader.IntegerObjectAt(e->position);
            };
            // (offset, end) of each object this update writes, to find bytes nobody lists.
            std::vector<std::pair<std::uint64_t, std::uint64_t>> spans;
            int misplaced = 0;
            int bad_headers = 0;
            std::string first_misplaced;
            int beyond = 0;
            for (const auto& [number, entry] : r.entries) {
                if (entry.type == XrefEntry::Type::kInFile) {
                    if (entry.position >= r.eof_end) {
                        ++beyond;
                        continue;
                    }
                    if (k > 0 && entry.position < r.start) {
                        auto before = index.EntryAt(k - 1, number);
                        if (!(before && *before == entry)) {
                            if (misplaced++ == 0) first_misplaced = std::to_string(number);
                        }
                        continue;
                    }
                    if (k == 0) {
                        // The original is signed as it is; its objects are only located.
                        auto header = reader.HeaderAt(entry.position);
                        if (!header || header->number != number ||
                            header->generation != static_cast<int>(entry.generation)) {
                            ++bad_headers;
                        }
                        continue;
                    }
                    auto span = reader.ObjectAt(entry.position, length_of);
                    if (!span || span->number != number ||
                        span->generation != static_cast<int>(entry.generation)) {
                        ++bad_headers;
                        continue;
                    }
                    spans.emplace_back(entry.position, span->end);
                } else if (entry.type == XrefEntry::Type::kInStream && k > 0) {
                    auto before = index.EntryAt(k - 1, number);
                    if (before && *before == entry) continue;
                    auto holder = index.EntryAt(k, static_cast<int>(entry.position));
                    bool holder_here = holder && holder->type == XrefEntry::Type::kInFile &&
                                       holder->position >= r.start && holder->position < r.eof_end;
                    if (!holder_here) {
                        if (misplaced++ == 0) first_misplaced = std::to_string(number);
                    }
                }
            }
            if (beyond > 0) {
                r.problems.push_back("it points " + Plural(beyond, "object") +
                                     " at bytes after its own end");
            }
            if (misplaced > 0) {
                r.problems.push_back("it points " + Plural(misplaced, "object") +
                                     " (first: object " + first_misplaced +
                                     ") at bytes outside the update");
            }
            if (bad_headers > 0) {
                r.problems.push_back("its cross-reference data points " +
                                     Plural(bad_headers, "object") +
                                     " at bytes that are not that object");
            }
            if (k == 0) continue;
            if (section_of[k]->xref_stm_span) spans.push_back(*section_of[k]->xref_stm_span);
            std::sort(spans.begin(), spans.end());
            std::uint64_t p = r.start;
            std::uint64_t unlisted = 0;
            for (const auto& [from_at, to] : spans) {
                std::uint64_t gap_end = std::min(from_at, r.xref_offset);
                for (std::uint64_t q = SkipSpace(pdf, p); q < gap_end; q = SkipSpace(pdf, q + 1)) {
                    ++unlisted;
                }
                p = std::max(p, to);
            }
            for (std::uint64_t q = SkipSpace(pdf, p); q < r.xref_offset;
                 q = SkipSpace(pdf, q + 1)) {
                ++unlisted;
            }
            if (unlisted > 0) {
                r.problems.push_back("it holds " + Plural(unlisted, "byte") +
                                     " that its cross-reference section does not list");
            }
        }
        const std::uint64_t last_end = index.revisions_.back().end;
        if (SkipSpace(pdf, last_end, false) < pdf.size()) {
            index.trailing_bytes_ = pdf.size() - last_end;
        }
        return index;
    } catch (const QPDFExc&) {
        return Fail(ErrorCode::kMalformed, std::string(kReasonDamaged));
    } catch (const std::bad_alloc&) {
        return Fail(ErrorCode::kPayloadTooLarge, std::string(kReasonBomb));
    } catch (const std::exception&) {
        return Fail(ErrorCode::kMalformed, std::string(kReasonDamaged));
    }
}

RevisionIndex RevisionIndex::FromEntries(std::vector<std::pair<int, XrefEntry>> entries,
                                         std::uint64_t trailer_offset, XrefKind kind,
                                         std::uint64_t size) {
    RevisionIndex index;
    Revision r;
    std::sort(entries.begin(), entries.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    r.entries = std::move(entries);
    r.trailer_offset = trailer_offset;
    r.kind = kind;
    r.xref_offset = trailer_offset;
    r.end = r.eof_end = size;
    index.revisions_.push_back(std::move(r));
    return index;
}

RevisionIndex RepairedIndex(QPDF& qpdf, std::uint64_t size) {
    std::vector<std::pair<int, XrefEntry>> entries;
    for (const auto& [og, e] : qpdf.getXRefTable()) {
        XrefEntry entry;
        if (e.getType() == 1) {
            entry.type = XrefEntry::Type::kInFile;
            entry.position = static_cast<std::uint64_t>(e.getOffset());
            entry.generation = static_cast<std::uint32_t>(og.getGen());
        } else if (e.getType() == 2) {
            entry.type = XrefEntry::Type::kInStream;
            entry.position = static_cast<std::uint64_t>(e.getObjStreamNumber());
            entry.generation = static_cast<std::uint32_t>(e.getObjStreamIndex());
        } else {
            continue;
        }
        entries.emplace_back(og.getObj(), entry);
    }
    return RevisionIndex::FromEntries(std::move(entries), 0, XrefKind::kTable, size);
}

std::optional<XrefEntry> RevisionIndex::EntryAt(std::size_t k, int number) const {
    for (std::size_t j = std::min(k, revisions_.size() - 1) + 1; j-- > 0;) {
        if (const XrefEntry* e = Find(revisions_[j].entries, number)) return *e;
    }
    return std::nullopt;
}

std::vector<int> RevisionIndex::Changed(std::size_t from, std::size_t to) const {
    std::set<int> changed;
    for (std::size_t j = from + 1; j <= to && j < revisions_.size(); ++j) {
        for (const auto& [number, entry] : revisions_[j].entries) {
            if (!SameEntry(EntryAt(from, number), EntryAt(to, number))) changed.insert(number);
        }
    }
    if (!changed.empty()) {
        // Members of a changed object stream read differently even when their entries did
        // not change.
        for (std::size_t j = 0; j <= to && j < revisions_.size(); ++j) {
            for (const auto& [number, entry] : revisions_[j].entries) {
                if (entry.type != XrefEntry::Type::kInStream) continue;
                if (changed.count(static_cast<int>(entry.position)) == 0) continue;
                auto now = EntryAt(to, number);
                if (now && *now == entry) changed.insert(number);
            }
        }
    }
    return {changed.begin(), changed.end()};
}

std::optional<std::size_t> RevisionIndex::RevisionEndingAt(std::uint64_t end) const {
    for (std::size_t k = 0; k < revisions_.size(); ++k) {
        if (revisions_[k].eof_end == end || revisions_[k].end == end) return k;
    }
    return std::nullopt;
}

}  // namespace firmo::pdf::internal
