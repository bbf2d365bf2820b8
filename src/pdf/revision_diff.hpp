#pragma once
// Internal to src/pdf: what changed between a signed revision and the final file, as a reader
// resolves each. Walks both documents in step from the trailer (catalog, page tree, pages,
// annotations and their appearances, the form and its fields, names, outlines, actions, DSS,
// metadata, and everything they reference) and reports every difference with its modification
// level and whether the permissions in force allow it: DocMDP of a certification signature,
// FieldMDP of the signature, or Firmo's conservative default (later signatures in empty or new
// signature fields that cover nothing signed, DSS and document time-stamps, metadata).
// Objects are matched by where a reader finds them, not by number, so an update that re-points
// a cross-reference entry, frees an object, moves it in or out of an object stream or gives the
// trailer a new catalog is compared by what it shows. Objects are read one at a time
// (ObjectReader), so memory stays small whatever the size of the document. Not thread-safe.

#include <cstddef>
#include <optional>
#include <qpdf/QPDF.hh>
#include <set>
#include <string>
#include <vector>

#include "pdf/content_areas.hpp"
#include "pdf/object_reader.hpp"
#include "pdf/verify.hpp"

namespace firmo::pdf::internal {

// FieldMDP: the form fields a signature locks against later changes.
struct FieldLock {
    enum class Action { kNone, kAll, kInclude, kExclude };
    Action action = Action::kNone;
    std::set<std::string> fields;  // fully qualified names
    bool Locks(const std::string& field) const;
};

struct DiffPermissions {
    // The certification signature's DocMDP level (1, 2 or 3) when the document is certified
    // by this signature or an earlier one; none: Firmo's default.
    std::optional<int> docmdp;
    FieldLock lock;
};

struct DiffInput {
    ObjectReader* before = nullptr;  // the signed revision
    ObjectReader* after = nullptr;   // the final file
    // The signed revision opened by qpdf, to parse the content of a page that a new widget or
    // annotation lands on (nullptr: every page counts as fully drawn).
    QPDF* before_qpdf = nullptr;
    // Objects whose cross-reference entries differ between the two (RevisionIndex::Changed):
    // every other object reads the same bytes in both.
    const std::vector<int>* changed = nullptr;
    // Objects of the final file that refer, through any chain, to a changed one
    // (ObjectReader::Reaching): an unchanged object that reaches none is not looked into.
    const std::vector<bool>* reaching = nullptr;
    // Object numbers (in the final file) of the signature dictionaries of the signatures and
    // document time-stamps that later revisions added and that cover their revision.
    std::set<int> later_signatures;
    std::set<int> later_timestamps;
    DiffPermissions permissions;
    ContentLimits content_limits;
    std::size_t max_steps = 5'000'000;
    std::size_t max_reported = 50;
};

std::vector<Difference> CompareRevisions(const DiffInput& input);

// Helpers shared with verification: a text string (PDFDocEncoding or UTF-16BE with a byte
// order mark) as UTF-8, and a field's fully qualified name through its /Parent chain.
std::string TextToUtf8(const std::string& text);
std::string FieldName(ObjectReader& reader, const ValuePtr& field);
// A rectangle array normalised; nullopt when it is not four numbers.
std::optional<Rect> RectOf(ObjectReader& reader, const PdfValue& value);

}  // namespace firmo::pdf::internal
