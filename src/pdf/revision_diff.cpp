#include "pdf/revision_diff.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <qpdf/Pipeline.hh>
#include <tuple>

#include "crypto/digest.hpp"
#include "pdf/qpdf_support.hpp"

namespace firmo::pdf::internal {
namespace {

// /Parent chains of real forms are short; a cycle must not loop forever.
constexpr int kMaxParentDepth = 32;

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

// Annotation flags (12.5.3): Invisible, Hidden, NoView.
constexpr long long kHiddenFlags = 1 | 2 | 32;

std::string Name(QPDFObjectHandle h) { return h.isName() ? h.getName() : std::string(); }

std::string SubtypeOf(QPDFObjectHandle annot) {
    std::string s = Name(annot.getKeyIfDict("/Subtype"));
    return s.empty() ? "annotation" : s.substr(1);
}

bool IsComment(QPDFObjectHandle annot) {
    std::string s = Name(annot.getKeyIfDict("/Subtype"));
    return s == "/Text" || s == "/Popup";
}

QPDFObjectHandle Inherited(QPDFObjectHandle dict, const char* key) {
    for (int depth = 0; dict.isDictionary() && depth < kMaxParentDepth; ++depth) {
        if (dict.hasKey(key)) return dict.getKey(key);
        dict = dict.getKey("/Parent");
    }
    return QPDFObjectHandle::newNull();
}

// The field's fully qualified name ("parent.child").
std::string FieldName(QPDFObjectHandle dict) {
    std::string name;
    for (int depth = 0; dict.isDictionary() && depth < kMaxParentDepth; ++depth) {
        QPDFObjectHandle t = dict.getKey("/T");
        if (t.isString()) name = t.getUTF8Value() + (name.empty() ? "" : "." + name);
        dict = dict.getKey("/Parent");
    }
    return name;
}

bool IsFieldOrWidget(QPDFObjectHandle dict) {
    return dict.isDictionary() &&
           (Name(dict.getKey("/Subtype")) == "/Widget" || dict.hasKey("/FT") ||
            dict.hasKey("/Parent") || dict.hasKey("/T"));
}

// The field a dictionary belongs to: itself when it carries field keys, else its parent.
QPDFObjectHandle FieldOf(QPDFObjectHandle dict) {
    if (!dict.isDictionary()) return QPDFObjectHandle::newNull();
    if (dict.hasKey("/T") || dict.hasKey("/FT") || dict.hasKey("/V")) return dict;
    QPDFObjectHandle parent = dict.getKey("/Parent");
    return parent.isDictionary() ? parent : dict;
}

// Whether a reader draws the annotation. Readers make up appearances for annotations without
// one (a FreeText from its text, a text field from its value), but not for signature widgets.
bool Visible(QPDFObjectHandle annot, bool needs_appearance) {
    if (!annot.isDictionary()) return false;
    QPDFObjectHandle flags = annot.getKey("/F");
    if (flags.isInteger() && (flags.getIntValue() & kHiddenFlags) != 0) return false;
    auto rect = ToRect(annot.getKey("/Rect"));
    if (!rect || rect->Width() <= 0 || rect->Height() <= 0) return false;
    if (!needs_appearance) return true;
    QPDFObjectHandle normal = annot.getKey("/AP").getKeyIfDict("/N");
    return normal.isStream() || normal.isDictionary();
}

std::string PageLabel(int index) { return index >= 0 ? "page " + std::to_string(index) : "a page"; }

class HashPipeline final : public Pipeline {
  public:
    HashPipeline() : Pipeline("firmo-hash", nullptr) {}
    void write(unsigned char const* data, size_t len) override {
        hash_.Update(std::string_view(reinterpret_cast<const char*>(data), len));
    }
    void finish() override {}
    std::string Digest() { return hash_.Finish(); }

  private:
    crypto::Sha256Stream hash_;
};

std::string RawDigest(QPDFObjectHandle stream) {
    HashPipeline hash;
    bool filtered = false;
    if (!stream.pipeStreamData(&hash, &filtered, 0, qpdf_dl_none, true)) return "unreadable";
    return hash.Digest();
}

struct Item {
    QPDFObjectHandle b;  // before (the signed revision)
    QPDFObjectHandle a;  // after (the final file)
    Role role = Role::kContent;
    // What a change under this item counts as, and whether it is allowed.
    ModificationLevel level = ModificationLevel::kOther;
    bool allowed = false;
    int page = -1;
    // Both sides are the same bytes (`b` is then the final file's handle too).
    bool same = false;
    std::string where;
    std::string path;
};

class Walker {
  public:
    explicit Walker(const DiffInput& in) : in_(in), before_(*in.before), after_(*in.after) {}

    std::vector<Difference> Run() {
        IndexPages();
        Item root;
        root.b = before_.getTrailer();
        root.a = after_.getTrailer();
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
            Difference d;
            d.level = suppressed_level_;
            d.allowed = suppressed_allowed_;
            d.where = "the document";
            d.what = "and " + std::to_string(suppressed_) + " more differences";
            out_.push_back(std::move(d));
        }
        return std::move(out_);
    }

  private:
    bool Changed(QPDFObjGen og) const {
        return std::binary_search(in_.changed->begin(), in_.changed->end(), og.getObj());
    }

    // Whether a value differs without looking through the references inside it.
    bool ShallowDiffers(QPDFObjectHandle b, QPDFObjectHandle a) const {
        if (b.isIndirect() && a.isIndirect()) {
            return b.getObjGen() != a.getObjGen() || Changed(a.getObjGen());
        }
        if (b.isIndirect() != a.isIndirect()) return true;
        return b.unparse() != a.unparse();
    }

    // The signed revision's version of an object of the final file.
    QPDFObjectHandle BeforeOf(QPDFObjectHandle a) {
        if (!a.isIndirect()) return QPDFObjectHandle::newNull();
        return before_.getObject(a.getObjGen());
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
    // bytes, so the final file's handle stands for both and the signed revision is not read.
    void Push(const Item& parent, QPDFObjectHandle b, QPDFObjectHandle a, Role role,
              const std::string& key) {
        Item child;
        child.role = role;
        child.level = parent.level;
        child.allowed = parent.allowed;
        child.page = parent.page;
        child.where = parent.where;
        child.path = parent.path + key;
        if (a.isIndirect() && b.isIndirect() && a.getObjGen() == b.getObjGen()) {
            child.same = !Changed(a.getObjGen());
            if (!child.same && parent.same) b = BeforeOf(a);
            if (child.same) b = a;
        } else {
            child.same = parent.same && !a.isIndirect() && !b.isIndirect();
        }
        child.b = b;
        child.a = a;
        work_.push_back(std::move(child));
    }

    void Step(Item& item) {
        QPDFObjectHandle b = item.b;
        QPDFObjectHandle a = item.a;
        if (b.isIndirect() || a.isIndirect()) {
            auto key = std::make_tuple(b.isIndirect() ? b.getObjGen() : QPDFObjGen(),
                                       a.isIndirect() ? a.getObjGen() : QPDFObjGen(),
                                       static_cast<int>(item.role), static_cast<int>(item.level),
                                       item.allowed, item.same);
            if (!visited_.insert(key).second) return;
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
        QPDFObjectHandle b = item.b;
        QPDFObjectHandle a = item.a;
        const bool same = item.same;
        auto kind = [](QPDFObjectHandle h) {
            if (h.isStream()) return 1;
            if (h.isDictionary()) return 2;
            if (h.isArray()) return 3;
            if (h.isNull()) return 4;
            if (h.isNumber()) return 5;
            if (h.isName()) return 6;
            if (h.isString()) return 7;
            if (h.isBool()) return 8;
            return 9;
        };
        if (same) {
            // Identical bytes: only what they reference may differ.
            if (a.isStream()) {
                QueueDictionary(item, a.getDict(), a.getDict(), Role::kContent);
            } else if (a.isDictionary()) {
                QueueDictionary(item, a, a, Role::kContent);
            } else if (a.isArray()) {
                int n = a.getArrayNItems();
                for (int i = 0; i < n; ++i) {
                    QPDFObjectHandle x = a.getArrayItem(i);
                    if (x.isIndirect() || x.isArray() || x.isDictionary()) {
                        Push(item, x, x, Role::kContent, "[" + std::to_string(i) + "]");
                    }
                }
            }
            return;
        }
        int kb = kind(b);
        int ka = kind(a);
        if (kb != ka) {
            Report(item, kb == 4 ? "added" : ka == 4 ? "removed" : "replaced by another kind");
            return;
        }
        switch (ka) {
            case 1:
                QueueDictionary(item, b.getDict(), a.getDict(), Role::kContent);
                if (RawDigest(b) != RawDigest(a)) Report(item, "its data was changed");
                return;
            case 2:
                QueueDictionary(item, b, a, Role::kContent);
                return;
            case 3: {
                int nb = b.getArrayNItems();
                int na = a.getArrayNItems();
                if (nb != na) {
                    Report(item, "has " + std::to_string(na) + " entries instead of " +
                                     std::to_string(nb));
                }
                for (int i = 0; i < std::min(nb, na); ++i) {
                    Push(item, b.getArrayItem(i), a.getArrayItem(i), Role::kContent,
                         "[" + std::to_string(i) + "]");
                }
                return;
            }
            case 5:
                if (b.getNumericValue() != a.getNumericValue()) {
                    Report(item,
                           "changed from " + b.unparseResolved() + " to " + a.unparseResolved());
                }
                return;
            case 6:
            case 7:
            case 8:
                if (b.unparse() != a.unparse()) Report(item, "changed");
                return;
            default:
                return;
        }
    }

    void QueueDictionary(Item& item, QPDFObjectHandle b, QPDFObjectHandle a, Role role) {
        std::set<std::string> keys;
        if (b.isDictionary()) keys = b.getKeys();
        if (a.isDictionary()) {
            for (const auto& k : a.getKeys()) keys.insert(k);
        }
        const bool same = item.same;
        for (const auto& k : keys) {
            QPDFObjectHandle vb = b.getKeyIfDict(k);
            QPDFObjectHandle va = a.getKeyIfDict(k);
            if (same && !(va.isIndirect() || va.isArray() || va.isDictionary())) continue;
            // A back-pointer is compared by identity: its target is reached from the root.
            if (k == "/Parent" || k == "/P" || k == "/Popup" || k == "/IRT") {
                Identity(item, vb, va, k);
                continue;
            }
            Push(item, vb, va, role, k);
        }
    }

    void Identity(Item& item, QPDFObjectHandle b, QPDFObjectHandle a, const std::string& key) {
        bool differ = b.isIndirect() && a.isIndirect() ? b.getObjGen() != a.getObjGen()
                                                       : b.unparse() != a.unparse();
        if (differ) {
            Item at = item;
            at.path += key;
            Report(at, "now points elsewhere");
        }
    }

    void Trailer(Item& item) {
        static const std::set<std::string> kStructure = {
            "/Size", "/Prev",   "/XRefStm",     "/Type",   "/W",    "/Index",
            "/ID",   "/Filter", "/DecodeParms", "/Length", "/Root", "/Info"};
        QPDFObjectHandle b = item.b;
        QPDFObjectHandle a = item.a;
        Item root = item;
        root.where = "the catalog";
        root.path.clear();
        Push(root, b.getKey("/Root"), a.getKey("/Root"), Role::kCatalog, "");
        if (ShallowDiffers(b.getKey("/Info"), a.getKey("/Info"))) {
            Report(ModificationLevel::kLtaUpdates, true, "the document information",
                   "updated (metadata)");
        }
        std::set<std::string> keys = b.getKeys();
        for (const auto& k : a.getKeys()) keys.insert(k);
        for (const auto& k : keys) {
            if (kStructure.count(k) > 0) continue;
            Push(item, b.getKey(k), a.getKey(k), Role::kContent, k);
        }
    }

    void Catalog(Item& item) {
        QPDFObjectHandle b = item.b;
        QPDFObjectHandle a = item.a;
        if (!a.isDictionary()) {
            Report(item, "the document has no catalog");
            return;
        }
        std::set<std::string> keys;
        if (b.isDictionary()) keys = b.getKeys();
        for (const auto& k : a.getKeys()) keys.insert(k);
        for (const auto& k : keys) {
            QPDFObjectHandle vb = b.getKeyIfDict(k);
            QPDFObjectHandle va = a.getKeyIfDict(k);
            if (k == "/Pages") {
                Item pages = item;
                pages.where = "the page tree";
                pages.path.clear();
                Push(pages, vb, va, Role::kPageNode, "");
            } else if (k == "/AcroForm") {
                Item form = item;
                form.where = "the form";
                form.path.clear();
                Push(form, vb, va, Role::kAcroForm, "");
            } else if (k == "/DSS") {
                if (!ShallowDiffers(vb, va)) continue;
                static const std::set<std::string> kDssKeys = {"/Type", "/Certs", "/CRLs", "/OCSPs",
                                                               "/VRI"};
                bool well_formed = va.isDictionary();
                for (const auto& dk : well_formed ? va.getKeys() : std::set<std::string>()) {
                    if (kDssKeys.count(dk) == 0) well_formed = false;
                }
                if (well_formed) {
                    Report(ModificationLevel::kLtaUpdates, true, "the document security store",
                           vb.isNull() ? "added (validation data)" : "updated (validation data)");
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
                Push(item, vb, va, Role::kContent, k);
            }
        }
    }

    // Page tree nodes and pages: everything but /Annots is content; /Kids are nodes or pages.
    void PageTree(Item& item) {
        QPDFObjectHandle b = item.b;
        QPDFObjectHandle a = item.a;
        if (!a.isDictionary() || !b.isDictionary()) {
            Value(item);
            return;
        }
        const bool is_page = !a.hasKey("/Kids");
        if (is_page && a.isIndirect()) {
            auto it = page_index_.find(a.getObjGen());
            item.page = it == page_index_.end() ? -1 : it->second;
            item.where = PageLabel(item.page);
            item.path.clear();
        }
        const bool same = item.same;
        std::set<std::string> keys = b.getKeys();
        for (const auto& k : a.getKeys()) keys.insert(k);
        for (const auto& k : keys) {
            QPDFObjectHandle vb = b.getKey(k);
            QPDFObjectHandle va = a.getKey(k);
            if (k == "/Parent") {
                Identity(item, vb, va, k);
            } else if (k == "/Kids" && !is_page) {
                if (!(vb.isArray() && va.isArray())) {
                    Push(item, vb, va, Role::kContent, k);
                    continue;
                }
                int nb = vb.getArrayNItems();
                int na = va.getArrayNItems();
                if (nb != na) Report(item, "pages were added or removed");
                for (int i = 0; i < std::min(nb, na); ++i) {
                    Push(item, vb.getArrayItem(i), va.getArrayItem(i), Role::kPageNode,
                         "/Kids[" + std::to_string(i) + "]");
                }
            } else if (k == "/Annots" && is_page) {
                Push(item, vb, va, Role::kAnnots, "/Annots");
            } else {
                if (same && !(va.isIndirect() || va.isArray() || va.isDictionary())) continue;
                Push(item, vb, va, Role::kContent, k);
            }
        }
    }

    // /Annots, /Fields and a field's /Kids: existing entries stay (in order) and are compared;
    // what is added or removed is judged on its own.
    void Array(Item& item, Role element_role) {
        QPDFObjectHandle b = item.b;
        QPDFObjectHandle a = item.a;
        if ((!b.isArray() && !b.isNull()) || (!a.isArray() && !a.isNull())) {
            Value(item);
            return;
        }
        std::vector<QPDFObjectHandle> old_items;
        std::vector<QPDFObjectHandle> new_items;
        if (b.isArray()) old_items = b.getArrayAsVector();
        if (a.isArray()) new_items = a.getArrayAsVector();
        auto same_entry = [](QPDFObjectHandle x, QPDFObjectHandle y) {
            if (x.isIndirect() || y.isIndirect()) {
                return x.isIndirect() && y.isIndirect() && x.getObjGen() == y.getObjGen();
            }
            return x.unparse() == y.unparse();
        };
        std::vector<bool> matched(new_items.size(), false);
        std::size_t from = 0;
        for (std::size_t i = 0; i < old_items.size(); ++i) {
            std::size_t j = from;
            while (j < new_items.size() && !same_entry(old_items[i], new_items[j])) ++j;
            if (j == new_items.size()) {
                Removed(item, old_items[i], element_role);
                continue;
            }
            matched[j] = true;
            from = j + 1;
            Push(item, old_items[i], new_items[j], element_role, "[" + std::to_string(i) + "]");
        }
        for (std::size_t j = 0; j < new_items.size(); ++j) {
            if (!matched[j]) Added(item, new_items[j], element_role);
        }
    }

    void Removed(Item& item, QPDFObjectHandle old_entry, Role role) {
        QPDFObjectHandle dict = old_entry.isIndirect() ? BeforeOf(old_entry) : old_entry;
        if (role == Role::kAnnotation && !IsFieldOrWidget(dict)) {
            bool comment = IsComment(dict);
            Report(ModificationLevel::kAnnotations, comment && in_.permissions.docmdp == 3,
                   PageLabel(item.page), "a " + SubtypeOf(dict) + " annotation was removed");
            return;
        }
        std::string name = FieldName(dict);
        Report(ModificationLevel::kOther, false, item.where,
               role == Role::kAnnotation ? "the widget of field '" + name + "' was removed"
                                         : "field '" + name + "' was removed");
    }

    // The signature (or time-stamp) a field's /V holds, when a later revision added it.
    enum class SigValue { kNone, kLaterSignature, kLaterTimestamp, kOther };
    SigValue SignatureValue(QPDFObjectHandle field_after) {
        QPDFObjectHandle v = Inherited(field_after, "/V");
        if (v.isNull()) return SigValue::kNone;
        if (!v.isIndirect()) return SigValue::kOther;
        if (in_.later_signatures.count(v.getObjGen()) > 0) return SigValue::kLaterSignature;
        if (in_.later_timestamps.count(v.getObjGen()) > 0) return SigValue::kLaterTimestamp;
        return SigValue::kOther;
    }

    bool SigningAllowed() const { return in_.permissions.docmdp.value_or(2) != 1; }

    void Added(Item& item, QPDFObjectHandle entry, Role role) {
        QPDFObjectHandle dict = entry;
        if (!dict.isDictionary()) {
            Report(ModificationLevel::kOther, false, item.where, "an entry was added");
            return;
        }
        if (role == Role::kField) return NewField(dict);
        if (!IsFieldOrWidget(dict)) return NewAnnotation(item, dict);
        QPDFObjectHandle field = FieldOf(dict);
        std::string name = FieldName(field);
        if (Name(Inherited(field, "/FT")) != "/Sig") {
            Report(ModificationLevel::kOther, false, PageLabel(item.page),
                   "a widget of form field '" + name + "' was added");
            return;
        }
        if (!Visible(dict, true)) return;
        auto rect = ToRect(dict.getKey("/Rect"));
        if (rect && Drawn(item.page).Covers(*rect)) {
            Report(ModificationLevel::kOther, false, PageLabel(item.page),
                   "the new signature field '" + name + "' is drawn over signed content");
        } else if (SignatureValue(field) == SigValue::kOther) {
            Report(ModificationLevel::kOther, false, PageLabel(item.page),
                   "the new signature field '" + name +
                       "' shows a value that is no signature of a later revision");
        } else {
            Report(ModificationLevel::kFormFilling, SigningAllowed(), PageLabel(item.page),
                   "a visible signature field '" + name + "' was added where nothing is drawn");
        }
    }

    void NewField(QPDFObjectHandle field) {
        std::string name = FieldName(field);
        std::string where = "field '" + name + "'";
        if (Name(Inherited(field, "/FT")) != "/Sig") {
            Report(ModificationLevel::kOther, false, where, "a new form field was added");
            return;
        }
        switch (SignatureValue(field)) {
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

    void NewAnnotation(Item& item, QPDFObjectHandle annot) {
        std::string what = "a " + SubtypeOf(annot) + " annotation was added";
        if (!Visible(annot, false)) {
            Report(ModificationLevel::kAnnotations, in_.permissions.docmdp == 3,
                   PageLabel(item.page), what + " (hidden)");
            return;
        }
        auto rect = ToRect(annot.getKey("/Rect"));
        bool covers = !IsComment(annot) && rect && Drawn(item.page).Covers(*rect);
        Report(ModificationLevel::kAnnotations, in_.permissions.docmdp == 3 && !covers,
               PageLabel(item.page), what + (covers ? " over signed content" : ""));
    }

    const DrawnAreas& Drawn(int page) {
        auto it = drawn_.find(page);
        if (it != drawn_.end()) return it->second;
        DrawnAreas areas;
        auto og = page_of_index_.find(page);
        QPDFObjectHandle before_page = og == page_of_index_.end() ? QPDFObjectHandle::newNull()
                                                                  : before_.getObject(og->second);
        if (before_page.isDictionary()) {
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
        QPDFObjectHandle b = item.b;
        QPDFObjectHandle a = item.a;
        if (!a.isDictionary() || !b.isDictionary()) {
            Value(item);
            return;
        }
        if (!IsFieldOrWidget(a)) return Annotation(item);
        QPDFObjectHandle field_a = FieldOf(a);
        QPDFObjectHandle field_b = field_a.getObjGen() == a.getObjGen() ? b : BeforeOf(field_a);
        if (field_b.isNull() && !field_a.isIndirect()) field_b = field_a;
        const std::string name = FieldName(field_a);
        item.where = "field '" + name + "'";
        item.path.clear();
        const std::string type = Name(Inherited(field_b.isDictionary() ? field_b : field_a, "/FT"));

        enum class Change { kNone, kSigning, kTimestamp, kFilling };
        Change change = Change::kNone;
        if (type == "/Sig") {
            if (Inherited(field_b, "/V").isNull()) {
                SigValue v = SignatureValue(field_a);
                if (v == SigValue::kLaterSignature) change = Change::kSigning;
                if (v == SigValue::kLaterTimestamp) change = Change::kTimestamp;
            }
        } else if (ShallowDiffers(field_b.getKeyIfDict("/V"), field_a.getKeyIfDict("/V")) ||
                   (field_b.getKeyIfDict("/V").isIndirect() &&
                    Changed(field_b.getKeyIfDict("/V").getObjGen()))) {
            change = Change::kFilling;
        }
        static const std::set<std::string> kSigningKeys = {"/V",  "/AP",   "/AS",
                                                           "/MK", "/Lock", "/SV"};
        static const std::set<std::string> kFillingKeys = {"/V", "/AP", "/AS"};
        const std::set<std::string>* absorbed = nullptr;
        if (change == Change::kSigning || change == Change::kTimestamp) absorbed = &kSigningKeys;
        if (change == Change::kFilling) absorbed = &kFillingKeys;

        std::set<std::string> keys = b.getKeys();
        for (const auto& k : a.getKeys()) keys.insert(k);
        bool absorbed_any = false;
        const bool same = item.same;
        for (const auto& k : keys) {
            QPDFObjectHandle vb = b.getKey(k);
            QPDFObjectHandle va = a.getKey(k);
            if (absorbed && absorbed->count(k) > 0) {
                // The field's new value and appearance: not looked into (an object they share
                // with anything else is compared where that thing is reached).
                absorbed_any = true;
                continue;
            }
            if (k == "/Parent" || k == "/P" || k == "/Popup" || k == "/IRT") {
                Identity(item, vb, va, k);
            } else if (k == "/Kids") {
                Push(item, vb, va, Role::kFields, "/Kids");
            } else if (k == "/V" && type == "/Sig" && !vb.isNull()) {
                if (ShallowDiffers(vb, va)) {
                    Report(ModificationLevel::kOther, false, item.where,
                           "its signature was replaced or removed");
                } else {
                    Push(item, vb, va, Role::kContent, "/V");
                }
            } else {
                if (same && !(va.isIndirect() || va.isArray() || va.isDictionary())) continue;
                Push(item, vb, va, Role::kContent, k);
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
        item.where = PageLabel(item.page) + ", " + SubtypeOf(item.a) + " annotation";
        item.path.clear();
        item.level = ModificationLevel::kAnnotations;
        item.allowed = in_.permissions.docmdp == 3 && IsComment(item.a) && IsComment(item.b);
        QueueDictionary(item, item.b, item.a, Role::kContent);
    }

    void AcroForm(Item& item) {
        QPDFObjectHandle b = item.b.isDictionary() ? item.b : QPDFObjectHandle::newDictionary();
        QPDFObjectHandle a = item.a.isDictionary() ? item.a : QPDFObjectHandle::newDictionary();
        if (!item.a.isDictionary() && item.b.isDictionary()) {
            Report(item, "the form was removed");
            return;
        }
        std::set<std::string> keys = b.getKeys();
        for (const auto& k : a.getKeys()) keys.insert(k);
        for (const auto& k : keys) {
            QPDFObjectHandle vb = b.getKey(k);
            QPDFObjectHandle va = a.getKey(k);
            if (k == "/Fields") {
                Push(item, vb, va, Role::kFields, "/Fields");
            } else if (k == "/SigFlags") {
                continue;  // set by every signer; draws nothing
            } else if (k == "/DR") {
                Push(item, vb, va, Role::kDr, "/DR");
            } else {
                // /DA, /NeedAppearances, /XFA, /CO...: how every field is drawn.
                Push(item, vb, va, Role::kContent, k);
            }
        }
    }

    // The form's default resources: a signer may add a resource (its appearance font) but not
    // change or remove one that fields already use.
    void Resources(Item& item) {
        if (!(item.a.isDictionary() || item.a.isNull()) ||
            !(item.b.isDictionary() || item.b.isNull()) || item.a.isStream()) {
            Value(item);
            return;
        }
        if (item.a.isNull() && item.b.isDictionary()) {
            Report(item, "removed");
            return;
        }
        QPDFObjectHandle b = item.b.isDictionary() ? item.b : QPDFObjectHandle::newDictionary();
        QPDFObjectHandle a = item.a;
        for (const auto& k : b.getKeys()) {
            Push(item, b.getKey(k), a.getKey(k),
                 item.role == Role::kDr ? Role::kDrCategory : Role::kContent, k);
        }
    }

    // Page numbers (from 0) of the final file's page tree, without qpdf's page helpers (which
    // repair duplicated pages in memory).
    void IndexPages() {
        QPDFObjectHandle root = after_.getRoot().getKey("/Pages");
        std::vector<QPDFObjectHandle> stack{root};
        std::set<QPDFObjGen> seen;
        int next = 0;
        while (!stack.empty() && seen.size() < 1'000'000) {
            QPDFObjectHandle node = stack.back();
            stack.pop_back();
            if (!node.isDictionary() ||
                (node.isIndirect() && !seen.insert(node.getObjGen()).second)) {
                continue;
            }
            QPDFObjectHandle kids = node.getKey("/Kids");
            if (!kids.isArray()) {
                if (node.isIndirect()) {
                    page_index_[node.getObjGen()] = next;
                    page_of_index_[next] = node.getObjGen();
                }
                ++next;
                continue;
            }
            auto items = kids.getArrayAsVector();
            for (auto it = items.rbegin(); it != items.rend(); ++it) stack.push_back(*it);
        }
    }

    const DiffInput& in_;
    QPDF& before_;
    QPDF& after_;
    std::vector<Item> work_;
    std::set<std::tuple<QPDFObjGen, QPDFObjGen, int, int, bool, bool>> visited_;
    std::map<QPDFObjGen, int> page_index_;
    std::map<int, QPDFObjGen> page_of_index_;
    std::map<int, DrawnAreas> drawn_;
    std::set<std::string> reported_;
    std::vector<Difference> out_;
    std::size_t steps_ = 0;
    std::size_t suppressed_ = 0;
    ModificationLevel suppressed_level_ = ModificationLevel::kNone;
    bool suppressed_allowed_ = true;
};

}  // namespace

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
