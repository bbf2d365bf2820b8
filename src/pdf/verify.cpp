#include "pdf/verify.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <qpdf/QPDFAcroFormDocumentHelper.hh>
#include <qpdf/QPDFExc.hh>
#include <qpdf/QPDFPageDocumentHelper.hh>
#include <qpdf/QPDFXRefEntry.hh>
#include <set>
#include <sstream>

#include "core/encoding.hpp"
#include "pdf/pdf_syntax.hpp"
#include "pdf/qpdf_support.hpp"

namespace firmo::pdf {
namespace {

constexpr std::string_view kEtsiCades = "ETSI.CAdES.detached";
constexpr std::string_view kAdbePkcs7 = "adbe.pkcs7.detached";
// /Parent chains are short in real forms; a cycle must not loop forever.
constexpr int kMaxParentDepth = 32;

bool IsHexOrSpace(char c) {
    return std::isxdigit(static_cast<unsigned char>(c)) != 0 || c == ' ' || c == '\n' ||
           c == '\r' || c == '\t';
}

// The bytes just before `end` are "%%EOF" and end-of-line characters: `end` closes a revision.
bool EndsRevision(std::string_view pdf, std::uint64_t end) {
    std::string_view head = pdf.substr(0, static_cast<std::size_t>(end));
    while (!head.empty() && (head.back() == '\n' || head.back() == '\r' || head.back() == ' ')) {
        head.remove_suffix(1);
    }
    return head.size() >= 5 && head.substr(head.size() - 5) == "%%EOF";
}

std::string NameWithoutSlash(QPDFObjectHandle name) {
    if (!name.isName()) return {};
    std::string n = name.getName();
    return n.empty() ? n : n.substr(1);
}

std::string FieldType(QPDFObjectHandle dict) {
    for (int depth = 0; dict.isDictionary() && depth < kMaxParentDepth; ++depth) {
        if (dict.getKey("/FT").isName()) return dict.getKey("/FT").getName();
        dict = dict.getKey("/Parent");
    }
    return {};
}

bool IsSignatureFieldOrWidget(QPDFObjectHandle h) {
    return h.isDictionary() && !h.isStream() && FieldType(h) == "/Sig";
}

std::set<std::string> ChangedKeys(QPDFObjectHandle before, QPDFObjectHandle after) {
    std::set<std::string> keys = before.getKeys();
    for (const auto& k : after.getKeys()) keys.insert(k);
    std::set<std::string> changed;
    for (const auto& k : keys) {
        if (before.getKey(k).unparse() != after.getKey(k).unparse()) changed.insert(k);
    }
    return changed;
}

std::string Join(const std::set<std::string>& keys) {
    std::string out;
    for (const auto& k : keys) out += (out.empty() ? "" : ", ") + k;
    return out;
}

// An array may only grow, and only by signature fields or widgets.
std::optional<std::string> CheckGrownArray(QPDFObjectHandle before, QPDFObjectHandle after,
                                           const std::string& what) {
    std::vector<std::string> old_items;
    if (before.isArray()) {
        for (auto& item : before.aitems()) old_items.push_back(item.unparse());
    }
    std::multiset<std::string> remaining(old_items.begin(), old_items.end());
    if (after.isArray()) {
        for (auto& item : after.aitems()) {
            auto it = remaining.find(item.unparse());
            if (it != remaining.end()) {
                remaining.erase(it);
                continue;
            }
            if (!IsSignatureFieldOrWidget(item))
                return what + ": something other than a signature was added";
        }
    }
    if (!remaining.empty()) return what + ": entries were removed";
    return std::nullopt;
}

class ChangeChecker {
  public:
    ChangeChecker(QPDF& before, QPDF& after) : before_(before), after_(after) {
        root_ = before.getRoot().getObjGen();
        auto acroform = before.getRoot().getKey("/AcroForm");
        if (acroform.isIndirect()) acroform_ = acroform.getObjGen();
        auto info = before.getTrailer().getKey("/Info");
        if (info.isIndirect()) info_ = info.getObjGen();
        auto pages = QPDFPageDocumentHelper(before).getAllPages();
        for (std::size_t i = 0; i < pages.size(); ++i) {
            page_index_[pages[i].getObjectHandle().getObjGen()] = static_cast<int>(i);
        }
    }

    // What objects rewritten after `boundary` changed beyond what adding a signature needs.
    std::vector<std::string> Check(std::uint64_t boundary) {
        std::vector<std::string> out;
        auto before_table = before_.getXRefTable();
        auto after_table = after_.getXRefTable();
        for (const auto& [og, entry] : after_table) {
            if (!WrittenAfter(after_table, entry, boundary)) continue;
            if (before_table.count(og) == 0) continue;  // new: only matters if referenced
            QPDFObjectHandle b = before_.getObject(og);
            QPDFObjectHandle a = after_.getObject(og);
            if (auto problem = CheckObject(og, b, a)) out.push_back(*problem);
        }
        return out;
    }

  private:
    static bool WrittenAfter(const std::map<QPDFObjGen, QPDFXRefEntry>& table,
                             const QPDFXRefEntry& entry, std::uint64_t boundary) {
        if (entry.getType() == 1) return static_cast<std::uint64_t>(entry.getOffset()) >= boundary;
        if (entry.getType() == 2) {
            auto stream = table.find(QPDFObjGen(entry.getObjStreamNumber(), 0));
            return stream != table.end() && stream->second.getType() == 1 &&
                   static_cast<std::uint64_t>(stream->second.getOffset()) >= boundary;
        }
        return false;
    }

    std::string Describe(QPDFObjGen og) {
        auto page = page_index_.find(og);
        if (page != page_index_.end()) return "page " + std::to_string(page->second);
        if (og == root_) return "the document catalog";
        if (og == acroform_) return "the form";
        return "object " + std::to_string(og.getObj());
    }

    std::optional<std::string> CheckAcroForm(QPDFObjectHandle b, QPDFObjectHandle a) {
        auto changed = ChangedKeys(b, a);
        for (const auto& k : changed) {
            if (k == "/Fields") {
                if (auto p = CheckGrownArray(b.getKey(k), a.getKey(k), "the form's fields"))
                    return p;
            } else if (k != "/SigFlags" && k != "/DR" && k != "/DA") {
                return "the form was changed (" + k + ")";
            }
        }
        return std::nullopt;
    }

    std::optional<std::string> CheckObject(QPDFObjGen og, QPDFObjectHandle b, QPDFObjectHandle a) {
        if (b.isStream() || a.isStream()) {
            if (b.isStream() && a.isStream() && ChangedKeys(b.getDict(), a.getDict()).empty() &&
                b.getRawStreamData()->getSize() == a.getRawStreamData()->getSize()) {
                // Rewritten, but its dictionary and length are the same: compare the data.
                auto bd = b.getRawStreamData();
                auto ad = a.getRawStreamData();
                if (std::equal(bd->getBuffer(), bd->getBuffer() + bd->getSize(), ad->getBuffer())) {
                    return std::nullopt;
                }
            }
            return Describe(og) + ": its content was changed";
        }
        if (b.isArray() || a.isArray()) return CheckGrownArray(b, a, Describe(og));
        if (!b.isDictionary() || !a.isDictionary()) {
            return b.unparse() == a.unparse()
                       ? std::nullopt
                       : std::optional<std::string>(Describe(og) + " was changed");
        }
        auto changed = ChangedKeys(b, a);
        if (changed.empty()) return std::nullopt;
        if (og == root_) {
            for (const auto& k : changed) {
                if (k == "/AcroForm") {
                    QPDFObjectHandle ba = b.getKey(k);
                    QPDFObjectHandle aa = a.getKey(k);
                    if (aa.isIndirect() && (!ba.isIndirect() || ba.getObjGen() != aa.getObjGen())) {
                        // A new form object: compare it with the old one, wherever it was.
                        if (auto p = CheckAcroForm(
                                ba.isDictionary() ? ba : QPDFObjectHandle::newDictionary(), aa))
                            return p;
                    } else if (!aa.isIndirect()) {
                        if (auto p = CheckAcroForm(ba, aa)) return p;
                    }
                } else if (k != "/DSS") {
                    return "the document catalog was changed (" + k + ")";
                }
            }
            return std::nullopt;
        }
        if (og == acroform_) return CheckAcroForm(b, a);
        if (og == info_) return std::nullopt;  // metadata (producer, dates) may change
        if (page_index_.count(og) > 0) {
            for (const auto& k : changed) {
                if (k != "/Annots") return Describe(og) + " was changed (" + k + ")";
            }
            return CheckGrownArray(b.getKey("/Annots"), a.getKey("/Annots"),
                                   Describe(og) + "'s annotations");
        }
        if (IsSignatureFieldOrWidget(b)) {
            for (const auto& k : changed) {
                if (k == "/V") {
                    if (!b.getKey("/V").isNull()) return "an existing signature was replaced";
                } else if (k != "/AP" && k != "/AS" && k != "/Lock" && k != "/F") {
                    return "a signature field was changed (" + k + ")";
                }
            }
            return std::nullopt;
        }
        std::string type = b.getKey("/Type").isName() ? b.getKey("/Type").getName() : "";
        if (type == "/Sig" || type == "/DocTimeStamp") return "an existing signature was changed";
        return Describe(og) + " was changed (" + Join(changed) + ")";
    }

    QPDF& before_;
    QPDF& after_;
    QPDFObjGen root_;
    QPDFObjGen acroform_;
    QPDFObjGen info_;
    std::map<QPDFObjGen, int> page_index_;
};

SignatureReport CheckSignature(std::string_view pdf, const std::string& field_name,
                               QPDFObjectHandle v, const crypto::TrustAnchors& anchors,
                               const VerifyOptions& options) {
    SignatureReport r;
    r.field_name = field_name;
    r.sub_filter = NameWithoutSlash(v.getKey("/SubFilter"));
    if (v.getKey("/Reason").isString()) r.reason = v.getKey("/Reason").getUTF8Value();
    if (v.getKey("/M").isString())
        r.signing_time = internal::ParsePdfDate(v.getKey("/M").getUTF8Value());
    if (r.sub_filter != kEtsiCades && r.sub_filter != kAdbePkcs7) {
        r.problems.push_back("unsupported signature type '" + r.sub_filter + "'");
        return r;
    }
    QPDFObjectHandle range = v.getKey("/ByteRange");
    bool range_ok = range.isArray() && range.getArrayNItems() == 4;
    for (int i = 0; range_ok && i < 4; ++i) {
        auto item = range.getArrayItem(i);
        range_ok = item.isInteger() && item.getIntValue() >= 0;
        if (range_ok) r.byte_range.push_back(static_cast<std::uint64_t>(item.getIntValue()));
    }
    if (!range_ok || r.byte_range[0] != 0 || r.byte_range[1] + 2 > r.byte_range[2] ||
        r.byte_range[2] > pdf.size() || r.byte_range[3] > pdf.size() - r.byte_range[2]) {
        r.problems.push_back("the signature's /ByteRange is malformed");
        return r;
    }
    const std::uint64_t gap_start = r.byte_range[1];
    const std::uint64_t gap_end = r.byte_range[2];
    r.revision_end = r.byte_range[2] + r.byte_range[3];
    std::string_view gap = pdf.substr(static_cast<std::size_t>(gap_start),
                                      static_cast<std::size_t>(gap_end - gap_start));
    bool gap_is_contents = gap.front() == '<' && gap.back() == '>' &&
                           std::all_of(gap.begin() + 1, gap.end() - 1, IsHexOrSpace);
    r.covers_revision = gap_is_contents && EndsRevision(pdf, r.revision_end);
    r.covers_whole_file = r.covers_revision && r.revision_end == pdf.size();
    if (!r.covers_revision) {
        r.problems.push_back(
            "the signed byte ranges do not cover the whole revision apart from the signature");
    }
    // The signature is what sits in the hole of the byte range, not what a later revision
    // may claim in /Contents.
    std::string hex;
    for (char c : gap.substr(1, gap.size() - 2)) {
        if (std::isxdigit(static_cast<unsigned char>(c))) hex += c;
    }
    if (hex.size() % 2 == 1) hex += '0';
    auto der = HexDecode(hex);
    auto cms = der ? crypto::DetachedCms::Parse(*der)
                   : Result<crypto::DetachedCms>(Fail(ErrorCode::kMalformed, "no signature"));
    if (!cms) {
        r.problems.push_back("the signature value cannot be read: " + cms.error().message);
        return r;
    }
    auto digest = cms->DigestOf({pdf.substr(0, static_cast<std::size_t>(r.byte_range[1])),
                                 pdf.substr(static_cast<std::size_t>(r.byte_range[2]),
                                            static_cast<std::size_t>(r.byte_range[3]))});
    if (!digest) {
        r.problems.push_back(digest.error().message);
        return r;
    }
    Timestamp claimed = r.signing_time.value_or(SystemClock().Now());
    crypto::CmsVerification check = cms->Verify(*digest, anchors, claimed, options.validation_time);
    r.timestamped = check.timestamped;
    r.timestamp_valid = check.timestamp_valid;
    r.timestamp_time = check.timestamp_time;
    r.timestamp_authority = check.timestamp_authority;
    if (!r.signing_time) r.signing_time = check.cms_signing_time;
    r.signer_name = check.signer_common_name;
    r.signer_subject = check.signer_subject;
    r.signer_serial_number = check.signer_serial_number;
    r.digest_matches = check.digest_matches;
    r.signature_valid = check.signature_valid;
    r.chain_trusted = check.chain_trusted;
    r.problems.insert(r.problems.end(), check.problems.begin(), check.problems.end());
    return r;
}

Result<VerificationReport> Verify(std::string_view pdf, const crypto::TrustAnchors& anchors,
                                  const VerifyOptions& options) {
    internal::MemorySource source(pdf);
    if (pdf.size() > options.limits.max_file_bytes) {
        return Fail(ErrorCode::kPayloadTooLarge, "the PDF file is larger than " +
                                                     std::to_string(options.limits.max_file_bytes) +
                                                     " bytes");
    }
    FIRMO_CHECK(internal::CheckHeader(source));
    FIRMO_TRY(auto qpdf, internal::OpenMemory(pdf));
    VerificationReport report;
    QPDFAcroFormDocumentHelper acroform(*qpdf);
    if (acroform.hasAcroForm()) {
        for (auto& field : acroform.getFormFields()) {
            if (field.getFieldType() != "/Sig" || !field.getValue().isDictionary()) continue;
            if (static_cast<int>(report.signatures.size()) >= options.max_signatures) {
                report.problems.push_back("the document has more than " +
                                          std::to_string(options.max_signatures) +
                                          " signatures; the rest were not verified");
                break;
            }
            report.signatures.push_back(CheckSignature(pdf, field.getFullyQualifiedName(),
                                                       field.getValue(), anchors, options));
        }
    }
    std::stable_sort(report.signatures.begin(), report.signatures.end(),
                     [](const auto& a, const auto& b) { return a.revision_end < b.revision_end; });
    for (auto& r : report.signatures) {
        if (!r.covers_revision || r.revision_end >= pdf.size()) continue;
        auto before = internal::OpenMemory(pdf.substr(0, static_cast<std::size_t>(r.revision_end)));
        if (!before) {
            r.problems.push_back("the signed revision cannot be read on its own");
            continue;
        }
        r.changes_after = ChangeChecker(**before, *qpdf).Check(r.revision_end);
        r.modified_after = !r.changes_after.empty();
        for (const auto& change : r.changes_after) {
            r.problems.push_back("changed after this signature: " + change);
        }
    }
    // Bytes after the last signed revision that are no incremental update at all (readers
    // ignore them, so the checks above see nothing) are still bytes nobody signed.
    std::uint64_t last_end = 0;
    for (const auto& r : report.signatures) {
        if (r.covers_revision) last_end = std::max(last_end, r.revision_end);
    }
    if (last_end > 0 && last_end < pdf.size()) {
        std::string_view tail = pdf.substr(static_cast<std::size_t>(last_end));
        bool blank = tail.find_first_not_of(" \t\r\n\f", 0) == std::string_view::npos;
        if (!blank && tail.find("startxref") == std::string_view::npos) {
            report.problems.push_back(std::to_string(tail.size()) +
                                      " bytes were appended after the last signature");
        }
    }
    if (!internal::TakeWarnings(*qpdf).empty()) {
        report.problems.push_back(
            "the file's structure is damaged (it had to be repaired to be read)");
    }
    if (report.signatures.empty()) report.problems.push_back("the document has no signatures");
    return report;
}

}  // namespace

bool VerificationReport::all_valid() const {
    if (signatures.empty() || !problems.empty()) return false;
    return std::all_of(signatures.begin(), signatures.end(),
                       [](const SignatureReport& s) { return s.is_valid(); });
}

Result<VerificationReport> VerifyPdfBytes(std::string_view pdf, const crypto::TrustAnchors& anchors,
                                          const VerifyOptions& options) {
    try {
        return Verify(pdf, anchors, options);
    } catch (const QPDFExc&) {
        return Fail(ErrorCode::kMalformed, std::string(internal::kReasonDamaged));
    } catch (const std::bad_alloc&) {
        return Fail(ErrorCode::kPayloadTooLarge, std::string(internal::kReasonBomb));
    } catch (...) {
        return Fail(ErrorCode::kMalformed, std::string(internal::kReasonDamaged));
    }
}

Result<VerificationReport> VerifyPdfFile(const std::filesystem::path& pdf,
                                         const crypto::TrustAnchors& anchors,
                                         const VerifyOptions& options) {
    std::error_code ec;
    auto size = std::filesystem::file_size(pdf, ec);
    if (ec) return Fail(ErrorCode::kNotFound, "cannot open " + pdf.string());
    if (size > options.limits.max_file_bytes) {
        return Fail(ErrorCode::kPayloadTooLarge, "the PDF file is larger than " +
                                                     std::to_string(options.limits.max_file_bytes) +
                                                     " bytes");
    }
    // Verification compares revisions, which needs random access to all of them; documents
    // are bounded by max_file_bytes, so it reads the file whole (signing never does).
    std::ifstream in(pdf, std::ios::binary);
    std::string bytes(static_cast<std::size_t>(size), '\0');
    in.read(bytes.data(), static_cast<std::streamsize>(size));
    if (!in) return Fail(ErrorCode::kInternal, "cannot read " + pdf.string());
    return VerifyPdfBytes(bytes, anchors, options);
}

}  // namespace firmo::pdf
