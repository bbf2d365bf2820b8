#include "pdf/evidence_report.hpp"

#include <chrono>
#include <cstdio>
#include <exception>
#include <qpdf/QPDF.hh>
#include <qpdf/QPDFExc.hh>
#include <qpdf/QPDFObjectHandle.hh>
#include <qpdf/QPDFPageDocumentHelper.hh>
#include <qpdf/QPDFPageObjectHelper.hh>
#include <qpdf/QPDFWriter.hh>

#include "i18n/zone.hpp"

namespace firmo::pdf {

namespace {

using Style = TextLine::Style;

constexpr double kPageWidth = 595.0;  // A4 in points
constexpr double kPageHeight = 842.0;
constexpr double kMargin = 50.0;
constexpr double kIndent = 12.0;
constexpr double kBottom = 60.0;  // the footer lives below

struct Look {
    const char* font;  // resource name
    double size;
    double leading;
    double em_width;  // a generous average character width, in ems, for wrapping
};

Look LookOf(Style style) {
    switch (style) {
        case Style::kTitle:
            return {"/F2", 15, 22, 0.62};
        case Style::kHeading:
            return {"/F2", 11, 18, 0.62};
        case Style::kMono:
            return {"/F3", 7.5, 10, 0.60};  // Courier: exactly 0.6 em
        case Style::kGap:
            return {"/F1", 9, 6, 0.6};
        case Style::kBody:
        default:
            return {"/F1", 9, 12, 0.56};
    }
}

// Up to `max` characters per piece, broken at spaces where possible.
std::vector<std::string> Wrap(const std::string& text, std::size_t max) {
    std::vector<std::string> out;
    std::string rest = text;
    while (rest.size() > max) {
        std::size_t cut = rest.rfind(' ', max);
        if (cut == std::string::npos || cut < max / 3) {
            out.push_back(rest.substr(0, max));
            rest = rest.substr(max);
        } else {
            out.push_back(rest.substr(0, cut));
            rest = rest.substr(cut + 1);
        }
    }
    out.push_back(rest);
    return out;
}

std::string Number(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", v);
    return buf;
}

// CP1252's 0x80-0x9F row, by code point.
int Cp1252Extra(char32_t c) {
    static const char32_t kRow[32] = {
        0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
        0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
        0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};
    for (int i = 0; i < 32; ++i) {
        if (kRow[i] != 0 && kRow[i] == c) return 0x80 + i;
    }
    return -1;
}

std::string When(Timestamp t, const std::string& zone) {
    std::string utc = FormatRfc3339(t);
    if (zone.empty() || zone == "UTC") return utc;
    const auto offset = i18n::UtcOffset(zone, t);
    std::string local = FormatRfc3339(t + offset);
    if (!local.empty() && local.back() == 'Z') local.pop_back();
    const long minutes = static_cast<long>(offset.count());
    char sign = minutes < 0 ? '-' : '+';
    char buf[48];
    std::snprintf(buf, sizeof buf, "%c%02ld:%02ld", sign, std::labs(minutes) / 60,
                  std::labs(minutes) % 60);
    return utc + "  (" + local + buf + " " + zone + ")";
}

std::string OrNone(const std::string& s) { return s.empty() ? "-" : s; }

}  // namespace

std::string ToWinAnsi(std::string_view utf8) {
    std::string out;
    out.reserve(utf8.size());
    std::size_t i = 0;
    while (i < utf8.size()) {
        const auto b = static_cast<unsigned char>(utf8[i]);
        char32_t c = 0;
        std::size_t n = 0;
        if (b < 0x80) {
            c = b;
            n = 1;
        } else if ((b & 0xE0) == 0xC0) {
            c = b & 0x1F;
            n = 2;
        } else if ((b & 0xF0) == 0xE0) {
            c = b & 0x0F;
            n = 3;
        } else if ((b & 0xF8) == 0xF0) {
            c = b & 0x07;
            n = 4;
        } else {
            out += '?';
            ++i;
            continue;
        }
        bool ok = i + n <= utf8.size();
        for (std::size_t k = 1; ok && k < n; ++k) {
            const auto cont = static_cast<unsigned char>(utf8[i + k]);
            if ((cont & 0xC0) != 0x80) ok = false;
            c = (c << 6) | (cont & 0x3F);
        }
        if (!ok) {
            out += '?';
            ++i;
            continue;
        }
        i += n;
        if (c < 0x20 || c == 0x7F) {
            out += ' ';  // no control characters in the text
        } else if (c < 0x80 || (c >= 0xA0 && c <= 0xFF)) {
            out += static_cast<char>(c);
        } else if (int extra = Cp1252Extra(c); extra >= 0) {
            out += static_cast<char>(extra);
        } else {
            out += '?';
        }
    }
    return out;
}

std::string PdfLiteral(std::string_view winansi) {
    std::string out = "(";
    for (char ch : winansi) {
        const auto b = static_cast<unsigned char>(ch);
        if (ch == '\\' || ch == '(' || ch == ')') {
            out += '\\';
            out += ch;
        } else if (b < 0x20 || b == 0x7F) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\%03o", b);
            out += buf;
        } else {
            out += ch;
        }
    }
    out += ')';
    return out;
}

Result<std::string> TextPdf(const std::vector<TextLine>& lines, const std::string& title) {
    // Lay out first: every page's content stream.
    std::vector<std::string> pages;
    std::string page;
    double y = kPageHeight - kMargin;
    for (const TextLine& line : lines) {
        const Look look = LookOf(line.style);
        if (line.style == Style::kGap) {
            y -= look.leading;
            continue;
        }
        const double x = kMargin + kIndent * line.indent;
        const auto max =
            static_cast<std::size_t>((kPageWidth - kMargin - x) / (look.size * look.em_width));
        const std::vector<std::string> pieces = Wrap(ToWinAnsi(line.text), max);
        for (std::size_t k = 0; k < pieces.size(); ++k) {
            if (y - look.leading < kBottom) {
                pages.push_back(std::move(page));
                page.clear();
                y = kPageHeight - kMargin;
            }
            y -= look.leading;
            // Continuation lines of a wrapped line are indented a little more.
            const double at = k == 0 ? x : x + kIndent;
            page += "BT " + std::string(look.font) + " " + Number(look.size) + " Tf " + Number(at) +
                    " " + Number(y) + " Td " + PdfLiteral(pieces[k]) + " Tj ET\n";
        }
    }
    pages.push_back(std::move(page));

    try {
        QPDF pdf;
        pdf.emptyPDF();
        auto font = [&](const char* base) {
            return pdf.makeIndirectObject(
                QPDFObjectHandle::parse(std::string("<< /Type /Font /Subtype /Type1 /BaseFont /") +
                                        base + " /Encoding /WinAnsiEncoding >>"));
        };
        QPDFObjectHandle fonts = QPDFObjectHandle::newDictionary();
        fonts.replaceKey("/F1", font("Helvetica"));
        fonts.replaceKey("/F2", font("Helvetica-Bold"));
        fonts.replaceKey("/F3", font("Courier"));
        QPDFObjectHandle resources = QPDFObjectHandle::newDictionary();
        resources.replaceKey("/Font", fonts);
        QPDFPageDocumentHelper doc(pdf);
        const std::string total = std::to_string(pages.size());
        for (std::size_t i = 0; i < pages.size(); ++i) {
            const std::string footer =
                "BT /F1 8 Tf " + Number(kMargin) + " 30 Td " +
                PdfLiteral(ToWinAnsi(title + " - page " + std::to_string(i + 1) + " of " + total)) +
                " Tj ET\n";
            QPDFObjectHandle page_dict =
                QPDFObjectHandle::parse("<< /Type /Page /MediaBox [0 0 " + Number(kPageWidth) +
                                        " " + Number(kPageHeight) + "] >>");
            page_dict.replaceKey("/Contents", pdf.newStream(pages[i] + footer));
            page_dict.replaceKey("/Resources", resources);
            doc.addPage(QPDFPageObjectHelper(pdf.makeIndirectObject(page_dict)), false);
        }
        QPDFObjectHandle info = QPDFObjectHandle::newDictionary();
        info.replaceKey("/Title", QPDFObjectHandle::newUnicodeString(title));
        info.replaceKey("/Producer", QPDFObjectHandle::newString("Firmo"));
        pdf.getTrailer().replaceKey("/Info", pdf.makeIndirectObject(info));
        QPDFWriter writer(pdf);
        writer.setOutputMemory();
        // A plain cross-reference table: the signer appends its incremental update after it.
        writer.setObjectStreamMode(qpdf_o_disable);
        writer.write();
        auto buffer = writer.getBufferSharedPointer();
        return std::string(reinterpret_cast<const char*>(buffer->getBuffer()), buffer->getSize());
    } catch (const std::exception& e) {
        return Fail(ErrorCode::kInternal, std::string("cannot write the report PDF: ") + e.what());
    }
}

std::vector<TextLine> EvidenceLines(const domain::EvidenceReport& r) {
    std::vector<TextLine> out;
    const auto add = [&](Style style, std::string text, int indent = 0) {
        out.push_back({style, std::move(text), indent});
    };
    const auto gap = [&] { add(Style::kGap, ""); };
    const std::string& zone = r.time_zone;
    add(Style::kTitle, "Signature report");
    add(Style::kBody, "Signature request " + r.request_id + " of " + OrNone(r.issuer_name) +
                          " (issuer " + r.issuer_id + ")");
    add(Style::kBody, "Title: " + OrNone(r.title));
    add(Style::kBody, "Reference: " + OrNone(r.reference));
    add(Style::kBody, "Status: " + r.status +
                          (r.reject_reason.empty() ? "" : " (reason: " + r.reject_reason + ")"));
    add(Style::kBody, "Created: " + When(r.created_at, zone));
    add(Style::kBody, "Deadline: " + When(r.expires_at, zone));
    if (r.closed_at) add(Style::kBody, "Closed: " + When(*r.closed_at, zone));
    if (r.documents_deleted_at) {
        add(Style::kBody, "Documents deleted: " + When(*r.documents_deleted_at, zone));
    }
    add(Style::kBody, "Report made: " + When(r.generated_at, zone) +
                          "; sealed by the Firmo server that made it.");

    gap();
    add(Style::kHeading, "What was signed");
    for (std::size_t i = 0; i < r.documents.size(); ++i) {
        const auto& d = r.documents[i];
        add(Style::kBody, std::to_string(i + 1) + ". " + OrNone(d.title) + " (document " + d.id +
                              ", " + d.status + ", " + std::to_string(d.signatures) +
                              " signature(s))");
        add(Style::kBody, "SHA-256 of the original:", 1);
        add(Style::kMono, OrNone(d.original_sha256), 2);
        add(Style::kBody, "SHA-256 of the signed PDF:", 1);
        add(Style::kMono, OrNone(d.signed_sha256), 2);
    }

    gap();
    add(Style::kHeading, "Who signed, and how they were authenticated");
    for (std::size_t i = 0; i < r.signers.size(); ++i) {
        const auto& s = r.signers[i];
        add(Style::kBody, std::to_string(i + 1) + ". " + OrNone(s.name) + " - " +
                              OrNone(s.identifier) + " (signer " + s.id + ")");
        add(Style::kBody,
            "Signing order " + std::to_string(s.order) + "; on behalf of: " + s.on_behalf_of +
                "; status: " + s.status,
            1);
        if (!s.email.empty() || !s.phone.empty()) {
            add(Style::kBody, "Contact: " + OrNone(s.email) + ", " + OrNone(s.phone), 1);
        }
        add(Style::kBody,
            "Authentication required: " + s.authentication_required + "; authenticated with: " +
                (s.authenticated_with.empty() ? "none" : s.authenticated_with),
            1);
        if (!s.signing_name.empty()) {
            add(Style::kBody, "Name in the signing certificate: " + s.signing_name, 1);
        }
        if (s.confirmed_at) add(Style::kBody, "Confirmed: " + When(*s.confirmed_at, zone), 1);
        if (s.signed_at) add(Style::kBody, "Signed: " + When(*s.signed_at, zone), 1);
        if (s.rejected_at) {
            add(Style::kBody,
                "Rejected: " + When(*s.rejected_at, zone) +
                    (s.reject_reason.empty() ? "" : " (reason: " + s.reject_reason + ")"),
                1);
        }
    }

    gap();
    add(Style::kHeading, "Audit trail");
    for (const auto& e : r.steps) {
        std::string head = When(e.at, zone) + "  " + e.type;
        if (!e.from_status.empty() || !e.to_status.empty()) {
            head += " (" + OrNone(e.from_status) + " -> " + OrNone(e.to_status) + ")";
        }
        add(Style::kBody, head);
        std::string who = "by " + OrNone(e.actor) + "; IP " + OrNone(e.ip);
        if (!e.signer_id.empty()) who += "; signer " + e.signer_id;
        if (!e.document_id.empty()) who += "; document " + e.document_id;
        add(Style::kBody, who, 1);
        if (!e.detail.empty()) add(Style::kBody, e.detail, 1);
    }

    gap();
    add(Style::kHeading, "Verification of the signed PDFs");
    for (std::size_t i = 0; i < r.documents.size(); ++i) {
        const auto& d = r.documents[i];
        if (!d.check) {
            add(Style::kBody, std::to_string(i + 1) + ". " + OrNone(d.title) + ": " + d.note);
            continue;
        }
        add(Style::kBody, std::to_string(i + 1) + ". " + OrNone(d.title) + ": " +
                              (d.check->valid ? "VALID" : "NOT VALID") +
                              (d.check->level.empty() ? "" : " (PAdES " + d.check->level + ")"));
        for (const auto& line : d.check->lines) add(Style::kBody, line, 1);
    }
    return out;
}

domain::PdfCheck CheckOf(const VerificationReport& report) {
    domain::PdfCheck check;
    check.valid = report.all_valid();
    check.level = std::string(ToString(report.level));
    for (const SignatureReport& s : report.signatures) {
        std::string line = (s.is_document_timestamp ? "document time-stamp " : "signature ") +
                           s.field_name + ": " + OrNone(s.signer_name);
        if (!s.signer_serial_number.empty()) line += " (" + s.signer_serial_number + ")";
        line += s.is_valid() ? " - valid" : " - NOT valid";
        if (s.level != PadesLevel::kNone) line += ", PAdES " + std::string(ToString(s.level));
        if (s.timestamp_time)
            line += ", time-stamped " + FormatRfc3339(*s.timestamp_time);
        else if (s.signing_time)
            line += ", signing time " + FormatRfc3339(*s.signing_time);
        line += s.chain_trusted ? ", certificate chain trusted" : ", certificate chain not trusted";
        for (const auto& p : s.problems) line += "; " + p;
        check.lines.push_back(std::move(line));
    }
    for (const auto& p : report.problems) check.lines.push_back("document: " + p);
    check.lines.push_back("validated at " + FormatRfc3339(report.validation_time) + " with " +
                          std::to_string(report.revisions) + " revision(s)");
    return check;
}

Result<std::string> PdfEvidenceRenderer::Render(const domain::EvidenceReport& report) const {
    return TextPdf(EvidenceLines(report), "Signature report " + report.request_id);
}

}  // namespace firmo::pdf
