#pragma once
// The smallest request an issuer can poll, with the dossier and signer it needs: what the tests
// of request read copies (two SQLite handles, two PostgreSQL nodes, the front door) insert and
// then change behind a node's back.

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "domain/model.hpp"
#include "domain/ports/database.hpp"

namespace firmo::domain::fixtures {

struct PolledRequest {
    Issuer issuer;
    Dossier dossier;
    Signer signer;
    SignatureRequest request;  // reference "ref-1", one signer, no document
};

// Ids from `id` (called once for each row); the issuer is `issuer_id` when given (one made by
// IssuerService), otherwise a new one that Insert() adds too.
inline PolledRequest MakePolledRequest(Timestamp now, const std::function<std::string()>& id,
                                       const std::optional<std::string>& issuer_id = {}) {
    PolledRequest p;
    p.issuer = Issuer{issuer_id.value_or(id()), "Comune di Roma", "ops@example.org", now};
    p.dossier = Dossier{
        id(), p.issuer.id, "Contratto", "hr@example.org", {DocumentMetadata{"Contract", {}}}, now};
    p.signer = Signer{id(),
                      p.issuer.id,
                      IdentifierKind::kItFiscalCode,
                      "RSSMRA80A01H501U",
                      "a@b.it",
                      std::nullopt,
                      now,
                      now};
    p.request.id = id();
    p.request.issuer_id = p.issuer.id;
    p.request.dossier_id = p.dossier.id;
    p.request.expires_at = now + std::chrono::hours(24);
    p.request.reference = "ref-1";
    p.request.created_at = p.request.updated_at = now;
    p.request.signers = {RequestSigner{.signer_id = p.signer.id}};
    return p;
}

// Inserts the rows in one transaction; the issuer too unless it exists already.
inline Result<void> Insert(Database& db, const PolledRequest& p, bool with_issuer = true) {
    FIRMO_TRY(auto tx, db.Begin(TxMode::kWrite));
    if (with_issuer) FIRMO_CHECK(tx->issuers().Insert(p.issuer));
    FIRMO_CHECK(tx->dossiers().Insert(p.dossier));
    FIRMO_CHECK(tx->signers().Insert(p.signer));
    FIRMO_CHECK(tx->requests().Insert(p.request));
    return tx->Commit();
}

// Changes the request's reference through `db`, as a service would (one UPDATE).
inline Result<void> Rename(Database& db, SignatureRequest& request, std::string reference) {
    request.reference = std::move(reference);
    FIRMO_TRY(auto tx, db.Begin(TxMode::kWrite));
    FIRMO_CHECK(tx->requests().Update(request));
    return tx->Commit();
}

// The request's reference as a plain read through `db` sees it (none: not found or failed).
inline std::optional<std::string> ReferenceOf(Database& db, const SignatureRequest& request) {
    auto tx = db.Begin(TxMode::kSingle);
    if (!tx) return std::nullopt;
    auto found = (*tx)->requests().Find(request.issuer_id, request.id);
    if (!found || !*found) return std::nullopt;
    return (*found)->reference;
}

}  // namespace firmo::domain::fixtures
