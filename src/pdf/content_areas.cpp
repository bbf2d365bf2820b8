#include "pdf/content_areas.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <qpdf/QPDF.hh>
#include <qpdf/QPDFPageObjectHelper.hh>
#include <stdexcept>
#include <string>

#include "pdf/qpdf_support.hpp"

namespace firmo::pdf::internal {
namespace {

// Shapes thinner than this (points) are rules: table borders, signature lines.
constexpr double kRule = 1.5;
// Overlaps smaller than this on either side are edges touching, not covering.
constexpr double kSliver = 0.5;
// Glyph box in text space, in ems: a little below the baseline to a full em above it.
constexpr double kDescent = 0.3;
constexpr double kAscent = 1.0;
// Width of a glyph whose font gives none (the standard 14 fonts): a wide average.
constexpr double kDefaultWidth = 0.6;
constexpr double kHuge = 1e7;

struct Matrix {
    double a = 1, b = 0, c = 0, d = 1, e = 0, f = 0;
    // this × m (PDF's row-vector convention: apply this, then m).
    Matrix Then(const Matrix& m) const {
        return {a * m.a + b * m.c, a * m.b + b * m.d,       c * m.a + d * m.c,
                c * m.b + d * m.d, e * m.a + f * m.c + m.e, e * m.b + f * m.d + m.f};
    }
    void Apply(double x, double y, double& ox, double& oy) const {
        ox = a * x + c * y + e;
        oy = b * x + d * y + f;
    }
};

Rect Transform(const Rect& r, const Matrix& m) {
    double xs[4];
    double ys[4];
    m.Apply(r.llx, r.lly, xs[0], ys[0]);
    m.Apply(r.urx, r.lly, xs[1], ys[1]);
    m.Apply(r.llx, r.ury, xs[2], ys[2]);
    m.Apply(r.urx, r.ury, xs[3], ys[3]);
    return {*std::min_element(xs, xs + 4), *std::min_element(ys, ys + 4),
            *std::max_element(xs, xs + 4), *std::max_element(ys, ys + 4)};
}

std::optional<Rect> Intersect(const Rect& a, const Rect& b) {
    Rect r{std::max(a.llx, b.llx), std::max(a.lly, b.lly), std::min(a.urx, b.urx),
           std::min(a.ury, b.ury)};
    if (r.Width() < 0 || r.Height() < 0) return std::nullopt;
    return r;
}

std::optional<Matrix> MatrixOf(QPDFObjectHandle array) {
    if (!array.isArray() || array.getArrayNItems() != 6) return std::nullopt;
    double v[6];
    for (int i = 0; i < 6; ++i) {
        QPDFObjectHandle item = array.getArrayItem(i);
        if (!item.isNumber()) return std::nullopt;
        v[i] = item.getNumericValue();
    }
    return Matrix{v[0], v[1], v[2], v[3], v[4], v[5]};
}

// Advance widths of a font, in text space units per unit of font size.
class FontWidths {
  public:
    explicit FontWidths(QPDFObjectHandle font) {
        if (!font.isDictionary()) return;
        std::string subtype =
            font.getKey("/Subtype").isName() ? font.getKey("/Subtype").getName() : "";
        if (subtype == "/Type0") {
            two_byte_ = true;
            QPDFObjectHandle descendants = font.getKey("/DescendantFonts");
            QPDFObjectHandle cid = descendants.isArray() && descendants.getArrayNItems() > 0
                                       ? descendants.getArrayItem(0)
                                       : QPDFObjectHandle::newNull();
            if (cid.getKey("/DW").isNumber())
                default_ = cid.getKey("/DW").getNumericValue() / 1000;
            else
                default_ = 1.0;
            ReadCidWidths(cid.getKey("/W"));
            return;
        }
        double scale = 0.001;
        if (subtype == "/Type3") {
            if (auto m = MatrixOf(font.getKey("/FontMatrix"))) scale = std::abs(m->a);
            default_ = 0;
        }
        QPDFObjectHandle first = font.getKey("/FirstChar");
        QPDFObjectHandle widths = font.getKey("/Widths");
        if (first.isInteger() && widths.isArray()) {
            first_ = static_cast<int>(first.getIntValue());
            int n = std::min(widths.getArrayNItems(), 256);
            for (int i = 0; i < n; ++i) {
                QPDFObjectHandle w = widths.getArrayItem(i);
                simple_.push_back(w.isNumber() ? w.getNumericValue() * scale : 0);
            }
            QPDFObjectHandle missing = font.getKey("/FontDescriptor").getKeyIfDict("/MissingWidth");
            default_ = missing.isNumber() ? missing.getNumericValue() * scale : 0;
        }
    }
    bool two_byte() const { return two_byte_; }
    double Width(unsigned code) const {
        if (two_byte_) {
            auto it = cid_.find(code);
            return it != cid_.end() ? it->second : default_;
        }
        long i = static_cast<long>(code) - first_;
        if (i >= 0 && i < static_cast<long>(simple_.size())) return simple_[static_cast<size_t>(i)];
        return simple_.empty() ? kDefaultWidth : default_;
    }

  private:
    void ReadCidWidths(QPDFObjectHandle w) {
        if (!w.isArray()) return;
        int n = w.getArrayNItems();
        for (int i = 0; i + 1 < n && cid_.size() < 65536;) {
            QPDFObjectHandle start = w.getArrayItem(i);
            QPDFObjectHandle next = w.getArrayItem(i + 1);
            if (!start.isInteger()) return;
            auto c = static_cast<unsigned>(std::max<long long>(0, start.getIntValue()));
            if (next.isArray()) {
                int m = std::min(next.getArrayNItems(), 65536);
                for (int j = 0; j < m; ++j) {
                    QPDFObjectHandle v = next.getArrayItem(j);
                    if (v.isNumber())
                        cid_[c + static_cast<unsigned>(j)] = v.getNumericValue() / 1000;
                }
                i += 2;
            } else if (i + 2 < n && next.isInteger() && w.getArrayItem(i + 2).isNumber()) {
                auto last = static_cast<unsigned>(std::max<long long>(0, next.getIntValue()));
                double v = w.getArrayItem(i + 2).getNumericValue() / 1000;
                for (unsigned k = c; k <= last && k - c < 65536; ++k) cid_[k] = v;
                i += 3;
            } else {
                return;
            }
        }
    }

    bool two_byte_ = false;
    int first_ = 0;
    std::vector<double> simple_;
    std::map<unsigned, double> cid_;
    double default_ = kDefaultWidth;
};

struct GraphicsState {
    Matrix ctm;
    Rect clip{-kHuge, -kHuge, kHuge, kHuge};
    bool fill_white = false;
    bool fill_device = true;  // the fill colour space is a device one we can judge
    QPDFObjectHandle font;
    double font_size = 0;
    double char_spacing = 0;
    double word_spacing = 0;
    double horizontal_scale = 1;
    double leading = 0;
    double rise = 0;
    int render_mode = 0;
};

class Budget final : public std::runtime_error {
  public:
    Budget() : std::runtime_error("content over the analysis budget") {}
};

class Collector final : public QPDFObjectHandle::ParserCallbacks {
  public:
    Collector(DrawnAreas& out, const ContentLimits& limits) : out_(out), limits_(limits) {
        scratch_.setSuppressWarnings(true);
        scratch_.emptyPDF();
    }

    // Paints `owner`'s content (a page or a form XObject) with `resources`.
    void Paint(std::vector<QPDFObjectHandle> streams, QPDFObjectHandle resources, int depth) {
        std::string data;
        for (auto& s : streams) {
            if (!s.isStream()) continue;
            auto piece =
                ReadStreamCapped(s, static_cast<std::size_t>(limits_.max_decoded_bytes - decoded_));
            if (!piece) throw Budget();
            decoded_ += piece->size();
            data += *piece;
            data += '\n';
        }
        QPDFObjectHandle saved_resources = resources_;
        int saved_depth = depth_;
        auto saved_stack = std::move(stack_);
        stack_.clear();
        resources_ = resources;
        depth_ = depth;
        QPDFObjectHandle::parseContentStream(scratch_.newStream(data), this);
        resources_ = saved_resources;
        depth_ = saved_depth;
        stack_ = std::move(saved_stack);
    }

    void handleObject(QPDFObjectHandle obj) override {
        if (!obj.isOperator()) {
            if (operands_.size() < 64) operands_.push_back(obj);
            return;
        }
        if (++operators_ > limits_.max_operators) throw Budget();
        Execute(obj.getOperatorValue());
        operands_.clear();
    }
    void handleEOF() override {}

  private:
    double Num(std::size_t i) {
        if (i >= operands_.size() || !operands_[i].isNumber()) return 0;
        double v = operands_[i].getNumericValue();
        return std::isfinite(v) ? v : 0;
    }

    void Add(const Rect& user_space) {
        if (auto r = Intersect(user_space, gs.clip)) out_.rects.push_back(*r);
    }

    void AddPoint(double x, double y) {
        double ux = 0;
        double uy = 0;
        gs.ctm.Apply(x, y, ux, uy);
        if (subpath_.empty()) subpath_.push_back({ux, uy, ux, uy});
        Rect& r = subpath_.back();
        r.llx = std::min(r.llx, ux);
        r.lly = std::min(r.lly, uy);
        r.urx = std::max(r.urx, ux);
        r.ury = std::max(r.ury, uy);
    }

    void NewSubpath(double x, double y) {
        double ux = 0;
        double uy = 0;
        gs.ctm.Apply(x, y, ux, uy);
        subpath_.push_back({ux, uy, ux, uy});
    }

    void Fill() {
        if (!(gs.fill_white && gs.fill_device)) {
            for (const auto& r : subpath_) {
                if (r.Width() > kRule && r.Height() > kRule) Add(r);
            }
        }
    }

    void Clip() {
        Rect bounds{kHuge, kHuge, -kHuge, -kHuge};
        for (const auto& r : subpath_) {
            bounds = {std::min(bounds.llx, r.llx), std::min(bounds.lly, r.lly),
                      std::max(bounds.urx, r.urx), std::max(bounds.ury, r.ury)};
        }
        if (subpath_.empty()) bounds = {0, 0, 0, 0};
        gs.clip = Intersect(gs.clip, bounds).value_or(Rect{0, 0, 0, 0});
    }

    void SetFill(std::size_t count, bool named_space_device) {
        gs.fill_device = named_space_device;
        bool white = count > 0;
        for (std::size_t i = 0; i < count && i < operands_.size(); ++i) {
            if (!operands_[i].isNumber()) return void(gs.fill_white = false);
        }
        if (count == 1) white = Num(0) >= 0.99;
        if (count == 3) white = Num(0) >= 0.99 && Num(1) >= 0.99 && Num(2) >= 0.99;
        if (count == 4)
            white = Num(0) <= 0.01 && Num(1) <= 0.01 && Num(2) <= 0.01 && Num(3) <= 0.01;
        gs.fill_white = white;
    }

    void ShowText(const std::string& bytes) {
        FontWidths& widths = WidthsOf(gs.font);
        const double size = gs.font_size;
        double x = 0;
        double ink_from = kHuge;
        double ink_to = -kHuge;
        const std::size_t step = widths.two_byte() ? 2 : 1;
        for (std::size_t i = 0; i + step <= bytes.size(); i += step) {
            unsigned code = static_cast<unsigned char>(bytes[i]);
            if (step == 2) code = (code << 8) | static_cast<unsigned char>(bytes[i + 1]);
            double w0 = widths.Width(code);
            double glyph = w0 * size * gs.horizontal_scale;
            // Spaces, underscores, dots and hyphens draw lines or nothing.
            bool ink = step == 2 || (code != ' ' && code != '_' && code != '.' && code != '-');
            if (ink && glyph != 0) {
                ink_from = std::min({ink_from, x, x + glyph});
                ink_to = std::max({ink_to, x, x + glyph});
            }
            x += (w0 * size + gs.char_spacing + (step == 1 && code == ' ' ? gs.word_spacing : 0)) *
                 gs.horizontal_scale;
        }
        if (ink_from <= ink_to && gs.render_mode != 3 && gs.render_mode != 7) {
            double lo = gs.rise - kDescent * std::abs(size);
            double hi = gs.rise + kAscent * std::abs(size);
            Add(Transform(Rect{ink_from, std::min(lo, hi), ink_to, std::max(lo, hi)},
                          text_matrix_.Then(gs.ctm)));
        }
        text_matrix_ = Matrix{1, 0, 0, 1, x, 0}.Then(text_matrix_);
    }

    FontWidths& WidthsOf(QPDFObjectHandle font) {
        QPDFObjGen og = font.isIndirect() ? font.getObjGen() : QPDFObjGen();
        auto it = fonts_.find(og);
        if (it == fonts_.end() || !font.isIndirect()) {
            it = fonts_.insert_or_assign(og, FontWidths(font)).first;
        }
        return it->second;
    }

    void MoveText(double tx, double ty) {
        line_matrix_ = Matrix{1, 0, 0, 1, tx, ty}.Then(line_matrix_);
        text_matrix_ = line_matrix_;
    }

    void PaintXObject(const std::string& name) {
        QPDFObjectHandle xobject = resources_.getKeyIfDict("/XObject").getKeyIfDict(name);
        if (!xobject.isStream()) return;
        QPDFObjectHandle dict = xobject.getDict();
        std::string subtype =
            dict.getKey("/Subtype").isName() ? dict.getKey("/Subtype").getName() : "";
        if (subtype == "/Image") {
            Add(Transform(Rect{0, 0, 1, 1}, gs.ctm));
            return;
        }
        if (subtype != "/Form") return;
        Matrix m = MatrixOf(dict.getKey("/Matrix")).value_or(Matrix{});
        Matrix placed = m.Then(gs.ctm);
        auto bbox = ToRect(dict.getKey("/BBox"));
        if (!bbox) return;
        if (depth_ >= limits_.max_form_depth) {
            Add(Transform(*bbox, placed));
            return;
        }
        GraphicsState saved = gs;
        gs.ctm = placed;
        gs.clip = Intersect(gs.clip, Transform(*bbox, placed)).value_or(Rect{0, 0, 0, 0});
        QPDFObjectHandle res = dict.getKey("/Resources");
        Matrix saved_tm = text_matrix_;
        Matrix saved_lm = line_matrix_;
        Paint({xobject}, res.isDictionary() ? res : resources_, depth_ + 1);
        text_matrix_ = saved_tm;
        line_matrix_ = saved_lm;
        gs = saved;
    }

    void Execute(const std::string& op) {
        const std::size_t n = operands_.size();
        if (op == "q") {
            stack_.push_back(gs);
        } else if (op == "Q") {
            if (!stack_.empty()) {
                gs = stack_.back();
                stack_.pop_back();
            }
        } else if (op == "cm" && n == 6) {
            gs.ctm = Matrix{Num(0), Num(1), Num(2), Num(3), Num(4), Num(5)}.Then(gs.ctm);
        } else if (op == "m" && n == 2) {
            NewSubpath(Num(0), Num(1));
        } else if ((op == "l" && n == 2) || (op == "c" && n == 6) ||
                   ((op == "v" || op == "y") && n == 4)) {
            for (std::size_t i = 0; i + 1 < n; i += 2) AddPoint(Num(i), Num(i + 1));
        } else if (op == "re" && n == 4) {
            NewSubpath(Num(0), Num(1));
            AddPoint(Num(0) + Num(2), Num(1));
            AddPoint(Num(0) + Num(2), Num(1) + Num(3));
            AddPoint(Num(0), Num(1) + Num(3));
        } else if (op == "f" || op == "F" || op == "f*" || op == "B" || op == "B*" || op == "b" ||
                   op == "b*") {
            Fill();
            if (clip_pending_) Clip();
            subpath_.clear();
            clip_pending_ = false;
        } else if (op == "S" || op == "s" || op == "n") {
            if (clip_pending_) Clip();
            subpath_.clear();
            clip_pending_ = false;
        } else if (op == "W" || op == "W*") {
            clip_pending_ = true;
        } else if (op == "g" || op == "rg" || op == "k") {
            SetFill(n, true);
        } else if (op == "cs" && n == 1 && operands_[0].isName()) {
            std::string space = operands_[0].getName();
            fill_space_device_ =
                space == "/DeviceGray" || space == "/DeviceRGB" || space == "/DeviceCMYK";
            gs.fill_white = false;
            gs.fill_device = fill_space_device_;
        } else if (op == "sc" || op == "scn") {
            SetFill(n, fill_space_device_);
        } else if (op == "BT") {
            text_matrix_ = line_matrix_ = Matrix{};
        } else if (op == "Tf" && n == 2 && operands_[0].isName()) {
            gs.font = resources_.getKeyIfDict("/Font").getKeyIfDict(operands_[0].getName());
            gs.font_size = Num(1);
        } else if (op == "Tc" && n == 1) {
            gs.char_spacing = Num(0);
        } else if (op == "Tw" && n == 1) {
            gs.word_spacing = Num(0);
        } else if (op == "Tz" && n == 1) {
            gs.horizontal_scale = Num(0) / 100;
        } else if (op == "TL" && n == 1) {
            gs.leading = Num(0);
        } else if (op == "Ts" && n == 1) {
            gs.rise = Num(0);
        } else if (op == "Tr" && n == 1) {
            gs.render_mode = static_cast<int>(Num(0));
        } else if (op == "Td" && n == 2) {
            MoveText(Num(0), Num(1));
        } else if (op == "TD" && n == 2) {
            gs.leading = -Num(1);
            MoveText(Num(0), Num(1));
        } else if (op == "Tm" && n == 6) {
            text_matrix_ = line_matrix_ = Matrix{Num(0), Num(1), Num(2), Num(3), Num(4), Num(5)};
        } else if (op == "T*") {
            MoveText(0, -gs.leading);
        } else if (op == "Tj" && n == 1 && operands_[0].isString()) {
            ShowText(operands_[0].getStringValue());
        } else if (op == "'" && n == 1 && operands_[0].isString()) {
            MoveText(0, -gs.leading);
            ShowText(operands_[0].getStringValue());
        } else if (op == "\"" && n == 3 && operands_[2].isString()) {
            gs.word_spacing = Num(0);
            gs.char_spacing = Num(1);
            MoveText(0, -gs.leading);
            ShowText(operands_[2].getStringValue());
        } else if (op == "TJ" && n == 1 && operands_[0].isArray()) {
            for (auto& item : operands_[0].aitems()) {
                if (item.isString()) {
                    ShowText(item.getStringValue());
                } else if (item.isNumber()) {
                    double tx = -item.getNumericValue() / 1000 * gs.font_size * gs.horizontal_scale;
                    text_matrix_ = Matrix{1, 0, 0, 1, tx, 0}.Then(text_matrix_);
                }
            }
        } else if (op == "Do" && n == 1 && operands_[0].isName()) {
            PaintXObject(operands_[0].getName());
        } else if (op == "EI") {
            Add(Transform(Rect{0, 0, 1, 1}, gs.ctm));
        } else if (op == "sh") {
            Add(gs.clip);
        }
    }

    GraphicsState gs;
    DrawnAreas& out_;
    const ContentLimits& limits_;
    QPDF scratch_;
    QPDFObjectHandle resources_;
    int depth_ = 0;
    std::vector<GraphicsState> stack_;
    std::vector<QPDFObjectHandle> operands_;
    std::vector<Rect> subpath_;
    bool clip_pending_ = false;
    bool fill_space_device_ = true;
    Matrix text_matrix_;
    Matrix line_matrix_;
    std::map<QPDFObjGen, FontWidths> fonts_;
    std::uint64_t operators_ = 0;
    std::uint64_t decoded_ = 0;
};

bool Hidden(QPDFObjectHandle annot) {
    QPDFObjectHandle flags = annot.getKey("/F");
    // Invisible (1), Hidden (2), NoView (32).
    return flags.isInteger() && (flags.getIntValue() & (1 | 2 | 32)) != 0;
}

}  // namespace

bool DrawnAreas::Covers(const Rect& r) const {
    if (everywhere) return true;
    for (const auto& d : rects) {
        auto overlap = Intersect(d, r);
        if (overlap && overlap->Width() > kSliver && overlap->Height() > kSliver) return true;
    }
    return false;
}

DrawnAreas PageDrawnAreas(QPDFObjectHandle page, const ContentLimits& limits) {
    DrawnAreas out;
    try {
        QPDFPageObjectHelper helper(page);
        Collector collector(out, limits);
        QPDFObjectHandle contents = page.getKey("/Contents");
        std::vector<QPDFObjectHandle> streams;
        if (contents.isArray()) {
            for (auto& item : contents.aitems()) streams.push_back(item);
        } else {
            streams.push_back(contents);
        }
        collector.Paint(streams, helper.getAttribute("/Resources", false), 0);
        QPDFObjectHandle annots = page.getKey("/Annots");
        if (annots.isArray()) {
            for (auto& annot : annots.aitems()) {
                if (!annot.isDictionary() || Hidden(annot)) continue;
                if (!annot.getKey("/AP").isDictionary()) continue;
                if (auto rect = ToRect(annot.getKey("/Rect"))) out.rects.push_back(*rect);
            }
        }
    } catch (...) {
        out.everywhere = true;
    }
    return out;
}

}  // namespace firmo::pdf::internal
