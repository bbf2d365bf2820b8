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
    // The signature value (CMS, or the time-stamp token) decoded from the hole, when its byte
    // range and type let it be checked.
    std::optional<std::string> der;
    crypto::CmsVerification check;  // what CheckValue found
};

// Reads the signature in `field`: its type, byte range and revision, and (in `entry.der`)
// the value to check. The value itself is checked later (CheckValue), once the times of the
// validation model are known.
void ReadSignature(std::string_view pdf, const RevisionIndex* index, const SignatureField& field,
                   Entry& entry) {
    const PdfValue& v = *field.value;
    SignatureReport& r = entry.report;
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
        return;
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
        return;
    }
    const std::uint64_t gap_start = r.byte_range[1];
    const std::uint64_t gap_end = r.byte_range[2];
    r.revision_end = r.byte_range[2] + r.byte_range[3];
    std::string_view gap = pdf.substr(static_cast<std::size_t>(gap_start),
                                      static_cast<std::size_t>(gap_end - gap_start));
    entry.contents = std::string(gap);
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
    if (r.is_document_timestamp && r.sub_filter != kEtsiRfc3161) {
        r.problems.push_back("a document time-stamp must have /SubFilter /ETSI.RFC3161");
        return;
    }
    // The signature is what sits in the hole of the byte range, not what a later revision
    // may claim in /Contents.
    std::string hex;
    for (char c : gap.substr(1, gap.size() - 2)) {
        if (std::isxdigit(static_cast<unsigned char>(c))) hex += c;
    }
    if (hex.size() % 2 == 1) hex += '0';
    entry.der = HexDecode(hex).value_or("");
}

// When and with what CheckValue checks a signature's chains (see VerifyOptions).
struct ValueTimes {
    // The time of the first valid document time-stamp after the signature, else the
    // validation time: a signature without a time-stamp of its own is checked at it, and the
    // chain of its time-stamp (or of a document time-stamp) too.
    Timestamp next_proof;
    bool next_proof_is_timestamp = false;
    const crypto::ValidationMaterial* material = nullptr;
};

// Checks the value ReadSignature found: the CMS signature (or the time-stamp token) over the
// signed bytes, and the chains at the times of the validation model.
void CheckValue(std::string_view pdf, const crypto::TrustAnchors& anchors, const ValueTimes& times,
                Entry& entry) {
    SignatureReport& r = entry.report;
    if (!entry.der) return;
    const std::string& der = *entry.der;
    const std::vector<std::string_view> signed_bytes = {
        pdf.substr(0, static_cast<std::size_t>(r.byte_range[1])),
        pdf.substr(static_cast<std::size_t>(r.byte_range[2]),
                   static_cast<std::size_t>(r.byte_range[3]))};
    crypto::CmsVerification& check = entry.check;
    if (r.is_document_timestamp) {
        check = crypto::VerifyTimestampToken(der, signed_bytes, anchors, times.next_proof,
                                             times.material);
        r.signing_time = check.timestamp_time;
    } else {
        auto cms = !der.empty()
                       ? crypto::DetachedCms::Parse(der)
                       : Result<crypto::DetachedCms>(Fail(ErrorCode::kMalformed, "no signature"));
        if (!cms) {
            r.problems.push_back("the signature value cannot be read: " + cms.error().message);
            return;
        }
        auto digest = cms->DigestOf(signed_bytes);
        if (!digest) {
            r.problems.push_back(digest.error().message);
            return;
        }
        check = cms->Verify(*digest, anchors,
                            crypto::CmsCheckTimes{.without_timestamp = times.next_proof,
                                                  .timestamp = times.next_proof,
                                                  .material = times.material});
        if (!check.has_signed_attributes && r.sub_filter == kEtsiCades) {
            r.problems.push_back("a PAdES (ETSI.CAdES.detached) signature needs signed attributes");
        }
        if (!r.signing_time) r.signing_time = check.cms_signing_time;
        r.chain_checked_at = check.chain_time;
        r.revoked_after = check.chain.revoked_after;
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
}

// The validation data of the document's DSS (ETSI EN 319 142-1 5.4.2): the streams listed in
// /Certs, /OCSPs and /CRLs, and in each /VRI entry's /Cert, /OCSP and /CRL.
crypto::ValidationMaterial DssOf(QPDF& qpdf) {
    // A DSS is a few certificates and responses; a hostile one must not cost more.
    constexpr std::size_t kMaxItemBytes = 256 * 1024;
    constexpr std::size_t kMaxItems = 500;
    crypto::ValidationMaterial out;
    std::size_t items = 0;
    auto take = [&](QPDFObjectHandle list, std::vector<std::string>& into) {
        if (!list.isArray()) return;
        for (int i = 0; i < list.getArrayNItems() && items < kMaxItems; ++i) {
            QPDFObjectHandle stream = list.getArrayItem(i);
            if (!stream.isStream()) continue;
            ++items;
            auto data = internal::ReadStreamCapped(stream, kMaxItemBytes);
            if (data && std::find(into.begin(), into.end(), *data) == into.end()) {
                into.push_back(std::move(*data));
            }
        }
    };
    QPDFObjectHandle dss = qpdf.getRoot().getKeyIfDict("/DSS");
    if (!dss.isDictionary()) return out;
    take(dss.getKeyIfDict("/Certs"), out.certificates);
    take(dss.getKeyIfDict("/OCSPs"), out.ocsp_responses);
    take(dss.getKeyIfDict("/CRLs"), out.crls);
    QPDFObjectHandle vri = dss.getKeyIfDict("/VRI");
    if (vri.isDictionary()) {
        for (const auto& key : vri.getKeys()) {
            if (items >= kMaxItems) break;
            QPDFObjectHandle entry = vri.getKey(key);
            if (!entry.isDictionary()) continue;
            take(entry.getKeyIfDict("/Cert"), out.certificates);
            take(entry.getKeyIfDict("/OCSP"), out.ocsp_responses);
            take(entry.getKeyIfDict("/CRL"), out.crls);
        }
    }
    return out;
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

// A document time-stamp that proves its time: intact so far and its token valid.
bool ProvesTime(const Entry& e) {
    return e.report.is_document_timestamp && e.report.covers_revision && e.report.is_valid() &&
           e.check.timestamp_valid && e.check.timestamp_time.has_value();
}

// The validation data the revision signed by the document time-stamp `e` holds: its DSS and
// the revocation values inside the signatures before it.
crypto::ValidationMaterial MaterialCoveredBy(std::string_view pdf,
                                             const std::vector<Entry>& entries, const Entry& e) {
    crypto::ValidationMaterial out;
    try {
        auto revision =
            internal::OpenMemory(pdf.substr(0, static_cast<std::size_t>(e.report.revision_end)));
        if (revision) out = DssOf(**revision);
    } catch (const std::exception&) {
        // A revision qpdf cannot read covers nothing.
    }
    for (const auto& before : entries) {
        if (before.report.revision < e.report.revision && before.der &&
            !before.report.is_document_timestamp) {
            out.Append(crypto::RevocationValuesOf(*before.der));
        }
    }
    return out;
}

bool Holds(const crypto::ValidationMaterial& material, const std::set<std::string>& used) {
    for (const auto& item : used) {
        const auto& o = material.ocsp_responses;
        const auto& c = material.crls;
        if (std::find(o.begin(), o.end(), item) == o.end() &&
            std::find(c.begin(), c.end(), item) == c.end()) {
            return false;
        }
    }
    return true;
}

// The PAdES validation model (ETSI EN 319 102-1 5.6.2.4, past signature validation), offline
// with the validation data the file carries: going from the last revision back, each document
// time-stamp's chain is checked at the time the next valid one proves (the last one's at the
// validation time); each signature's chain at the earliest time proven for it (its own
// signature time-stamp, else the next valid document time-stamp, else the validation time),
// with revocation from the DSS and the CMS revocation values. Then each signature's level and
// until when its proof holds.
void CheckAtTimes(std::string_view pdf, QPDF& qpdf, const crypto::TrustAnchors& anchors,
                  Timestamp validation_time, std::vector<Entry>& entries,
                  VerificationReport& report) {
    crypto::ValidationMaterial material = DssOf(qpdf);
    for (const auto& e : entries) {
        if (e.der && !e.report.is_document_timestamp) {
            material.Append(crypto::RevocationValuesOf(*e.der));
        }
    }
    ValueTimes times{.next_proof = validation_time, .material = &material};
    std::vector<std::optional<std::size_t>> next_timestamp(entries.size());
    std::optional<std::size_t> next;
    std::optional<std::size_t> last;
    for (std::size_t i = entries.size(); i-- > 0;) {
        next_timestamp[i] = next;
        CheckValue(pdf, anchors, times, entries[i]);
        if (ProvesTime(entries[i])) {
            times.next_proof = *entries[i].check.timestamp_time;
            times.next_proof_is_timestamp = true;
            next = i;
            if (!last) last = i;
        }
    }
    if (last) {
        report.last_timestamp_chain = entries[*last].check.chain.certificates;
    } else {
        std::optional<Timestamp> latest;
        for (const auto& e : entries) {
            if (e.report.is_document_timestamp || !e.check.timestamp_valid ||
                !e.check.timestamp_time || (latest && *e.check.timestamp_time <= *latest)) {
                continue;
            }
            latest = e.check.timestamp_time;
            report.last_timestamp_chain = e.check.timestamp_chain.certificates;
        }
    }
    std::map<std::size_t, crypto::ValidationMaterial> covered;
    for (std::size_t i = 0; i < entries.size(); ++i) {
        Entry& e = entries[i];
        SignatureReport& r = e.report;
        if (r.is_document_timestamp) {
            r.proven_time = e.check.timestamp_time;
            r.chain_checked_at = e.check.chain_time;
            if (last) r.proof_until = entries[*last].check.chain.expires;
            continue;
        }
        const bool own = r.timestamp_valid && r.timestamp_time;
        if (own) {
            r.proven_time = r.timestamp_time;
        } else if (next_timestamp[i]) {
            r.proven_time = entries[*next_timestamp[i]].check.timestamp_time;
        }
        r.proof_until = last  ? entries[*last].check.chain.expires
                        : own ? e.check.timestamp_chain.expires
                              : e.check.chain.expires;
        r.level = r.proven_time ? PadesLevel::kT : PadesLevel::kB;
        if (r.level == PadesLevel::kT && e.check.chain.revocation_known &&
            (!own || e.check.timestamp_chain.revocation_known)) {
            r.level = PadesLevel::kLt;
        }
        if (r.level != PadesLevel::kLt) continue;
        std::set<std::string> used = e.check.chain.used;
        if (own)
            used.insert(e.check.timestamp_chain.used.begin(), e.check.timestamp_chain.used.end());
        for (std::size_t j = i + 1; j < entries.size(); ++j) {
            if (!ProvesTime(entries[j])) continue;
            auto it = covered.find(j);
            if (it == covered.end()) {
                it = covered.emplace(j, MaterialCoveredBy(pdf, entries, entries[j])).first;
            }
            if (Holds(it->second, used)) {
                r.level = PadesLevel::kLta;
                break;
            }
        }
    }
}

// Levels are for valid signatures; the document's is its weakest signature's.
void SummariseLevels(VerificationReport& report) {
    bool any = false;
    report.level = PadesLevel::kLta;
    for (auto& s : report.signatures) {
        if (!s.is_valid()) s.level = PadesLevel::kNone;
        if (s.is_document_timestamp) continue;
        any = true;
        report.level = std::min(report.level, s.level);
        if (s.proof_until && (!report.proof_until || *s.proof_until < *report.proof_until)) {
            report.proof_until = s.proof_until;
        }
    }
    if (!any || !report.problems.empty()) report.level = PadesLevel::kNone;
    if (report.level == PadesLevel::kNone) report.proof_until.reset();
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
        ReadSignature(pdf, index ? &*index : nullptr, field, e);
        entries.push_back(std::move(e));
    }
    std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
        return a.report.revision_end < b.report.revision_end;
    });
    report.validation_time = options.validation_time.value_or(SystemClock().Now());
    CheckAtTimes(pdf, *qpdf, anchors, report.validation_time, entries, report);
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
    SummariseLevels(report);
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

std::string_view ToString(PadesLevel level) {
    switch (level) {
        case PadesLevel::kB:
            return "B-B";
        case PadesLevel::kT:
            return "B-T";
        case PadesLevel::kLt:
            return "B-LT";
        case PadesLevel::kLta:
            return "B-LTA";
        case PadesLevel::kNone:
            break;
    }
    return "";
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
