#pragma once
// Internal to src/pdf: the font of visible signature appearances when the document claims
// PDF/A (which requires embedded fonts): a Type 1 font file and its AFM metrics, by default
// URW's Nimbus Sans (Debian fonts-urw-base35), embedded with WinAnsiEncoding widths.

#include <filesystem>
#include <string>

#include "core/error.hpp"

namespace firmo::pdf::internal {

struct EmbeddableFont {
    std::string font_name;  // PostScript name, e.g. "NimbusSans-Regular"
    std::string widths;     // "[w32 ... w255]" for /Widths, WinAnsi codes 32-255
    std::string
        descriptor_keys;      // /Flags /FontBBox /ItalicAngle /Ascent /Descent /CapHeight /StemV
    std::string font_file;    // cleartext + binary eexec part + zeros trailer
    std::size_t length1 = 0;  // cleartext part
    std::size_t length2 = 0;  // eexec part
    std::size_t length3 = 0;  // trailer
    double average_width = 0.55;  // ems, for fitting text
};

// LoadType1Font once per path for the life of the process (thread-safe); the font is
// immutable once loaded.
[[nodiscard]] Result<const EmbeddableFont*> CachedType1Font(const std::filesystem::path& file);

// Reads a Type 1 font (PFA with binary eexec, or PFB) and its AFM file (same name, .afm).
[[nodiscard]] Result<EmbeddableFont> LoadType1Font(const std::filesystem::path& font_file);

}  // namespace firmo::pdf::internal
