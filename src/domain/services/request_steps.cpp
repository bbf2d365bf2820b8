#include "domain/services/request_steps.hpp"

#include <algorithm>

#include "core/encoding.hpp"
#include "core/ids.hpp"

namespace firmo::domain {

namespace {

std::optional<std::string_view> IssuerEventOf(RequestStatus next) {
    switch (next) {
        case RequestStatus::kReady:
            return "signature_request.ready";
        case RequestStatus::kSigned:
            return "signature_request.signed";
        case RequestStatus::kRejected:
            return "signature_request.rejected";
        case RequestStatus::kCancelled:
            return "signature_request.cancelled";
        case RequestStatus::kExpired:
            return "signature_request.expired";
        case RequestStatus::kFailed:
            return "signature_request.failed";
        default:
            return std::nullopt;
    }
}

std::optional<std::string_view> IssuerEventOf(SignerStatus next) {
    switch (next) {
        case SignerStatus::kSigned:
            return "signer.signed";
        case SignerStatus::kRejected:
            return "signer.rejected";
        case SignerStatus::kBlocked:
            return "signer.blocked";
        default:
            return std::nullopt;
    }
}

// The request ended unsigned: every WAITING signer gets a final status. Those whose turn had
// come follow the request (CANCELLED, EXPIRED); the others, and everyone when another signer
// rejected or was blocked or signing failed, are NOT_APPLICABLE (as Posten signering). Turns
// are decided before anyone moves, since a signer's new status changes whose turn it is.
Result<void> EndWaitingSigners(ServiceContext& ctx, Transaction& tx, SignatureRequest& request,
                               RequestStatus ended, const std::string& actor, Timestamp now) {
    std::vector<bool> turn(request.signers.size());
    for (std::size_t i = 0; i < request.signers.size(); ++i) turn[i] = IsTurnOf(request, i);
    for (std::size_t i = 0; i < request.signers.size(); ++i) {
        if (IsTerminal(request.signers[i].status)) continue;
        SignerEvent event = SignerEvent::kNotApplicable;
        if (turn[i] && ended == RequestStatus::kCancelled) event = SignerEvent::kCancel;
        if (turn[i] && ended == RequestStatus::kExpired) event = SignerEvent::kExpire;
        const bool told = turn[i] && request.notification_id;
        if (told && (ended == RequestStatus::kExpired || ended == RequestStatus::kCancelled)) {
            // The signers who were told about it learn that it expired or was cancelled (and
            // nothing else reaches them: the outbox withdraws what asks them to act).
            const std::string notice = ended == RequestStatus::kExpired ? "expired" : "cancelled";
            FIRMO_TRY(auto signer,
                      tx.signers().Find(request.issuer_id, request.signers[i].signer_id));
            if (signer) {
                FIRMO_CHECK(QueueSignerMessage(ctx, tx, request, *signer, notice,
                                               notice + "-" + request.id, "", now));
            }
        }
        FIRMO_CHECK(ApplySignerEvent(ctx, tx, request, i, event, actor, "", now));
    }
    return {};
}

}  // namespace

Result<void> ApplyRequestEvent(ServiceContext& ctx, Transaction& tx, SignatureRequest& request,
                               RequestEvent event, const std::string& actor,
                               const std::string& detail, Timestamp now) {
    FIRMO_TRY(RequestStatus next, Transition(request.status, event));
    FIRMO_CHECK(tx.audit().Append(AuditEvent{0, request.id, now, std::string(ToString(event)),
                                             std::string(ToString(request.status)),
                                             std::string(ToString(next)), "", "", actor, detail}));
    request.status = next;
    request.updated_at = now;
    switch (next) {
        case RequestStatus::kCancelled:
            request.cancelled_at = now;
            break;
        case RequestStatus::kExpired:
            request.expired_at = now;
            break;
        case RequestStatus::kSigned:
            request.signed_at = now;
            break;
        case RequestStatus::kRejected:
            request.rejected_at = now;
            break;
        default:
            break;
    }
    if (IsTerminal(next) && next != RequestStatus::kSigned) {
        FIRMO_CHECK(EndWaitingSigners(ctx, tx, request, next, actor, now));
    }
    if (auto type = IssuerEventOf(next)) {
        EventData data{"", "",
                       next == RequestStatus::kRejected && request.reject_reason
                           ? *request.reject_reason
                           : detail};
        if (next == RequestStatus::kRejected || event == RequestEvent::kSignerBlocked) {
            // docs/WEBHOOKS.md: signature_request.rejected names the signer who rejected,
            // signature_request.failed the blocked signer.
            const SignerStatus cause =
                next == RequestStatus::kRejected ? SignerStatus::kRejected : SignerStatus::kBlocked;
            for (const auto& s : request.signers) {
                if (s.status == cause) data.signer_id = s.signer_id;
            }
        }
        FIRMO_CHECK(RecordEvent(ctx, tx, request, *type, data, now));
    }
    return {};
}

Result<void> ApplySignerEvent(ServiceContext& ctx, Transaction& tx, SignatureRequest& request,
                              std::size_t position, SignerEvent event, const std::string& actor,
                              const std::string& detail, Timestamp now,
                              std::optional<RequestStatus> status_after) {
    RequestSigner& signer = request.signers[position];
    FIRMO_TRY(SignerStatus next, Transition(signer.status, event));
    FIRMO_CHECK(tx.audit().Append(AuditEvent{
        0, request.id, now, std::string(ToString(event)), std::string(ToString(signer.status)),
        std::string(ToString(next)), "", signer.signer_id, actor, detail}));
    signer.status = next;
    if (next == SignerStatus::kSigned) signer.signed_at = now;
    if (next == SignerStatus::kRejected) signer.rejected_at = now;
    request.updated_at = now;
    if (auto type = IssuerEventOf(next)) {
        // The issuer gets the signer's own reason, not the audit detail (IP address, browser).
        const std::string& reason = next == SignerStatus::kRejected && signer.reject_reason
                                        ? *signer.reject_reason
                                        : detail;
        FIRMO_CHECK(RecordEvent(ctx, tx, request, *type,
                                EventData{signer.signer_id, "", reason, status_after}, now));
    }
    return {};
}

Result<void> BlockSigner(ServiceContext& ctx, Transaction& tx, SignatureRequest& request,
                         std::size_t position, const std::string& detail, Timestamp now) {
    std::optional<RequestStatus> status_after;
    if (auto next = Transition(request.status, RequestEvent::kSignerBlocked)) status_after = *next;
    FIRMO_CHECK(ApplySignerEvent(ctx, tx, request, position, SignerEvent::kBlock, "system", detail,
                                 now, status_after));
    return FailIfBlocked(ctx, tx, request, now);
}

Result<void> FailIfBlocked(ServiceContext& ctx, Transaction& tx, SignatureRequest& request,
                           Timestamp now) {
    if (!Transition(request.status, RequestEvent::kSignerBlocked)) return {};
    for (const auto& s : request.signers) {
        if (s.status != SignerStatus::kBlocked) continue;
        return ApplyRequestEvent(
            ctx, tx, request, RequestEvent::kSignerBlocked, "system",
            "signer " + s.signer_id + " is blocked: too many wrong one-time codes", now);
    }
    return {};
}

Result<void> RecordEvent(ServiceContext& ctx, Transaction& tx, const SignatureRequest& request,
                         std::string_view type, const EventData& data, Timestamp now) {
    const std::string event_id = "evt_" + NewUlid(now, ctx.random);
    std::string body = "{\"id\":";
    // Built by hand: the domain has no JSON library. Every value is escaped.
    body += JsonQuote(event_id) + ",\"type\":" + JsonQuote(type) +
            ",\"created_at\":" + JsonQuote(FormatRfc3339(now)) + ",\"data\":{" +
            "\"signature_request_id\":" + JsonQuote(request.id) +
            ",\"status\":" + JsonQuote(ToString(data.status.value_or(request.status)));
    if (request.reference) body += ",\"reference\":" + JsonQuote(*request.reference);
    if (!data.signer_id.empty()) body += ",\"signer_id\":" + JsonQuote(data.signer_id);
    if (!data.document_id.empty()) body += ",\"document_id\":" + JsonQuote(data.document_id);
    if (!data.reason.empty()) body += ",\"reason\":" + JsonQuote(data.reason);
    if (request.test) body += ",\"test\":true";  // live requests' events stay as they were
    body += "}}";
    FIRMO_CHECK(tx.status_changes().Insert(
        StatusChange{0, request.issuer_id, event_id, std::string(type), request.id, body, now, now,
                     StoredPollingQueue(request.polling_queue, request.test)}));
    FIRMO_TRY(auto endpoints, tx.webhooks().List(request.issuer_id));
    for (const auto& endpoint : endpoints) {
        const bool subscribed = endpoint.events.empty() ||
                                std::find(endpoint.events.begin(), endpoint.events.end(), type) !=
                                    endpoint.events.end();
        if (!subscribed) continue;
        OutboxMessage m;
        m.event_id = event_id;
        m.issuer_id = request.issuer_id;
        m.request_id = request.id;
        m.channel = Channel::kWebhook;
        m.destination = endpoint.url;
        m.template_name = std::string(type);
        m.payload_json = body;
        m.endpoint_id = endpoint.id;
        m.created_at = now;
        m.next_attempt_at = now;
        FIRMO_CHECK(tx.outbox().Insert(m));
    }
    return {};
}

std::string SignerCountry(const Signer& signer) {
    if (signer.kind == IdentifierKind::kItFiscalCode) return "IT";
    if (signer.kind == IdentifierKind::kNoNationalId) return "NO";
    return "";
}

std::string KnownSignerLanguage(const Signer& signer) {
    if (signer.language) return *signer.language;
    if (signer.kind == IdentifierKind::kItFiscalCode) return "it";
    if (signer.kind == IdentifierKind::kNoNationalId) return "nb";
    if (signer.phone && signer.phone->starts_with("+39")) return "it";
    if (signer.phone && signer.phone->starts_with("+47")) return "nb";
    return "";
}

std::string SignerLanguage(const Signer& signer) {
    std::string language = KnownSignerLanguage(signer);
    return language.empty() ? "en" : language;
}

Result<int> QueueSignerMessage(ServiceContext& ctx, Transaction& tx,
                               const SignatureRequest& request, const Signer& signer,
                               const std::string& template_name, const std::string& key,
                               const std::string& title, Timestamp now,
                               std::optional<Channel> only) {
    const auto& settings = ctx.notifications;
    if (!settings.signer_link) return 0;
    FIRMO_TRY(auto issuer, tx.issuers().Find(request.issuer_id));
    std::string dossier_title = title;
    if (dossier_title.empty()) {
        FIRMO_TRY(auto dossier, tx.dossiers().Find(request.issuer_id, request.dossier_id));
        dossier_title = NotificationTitle(request, dossier);
    }
    const std::string payload =
        "{\"issuer\":" + JsonQuote(issuer ? issuer->name : "") +
        ",\"title\":" + JsonQuote(dossier_title) +
        ",\"link\":" + JsonQuote(settings.signer_link(request, signer.id)) +
        ",\"expires_at\":" + JsonQuote(FormatRfc3339(request.expires_at)) +
        (settings.signer_zone ? ",\"zone\":" + JsonQuote(settings.signer_zone(signer))
                              : std::string()) +
        // Who is writing, and how to reach them (issue 16): shown in the message.
        (issuer ? ",\"support_email\":" + JsonQuote(issuer->email) +
                      ",\"support_url\":" + JsonQuote(issuer->support_url) +
                      ",\"brand_color\":" + JsonQuote(issuer->brand_color) + ",\"logo_url\":" +
                      JsonQuote(settings.issuer_logo ? settings.issuer_logo(*issuer) : "")
                : std::string()) +
        "}";
    int queued = 0;
    const auto queue = [&](Channel channel, const std::string& to) -> Result<void> {
        if (only && *only != channel) return {};
        OutboxMessage m;
        m.event_id = key + "-" + signer.id;
        m.issuer_id = request.issuer_id;
        m.request_id = request.id;
        m.channel = channel;
        m.destination = to;
        m.template_name = template_name;
        m.language = SignerLanguage(signer);
        m.payload_json = payload;
        m.created_at = now;
        m.next_attempt_at = now;
        FIRMO_TRY(bool inserted, tx.outbox().Insert(m));
        if (inserted) {
            ++queued;
            FIRMO_CHECK(tx.audit().Append(
                AuditEvent{0, request.id, now, "notification.queued", "", "", "", signer.id,
                           "system", template_name + " by " + std::string(ToString(channel))}));
        }
        return {};
    };
    if (settings.email && signer.email) FIRMO_CHECK(queue(Channel::kEmail, *signer.email));
    if (settings.sms && signer.phone) FIRMO_CHECK(queue(Channel::kSms, *signer.phone));
    return queued;
}

std::string NotificationTitle(const SignatureRequest& request,
                              const std::optional<Dossier>& dossier) {
    if (request.non_sensitive_title) return *request.non_sensitive_title;
    if (!dossier) return "";
    return dossier->non_sensitive_title.value_or(dossier->title);
}

bool IsTurnOf(const SignatureRequest& request, std::size_t position) {
    const int order = request.signers[position].order;
    for (const auto& s : request.signers) {
        if (s.order < order && s.status != SignerStatus::kSigned) return false;
    }
    return true;
}

Result<int> MessageSignersWhoseTurn(ServiceContext& ctx, Transaction& tx,
                                    const SignatureRequest& request, const std::string& title,
                                    Timestamp now) {
    Random& random = ctx.random;
    int sent = 0;
    for (std::size_t i = 0; i < request.signers.size(); ++i) {
        const RequestSigner& rs = request.signers[i];
        if (rs.status != SignerStatus::kWaiting || !IsTurnOf(request, i)) continue;
        FIRMO_TRY(auto signer, tx.signers().Find(request.issuer_id, rs.signer_id));
        if (!signer) continue;
        FIRMO_TRY(int queued, QueueSignerMessage(ctx, tx, request, *signer, "sign_request",
                                                 "sign-request-" + request.id, title, now));
        sent += queued;
        if (!IsNationalIdentifier(signer->kind)) continue;
        if (request.test) {
            // A test request never reaches a person's eID inbox (docs/API.md "Test keys").
            FIRMO_CHECK(tx.audit().Append(
                AuditEvent{0, request.id, now, "message.not_sent", "", "", "", rs.signer_id,
                           "system", "inbox: a document to sign; not sent: test request"}));
            continue;
        }
        FIRMO_TRY(bool has, tx.inbox().Has(request.id, rs.signer_id, MessageKind::kSignRequest));
        if (has) continue;
        InboxMessage m;
        m.id = NewUlid(now, random);
        m.identity_kind = signer->kind;
        m.identity = signer->identifier;
        m.issuer_id = request.issuer_id;
        m.request_id = request.id;
        m.signer_id = rs.signer_id;
        m.kind = MessageKind::kSignRequest;
        m.title = title;
        m.created_at = now;
        FIRMO_CHECK(tx.inbox().Insert(m));
        FIRMO_CHECK(
            tx.audit().Append(AuditEvent{0, request.id, now, "message.sent", "", "", "",
                                         rs.signer_id, "system", "inbox: a document to sign"}));
        ++sent;
    }
    return sent;
}

bool IsActive(const SignatureRequest& request, Timestamp now) {
    return !request.activates_at || now >= *request.activates_at;
}

Result<void> CheckActive(const SignatureRequest& request, Timestamp now) {
    if (IsActive(request, now)) return {};
    return Fail(ErrorCode::kNotYetActive,
                "this request opens for signing at " + FormatRfc3339(*request.activates_at));
}

Result<void> CheckDocumentsKept(const SignatureRequest& request) {
    if (!request.documents_deleted_at) return {};
    return Fail(ErrorCode::kDocumentsDeleted, "the documents of this request were deleted at " +
                                                  FormatRfc3339(*request.documents_deleted_at));
}

std::string NewSecretToken(Random& random) { return Base64UrlEncode(random.Bytes(32)); }

}  // namespace firmo::domain
