#include "pdf/appearance_font.hpp"

#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <vector>

#include "pdf/pdf_syntax.hpp"

namespace firmo::pdf::internal {
namespace {

// Glyph names of WinAnsiEncoding codes 32-255 (PDF 32000-1 Annex D); empty = no glyph.
const char* const kWinAnsiNames[224] = {"space",
                                        "exclam",
                                        "quotedbl",
                                        "numbersign",
                                        "dollar",
                                        "percent",
                                        "ampersand",
                                        "quotesingle",
                                        "parenleft",
                                        "parenright",
                                        "asterisk",
                                        "plus",
                                        "comma",
                                        "hyphen",
                                        "period",
                                        "slash",
                                        "zero",
                                        "one",
                                        "two",
                                        "three",
                                        "four",
                                        "five",
                                        "six",
                                        "seven",
                                        "eight",
                                        "nine",
                                        "colon",
                                        "semicolon",
                                        "less",
                                        "equal",
                                        "greater",
                                        "question",
                                        "at",
                                        "A",
                                        "B",
                                        "C",
                                        "D",
                                        "E",
                                        "F",
                                        "G",
                                        "H",
                                        "I",
                                        "J",
                                        "K",
                                        "L",
                                        "M",
                                        "N",
                                        "O",
                                        "P",
                                        "Q",
                                        "R",
                                        "S",
                                        "T",
                                        "U",
                                        "V",
                                        "W",
                                        "X",
                                        "Y",
                                        "Z",
                                        "bracketleft",
                                        "backslash",
                                        "bracketright",
                                        "asciicircum",
                                        "underscore",
                                        "grave",
                                        "a",
                                        "b",
                                        "c",
                                        "d",
                                        "e",
                                        "f",
                                        "g",
                                        "h",
                                        "i",
                                        "j",
                                        "k",
                                        "l",
                                        "m",
                                        "n",
                                        "o",
                                        "p",
                                        "q",
                                        "r",
                                        "s",
                                        "t",
                                        "u",
                                        "v",
                                        "w",
                                        "x",
                                        "y",
                                        "z",
                                        "braceleft",
                                        "bar",
                                        "braceright",
                                        "asciitilde",
                                        "",  // 127
                                        "Euro",
                                        "",
                                        "quotesinglbase",
                                        "florin",
                                        "quotedblbase",
                                        "ellipsis",
                                        "dagger",
                                        "daggerdbl",
                                        "circumflex",
                                        "perthousand",
                                        "Scaron",
                                        "guilsinglleft",
                                        "OE",
                                        "",
                                        "Zcaron",
                                        "",
                                        "",
                                        "quoteleft",
                                        "quoteright",
                                        "quotedblleft",
                                        "quotedblright",
                                        "bullet",
                                        "endash",
                                        "emdash",
                                        "tilde",
                                        "trademark",
                                        "scaron",
                                        "guilsinglright",
                                        "oe",
                                        "",
                                        "zcaron",
                                        "Ydieresis",
                                        "space",
                                        "exclamdown",
                                        "cent",
                                        "sterling",
                                        "currency",
                                        "yen",
                                        "brokenbar",
                                        "section",
                                        "dieresis",
                                        "copyright",
                                        "ordfeminine",
                                        "guillemotleft",
                                        "logicalnot",
                                        "hyphen",
                                        "registered",
                                        "macron",
                                        "degree",
                                        "plusminus",
                                        "twosuperior",
                                        "threesuperior",
                                        "acute",
                                        "mu",
                                        "paragraph",
                                        "periodcentered",
                                        "cedilla",
                                        "onesuperior",
                                        "ordmasculine",
                                        "guillemotright",
                                        "onequarter",
                                        "onehalf",
                                        "threequarters",
                                        "questiondown",
                                        "Agrave",
                                        "Aacute",
                                        "Acircumflex",
                                        "Atilde",
                                        "Adieresis",
                                        "Aring",
                                        "AE",
                                        "Ccedilla",
                                        "Egrave",
                                        "Eacute",
                                        "Ecircumflex",
                                        "Edieresis",
                                        "Igrave",
                                        "Iacute",
                                        "Icircumflex",
                                        "Idieresis",
                                        "Eth",
                                        "Ntilde",
                                        "Ograve",
                                        "Oacute",
                                        "Ocircumflex",
                                        "Otilde",
                                        "Odieresis",
                                        "multiply",
                                        "Oslash",
                                        "Ugrave",
                                        "Uacute",
                                        "Ucircumflex",
                                        "Udieresis",
                                        "Yacute",
                                        "Thorn",
                                        "germandbls",
                                        "agrave",
                                        "aacute",
                                        "acircumflex",
                                        "atilde",
                                        "adieresis",
                                        "aring",
                                        "ae",
                                        "ccedilla",
                                        "egrave",
                                        "eacute",
                                        "ecircumflex",
                                        "edieresis",
                                        "igrave",
                                        "iacute",
                                        "icircumflex",
                                        "idieresis",
                                        "eth",
                                        "ntilde",
                                        "ograve",
                                        "oacute",
                                        "ocircumflex",
                                        "otilde",
                                        "odieresis",
                                        "divide",
                                        "oslash",
                                        "ugrave",
                                        "uacute",
                                        "ucircumflex",
                                        "udieresis",
                                        "yacute",
                                        "thorn",
                                        "ydieresis"};

Result<std::string> Slurp(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) return Fail(ErrorCode::kNotFound, "cannot read the appearance font " + p.string());
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// PFB: segments of 0x80 <type> <32-bit little-endian length> <data>, type 1 text, 2 binary.
bool SplitPfb(const std::string& pfb, EmbeddableFont& font) {
    std::vector<std::string> parts;
    std::size_t i = 0;
    while (i + 6 <= pfb.size() && static_cast<unsigned char>(pfb[i]) == 0x80) {
        int type = pfb[i + 1];
        if (type == 3) break;
        std::size_t len = 0;
        for (int b = 3; b >= 0; --b) {
            len = (len << 8) | static_cast<unsigned char>(pfb[i + 2 + static_cast<std::size_t>(b)]);
        }
        if (i + 6 + len > pfb.size()) return false;
        parts.push_back(pfb.substr(i + 6, len));
        i += 6 + len;
    }
    if (parts.size() < 2) return false;
    font.font_file = parts[0] + parts[1] + (parts.size() > 2 ? parts[2] : "");
    font.length1 = parts[0].size();
    font.length2 = parts[1].size();
    font.length3 = parts.size() > 2 ? parts[2].size() : 0;
    return true;
}

// PFA with a binary eexec section, as URW ships them.
bool SplitPfa(const std::string& pfa, EmbeddableFont& font) {
    auto eexec = pfa.find("eexec");
    auto mark = pfa.rfind("cleartomark");
    if (eexec == std::string::npos || mark == std::string::npos || mark < eexec) return false;
    std::size_t start = eexec + 5;
    while (start < pfa.size() && (pfa[start] == '\r' || pfa[start] == '\n')) ++start;
    // The trailer is 512 zeros (in lines) before cleartomark.
    std::size_t trailer = mark;
    while (trailer > start &&
           (pfa[trailer - 1] == '0' || pfa[trailer - 1] == '\r' || pfa[trailer - 1] == '\n')) {
        --trailer;
    }
    font.font_file = pfa;
    font.length1 = start;
    font.length2 = trailer - start;
    font.length3 = pfa.size() - trailer;
    return true;
}

}  // namespace

Result<EmbeddableFont> LoadType1Font(const std::filesystem::path& font_file) {
    FIRMO_TRY(std::string data, Slurp(font_file));
    std::filesystem::path afm_path = font_file;
    afm_path.replace_extension(".afm");
    FIRMO_TRY(std::string afm, Slurp(afm_path));
    EmbeddableFont font;
    bool split = !data.empty() && static_cast<unsigned char>(data[0]) == 0x80
                     ? SplitPfb(data, font)
                     : SplitPfa(data, font);
    if (!split)
        return Fail(ErrorCode::kInvalidArgument, "not a Type 1 font: " + font_file.string());

    std::map<std::string, int> widths;
    double bbox[4] = {0, -200, 1000, 900};
    double italic = 0, cap = 700, ascender = 0, descender = 0, stem = 80;
    std::istringstream lines(afm);
    std::string line;
    while (std::getline(lines, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        std::istringstream words(line);
        std::string key;
        words >> key;
        if (key == "FontName") words >> font.font_name;
        if (key == "FontBBox") words >> bbox[0] >> bbox[1] >> bbox[2] >> bbox[3];
        if (key == "ItalicAngle") words >> italic;
        if (key == "CapHeight") words >> cap;
        if (key == "Ascender") words >> ascender;
        if (key == "Descender") words >> descender;
        if (key == "StdVW") words >> stem;
        if (key == "C") {
            auto wx = line.find("WX ");
            auto n = line.find(" N ");
            if (wx == std::string::npos || n == std::string::npos) continue;
            std::string name = line.substr(n + 3, line.find(' ', n + 3) - (n + 3));
            widths[name] = std::atoi(line.c_str() + wx + 3);
        }
    }
    if (font.font_name.empty() || widths.empty()) {
        return Fail(ErrorCode::kInvalidArgument, "unusable AFM file " + afm_path.string());
    }
    font.widths = "[";
    double sum = 0;
    int counted = 0;
    for (int code = 32; code <= 255; ++code) {
        auto it = widths.find(kWinAnsiNames[code - 32]);
        int w = it == widths.end() ? 0 : it->second;
        font.widths += (code > 32 ? " " : "") + std::to_string(w);
        if (code >= 'a' && code <= 'z') {
            sum += w;
            ++counted;
        }
    }
    font.widths += "]";
    if (counted > 0) font.average_width = sum / counted / 1000.0 + 0.05;
    // Some AFM files leave Ascender/Descender at 0; fall back to cap height and the bbox.
    double ascent = ascender > 0 ? ascender : cap;
    double descent = descender < 0 ? descender : bbox[1];
    font.descriptor_keys =
        "/Flags 32 /FontBBox [" + Number(bbox[0]) + " " + Number(bbox[1]) + " " + Number(bbox[2]) +
        " " + Number(bbox[3]) + "] /ItalicAngle " + Number(italic) + " /Ascent " + Number(ascent) +
        " /Descent " + Number(descent) + " /CapHeight " + Number(cap) + " /StemV " + Number(stem);
    return font;
}

}  // namespace firmo::pdf::internal

namespace firmo::pdf::internal {

Result<const EmbeddableFont*> CachedType1Font(const std::filesystem::path& file) {
    static std::mutex mu;
    static std::map<std::filesystem::path, std::unique_ptr<EmbeddableFont>> cache;
    std::lock_guard lock(mu);
    auto it = cache.find(file);
    if (it == cache.end()) {
        FIRMO_TRY(EmbeddableFont font, LoadType1Font(file));
        it = cache.emplace(file, std::make_unique<EmbeddableFont>(std::move(font))).first;
    }
    return static_cast<const EmbeddableFont*>(it->second.get());
}

}  // namespace firmo::pdf::internal
