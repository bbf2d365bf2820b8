#include "pdf/verify.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <qpdf/QPDFExc.hh>
#include <qpdf/QPDFXRefEntry.hh>
#include <set>

#include "core/encoding.hpp"
#include "pdf/object_reader.hpp"
#include "pdf/pdf_syntax.hpp"
#include "pdf/qpdf_support.hpp"
#include "pdf/revision_diff.hpp"
#include "pdf/revisions.hpp"

namespace firmo::pdf {
namespace {

using internal::Child;
using internal::ObjectReader;
using internal::PdfValue;
using internal::RevisionIndex;
using internal::ValuePtr;
using internal::XrefEntry;

constexpr std::string_view kEtsiCades = "ETSI.CAdES.detached";
constexpr std::string_view kAdbePkcs7 = "adbe.pkcs7.detached";
constexpr std::string_view kEtsiRfc3161 = "ETSI.RFC3161";
// Field trees are shallow in real forms; a cycle or a hostile depth must not loop.
constexpr int kMaxFieldDepth = 32;
// Remarks are for people: a handful is enough.
constexpr std::size_t kMaxRemarks = 20;

bool IsHexOrSpace(char c) {
    return std::isxdigit(static_cast<unsigned char>(c)) != 0 || c == ' ' || c == '\n' ||
           c == '\r' || c == '\t';
}

std::string NameWithoutSlash(const PdfValue& name) {
    const std::string& n = name.NameOr();
    return n.empty() ? n : n.substr(1);
}

struct SignatureField {
    std::string name;
    ValuePtr field;
    ValuePtr value;                   // the signature dictionary
    std::optional<int> value_number;  // when it is an indirect object (it should be)
};

// The signed signature fields of the form.
std::vector<SignatureField> SignatureFields(ObjectReader& reader) {
    std::vector<SignatureField> out;
    ValuePtr root = reader.Root();
    ValuePtr form = reader.Resolve(Child(root, root->Get("/AcroForm")));
    ValuePtr fields = reader.Resolve(Child(form, form->Get("/Fields")));
    struct Node {
        ValuePtr dict;
        std::optional<int> number;
        std::string parent_name;
        std::string type;
        int depth;
    };
    std::vector<Node> stack;
    auto push_all = [&](const ValuePtr& list, const std::string& name, const std::string& type,
                        int depth) {
        const auto& items = list->items();
        for (auto it = items.rbegin(); it != items.rend(); ++it) {
            stack.push_back(
                {reader.Resolve(Child(list, *it)),
                 it->IsReference() ? std::optional<int>(it->ref().number) : std::nullopt, name,
                 type, depth});
        }
    };
    push_all(fields, "", "", 0);
    std::set<int> seen;
    while (!stack.empty()) {
        Node node = std::move(stack.back());
        stack.pop_back();
        if (!node.dict->IsDictionary() || node.depth > kMaxFieldDepth) continue;
        if (node.number && !seen.insert(*node.number).second) continue;
        std::string name = node.parent_name;
        if (node.dict->Get("/T").IsString()) {
            name += (name.empty() ? "" : ".") + internal::TextToUtf8(node.dict->Get("/T").text());
        }
        std::string type =
            node.dict->Get("/FT").IsName() ? node.dict->Get("/FT").text() : node.type;
        ValuePtr kids = reader.Resolve(Child(node.dict, node.dict->Get("/Kids")));
        bool has_field_kids = false;
        for (const auto& kid : kids->items()) {
            ValuePtr k = reader.Resolve(Child(kids, kid));
            if (k->IsDictionary() && k->Has("/T")) has_field_kids = true;
        }
        if (has_field_kids) {
            push_all(kids, name, type, node.depth + 1);
            continue;
        }
        const PdfValue& v = node.dict->Get("/V");
        ValuePtr value = reader.Resolve(Child(node.dict, v));
        if (type == "/Sig" && value->IsDictionary()) {
            out.push_back({name, node.dict, value,
                           v.IsReference() ? std::optional<int>(v.ref().number) : std::nullopt});
        }
    }
    return out;
}

// One verified signature and the objects it came from.
struct Entry {
    SignatureReport report;
    std::optional<int> value;  // the signature dictionary's object number
    std::string contents;      // the raw bytes in the hole of its byte range
};

SignatureReport CheckSignature(std::string_view pdf, const RevisionIndex* index,
                               const SignatureField& field, const crypto::TrustAnchors& anchors,
                               const VerifyOptions& options, std::string* contents) {
    const PdfValue& v = *field.value;
    SignatureReport r;
    r.field_name = field.name;
    r.sub_filter = NameWithoutSlash(v.Get("/SubFilter"));
    r.is_document_timestamp =
        NameWithoutSlash(v.Get("/Type")) == "DocTimeStamp" || r.sub_filter == kEtsiRfc3161;
    if (v.Get("/Reason").IsString()) r.reason = internal::TextToUtf8(v.Get("/Reason").text());
    if (v.Get("/M").IsString()) {
        r.signing_time = internal::ParsePdfDate(internal::TextToUtf8(v.Get("/M").text()));
    }
    if (r.sub_filter != kEtsiCades && r.sub_filter != kAdbePkcs7 && r.sub_filter != kEtsiRfc3161) {
        r.problems.push_back("unsupported signature type '" + r.sub_filter + "'");
        return r;
    }
    const PdfValue& range = v.Get("/ByteRange");
    bool range_ok = range.IsArray() && range.items().size() == 4;
    for (std::size_t i = 0; range_ok && i < 4; ++i) {
        const PdfValue& item = range.items()[i];
        range_ok = item.IsNumber() && item.number() >= 0 && item.number() < 1e15 &&
                   item.number() == static_cast<double>(static_cast<std::uint64_t>(item.number()));
        if (range_ok) r.byte_range.push_back(static_cast<std::uint64_t>(item.number()));
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
    *contents = std::string(gap);
    bool gap_is_contents = gap.front() == '<' && gap.back() == '>' &&
                           std::all_of(gap.begin() + 1, gap.end() - 1, IsHexOrSpace);
    if (index != nullptr) {
        if (auto k = index->RevisionEndingAt(r.revision_end)) r.revision = static_cast<int>(*k);
    }
    r.covers_revision = gap_is_contents && r.revision >= 0;
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
    const std::vector<std::string_view> signed_bytes = {
        pdf.substr(0, static_cast<std::size_t>(r.byte_range[1])),
        pdf.substr(static_cast<std::size_t>(r.byte_range[2]),
                   static_cast<std::size_t>(r.byte_range[3]))};
    crypto::CmsVerification check;
    if (r.is_document_timestamp) {
        if (r.sub_filter != kEtsiRfc3161) {
            r.problems.push_back("a document time-stamp must have /SubFilter /ETSI.RFC3161");
            return r;
        }
        check = crypto::VerifyTimestampToken(der ? std::string_view(*der) : std::string_view(),
                                             signed_bytes, anchors);
        r.signing_time = check.timestamp_time;
    } else {
        auto cms = der ? crypto::DetachedCms::Parse(*der)
                       : Result<crypto::DetachedCms>(Fail(ErrorCode::kMalformed, "no signature"));
        if (!cms) {
            r.problems.push_back("the signature value cannot be read: " + cms.error().message);
            return r;
        }
        auto digest = cms->DigestOf(signed_bytes);
        if (!digest) {
            r.problems.push_back(digest.error().message);
            return r;
        }
        Timestamp claimed = r.signing_time.value_or(SystemClock().Now());
        check = cms->Verify(*digest, anchors, claimed, options.validation_time);
        if (!check.has_signed_attributes && r.sub_filter == kEtsiCades) {
            r.problems.push_back("a PAdES (ETSI.CAdES.detached) signature needs signed attributes");
        }
        if (!r.signing_time) r.signing_time = check.cms_signing_time;
    }
    r.timestamped = check.timestamped;
    r.timestamp_valid = check.timestamp_valid;
    r.timestamp_time = check.timestamp_time;
    r.timestamp_authority = check.timestamp_authority;
    r.signer_name = check.signer_common_name;
    r.signer_subject = check.signer_subject;
    r.signer_serial_number = check.signer_serial_number;
    r.digest_matches = check.digest_matches;
    r.signature_valid = check.signature_valid;
    r.chain_trusted = check.chain_trusted;
    r.problems.insert(r.problems.end(), check.problems.begin(), check.problems.end());
    return r;
}

// The DocMDP level a signature dictionary declares in its /Reference, if any (/P defaults
// to 2, 12.8.2.2).
std::optional<int> DocMdpLevel(ObjectReader& reader, const ValuePtr& sig) {
    ValuePtr refs = reader.Resolve(Child(sig, sig->Get("/Reference")));
    for (const auto& entry : refs->items()) {
        ValuePtr ref = reader.Resolve(Child(refs, entry));
        if (ref->Get("/TransformMethod").NameOr() != "/DocMDP") continue;
        ValuePtr params = reader.Resolve(Child(ref, ref->Get("/TransformParams")));
        const PdfValue& p = params->Get("/P");
        if (!p.IsNumber()) return 2;
        return static_cast<int>(std::clamp(p.number(), 1.0, 3.0));
    }
    return std::nullopt;
}

internal::FieldLock LockOf(ObjectReader& reader, const ValuePtr& params) {
    internal::FieldLock lock;
    if (!params->IsDictionary()) return lock;
    const std::string& action = params->Get("/Action").NameOr();
    if (action == "/All") lock.action = internal::FieldLock::Action::kAll;
    if (action == "/Include") lock.action = internal::FieldLock::Action::kInclude;
    if (action == "/Exclude") lock.action = internal::FieldLock::Action::kExclude;
    ValuePtr fields = reader.Resolve(Child(params, params->Get("/Fields")));
    for (const auto& f : fields->items()) {
        if (f.IsString()) lock.fields.insert(internal::TextToUtf8(f.text()));
    }
    return lock;
}

// FieldMDP of the signature in `field` (its /Lock, or its value's FieldMDP reference).
internal::FieldLock FieldLockOf(ObjectReader& reader, const SignatureField& field) {
    ValuePtr lock = reader.Resolve(Child(field.field, field.field->Get("/Lock")));
    if (lock->IsDictionary()) return LockOf(reader, lock);
    ValuePtr refs = reader.Resolve(Child(field.value, field.value->Get("/Reference")));
    for (const auto& entry : refs->items()) {
        ValuePtr ref = reader.Resolve(Child(refs, entry));
        if (ref->Get("/TransformMethod").NameOr() == "/FieldMDP") {
            return LockOf(reader, reader.Resolve(Child(ref, ref->Get("/TransformParams"))));
        }
    }
    return {};
}

// The certification signature's dictionary as the catalog names it (its object number).
std::optional<int> Certification(ObjectReader& reader) {
    ValuePtr root = reader.Root();
    ValuePtr perms = reader.Resolve(Child(root, root->Get("/Perms")));
    const PdfValue& docmdp = perms->Get("/DocMDP");
    if (!docmdp.IsReference()) return std::nullopt;
    return docmdp.ref().number;
}

// Whether qpdf resolves objects through the same entries the revision index reads (a repaired
// cross-reference table resolves through what qpdf guessed instead).
bool SameCrossReference(QPDF& qpdf, const RevisionIndex& index, std::size_t k) {
    for (const auto& [og, entry] : qpdf.getXRefTable()) {
        auto mine = index.EntryAt(k, og.getObj());
        if (!mine) return false;
        if (entry.getType() == 1) {
            if (mine->type != XrefEntry::Type::kInFile ||
                mine->position != static_cast<std::uint64_t>(entry.getOffset())) {
                return false;
            }
        } else if (entry.getType() == 2) {
            if (mine->type != XrefEntry::Type::kInStream ||
                mine->position != static_cast<std::uint64_t>(entry.getObjStreamNumber()) ||
                mine->generation != static_cast<std::uint32_t>(entry.getObjStreamIndex())) {
                return false;
            }
        }
    }
    return true;
}

std::string RevisionLabel(const RevisionIndex& index, std::size_t k) {
    const auto& r = index.revisions()[k];
    return "revision " + std::to_string(k) + " (bytes " + std::to_string(r.start) + "-" +
           std::to_string(r.end) + ")";
}

void AddRemark(VerificationReport& report, std::string remark) {
    if (report.remarks.size() >= kMaxRemarks) return;
    if (std::find(report.remarks.begin(), report.remarks.end(), remark) != report.remarks.end()) {
        return;
    }
    report.remarks.push_back(std::move(remark));
}

// One signature value counts once: a second field with the same value, the same bytes in the
// hole or the same byte ranges is a copy, not another signature.
void ReportCopies(std::vector<Entry>& entries, VerificationReport& report) {
    for (std::size_t i = 0; i < entries.size(); ++i) {
        for (std::size_t j = 0; j < i; ++j) {
            const Entry& first = entries[j];
            Entry& copy = entries[i];
            bool same_value = copy.value && copy.value == first.value;
            bool same_contents = !copy.contents.empty() && copy.contents == first.contents;
            bool same_range = !copy.report.byte_range.empty() &&
                              copy.report.byte_range == first.report.byte_range;
            if (!same_value && !same_contents && !same_range) continue;
            std::string what = "field '" + copy.report.field_name +
                               "' repeats the signature of field '" + first.report.field_name + "'";
            copy.report.problems.push_back(what + "; a signature value counts once");
            report.problems.push_back(what);
            break;
        }
    }
}

// What later revisions changed for the signature in `entry`, judged by its permissions.
void CompareAfter(std::string_view pdf, const RevisionIndex& index, ObjectReader& after,
                  std::vector<Entry>& entries, std::size_t which, VerificationReport& report) {
    SignatureReport& r = entries[which].report;
    const auto k = static_cast<std::size_t>(r.revision);
    for (std::size_t j = k + 1; j <= index.last(); ++j) {
        for (const auto& p : index.revisions()[j].problems) {
            r.problems.push_back("changed after this signature: " + RevisionLabel(index, j) + ": " +
                                 p);
            r.modified_after = true;
        }
    }
    if (k == index.last()) return;
    auto before_qpdf =
        internal::OpenMemory(pdf.substr(0, static_cast<std::size_t>(r.revision_end)));
    if (!before_qpdf) {
        r.problems.push_back("the signed revision cannot be read on its own");
        return;
    }
    if (!SameCrossReference(**before_qpdf, index, k)) {
        r.problems.push_back("the signed revision can only be read by repairing it");
        return;
    }
    ObjectReader before(pdf, index, k);
    internal::DiffInput input;
    input.before = &before;
    input.after = &after;
    input.before_qpdf = before_qpdf->get();
    std::vector<int> changed = index.Changed(k, index.last());
    input.changed = &changed;
    std::vector<bool> reaching = after.Reaching(changed);
    input.reaching = &reaching;
    for (const auto& e : entries) {
        if (e.report.revision <= r.revision || !e.report.covers_revision || !e.value) continue;
        (e.report.is_document_timestamp ? input.later_timestamps : input.later_signatures)
            .insert(*e.value);
    }
    if (auto certification = Certification(before)) {
        input.permissions.docmdp = DocMdpLevel(before, before.Get(*certification)).value_or(2);
    }
    for (const auto& field : SignatureFields(before)) {
        if (field.name == r.field_name) input.permissions.lock = FieldLockOf(before, field);
    }
    r.differences = internal::CompareRevisions(input);
    for (const auto& d : r.differences) {
        r.modification_level = std::max(r.modification_level, d.level);
        if (d.allowed) continue;
        r.changes_after.push_back(d.ToString());
        r.problems.push_back("changed after this signature: " + d.ToString());
        r.modified_after = true;
    }
    for (const auto& w : internal::TakeWarnings(**before_qpdf)) {
        AddRemark(report,
                  "the signed " + RevisionLabel(index, k) + " needed qpdf to read around: " + w);
    }
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
    auto read = RevisionIndex::Read(pdf);
    if (!read && read.error().code == ErrorCode::kPayloadTooLarge) {
        return Fail(std::move(read).error());
    }
    std::optional<RevisionIndex> index;
    if (read) {
        index = std::move(*read);
    } else {
        // What qpdf could recover, to list the signatures; none of them can be trusted.
        report.problems.push_back("the file's structure is damaged: " + read.error().message);
    }
    RevisionIndex repaired = index ? RevisionIndex() : internal::RepairedIndex(*qpdf, pdf.size());
    const RevisionIndex& readable = index ? *index : repaired;
    ObjectReader final_reader(pdf, readable, readable.last());
    if (!index) {
        std::size_t pos = 0;
        final_reader.OverrideTrailer(internal::ParseValue(qpdf->getTrailer().unparse(), pos));
    } else {
        report.revisions = static_cast<int>(index->revisions().size());
        if (!SameCrossReference(*qpdf, *index, index->last())) {
            report.problems.push_back(
                "the file's structure is damaged (it had to be repaired to be read)");
        }
    }

    std::vector<Entry> entries;
    for (const auto& field : SignatureFields(final_reader)) {
        if (static_cast<int>(entries.size()) >= options.max_signatures) {
            report.problems.push_back("the document has more than " +
                                      std::to_string(options.max_signatures) +
                                      " signatures; the rest were not verified");
            break;
        }
        Entry e;
        e.value = field.value_number;
        e.report =
            CheckSignature(pdf, index ? &*index : nullptr, field, anchors, options, &e.contents);
        entries.push_back(std::move(e));
    }
    std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
        return a.report.revision_end < b.report.revision_end;
    });
    ReportCopies(entries, report);

    // A certification signature (DocMDP) governs every later change; it must come first.
    auto certification = Certification(final_reader);
    for (std::size_t i = 0; i < entries.size(); ++i) {
        if (!certification || entries[i].value != certification) continue;
        entries[i].report.certification_level =
            DocMdpLevel(final_reader, final_reader.Get(*certification)).value_or(2);
        if (i > 0) {
            entries[i].report.problems.push_back(
                "a certification signature must be the first signature of the document");
        }
    }

    if (index) {
        for (std::size_t i = 0; i < entries.size(); ++i) {
            if (entries[i].report.covers_revision) {
                CompareAfter(pdf, *index, final_reader, entries, i, report);
            }
        }
        std::size_t last_signed = 0;
        bool any_signed = false;
        for (const auto& e : entries) {
            if (!e.report.covers_revision) continue;
            any_signed = true;
            last_signed = std::max(last_signed, static_cast<std::size_t>(e.report.revision));
        }
        for (std::size_t j = 0; any_signed && j <= last_signed; ++j) {
            for (const auto& p : index->revisions()[j].problems) {
                AddRemark(report, "the signed " + RevisionLabel(*index, j) + ": " + p);
            }
        }
        if (any_signed && last_signed < index->last()) {
            AddRemark(report, "the bytes after " +
                                  std::to_string(index->revisions()[last_signed].end) + " (" +
                                  std::to_string(index->last() - last_signed) +
                                  " revision(s)) are covered by no signature");
        }
        if (index->trailing_bytes() > 0) {
            report.problems.push_back(std::to_string(index->trailing_bytes()) +
                                      " bytes were appended after the last revision");
        }
    }
    for (const auto& w : internal::TakeWarnings(*qpdf)) {
        AddRemark(report, "qpdf read around a quirk of the file: " + w);
    }
    for (auto& e : entries) report.signatures.push_back(std::move(e.report));
    if (report.signatures.empty()) report.problems.push_back("the document has no signatures");
    return report;
}

}  // namespace

std::string_view ToString(ModificationLevel level) {
    switch (level) {
        case ModificationLevel::kNone:
            return "NONE";
        case ModificationLevel::kLtaUpdates:
            return "LTA_UPDATES";
        case ModificationLevel::kFormFilling:
            return "FORM_FILLING";
        case ModificationLevel::kAnnotations:
            return "ANNOTATIONS";
        case ModificationLevel::kOther:
            break;
    }
    return "OTHER";
}

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
