// The sender portal's sending pages (issue 17, part 2): a new request from PDFs uploaded in the
// browser, its fields placed on the pages (static/staff_send.js with pdf.js), its signers; the
// API's services and validators check and act (no second logic):
//   - the dossier: api::DossierBodySpec + domain::CheckNewDossier (POST /api/v1/dossiers);
//   - each signer: api::SignerBodySpec + domain::CheckNewSigner (POST /api/v1/signers);
//   - the request: RequestService::Check + CheckFieldSigners (POST /api/v1/signature-requests);
//   - each PDF: RequestService::CheckUploadSize (the upload URL) and the DocumentValidator
//     (POST /api/v1/validate-document, and the validation job after the upload);
//   - sending: DossierService::Create, SignerService::Resolve, RequestService::Create with
//     auto_notify, UploadDocument, then once the validation job has passed every document
//     ChangeStatus(READY), which notifies the signers (PUT .../status READY + notification).

#include <algorithm>
#include <cctype>
#include <chrono>
#include <thread>

#include "api/contract.hpp"
#include "api/frontend.hpp"
#include "codec/json.hpp"
#include "http/multipart.hpp"
#include "web/staff_portal_kit.hpp"

namespace firmo::web {

using codec::Json;

namespace {

// At most this many PDFs in one request sent from the portal (the POST's body limit is this
// many documents of limits.max_document_bytes, see api::Frontend::BodyLimit).
constexpr std::size_t kMaxPortalDocuments = api::kPortalSendDocuments;
constexpr std::size_t kMaxParts = kMaxPortalDocuments + 8;
// How long "send" waits for the validation job before it leaves the request a draft that the
// request page sends once its documents are READY.
constexpr auto kValidationWait = std::chrono::seconds(20);
constexpr auto kValidationPoll = std::chrono::milliseconds(100);

HttpResponse JsonAnswer(int status, const Json& body) {
    HttpResponse r = HttpResponse::Text(status, body.dump(), "application/json");
    r.Set("Cache-Control", "no-store");
    r.Set("X-Content-Type-Options", "nosniff");
    return r;
}

Json ProblemsJson(const std::vector<Violation>& problems) {
    Json list = Json::array();
    for (const Violation& v : problems) list.push_back({{"field", v.field}, {"reason", v.reason}});
    return list;
}

// Prefixes violations of an input checked alone with where that input sits in the plan.
void AddUnder(std::vector<Violation>& out, const std::vector<Violation>& in,
              const std::string& prefix) {
    for (const Violation& v : in) {
        out.push_back({v.field.empty() ? prefix : prefix + "." + v.field, v.reason});
    }
}

// A request's violation named after the plan: documents_metadata -> dossier.documents_metadata,
// expires_at -> expires_on, signers[i].signer_id -> signers[i].signer.
Violation ToPlanPath(Violation v) {
    if (v.field.starts_with("documents_metadata")) v.field = "dossier." + v.field;
    if (v.field == "expires_at") v.field = "expires_on";
    if (const auto at = v.field.find(".signer_id"); at != std::string::npos) {
        v.field = v.field.substr(0, at) + ".signer";
    }
    return v;
}

// A signer entry that is the staff member: reached by their own login address.
bool IsMe(const NewSigner& s, const StaffUser& user) {
    if (s.kind != IdentifierKind::kEmail || !s.email) return false;
    return NormalizedStaffEmail(*s.email) == user.email;
}

// Members of the posted plan, read without trusting their types (a wrong type reads as absent,
// and the checks then say what is missing).
std::string TextOf(const Json& j, const char* key) {
    const auto it = j.is_object() ? j.find(key) : j.end();
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}
Json MemberOf(const Json& j, const char* key, Json absent) {
    const auto it = j.is_object() ? j.find(key) : j.end();
    return it != j.end() ? *it : absent;
}

std::string Identity(const NewSigner& s) {
    return std::string(ToString(s.kind)) + ":" + s.identifier + ":" + s.email.value_or("") + ":" +
           s.phone.value_or("");
}

// RFC 4180: fields separated by commas (or semicolons, as spreadsheets in Italy and Norway
// write them), quoted with "..." ("" inside), rows by CRLF or LF; blank rows are skipped.
std::vector<std::vector<std::string>> ParseCsv(std::string_view text) {
    if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // a spreadsheet's BOM
    const std::size_t first_line = text.find('\n');
    const std::string_view header = text.substr(0, first_line);
    const char sep =
        header.find(';') != std::string_view::npos && header.find(',') == std::string_view::npos
            ? ';'
            : ',';
    std::vector<std::vector<std::string>> rows(1);
    std::string field;
    bool quoted = false;
    bool blank = true;
    const auto end_field = [&] {
        rows.back().push_back(field);
        blank = blank && field.empty();
        field.clear();
    };
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (quoted) {
            if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
                field += '"';
                ++i;
            } else if (c == '"') {
                quoted = false;
            } else {
                field += c;
            }
        } else if (c == '"') {
            quoted = true;
        } else if (c == sep) {
            end_field();
        } else if (c == '\n' || c == '\r') {
            if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
            end_field();
            if (blank) rows.back().clear();
            if (!rows.back().empty()) rows.emplace_back();
            blank = true;
        } else {
            field += c;
        }
    }
    end_field();
    if (blank) rows.pop_back();
    if (!rows.empty() && rows.back().empty()) rows.pop_back();
    return rows;
}

std::string Trimmed(std::string_view text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
        text.remove_prefix(1);
    }
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
        text.remove_suffix(1);
    }
    return std::string(text);
}

// A CSV cell naming a signer, as the body of POST /api/v1/signers: an e-mail address, a phone
// number (+...), a Norwegian national identity number (11 digits) or an Italian fiscal code.
Json SignerBodyOf(const std::string& who) {
    if (who.find('@') != std::string::npos) return {{"email", who}};
    if (who.starts_with('+')) return {{"phone", who}};
    if (who.size() == 11 &&
        std::all_of(who.begin(), who.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return {{"national_identity_number", who}, {"country", "NO"}};
    }
    return {{"fiscal_code", who}};
}

constexpr std::size_t kMaxBulkRows = 50;

// One CSV row of a bulk send: its signers (in the plan's shapes), reference and deadline.
struct BulkRow {
    std::vector<NewSigner> signers;
    std::vector<NewRequestSigner> request_signers;
    std::optional<std::string> reference;
    std::optional<Timestamp> expires_at;
};

bool IsSignerMember(const std::string& member) {
    return member.empty() || member == "name" || member == "email" || member == "phone" ||
           member == "authentication";
}

// The rows of `csv`: a header naming the columns `signer1`, `signer1_name`, `signer1_email`,
// `signer1_phone`, `signer1_authentication`, `signer2`... (signerN signs with order N-1),
// `reference` and `expires_on`; then one row per request. Problems name the CSV's line.
std::vector<BulkRow> ReadBulkRows(std::string_view csv, const std::string& zone,
                                  std::vector<Violation>& problems) {
    const auto table = ParseCsv(csv);
    std::vector<BulkRow> rows;
    if (table.size() < 2) {
        problems.push_back({"csv", "needs a header line and at least one row"});
        return rows;
    }
    if (table.size() - 1 > kMaxBulkRows) {
        problems.push_back({"csv", "at most " + std::to_string(kMaxBulkRows) + " rows"});
        return rows;
    }
    struct Column {
        int signer = -1;     // 0-based; -1 for the request's own columns
        std::string member;  // "" (the identifier), "name", "email"..., "reference", "expires_on"
    };
    std::vector<Column> columns;
    for (const std::string& raw : table[0]) {
        std::string name = Trimmed(raw);
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        Column col;
        if (name == "reference" || name == "expires_on") {
            col.member = name;
        } else if (name.starts_with("signer")) {
            const auto underscore = name.find('_');
            const std::string number = name.substr(6, underscore - 6);
            col.member = underscore == std::string::npos ? "" : name.substr(underscore + 1);
            const bool digits = !number.empty() && number.size() <= 2 &&
                                std::all_of(number.begin(), number.end(),
                                            [](char c) { return c >= '0' && c <= '9'; });
            col.signer = digits ? std::stoi(number) - 1 : -1;
            if (col.signer < 0 || col.signer > kMaxSignerOrder || !IsSignerMember(col.member)) {
                problems.push_back({"csv", "unknown column " + raw});
            }
        } else {
            problems.push_back({"csv", "unknown column " + raw});
        }
        columns.push_back(col);
    }
    if (!problems.empty()) return rows;
    std::vector<Violation> parsed;
    codec::Reader reader(parsed);
    for (std::size_t r = 1; r < table.size(); ++r) {
        const std::string line = "csv line " + std::to_string(r + 1);
        BulkRow row;
        std::map<int, Json> bodies;
        std::map<int, std::string> levels;
        for (std::size_t c = 0; c < columns.size() && c < table[r].size(); ++c) {
            const std::string cell = Trimmed(table[r][c]);
            if (cell.empty()) continue;
            const Column& col = columns[c];
            if (col.member == "reference") {
                row.reference = cell;
            } else if (col.member == "expires_on") {
                row.expires_at = EndOfDay(cell, zone);
                if (!row.expires_at) {
                    problems.push_back({line + ", expires_on", "must be a date (YYYY-MM-DD)"});
                }
            } else if (col.member.empty()) {
                const Json who = SignerBodyOf(cell);
                for (const auto& [k, v] : who.items()) bodies[col.signer][k] = v;
            } else if (col.member == "authentication") {
                levels[col.signer] = cell;
            } else {
                bodies[col.signer][col.member] = cell;
            }
        }
        for (const auto& [index, body] : bodies) {
            const std::string path = line + ", signers[" + std::to_string(row.signers.size()) + "]";
            parsed.clear();
            auto signer = api::SignerBodySpec().Parse(body, path + ".signer", reader);
            problems.insert(problems.end(), parsed.begin(), parsed.end());
            row.signers.push_back(signer ? signer->ToInput() : NewSigner{});
            NewRequestSigner rs;
            rs.order = index;
            if (auto level = levels.find(index); level != levels.end()) {
                rs.authentication = ParseAuthLevel(level->second);
                if (!rs.authentication) {
                    problems.push_back(
                        {path + ".authentication", "must be code, eid_substantial or eid_high"});
                }
            }
            row.request_signers.push_back(rs);
        }
        if (row.signers.empty()) problems.push_back({line, "names no signer"});
        rows.push_back(std::move(row));
    }
    return rows;
}

}  // namespace

// What the sending page posts: the `plan` part (JSON, the API's shapes), one `file` part per
// document in order, `csrf` and `action` (validate, save or send).
struct StaffPortal::SendPlan {
    std::string action;
    std::optional<std::string> dossier_id;  // started from a saved dossier
    NewDossier dossier;
    std::vector<NewSigner> signers;
    std::vector<NewRequestSigner> request_signers;  // order and level; ids set when resolved
    std::optional<std::string> reference;
    std::optional<Timestamp> expires_at;
    std::vector<std::string_view> files;  // views into the request's body
    std::optional<std::size_t> me;        // "sign myself": the staff member's own signer entry
    std::string_view csv;                 // bulk: one row per signer set
};

HttpResponse StaffPortal::SendStatic(std::string_view file) const {
    if (file != "staff_send.js") return HttpResponse::Text(404, "not found");
    HttpResponse r =
        HttpResponse::Text(200, std::string(EmbeddedFile(file)), "text/javascript; charset=utf-8");
    r.Set("Cache-Control", "public, max-age=3600");
    return r;
}

HttpResponse StaffPortal::SendPage(Req& req) {
    FIRMO_STAFF_CTX(ctx, req);
    if (!ctx.principal) return SeeOther(ctx, "/app/login");
    if (!ctx.principal->may_send()) return Message(ctx, 403, "staff.error.forbidden");
    const std::string& issuer = ctx.principal->user.issuer_id;
    mu::data data;
    // The script fills in {n}, {page} and {name}: they stay as they are.
    data.set("t", ctx.Texts("staff.send.", {{"n", std::string("{n}")},
                                            {"page", std::string("{page}")},
                                            {"name", std::string("{name}")}}));
    data.set("csrf", ctx.csrf);
    data.set("me", ctx.principal->user.email);
    data.set("max_documents", std::to_string(kMaxPortalDocuments));
    if (auto id = req.Query("dossier"); id && !id->empty()) {
        auto dossier = s_.dossiers.Get(issuer, std::string(*id));
        if (!dossier) return ErrorPage(ctx, dossier.error());
        Json documents = Json::array();
        for (const DocumentMetadata& d : dossier->documents) documents.push_back(codec::ToJson(d));
        data.set("from_dossier", true);
        data.set("dossier_id", dossier->id);
        data.set("dossier_title", dossier->title);
        data.set("dossier_documents", documents.dump());
    }
    auto saved = s_.dossiers.List(issuer, PageQuery{20, std::nullopt});
    if (!saved) return ErrorPage(ctx, saved.error());
    mu::list dossiers;
    for (const Dossier& d : saved->items) {
        mu::data item;
        item.set("title", d.title);
        item.set("href", "/app/send?dossier=" + d.id);
        item.set("documents", std::to_string(d.documents.size()));
        dossiers.push_back(item);
    }
    data.set("dossiers", dossiers);
    data.set("has_dossiers", !dossiers.empty());
    // The front door's own answers (problem+json: session ended, too large, busy) in words.
    data.set("problems", ProblemTexts(ctx.Language()));
    return Page(ctx, 200, ctx.T("staff.send.title"), Render("staff_send.mustache", data));
}

Result<StaffPortal::SendPlan> StaffPortal::ReadPlan(const Req& req, Ctx& ctx,
                                                    std::vector<Violation>& problems) const {
    if (req.MediaType() != "multipart/form-data") {
        return Fail(ErrorCode::kUnsupportedMediaType, "send multipart/form-data");
    }
    FIRMO_TRY(auto parts, http::ParseMultipart(*req.Header("Content-Type"), req.body, kMaxParts));
    SendPlan plan;
    std::string_view plan_text;
    for (const http::Part& part : parts) {
        if (part.name == "csrf") ctx.form.emplace("csrf", std::string(part.body));
        if (part.name == "action") plan.action = std::string(part.body);
        if (part.name == "plan") plan_text = part.body;
        if (part.name == "file") plan.files.push_back(part.body);
        if (part.name == "csv") plan.csv = part.body;
    }
    if (!CsrfOk(ctx)) return Fail(ErrorCode::kForbidden, "the form's CSRF token is wrong");
    const Json j = Json::parse(plan_text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return Fail(ErrorCode::kMalformed, "no plan");
    codec::Reader reader(problems);
    if (auto id = TextOf(j, "dossier_id"); !id.empty()) plan.dossier_id = id;
    if (auto dossier = api::DossierBodySpec().Parse(MemberOf(j, "dossier", Json::object()),
                                                    "dossier", reader)) {
        plan.dossier = std::move(*dossier);
    }
    const Json signers = MemberOf(j, "signers", Json::array());
    if (!signers.is_array() || signers.empty()) problems.push_back({"signers", "add a signer"});
    for (std::size_t i = 0; signers.is_array() && i < signers.size(); ++i) {
        const std::string path = "signers[" + std::to_string(i) + "]";
        const Json& s = signers[i];
        auto body = api::SignerBodySpec().Parse(MemberOf(s, "signer", Json::object()),
                                                path + ".signer", reader);
        plan.signers.push_back(body ? body->ToInput() : NewSigner{});
        NewRequestSigner rs;
        const Json order = MemberOf(s, "order", 0);
        if (order.is_number_integer()) {
            rs.order = order.get<int>();
        } else {
            problems.push_back({path + ".order", "must be a number"});
        }
        if (const std::string level = TextOf(s, "authentication"); !level.empty()) {
            rs.authentication = ParseAuthLevel(level);
            if (!rs.authentication) {
                problems.push_back(
                    {path + ".authentication", "must be code, eid_substantial or eid_high"});
            }
        }
        plan.request_signers.push_back(rs);
        if (MemberOf(s, "me", false) == Json(true)) plan.me = i;
    }
    if (auto ref = TextOf(j, "reference"); !ref.empty()) plan.reference = ref;
    if (auto on = TextOf(j, "expires_on"); !on.empty()) {
        plan.expires_at = EndOfDay(on, options_.time_zone);
        if (!plan.expires_at) problems.push_back({"expires_on", "must be a date (YYYY-MM-DD)"});
    }
    return plan;
}

void StaffPortal::CheckPlan(SendPlan& plan, std::vector<Violation>& problems,
                            std::string_view language) const {
    AddUnder(problems, CheckNewDossier(plan.dossier), "dossier");
    if (plan.action == "save") return;  // a dossier needs no signer and no PDF
    NewSignatureRequest request;
    request.dossier_id = plan.dossier_id.value_or("new");
    request.expires_at = plan.expires_at;
    request.reference = plan.reference;
    for (std::size_t i = 0; i < plan.signers.size(); ++i) {
        const std::string path = "signers[" + std::to_string(i) + "]";
        if (auto checked = CheckNewSigner(plan.signers[i]); !checked) {
            AddUnder(problems, checked.error().violations, path + ".signer");
        }
        NewRequestSigner rs = plan.request_signers[i];
        rs.signer_id = Identity(plan.signers[i]);
        request.signers.push_back(rs);
    }
    for (Violation& v : s_.requests.Check(request)) problems.push_back(ToPlanPath(std::move(v)));
    AddUnder(problems,
             CheckFieldSigners(plan.dossier.documents, plan.signers.size(), "documents_metadata"),
             "dossier");
    const auto& documents = plan.dossier.documents;
    if (plan.files.size() != documents.size() || plan.files.size() > kMaxPortalDocuments) {
        problems.push_back(
            {"files", "give one PDF per document, at most " + std::to_string(kMaxPortalDocuments)});
    }
    for (std::size_t i = 0; i < plan.files.size() && i < documents.size(); ++i) {
        const std::string file = "files[" + std::to_string(i) + "]";
        if (auto size = s_.requests.CheckUploadSize(plan.files[i]); !size) {
            problems.push_back({file, ProblemText(language, size.error().code)});
            continue;
        }
        const auto report =
            s_.validator.ValidateBytes(plan.files[i], documents[i].signature_fields);
        for (const Violation& v : report.violations) {
            problems.push_back({v.field == "file" ? file
                                                  : "dossier.documents_metadata[" +
                                                        std::to_string(i) + "]." + v.field,
                                v.reason});
        }
    }
}

Result<void> StaffPortal::MakeReadyAndNotify(const std::string& issuer_id, const std::string& id,
                                             const std::string& actor) {
    FIRMO_TRY(auto ready, s_.requests.ChangeStatus(issuer_id, id, RequestedStatus::kReady, actor));
    // A request made with auto_notify was notified by READY itself.
    if (!ready.notification_id) FIRMO_CHECK(s_.requests.Notify(issuer_id, id, actor));
    return {};
}

Result<SignatureRequest> StaffPortal::SendPlanNow(SendPlan& plan, const StaffPrincipal& who,
                                                  std::vector<Violation>& problems) {
    const std::string& issuer = who.user.issuer_id;
    const std::string actor = StaffActor(who.user.id);
    NewSignatureRequest input;
    if (plan.dossier_id) {
        FIRMO_TRY(auto dossier, s_.dossiers.Get(issuer, *plan.dossier_id));
        input.dossier_id = dossier.id;
        input.documents = plan.dossier.documents;  // as placed on this page
    } else {
        FIRMO_TRY(auto dossier, s_.dossiers.Create(issuer, plan.dossier));
        input.dossier_id = dossier.id;
    }
    for (std::size_t i = 0; i < plan.signers.size(); ++i) {
        FIRMO_TRY(auto resolved, s_.signers.Resolve(issuer, plan.signers[i]));
        NewRequestSigner rs = plan.request_signers[i];
        rs.signer_id = resolved.signer.id;
        input.signers.push_back(rs);
    }
    input.expires_at = plan.expires_at;
    input.reference = plan.reference;
    input.auto_notify = true;
    auto created = s_.requests.Create(issuer, input, actor);
    if (!created) {
        for (const Violation& v : created.error().violations) problems.push_back(ToPlanPath(v));
        return tl::unexpected(created.error());
    }
    for (const Document& doc : created->documents) {
        FIRMO_CHECK(s_.requests.UploadDocument(issuer, created->id, doc.id,
                                               Upload{plan.files[doc.index], actor}));
    }
    // The validation job checks each upload (as after the API's upload): wait for it.
    const auto deadline = std::chrono::steady_clock::now() + kValidationWait;
    while (std::chrono::steady_clock::now() < deadline) {
        FIRMO_TRY(auto now, s_.requests.Get(issuer, created->id));
        bool pending = false;
        bool rejected = false;
        for (const Document& d : now.documents) {
            pending = pending || d.status == DocumentStatus::kWaitForUpload ||
                      d.status == DocumentStatus::kWaitForValidation;
            rejected = rejected || d.status == DocumentStatus::kRejected;
        }
        if (rejected) return now;  // the request page shows why
        if (!pending) {
            FIRMO_CHECK(MakeReadyAndNotify(issuer, created->id, actor));
            return s_.requests.Get(issuer, created->id);
        }
        std::this_thread::sleep_for(kValidationPoll);
    }
    return created;  // still validating: the draft's page sends it
}

void StaffPortal::RegisterChecked(
    const std::function<void(std::string, std::string, http::Handler, HeaderCheck)>& add) {
    add(
        "POST", "/app/send", [this](Req& req) { return SendPost(req); },
        [this](const Req& req) { return SenderFromHeaders(req); });
}

Result<void> StaffPortal::SenderFromHeaders(const Req& req) const {
    const auto token = CookieValue(req, kCookie);
    if (!token || token->empty()) {
        return Fail(ErrorCode::kUnauthenticated, "sign in to the sender portal to send");
    }
    FIRMO_TRY(const StaffPrincipal principal, staff_.Authenticate(*token));
    if (!principal.may_send()) return Fail(ErrorCode::kForbidden, "a viewer cannot send");
    return {};
}

HttpResponse StaffPortal::SendPost(Req& req) {
    FIRMO_STAFF_CTX(ctx, req);
    if (!ctx.principal) return JsonAnswer(401, {{"ok", false}, {"location", "/app/login"}});
    if (!ctx.principal->may_send()) return Message(ctx, 403, "staff.error.forbidden");
    std::vector<Violation> problems;
    auto plan = ReadPlan(req, ctx, problems);
    if (!plan) {
        if (plan.error().code == ErrorCode::kForbidden) {
            return Message(ctx, 403, "staff.error.form_expired");
        }
        return JsonAnswer(
            HttpStatusOf(plan.error().code),
            {{"ok", false},
             {"problems",
              ProblemsJson({{"form", ProblemText(ctx.Language(), plan.error().code)}})}});
    }
    const std::string& issuer = ctx.principal->user.issuer_id;
    if (plan->action != "validate" && plan->action != "save" && plan->action != "send" &&
        plan->action != "bulk") {
        return JsonAnswer(
            400, {{"ok", false},
                  {"problems", ProblemsJson({{"action", "validate, save, send or bulk"}})}});
    }
    if (plan->action == "save" || plan->action == "bulk") {
        // A dossier: its documents and fields; bulk takes its signers from the CSV.
        std::erase_if(problems, [](const Violation& v) { return !v.field.starts_with("dossier"); });
    }
    if (plan->action == "bulk") return SendBulk(ctx, *plan, problems);
    CheckPlan(*plan, problems, ctx.Language());
    if (!problems.empty()) {
        return JsonAnswer(422, {{"ok", false},
                                {"message", ctx.T("staff.send.problems")},
                                {"problems", ProblemsJson(problems)}});
    }
    if (plan->action == "validate") {
        return JsonAnswer(200, {{"ok", true}, {"message", ctx.T("staff.send.valid")}});
    }
    if (plan->action == "save") {
        auto dossier = s_.dossiers.Create(issuer, plan->dossier);
        if (!dossier) {
            std::vector<Violation> saved;
            AddUnder(saved, dossier.error().violations, "dossier");
            return JsonAnswer(HttpStatusOf(dossier.error().code),
                              {{"ok", false}, {"problems", ProblemsJson(saved)}});
        }
        return JsonAnswer(200, {{"ok", true},
                                {"message", ctx.T("staff.send.saved_message")},
                                {"location", "/app/send?dossier=" + dossier->id}});
    }
    auto sent = SendPlanNow(*plan, *ctx.principal, problems);
    if (!sent) {
        if (problems.empty()) {
            if (sent.error().code == ErrorCode::kInternal ||
                sent.error().code == ErrorCode::kUnavailable) {
                log::Error("staff_send", {{"error", sent.error().message}});
                problems.push_back({"form", ctx.T("staff.error.internal.text")});
            } else {
                problems.push_back({"form", ProblemText(ctx.Language(), sent.error().code)});
            }
        }
        return JsonAnswer(HttpStatusOf(sent.error().code),
                          {{"ok", false},
                           {"message", ctx.T("staff.send.problems")},
                           {"problems", ProblemsJson(problems)}});
    }
    // "Sign myself": the staff member's own signer goes on to the signer portal's link, where
    // they log in as any signer does (the staff session proves nothing about the signer).
    if (plan->me && *plan->me < sent->signers.size() && sent->status != RequestStatus::kDraft &&
        IsMe(plan->signers[*plan->me], ctx.principal->user)) {
        return JsonAnswer(200, {{"ok", true},
                                {"location", api::SignerLinkPath(urls_, issuer, sent->id,
                                                                 sent->signers[*plan->me].signer_id,
                                                                 sent->expires_at)}});
    }
    return JsonAnswer(200, {{"ok", true}, {"location", "/app/requests/" + sent->id}});
}

HttpResponse StaffPortal::SendDraft(Req& req) {
    FIRMO_STAFF_CTX(ctx, req);
    if (auto refused = RefuseAction(ctx)) return std::move(*refused);
    const std::string id(req.Param("id"));
    const auto done =
        MakeReadyAndNotify(ctx.principal->user.issuer_id, id, StaffActor(ctx.principal->user.id));
    return AfterAction(ctx, id, done);
}

// One request per CSV row, for the page's documents and fields: every row is checked first
// (nothing is sent when one is wrong), then each is sent as "send" does; the first row's
// dossier serves the others.
HttpResponse StaffPortal::SendBulk(Ctx& ctx, SendPlan& plan, std::vector<Violation>& problems) {
    auto rows = ReadBulkRows(plan.csv, options_.time_zone, problems);
    const auto use = [&plan](const BulkRow& row) {
        plan.signers = row.signers;
        plan.request_signers = row.request_signers;
        plan.reference = row.reference;
        plan.expires_at = row.expires_at;
        plan.me.reset();
    };
    for (std::size_t r = 0; r < rows.size(); ++r) {
        use(rows[r]);
        std::vector<Violation> found;
        CheckPlan(plan, found, ctx.Language());
        for (Violation& v : found) {
            const bool shared = v.field.starts_with("dossier") || v.field.starts_with("files");
            if (shared && r > 0) continue;  // the same for every row: said once
            if (!shared) v.field = "csv line " + std::to_string(r + 2) + ", " + v.field;
            problems.push_back(std::move(v));
        }
    }
    if (!problems.empty()) {
        return JsonAnswer(422, {{"ok", false},
                                {"message", ctx.T("staff.send.problems")},
                                {"problems", ProblemsJson(problems)}});
    }
    std::int64_t sent = 0;
    for (const BulkRow& row : rows) {
        use(row);
        auto request = SendPlanNow(plan, *ctx.principal, problems);
        if (!request) {
            if (problems.empty()) {
                problems.push_back({"form", ProblemText(ctx.Language(), request.error().code)});
            }
            for (Violation& v : problems) {
                v.field = "csv line " + std::to_string(sent + 2) + ", " + v.field;
            }
            return JsonAnswer(HttpStatusOf(request.error().code),
                              {{"ok", false},
                               {"message", ctx.T("staff.send.bulk_stopped", {{"sent", sent}})},
                               {"problems", ProblemsJson(problems)}});
        }
        plan.dossier_id = request->dossier_id;
        ++sent;
    }
    return JsonAnswer(200, {{"ok", true},
                            {"message", ctx.T("staff.send.bulk_sent", {{"sent", sent}})},
                            {"location", "/app?tab=progress"}});
}

}  // namespace firmo::web
