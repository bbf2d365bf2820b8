#include "pdf/object_reader.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <qpdf/Pipeline.hh>
#include <qpdf/QPDF.hh>
#include <qpdf/QPDFObjectHandle.hh>
#include <stdexcept>

#include "pdf/qpdf_support.hpp"

namespace firmo::pdf::internal {
namespace {

bool IsWhite(char c) {
    return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == '\0';
}

bool IsDelimiter(char c) {
    return c == '(' || c == ')' || c == '<' || c == '>' || c == '[' || c == ']' || c == '{' ||
           c == '}' || c == '/' || c == '%';
}

bool IsRegular(char c) { return !IsWhite(c) && !IsDelimiter(c); }

void SkipSpace(std::string_view t, std::size_t& pos) {
    while (pos < t.size()) {
        if (IsWhite(t[pos])) {
            ++pos;
        } else if (t[pos] == '%') {
            while (pos < t.size() && t[pos] != '\n' && t[pos] != '\r') ++pos;
        } else {
            break;
        }
    }
}

int HexDigit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool KeywordAt(std::string_view t, std::size_t pos, std::string_view word) {
    if (t.substr(pos, word.size()) != word) return false;
    std::size_t after = pos + word.size();
    return after >= t.size() || !IsRegular(t[after]);
}

[[noreturn]] void Bad(const char* what) { throw std::runtime_error(what); }

class Parser {
  public:
    Parser(std::string_view t, std::size_t max_depth) : t_(t), max_depth_(max_depth) {}

    PdfValue Value(std::size_t& pos, std::size_t depth) {
        if (depth > max_depth_) Bad("nested too deep");
        SkipSpace(t_, pos);
        if (pos >= t_.size()) Bad("unexpected end");
        char c = t_[pos];
        if (c == '/') return NameAt(pos);
        if (c == '(') return LiteralString(pos);
        if (c == '<') {
            if (pos + 1 < t_.size() && t_[pos + 1] == '<') return DictionaryAt(pos, depth);
            return HexString(pos);
        }
        if (c == '[') {
            ++pos;
            std::vector<PdfValue> items;
            for (;;) {
                SkipSpace(t_, pos);
                if (pos >= t_.size()) Bad("unterminated array");
                if (t_[pos] == ']') {
                    ++pos;
                    break;
                }
                items.push_back(Value(pos, depth + 1));
            }
            return PdfValue::Array(std::move(items));
        }
        if ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.') return NumberOrRef(pos);
        if (KeywordAt(t_, pos, "true")) {
            pos += 4;
            return PdfValue::Bool(true);
        }
        if (KeywordAt(t_, pos, "false")) {
            pos += 5;
            return PdfValue::Bool(false);
        }
        if (KeywordAt(t_, pos, "null")) {
            pos += 4;
            return PdfValue();
        }
        if (depth > 0 && IsRegular(c)) {
            // A stray keyword inside an array or dictionary reads as null, as qpdf and the
            // viewers read it.
            while (pos < t_.size() && IsRegular(t_[pos])) ++pos;
            return PdfValue();
        }
        Bad("unexpected token");
    }

  private:
    PdfValue NameAt(std::size_t& pos) {
        std::string name = "/";
        ++pos;
        while (pos < t_.size() && IsRegular(t_[pos])) {
            char c = t_[pos];
            if (c == '#' && pos + 2 < t_.size() && HexDigit(t_[pos + 1]) >= 0 &&
                HexDigit(t_[pos + 2]) >= 0) {
                name += static_cast<char>(HexDigit(t_[pos + 1]) * 16 + HexDigit(t_[pos + 2]));
                pos += 3;
                continue;
            }
            name += c;
            ++pos;
        }
        return PdfValue::Name(std::move(name));
    }

    PdfValue LiteralString(std::size_t& pos) {
        std::string out;
        int depth = 0;
        ++pos;
        while (pos < t_.size()) {
            char c = t_[pos++];
            if (c == '(') {
                ++depth;
            } else if (c == ')') {
                if (depth-- == 0) return PdfValue::String(std::move(out));
            } else if (c == '\\') {
                if (pos >= t_.size()) break;
                char e = t_[pos++];
                switch (e) {
                    case 'n':
                        out += '\n';
                        continue;
                    case 'r':
                        out += '\r';
                        continue;
                    case 't':
                        out += '\t';
                        continue;
                    case 'b':
                        out += '\b';
                        continue;
                    case 'f':
                        out += '\f';
                        continue;
                    case '\r':
                        if (pos < t_.size() && t_[pos] == '\n') ++pos;
                        continue;
                    case '\n':
                        continue;
                    default:
                        break;
                }
                if (e >= '0' && e <= '7') {
                    int v = e - '0';
                    for (int i = 0; i < 2 && pos < t_.size() && t_[pos] >= '0' && t_[pos] <= '7';
                         ++i) {
                        v = v * 8 + (t_[pos++] - '0');
                    }
                    out += static_cast<char>(v & 0xFF);
                    continue;
                }
                out += e;
                continue;
            } else if (c == '\r') {
                // An end of line inside a string reads as one \n (7.3.4.2).
                if (pos < t_.size() && t_[pos] == '\n') ++pos;
                c = '\n';
            }
            out += c;
        }
        Bad("unterminated string");
    }

    PdfValue HexString(std::size_t& pos) {
        std::string out;
        int high = -1;
        ++pos;
        while (pos < t_.size() && t_[pos] != '>') {
            int d = HexDigit(t_[pos++]);
            if (d < 0) continue;  // white space (and, as readers do, anything else) is skipped
            if (high < 0) {
                high = d;
            } else {
                out += static_cast<char>(high * 16 + d);
                high = -1;
            }
        }
        if (pos >= t_.size()) Bad("unterminated hex string");
        ++pos;
        if (high >= 0) out += static_cast<char>(high * 16);
        return PdfValue::String(std::move(out));
    }

    PdfValue DictionaryAt(std::size_t& pos, std::size_t depth) {
        pos += 2;
        PdfValue::Entries entries;
        for (;;) {
            SkipSpace(t_, pos);
            if (pos + 1 < t_.size() && t_[pos] == '>' && t_[pos + 1] == '>') {
                pos += 2;
                break;
            }
            if (pos >= t_.size()) Bad("unterminated dictionary");
            if (t_[pos] != '/') {
                Value(pos, depth + 1);  // not a key: skipped, as readers do
                continue;
            }
            std::string key = NameAt(pos).text();
            PdfValue value = Value(pos, depth + 1);
            entries.emplace_back(std::move(key), std::move(value));
        }
        // Sorted; of duplicate keys the last one counts, as for qpdf.
        std::stable_sort(entries.begin(), entries.end(),
                         [](const auto& a, const auto& b) { return a.first < b.first; });
        PdfValue::Entries unique;
        for (auto& e : entries) {
            if (!unique.empty() && unique.back().first == e.first) {
                unique.back() = std::move(e);
            } else {
                unique.push_back(std::move(e));
            }
        }
        // A null value is no entry (7.3.7).
        unique.erase(std::remove_if(unique.begin(), unique.end(),
                                    [](const auto& e) { return e.second.IsNull(); }),
                     unique.end());
        return PdfValue::Dictionary(std::move(unique));
    }

    static std::optional<long long> Integer(std::string_view t, std::size_t& pos) {
        std::size_t start = pos;
        while (pos < t.size() && t[pos] >= '0' && t[pos] <= '9' && pos - start < 12) ++pos;
        if (pos == start || (pos < t.size() && IsRegular(t[pos]))) {
            pos = start;
            return std::nullopt;
        }
        return std::stoll(std::string(t.substr(start, pos - start)));
    }

    PdfValue NumberOrRef(std::size_t& pos) {
        std::size_t start = pos;
        // "n g R": a reference.
        if (auto num = Integer(t_, pos)) {
            std::size_t after_num = pos;
            SkipSpace(t_, pos);
            if (auto gen = Integer(t_, pos)) {
                SkipSpace(t_, pos);
                if (KeywordAt(t_, pos, "R") && *num <= INT32_MAX && *gen <= 65535) {
                    ++pos;
                    return PdfValue::Reference(
                        ObjectRef{static_cast<int>(*num), static_cast<int>(*gen)});
                }
            }
            pos = after_num;
            return PdfValue::Number(static_cast<double>(*num));
        }
        std::string text;
        while (pos < t_.size() && IsRegular(t_[pos]) && text.size() < 64) text += t_[pos++];
        char* end = nullptr;
        double v = std::strtod(text.c_str(), &end);
        if (end == text.c_str()) {
            pos = start;
            Bad("bad number");
        }
        // PDF numbers have no exponent; "1e5" reads as far as it is a number (1).
        return PdfValue::Number(std::isfinite(v) ? v : 0);
    }

    std::string_view t_;
    std::size_t max_depth_;
};

// The shortest decimal that reads back as `v`, in fixed notation: PDF has no exponents.
void NumberTo(double v, std::string& out) {
    char buf[400];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
    if (ec != std::errc() || !std::isfinite(v)) {
        out += '0';
        return;
    }
    out.append(buf, end);
}

// One byte as two hex digits (a string's <...>, a name's #xx).
void HexTo(char byte, std::string& out) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    const auto c = static_cast<unsigned char>(byte);
    out += kHex[c >> 4];
    out += kHex[c & 15];
}

// A name ("/Type", as PdfValue holds it), with #xx for what may not stand in it as such.
void NameTo(std::string_view name, std::string& out) {
    out += '/';
    for (std::size_t i = 1; i < name.size(); ++i) {
        char c = name[i];
        if (IsRegular(c) && c != '#' && c > ' ' && c < 127) {
            out += c;
        } else {
            out += '#';
            HexTo(c, out);
        }
    }
}

void WriteValue(const PdfValue& v, std::string& out) {
    switch (v.kind()) {
        case PdfValue::Kind::kNull:
            out += "null";
            return;
        case PdfValue::Kind::kBool:
            out += v.boolean() ? "true" : "false";
            return;
        case PdfValue::Kind::kNumber:
            NumberTo(v.number(), out);
            return;
        case PdfValue::Kind::kString:
            out += '<';
            for (char byte : v.text()) HexTo(byte, out);
            out += '>';
            return;
        case PdfValue::Kind::kName:
            NameTo(v.text(), out);
            return;
        case PdfValue::Kind::kArray:
            out += '[';
            for (std::size_t i = 0; i < v.items().size(); ++i) {
                if (i) out += ' ';
                WriteValue(v.items()[i], out);
            }
            out += ']';
            return;
        case PdfValue::Kind::kDictionary:
        case PdfValue::Kind::kStream:
            out += "<<";
            for (const auto& [key, value] : v.entries()) {
                out += ' ';
                NameTo(key, out);
                out += ' ';
                WriteValue(value, out);
            }
            out += " >>";
            return;
        case PdfValue::Kind::kReference:
            out += std::to_string(v.ref().number);
            out += ' ';
            out += std::to_string(v.ref().generation);
            out += " R";
            return;
    }
}

struct ParsedObject {
    PdfValue value;
    int number = -1;
};

}  // namespace

PdfValue PdfValue::Bool(bool v) {
    PdfValue p;
    p.kind_ = Kind::kBool;
    p.number_ = v ? 1 : 0;
    return p;
}
PdfValue PdfValue::Number(double v) {
    PdfValue p;
    p.kind_ = Kind::kNumber;
    p.number_ = v;
    return p;
}
PdfValue PdfValue::String(std::string bytes) {
    PdfValue p;
    p.kind_ = Kind::kString;
    p.text_ = std::move(bytes);
    return p;
}
PdfValue PdfValue::Name(std::string name) {
    PdfValue p;
    p.kind_ = Kind::kName;
    p.text_ = std::move(name);
    return p;
}
PdfValue PdfValue::Array(std::vector<PdfValue> items) {
    PdfValue p;
    p.kind_ = Kind::kArray;
    p.items_ = std::move(items);
    return p;
}
PdfValue PdfValue::Dictionary(Entries entries) {
    PdfValue p;
    p.kind_ = Kind::kDictionary;
    p.entries_ = std::move(entries);
    return p;
}
PdfValue PdfValue::Reference(ObjectRef ref) {
    PdfValue p;
    p.kind_ = Kind::kReference;
    p.ref_ = ref;
    return p;
}
PdfValue PdfValue::Stream(Entries dict, std::string_view raw_data) {
    PdfValue p;
    p.kind_ = Kind::kStream;
    p.entries_ = std::move(dict);
    p.stream_data_ = raw_data;
    return p;
}

const PdfValue& PdfValue::Get(std::string_view key) const {
    static const PdfValue kNull;
    auto it = std::lower_bound(entries_.begin(), entries_.end(), key,
                               [](const auto& e, std::string_view k) { return e.first < k; });
    return it != entries_.end() && it->first == key ? it->second : kNull;
}

const std::string& PdfValue::NameOr() const {
    static const std::string kEmpty;
    return kind_ == Kind::kName ? text_ : kEmpty;
}

std::string PdfValue::Unparse() const {
    std::string out;
    WriteValue(*this, out);
    return out;
}

void PdfValue::UnparseTo(std::string& out) const { WriteValue(*this, out); }

void UnparseName(std::string_view name, std::string& out) { NameTo(name, out); }

PdfValue ParseValue(std::string_view text, std::size_t& pos, std::size_t max_depth) {
    return Parser(text, max_depth).Value(pos, 0);
}

// One decoded object stream: its data and where each of its objects starts.
struct ObjectReader::ObjectStream {
    std::string data;
    std::vector<std::pair<int, std::size_t>> offsets;  // number, offset in data
};

// Decodes with qpdf's filters (one scratch stream, its data replaced each time).
struct ObjectReader::Decoder {
    QPDF scratch;
    QPDFObjectHandle stream;
    Decoder() {
        scratch.setSuppressWarnings(true);
        scratch.emptyPDF();
        stream = scratch.newStream(std::string());
    }
};

ObjectReader::ObjectReader(std::string_view pdf, const RevisionIndex& index, std::size_t revision,
                           ReaderLimits limits)
    : pdf_(pdf), index_(index), revision_(revision), limits_(limits) {}

ObjectReader::~ObjectReader() = default;

namespace {

// "n g obj <value> [stream ... endstream] endobj" at `offset`; `length_of` resolves an
// indirect /Length.
template <typename LengthOf>
ParsedObject ParseObjectAt(std::string_view pdf, std::uint64_t offset, std::size_t max_depth,
                           LengthOf&& length_of) {
    std::size_t pos = static_cast<std::size_t>(offset);
    ParsedObject out;
    SkipSpace(pdf, pos);
    PdfValue number = Parser(pdf, max_depth).Value(pos, 0);
    PdfValue generation = Parser(pdf, max_depth).Value(pos, 0);
    SkipSpace(pdf, pos);
    if (!number.IsNumber() || !generation.IsNumber() || !KeywordAt(pdf, pos, "obj")) {
        Bad("no object header");
    }
    out.number = static_cast<int>(number.number());
    pos += 3;
    PdfValue value = Parser(pdf, max_depth).Value(pos, 0);
    SkipSpace(pdf, pos);
    if (value.IsDictionary() && KeywordAt(pdf, pos, "stream")) {
        pos += 6;
        if (pdf.substr(pos, 2) == "\r\n") {
            pos += 2;
        } else if (pos < pdf.size() && (pdf[pos] == '\n' || pdf[pos] == '\r')) {
            ++pos;
        }
        std::optional<std::uint64_t> length;
        const PdfValue& l = value.Get("/Length");
        if (l.IsReference()) {
            length = length_of(l.ref().number);
        } else if (l.IsNumber() && l.number() >= 0) {
            length = static_cast<std::uint64_t>(l.number());
        }
        std::size_t data_end = 0;
        if (length && *length <= pdf.size() - pos) {
            std::size_t after = pos + static_cast<std::size_t>(*length);
            SkipSpace(pdf, after);
            if (KeywordAt(pdf, after, "endstream"))
                data_end = pos + static_cast<std::size_t>(*length);
        }
        if (data_end == 0) {
            // A wrong /Length: readers look for "endstream", as qpdf does.
            std::size_t found = pdf.find("endstream", pos);
            if (found == std::string_view::npos) Bad("no endstream");
            data_end = found;
            while (data_end > pos && (pdf[data_end - 1] == '\n' || pdf[data_end - 1] == '\r')) {
                --data_end;
            }
        }
        out.value = PdfValue::Stream(value.entries(), pdf.substr(pos, data_end - pos));
        return out;
    }
    out.value = std::move(value);
    return out;
}

}  // namespace

ValuePtr ObjectReader::Get(int number) {
    static const ValuePtr kNull = std::make_shared<const PdfValue>();
    auto entry = index_.EntryAt(revision_, number);
    if (!entry || entry->type == XrefEntry::Type::kFree) return kNull;
    try {
        if (entry->type == XrefEntry::Type::kInFile) {
            auto length_of = [&](int n) -> std::optional<std::uint64_t> {
                if (n == number) return std::nullopt;
                ValuePtr l = Get(n);
                if (!l->IsNumber() || l->number() < 0) return std::nullopt;
                return static_cast<std::uint64_t>(l->number());
            };
            ParsedObject parsed =
                ParseObjectAt(pdf_, entry->position, limits_.max_depth, length_of);
            if (parsed.number != number) {
                ++unreadable_;
                return kNull;
            }
            return std::make_shared<const PdfValue>(std::move(parsed.value));
        }
        auto stream = LoadObjectStream(static_cast<int>(entry->position));
        if (!stream) {
            ++unreadable_;
            return kNull;
        }
        for (const auto& [n, offset] : stream->offsets) {
            if (n != number) continue;
            std::size_t pos = offset;
            return std::make_shared<const PdfValue>(
                ParseValue(stream->data, pos, limits_.max_depth));
        }
        ++unreadable_;
        return kNull;
    } catch (const std::exception&) {
        ++unreadable_;
        return kNull;
    }
}

ValuePtr ObjectReader::Resolve(const ValuePtr& value) {
    return value->IsReference() ? Get(value->ref().number) : value;
}

ValuePtr ObjectReader::Trailer() {
    if (trailer_) return trailer_;
    const Revision& r = index_.revisions()[std::min(revision_, index_.last())];
    try {
        if (r.kind == XrefKind::kTable) {
            std::size_t pos = static_cast<std::size_t>(r.trailer_offset);
            trailer_ = std::make_shared<const PdfValue>(ParseValue(pdf_, pos, limits_.max_depth));
        } else {
            ParsedObject parsed = ParseObjectAt(pdf_, r.trailer_offset, limits_.max_depth,
                                                [](int) { return std::optional<std::uint64_t>(); });
            trailer_ = std::make_shared<const PdfValue>(
                PdfValue::Dictionary(PdfValue::Entries(parsed.value.entries())));
        }
    } catch (const std::exception&) {
        trailer_ = std::make_shared<const PdfValue>();
    }
    return trailer_;
}

ValuePtr ObjectReader::Root() {
    if (root_) return root_;
    ValuePtr trailer = Trailer();
    root_ = Resolve(Child(trailer, trailer->Get("/Root")));
    return root_;
}

std::optional<std::string> ObjectReader::Decode(const PdfValue& stream, std::size_t cap) {
    if (!stream.IsStream()) return std::nullopt;
    const PdfValue& filter = stream.Get("/Filter");
    if (filter.IsNull()) {
        if (stream.stream_data().size() > cap) return std::nullopt;
        return std::string(stream.stream_data());
    }
    try {
        if (!decoder_) decoder_ = std::make_unique<Decoder>();
        auto direct = [&](const PdfValue& v) {
            if (v.IsReference()) return Get(v.ref().number)->Unparse();
            return v.Unparse();
        };
        const PdfValue& parms = stream.Get("/DecodeParms");
        decoder_->stream.replaceStreamData(
            std::string(stream.stream_data()), QPDFObjectHandle::parse(direct(filter)),
            parms.IsNull() ? QPDFObjectHandle::newNull() : QPDFObjectHandle::parse(direct(parms)));
        auto data = ReadStreamCapped(decoder_->stream, cap);
        decoder_->stream.replaceStreamData(std::string(), QPDFObjectHandle::newNull(),
                                           QPDFObjectHandle::newNull());
        decoder_->scratch.getWarnings();  // collected, not kept
        return data;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

namespace {

// Counts decoded bytes and stops the decoder by throwing once past the cap.
class CountingPipeline final : public Pipeline {
  public:
    explicit CountingPipeline(std::uint64_t cap) : Pipeline("firmo-count", nullptr), cap_(cap) {}
    void write(unsigned char const* /*data*/, size_t len) override {
        count_ += len;
        if (count_ > cap_) {
            exceeded_ = true;
            throw std::length_error("decoded stream over limit");
        }
    }
    void finish() override {}
    bool exceeded() const { return exceeded_; }
    std::uint64_t count() const { return count_; }

  private:
    std::uint64_t cap_;
    std::uint64_t count_ = 0;
    bool exceeded_ = false;
};

}  // namespace

std::optional<std::uint64_t> ObjectReader::DecodedSize(const PdfValue& stream, std::uint64_t cap,
                                                       bool* over_cap) {
    *over_cap = false;
    if (!stream.IsStream()) return std::nullopt;
    CountingPipeline counter(cap);
    try {
        if (!decoder_) decoder_ = std::make_unique<Decoder>();
        auto direct = [&](const PdfValue& v) {
            return v.IsReference() ? Get(v.ref().number)->Unparse() : v.Unparse();
        };
        const PdfValue& filter = stream.Get("/Filter");
        const PdfValue& parms = stream.Get("/DecodeParms");
        decoder_->stream.replaceStreamData(
            std::string(stream.stream_data()),
            filter.IsNull() ? QPDFObjectHandle::newNull() : QPDFObjectHandle::parse(direct(filter)),
            parms.IsNull() ? QPDFObjectHandle::newNull() : QPDFObjectHandle::parse(direct(parms)));
        bool filtered = false;
        decoder_->stream.pipeStreamData(&counter, &filtered, 0, qpdf_dl_specialized, true);
    } catch (const std::exception&) {
        // qpdf reports a failed filter as a warning; the counter's throw ends the decoding.
    }
    if (decoder_) {
        decoder_->stream.replaceStreamData(std::string(), QPDFObjectHandle::newNull(),
                                           QPDFObjectHandle::newNull());
        decoder_->scratch.getWarnings();  // collected, not kept
    }
    if (counter.exceeded()) {
        *over_cap = true;
        return std::nullopt;
    }
    return counter.count();
}

std::shared_ptr<ObjectReader::ObjectStream> ObjectReader::LoadObjectStream(int number) {
    if (auto found = stream_at_.find(number); found != stream_at_.end()) {
        streams_.splice(streams_.begin(), streams_, found->second);
        return streams_.front().second;
    }
    auto entry = index_.EntryAt(revision_, number);
    if (!entry || entry->type != XrefEntry::Type::kInFile) return nullptr;
    ValuePtr object = Get(number);
    if (!object->IsStream() || object->Get("/Type").NameOr() != "/ObjStm") return nullptr;
    const PdfValue& n = object->Get("/N");
    const PdfValue& first = object->Get("/First");
    if (!n.IsNumber() || !first.IsNumber() || n.number() < 0 || first.number() < 0) return nullptr;
    auto data = Decode(*object, limits_.max_object_stream_bytes);
    if (!data) return nullptr;
    auto stream = std::make_shared<ObjectStream>();
    std::size_t pos = 0;
    const auto count = static_cast<std::size_t>(n.number());
    const auto base = static_cast<std::size_t>(first.number());
    try {
        for (std::size_t i = 0; i < count && i < data->size(); ++i) {
            PdfValue num = ParseValue(*data, pos, 2);
            PdfValue off = ParseValue(*data, pos, 2);
            if (!num.IsNumber() || !off.IsNumber() || off.number() < 0) break;
            stream->offsets.emplace_back(static_cast<int>(num.number()),
                                         base + static_cast<std::size_t>(off.number()));
        }
    } catch (const std::exception&) {
        // A header cut short: the objects read so far stay readable.
    }
    stream->data = std::move(*data);
    streams_.emplace_front(number, stream);
    stream_at_[number] = streams_.begin();
    cached_bytes_ += stream->data.size() + stream->offsets.size() * 16;
    while (streams_.size() > 1 && cached_bytes_ > limits_.object_stream_cache_bytes) {
        const auto& [old_number, old] = streams_.back();
        cached_bytes_ -= old->data.size() + old->offsets.size() * 16;
        stream_at_.erase(old_number);
        streams_.pop_back();
    }
    return stream;
}

namespace {

// The object numbers an object's text refers to ("n g R"), up to "endobj" or "stream" (a
// stream's data holds no references) or `end`.
void ScanReferences(std::string_view t, std::size_t pos, std::size_t end, std::vector<int>& out) {
    end = std::min(end, t.size());
    long long ints[2] = {-1, -1};
    auto reset = [&] { ints[0] = ints[1] = -1; };
    while (pos < end) {
        char c = t[pos];
        if (IsWhite(c)) {
            ++pos;
        } else if (c == '%') {
            while (pos < end && t[pos] != '\n' && t[pos] != '\r') ++pos;
        } else if (c == '(') {
            int depth = 0;
            for (++pos; pos < end; ++pos) {
                if (t[pos] == '\\') {
                    ++pos;
                } else if (t[pos] == '(') {
                    ++depth;
                } else if (t[pos] == ')' && depth-- == 0) {
                    ++pos;
                    break;
                }
            }
            reset();
        } else if (c == '<' && pos + 1 < end && t[pos + 1] == '<') {
            pos += 2;
            reset();
        } else if (c == '<') {
            while (pos < end && t[pos] != '>') ++pos;
            ++pos;
            reset();
        } else if (c == '/') {
            for (++pos; pos < end && IsRegular(t[pos]); ++pos) {
            }
            reset();
        } else if (IsDelimiter(c)) {
            ++pos;
            reset();
        } else {
            std::size_t start = pos;
            bool digits = true;
            for (; pos < end && IsRegular(t[pos]); ++pos) {
                if (t[pos] < '0' || t[pos] > '9') digits = false;
            }
            std::string_view token = t.substr(start, pos - start);
            if (digits && token.size() <= 10) {
                ints[0] = ints[1];
                ints[1] = std::stoll(std::string(token));
            } else if (token == "R" && ints[0] >= 0 && ints[1] >= 0 && ints[0] <= INT32_MAX) {
                out.push_back(static_cast<int>(ints[0]));
                reset();
            } else if (token == "endobj" || token == "stream") {
                return;
            } else {
                reset();
            }
        }
    }
}

}  // namespace

std::vector<bool> ObjectReader::Reaching(const std::vector<int>& targets) {
    int max_number = 0;
    for (std::size_t k = 0; k <= revision_ && k < index_.revisions().size(); ++k) {
        const auto& entries = index_.revisions()[k].entries;
        if (!entries.empty()) max_number = std::max(max_number, entries.back().first);
    }
    const auto size = static_cast<std::size_t>(max_number) + 1;
    // Edges from -> to, gathered object by object; object streams are read in order, once.
    std::vector<std::pair<int, int>> edges;
    std::vector<int> refs;
    std::vector<std::pair<int, int>> in_streams;  // (stream, number)
    for (int n = 0; n <= max_number; ++n) {
        auto entry = index_.EntryAt(revision_, n);
        if (!entry || entry->type == XrefEntry::Type::kFree) continue;
        if (entry->type == XrefEntry::Type::kInStream) {
            in_streams.emplace_back(static_cast<int>(entry->position), n);
            continue;
        }
        refs.clear();
        std::size_t pos = static_cast<std::size_t>(entry->position);
        SkipSpace(pdf_, pos);
        // Past "n g obj".
        std::size_t header = pdf_.find("obj", pos);
        if (header == std::string_view::npos || header > pos + 40) continue;
        ScanReferences(pdf_, header + 3, pdf_.size(), refs);
        for (int to : refs) edges.emplace_back(n, to);
    }
    std::sort(in_streams.begin(), in_streams.end());
    for (std::size_t i = 0; i < in_streams.size();) {
        int stream_number = in_streams[i].first;
        auto stream = LoadObjectStream(stream_number);
        std::vector<std::size_t> starts;
        if (stream) {
            for (const auto& [num, offset] : stream->offsets) starts.push_back(offset);
            std::sort(starts.begin(), starts.end());
        }
        for (; i < in_streams.size() && in_streams[i].first == stream_number; ++i) {
            int n = in_streams[i].second;
            if (!stream) continue;
            for (const auto& [num, offset] : stream->offsets) {
                if (num != n) continue;
                auto next = std::upper_bound(starts.begin(), starts.end(), offset);
                refs.clear();
                ScanReferences(stream->data, offset,
                               next == starts.end() ? stream->data.size() : *next, refs);
                for (int to : refs) edges.emplace_back(n, to);
                break;
            }
        }
    }
    // Backwards from the targets.
    std::sort(edges.begin(), edges.end(),
              [](const auto& a, const auto& b) { return a.second < b.second; });
    std::vector<bool> reaching(size, false);
    std::vector<int> queue;
    std::vector<bool> queued(size, false);
    for (int t : targets) {
        if (t >= 0 && static_cast<std::size_t>(t) < size && !queued[static_cast<std::size_t>(t)]) {
            queued[static_cast<std::size_t>(t)] = true;
            queue.push_back(t);
        }
    }
    while (!queue.empty()) {
        int to = queue.back();
        queue.pop_back();
        auto range =
            std::equal_range(edges.begin(), edges.end(), std::make_pair(0, to),
                             [](const auto& a, const auto& b) { return a.second < b.second; });
        for (auto it = range.first; it != range.second; ++it) {
            auto from = static_cast<std::size_t>(it->first);
            if (from >= size || reaching[from]) continue;
            reaching[from] = true;
            if (!queued[from]) {
                queued[from] = true;
                queue.push_back(it->first);
            }
        }
    }
    return reaching;
}

}  // namespace firmo::pdf::internal
