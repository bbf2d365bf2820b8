#include "pdf/pades_signer.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <map>
#include <qpdf/QPDFExc.hh>
#include <set>

#include "core/encoding.hpp"
#include "crypto/cms.hpp"
#include "crypto/digest.hpp"
#include "pdf/appearance_font.hpp"
#include "pdf/pdf_syntax.hpp"
#include "pdf/qpdf_support.hpp"
#include "pdf/qpdf_validator.hpp"
#include "pdf/revision_diff.hpp"

namespace firmo::pdf {
namespace {

using internal::ArrayWith;
using internal::DictWith;
using internal::Number;
using internal::Ref;

// Widths of the /ByteRange numbers: the array is written with room for four 12-digit
// numbers and filled in once the file's layout is known.
constexpr std::size_t kByteRangeWidth = 4 * 13 + 2;
// Print + Locked: the widget prints and cannot be moved or deleted.
constexpr int kWidgetFlags = 132;
// Helvetica's average advance, in ems, for sizing text that must fit a box.
constexpr double kAverageCharWidth = 0.55;
// Name of Firmo's embedded font in the AcroForm's /DR, so later signers reuse it.
constexpr std::string_view kEmbeddedFontKey = "/FirmoSans";

using internal::ObjectRef;
using internal::ValuePtr;

struct NewObject {
    ObjectRef ref;
    std::string body;
};

// The objects of one incremental update, by number; rewrites of existing objects keep their
// generation.
class UpdateBuilder {
  public:
    explicit UpdateBuilder(int next_id) : next_id_(next_id) {}
    ObjectRef Allocate() { return ObjectRef{next_id_++, 0}; }
    void Set(ObjectRef ref, std::string body) { objects_[ref.number] = {ref, std::move(body)}; }
    int next_id() const { return next_id_; }

    // Serialises objects then the cross-reference section and trailer, to be written at
    // offset `base` of the output file. `newline_first`: the update starts with an end-of-line
    // (the file before it does not end with one).
    std::string Serialize(std::uint64_t base, bool newline_first, XrefKind kind,
                          const std::string& trailer_extra, std::uint64_t prev,
                          std::map<int, std::uint64_t>* offsets) {
        std::size_t size = 1024 + trailer_extra.size();
        for (const auto& [id, object] : objects_) size += object.body.size() + 48;
        std::string out;
        out.reserve(size);
        if (newline_first) out += '\n';
        for (const auto& [id, object] : objects_) {
            (*offsets)[id] = base + out.size();
            out += std::to_string(id);
            out += ' ';
            out += std::to_string(object.ref.generation);
            out += " obj\n";
            out += object.body;
            out += "\nendobj\n";
        }
        if (kind == XrefKind::kTable) {
            std::uint64_t xref_at = base + out.size();
            out += "xref\n";
            ForEachRun([&](int first, const std::vector<int>& ids) {
                out += std::to_string(first) + " " + std::to_string(ids.size()) + "\n";
                for (int id : ids) {
                    AppendPadded(out, (*offsets)[id], 10);
                    out += ' ';
                    AppendPadded(out, static_cast<std::uint64_t>(objects_[id].ref.generation), 5);
                    out += " n \n";
                }
            });
            out += "trailer\n<< /Size " + std::to_string(next_id_) + trailer_extra + " /Prev " +
                   std::to_string(prev) + " >>\nstartxref\n" + std::to_string(xref_at) +
                   "\n%%EOF\n";
            return out;
        }
        // An xref stream lists itself too.
        ObjectRef self = Allocate();
        std::uint64_t xref_at = base + out.size();
        objects_[self.number] = {self, ""};
        (*offsets)[self.number] = xref_at;
        int offset_width = xref_at >= (1ULL << 32) ? 8 : 4;
        std::string data;
        std::string index;
        ForEachRun([&](int first, const std::vector<int>& ids) {
            index += (index.empty() ? "" : " ") + std::to_string(first) + " " +
                     std::to_string(ids.size());
            for (int id : ids) {
                data += '\x01';
                std::uint64_t off = (*offsets)[id];
                for (int b = offset_width - 1; b >= 0; --b) {
                    data += static_cast<char>((off >> (8 * b)) & 0xFF);
                }
                int gen = objects_[id].ref.generation;
                data += static_cast<char>((gen >> 8) & 0xFF);
                data += static_cast<char>(gen & 0xFF);
            }
        });
        out += std::to_string(self.number) + " 0 obj\n<< /Type /XRef /Size " +
               std::to_string(next_id_) + " /W [1 " + std::to_string(offset_width) +
               " 2] /Index [" + index + "]" + trailer_extra + " /Prev " + std::to_string(prev) +
               " /Length " + std::to_string(data.size()) + " >>\nstream\n" + data +
               "\nendstream\nendobj\nstartxref\n" + std::to_string(xref_at) + "\n%%EOF\n";
        return out;
    }

  private:
    // `value` in decimal, zero-padded to `width` digits (a cross-reference table's columns).
    static void AppendPadded(std::string& out, std::uint64_t value, std::size_t width) {
        char digits[24];
        auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value);
        auto n = static_cast<std::size_t>(end - digits);
        if (n < width) out.append(width - n, '0');
        out.append(digits, n);
    }

    template <typename F>
    void ForEachRun(F&& f) {
        std::vector<int> run;
        for (const auto& [id, object] : objects_) {
            if (!run.empty() && id != run.back() + 1) {
                f(run.front(), run);
                run.clear();
            }
            run.push_back(id);
        }
        if (!run.empty()) f(run.front(), run);
    }

    int next_id_;
    std::map<int, NewObject> objects_;
};

std::string RectArray(const Rect& r) {
    return "[" + Number(r.llx) + " " + Number(r.lly) + " " + Number(r.urx) + " " + Number(r.ury) +
           "]";
}

// The visible appearance: who signed, when, and the clause accepted. Drawn upright in the
// page's displayed orientation, so the form is counter-rotated against /Rotate.
std::string AppearanceStream(const Rect& rect, int rotate, ObjectRef font, double char_width,
                             const domain::SignatureDetails& details, const std::string& clause) {
    bool sideways = rotate == 90 || rotate == 270;
    double w = sideways ? rect.Height() : rect.Width();
    double h = sideways ? rect.Width() : rect.Height();
    std::vector<std::string> lines = {"Signed by " + details.signer_name,
                                      "on " + internal::HumanDate(details.signing_time)};
    if (!clause.empty()) lines.push_back(clause);
    std::size_t longest = 1;
    for (auto& line : lines) {
        line = internal::Utf8ToWinAnsi(line);
        longest = std::max(longest, line.size());
    }
    double margin = std::min(3.0, std::min(w, h) / 10);
    double size = std::min({10.0, (h - 2 * margin) / (static_cast<double>(lines.size()) * 1.2),
                            (w - 2 * margin) / (static_cast<double>(longest) * char_width)});
    size = std::max(size, 0.5);
    std::string content = "q 0.2 0.2 0.5 RG 0.75 w 0.375 0.375 " + Number(w - 0.75) + " " +
                          Number(h - 0.75) + " re S Q\nBT /F1 " + Number(size) + " Tf 0 0 0 rg " +
                          Number(size * 1.2) + " TL " + Number(margin) + " " +
                          Number(h - margin - size) + " Td\n";
    for (std::size_t i = 0; i < lines.size(); ++i) {
        content += (i ? "T* " : "") + internal::LiteralString(lines[i]) + " Tj\n";
    }
    content += "ET";
    std::string matrix;
    switch (rotate) {
        case 90:
            matrix = " /Matrix [0 1 -1 0 0 0]";
            break;
        case 180:
            matrix = " /Matrix [-1 0 0 -1 0 0]";
            break;
        case 270:
            matrix = " /Matrix [0 -1 1 0 0 0]";
            break;
        default:
            break;
    }
    return "<< /Type /XObject /Subtype /Form /BBox [0 0 " + Number(w) + " " + Number(h) + "]" +
           matrix + " /Resources << /Font << /F1 " + Ref(font) + " >> >> /Length " +
           std::to_string(content.size()) + " >>\nstream\n" + content + "\nendstream";
}

// A document time-stamp (ETSI EN 319 142-1 5.4, PAdES B-LTA): the RFC 3161 token itself in
// /Contents, over the same byte ranges; no signer, no /M (the token has the time).
std::string DocTimeStampDictionary(std::size_t reserved) {
    return "<< /Type /DocTimeStamp /Filter /Adobe.PPKLite /SubFilter /ETSI.RFC3161 /ByteRange " +
           std::string(kByteRangeWidth, ' ') + " /Contents <" + std::string(2 * reserved, '0') +
           "> /Prop_Build << /App << /Name /Firmo >> >> >>";
}

std::string SignatureDictionary(const domain::SignatureDetails& details, const std::string& reason,
                                std::size_t reserved) {
    // Built in one buffer: the /Contents placeholder is most of it.
    std::string out;
    out.reserve(2 * reserved + 512);
    out += "<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /ByteRange ";
    out.append(kByteRangeWidth, ' ');
    out += " /Contents <";
    out.append(2 * reserved, '0');
    out += "> /M ";
    out += internal::LiteralString(internal::PdfDate(details.signing_time));
    if (!details.signer_name.empty()) out += " /Name " + internal::TextString(details.signer_name);
    if (!reason.empty()) out += " /Reason " + internal::TextString(reason);
    if (!details.location.empty()) out += " /Location " + internal::TextString(details.location);
    out += " /Prop_Build << /App << /Name /Firmo >> >> >>";
    return out;
}

std::string UniqueFieldName(const PdfInfo& info, const std::string& wanted) {
    std::set<std::string> taken;
    for (const auto& f : info.fields) taken.insert(f.name);
    if (!wanted.empty()) return wanted;
    for (int n = 1;; ++n) {
        std::string name = "Signature" + std::to_string(n);
        if (taken.count(name) == 0) return name;
    }
}

// Where the new widget goes and which objects it makes the update rewrite.
struct Placement {
    Rect rect;
    int rotate = 0;
    bool visible = false;
};

// An object the update may rewrite, as a reader of the last revision sees it: a value given
// by reference (`ref` set, `value` the object) or written in place inside another.
struct Existing {
    std::optional<ObjectRef> ref;
    ValuePtr value;
};

// `owner`'s entry `key`, resolved.
Existing Lookup(internal::ObjectReader& reader, const ValuePtr& owner, std::string_view key) {
    const internal::PdfValue& entry = owner->Get(key);
    if (entry.IsReference()) return {entry.ref(), reader.Get(entry.ref().number)};
    return {std::nullopt, internal::Child(owner, entry)};
}

// The catalog, which the update may rewrite; kMalformed when it is not an indirect object.
Result<Existing> Catalog(internal::ObjectReader& reader) {
    ValuePtr trailer = reader.Trailer();
    const internal::PdfValue& root = trailer->Get("/Root");
    if (!root.IsReference()) return Fail(ErrorCode::kMalformed, "the catalog is not indirect");
    ValuePtr value = reader.Root();  // the same object, read once per reader
    if (!value->IsDictionary()) return Fail(ErrorCode::kMalformed, "the catalog cannot be read");
    return Existing{root.ref(), std::move(value)};
}

class SigningJob {
  public:
    // `font`: embed this font in visible appearances; null for the standard Helvetica. Objects
    // are read through `reader`, at the document's last revision.
    SigningJob(internal::ObjectReader& reader, const internal::Inspection& inspection,
               UpdateBuilder& update, const internal::EmbeddableFont* font)
        : reader_(reader),
          inspection_(inspection),
          info_(inspection.info),
          update_(update),
          font_(font) {}

    // Adds every object but the xref; returns the signature dictionary's object.
    Result<ObjectRef> Build(const domain::SignatureField& field,
                            const domain::SignatureDetails& details, std::size_t reserved,
                            bool document_timestamp, std::string* field_name) {
        FIRMO_TRY(catalog_, Catalog(reader_));
        std::string reason = details.reason.empty() ? field.clause.title : details.reason;
        ObjectRef sig = update_.Allocate();
        update_.Set(sig, document_timestamp ? DocTimeStampDictionary(reserved)
                                            : SignatureDictionary(details, reason, reserved));
        if (const auto* at = std::get_if<domain::FieldAtPosition>(&field.attrs)) {
            FIRMO_CHECK(NewField(*at, details, field.clause.title, sig, field_name));
        } else {
            FIRMO_CHECK(ExistingField(std::get<domain::FieldByName>(field.attrs), details,
                                      field.clause.title, sig));
            *field_name = std::get<domain::FieldByName>(field.attrs).unique_name;
        }
        return sig;
    }

  private:
    std::optional<ObjectRef> Appearance(const Placement& p, const domain::SignatureDetails& d,
                                        const std::string& clause) {
        if (!p.visible || p.rect.Width() <= 0 || p.rect.Height() <= 0) return std::nullopt;
        ObjectRef font = FontObject();
        ObjectRef ap = update_.Allocate();
        update_.Set(ap,
                    AppearanceStream(p.rect, p.rotate, font,
                                     font_ ? font_->average_width : kAverageCharWidth, d, clause));
        return ap;
    }

    // The appearance font: Helvetica, or the embedded font (reused when an earlier Firmo
    // signature already put it in the form's resources).
    ObjectRef FontObject() {
        if (font_ == nullptr) {
            ObjectRef font = update_.Allocate();
            update_.Set(font,
                        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding "
                        "/WinAnsiEncoding >>");
            return font;
        }
        Existing acroform = Lookup(reader_, catalog_.value, "/AcroForm");
        Existing dr = Lookup(reader_, acroform.value, "/DR");
        Existing fonts = Lookup(reader_, dr.value, "/Font");
        Existing existing = Lookup(reader_, fonts.value, kEmbeddedFontKey);
        if (existing.ref && existing.value->IsDictionary()) {
            Existing descriptor = Lookup(reader_, existing.value, "/FontDescriptor");
            if (Lookup(reader_, descriptor.value, "/FontFile").value->IsStream()) {
                return *existing.ref;
            }
        }
        ObjectRef file = update_.Allocate();
        update_.Set(file, "<< /Length " + std::to_string(font_->font_file.size()) + " /Length1 " +
                              std::to_string(font_->length1) + " /Length2 " +
                              std::to_string(font_->length2) + " /Length3 " +
                              std::to_string(font_->length3) + " >>\nstream\n" + font_->font_file +
                              "\nendstream");
        ObjectRef descriptor = update_.Allocate();
        update_.Set(descriptor, "<< /Type /FontDescriptor /FontName /" + font_->font_name + " " +
                                    font_->descriptor_keys + " /FontFile " + Ref(file) + " >>");
        ObjectRef font = update_.Allocate();
        update_.Set(font, "<< /Type /Font /Subtype /Type1 /BaseFont /" + font_->font_name +
                              " /FirstChar 32 /LastChar 255 /Widths " + font_->widths +
                              " /Encoding /WinAnsiEncoding /FontDescriptor " + Ref(descriptor) +
                              " >>");
        new_embedded_font_ = font;
        return font;
    }

    Result<void> NewField(const domain::FieldAtPosition& at, const domain::SignatureDetails& d,
                          const std::string& clause, ObjectRef sig, std::string* field_name) {
        const ObjectRef& ref = inspection_.pages.at(static_cast<std::size_t>(at.page));
        ValuePtr page = reader_.Get(ref.number);
        const PageInfo& info = info_.pages.at(static_cast<std::size_t>(at.page));
        Placement p;
        p.visible = d.visible;
        p.rotate = info.rotate;
        if (d.visible) p.rect = *PlaceOnPage(info, at.x, at.y, at.w, at.h);
        *field_name = UniqueFieldName(info_, d.field_name);

        ObjectRef widget = update_.Allocate();
        std::string body = "<< /Type /Annot /Subtype /Widget /FT /Sig /T " +
                           internal::TextString(*field_name) + " /F " +
                           std::to_string(kWidgetFlags) + " /Rect " + RectArray(p.rect) + " /P " +
                           Ref(ref) + " /V " + Ref(sig);
        if (auto ap = Appearance(p, d, clause)) body += " /AP << /N " + Ref(*ap) + " >>";
        update_.Set(widget, body + " >>");

        Existing annots = Lookup(reader_, page, "/Annots");
        if (annots.ref && annots.value->IsArray()) {
            update_.Set(*annots.ref, ArrayWith(*annots.value, Ref(widget)));
        } else {
            update_.Set(ref, DictWith(*page, {{"/Annots", ArrayWith(*annots.value, Ref(widget))}}));
        }
        return UpdateAcroForm(Ref(widget));
    }

    Result<void> ExistingField(const domain::FieldByName& by_name,
                               const domain::SignatureDetails& d, const std::string& clause,
                               ObjectRef sig) {
        auto found = inspection_.fields.find(by_name.unique_name);
        if (found == inspection_.fields.end()) {
            return Fail(ErrorCode::kInvalidArgument,
                        "no signature field named '" + by_name.unique_name + "'");
        }
        const auto& [object, widgets] = found->second;
        ValuePtr field_obj = reader_.Get(object.number);
        std::optional<ObjectRef> ap;
        ValuePtr widget;
        if (!widgets.empty()) {
            widget = reader_.Get(widgets.front().number);
            Placement p;
            p.visible = d.visible;
            p.rect = internal::RectOf(reader_, widget->Get("/Rect")).value_or(Rect{});
            for (const auto& f : info_.fields) {
                if (f.name == by_name.unique_name && f.page_index >= 0) {
                    p.rotate = info_.pages[static_cast<std::size_t>(f.page_index)].rotate;
                    break;
                }
            }
            ap = Appearance(p, d, clause);
        }
        std::map<std::string, std::string> field_keys{{"/V", Ref(sig)}};
        bool merged = widget && widgets.front() == object;
        if (ap && merged) field_keys["/AP"] = "<< /N " + Ref(*ap) + " >>";
        update_.Set(object, DictWith(*field_obj, field_keys));
        if (ap && !merged) {
            update_.Set(widgets.front(), DictWith(*widget, {{"/AP", "<< /N " + Ref(*ap) + " >>"}}));
        }
        return UpdateAcroForm("");
    }

    // /SigFlags 3 (signatures exist, append only), and the new field when there is one.
    Result<void> UpdateAcroForm(const std::string& new_field_ref) {
        Existing acroform = Lookup(reader_, catalog_.value, "/AcroForm");
        const bool is_form = acroform.value->IsDictionary();
        std::map<std::string, std::string> keys{{"/SigFlags", "3"}};
        if (new_embedded_font_) {
            Existing dr = Lookup(reader_, acroform.value, "/DR");
            Existing fonts = Lookup(reader_, dr.value, "/Font");
            keys["/DR"] = DictWith(
                *dr.value, {{"/Font", DictWith(*fonts.value, {{std::string(kEmbeddedFontKey),
                                                               Ref(*new_embedded_font_)}})}});
        }
        if (!new_field_ref.empty()) {
            keys["/Fields"] =
                ArrayWith(*Lookup(reader_, acroform.value, "/Fields").value, new_field_ref);
        }
        if (is_form && acroform.ref) {
            update_.Set(*acroform.ref, DictWith(*acroform.value, keys));
            return {};
        }
        ObjectRef made = update_.Allocate();
        update_.Set(made, DictWith(*acroform.value, keys));
        update_.Set(*catalog_.ref, DictWith(*catalog_.value, {{"/AcroForm", Ref(made)}}));
        return {};
    }

    internal::ObjectReader& reader_;
    const internal::Inspection& inspection_;
    const PdfInfo& info_;
    UpdateBuilder& update_;
    const internal::EmbeddableFont* font_;
    Existing catalog_;
    std::optional<ObjectRef> new_embedded_font_;
};

// The trailer entries an update carries over: /Root, /Info and /ID.
std::string TrailerExtra(internal::ObjectReader& reader) {
    ValuePtr trailer = reader.Trailer();
    std::string out;
    for (const char* key : {"/Root", "/Info", "/ID"}) {
        const internal::PdfValue& value = trailer->Get(key);
        if (value.IsNull()) continue;
        out += ' ';
        out += key;
        out += ' ';
        value.UnparseTo(out);
    }
    return out;
}

// The first object number no revision uses (nor the last trailer's /Size counts).
int NextObjectId(const internal::RevisionIndex& index, internal::ObjectReader& reader) {
    double next = 1;
    ValuePtr trailer = reader.Trailer();
    const internal::PdfValue& size = trailer->Get("/Size");
    if (size.IsNumber()) next = std::max(next, size.number());
    for (const auto& revision : index.revisions()) {
        if (!revision.entries.empty()) {
            next = std::max(next, revision.entries.back().first + 1.0);
        }
    }
    return static_cast<int>(std::min(next, 8'388'607.0));
}

// Writes the original (the bytes that were inspected, not whatever the file holds by now) and
// hashes it, a chunk at a time, letting go of each chunk once written.
Result<void> CopyAndHash(const internal::MappedFile& original, std::ofstream& out,
                         crypto::Sha256Stream& hash, std::size_t chunk) {
    std::string_view bytes = original.bytes();
    for (std::size_t at = 0; at < bytes.size(); at += chunk) {
        std::string_view piece = bytes.substr(at, chunk);
        hash.Update(piece);
        out.write(piece.data(), static_cast<std::streamsize>(piece.size()));
        original.Release(at, piece.size());
    }
    if (!out) return Fail(ErrorCode::kInternal, "cannot write the signed file");
    return {};
}

// Prepare stage, shared by every way of signing: the incremental update after `original`
// built with its /ByteRange filled and /Contents left as zeros. Throws what qpdf throws.
struct Draft {
    std::string body;    // the update, from the end of the original
    std::size_t lt = 0;  // offset of /Contents' '<' in body
    std::size_t gt = 0;  // offset of its '>'
    SignOutcome outcome;
};

Result<Draft> MakeDraft(const SignerOptions& options, std::string_view original,
                        const domain::SignatureField& field,
                        const domain::SignatureDetails& details, std::size_t reserved,
                        bool document_timestamp) {
    Draft draft;
    auto source = std::make_unique<internal::MemorySource>(original);
    if (source->Size() > options.limits.max_file_bytes) {
        return Fail(ErrorCode::kPayloadTooLarge, "the PDF file is larger than " +
                                                     std::to_string(options.limits.max_file_bytes) +
                                                     " bytes");
    }
    FIRMO_CHECK(internal::CheckHeader(*source));
    FIRMO_TRY(auto qpdf, internal::OpenMemory(original));
    FIRMO_TRY(internal::Inspection inspection,
              internal::InspectDocument(
                  original, *qpdf, options.limits,
                  details.visible && options.embed_font == FontEmbedding::kForPdfA));
    const PdfInfo& info = inspection.info;
    if (!info.warnings.empty()) {
        return Fail(ErrorCode::kMalformed, std::string(internal::kReasonRepaired));
    }
    auto violations = CheckSignatureFields(info, {field});
    if (!violations.empty()) {
        violations.front().field = "signature_field";
        return FailValidation(std::move(violations));
    }
    FIRMO_TRY(XrefKind kind, internal::LastXrefKind(*source));
    FIRMO_TRY(std::uint64_t prev, internal::LastStartXref(*source));

    SignOutcome& outcome = draft.outcome;
    outcome.xref_kind = kind;
    outcome.reserved_bytes = reserved;
    // The objects it rewrites are read as the inspection read them (not through qpdf, which
    // would parse them again).
    internal::ObjectReader& reader = *inspection.reader;
    UpdateBuilder update(NextObjectId(*inspection.index, reader));
    const internal::EmbeddableFont* font = nullptr;
    if (details.visible && (options.embed_font == FontEmbedding::kAlways ||
                            (options.embed_font == FontEmbedding::kForPdfA && info.pdfa))) {
        FIRMO_TRY(font, internal::CachedType1Font(options.appearance_font));
    }
    SigningJob job(reader, inspection, update, font);
    FIRMO_TRY(ObjectRef sig, job.Build(field, details, outcome.reserved_bytes, document_timestamp,
                                       &outcome.field_name));

    // The update starts on a fresh line; the separator belongs to the signed update.
    FIRMO_TRY(std::string last_byte, source->ReadAt(source->Size() - 1, 1));
    bool needs_newline = last_byte != "\n" && last_byte != "\r";
    std::map<int, std::uint64_t> offsets;
    std::string& body = draft.body;
    const std::uint64_t body_at = source->Size();
    body = update.Serialize(body_at, needs_newline, kind, TrailerExtra(reader), prev, &offsets);

    // Locate the placeholders inside the signature dictionary and fill /ByteRange.
    std::size_t sig_at = static_cast<std::size_t>(offsets[sig.number] - body_at);
    std::size_t range_at = body.find("/ByteRange ", sig_at) + 11;
    draft.lt = body.find("/Contents <", sig_at) + 10;
    draft.gt = draft.lt + 1 + 2 * outcome.reserved_bytes;
    std::uint64_t total = body_at + body.size();
    outcome.byte_range[0] = 0;
    outcome.byte_range[1] = body_at + draft.lt;
    outcome.byte_range[2] = body_at + draft.gt + 1;
    outcome.byte_range[3] = total - outcome.byte_range[2];
    std::string range = "[0 " + std::to_string(outcome.byte_range[1]) + " " +
                        std::to_string(outcome.byte_range[2]) + " " +
                        std::to_string(outcome.byte_range[3]);
    if (range.size() + 1 > kByteRangeWidth) {
        return Fail(ErrorCode::kPayloadTooLarge, "the PDF file is too large to sign");
    }
    range += std::string(kByteRangeWidth - range.size() - 1, ' ') + "]";
    body.replace(range_at, kByteRangeWidth, range);
    return draft;
}

// The signed pieces of the update: everything but /Contents' hex string.
void HashBody(crypto::Sha256Stream& hash, std::string_view body, std::size_t lt, std::size_t gt) {
    hash.Update(body.substr(0, lt));
    hash.Update(body.substr(gt + 1));
}

// Embed stage, first half: `cms`, hex-encoded, into the /Contents placeholder of `body`.
Result<void> FillContents(std::string& body, std::size_t lt, std::size_t reserved,
                          std::string_view cms) {
    if (cms.size() > reserved) {
        return Fail(ErrorCode::kInternal, "the signature is larger than the space reserved");
    }
    // Written in place, two digits a byte (no string of the hex in between).
    static constexpr char kDigits[] = "0123456789abcdef";
    char* at = body.data() + lt + 1;
    for (char byte : cms) {
        const auto c = static_cast<unsigned char>(byte);
        *at++ = kDigits[c >> 4];
        *at++ = kDigits[c & 15];
    }
    return {};
}

// Embed stage, second half: `cms` into /Contents, the update after the original that `output`
// (writing `tmp`) already holds, then `tmp` renamed to `out`.
Result<void> FinishFile(std::string body, std::size_t lt, std::size_t reserved,
                        std::string_view cms, std::ofstream& output,
                        const std::filesystem::path& tmp, const std::filesystem::path& out) {
    std::error_code ec;
    FIRMO_CHECK(FillContents(body, lt, reserved, cms));
    output.write(body.data(), static_cast<std::streamsize>(body.size()));
    output.close();
    if (!output) return Fail(ErrorCode::kInternal, "cannot write " + tmp.string());
    std::filesystem::rename(tmp, out, ec);
    if (ec) return Fail(ErrorCode::kInternal, "cannot write " + out.string());
    return {};
}

// Runs `step` writing `out` through `out`.partial: qpdf's and the standard library's exceptions
// become errors, and a failed step leaves no partial file behind.
template <typename Step>
auto Guarded(const std::filesystem::path& in, const std::filesystem::path& out, const char* what,
             Step&& step) -> decltype(step(out)) {
    std::error_code ec;
    if (std::filesystem::equivalent(in, out, ec)) {
        return Fail(ErrorCode::kInvalidArgument, "the output must be a different file");
    }
    std::filesystem::path tmp = out;
    tmp += ".partial";
    try {
        auto result = step(tmp);
        if (!result) std::filesystem::remove(tmp, ec);
        return result;
    } catch (const QPDFExc&) {
        std::filesystem::remove(tmp, ec);
        return Fail(ErrorCode::kMalformed, std::string(internal::kReasonDamaged));
    } catch (const std::exception& e) {
        std::filesystem::remove(tmp, ec);
        return Fail(ErrorCode::kInternal, std::string(what) + " failed: " + e.what());
    }
}

struct CredentialCerts {
    crypto::X509Ptr cert;
    std::vector<crypto::X509Ptr> chain;
    std::vector<X509*> chain_view;
};

Result<CredentialCerts> ParseCredential(const domain::SignerCredential& credential) {
    CredentialCerts out;
    FIRMO_TRY(out.cert, crypto::CertificateFromDer(credential.certificate_der));
    for (const auto& der : credential.chain_der) {
        FIRMO_TRY(auto c, crypto::CertificateFromDer(der));
        out.chain_view.push_back(c.get());
        out.chain.push_back(std::move(c));
    }
    return out;
}

}  // namespace

std::string PreparedSignature::DigestToSign() const { return crypto::Sha256(signed_attributes); }

PadesSigner::PadesSigner(SignerOptions options) : options_(std::move(options)) {}

Result<void> PadesSigner::SignFile(const std::filesystem::path& in,
                                   const std::filesystem::path& out,
                                   const domain::SignatureField& field,
                                   const domain::SignatureDetails& details,
                                   domain::SigningSession& session) const {
    FIRMO_CHECK(Sign(in, out, field, details, session));
    return {};
}

Result<SignOutcome> PadesSigner::Sign(const std::filesystem::path& in,
                                      const std::filesystem::path& out,
                                      const domain::SignatureField& field,
                                      const domain::SignatureDetails& details,
                                      domain::SigningSession& session) const {
    return Write(in, out, field, details, session, false);
}

Result<SignOutcome> PadesSigner::AddDocumentTimestamp(const std::filesystem::path& in,
                                                      const std::filesystem::path& out,
                                                      crypto::TimestampAuthority& tsa,
                                                      Random& random,
                                                      const std::string& field_name) const {
    crypto::DocumentTimestampSession session(tsa, random);
    // A new invisible field on the first page: nothing a reader shows changes.
    const domain::SignatureField field{.attrs = domain::FieldAtPosition{.w = 1, .h = 1}};
    domain::SignatureDetails details;
    details.field_name = field_name;
    details.visible = false;
    return Write(in, out, field, details, session, true);
}

Result<SignOutcome> PadesSigner::Write(const std::filesystem::path& in,
                                       const std::filesystem::path& out,
                                       const domain::SignatureField& field,
                                       const domain::SignatureDetails& details,
                                       domain::SigningSession& session,
                                       bool document_timestamp) const {
    // All stages in one pass, the signer being at hand: the original is hashed while it is
    // copied, and only the update is written after the signature value.
    return Guarded(
        in, out, "signing", [&](const std::filesystem::path& tmp) -> Result<SignOutcome> {
            // Mapped, not read: the signer touches the pages it needs and copies the rest.
            FIRMO_TRY(auto mapped, internal::MappedFile::Open(in));
            FIRMO_TRY(Draft draft, MakeDraft(options_, mapped->bytes(), field, details,
                                             session.MaxSignatureSize() + options_.extra_reserve,
                                             document_timestamp));
            std::ofstream output(tmp, std::ios::binary | std::ios::trunc);
            if (!output) return Fail(ErrorCode::kInternal, "cannot create " + tmp.string());
            crypto::Sha256Stream hash;
            FIRMO_CHECK(CopyAndHash(*mapped, output, hash, options_.chunk_bytes));
            HashBody(hash, draft.body, draft.lt, draft.gt);
            FIRMO_TRY(std::string cms, session.SignDigest(hash.Finish()));
            draft.outcome.signature_bytes = cms.size();
            FIRMO_CHECK(FinishFile(std::move(draft.body), draft.lt, draft.outcome.reserved_bytes,
                                   cms, output, tmp, out));
            return draft.outcome;
        });
}

Result<SignOutcome> PadesSigner::SignBytes(std::string_view in, std::string& out,
                                           const domain::SignatureField& field,
                                           const domain::SignatureDetails& details,
                                           domain::SigningSession& session) const {
    std::string signed_pdf;
    // Room for a typical update, so that appending it does not move the copy again.
    signed_pdf.reserve(in.size() + 2 * session.MaxSignatureSize() + 64 * 1024);
    signed_pdf.assign(in);
    FIRMO_TRY(SignOutcome outcome, SignAppending(signed_pdf, field, details, session));
    out = std::move(signed_pdf);
    return outcome;
}

Result<SignOutcome> PadesSigner::SignAppending(std::string& pdf,
                                               const domain::SignatureField& field,
                                               const domain::SignatureDetails& details,
                                               domain::SigningSession& session) const {
    try {
        const std::string_view in = pdf;
        FIRMO_TRY(Draft draft,
                  MakeDraft(options_, in, field, details,
                            session.MaxSignatureSize() + options_.extra_reserve, false));
        crypto::Sha256Stream hash;
        hash.Update(in);
        HashBody(hash, draft.body, draft.lt, draft.gt);
        FIRMO_TRY(std::string cms, session.SignDigest(hash.Finish()));
        FIRMO_CHECK(FillContents(draft.body, draft.lt, draft.outcome.reserved_bytes, cms));
        draft.outcome.signature_bytes = cms.size();
        pdf.append(draft.body);  // the last step: nothing above changed `pdf`
        return draft.outcome;
    } catch (const QPDFExc&) {
        return Fail(ErrorCode::kMalformed, std::string(internal::kReasonDamaged));
    } catch (const std::exception& e) {
        return Fail(ErrorCode::kInternal, std::string("signing failed: ") + e.what());
    }
}

Result<PreparedSignature> PadesSigner::Prepare(const std::filesystem::path& in,
                                               const domain::SignatureField& field,
                                               const domain::SignatureDetails& details,
                                               const domain::SignerCredential& credential,
                                               std::size_t extra_reserve) const {
    try {
        FIRMO_TRY(CredentialCerts certs, ParseCredential(credential));
        // Room for the CMS: assembled once around a signature value of the largest size.
        FIRMO_TRY(std::string attributes_bound,
                  crypto::BuildSignedAttributes(std::string(32, '\0'), certs.cert.get()));
        FIRMO_TRY(std::string cms_bound,
                  crypto::AssembleSignedData(attributes_bound,
                                             std::string(credential.max_signature_bytes + 8, 'x'),
                                             certs.cert.get(), certs.chain_view));
        FIRMO_TRY(auto mapped, internal::MappedFile::Open(in));
        const std::string_view original = mapped->bytes();
        FIRMO_TRY(Draft draft,
                  MakeDraft(options_, original, field, details,
                            cms_bound.size() + extra_reserve + options_.extra_reserve, false));
        crypto::Sha256Stream hash;
        for (std::size_t at = 0; at < original.size(); at += options_.chunk_bytes) {
            std::string_view piece = original.substr(at, options_.chunk_bytes);
            hash.Update(piece);
            mapped->Release(at, piece.size());
        }
        HashBody(hash, draft.body, draft.lt, draft.gt);
        PreparedSignature prepared;
        prepared.original_size = original.size();
        prepared.content_sha256 = hash.Finish();
        FIRMO_TRY(prepared.signed_attributes,
                  crypto::BuildSignedAttributes(prepared.content_sha256, certs.cert.get()));
        prepared.update = std::move(draft.body);
        prepared.contents_at = draft.lt;
        prepared.credential = credential;
        prepared.outcome = draft.outcome;
        return prepared;
    } catch (const QPDFExc&) {
        return Fail(ErrorCode::kMalformed, std::string(internal::kReasonDamaged));
    } catch (const std::exception& e) {
        return Fail(ErrorCode::kInternal,
                    std::string("preparing the signature failed: ") + e.what());
    }
}

Result<SignOutcome> PadesSigner::Embed(const std::filesystem::path& in,
                                       const std::filesystem::path& out,
                                       const PreparedSignature& prepared,
                                       std::string_view signature_value,
                                       const EmbedOptions& embed) const {
    return Guarded(
        in, out, "embedding the signature",
        [&](const std::filesystem::path& tmp) -> Result<SignOutcome> {
            const std::size_t reserved = prepared.outcome.reserved_bytes;
            const std::size_t lt = prepared.contents_at;
            if (lt >= prepared.update.size() || lt + 2 + 2 * reserved > prepared.update.size() ||
                prepared.update[lt] != '<' || prepared.update[lt + 1 + 2 * reserved] != '>') {
                return Fail(ErrorCode::kInvalidArgument, "the prepared signature is inconsistent");
            }
            FIRMO_TRY(auto mapped, internal::MappedFile::Open(in));
            if (mapped->bytes().size() != prepared.original_size) {
                return Fail(ErrorCode::kConflict,
                            "the document changed since the signature was prepared");
            }
            FIRMO_TRY(CredentialCerts certs, ParseCredential(prepared.credential));
            std::ofstream output(tmp, std::ios::binary | std::ios::trunc);
            if (!output) return Fail(ErrorCode::kInternal, "cannot create " + tmp.string());
            crypto::Sha256Stream hash;
            FIRMO_CHECK(CopyAndHash(*mapped, output, hash, options_.chunk_bytes));
            HashBody(hash, prepared.update, lt, lt + 1 + 2 * reserved);
            // The same bytes as at prepare time, or the signed attributes would not match them.
            if (hash.Finish() != prepared.content_sha256) {
                return Fail(ErrorCode::kConflict,
                            "the document changed since the signature was prepared");
            }
            FIRMO_TRY(std::string cms,
                      crypto::AssembleSignedData(prepared.signed_attributes, signature_value,
                                                 certs.cert.get(), certs.chain_view));
            if (embed.tsa != nullptr && embed.random != nullptr) {
                // Post-sign, first step (B-T): a time-stamp over the signature value, inside the
                // CMS.
                FIRMO_TRY(cms, crypto::AddSignatureTimestamp(cms, *embed.tsa, *embed.random));
            }
            SignOutcome outcome = prepared.outcome;
            outcome.signature_bytes = cms.size();
            FIRMO_CHECK(FinishFile(prepared.update, lt, reserved, cms, output, tmp, out));
            return outcome;
        });
}

Result<SignOutcome> PadesSigner::Sign(const std::filesystem::path& in,
                                      const std::filesystem::path& out,
                                      const domain::SignatureField& field,
                                      const domain::SignatureDetails& details,
                                      domain::HashSigner& signer, const EmbedOptions& embed) const {
    FIRMO_TRY(domain::SignerCredential credential, signer.Credential());
    FIRMO_TRY(
        PreparedSignature prepared,
        Prepare(in, field, details, credential, embed.tsa != nullptr ? kTimestampTokenReserve : 0));
    FIRMO_TRY(std::string value, signer.SignHash(prepared.DigestToSign()));
    return Embed(in, out, prepared, value, embed);
}

Result<void> PadesSigner::AddValidationData(const std::filesystem::path& in,
                                            const std::filesystem::path& out,
                                            const ValidationData& data) const {
    return Guarded(
        in, out, "adding validation data", [&](const std::filesystem::path& tmp) -> Result<void> {
            FIRMO_TRY(auto mapped, internal::MappedFile::Open(in));
            auto source = std::make_unique<internal::MemorySource>(mapped->bytes());
            FIRMO_CHECK(internal::CheckHeader(*source));
            FIRMO_TRY(internal::RevisionIndex index,
                      internal::RevisionIndex::Read(mapped->bytes()));
            internal::ObjectReader reader(mapped->bytes(), index, index.last());
            FIRMO_TRY(XrefKind kind, internal::LastXrefKind(*source));
            FIRMO_TRY(std::uint64_t prev, internal::LastStartXref(*source));
            FIRMO_TRY(Existing root, Catalog(reader));

            UpdateBuilder update(NextObjectId(index, reader));
            // Each item a stream of its own; the DSS arrays keep what an earlier update put there.
            Existing dss = Lookup(reader, root.value, "/DSS");
            std::map<std::string, std::string> keys;
            const auto add = [&](const char* key, const std::vector<std::string>& items) {
                std::string refs;
                for (const auto& der : items) {
                    ObjectRef ref = update.Allocate();
                    update.Set(ref, "<< /Length " + std::to_string(der.size()) + " >>\nstream\n" +
                                        der + "\nendstream");
                    refs += (refs.empty() ? "" : " ") + Ref(ref);
                }
                if (refs.empty()) return;
                keys[key] = ArrayWith(*Lookup(reader, dss.value, key).value, refs);
            };
            add("/Certs", data.certificates);
            add("/OCSPs", data.ocsp_responses);
            add("/CRLs", data.crls);
            if (keys.empty()) return Fail(ErrorCode::kInvalidArgument, "no validation data to add");
            if (dss.value->IsDictionary() && dss.ref) {
                update.Set(*dss.ref, DictWith(*dss.value, keys));
            } else {
                ObjectRef made = update.Allocate();
                update.Set(made, DictWith(*dss.value, keys));
                update.Set(*root.ref, DictWith(*root.value, {{"/DSS", Ref(made)}}));
            }

            FIRMO_TRY(std::string last_byte, source->ReadAt(source->Size() - 1, 1));
            const bool needs_newline = last_byte != "\n" && last_byte != "\r";
            std::map<int, std::uint64_t> offsets;
            std::string body = update.Serialize(source->Size(), needs_newline, kind,
                                                TrailerExtra(reader), prev, &offsets);
            std::ofstream output(tmp, std::ios::binary | std::ios::trunc);
            if (!output) return Fail(ErrorCode::kInternal, "cannot create " + tmp.string());
            output.write(mapped->bytes().data(),
                         static_cast<std::streamsize>(mapped->bytes().size()));
            output.write(body.data(), static_cast<std::streamsize>(body.size()));
            output.close();
            // On a failure Guarded removes the partial file.
            if (!output) return Fail(ErrorCode::kInternal, "cannot write " + tmp.string());
            std::error_code ec;
            std::filesystem::rename(tmp, out, ec);
            if (ec) return Fail(ErrorCode::kInternal, "cannot write " + out.string());
            return {};
        });
}

}  // namespace firmo::pdf
