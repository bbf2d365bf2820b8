#include "api/views.hpp"

#include "codec/json.hpp"

namespace firmo::api {

using codec::JsonWriter;
using namespace firmo::domain;

namespace {
void PutTime(JsonWriter& w, std::string_view key, Timestamp t) {
    w.Key(key).String(FormatRfc3339(t));
}
void PutTime(JsonWriter& w, std::string_view key, const std::optional<Timestamp>& t) {
    if (t) PutTime(w, key, *t);
}
void PutMetadata(JsonWriter& w, const DocumentMetadata& metadata) {
    w.Raw(codec::ToJson(metadata).dump(-1, ' ', false, codec::Json::error_handler_t::replace));
}
void PutMetadata(JsonWriter& w, const Document& d) {
    if (d.metadata_json.empty()) {
        PutMetadata(w, d.metadata);
    } else {
        w.Raw(d.metadata_json);  // as stored: written by codec::ToJson, read back validated
    }
}
}  // namespace

void WriteDossier(JsonWriter& w, const Dossier& d) {
    w.BeginObject().Member("id", d.id).Member("title", d.title);
    w.Member("support_email", d.support_email);
    w.Member("non_sensitive_title", d.non_sensitive_title);
    w.Key("documents_metadata").BeginArray();
    for (const auto& doc : d.documents) PutMetadata(w, doc);
    w.EndArray();
    PutTime(w, "created_at", d.created_at);
    w.EndObject();
}

void WriteSigner(JsonWriter& w, const Signer& s) {
    w.BeginObject().Member("id", s.id);
    if (s.kind == IdentifierKind::kItFiscalCode) {
        w.Member("fiscal_code", s.identifier);
    } else if (s.kind == IdentifierKind::kNoNationalId) {
        w.Member("national_identity_number", s.identifier).Member("country", "NO");
    }
    w.Member("name", s.full_name).Member("language", s.language);
    w.Member("email", s.email).Member("phone", s.phone);
    PutTime(w, "created_at", s.created_at);
    w.EndObject();
}

void WriteDocument(JsonWriter& w, const Document& d, std::string_view url) {
    w.BeginObject().Member("id", d.id);
    w.Key("metadata");
    PutMetadata(w, d);
    w.Member("status", ToString(d.status));
    if (d.uploaded_at) {
        PutTime(w, "uploaded_at", d.uploaded_at);
        w.Member("size", d.size).Member("sha256", d.sha256_hex);
    }
    if (d.status == DocumentStatus::kReady) w.Member("page_count", d.page_count);
    if (d.signature_count > 0) {
        w.Member("signature_count", d.signature_count);
        w.Member("signed_sha256", d.signed_sha256_hex);
    }
    if (d.status == DocumentStatus::kRejected) {
        w.Member("reject_reason", d.reject_reason);
        w.Key("violations")
            .Raw(codec::ToJson(d.violations)
                     .dump(-1, ' ', false, codec::Json::error_handler_t::replace));
    }
    if (!url.empty()) w.Member("url", url);
    PutTime(w, "created_at", d.created_at);
    PutTime(w, "updated_at", d.updated_at);
    w.EndObject();
}

void WriteRequest(JsonWriter& w, const SignatureRequest& r, const RequestLinks& links) {
    w.BeginObject().Member("id", r.id).Member("status", ToString(r.status));
    w.Member("dossier_id", r.dossier_id);
    w.Member("signer_id", r.signers.empty() ? std::string_view() : r.signers.front().signer_id);
    w.Key("signers").BeginArray();
    for (std::size_t i = 0; i < r.signers.size(); ++i) {
        const RequestSigner& s = r.signers[i];
        w.BeginObject().Member("signer_id", s.signer_id).Member("order", s.order);
        w.Member("status", ToString(s.status));
        w.Member("authentication", ToString(s.authentication));
        if (s.authenticated_with) w.Member("authenticated_with", ToString(*s.authenticated_with));
        PutTime(w, "signed_at", s.signed_at);
        PutTime(w, "rejected_at", s.rejected_at);
        w.Member("reject_reason", s.reject_reason);
        if (s.on_behalf_of == OnBehalfOf::kOther) w.Member("on_behalf_of", "other");
        if (i < links.portal_urls.size()) w.Member("portal_url", links.portal_urls[i]);
        if (i < links.redirect_urls.size()) w.Member("redirect_url", links.redirect_urls[i]);
        w.EndObject();
    }
    w.EndArray();
    PutTime(w, "expires_at", r.expires_at);
    w.Key("documents").BeginArray();
    for (std::size_t i = 0; i < r.documents.size(); ++i) {
        WriteDocument(w, r.documents[i],
                      i < links.document_urls.size() ? links.document_urls[i] : std::string());
    }
    w.EndArray();
    w.Member("identifier_in_signed_documents", ToString(r.identifier_in_signed_documents));
    w.Member("reference", r.reference);
    if (r.auto_notify) w.Member("auto_notify", true);
    w.Member("non_sensitive_title", r.non_sensitive_title);
    if (r.notification_id) {
        w.Key("notification").BeginObject().Member("io_message_id", *r.notification_id);
        w.EndObject();
    }
    w.Member("signing_url", links.signing_url);
    w.Member("qr_code_url", links.qr_code_url);
    const std::string_view qr = links.qr_code_url;
    if (qr.size() > 4) {
        std::string png(qr.substr(0, qr.size() - 4));
        png += ".png";
        w.Member("qr_code_png_url", png);
    }
    PutTime(w, "signed_at", r.signed_at);
    PutTime(w, "rejected_at", r.rejected_at);
    w.Member("reject_reason", r.reject_reason);
    PutTime(w, "cancelled_at", r.cancelled_at);
    PutTime(w, "expired_at", r.expired_at);
    PutTime(w, "activates_at", r.activates_at);
    PutTime(w, "documents_deleted_at", r.documents_deleted_at);
    if (!r.polling_queue.empty()) w.Member("polling_queue", r.polling_queue);
    w.Member("test", r.test);  // made with a test key (docs/API.md "Test keys")
    PutTime(w, "created_at", r.created_at);
    PutTime(w, "updated_at", r.updated_at);
    w.EndObject();
}

void WriteEvent(JsonWriter& w, const AuditEvent& e) {
    w.BeginObject().Member("seq", e.seq);
    PutTime(w, "at", e.at);
    w.Member("type", e.type).Member("actor", e.actor);
    if (!e.from_status.empty()) w.Member("from", e.from_status);
    if (!e.to_status.empty()) w.Member("to", e.to_status);
    if (!e.document_id.empty()) w.Member("document_id", e.document_id);
    if (!e.signer_id.empty()) w.Member("signer_id", e.signer_id);
    if (!e.detail.empty()) w.Member("detail", e.detail);
    w.EndObject();
}

}  // namespace firmo::api
