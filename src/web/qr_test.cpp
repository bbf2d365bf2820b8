#include "web/qr.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <regex>

#include "core/testing/temp_dir.hpp"

namespace firmo::web {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

const std::string kLink = "https://sign.example.org/s/7f3c9a1e-4b2d-4e8f-9c6a-0d1b2e3f4a5b#t=Zm9v";

int RunCommand(const std::string& command, std::string* output) {
    FILE* pipe = ::popen((command + " 2>/dev/null").c_str(), "r");
    if (pipe == nullptr) return -1;
    std::array<char, 4096> buf{};
    std::size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) output->append(buf.data(), n);
    const int status = ::pclose(pipe);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool HaveZbarimg() { return std::system("command -v zbarimg >/dev/null 2>&1") == 0; }

// zbarimg (zbar-tools), an independent decoder; nullopt when it finds no QR code.
std::optional<std::string> DecodePng(const std::string& png) {
    firmo::testing::TempDir dir("firmo-qr");
    const auto path = dir.path() / "qr.png";
    std::ofstream(path, std::ios::binary)
        .write(png.data(), static_cast<std::streamsize>(png.size()));
    std::string out;
    // --raw: the data only; -Sbinary: the bytes as encoded, no charset guessing.
    if (RunCommand("zbarimg --quiet --raw -Sbinary " + path.string(), &out) != 0)
        return std::nullopt;
    return out;
}

struct PngHeader {
    std::uint32_t width = 0, height = 0;
    int bit_depth = 0, color_type = 0;
};

PngHeader ReadIhdr(const std::string& png) {
    auto be32 = [&](std::size_t at) {
        return static_cast<std::uint32_t>(static_cast<unsigned char>(png[at])) << 24 |
               static_cast<std::uint32_t>(static_cast<unsigned char>(png[at + 1])) << 16 |
               static_cast<std::uint32_t>(static_cast<unsigned char>(png[at + 2])) << 8 |
               static_cast<std::uint32_t>(static_cast<unsigned char>(png[at + 3]));
    };
    // Signature (8), IHDR length (4) and type (4), then width, height, depth, colour type.
    return {be32(16), be32(20), static_cast<unsigned char>(png[24]),
            static_cast<unsigned char>(png[25])};
}

TEST(QrPngTest, IsA1BitGrayscalePngWithTheExpectedSize) {
    auto png = QrPng("HELLO", 4);
    ASSERT_TRUE(png) << png.error().message;
    ASSERT_GT(png->size(), 33u);
    EXPECT_EQ(png->substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
    EXPECT_EQ(png->substr(12, 4), "IHDR");
    const PngHeader h = ReadIhdr(*png);
    // "HELLO" at level M fits version 1: 21 modules, plus 4 + 4 of quiet zone.
    EXPECT_EQ(h.width, (21u + 8u) * 4u);
    EXPECT_EQ(h.height, h.width);
    EXPECT_EQ(h.bit_depth, 1);
    EXPECT_EQ(h.color_type, 0);  // grayscale
    EXPECT_EQ(png->substr(png->size() - 8, 4), "IEND");
}

TEST(QrPngTest, DecodesBackToTheText) {
    if (!HaveZbarimg()) FAIL() << "zbarimg (zbar-tools) is not installed";
    const std::vector<std::string> texts = {
        kLink,
        "Firmo — firma qui: àèìòù æøå",  // UTF-8, 8-bit mode
        std::string(900, 'x') + "end",   // a large symbol
    };
    for (const auto& text : texts) {
        for (int module_px : {2, 8}) {
            auto png = QrPng(text, module_px);
            ASSERT_TRUE(png) << png.error().message;
            auto decoded = DecodePng(*png);
            ASSERT_TRUE(decoded) << "zbarimg found no code, module_px " << module_px;
            EXPECT_EQ(*decoded, text) << "module_px " << module_px;
        }
    }
}

TEST(QrSvgTest, IsWellFormedWithViewBoxTitleAndCrispEdges) {
    auto svg = QrSvg(kLink, 8, "Scan to sign <now> & \"here\"");
    ASSERT_TRUE(svg) << svg.error().message;
    EXPECT_THAT(*svg, StartsWith("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 "));
    EXPECT_THAT(*svg, HasSubstr("shape-rendering=\"crispEdges\""));
    EXPECT_THAT(*svg, HasSubstr("<title>Scan to sign &lt;now&gt; &amp; &quot;here&quot;</title>"));
    EXPECT_EQ(std::count(svg->begin(), svg->end(), '<'), 6);  // svg title /title rect path /svg
    EXPECT_THAT(*svg, HasSubstr("</svg>"));
    // An independent XML parser accepts it.
    if (std::system("test -x /usr/bin/python3") == 0) {
        firmo::testing::TempDir dir("firmo-qr");
        const auto path = dir.path() / "qr.svg";
        std::ofstream(path) << *svg;
        std::string root;
        EXPECT_EQ(
            RunCommand("/usr/bin/python3 -c 'import sys, xml.etree.ElementTree as E; "
                       "r = E.parse(sys.argv[1]).getroot(); print(r.tag, r[0].tag, r[0].text)' " +
                           path.string(),
                       &root),
            0);
        EXPECT_EQ(root,
                  "{http://www.w3.org/2000/svg}svg {http://www.w3.org/2000/svg}title "
                  "Scan to sign <now> & \"here\"\n");
    }

    std::smatch m;
    ASSERT_TRUE(std::regex_search(*svg, m,
                                  std::regex("viewBox=\"0 0 (\\d+) (\\d+)\" width=\"(\\d+)\" "
                                             "height=\"(\\d+)\"")));
    const int modules = std::stoi(m[1]);
    EXPECT_EQ(std::stoi(m[2]), modules);
    EXPECT_EQ(std::stoi(m[3]), modules * 8);
    EXPECT_EQ(std::stoi(m[4]), modules * 8);
    EXPECT_EQ((modules - 8 - 17) % 4, 0) << "a QR symbol is 17 + 4v modules wide";

    // Quiet zone: every dark run lies within [4, modules - 4) on both axes.
    ASSERT_TRUE(std::regex_search(*svg, m, std::regex("<path fill=\"#000\" d=\"([^\"]*)\"/>")));
    const std::string d = m[1];
    const std::regex run("M(\\d+) (\\d+)h(\\d+)v1h-(\\d+)z");
    std::size_t runs = 0, covered = 0;
    int min_x = modules, min_y = modules, max_x = 0, max_y = 0;
    for (auto it = std::sregex_iterator(d.begin(), d.end(), run); it != std::sregex_iterator();
         ++it) {
        const int x = std::stoi((*it)[1]), y = std::stoi((*it)[2]), len = std::stoi((*it)[3]);
        EXPECT_EQ(std::stoi((*it)[4]), len);
        min_x = std::min(min_x, x);
        min_y = std::min(min_y, y);
        max_x = std::max(max_x, x + len);
        max_y = std::max(max_y, y + 1);
        covered += it->length();
        ++runs;
    }
    EXPECT_EQ(covered, d.size()) << "the path holds only runs";
    ASSERT_GT(runs, 0u);
    // The finder patterns touch the symbol's edges, so the dark area is exactly the symbol.
    EXPECT_EQ(min_x, 4);
    EXPECT_EQ(min_y, 4);
    EXPECT_EQ(max_x, modules - 4);
    EXPECT_EQ(max_y, modules - 4);
}

TEST(QrSvgTest, SameSymbolAsThePng) {
    auto svg = QrSvg("HELLO", 4);
    ASSERT_TRUE(svg);
    EXPECT_THAT(*svg, HasSubstr("viewBox=\"0 0 29 29\" width=\"116\" height=\"116\""));
    // The top-left finder pattern: a 7-module dark row at the quiet zone's corner.
    EXPECT_THAT(*svg, HasSubstr("d=\"M4 4h7v1h-7z"));
}

TEST(QrTest, RefusesEmptyTooLongAndBadModuleSizes) {
    const std::string too_long(kMaxQrTextBytes + 1, 'a');
    for (const auto& r : {QrSvg(""), QrPng(""), QrSvg(too_long), QrPng(too_long), QrSvg("a", 0),
                          QrPng("a", kMaxQrModulePx + 1), QrPng("a", -3)}) {
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    }
    EXPECT_TRUE(QrPng(std::string(kMaxQrTextBytes, 'a'), 1));
    EXPECT_TRUE(QrSvg(std::string(kMaxQrTextBytes, '\xff')));
}

}  // namespace
}  // namespace firmo::web
