#include "store/sql/rows.hpp"

#include "codec/json.hpp"

namespace firmo::store::sql {

using namespace firmo::domain;

namespace {

// An enum column: the parsed value, or kInternal naming what was found.
template <typename T>
Result<T> Parsed(std::optional<T> value, const char* what, const std::string& text) {
    if (!value) return Fail(ErrorCode::kInternal, std::string("corrupt ") + what + ": " + text);
    return *value;
}

}  // namespace

Issuer ReadIssuer(const Row& r) {
    return Issuer{r.Text(0), r.Text(1), r.Text(2), r.Time(3),
                  r.Text(4), r.Text(5), r.Text(6), r.Text(7)};
}

ApiKey ReadApiKey(const Row& r) {
    return ApiKey{.id = r.Text(0),
                  .issuer_id = r.Text(1),
                  .key_hash = r.Text(2),
                  .prefix = r.Text(3),
                  .created_at = r.Time(4),
                  .revoked_at = r.OptTime(5),
                  .label = r.Text(6),
                  .expires_at = r.OptTime(7),
                  .allowed_ips = r.Text(8),
                  .last_used_at = r.OptTime(9),
                  .last_used_ip = r.Text(10),
                  .test = r.Bool(11)};
}

Result<Dossier> ReadDossier(const Row& r) {
    FIRMO_TRY(auto docs, codec::DocumentsMetadataFromText(r.Text(4)));
    return Dossier{r.Text(0),       r.Text(1), r.Text(2),   r.Text(3),
                   std::move(docs), r.Time(5), r.OptText(6)};
}

void BindDossier(Query& q, const Dossier& d) {
    codec::Json docs = codec::Json::array();
    for (const auto& doc : d.documents) docs.push_back(codec::ToJson(doc));
    q.Bind(d.id, d.issuer_id, d.title, d.support_email, docs.dump(), d.created_at,
           d.non_sensitive_title);
}

Result<Signer> ReadSigner(const Row& r) {
    FIRMO_TRY(auto kind, Parsed(ParseIdentifierKind(r.Text(2)), "signer kind", r.Text(2)));
    return Signer{r.Text(0),    r.Text(1), kind,      r.Text(3),    r.OptText(4),
                  r.OptText(5), r.Time(6), r.Time(7), r.OptText(8), r.OptText(9)};
}

void BindSigner(Query& q, const Signer& s) {
    q.Bind(s.id, s.issuer_id, ToString(s.kind), s.identifier, s.email, s.phone, s.created_at,
           s.updated_at, s.full_name, s.language);
}

Result<SignatureRequest> ReadRequest(const Row& r) {
    SignatureRequest x;
    x.id = r.Text(0);
    x.issuer_id = r.Text(1);
    x.dossier_id = r.Text(2);
    FIRMO_TRY(x.status, Parsed(ParseRequestStatus(r.Text(3)), "request status", r.Text(3)));
    x.expires_at = r.Time(4);
    x.reference = r.OptText(5);
    x.created_at = r.Time(6);
    x.updated_at = r.Time(7);
    x.signed_at = r.OptTime(8);
    x.rejected_at = r.OptTime(9);
    x.reject_reason = r.OptText(10);
    x.cancelled_at = r.OptTime(11);
    x.expired_at = r.OptTime(12);
    if (auto text = r.OptText(13)) x.redirect = codec::RedirectUrlsFromText(*text);
    x.notification_id = r.OptText(14);
    x.auto_notify = r.Bool(15);
    FIRMO_TRY(x.identifier_in_signed_documents,
              Parsed(ParseIdentifierInSignedDocuments(r.Text(16)), "identifier_in_signed_documents",
                     r.Text(16)));
    x.non_sensitive_title = r.OptText(17);
    x.activates_at = r.OptTime(18);
    x.documents_deleted_at = r.OptTime(19);
    x.polling_queue = r.Text(20);
    x.test = r.Bool(21);
    return x;
}

void BindRequest(Query& q, const SignatureRequest& r) {
    std::optional<std::string> redirect;
    if (r.redirect) redirect = codec::ToJson(*r.redirect).dump();
    q.Bind(r.id, r.issuer_id, r.dossier_id, ToString(r.status), r.expires_at, r.reference,
           r.created_at, r.updated_at, r.signed_at, r.rejected_at, r.reject_reason, r.cancelled_at,
           r.expired_at, redirect, r.notification_id, r.auto_notify,
           ToString(r.identifier_in_signed_documents), r.non_sensitive_title, r.activates_at,
           r.documents_deleted_at, r.polling_queue, r.test);
}

Result<RequestSigner> ReadRequestSigner(const Row& r) {
    RequestSigner x;
    x.signer_id = r.Text(0);
    x.order = r.SmallInt(1);
    FIRMO_TRY(x.status, Parsed(ParseSignerStatus(r.Text(2)), "signer status", r.Text(2)));
    x.signed_at = r.OptTime(3);
    x.rejected_at = r.OptTime(4);
    x.accepted_fields = codec::FieldRefsFromText(r.Text(5));
    x.accepted_at = r.OptTime(6);
    x.confirmed_at = r.OptTime(7);
    x.signing_name = r.Text(8);
    x.failed_code_attempts = r.SmallInt(9);
    x.reject_reason = r.OptText(10);
    FIRMO_TRY(x.authentication,
              Parsed(ParseAuthLevel(r.Text(11)), "authentication level", r.Text(11)));
    if (auto reached = r.OptText(12)) {
        FIRMO_TRY(x.authenticated_with,
                  Parsed(ParseAuthLevel(*reached), "authentication level", *reached));
    }
    FIRMO_TRY(x.on_behalf_of, Parsed(ParseOnBehalfOf(r.Text(13)), "on_behalf_of", r.Text(13)));
    return x;
}

void BindRequestSigner(Query& q, const std::string& request_id, int position,
                       const RequestSigner& s) {
    q.Bind(request_id, position, s.signer_id, s.order, ToString(s.status), s.signed_at,
           s.rejected_at, codec::ToJson(s.accepted_fields).dump(), s.accepted_at, s.confirmed_at,
           s.signing_name, s.failed_code_attempts, s.reject_reason, ToString(s.authentication),
           s.authenticated_with ? std::optional<std::string_view>(ToString(*s.authenticated_with))
                                : std::nullopt,
           ToString(s.on_behalf_of));
}

Result<Document> ReadDocument(const Row& r) {
    Document d;
    d.id = r.Text(0);
    d.index = r.SmallInt(1);
    d.metadata_json = r.Text(2);
    FIRMO_TRY(d.metadata, codec::DocumentMetadataFromText(d.metadata_json));
    FIRMO_TRY(d.status, Parsed(ParseDocumentStatus(r.Text(3)), "document status", r.Text(3)));
    d.reject_reason = r.Text(4);
    d.violations = codec::ViolationsFromJson(codec::Json::parse(r.Text(5), nullptr, false));
    d.upload_generation = r.Int(6);
    d.blob_key = r.OptText(7);
    d.size = r.Int(8);
    d.sha256_hex = r.Text(9);
    d.page_count = r.SmallInt(10);
    d.created_at = r.Time(11);
    d.updated_at = r.Time(12);
    d.uploaded_at = r.OptTime(13);
    d.signed_blob_key = r.OptText(14);
    d.signed_size = r.Int(15);
    d.signed_sha256_hex = r.Text(16);
    d.signature_count = r.SmallInt(17);
    return d;
}

void BindDocument(Query& q, const std::string& request_id, const Document& d) {
    q.Bind(request_id, d.id, d.index,
           d.metadata_json.empty() ? codec::ToJson(d.metadata).dump() : d.metadata_json,
           ToString(d.status), d.reject_reason, codec::ToJson(d.violations).dump(),
           d.upload_generation, d.blob_key, d.size, d.sha256_hex, d.page_count, d.created_at,
           d.updated_at, d.uploaded_at, d.signed_blob_key, d.signed_size, d.signed_sha256_hex,
           d.signature_count);
}

AuditEvent ReadEvent(const Row& r) {
    return AuditEvent{r.Int(0),  r.Text(1), r.Time(2), r.Text(3), r.Text(4),
                      r.Text(5), r.Text(6), r.Text(7), r.Text(8), r.Text(9)};
}

Result<Job> ReadJob(const Row& r) {
    FIRMO_TRY(auto kind, Parsed(ParseJobKind(r.Text(1)), "job kind", r.Text(1)));
    return Job{r.Int(0),  kind,      r.Text(2), r.Text(3),  r.Text(4),  r.Int(5),  r.SmallInt(6),
               r.Time(7), r.Text(8), r.Text(9), r.Text(10), r.Time(11), r.Time(12)};
}

IdempotencyRecord ReadIdempotency(const Row& r) {
    return IdempotencyRecord{r.Text(0), r.Text(1), r.Text(2), r.SmallInt(3),
                             r.Text(4), r.Text(5), r.Time(6)};
}

PortalSession ReadSession(const Row& r) {
    PortalSession x;
    x.id_hash = r.Text(0);
    x.csrf_token = r.Text(1);
    x.auth_method = r.Text(2);
    if (auto kind = r.OptText(3)) x.identity_kind = ParseIdentifierKind(*kind);
    x.identity = r.Text(4);
    x.full_name = r.Text(5);
    x.request_id = r.Text(6);
    x.signer_id = r.Text(7);
    x.authenticated_at = r.OptTime(8);
    x.reauthenticated_at = r.OptTime(9);
    x.pending_json = r.Text(10);
    x.created_at = r.Time(11);
    x.expires_at = r.Time(12);
    x.ip = r.Text(13);
    x.user_agent = r.Text(14);
    if (auto level = r.OptText(15)) x.eid_level = ParseAuthLevel(*level);
    return x;
}

void BindSession(Query& q, const PortalSession& s) {
    std::optional<std::string_view> kind;
    if (s.identity_kind) kind = ToString(*s.identity_kind);
    q.Bind(s.id_hash, s.csrf_token, s.auth_method, kind, s.identity, s.full_name, s.request_id,
           s.signer_id, s.authenticated_at, s.reauthenticated_at, s.pending_json, s.created_at,
           s.expires_at, s.ip, s.user_agent,
           s.eid_level ? std::optional<std::string_view>(ToString(*s.eid_level)) : std::nullopt);
}

Result<OneTimeCode> ReadCode(const Row& r) {
    FIRMO_TRY(auto kind, Parsed(ParseCodeKind(r.Text(3)), "code kind", r.Text(3)));
    return OneTimeCode{r.Text(0), r.Text(1), r.Text(2), kind,
                       r.Text(4), r.Time(5), r.Time(6), r.OptTime(7)};
}

Result<SignerToken> ReadSignerToken(const Row& r) {
    FIRMO_TRY(auto kind, Parsed(ParseSignerTokenKind(r.Text(1)), "signer token kind", r.Text(1)));
    return SignerToken{r.Text(0), kind, r.Text(2), r.Text(3), r.Time(4), r.Time(5), r.OptTime(6)};
}

Result<InboxMessage> ReadMessage(const Row& r) {
    InboxMessage m;
    m.id = r.Text(0);
    FIRMO_TRY(m.identity_kind, Parsed(ParseIdentifierKind(r.Text(1)), "identity kind", r.Text(1)));
    m.identity = r.Text(2);
    m.issuer_id = r.Text(3);
    m.request_id = r.Text(4);
    m.signer_id = r.Text(5);
    FIRMO_TRY(m.kind, Parsed(ParseMessageKind(r.Text(6)), "message kind", r.Text(6)));
    m.title = r.Text(7);
    m.created_at = r.Time(8);
    m.read_at = r.OptTime(9);
    return m;
}

Result<OutboxMessage> ReadOutbox(const Row& r) {
    OutboxMessage m;
    m.id = r.Int(0);
    m.event_id = r.Text(1);
    m.issuer_id = r.Text(2);
    m.request_id = r.Text(3);
    FIRMO_TRY(m.channel, Parsed(ParseChannel(r.Text(4)), "outbox channel", r.Text(4)));
    m.destination = r.Text(5);
    m.template_name = r.Text(6);
    m.language = r.Text(7);
    m.payload_json = r.Text(8);
    m.endpoint_id = r.Text(9);
    m.attempts = r.SmallInt(10);
    m.created_at = r.Time(11);
    m.next_attempt_at = r.Time(12);
    m.delivered_at = r.OptTime(13);
    m.abandoned_at = r.OptTime(14);
    m.last_error = r.Text(15);
    m.last_response = r.Text(16);
    return m;
}

void BindOutbox(Query& q, const OutboxMessage& m) {
    q.Bind(m.event_id, m.issuer_id, m.request_id, ToString(m.channel), m.destination,
           m.template_name, m.language, m.payload_json, m.endpoint_id, m.created_at,
           m.next_attempt_at);
}

WebhookEndpoint ReadWebhook(const Row& r) {
    WebhookEndpoint w;
    w.id = r.Text(0);
    w.issuer_id = r.Text(1);
    w.url = r.Text(2);
    w.secret = r.Text(3);
    const auto events = codec::Json::parse(r.Text(4), nullptr, false);
    if (events.is_array()) {
        for (const auto& e : events) {
            if (e.is_string()) w.events.push_back(e.get<std::string>());
        }
    }
    w.created_at = r.Time(5);
    return w;
}

void BindWebhook(Query& q, const WebhookEndpoint& w) {
    codec::Json events = codec::Json::array();
    for (const auto& e : w.events) events.push_back(e);
    q.Bind(w.id, w.issuer_id, w.url, w.secret, events.dump(), w.created_at);
}

StatusChange ReadStatusChange(const Row& r) {
    return StatusChange{r.Int(0),  r.Text(1), r.Text(2), r.Text(3), r.Text(4),
                        r.Text(5), r.Time(6), r.Time(7), r.Text(8)};
}

RateLimitCount ReadRateLimitCount(const Row& r) {
    return RateLimitCount{r.Time(0), r.Int(1), r.Int(2)};
}

}  // namespace firmo::store::sql
