#include "domain/services/request_steps.hpp"

#include "core/encoding.hpp"
#include "core/ids.hpp"

namespace firmo::domain {

Result<void> ApplyRequestEvent(Transaction& tx, SignatureRequest& request, RequestEvent event,
                               const std::string& actor, const std::string& detail, Timestamp now) {
    FIRMO_TRY(RequestStatus next, Transition(request.status, event));
    FIRMO_CHECK(tx.AppendEvent(AuditEvent{0, request.id, now, std::string(ToString(event)),
                                          std::string(ToString(request.status)),
                                          std::string(ToString(next)), "", "", actor, detail}));
    request.status = next;
    request.updated_at = now;
    std::optional<SignerEvent> cascade;
    switch (next) {
        case RequestStatus::kCancelled:
            request.cancelled_at = now;
            cascade = SignerEvent::kCancel;
            break;
        case RequestStatus::kExpired:
            request.expired_at = now;
            cascade = SignerEvent::kExpire;
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
    if (cascade) {
        for (std::size_t i = 0; i < request.signers.size(); ++i) {
            if (IsTerminal(request.signers[i].status)) continue;
            FIRMO_CHECK(ApplySignerEvent(tx, request, i, *cascade, actor, "", now));
        }
    }
    return {};
}

Result<void> ApplySignerEvent(Transaction& tx, SignatureRequest& request, std::size_t position,
                              SignerEvent event, const std::string& actor,
                              const std::string& detail, Timestamp now) {
    RequestSigner& signer = request.signers[position];
    FIRMO_TRY(SignerStatus next, Transition(signer.status, event));
    FIRMO_CHECK(tx.AppendEvent(AuditEvent{
        0, request.id, now, std::string(ToString(event)), std::string(ToString(signer.status)),
        std::string(ToString(next)), "", signer.signer_id, actor, detail}));
    signer.status = next;
    if (next == SignerStatus::kSigned) signer.signed_at = now;
    if (next == SignerStatus::kRejected) signer.rejected_at = now;
    request.updated_at = now;
    return {};
}

bool IsTurnOf(const SignatureRequest& request, std::size_t position) {
    const int order = request.signers[position].order;
    for (const auto& s : request.signers) {
        if (s.order < order && s.status != SignerStatus::kSigned) return false;
    }
    return true;
}

Result<int> MessageSignersWhoseTurn(Transaction& tx, const SignatureRequest& request,
                                    const std::string& title, Timestamp now, Random& random) {
    int sent = 0;
    for (std::size_t i = 0; i < request.signers.size(); ++i) {
        const RequestSigner& rs = request.signers[i];
        if (rs.status != SignerStatus::kWaiting || !IsTurnOf(request, i)) continue;
        FIRMO_TRY(auto signer, tx.FindSigner(request.issuer_id, rs.signer_id));
        if (!signer || !IsNationalIdentifier(signer->kind)) continue;
        FIRMO_TRY(bool has, tx.HasMessage(request.id, rs.signer_id, MessageKind::kSignRequest));
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
        FIRMO_CHECK(tx.InsertMessage(m));
        FIRMO_CHECK(
            tx.AppendEvent(AuditEvent{0, request.id, now, "message.sent", "", "", "", rs.signer_id,
                                      "system", "inbox: a document to sign"}));
        ++sent;
    }
    return sent;
}

std::string NewSecretToken(Random& random) { return Base64UrlEncode(random.Bytes(32)); }

}  // namespace firmo::domain
