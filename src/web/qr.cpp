#include "web/qr.hpp"

#include <png.h>
#include <qrencode.h>

#include <csetjmp>
#include <memory>
#include <vector>

#include "core/encoding.hpp"

namespace firmo::web {
namespace {

constexpr int kQuietZone = 4;

using QrPtr = std::unique_ptr<QRcode, decltype(&QRcode_free)>;

// The symbol as rows of booleans (true = dark), quiet zone not included.
struct Symbol {
    int width = 0;
    std::vector<bool> dark;
    bool at(int x, int y) const {
        return dark[static_cast<std::size_t>(y) * static_cast<std::size_t>(width) +
                    static_cast<std::size_t>(x)];
    }
};

Result<Symbol> Encode(std::string_view text, int module_px) {
    if (text.empty() || text.size() > kMaxQrTextBytes) {
        return Fail(ErrorCode::kInvalidArgument,
                    "a QR code holds 1 to " + std::to_string(kMaxQrTextBytes) + " bytes");
    }
    if (module_px < kMinQrModulePx || module_px > kMaxQrModulePx) {
        return Fail(ErrorCode::kInvalidArgument,
                    "QR module size must be 1 to " + std::to_string(kMaxQrModulePx) + " pixels");
    }
    // Version 0: the smallest symbol that holds the data. encodeData is always 8-bit mode.
    QrPtr qr(
        QRcode_encodeData(static_cast<int>(text.size()),
                          reinterpret_cast<const unsigned char*>(text.data()), 0, QR_ECLEVEL_M),
        QRcode_free);
    if (!qr) return Fail(ErrorCode::kInternal, "cannot encode the QR code");
    Symbol symbol;
    symbol.width = qr->width;
    const auto cells = static_cast<std::size_t>(qr->width) * static_cast<std::size_t>(qr->width);
    symbol.dark.resize(cells);
    // Bit 0 of each byte is the module's colour; the other bits describe its role.
    for (std::size_t i = 0; i < cells; ++i) symbol.dark[i] = (qr->data[i] & 1) != 0;
    return symbol;
}

// Control characters are not allowed in XML 1.0 at all: dropped, the rest escaped.
std::string EscapeXml(std::string_view s) {
    std::string kept;
    for (char c : s) {
        if (static_cast<unsigned char>(c) >= 0x20 || c == '\t' || c == '\n') kept.push_back(c);
    }
    return EscapeMarkup(kept);
}

struct PngSink {
    std::string* out;
    bool failed = false;
};

void PngWrite(png_structp png, png_bytep data, png_size_t length) {
    auto* sink = static_cast<PngSink*>(png_get_io_ptr(png));
    try {
        sink->out->append(reinterpret_cast<const char*>(data), length);
    } catch (...) {
        sink->failed = true;
        png_error(png, "out of memory");
    }
}

void PngFlush(png_structp) {}

// Nothing with a destructor lives in this frame: libpng reports errors by longjmp to here.
bool WritePng(png_structp png, png_infop info, png_uint_32 size, png_bytepp rows) {
    if (setjmp(png_jmpbuf(png))) return false;
    png_set_IHDR(png, info, size, size, 1, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    png_write_image(png, rows);
    png_write_end(png, nullptr);
    return true;
}

}  // namespace

Result<std::string> QrSvg(std::string_view text, int module_px, std::string_view title) {
    FIRMO_TRY(const Symbol symbol, Encode(text, module_px));
    const int size = symbol.width + 2 * kQuietZone;
    const std::string px = std::to_string(size * module_px);
    const std::string modules = std::to_string(size);
    std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + modules + " " +
                      modules + "\" width=\"" + px + "\" height=\"" + px +
                      "\" shape-rendering=\"crispEdges\" role=\"img\"><title>" + EscapeXml(title) +
                      "</title><rect width=\"" + modules + "\" height=\"" + modules +
                      "\" fill=\"#fff\"/><path fill=\"#000\" d=\"";
    // One sub-path per horizontal run of dark modules.
    for (int y = 0; y < symbol.width; ++y) {
        for (int x = 0; x < symbol.width;) {
            if (!symbol.at(x, y)) {
                ++x;
                continue;
            }
            int run = 0;
            while (x + run < symbol.width && symbol.at(x + run, y)) ++run;
            svg.append("M")
                .append(std::to_string(x + kQuietZone))
                .append(" ")
                .append(std::to_string(y + kQuietZone))
                .append("h")
                .append(std::to_string(run))
                .append("v1h-")
                .append(std::to_string(run))
                .append("z");
            x += run;
        }
    }
    svg.append("\"/></svg>");
    return svg;
}

Result<std::string> QrPng(std::string_view text, int module_px) {
    FIRMO_TRY(const Symbol symbol, Encode(text, module_px));
    const int modules = symbol.width + 2 * kQuietZone;
    const auto size = static_cast<std::size_t>(modules) * static_cast<std::size_t>(module_px);
    const std::size_t row_bytes = (size + 7) / 8;

    // 1-bit gray: a set bit is white. Rows start white; dark modules clear their bits.
    std::vector<std::vector<png_byte>> rows(size, std::vector<png_byte>(row_bytes, 0xFF));
    for (int y = 0; y < symbol.width; ++y) {
        for (int x = 0; x < symbol.width; ++x) {
            if (!symbol.at(x, y)) continue;
            for (int dy = 0; dy < module_px; ++dy) {
                auto& row = rows[static_cast<std::size_t>((y + kQuietZone) * module_px + dy)];
                for (int dx = 0; dx < module_px; ++dx) {
                    const auto px = static_cast<std::size_t>((x + kQuietZone) * module_px + dx);
                    row[px / 8] = static_cast<png_byte>(row[px / 8] & ~(0x80u >> (px % 8)));
                }
            }
        }
    }
    std::vector<png_bytep> row_pointers;
    row_pointers.reserve(size);
    for (auto& row : rows) row_pointers.push_back(row.data());

    std::string out;
    PngSink sink{&out};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
    png_infop info = png != nullptr ? png_create_info_struct(png) : nullptr;
    if (info == nullptr) {
        png_destroy_write_struct(&png, nullptr);
        return Fail(ErrorCode::kInternal, "cannot start a PNG");
    }
    png_set_write_fn(png, &sink, PngWrite, PngFlush);
    const bool ok = WritePng(png, info, static_cast<png_uint_32>(size), row_pointers.data());
    png_destroy_write_struct(&png, &info);
    if (!ok || sink.failed) return Fail(ErrorCode::kInternal, "cannot write the PNG");
    return out;
}

}  // namespace firmo::web
