#pragma once
// Steps shared by the issuer-side and signer-side services: applying an event to a request or
// one of its signers (through the pure transitions, logged in the same transaction), the events
// issuers learn about (polling queue + webhook outbox, same transaction), and the messages
// signers get (inbox, e-mail and SMS through the outbox).

#include <optional>
#include <string>

#include "core/random.hpp"
#include "domain/services/context.hpp"
#include "domain/services/dossier_service.hpp"

namespace firmo::domain {

// Applies `event` to the request and cascades cancel/expire to its waiting signers. Status
// changes issuers care about become events (see RecordEvent); an expiry tells the notified
// signers.
[[nodiscard]] Result<void> ApplyRequestEvent(ServiceContext& ctx, Transaction& tx,
                                             SignatureRequest& request, RequestEvent event,
                                             const std::string& actor, const std::string& detail,
                                             Timestamp now);
[[nodiscard]] Result<void> ApplySignerEvent(ServiceContext& ctx, Transaction& tx,
                                            SignatureRequest& request, std::size_t position,
                                            SignerEvent event, const std::string& actor,
                                            const std::string& detail, Timestamp now,
                                            std::optional<RequestStatus> status_after = {});

// A signer entered too many wrong codes: BLOCKED, and the request, which can no longer
// complete, ends FAILED with the reason (the issuer learns both by event). While the trust
// service signs for another signer (WAIT_FOR_QTSP) the request fails when that settles
// (FailIfBlocked).
[[nodiscard]] Result<void> BlockSigner(ServiceContext& ctx, Transaction& tx,
                                       SignatureRequest& request, std::size_t position,
                                       const std::string& detail, Timestamp now);
[[nodiscard]] Result<void> FailIfBlocked(ServiceContext& ctx, Transaction& tx,
                                         SignatureRequest& request, Timestamp now);

// An event for the issuer ("signature_request.signed", "signer.blocked", "document.rejected",
// ...): one entry in its polling queue and one outbox message per subscribed webhook endpoint,
// all under one event id.
struct EventData {
    std::string signer_id;
    std::string document_id;
    std::string reason;
    // The request's status after the event when the same step changes it next (a signer's
    // signature that completes the request); else the request's current status.
    std::optional<RequestStatus> status;
};
[[nodiscard]] Result<void> RecordEvent(ServiceContext& ctx, Transaction& tx,
                                       const SignatureRequest& request, std::string_view type,
                                       const EventData& data, Timestamp now);

// Every WAITING signer whose turn it is gets "a document to sign": an inbox message (national
// identifiers) and an e-mail / SMS with their link (contact data). Never twice per request.
[[nodiscard]] Result<int> MessageSignersWhoseTurn(ServiceContext& ctx, Transaction& tx,
                                                  const SignatureRequest& request,
                                                  const std::string& title, Timestamp now);
// An e-mail / SMS from `template_name` to one signer of the request (deduplicated by `key`).
[[nodiscard]] Result<int> QueueSignerMessage(ServiceContext& ctx, Transaction& tx,
                                             const SignatureRequest& request, const Signer& signer,
                                             const std::string& template_name,
                                             const std::string& key, const std::string& title,
                                             Timestamp now,
                                             std::optional<Channel> only = std::nullopt);

bool IsTurnOf(const SignatureRequest& request, std::size_t position);

// Whether the request has opened for signing (no activates_at, or it has passed), and the
// signer side's refusal before then (kNotYetActive, saying when it opens).
bool IsActive(const SignatureRequest& request, Timestamp now);
[[nodiscard]] Result<void> CheckActive(const SignatureRequest& request, Timestamp now);
// kDocumentsDeleted once the request's documents were deleted (DELETE or retention).
[[nodiscard]] Result<void> CheckDocumentsKept(const SignatureRequest& request);

// The title e-mails, SMS and the inbox show: the request's non-sensitive title, else the
// dossier's, else the dossier's title.
std::string NotificationTitle(const SignatureRequest& request,
                              const std::optional<Dossier>& dossier);

// A random URL-safe secret (256 bits) for capability tokens.
std::string NewSecretToken(Random& random);

// The language of a signer's messages: the one the issuer gave (`language`), else Italian for
// fiscal codes and +39, Norwegian for NINs and +47, else English.
std::string SignerLanguage(const Signer& signer);
// The country a signer's identifier belongs to: "IT" for a fiscal code, "NO" for a national
// identity number, "" otherwise.
std::string SignerCountry(const Signer& signer);
// The same without the last fallback: "" when neither the issuer nor the identifier's country
// says (the portal then asks the browser's Accept-Language).
std::string KnownSignerLanguage(const Signer& signer);

}  // namespace firmo::domain
