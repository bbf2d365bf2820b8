#pragma once
// QR codes for the signer pages (a signing link to open on a phone): SVG to inline in HTML and
// PNG for e-mail or download. Error correction level M, 8-bit mode, a 4-module quiet zone.
// Pure and thread-safe.

#include <string>
#include <string_view>

#include "core/error.hpp"

namespace firmo::web {

// Longest text accepted (a link with a token is far shorter); longer is kInvalidArgument.
inline constexpr std::size_t kMaxQrTextBytes = 1024;
// Pixels per module accepted by QrSvg and QrPng.
inline constexpr int kMinQrModulePx = 1;
inline constexpr int kMaxQrModulePx = 32;

// A standalone SVG document: white background, one <path> for the dark modules, viewBox in
// modules, width/height in pixels, shape-rendering="crispEdges" and a <title> (XML-escaped).
// kInvalidArgument for empty or too long text or module_px out of range.
[[nodiscard]] Result<std::string> QrSvg(std::string_view text, int module_px = 8,
                                        std::string_view title = "QR code");

// A 1-bit grayscale PNG (dark modules black), the same geometry as QrSvg.
[[nodiscard]] Result<std::string> QrPng(std::string_view text, int module_px = 8);

}  // namespace firmo::web
