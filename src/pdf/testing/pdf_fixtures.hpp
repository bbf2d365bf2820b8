#pragma once
// Test-only helpers of src/pdf: a scratch directory, a tiny PDF writer for shapes no tool makes
// on demand (signature fields, odd page boxes), and wrappers over the independent tools the
// tests rely on (qpdf, gs, pdfsig). Built only into the test binaries (`*_test.cpp`).

#include <filesystem>
#include <initializer_list>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace firmo {
// Readable violations in gtest failure messages.
void PrintTo(const Violation& v, std::ostream* os);
}  // namespace firmo

namespace firmo::pdf::testing {

// Removed with its contents at destruction, unless FIRMO_KEEP_TEMP is set (for debugging).
class TempDir {
  public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

  private:
    std::filesystem::path path_;
};

struct PageSpec {
    double width = 595;
    double height = 842;
    int rotate = 0;
    // llx lly urx ury
    std::optional<std::vector<double>> crop_box{};
};

struct FieldSpec {
    std::string name{};    // partial name; with `parent`, the full name is parent.name
    std::string parent{};  // empty: a top-level field
    std::string type = "Sig";
    int page = 0;
    std::vector<double> rect{100, 100, 300, 150};
    bool signed_value = false;  // give it a (fake) /V signature dictionary
};

struct PdfSpec {
    std::vector<PageSpec> pages{PageSpec{}};
    std::vector<FieldSpec> fields{};
    // Put /MediaBox on the page tree root only, so pages inherit it.
    bool inherit_media_box = false;
    std::string pdfa_part{};  // e.g. "2" writes an XMP packet claiming PDF/A-2B
};

// A classic-xref PDF with correct offsets.
std::string MakePdf(const PdfSpec& spec);

std::string ReadFile(const std::filesystem::path& p);
void WriteFile(const std::filesystem::path& p, const std::string& bytes);

// Runs a shell command; returns its exit status (stdout/stderr of the tool go to `log` when given).
int RunCommand(const std::string& command, std::string* output = nullptr);

// An NSS database for pdfsig in `dir`, trusting the PEM certificate `ca_pem` as a CA.
bool MakeNssDb(const std::filesystem::path& dir, const std::filesystem::path& ca_pem,
               std::string* log);

// pdfsig's verdict on a file, checked against the NSS database.
struct PdfsigReport {
    int exit_code = -1;
    int signatures = 0;
    int valid = 0;    // "Signature is Valid."
    int trusted = 0;  // "Certificate is Trusted."
    int total = 0;    // "Total document signed"
    std::string output;
};
PdfsigReport Pdfsig(const std::filesystem::path& nssdb, const std::filesystem::path& pdf);
bool HaveTool(const std::string& name);
// The first of `names` not on PATH, or empty when all are there.
std::string MissingTool(std::initializer_list<const char*> names);

// Skips the current test when an independent tool it relies on is not installed (CI installs
// them all: qpdf, ghostscript, poppler-utils, libnss3-tools, openssl).
#define FIRMO_REQUIRE_TOOLS(...)                                                          \
    do {                                                                                  \
        std::string firmo_missing = ::firmo::pdf::testing::MissingTool({__VA_ARGS__});    \
        if (!firmo_missing.empty()) GTEST_SKIP() << firmo_missing << " is not installed"; \
    } while (false)
std::string Quote(const std::filesystem::path& p);

}  // namespace firmo::pdf::testing
