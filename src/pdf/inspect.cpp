#include "pdf/inspect.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <qpdf/QPDFExc.hh>
#include <set>

#include "pdf/object_reader.hpp"
#include "pdf/qpdf_support.hpp"
#include "pdf/revision_diff.hpp"

namespace firmo::pdf {
namespace {

using internal::ByteSource;

// XMP packets are small; a larger "metadata" stream is not worth reading for a claim.
constexpr std::size_t kMaxXmpBytes = 4 * 1024 * 1024;
// A viewer's default page when /MediaBox is missing or broken (US Letter, as Acrobat does).
constexpr Rect kDefaultMediaBox{0, 0, 612, 792};
// Tolerance for rounding in coordinates computed by clients.
constexpr double kEpsilon = 1e-6;
// Page and field trees of real documents are shallow; a loop or a hostile depth must end.
constexpr int kMaxTreeDepth = 64;
// More fields than any form has: the rest are not listed.
constexpr std::size_t kMaxFields = 100'000;

int NormaliseRotate(const internal::PdfValue& rotate) {
    if (!rotate.IsNumber() ||
        rotate.number() != static_cast<double>(static_cast<long long>(rotate.number()))) {
        return 0;
    }
    long long r = static_cast<long long>(rotate.number()) % 360;
    if (r < 0) r += 360;
    return (r % 90 == 0) ? static_cast<int>(r) : 0;
}

// What a page inherits from the page tree nodes above it (7.7.3.4), carried down the walk so
// that no node is read twice.
struct Inherited {
    internal::ValuePtr media_box;
    internal::ValuePtr crop_box;
    internal::ValuePtr rotate;
};

Inherited InheritFrom(internal::ObjectReader& reader, const internal::ValuePtr& node,
                      Inherited from) {
    auto take = [&](const char* key, internal::ValuePtr& slot) {
        if (node->Has(key)) slot = reader.Resolve(internal::Child(node, node->Get(key)));
    };
    take("/MediaBox", from.media_box);
    take("/CropBox", from.crop_box);
    take("/Rotate", from.rotate);
    return from;
}

PageInfo ReadPage(internal::ObjectReader& reader, const Inherited& attributes) {
    static const internal::PdfValue kNull;
    auto value = [&](const internal::ValuePtr& v) -> const internal::PdfValue& {
        return v ? *v : kNull;
    };
    PageInfo info;
    info.media_box =
        internal::RectOf(reader, value(attributes.media_box)).value_or(kDefaultMediaBox);
    if (info.media_box.Width() <= 0 || info.media_box.Height() <= 0) {
        info.media_box = kDefaultMediaBox;
    }
    info.crop_box = info.media_box;
    if (auto crop = internal::RectOf(reader, value(attributes.crop_box))) {
        Rect clipped{
            std::max(crop->llx, info.media_box.llx), std::max(crop->lly, info.media_box.lly),
            std::min(crop->urx, info.media_box.urx), std::min(crop->ury, info.media_box.ury)};
        // A crop box outside the media box is ignored by viewers; so do we.
        if (clipped.Width() > 0 && clipped.Height() > 0) info.crop_box = clipped;
    }
    info.rotate = NormaliseRotate(value(attributes.rotate));
    return info;
}

FieldType ToFieldType(const std::string& ft) {
    if (ft == "/Sig") return FieldType::kSignature;
    if (ft == "/Tx") return FieldType::kText;
    if (ft == "/Btn") return FieldType::kButton;
    if (ft == "/Ch") return FieldType::kChoice;
    return FieldType::kUnknown;
}

// Reads "pdfaid:part" written either as an attribute (pdfaid:part="2") or as an element
// (<pdfaid:part>2</pdfaid:part>); both forms occur in the wild.
std::optional<std::string> XmpProperty(const std::string& xmp, const std::string& name) {
    auto pos = xmp.find(name);
    while (pos != std::string::npos) {
        std::size_t i = pos + name.size();
        while (i < xmp.size() && (xmp[i] == ' ' || xmp[i] == '\n' || xmp[i] == '\r')) ++i;
        char open = i < xmp.size() ? xmp[i] : '\0';
        if (open == '=' || open == '>') {
            ++i;
            while (open == '=' && i < xmp.size() && xmp[i] == ' ') ++i;
            char quote = '\0';
            if (open == '=' && i < xmp.size() && (xmp[i] == '"' || xmp[i] == '\''))
                quote = xmp[i++];
            std::string value;
            while (i < xmp.size() && xmp[i] != '<' && xmp[i] != quote && value.size() < 8) {
                value.push_back(xmp[i++]);
            }
            if (!value.empty()) return value;
        }
        pos = xmp.find(name, pos + 1);
    }
    return std::nullopt;
}

std::optional<PdfAClaim> ReadPdfAClaim(internal::ObjectReader& reader) {
    internal::ValuePtr root = reader.Root();
    internal::ValuePtr metadata = reader.Resolve(internal::Child(root, root->Get("/Metadata")));
    auto xmp = reader.Decode(*metadata, kMaxXmpBytes);
    if (!xmp) return std::nullopt;
    auto part = XmpProperty(*xmp, "pdfaid:part");
    if (!part || part->size() != 1 || (*part)[0] < '1' || (*part)[0] > '4') return std::nullopt;
    PdfAClaim claim;
    claim.part = (*part)[0] - '0';
    claim.conformance = XmpProperty(*xmp, "pdfaid:conformance").value_or("");
    return claim;
}

}  // namespace

namespace {

// Decodes every stream into a byte counter (never holding the data) and fails with
// kPayloadTooLarge on a decompression bomb.
Result<void> ScanStreams(internal::ObjectReader& reader, const internal::RevisionIndex& index,
                         const PdfLimits& limits) {
    std::set<int> numbers;
    for (const auto& r : index.revisions()) {
        for (const auto& [n, e] : r.entries) {
            if (e.type == internal::XrefEntry::Type::kInFile) numbers.insert(n);
        }
    }
    std::uint64_t total = 0;
    for (int n : numbers) {
        auto entry = index.EntryAt(index.last(), n);
        if (!entry || entry->type != internal::XrefEntry::Type::kInFile) continue;
        internal::ValuePtr object = reader.Get(n);
        if (!object->IsStream()) continue;
        bool over = false;
        auto size = reader.DecodedSize(
            *object,
            std::min(limits.max_decoded_stream_bytes, limits.max_decoded_total_bytes - total),
            &over);
        if (over) return Fail(ErrorCode::kPayloadTooLarge, std::string(internal::kReasonBomb));
        total += size.value_or(0);
    }
    return {};
}

// The fields of the form, walked from /Fields: fully qualified names, types (inherited),
// whether signed, and their widgets.
struct WalkedField {
    std::string name;
    FieldType type = FieldType::kUnknown;
    bool is_signed = false;
    internal::ObjectRef object;
    std::vector<internal::ObjectRef> widgets;
    internal::ValuePtr first_widget;
};

std::vector<WalkedField> WalkFields(internal::ObjectReader& reader) {
    using internal::Child;
    using internal::ValuePtr;
    std::vector<WalkedField> out;
    ValuePtr root = reader.Root();
    ValuePtr form = reader.Resolve(Child(root, root->Get("/AcroForm")));
    ValuePtr fields = reader.Resolve(Child(form, form->Get("/Fields")));
    struct Node {
        ValuePtr owner;
        const internal::PdfValue* entry;
        std::string parent_name;
        std::string type;
        int depth;
    };
    std::vector<Node> stack;
    auto push_all = [&](const ValuePtr& list, const std::string& name, const std::string& type,
                        int depth) {
        const auto& items = list->items();
        for (auto it = items.rbegin(); it != items.rend(); ++it) {
            stack.push_back({list, &*it, name, type, depth});
        }
    };
    push_all(fields, "", "", 0);
    std::set<int> seen;
    while (!stack.empty() && out.size() < kMaxFields) {
        Node node = std::move(stack.back());
        stack.pop_back();
        if (!node.entry->IsReference() || node.depth > kMaxTreeDepth) continue;
        internal::ObjectRef ref = node.entry->ref();
        if (!seen.insert(ref.number).second) continue;
        ValuePtr dict = reader.Get(ref.number);
        if (!dict->IsDictionary()) continue;
        std::string name = node.parent_name;
        if (dict->Get("/T").IsString()) {
            name += (name.empty() ? "" : ".") + internal::TextToUtf8(dict->Get("/T").text());
        }
        std::string type = dict->Get("/FT").IsName() ? dict->Get("/FT").text() : node.type;
        ValuePtr kids = reader.Resolve(Child(dict, dict->Get("/Kids")));
        bool field_kids = false;
        for (const auto& kid : kids->items()) {
            ValuePtr k = reader.Resolve(Child(kids, kid));
            if (k->IsDictionary() && k->Has("/T")) field_kids = true;
        }
        if (field_kids) {
            push_all(kids, name, type, node.depth + 1);
            continue;
        }
        WalkedField f;
        f.name = name;
        f.type = ToFieldType(type);
        f.object = ref;
        if (f.type == FieldType::kSignature) {
            f.is_signed = reader.Resolve(Child(dict, dict->Get("/V")))->IsDictionary();
        }
        if (kids->IsArray() && !kids->items().empty()) {
            for (const auto& kid : kids->items()) {
                if (!kid.IsReference()) continue;
                f.widgets.push_back(kid.ref());
                if (!f.first_widget) f.first_widget = reader.Get(kid.ref().number);
            }
        } else {
            f.widgets.push_back(ref);
            f.first_widget = dict;
        }
        out.push_back(std::move(f));
    }
    return out;
}

}  // namespace

namespace internal {

Result<Inspection> InspectDocument(std::string_view pdf, QPDF& qpdf, const PdfLimits& limits,
                                   bool read_pdfa) {
    MemorySource source(pdf);
    Inspection out;
    PdfInfo& info = out.info;
    info.version = HeaderVersion(source);
    info.last_xref_kind = LastXrefKind(source).value_or(XrefKind::kTable);
    // What qpdf had to repair to open the file (a rebuilt cross-reference table): damage.
    info.warnings = TakeWarnings(qpdf);
    auto read = RevisionIndex::Read(pdf);
    if (!read && read.error().code == ErrorCode::kPayloadTooLarge) {
        return Fail(std::move(read).error());
    }
    out.index =
        std::make_unique<RevisionIndex>(read ? std::move(*read) : RepairedIndex(qpdf, pdf.size()));
    const RevisionIndex& index = *out.index;
    if (!read) info.warnings.push_back("its cross-reference data cannot be read as written");
    out.reader = std::make_unique<ObjectReader>(pdf, index, index.last());
    ObjectReader& reader = *out.reader;
    if (!read) {
        std::size_t pos = 0;
        reader.OverrideTrailer(ParseValue(qpdf.getTrailer().unparse(), pos));
    }

    // /Count is checked before walking the tree, so a lying-but-huge tree is not walked for
    // nothing; the walk below checks the real number again.
    ValuePtr root = reader.Root();
    ValuePtr tree = reader.Resolve(Child(root, root->Get("/Pages")));
    const PdfValue& count = tree->Get("/Count");
    if (count.IsNumber() && count.number() > limits.max_pages) {
        return Fail(ErrorCode::kPayloadTooLarge,
                    "the PDF has more than " + std::to_string(limits.max_pages) + " pages");
    }
    if (limits.scan_streams) FIRMO_CHECK(ScanStreams(reader, index, limits));

    // The page tree, depth first; a page object met twice (a loop, or a page listed twice)
    // counts once, as qpdf counts it.
    std::map<int, int> annotation_page;
    struct Node {
        ValuePtr dict;
        std::optional<ObjectRef> ref;
        Inherited inherited;
    };
    std::vector<Node> stack;
    stack.push_back({tree,
                     root->Get("/Pages").IsReference()
                         ? std::optional<ObjectRef>(root->Get("/Pages").ref())
                         : std::nullopt,
                     {}});
    std::set<int> seen;
    while (!stack.empty()) {
        Node node = std::move(stack.back());
        stack.pop_back();
        if (node.ref && !seen.insert(node.ref->number).second) continue;
        node.dict = reader.Resolve(node.dict);  // read when its turn comes, not when listed
        if (!node.dict->IsDictionary()) continue;
        Inherited inherited = InheritFrom(reader, node.dict, node.inherited);
        ValuePtr kids = reader.Resolve(Child(node.dict, node.dict->Get("/Kids")));
        if (kids->IsArray() && node.dict->Get("/Type").NameOr() != "/Page") {
            const auto& items = kids->items();
            for (auto it = items.rbegin(); it != items.rend(); ++it) {
                stack.push_back(
                    {Child(kids, *it),
                     it->IsReference() ? std::optional<ObjectRef>(it->ref()) : std::nullopt,
                     inherited});
            }
            continue;
        }
        if (!node.ref) continue;  // a page must be an indirect object
        if (out.pages.size() >= static_cast<std::size_t>(limits.max_pages)) {
            return Fail(ErrorCode::kPayloadTooLarge,
                        "the PDF has more than " + std::to_string(limits.max_pages) + " pages");
        }
        int index_of_page = static_cast<int>(out.pages.size());
        out.pages.push_back(*node.ref);
        info.pages.push_back(ReadPage(reader, inherited));
        ValuePtr annots = reader.Resolve(Child(node.dict, node.dict->Get("/Annots")));
        for (const auto& annot : annots->items()) {
            if (annot.IsReference()) annotation_page.emplace(annot.ref().number, index_of_page);
        }
    }
    info.page_count = static_cast<int>(out.pages.size());

    for (auto& f : WalkFields(reader)) {
        FormField field;
        field.name = f.name;
        field.type = f.type;
        field.is_signed = f.is_signed;
        if (f.is_signed) ++info.signature_count;
        if (f.first_widget) {
            if (auto rect = RectOf(reader, f.first_widget->Get("/Rect"))) field.rect = *rect;
        }
        if (!f.widgets.empty()) {
            auto it = annotation_page.find(f.widgets.front().number);
            if (it != annotation_page.end()) field.page_index = it->second;
        }
        info.fields.push_back(std::move(field));
        out.fields.emplace(f.name, Inspection::Field{f.object, std::move(f.widgets)});
    }
    if (read_pdfa) info.pdfa = ReadPdfAClaim(reader);
    if (reader.unreadable() > 0) {
        info.warnings.push_back(std::to_string(reader.unreadable()) +
                                " of its objects cannot be read");
    }
    return out;
}

}  // namespace internal

namespace {

Result<PdfInfo> InspectOpened(std::string_view pdf, Result<std::unique_ptr<QPDF>> opened,
                              const PdfLimits& limits) {
    if (!opened) return Fail(std::move(opened).error());
    try {
        FIRMO_TRY(internal::Inspection inspection,
                  internal::InspectDocument(pdf, **opened, limits));
        return std::move(inspection.info);
    } catch (const QPDFExc&) {
        return Fail(ErrorCode::kMalformed, std::string(internal::kReasonDamaged));
    } catch (const std::bad_alloc&) {
        return Fail(ErrorCode::kPayloadTooLarge, std::string(internal::kReasonBomb));
    } catch (const std::exception&) {
        return Fail(ErrorCode::kMalformed, std::string(internal::kReasonDamaged));
    }
}

Result<void> CheckSize(std::uint64_t size, const PdfLimits& limits) {
    if (size > limits.max_file_bytes) {
        return Fail(
            ErrorCode::kPayloadTooLarge,
            "the PDF file is larger than " + std::to_string(limits.max_file_bytes) + " bytes");
    }
    return {};
}

}  // namespace

double PageInfo::DisplayWidth() const {
    return (rotate == 90 || rotate == 270) ? crop_box.Height() : crop_box.Width();
}

double PageInfo::DisplayHeight() const {
    return (rotate == 90 || rotate == 270) ? crop_box.Width() : crop_box.Height();
}

std::string_view ToString(FieldType type) {
    switch (type) {
        case FieldType::kSignature:
            return "signature";
        case FieldType::kText:
            return "text";
        case FieldType::kButton:
            return "button";
        case FieldType::kChoice:
            return "choice";
        case FieldType::kUnknown:
            break;
    }
    return "unknown";
}

Result<PdfInfo> InspectPdfBytes(std::string_view pdf, const PdfLimits& limits) {
    try {
        internal::MemorySource source(pdf);
        FIRMO_CHECK(CheckSize(source.Size(), limits));
        FIRMO_CHECK(internal::CheckHeader(source));
        return InspectOpened(pdf, internal::OpenMemory(pdf), limits);
    } catch (...) {
        // Last resort: the contract is "never throws", whatever a dependency does.
        return Fail(ErrorCode::kInternal, "unexpected failure while reading the PDF");
    }
}

Result<PdfInfo> InspectPdfFile(const std::filesystem::path& pdf, const PdfLimits& limits) {
    try {
        FIRMO_TRY(auto source, internal::FileSource::Open(pdf));
        FIRMO_CHECK(CheckSize(source->Size(), limits));
        FIRMO_CHECK(internal::CheckHeader(*source));
        FIRMO_TRY(auto mapped, internal::MappedFile::Open(pdf));
        return InspectOpened(mapped->bytes(), internal::OpenMemory(mapped->bytes()), limits);
    } catch (...) {
        return Fail(ErrorCode::kInternal, "unexpected failure while reading the PDF");
    }
}

std::optional<Rect> PlaceOnPage(const PageInfo& page, double x, double y, double w, double h) {
    if (!(w > 0) || !(h > 0) || !(x >= -kEpsilon) || !(y >= -kEpsilon)) return std::nullopt;
    if (x + w > page.DisplayWidth() + kEpsilon || y + h > page.DisplayHeight() + kEpsilon) {
        return std::nullopt;
    }
    const Rect& c = page.crop_box;
    // (x, y) is measured on the page as displayed; map the displayed corners back through the
    // clockwise /Rotate to default user space.
    switch (page.rotate) {
        case 90:
            return Rect{c.llx + y, c.lly + x, c.llx + y + h, c.lly + x + w};
        case 180:
            return Rect{c.urx - x - w, c.lly + y, c.urx - x, c.lly + y + h};
        case 270:
            return Rect{c.urx - y - h, c.ury - x - w, c.urx - y, c.ury - x};
        default:
            return Rect{c.llx + x, c.ury - y - h, c.llx + x + w, c.ury - y};
    }
}

}  // namespace firmo::pdf
