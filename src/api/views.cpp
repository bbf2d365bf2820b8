#include "api/views.hpp"

namespace firmo::api {

using codec::Json;
using namespace firmo::domain;

namespace {
void PutTime(Json& j, const char* key, const std::optional<Timestamp>& t) {
    if (t) j[key] = FormatRfc3339(*t);
}
}  // namespace

Json DossierView(const Dossier& d) {
    Json docs = Json::array();
    for (const auto& doc : d.documents) docs.push_back(codec::ToJson(doc));
    Json j = {{"id", d.id},
              {"title", d.title},
              {"support_email", d.support_email},
              {"documents_metadata", std::move(docs)},
              {"created_at", FormatRfc3339(d.created_at)}};
    if (d.non_sensitive_title) j["non_sensitive_title"] = *d.non_sensitive_title;
    return j;
}

Json SignerView(const Signer& s) {
    Json j = {{"id", s.id}, {"created_at", FormatRfc3339(s.created_at)}};
    if (s.kind == IdentifierKind::kItFiscalCode) {
        j["fiscal_code"] = s.identifier;
    } else if (s.kind == IdentifierKind::kNoNationalId) {
        j["national_identity_number"] = s.identifier;
        j["country"] = "NO";
    }
    if (s.full_name) j["name"] = *s.full_name;
    if (s.language) j["language"] = *s.language;
    if (s.email) j["email"] = *s.email;
    if (s.phone) j["phone"] = *s.phone;
    return j;
}

Json DocumentView(const Document& d) {
    Json j = {{"id", d.id},
              {"metadata", codec::ToJson(d.metadata)},
              {"status", std::string(ToString(d.status))},
              {"created_at", FormatRfc3339(d.created_at)},
              {"updated_at", FormatRfc3339(d.updated_at)}};
    PutTime(j, "uploaded_at", d.uploaded_at);
    if (d.uploaded_at) {
        j["size"] = d.size;
        j["sha256"] = d.sha256_hex;
    }
    if (d.status == DocumentStatus::kReady) j["page_count"] = d.page_count;
    if (d.signature_count > 0) {
        j["signature_count"] = d.signature_count;
        j["signed_sha256"] = d.signed_sha256_hex;
    }
    if (d.status == DocumentStatus::kRejected) {
        j["reject_reason"] = d.reject_reason;
        j["violations"] = codec::ToJson(d.violations);
    }
    return j;
}

Json RequestView(const SignatureRequest& r) {
    Json signers = Json::array();
    for (const auto& s : r.signers) {
        Json js = {{"signer_id", s.signer_id},
                   {"order", s.order},
                   {"status", std::string(ToString(s.status))},
                   {"authentication", std::string(ToString(s.authentication))}};
        if (s.authenticated_with) {
            js["authenticated_with"] = std::string(ToString(*s.authenticated_with));
        }
        PutTime(js, "signed_at", s.signed_at);
        PutTime(js, "rejected_at", s.rejected_at);
        if (s.reject_reason) js["reject_reason"] = *s.reject_reason;
        if (s.on_behalf_of == OnBehalfOf::kOther) js["on_behalf_of"] = "other";
        signers.push_back(std::move(js));
    }
    Json documents = Json::array();
    for (const auto& d : r.documents) documents.push_back(DocumentView(d));
    Json j = {
        {"id", r.id},
        {"status", std::string(ToString(r.status))},
        {"dossier_id", r.dossier_id},
        {"signer_id", r.signers.empty() ? std::string() : r.signers.front().signer_id},
        {"signers", std::move(signers)},
        {"expires_at", FormatRfc3339(r.expires_at)},
        {"documents", std::move(documents)},
        {"identifier_in_signed_documents", std::string(ToString(r.identifier_in_signed_documents))},
        {"created_at", FormatRfc3339(r.created_at)},
        {"updated_at", FormatRfc3339(r.updated_at)}};
    if (r.reference) j["reference"] = *r.reference;
    if (r.auto_notify) j["auto_notify"] = true;
    if (r.non_sensitive_title) j["non_sensitive_title"] = *r.non_sensitive_title;
    PutTime(j, "signed_at", r.signed_at);
    PutTime(j, "rejected_at", r.rejected_at);
    if (r.reject_reason) j["reject_reason"] = *r.reject_reason;
    PutTime(j, "cancelled_at", r.cancelled_at);
    PutTime(j, "expired_at", r.expired_at);
    PutTime(j, "activates_at", r.activates_at);
    PutTime(j, "documents_deleted_at", r.documents_deleted_at);
    if (!r.polling_queue.empty()) j["polling_queue"] = r.polling_queue;
    return j;
}

Json EventView(const AuditEvent& e) {
    Json j = {{"seq", e.seq}, {"at", FormatRfc3339(e.at)}, {"type", e.type}, {"actor", e.actor}};
    if (!e.from_status.empty()) j["from"] = e.from_status;
    if (!e.to_status.empty()) j["to"] = e.to_status;
    if (!e.document_id.empty()) j["document_id"] = e.document_id;
    if (!e.signer_id.empty()) j["signer_id"] = e.signer_id;
    if (!e.detail.empty()) j["detail"] = e.detail;
    return j;
}

}  // namespace firmo::api
