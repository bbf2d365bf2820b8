#include "pdf/inspect.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <qpdf/QPDFAcroFormDocumentHelper.hh>
#include <qpdf/QPDFExc.hh>
#include <qpdf/QPDFPageDocumentHelper.hh>

#include "pdf/qpdf_support.hpp"

namespace firmo::pdf {
namespace {

using internal::ByteSource;

// XMP packets are small; a larger "metadata" stream is not worth reading for a claim.
constexpr std::size_t kMaxXmpBytes = 4 * 1024 * 1024;
// A viewer's default page when /MediaBox is missing or broken (US Letter, as Acrobat does).
constexpr Rect kDefaultMediaBox{0, 0, 612, 792};
// Tolerance for rounding in coordinates computed by clients.
constexpr double kEpsilon = 1e-6;

int NormaliseRotate(QPDFObjectHandle rotate) {
    if (!rotate.isInteger()) return 0;
    long long r = rotate.getIntValue() % 360;
    if (r < 0) r += 360;
    return (r % 90 == 0) ? static_cast<int>(r) : 0;
}

PageInfo ReadPage(QPDFPageObjectHelper& page) {
    PageInfo info;
    info.media_box =
        internal::ToRect(page.getAttribute("/MediaBox", false)).value_or(kDefaultMediaBox);
    if (info.media_box.Width() <= 0 || info.media_box.Height() <= 0) {
        info.media_box = kDefaultMediaBox;
    }
    info.crop_box = info.media_box;
    if (auto crop = internal::ToRect(page.getAttribute("/CropBox", false))) {
        Rect clipped{
            std::max(crop->llx, info.media_box.llx), std::max(crop->lly, info.media_box.lly),
            std::min(crop->urx, info.media_box.urx), std::min(crop->ury, info.media_box.ury)};
        // A crop box outside the media box is ignored by viewers; so do we.
        if (clipped.Width() > 0 && clipped.Height() > 0) info.crop_box = clipped;
    }
    info.rotate = NormaliseRotate(page.getAttribute("/Rotate", false));
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

std::optional<PdfAClaim> ReadPdfAClaim(QPDF& qpdf) {
    auto metadata = qpdf.getRoot().getKey("/Metadata");
    auto xmp = internal::ReadStreamCapped(metadata, kMaxXmpBytes);
    if (!xmp) return std::nullopt;
    auto part = XmpProperty(*xmp, "pdfaid:part");
    if (!part || part->size() != 1 || (*part)[0] < '1' || (*part)[0] > '4') return std::nullopt;
    PdfAClaim claim;
    claim.part = (*part)[0] - '0';
    claim.conformance = XmpProperty(*xmp, "pdfaid:conformance").value_or("");
    return claim;
}

}  // namespace

namespace internal {

Result<PdfInfo> InspectQpdf(QPDF& qpdf, const ByteSource& source, const PdfLimits& limits) {
    PdfInfo info;
    info.version = internal::HeaderVersion(source);
    info.last_xref_kind = internal::LastXrefKind(source).value_or(XrefKind::kTable);

    // /Count is checked before walking the tree, so a lying-but-huge tree is not walked for
    // nothing; the walk below checks the real number again.
    auto count = qpdf.getRoot().getKey("/Pages").getKey("/Count");
    if (count.isInteger() && count.getIntValue() > limits.max_pages) {
        return Fail(ErrorCode::kPayloadTooLarge,
                    "the PDF has more than " + std::to_string(limits.max_pages) + " pages");
    }
    if (limits.scan_streams) FIRMO_CHECK(internal::ScanStreams(qpdf, limits));

    QPDFPageDocumentHelper page_helper(qpdf);
    auto pages = page_helper.getAllPages();
    if (pages.size() > static_cast<std::size_t>(limits.max_pages)) {
        return Fail(ErrorCode::kPayloadTooLarge,
                    "the PDF has more than " + std::to_string(limits.max_pages) + " pages");
    }
    info.page_count = static_cast<int>(pages.size());
    std::map<QPDFObjGen, int> annotation_page;
    for (std::size_t i = 0; i < pages.size(); ++i) {
        info.pages.push_back(ReadPage(pages[i]));
        auto annots = pages[i].getObjectHandle().getKey("/Annots");
        if (!annots.isArray()) continue;
        for (auto& annot : annots.aitems()) {
            if (annot.isIndirect()) annotation_page.emplace(annot.getObjGen(), static_cast<int>(i));
        }
    }

    QPDFAcroFormDocumentHelper acroform(qpdf);
    if (acroform.hasAcroForm()) {
        for (auto& field : acroform.getFormFields()) {
            FormField out;
            out.name = field.getFullyQualifiedName();
            out.type = ToFieldType(field.getFieldType());
            if (out.type == FieldType::kSignature) {
                out.is_signed = field.getValue().isDictionary();
                if (out.is_signed) ++info.signature_count;
            }
            auto widgets = acroform.getAnnotationsForField(field);
            if (!widgets.empty()) {
                auto widget = widgets.front().getObjectHandle();
                if (auto rect = internal::ToRect(widget.getKey("/Rect"))) out.rect = *rect;
                auto it = annotation_page.find(widget.getObjGen());
                if (it != annotation_page.end()) out.page_index = it->second;
            }
            info.fields.push_back(std::move(out));
        }
    }
    info.pdfa = ReadPdfAClaim(qpdf);
    info.warnings = internal::TakeWarnings(qpdf);
    return info;
}

}  // namespace internal

namespace {

Result<PdfInfo> InspectOpened(Result<std::unique_ptr<QPDF>> opened, const ByteSource& source,
                              const PdfLimits& limits) {
    if (!opened) return Fail(std::move(opened).error());
    try {
        return internal::InspectQpdf(**opened, source, limits);
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
        return InspectOpened(internal::OpenMemory(pdf), source, limits);
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
        return InspectOpened(internal::OpenFile(pdf), *source, limits);
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
