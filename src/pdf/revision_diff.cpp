#include "pdf/revision_diff.hpp"

#include <algorithm>
#include <map>
#include <tuple>

#include "crypto/digest.hpp"

namespace firmo::pdf::internal {
namespace {

// /Parent chains of real forms are short; a cycle must not loop forever.
constexpr int kMaxParentDepth = 32;
// Annotation flags (12.5.3): Invisible, Hidden, NoView.
constexpr long long kHiddenFlags = 1 | 2 | 32;

// Where an object sits in the document, which decides the rules for its changes.
enum class Role : std::uint8_t {
    kTrailer,
    kCatalog,
    kPageNode,
    kPage,
    kAnnots,      // a page's /Annots array
    kAnnotation,  // an annotation met through a page
    kAcroForm,
    kFields,  // /Fields or a field's /Kids
    kField,   // a field met through the form
    kDr,
    kDrCategory,
    kContent,  // anything else: content streams, resources, names, outlines, actions...
};

bool IsBackPointer(const std::string& key) {
    return key == "/Parent" || key == "/P" || key == "/Popup" || key == "/IRT";
}

std::string PageLabel(int index) { return index >= 0 ? "page " + std::to_string(index) : "a page"; }

// Whether `v` holds references or containers worth walking when its bytes are unchanged.
bool MayReference(const PdfValue& v) {
    return v.IsReference() || v.IsArray() || v.IsDictionary() || v.IsStream();
}

struct Item {
    ValuePtr b;  // before (the signed revision); a reference until Step resolves it
    ValuePtr a;  // after (the final file)
    Role role = Role::kContent;
    // What a change under this item counts as, and whether it is allowed.
    ModificationLevel level = ModificationLevel::kOther;
    bool allowed = false;
    int page = -1;
    // Both sides are the same bytes (`b` is then the final file's value too).
    bool same = false;
    std::optional<int> number;  // the object `a` was reached as, once resolved
    std::string where;
    std::string path;
};

class Walker {
  public:
    explicit Walker(const DiffInput& in) : in_(in), before_(*in.before), after_(*in.after) {}

    std::vector<Difference> Run() {
        IndexStructure();
        Item root;
        root.b = before_.Trailer();
        root.a = after_.Trailer();
        root.role = Role::kTrailer;
        root.where = "the trailer";
        work_.push_back(std::move(root));
        while (!work_.empty()) {
            if (++steps_ > in_.max_steps) {
                Report(ModificationLevel::kOther, false, "the document",
                       "too large to compare completely");
                break;
            }
            Item item = std::move(work_.back());
            work_.pop_back();
            Step(item);
        }
        if (suppressed_ > 0) {
            out_.push_back(Difference{suppressed_level_, suppressed_allowed_, "the document",
                                      "and " + std::to_string(suppressed_) + " more differences"});
        }
        return std::move(out_);
    }

  private:
    bool Changed(int number) const {
        return std::binary_search(in_.changed->begin(), in_.changed->end(), number);
    }

    // Whether a value differs without looking through the references inside it.
    bool ShallowDiffers(const PdfValue& b, const PdfValue& a) const {
        if (b.IsReference() && a.IsReference()) {
            return b.ref().number != a.ref().number || Changed(a.ref().number);
        }
        if (b.IsReference() != a.IsReference()) return true;
        return b.Unparse() != a.Unparse() || b.stream_data() != a.stream_data();
    }

    void Report(ModificationLevel level, bool allowed, const std::string& where,
                const std::string& what) {
        if (!reported_.insert(where + "\n" + what).second) return;
        if (out_.size() >= in_.max_reported) {
            ++suppressed_;
            suppressed_level_ = std::max(suppressed_level_, level);
            suppressed_allowed_ = suppressed_allowed_ && allowed;
            return;
        }
        out_.push_back(Difference{level, allowed, where, what});
    }

    void Report(const Item& item, const std::string& what) {
        Report(item.level, item.allowed, item.where,
               (item.path.empty() ? "" : item.path + ": ") + what);
    }

    // Queues a child pair. Both sides of an object whose entry did not change are the same
    // bytes, so the final file's value stands for both and the signed revision is not read.
    void Push(const Item& parent, ValuePtr b, ValuePtr a, Role role, const std::string& key) {
        Item child;
        child.role = role;
        child.level = parent.level;
        child.allowed = parent.allowed;
        child.page = parent.page;
        child.where = parent.where;
        child.path = parent.path + key;
        if (a->IsReference() && b->IsReference() && a->ref().number == b->ref().number) {
            child.same = !Changed(a->ref().number);
        } else {
            child.same = parent.same && !a->IsReference() && !b->IsReference();
        }
        if (child.same) {
            // Unchanged bytes that reach no changed object: identical all the way down.
            if (a->IsReference() && in_.reaching != nullptr) {
                auto n = static_cast<std::size_t>(a->ref().number);
                if (n >= in_.reaching->size() || !(*in_.reaching)[n]) return;
            }
            b = a;
        }
        child.b = std::move(b);
        child.a = std::move(a);
        work_.push_back(std::move(child));
    }

    // The children of a dictionary (or a stream's dictionary) as child items.
    void QueueDictionary(const Item& item, Role role) {
        const PdfValue& b = *item.b;
        const PdfValue& a = *item.a;
        std::set<std::string> keys;
        for (const auto& e : b.entries()) keys.insert(e.first);
        for (const auto& e : a.entries()) keys.insert(e.first);
        for (const auto& k : keys) {
            const PdfValue& vb = b.Get(k);
            const PdfValue& va = a.Get(k);
            if (item.same && !MayReference(va)) continue;
            if (IsBackPointer(k)) {
                // Compared by identity: its target is reached from the root.
                Identity(item, vb, va, k);
                continue;
            }
            Push(item, Child(item.b, vb), Child(item.a, va), role, k);
        }
    }

    void Identity(const Item& item, const PdfValue& b, const PdfValue& a, const std::string& key) {
        bool differ = b.IsReference() && a.IsReference() ? b.ref().number != a.ref().number
                                                         : b.Unparse() != a.Unparse();
        if (differ) {
            Item at = item;
            at.path += key;
            Report(at, "now points elsewhere");
        }
    }

    void Step(Item& item) {
        const bool b_ref = item.b->IsReference();
        const bool a_ref = item.a->IsReference();
        if (a_ref) {
            item.number = item.a->ref().number;
            // What an object is decides how it is compared, however it was reached (a page
            // through /OpenAction, say).
            if (pages_.count(*item.number) > 0) {
                if (item.role != Role::kPageNode) item.role = Role::kPage;
            } else if (item.role == Role::kContent && annotations_.count(*item.number) > 0) {
                item.role = Role::kAnnotation;
            } else if (item.role == Role::kContent && fields_.count(*item.number) > 0) {
                item.role = Role::kField;
            }
        }
        if (b_ref || a_ref) {
            auto key = std::make_tuple(
                b_ref ? item.b->ref().number : -1, a_ref ? item.a->ref().number : -1,
                static_cast<int>(item.role), static_cast<int>(item.level), item.allowed, item.same);
            if (!visited_.insert(key).second) return;
        }
        if (a_ref) item.a = after_.Get(item.a->ref().number);
        if (item.same) {
            item.b = item.a;
        } else if (b_ref) {
            item.b = before_.Get(item.b->ref().number);
        }
        switch (item.role) {
            case Role::kTrailer:
                return Trailer(item);
            case Role::kCatalog:
                return Catalog(item);
            case Role::kPageNode:
            case Role::kPage:
                return PageTree(item);
            case Role::kAnnots:
                return Array(item, Role::kAnnotation);
            case Role::kFields:
                return Array(item, Role::kField);
            case Role::kAnnotation:
            case Role::kField:
                return FieldOrAnnotation(item);
            case Role::kAcroForm:
                return AcroForm(item);
            case Role::kDr:
            case Role::kDrCategory:
                return Resources(item);
            case Role::kContent:
                return Value(item);
        }
    }

    // Compares two values and queues their children (as plain content).
    void Value(Item& item) {
        const PdfValue& b = *item.b;
        const PdfValue& a = *item.a;
        if (item.same) {
            // Identical bytes: only what they reference may differ.
            if (a.IsDictionary() || a.IsStream()) {
                QueueDictionary(item, Role::kContent);
            } else if (a.IsArray()) {
                for (std::size_t i = 0; i < a.items().size(); ++i) {
                    if (MayReference(a.items()[i])) {
                        Push(item, Child(item.a, a.items()[i]), Child(item.a, a.items()[i]),
                             Role::kContent, "[" + std::to_string(i) + "]");
                    }
                }
            }
            return;
        }
        if (b.kind() != a.kind()) {
            Report(item, b.IsNull()   ? "added"
                         : a.IsNull() ? "removed"
                                      : "replaced by another kind");
            return;
        }
        switch (a.kind()) {
            case PdfValue::Kind::kStream:
                QueueDictionary(item, Role::kContent);
                if (b.stream_data() != a.stream_data() &&
                    crypto::Sha256(b.stream_data()) != crypto::Sha256(a.stream_data())) {
                    Report(item, "its data was changed");
                }
                return;
            case PdfValue::Kind::kDictionary:
                QueueDictionary(item, Role::kContent);
                return;
            case PdfValue::Kind::kArray: {
                std::size_t nb = b.items().size();
                std::size_t na = a.items().size();
                if (nb != na) {
                    Report(item, "has " + std::to_string(na) + " entries instead of " +
                                     std::to_string(nb));
                }
                for (std::size_t i = 0; i < std::min(nb, na); ++i) {
                    Push(item, Child(item.b, b.items()[i]), Child(item.a, a.items()[i]),
                         Role::kContent, "[" + std::to_string(i) + "]");
                }
                return;
            }
            case PdfValue::Kind::kNumber:
                if (b.number() != a.number()) {
                    Report(item, "changed from " + b.Unparse() + " to " + a.Unparse());
                }
                return;
            case PdfValue::Kind::kNull:
                return;
            default:
                if (b.Unparse() != a.Unparse()) Report(item, "changed");
                return;
        }
    }

    void Trailer(Item& item) {
        static const std::set<std::string> kStructure = {
            "/Size", "/Prev",   "/XRefStm",     "/Type",   "/W",    "/Index",
            "/ID",   "/Filter", "/DecodeParms", "/Length", "/Root", "/Info"};
        const PdfValue& b = *item.b;
        const PdfValue& a = *item.a;
        Item root = item;
        root.where = "the catalog";
        root.path.clear();
        Push(root, Child(item.b, b.Get("/Root")), Child(item.a, a.Get("/Root")), Role::kCatalog,
             "");
        if (ShallowDiffers(b.Get("/Info"), a.Get("/Info"))) {
            Report(ModificationLevel::kLtaUpdates, true, "the document information",
                   "updated (metadata)");
        }
        std::set<std::string> keys;
        for (const auto& e : b.entries()) keys.insert(e.first);
        for (const auto& e : a.entries()) keys.insert(e.first);
        for (const auto& k : keys) {
            if (kStructure.count(k) > 0) continue;
            Push(item, Child(item.b, b.Get(k)), Child(item.a, a.Get(k)), Role::kContent, k);
        }
    }

    void Catalog(Item& item) {
        const PdfValue& b = *item.b;
        const PdfValue& a = *item.a;
        if (!a.IsDictionary()) {
            Report(item, "the document has no catalog");
            return;
        }
        std::set<std::string> keys;
        for (const auto& e : b.entries()) keys.insert(e.first);
        for (const auto& e : a.entries()) keys.insert(e.first);
        for (const auto& k : keys) {
            const PdfValue& vb = b.Get(k);
            const PdfValue& va = a.Get(k);
            if (k == "/Pages") {
                Item pages = item;
                pages.where = "the page tree";
                pages.path.clear();
                Push(pages, Child(item.b, vb), Child(item.a, va), Role::kPageNode, "");
            } else if (k == "/AcroForm") {
                Item form = item;
                form.where = "the form";
                form.path.clear();
                Push(form, Child(item.b, vb), Child(item.a, va), Role::kAcroForm, "");
            } else if (k == "/DSS") {
                if (!ShallowDiffers(vb, va)) continue;
                static const std::set<std::string> kDssKeys = {"/Type", "/Certs", "/CRLs", "/OCSPs",
                                                               "/VRI"};
                ValuePtr dss = after_.Resolve(Child(item.a, va));
                bool well_formed = dss->IsDictionary();
                for (const auto& e : dss->entries()) {
                    if (kDssKeys.count(e.first) == 0) well_formed = false;
                }
                if (well_formed) {
                    Report(ModificationLevel::kLtaUpdates, true, "the document security store",
                           vb.IsNull() ? "added (validation data)" : "updated (validation data)");
                } else {
                    Report(ModificationLevel::kOther, false, "the document security store",
                           "is not a DSS dictionary");
                }
            } else if (k == "/Metadata") {
                if (ShallowDiffers(vb, va)) {
                    Report(ModificationLevel::kLtaUpdates, true, "the XMP metadata", "updated");
                }
            } else if (k == "/Extensions" || k == "/Version") {
                if (ShallowDiffers(vb, va)) {
                    Report(ModificationLevel::kLtaUpdates, true, "the catalog",
                           k + " updated (the PDF version it declares)");
                }
            } else {
                if (item.same && !MayReference(va)) continue;
                Push(item, Child(item.b, vb), Child(item.a, va), Role::kContent, k);
            }
        }
    }

    // Page tree nodes and pages: everything but /Annots is content; /Kids are nodes or pages.
    void PageTree(Item& item) {
        const PdfValue& b = *item.b;
        const PdfValue& a = *item.a;
        if (!a.IsDictionary() || !b.IsDictionary()) {
            Value(item);
            return;
        }
        const bool is_page = !a.Has("/Kids");
        if (is_page) {
            auto it = item.number ? page_index_.find(*item.number) : page_index_.end();
            item.page = it == page_index_.end() ? -1 : it->second;
            item.where = PageLabel(item.page);
            item.path.clear();
        }
        std::set<std::string> keys;
        for (const auto& e : b.entries()) keys.insert(e.first);
        for (const auto& e : a.entries()) keys.insert(e.first);
        for (const auto& k : keys) {
            const PdfValue& vb = b.Get(k);
            const PdfValue& va = a.Get(k);
            if (k == "/Parent") {
                Identity(item, vb, va, k);
            } else if (k == "/Kids" && !is_page) {
                ValuePtr kb = before_.Resolve(Child(item.b, vb));
                ValuePtr ka = after_.Resolve(Child(item.a, va));
                if (!kb->IsArray() || !ka->IsArray()) {
                    Push(item, Child(item.b, vb), Child(item.a, va), Role::kContent, k);
                    continue;
                }
                std::size_t nb = kb->items().size();
                std::size_t na = ka->items().size();
                if (nb != na) Report(item, "pages were added or removed");
                for (std::size_t i = 0; i < std::min(nb, na); ++i) {
                    Push(item, Child(kb, kb->items()[i]), Child(ka, ka->items()[i]),
                         Role::kPageNode, "/Kids[" + std::to_string(i) + "]");
                }
            } else if (k == "/Annots" && is_page) {
                Push(item, Child(item.b, vb), Child(item.a, va), Role::kAnnots, "/Annots");
            } else {
                if (item.same && !MayReference(va)) continue;
                Push(item, Child(item.b, vb), Child(item.a, va), Role::kContent, k);
            }
        }
    }

    // /Annots, /Fields and a field's /Kids: existing entries stay (in order) and are compared;
    // what is added or removed is judged on its own.
    void Array(Item& item, Role element_role) {
        const PdfValue& b = *item.b;
        const PdfValue& a = *item.a;
        if ((!b.IsArray() && !b.IsNull()) || (!a.IsArray() && !a.IsNull())) {
            Value(item);
            return;
        }
        auto same_entry = [](const PdfValue& x, const PdfValue& y) {
            if (x.IsReference() || y.IsReference()) {
                return x.IsReference() && y.IsReference() && x.ref().number == y.ref().number;
            }
            return x.Unparse() == y.Unparse();
        };
        const auto& old_items = b.items();
        const auto& new_items = a.items();
        std::vector<bool> matched(new_items.size(), false);
        std::size_t from = 0;
        for (std::size_t i = 0; i < old_items.size(); ++i) {
            std::size_t j = from;
            while (j < new_items.size() && !same_entry(old_items[i], new_items[j])) ++j;
            if (j == new_items.size()) {
                Removed(item, Child(item.b, old_items[i]), element_role);
                continue;
            }
            matched[j] = true;
            from = j + 1;
            Push(item, Child(item.b, old_items[i]), Child(item.a, new_items[j]), element_role,
                 "[" + std::to_string(i) + "]");
        }
        for (std::size_t j = 0; j < new_items.size(); ++j) {
            if (!matched[j]) Added(item, Child(item.a, new_items[j]), element_role);
        }
    }

    // --- fields, widgets and annotations ------------------------------------------------

    ValuePtr InheritedOf(ObjectReader& reader, ValuePtr dict, const char* key) {
        for (int depth = 0; dict->IsDictionary() && depth < kMaxParentDepth; ++depth) {
            if (dict->Has(key)) return reader.Resolve(Child(dict, dict->Get(key)));
            dict = reader.Resolve(Child(dict, dict->Get("/Parent")));
        }
        return std::make_shared<const PdfValue>();
    }

    static bool IsFieldOrWidget(const PdfValue& dict) {
        return dict.IsDictionary() && (dict.Get("/Subtype").NameOr() == "/Widget" ||
                                       dict.Has("/FT") || dict.Has("/Parent") || dict.Has("/T"));
    }

    // The field a dictionary belongs to: itself when it carries field keys, else its parent.
    ValuePtr FieldOf(ObjectReader& reader, const ValuePtr& dict, std::optional<int>* number) {
        if (dict->Has("/T") || dict->Has("/FT") || dict->Has("/V") || !dict->Has("/Parent")) {
            return dict;
        }
        const PdfValue& parent = dict->Get("/Parent");
        if (parent.IsReference()) *number = parent.ref().number;
        ValuePtr resolved = reader.Resolve(Child(dict, parent));
        return resolved->IsDictionary() ? resolved : dict;
    }

    static std::string SubtypeOf(const PdfValue& annot) {
        const std::string& s = annot.Get("/Subtype").NameOr();
        return s.empty() ? "annotation" : s.substr(1);
    }

    static bool IsComment(const PdfValue& annot) {
        const std::string& s = annot.Get("/Subtype").NameOr();
        return s == "/Text" || s == "/Popup";
    }

    // Whether a reader draws the annotation. Readers make up appearances for annotations
    // without one (a FreeText from its text, a text field from its value), but not for
    // signature widgets.
    bool Visible(ObjectReader& reader, const ValuePtr& annot, bool needs_appearance) {
        if (!annot->IsDictionary()) return false;
        const PdfValue& flags = annot->Get("/F");
        if (flags.IsNumber() && (static_cast<long long>(flags.number()) & kHiddenFlags) != 0) {
            return false;
        }
        auto rect = RectOf(reader, annot->Get("/Rect"));
        if (!rect || rect->Width() <= 0 || rect->Height() <= 0) return false;
        if (!needs_appearance) return true;
        ValuePtr ap = reader.Resolve(Child(annot, annot->Get("/AP")));
        ValuePtr normal = reader.Resolve(Child(ap, ap->Get("/N")));
        return normal->IsStream() || normal->IsDictionary();
    }

    void Removed(const Item& item, const ValuePtr& old_entry, Role role) {
        ValuePtr dict = before_.Resolve(old_entry);
        if (role == Role::kAnnotation && !IsFieldOrWidget(*dict)) {
            Report(ModificationLevel::kAnnotations, IsComment(*dict) && in_.permissions.docmdp == 3,
                   PageLabel(item.page), "a " + SubtypeOf(*dict) + " annotation was removed");
            return;
        }
        std::string name = FieldName(before_, dict);
        Report(ModificationLevel::kOther, false, item.where,
               role == Role::kAnnotation ? "the widget of field '" + name + "' was removed"
                                         : "field '" + name + "' was removed");
    }

    // The signature (or time-stamp) a field's /V holds, when a later revision added it.
    enum class SigValue { kNone, kLaterSignature, kLaterTimestamp, kOther };
    SigValue SignatureValueOf(const ValuePtr& field_after) {
        ValuePtr dict = field_after;
        for (int depth = 0; dict->IsDictionary() && depth < kMaxParentDepth; ++depth) {
            const PdfValue& v = dict->Get("/V");
            if (!v.IsNull()) {
                if (!v.IsReference()) return SigValue::kOther;
                if (in_.later_signatures.count(v.ref().number) > 0) {
                    return SigValue::kLaterSignature;
                }
                if (in_.later_timestamps.count(v.ref().number) > 0) {
                    return SigValue::kLaterTimestamp;
                }
                return after_.Get(v.ref().number)->IsNull() ? SigValue::kNone : SigValue::kOther;
            }
            dict = after_.Resolve(Child(dict, dict->Get("/Parent")));
        }
        return SigValue::kNone;
    }

    bool SigningAllowed() const { return in_.permissions.docmdp.value_or(2) != 1; }

    void Added(const Item& item, const ValuePtr& entry, Role role) {
        ValuePtr dict = after_.Resolve(entry);
        if (!dict->IsDictionary()) {
            Report(ModificationLevel::kOther, false, item.where, "an entry was added");
            return;
        }
        if (role == Role::kField) return NewField(dict);
        if (!IsFieldOrWidget(*dict)) return NewAnnotation(item, dict);
        std::optional<int> unused;
        ValuePtr field = FieldOf(after_, dict, &unused);
        std::string name = FieldName(after_, field);
        if (InheritedOf(after_, field, "/FT")->NameOr() != "/Sig") {
            Report(ModificationLevel::kOther, false, PageLabel(item.page),
                   "a widget of form field '" + name + "' was added");
            return;
        }
        if (!Visible(after_, dict, true)) return;
        auto rect = RectOf(after_, dict->Get("/Rect"));
        if (rect && Drawn(item.page).Covers(*rect)) {
            Report(ModificationLevel::kOther, false, PageLabel(item.page),
                   "the new signature field '" + name + "' is drawn over signed content");
        } else if (SignatureValueOf(field) == SigValue::kOther) {
            Report(ModificationLevel::kOther, false, PageLabel(item.page),
                   "the new signature field '" + name +
                       "' shows a value that is no signature of a later revision");
        } else {
            Report(ModificationLevel::kFormFilling, SigningAllowed(), PageLabel(item.page),
                   "a visible signature field '" + name + "' was added where nothing is drawn");
        }
    }

    void NewField(const ValuePtr& field) {
        std::string name = FieldName(after_, field);
        std::string where = "field '" + name + "'";
        if (InheritedOf(after_, field, "/FT")->NameOr() != "/Sig") {
            Report(ModificationLevel::kOther, false, where, "a new form field was added");
            return;
        }
        switch (SignatureValueOf(field)) {
            case SigValue::kLaterSignature:
                Report(ModificationLevel::kFormFilling, SigningAllowed(), where,
                       "a new signature field, signed by a later signature");
                return;
            case SigValue::kLaterTimestamp:
                Report(ModificationLevel::kLtaUpdates, true, where,
                       "a new field holding a document time-stamp");
                return;
            case SigValue::kNone:
                Report(ModificationLevel::kFormFilling, SigningAllowed(), where,
                       "a new, empty signature field");
                return;
            case SigValue::kOther:
                Report(ModificationLevel::kOther, false, where,
                       "a new signature field whose value is no signature of a later revision");
                return;
        }
    }

    void NewAnnotation(const Item& item, const ValuePtr& annot) {
        std::string what = "a " + SubtypeOf(*annot) + " annotation was added";
        if (!Visible(after_, annot, false)) {
            Report(ModificationLevel::kAnnotations, in_.permissions.docmdp == 3,
                   PageLabel(item.page), what + " (hidden)");
            return;
        }
        auto rect = RectOf(after_, annot->Get("/Rect"));
        bool covers = !IsComment(*annot) && rect && Drawn(item.page).Covers(*rect);
        Report(ModificationLevel::kAnnotations, in_.permissions.docmdp == 3 && !covers,
               PageLabel(item.page), what + (covers ? " over signed content" : ""));
    }

    const DrawnAreas& Drawn(int page) {
        auto it = drawn_.find(page);
        if (it != drawn_.end()) return it->second;
        DrawnAreas areas;
        auto number = page_of_index_.find(page);
        QPDFObjectHandle before_page;
        if (in_.before_qpdf != nullptr && number != page_of_index_.end()) {
            before_page = in_.before_qpdf->getObject(
                QPDFObjGen(number->second.number, number->second.generation));
        }
        if (before_page.isInitialized() && before_page.isDictionary()) {
            areas = PageDrawnAreas(before_page, in_.content_limits);
        } else {
            areas.everywhere = true;
        }
        return drawn_.emplace(page, std::move(areas)).first->second;
    }

    // What a change to a field or widget may be: its signing (a later signature's value in an
    // empty signature field, with that field's appearance), its filling in (a value and its
    // appearance, when DocMDP allows and FieldMDP does not lock it), or nothing else.
    void FieldOrAnnotation(Item& item) {
        const PdfValue& b = *item.b;
        const PdfValue& a = *item.a;
        if (!a.IsDictionary() || !b.IsDictionary()) {
            Value(item);
            return;
        }
        if (!IsFieldOrWidget(a)) return Annotation(item);
        std::optional<int> parent_number;
        ValuePtr field_a = FieldOf(after_, item.a, &parent_number);
        ValuePtr field_b = item.b;
        if (parent_number) {
            field_b = item.same && !Changed(*parent_number) ? field_a : before_.Get(*parent_number);
        }
        const std::string name = FieldName(after_, field_a);
        item.where = "field '" + name + "'";
        item.path.clear();
        const std::string type = InheritedOf(field_b->IsDictionary() ? before_ : after_,
                                             field_b->IsDictionary() ? field_b : field_a, "/FT")
                                     ->NameOr();

        enum class Change { kNone, kSigning, kTimestamp, kFilling };
        Change change = Change::kNone;
        if (type == "/Sig") {
            if (InheritedOf(before_, field_b, "/V")->IsNull()) {
                SigValue v = SignatureValueOf(field_a);
                if (v == SigValue::kLaterSignature) change = Change::kSigning;
                if (v == SigValue::kLaterTimestamp) change = Change::kTimestamp;
            }
        } else {
            const PdfValue& vb = field_b->Get("/V");
            const PdfValue& va = field_a->Get("/V");
            if (ShallowDiffers(vb, va)) change = Change::kFilling;
        }
        static const std::set<std::string> kSigningKeys = {"/V",  "/AP",   "/AS",
                                                           "/MK", "/Lock", "/SV"};
        static const std::set<std::string> kFillingKeys = {"/V", "/AP", "/AS"};
        const std::set<std::string>* absorbed = nullptr;
        if (change == Change::kSigning || change == Change::kTimestamp) absorbed = &kSigningKeys;
        if (change == Change::kFilling) absorbed = &kFillingKeys;

        std::set<std::string> keys;
        for (const auto& e : b.entries()) keys.insert(e.first);
        for (const auto& e : a.entries()) keys.insert(e.first);
        bool absorbed_any = false;
        for (const auto& k : keys) {
            const PdfValue& vb = b.Get(k);
            const PdfValue& va = a.Get(k);
            if (absorbed && absorbed->count(k) > 0) {
                // The field's new value and appearance: not looked into (an object they share
                // with anything else is compared where that thing is reached).
                absorbed_any = true;
                continue;
            }
            if (item.same && !MayReference(va)) continue;
            if (IsBackPointer(k)) {
                Identity(item, vb, va, k);
            } else if (k == "/Kids") {
                Push(item, Child(item.b, vb), Child(item.a, va), Role::kFields, "/Kids");
            } else if (k == "/V" && type == "/Sig" && !vb.IsNull() && ShallowDiffers(vb, va)) {
                Report(ModificationLevel::kOther, false, item.where,
                       "its signature was replaced or removed");
            } else {
                Push(item, Child(item.b, vb), Child(item.a, va), Role::kContent, k);
            }
        }
        if (!absorbed_any) return;
        switch (change) {
            case Change::kSigning:
                Report(ModificationLevel::kFormFilling, SigningAllowed(), item.where,
                       "signed by a later signature");
                break;
            case Change::kTimestamp:
                Report(ModificationLevel::kLtaUpdates, true, item.where,
                       "holds a document time-stamp");
                break;
            case Change::kFilling: {
                bool locked = in_.permissions.lock.Locks(name);
                bool allowed = in_.permissions.docmdp.value_or(0) >= 2 && !locked;
                Report(ModificationLevel::kFormFilling, allowed, item.where,
                       locked ? "filled in, but a signature locks it"
                              : "filled in (value and appearance)");
                break;
            }
            case Change::kNone:
                break;
        }
    }

    // An existing annotation that is no widget: comments may change under DocMDP 3; any other
    // change is still graded as an annotation change but not allowed.
    void Annotation(Item& item) {
        item.where = PageLabel(item.page) + ", " + SubtypeOf(*item.a) + " annotation";
        item.path.clear();
        item.level = ModificationLevel::kAnnotations;
        item.allowed = in_.permissions.docmdp == 3 && IsComment(*item.a) && IsComment(*item.b);
        QueueDictionary(item, Role::kContent);
    }

    void AcroForm(Item& item) {
        static const ValuePtr kEmpty = std::make_shared<const PdfValue>(PdfValue::Dictionary({}));
        if (!item.a->IsDictionary() && item.b->IsDictionary()) {
            Report(item, "the form was removed");
            return;
        }
        ValuePtr b = item.b->IsDictionary() ? item.b : kEmpty;
        ValuePtr a = item.a->IsDictionary() ? item.a : kEmpty;
        std::set<std::string> keys;
        for (const auto& e : b->entries()) keys.insert(e.first);
        for (const auto& e : a->entries()) keys.insert(e.first);
        for (const auto& k : keys) {
            const PdfValue& vb = b->Get(k);
            const PdfValue& va = a->Get(k);
            if (k == "/SigFlags") continue;  // set by every signer; draws nothing
            if (item.same && !MayReference(va)) continue;
            Role role = k == "/Fields" ? Role::kFields : k == "/DR" ? Role::kDr : Role::kContent;
            // /DA, /NeedAppearances, /XFA, /CO...: how every field is drawn, plain content.
            Push(item, Child(b, vb), Child(a, va), role, k);
        }
    }

    // The form's default resources: a signer may add a resource (its appearance font) but not
    // change or remove one that fields already use.
    void Resources(Item& item) {
        const PdfValue& b = *item.b;
        const PdfValue& a = *item.a;
        if (!(a.IsDictionary() || a.IsNull()) || !(b.IsDictionary() || b.IsNull())) {
            Value(item);
            return;
        }
        if (a.IsNull() && b.IsDictionary()) {
            Report(item, "removed");
            return;
        }
        for (const auto& [k, vb] : b.entries()) {
            Push(item, Child(item.b, vb), Child(item.a, a.Get(k)),
                 item.role == Role::kDr ? Role::kDrCategory : Role::kContent, k);
        }
    }

    // Pages (numbered from 0), annotations and fields of the final file, so an object is
    // compared for what it is however it is reached.
    void IndexStructure() {
        ValuePtr root = after_.Root();
        std::vector<ValuePtr> stack{after_.Resolve(Child(root, root->Get("/Pages")))};
        std::vector<std::optional<ObjectRef>> numbers{
            root->Get("/Pages").IsReference() ? std::optional<ObjectRef>(root->Get("/Pages").ref())
                                              : std::nullopt};
        std::set<int> seen;
        int next = 0;
        while (!stack.empty() && seen.size() < 1'000'000) {
            ValuePtr node = std::move(stack.back());
            std::optional<ObjectRef> number = numbers.back();
            stack.pop_back();
            numbers.pop_back();
            if (!node->IsDictionary() || (number && !seen.insert(number->number).second)) {
                continue;
            }
            const PdfValue& kids = node->Get("/Kids");
            ValuePtr kids_array = after_.Resolve(Child(node, kids));
            if (!kids_array->IsArray()) {
                if (number) {
                    pages_.insert(number->number);
                    page_index_[number->number] = next;
                    page_of_index_[next] = *number;
                }
                ++next;
                ValuePtr annots = after_.Resolve(Child(node, node->Get("/Annots")));
                for (const auto& annot : annots->items()) {
                    if (annot.IsReference()) annotations_.insert(annot.ref().number);
                }
                continue;
            }
            const auto& items = kids_array->items();
            for (auto it = items.rbegin(); it != items.rend(); ++it) {
                stack.push_back(after_.Resolve(Child(kids_array, *it)));
                numbers.push_back(it->IsReference() ? std::optional<ObjectRef>(it->ref())
                                                    : std::nullopt);
            }
        }
        ValuePtr form = after_.Resolve(Child(root, root->Get("/AcroForm")));
        ValuePtr fields = after_.Resolve(Child(form, form->Get("/Fields")));
        std::vector<ValuePtr> field_stack{fields};
        while (!field_stack.empty() && fields_.size() < 1'000'000) {
            ValuePtr list = std::move(field_stack.back());
            field_stack.pop_back();
            for (const auto& f : list->items()) {
                if (!f.IsReference() || !fields_.insert(f.ref().number).second) continue;
                ValuePtr field = after_.Get(f.ref().number);
                ValuePtr kids = after_.Resolve(Child(field, field->Get("/Kids")));
                if (kids->IsArray()) field_stack.push_back(kids);
            }
        }
    }

    const DiffInput& in_;
    ObjectReader& before_;
    ObjectReader& after_;
    std::vector<Item> work_;
    std::set<std::tuple<int, int, int, int, bool, bool>> visited_;
    std::set<int> pages_;
    std::set<int> annotations_;
    std::set<int> fields_;
    std::map<int, int> page_index_;
    std::map<int, ObjectRef> page_of_index_;
    std::map<int, DrawnAreas> drawn_;
    std::set<std::string> reported_;
    std::vector<Difference> out_;
    std::size_t steps_ = 0;
    std::size_t suppressed_ = 0;
    ModificationLevel suppressed_level_ = ModificationLevel::kNone;
    bool suppressed_allowed_ = true;
};

// PDFDocEncoding bytes 0x80-0x9F that differ from Latin-1 (7.9.2.2, Annex D).
constexpr char16_t kPdfDocHigh[32] = {
    0x2022, 0x2020, 0x2021, 0x2026, 0x2014, 0x2013, 0x0192, 0x2044, 0x2039, 0x203A, 0x2212,
    0x2030, 0x201E, 0x201C, 0x201D, 0x2018, 0x2019, 0x201A, 0x2122, 0xFB01, 0xFB02, 0x0141,
    0x0152, 0x0160, 0x0178, 0x017D, 0x0131, 0x0142, 0x0153, 0x0161, 0x017E, 0xFFFD};

void AppendUtf8(std::string& out, char32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

}  // namespace

std::string TextToUtf8(const std::string& text) {
    std::string out;
    if (text.size() >= 2 && static_cast<unsigned char>(text[0]) == 0xFE &&
        static_cast<unsigned char>(text[1]) == 0xFF) {
        for (std::size_t i = 2; i + 1 < text.size(); i += 2) {
            char32_t unit = (static_cast<unsigned char>(text[i]) << 8) |
                            static_cast<unsigned char>(text[i + 1]);
            if (unit >= 0xD800 && unit < 0xDC00 && i + 3 < text.size()) {
                char32_t low = (static_cast<unsigned char>(text[i + 2]) << 8) |
                               static_cast<unsigned char>(text[i + 3]);
                if (low >= 0xDC00 && low < 0xE000) {
                    AppendUtf8(out, 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00));
                    i += 2;
                    continue;
                }
            }
            AppendUtf8(out, unit);
        }
        return out;
    }
    for (unsigned char c : text) {
        if (c >= 0x80 && c < 0xA0) {
            AppendUtf8(out, kPdfDocHigh[c - 0x80]);
        } else if (c == 0xA0) {
            AppendUtf8(out, 0x20AC);  // the euro sign in PDFDocEncoding
        } else {
            AppendUtf8(out, c);
        }
    }
    return out;
}

std::string FieldName(ObjectReader& reader, const ValuePtr& field) {
    std::string name;
    ValuePtr dict = field;
    for (int depth = 0; dict->IsDictionary() && depth < kMaxParentDepth; ++depth) {
        const PdfValue& t = dict->Get("/T");
        if (t.IsString()) name = TextToUtf8(t.text()) + (name.empty() ? "" : "." + name);
        dict = reader.Resolve(Child(dict, dict->Get("/Parent")));
    }
    return name;
}

std::optional<Rect> RectOf(ObjectReader& reader, const PdfValue& value) {
    auto owner = std::make_shared<const PdfValue>(value);
    ValuePtr array = reader.Resolve(owner);
    if (!array->IsArray() || array->items().size() != 4) return std::nullopt;
    double v[4];
    for (int i = 0; i < 4; ++i) {
        const PdfValue& item = array->items()[static_cast<std::size_t>(i)];
        if (!item.IsNumber()) return std::nullopt;
        v[i] = item.number();
    }
    return Rect{std::min(v[0], v[2]), std::min(v[1], v[3]), std::max(v[0], v[2]),
                std::max(v[1], v[3])};
}

bool FieldLock::Locks(const std::string& field) const {
    switch (action) {
        case Action::kNone:
            return false;
        case Action::kAll:
            return true;
        case Action::kInclude:
            return fields.count(field) > 0;
        case Action::kExclude:
            return fields.count(field) == 0;
    }
    return false;
}

std::vector<Difference> CompareRevisions(const DiffInput& input) { return Walker(input).Run(); }

}  // namespace firmo::pdf::internal
