// Named *_test.cpp so the build links it into test binaries only (see cmake/firmo.cmake).
#include "pdf/testing/pdf_fixtures.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

namespace firmo {
void PrintTo(const Violation& v, std::ostream* os) {
    *os << "{" << v.field << ": " << v.reason << "}";
}
}  // namespace firmo

namespace firmo::pdf::testing {
namespace {

std::string Num(double v) {
    std::ostringstream s;
    s << v;
    return s.str();
}

std::string Array(const std::vector<double>& v) {
    std::string out = "[";
    for (std::size_t i = 0; i < v.size(); ++i) out += (i ? " " : "") + Num(v[i]);
    return out + "]";
}

}  // namespace

TempDir::TempDir() {
    std::string templ = (std::filesystem::temp_directory_path() / "firmo-pdf-XXXXXX").string();
    char* made = mkdtemp(templ.data());
    path_ = made != nullptr ? std::filesystem::path(made) : std::filesystem::path(templ);
}

TempDir::~TempDir() {
    if (std::getenv("FIRMO_KEEP_TEMP") != nullptr) return;
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

std::string MakePdf(const PdfSpec& spec) {
    // Object numbers: 1 catalog, 2 page tree, then per page (page, content), then fields,
    // then parents, then metadata.
    std::vector<std::string> objects;  // index = number - 1
    auto add = [&](std::string body) {
        objects.push_back(std::move(body));
        return static_cast<int>(objects.size());
    };
    add("");  // catalog, filled last
    add("");  // pages
    std::vector<int> page_nums;
    for (std::size_t i = 0; i < spec.pages.size(); ++i) {
        std::string content = "0.9 0.9 0.9 rg 20 20 100 50 re f\n";
        int content_num = add("<< /Length " + std::to_string(content.size()) + " >>\nstream\n" +
                              content + "\nendstream");
        page_nums.push_back(add(""));
        (void)content_num;
    }
    std::map<std::string, int> parents;
    std::map<std::string, std::vector<int>> parent_kids;
    std::vector<int> top_fields;
    std::map<int, std::vector<int>> page_annots;
    for (const auto& f : spec.fields) {
        int parent_num = 0;
        if (!f.parent.empty()) {
            auto it = parents.find(f.parent);
            if (it == parents.end()) {
                parent_num = add("");
                parents[f.parent] = parent_num;
                top_fields.push_back(parent_num);
            } else {
                parent_num = it->second;
            }
        }
        std::string body = "<< /Type /Annot /Subtype /Widget /FT /" + f.type + " /T (" + f.name +
                           ") /Rect " + Array(f.rect) + " /F 4 /P " +
                           std::to_string(page_nums[static_cast<std::size_t>(f.page)]) + " 0 R";
        if (parent_num) body += " /Parent " + std::to_string(parent_num) + " 0 R";
        if (f.signed_value) {
            body +=
                " /V << /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached"
                " /ByteRange [0 10 20 10] /Contents <00> >>";
        }
        int num = add(body + " >>");
        page_annots[f.page].push_back(num);
        if (parent_num) {
            parent_kids[f.parent].push_back(num);
        } else {
            top_fields.push_back(num);
        }
    }
    for (const auto& [name, num] : parents) {
        std::string kids;
        for (int k : parent_kids[name]) kids += std::to_string(k) + " 0 R ";
        objects[static_cast<std::size_t>(num - 1)] = "<< /T (" + name + ") /Kids [" + kids + "] >>";
    }
    int metadata = 0;
    if (!spec.pdfa_part.empty()) {
        std::string xmp =
            "<?xpacket begin=\"\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n"
            "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF "
            "xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n"
            "<rdf:Description rdf:about=\"\" xmlns:pdfaid=\"http://www.aiim.org/pdfa/ns/id/\">\n"
            "<pdfaid:part>" +
            spec.pdfa_part +
            "</pdfaid:part>\n"
            "<pdfaid:conformance>B</pdfaid:conformance>\n"
            "</rdf:Description></rdf:RDF></x:xmpmeta>\n<?xpacket end=\"w\"?>";
        metadata = add("<< /Type /Metadata /Subtype /XML /Length " + std::to_string(xmp.size()) +
                       " >>\nstream\n" + xmp + "\nendstream");
    }
    for (std::size_t i = 0; i < spec.pages.size(); ++i) {
        const PageSpec& p = spec.pages[i];
        std::string body = "<< /Type /Page /Parent 2 0 R /Contents " +
                           std::to_string(page_nums[i] - 1) + " 0 R /Resources << >>";
        if (!spec.inherit_media_box)
            body += " /MediaBox [0 0 " + Num(p.width) + " " + Num(p.height) + "]";
        if (p.crop_box) body += " /CropBox " + Array(*p.crop_box);
        if (p.rotate) body += " /Rotate " + std::to_string(p.rotate);
        auto annots = page_annots.find(static_cast<int>(i));
        if (annots != page_annots.end()) {
            body += " /Annots [";
            for (int a : annots->second) body += std::to_string(a) + " 0 R ";
            body += "]";
        }
        objects[static_cast<std::size_t>(page_nums[i] - 1)] = body + " >>";
    }
    std::string kids;
    for (int n : page_nums) kids += std::to_string(n) + " 0 R ";
    std::string pages =
        "<< /Type /Pages /Kids [" + kids + "] /Count " + std::to_string(page_nums.size());
    if (spec.inherit_media_box && !spec.pages.empty()) {
        pages +=
            " /MediaBox [0 0 " + Num(spec.pages[0].width) + " " + Num(spec.pages[0].height) + "]";
    }
    objects[1] = pages + " >>";
    std::string catalog = "<< /Type /Catalog /Pages 2 0 R";
    if (!top_fields.empty()) {
        catalog += " /AcroForm << /Fields [";
        for (int f : top_fields) catalog += std::to_string(f) + " 0 R ";
        catalog += "] >>";
    }
    if (metadata) catalog += " /Metadata " + std::to_string(metadata) + " 0 R";
    objects[0] = catalog + " >>";

    std::string out = "%PDF-1.7\n%\xE2\xE3\xCF\xD3\n";
    std::vector<std::size_t> offsets;
    for (std::size_t i = 0; i < objects.size(); ++i) {
        offsets.push_back(out.size());
        out += std::to_string(i + 1) + " 0 obj\n" + objects[i] + "\nendobj\n";
    }
    std::size_t xref = out.size();
    out += "xref\n0 " + std::to_string(objects.size() + 1) + "\n0000000000 65535 f \n";
    for (auto off : offsets) {
        char line[24];
        std::snprintf(line, sizeof line, "%010zu 00000 n \n", off);
        out += line;
    }
    out += "trailer\n<< /Size " + std::to_string(objects.size() + 1) +
           " /Root 1 0 R >>\nstartxref\n" + std::to_string(xref) + "\n%%EOF\n";
    return out;
}

std::string ReadFile(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

void WriteFile(const std::filesystem::path& p, const std::string& bytes) {
    std::ofstream out(p, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

int RunCommand(const std::string& command, std::string* output) {
    std::string full = command + " 2>&1";
    FILE* pipe = popen(full.c_str(), "r");
    if (pipe == nullptr) return -1;
    std::array<char, 4096> buf{};
    std::string text;
    std::size_t n;
    while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) text.append(buf.data(), n);
    int status = pclose(pipe);
    if (output != nullptr) *output = std::move(text);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool MakeNssDb(const std::filesystem::path& dir, const std::filesystem::path& ca_pem,
               std::string* log) {
    std::filesystem::create_directories(dir);
    std::string db = "sql:" + dir.string();
    return RunCommand("certutil -N -d " + Quote(db) + " --empty-password", log) == 0 &&
           RunCommand("certutil -A -d " + Quote(db) + " -n firmo-ca -t CT,C,C -i " + Quote(ca_pem),
                      log) == 0;
}

PdfsigReport Pdfsig(const std::filesystem::path& nssdb, const std::filesystem::path& pdf) {
    PdfsigReport report;
    // Not -no-ocsp: poppler 22.12 then reports a generic certificate error for any chain.
    // Firmo's certificates carry no OCSP URL, so nothing is fetched anyway.
    report.exit_code = RunCommand(
        "pdfsig -nssdir " + Quote("sql:" + nssdb.string()) + " " + Quote(pdf), &report.output);
    auto count = [&](const std::string& needle) {
        int n = 0;
        for (auto pos = report.output.find(needle); pos != std::string::npos;
             pos = report.output.find(needle, pos + 1)) {
            ++n;
        }
        return n;
    };
    report.signatures = count("Signature Type:");  // unsigned fields are listed too
    report.valid = count("Signature Validation: Signature is Valid.");
    report.trusted = count("Certificate Validation: Certificate is Trusted.");
    report.total = count("Total document signed");
    return report;
}

bool HaveTool(const std::string& name) {
    return RunCommand("command -v " + name + " >/dev/null") == 0;
}

std::string MissingTool(std::initializer_list<const char*> names) {
    for (const char* name : names) {
        if (!HaveTool(name)) return name;
    }
    return {};
}

std::string Quote(const std::filesystem::path& p) {
    std::string out = "'";
    for (char c : p.string()) {
        if (c == '\'') {
            out += "'\\''";
        } else {
            out += c;
        }
    }
    return out + "'";
}

}  // namespace firmo::pdf::testing
