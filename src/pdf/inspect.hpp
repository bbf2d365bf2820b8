#pragma once
// Read-only inspection of an untrusted PDF: pages and their boxes, AcroForm fields, signatures,
// encryption and PDF/A claim. Everything is parsed with limits (size, pages, decoded stream
// bytes) so a hostile file costs bounded memory and time. Functions are thread-safe and never
// throw.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace firmo::pdf {

// Limits applied to every untrusted PDF. The defaults suit contracts and forms; the upload
// worker may tighten them from configuration.
struct PdfLimits {
    std::uint64_t max_file_bytes = 100ULL * 1024 * 1024;
    int max_pages = 5'000;
    // Streams are decoded only into a counter (never held), but decoding still costs time: a
    // stream expanding past this is treated as a decompression bomb.
    std::uint64_t max_decoded_stream_bytes = 256ULL * 1024 * 1024;
    // Budget for all decoded streams of one document together.
    std::uint64_t max_decoded_total_bytes = 1024ULL * 1024 * 1024;
    // Whether to decode every stream to look for bombs (off only for already-trusted files).
    bool scan_streams = true;
};

// A rectangle in PDF default user space (points), normalised so that llx <= urx, lly <= ury.
struct Rect {
    double llx = 0;
    double lly = 0;
    double urx = 0;
    double ury = 0;
    double Width() const { return urx - llx; }
    double Height() const { return ury - lly; }
    friend bool operator==(const Rect&, const Rect&) = default;
};

struct PageInfo {
    Rect media_box;
    Rect crop_box;   // already intersected with the media box; the media box when absent
    int rotate = 0;  // 0, 90, 180 or 270 (clockwise, as /Rotate)
    // Size as a viewer shows the page: the crop box, with sides swapped for 90/270.
    double DisplayWidth() const;
    double DisplayHeight() const;
};

enum class FieldType { kSignature, kText, kButton, kChoice, kUnknown };
std::string_view ToString(FieldType type);

struct FormField {
    std::string name;  // fully qualified ("parent.child")
    FieldType type = FieldType::kUnknown;
    bool is_signed = false;  // signature fields only: /V holds a signature dictionary
    int page_index = -1;     // page of its first widget, from 0; -1 when on no page
    Rect rect;               // of its first widget
};

enum class XrefKind { kTable, kStream };

struct PdfAClaim {
    int part = 0;             // 1, 2, 3 or 4
    std::string conformance;  // "A", "B", "U" or empty
};

struct PdfInfo {
    std::string version;  // header version, e.g. "1.7"
    int page_count = 0;
    std::vector<PageInfo> pages;
    std::vector<FormField> fields;
    int signature_count = 0;  // signed signature fields
    std::optional<PdfAClaim> pdfa;
    XrefKind last_xref_kind = XrefKind::kTable;
    // Damage: what qpdf repaired while opening (a rebuilt cross-reference table), objects
    // that cannot be read, cross-reference data that cannot be read as written. Not fatal to
    // inspect, but a damaged file must not be signed. (What qpdf's form helpers complain
    // about is not damage and not here.)
    std::vector<std::string> warnings;
};

// Errors: kMalformed (not a PDF, unreadable), kUnsupportedMediaType (encrypted),
// kPayloadTooLarge (over max_file_bytes, too many pages, decompression bomb). The message is
// a stable English sentence suitable as a violation reason.
[[nodiscard]] Result<PdfInfo> InspectPdfBytes(std::string_view pdf, const PdfLimits& limits = {});
[[nodiscard]] Result<PdfInfo> InspectPdfFile(const std::filesystem::path& pdf,
                                             const PdfLimits& limits = {});

// Where a field given from the page's top-left (as shown, so after /Rotate) lands in default
// user space; nullopt when it does not fit inside the page's crop box or has no area.
std::optional<Rect> PlaceOnPage(const PageInfo& page, double x, double y, double w, double h);

}  // namespace firmo::pdf
