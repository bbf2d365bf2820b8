#pragma once
// Row mapping, written once for every SQL backend: one reader per entity over the
// dialect-neutral Row (driver.hpp), reading the columns in the order of the FIRMO_*_COLUMNS
// lists of statements.hpp, and the binders of the wide entities' INSERT/UPDATE parameters.
// JSON columns go through codec (the one wire format). A value the code cannot have written
// (an unknown status) is kInternal.

#include <string>
#include <vector>

#include "core/error.hpp"
#include "domain/model.hpp"
#include "domain/ports/delivery.hpp"
#include "store/sql/driver.hpp"

namespace firmo::store::sql {

domain::Issuer ReadIssuer(const Row& r);
domain::ApiKey ReadApiKey(const Row& r);
[[nodiscard]] Result<domain::Dossier> ReadDossier(const Row& r);
[[nodiscard]] Result<domain::Signer> ReadSigner(const Row& r);
// The request's own columns; its signers and documents are read apart.
[[nodiscard]] Result<domain::SignatureRequest> ReadRequest(const Row& r);
[[nodiscard]] Result<domain::RequestSigner> ReadRequestSigner(const Row& r);
[[nodiscard]] Result<domain::Document> ReadDocument(const Row& r);
domain::AuditEvent ReadEvent(const Row& r);
[[nodiscard]] Result<domain::Job> ReadJob(const Row& r);
domain::IdempotencyRecord ReadIdempotency(const Row& r);
domain::PortalSession ReadSession(const Row& r);
[[nodiscard]] Result<domain::OneTimeCode> ReadCode(const Row& r);
[[nodiscard]] Result<domain::SignerToken> ReadSignerToken(const Row& r);
[[nodiscard]] Result<domain::InboxMessage> ReadMessage(const Row& r);
[[nodiscard]] Result<domain::OutboxMessage> ReadOutbox(const Row& r);
domain::WebhookEndpoint ReadWebhook(const Row& r);
domain::StatusChange ReadStatusChange(const Row& r);
domain::RateLimitCount ReadRateLimitCount(const Row& r);

// Parameters in the order of the statements' column lists.
void BindDossier(Query& q, const domain::Dossier& d);
void BindSigner(Query& q, const domain::Signer& s);
void BindRequest(Query& q, const domain::SignatureRequest& r);
void BindRequestSigner(Query& q, const std::string& request_id, int position,
                       const domain::RequestSigner& s);
void BindDocument(Query& q, const std::string& request_id, const domain::Document& d);
void BindSession(Query& q, const domain::PortalSession& s);
void BindOutbox(Query& q, const domain::OutboxMessage& m);
void BindWebhook(Query& q, const domain::WebhookEndpoint& w);

}  // namespace firmo::store::sql
