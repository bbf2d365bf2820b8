#pragma once
// Internal to src/pdf: where a page draws something that carries meaning (text, images, filled
// shapes, annotations with an appearance), as rectangles in default user space. Verification
// asks it whether a widget or annotation added after a signature covers signed content. It is
// an estimate that errs towards "drawn": glyph boxes from the font's widths, images and
// shadings from their placement, filled paths per subpath; thin rules (lines, underscores,
// dots), white fills and strokes do not count, so a signature may sit on its signature line.

#include <cstdint>
#include <qpdf/QPDFObjectHandle.hh>
#include <vector>

#include "pdf/inspect.hpp"

namespace firmo::pdf::internal {

struct ContentLimits {
    std::uint64_t max_operators = 2'000'000;
    std::uint64_t max_decoded_bytes = 32ULL * 1024 * 1024;
    int max_form_depth = 8;
};

struct DrawnAreas {
    std::vector<Rect> rects;
    // Not analysed (unreadable, over the limits): treat the whole page as drawn.
    bool everywhere = false;
    // Whether `r` overlaps drawn content by more than a sliver.
    bool Covers(const Rect& r) const;
};

// The page's content streams (with the form XObjects they paint) and its visible annotations.
// Never throws.
DrawnAreas PageDrawnAreas(QPDFObjectHandle page, const ContentLimits& limits = {});

}  // namespace firmo::pdf::internal
