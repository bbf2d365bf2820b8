#include "domain/services/ceremony_service.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "core/encoding.hpp"
#include "core/ids.hpp"
#include "core/log.hpp"
#include "core/scratch_dir.hpp"
#include "domain/certificate_subject.hpp"
#include "domain/services/archive_service.hpp"
#include "domain/services/ceremony_internal.hpp"
#include "domain/text.hpp"

namespace firmo::domain {

namespace fs = std::filesystem;
using namespace ceremony_internal;  // NOLINT(google-build-using-namespace)

namespace {

bool IsOpen(RequestStatus s) {
    return s == RequestStatus::kReady || s == RequestStatus::kWaitForSignature ||
           s == RequestStatus::kWaitForQtsp;
}

std::string NotYourTurn(const SignatureRequest& request, std::size_t position) {
    int earlier = 0;
    for (const auto& s : request.signers) {
        if (s.order < request.signers[position].order && s.status != SignerStatus::kSigned) {
            ++earlier;
        }
    }
    return "it is not your turn yet: " + std::to_string(earlier) +
           " signer(s) before you must sign first";
}

}  // namespace

std::size_t FieldSignerPosition(const SignatureField& field, const SignatureRequest& request) {
    if (field.signer_index && *field.signer_index >= 0 &&
        static_cast<std::size_t>(*field.signer_index) < request.signers.size()) {
        return static_cast<std::size_t>(*field.signer_index);
    }
    return 0;
}

Result<CeremonyView> CeremonyService::Build(SignerAccess access, Transaction& tx) const {
    CeremonyView view;
    FIRMO_TRY(auto issuer, tx.issuers().Find(access.request.issuer_id));
    FIRMO_TRY(auto dossier,
              tx.dossiers().Find(access.request.issuer_id, access.request.dossier_id));
    view.issuer_name = issuer ? issuer->name : "";
    if (issuer) view.issuer = *issuer;
    view.title = dossier ? dossier->title : "";
    view.access = std::move(access);
    const SignatureRequest& r = view.access.request;
    const RequestSigner& rs = view.access.request_signer();
    view.my_turn = IsTurnOf(r, view.access.position);
    view.can_sign =
        view.my_turn && IsOpen(r.status) && rs.status == SignerStatus::kWaiting && !rs.confirmed_at;
    for (const auto& doc : r.documents) {
        CeremonyDocument cd;
        cd.document = &doc;
        const auto& fields = doc.metadata.signature_fields;
        for (std::size_t j = 0; j < fields.size(); ++j) {
            CeremonyField f;
            f.ref = {doc.index, static_cast<int>(j)};
            f.field = &fields[j];
            f.mine = FieldSignerPosition(fields[j], r) == view.access.position;
            f.accepted = std::find(rs.accepted_fields.begin(), rs.accepted_fields.end(), f.ref) !=
                         rs.accepted_fields.end();
            cd.fields.push_back(f);
        }
        view.documents.push_back(std::move(cd));
    }
    return view;
}

namespace {

SecondFactor ChooseSecondFactor(const PortalSession& session, const Signer& signer,
                                AuthLevel required, const SignerSideOptions& options) {
    // An eID level is reached only by an eID re-authentication: never offer a code for it.
    if (IsEid(required)) return SecondFactor::kReauthentication;
    if (session.auth_method == "oidc") return SecondFactor::kReauthentication;
    if (signer.email || signer.phone) return SecondFactor::kCode;
    if (options.eid_login && IsNationalIdentifier(signer.kind)) {
        return SecondFactor::kReauthentication;
    }
    return SecondFactor::kCode;
}

}  // namespace

bool EidRequired(const PortalSession& session, const RequestSigner& rs) {
    return IsEid(rs.authentication) && !Satisfies(session.eid_level, rs.authentication);
}

Result<CeremonyView> CeremonyService::Open(const PortalSession& session,
                                           const std::string& request_id,
                                           const ClientInfo& client) {
    FIRMO_TRY(auto found, sessions_.Access(session, request_id));
    const std::string signer_id = found.request_signer().signer_id;
    if (UsesQtsp()) FIRMO_CHECK(ReclaimExpired(request_id, signer_id));
    const Timestamp now = ctx_.clock.Now();
    auto view = InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<CeremonyView> {
        FIRMO_TRY(auto access, LoadSignerAccess(tx, request_id, signer_id));
        SignatureRequest& r = access.request;
        if (!IsTerminal(r.status) && now >= r.expires_at &&
            Transition(r.status, RequestEvent::kExpire)) {
            FIRMO_CHECK(ApplyRequestEvent(ctx_, tx, r, RequestEvent::kExpire, "system",
                                          "expires_at passed", now));
            FIRMO_CHECK(tx.requests().Update(r));
        }
        const bool turn = IsTurnOf(r, access.position);
        if (!turn && !IsTerminal(r.status)) {
            return Fail(ErrorCode::kForbidden, NotYourTurn(r, access.position));
        }
        if (r.status == RequestStatus::kDraft) {
            return Fail(ErrorCode::kConflict, "this request is not ready for signing yet");
        }
        if (!IsTerminal(r.status)) FIRMO_CHECK(CheckActive(r, now));
        if (r.status == RequestStatus::kReady) {
            FIRMO_CHECK(ApplyRequestEvent(ctx_, tx, r, RequestEvent::kSendForSignature,
                                          SignerActor(signer_id), "opened by the signer", now));
        }
        FIRMO_CHECK(tx.audit().Append(
            AuditEvent{0, r.id, now, "signer.opened", "", "", "", signer_id, SignerActor(signer_id),
                       "via " + session.auth_method + " " + ClientDetail(client)}));
        FIRMO_CHECK(tx.requests().Update(r));
        return Build(std::move(access), tx);
    });
    if (!view) return view;
    view->second_factor =
        ChooseSecondFactor(session, view->access.signer,
                           view->access.request_signer().authentication, sessions_.options());
    view->eid_required = EidRequired(session, view->access.request_signer());
    // Build's pointers refer to the request inside `view`; moving the Result keeps the vector
    // buffers, so they stay valid.
    return view;
}

Result<CeremonyView> CeremonyService::Look(const PortalSession& session,
                                           const std::string& request_id) {
    FIRMO_TRY(auto access, sessions_.Access(session, request_id));
    auto view =
        InReadTransaction(ctx_.db, [&](Transaction& tx) { return Build(std::move(access), tx); });
    if (view) {
        view->second_factor =
            ChooseSecondFactor(session, view->access.signer,
                               view->access.request_signer().authentication, sessions_.options());
        view->eid_required = EidRequired(session, view->access.request_signer());
    }
    return view;
}

Result<AcceptOutcome> CeremonyService::Accept(const PortalSession& session,
                                              const std::string& request_id,
                                              const std::vector<FieldRef>& accepted,
                                              const ClientInfo& client) {
    FIRMO_TRY(auto found, sessions_.Access(session, request_id));
    const std::string signer_id = found.request_signer().signer_id;
    const Timestamp now = ctx_.clock.Now();
    FIRMO_CHECK(InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<void> {
        FIRMO_TRY(auto access, LoadSignerAccess(tx, request_id, signer_id));
        SignatureRequest& r = access.request;
        RequestSigner& rs = r.signers[access.position];
        if (!IsTurnOf(r, access.position)) {
            return Fail(ErrorCode::kForbidden, NotYourTurn(r, access.position));
        }
        if (!IsOpen(r.status) || rs.status != SignerStatus::kWaiting || rs.confirmed_at) {
            return Fail(ErrorCode::kConflict, "this request cannot be signed now (it is " +
                                                  std::string(ToString(r.status)) + ")");
        }
        FIRMO_CHECK(CheckActive(r, now));
        std::vector<Violation> violations;
        std::set<FieldRef> chosen;
        for (const auto& ref : accepted) {
            const bool known = ref.document >= 0 &&
                               static_cast<std::size_t>(ref.document) < r.documents.size() &&
                               ref.field >= 0 &&
                               static_cast<std::size_t>(ref.field) <
                                   r.documents[static_cast<std::size_t>(ref.document)]
                                       .metadata.signature_fields.size();
            if (!known || FieldSignerPosition(
                              r.documents[static_cast<std::size_t>(ref.document)]
                                  .metadata.signature_fields[static_cast<std::size_t>(ref.field)],
                              r) != access.position) {
                violations.push_back({"accepted", "not one of your clauses: document " +
                                                      std::to_string(ref.document) + ", field " +
                                                      std::to_string(ref.field)});
                continue;
            }
            chosen.insert(ref);
        }
        int mine = 0;
        for (const auto& doc : r.documents) {
            const auto& fields = doc.metadata.signature_fields;
            for (std::size_t j = 0; j < fields.size(); ++j) {
                if (FieldSignerPosition(fields[j], r) != access.position) continue;
                ++mine;
                const FieldRef ref{doc.index, static_cast<int>(j)};
                if (fields[j].clause.type != ClauseType::kOptional && !chosen.count(ref)) {
                    violations.push_back(
                        {"documents[" + std::to_string(doc.index) + "].signature_fields[" +
                             std::to_string(j) + "]",
                         std::string(fields[j].clause.type == ClauseType::kUnfair
                                         ? "this unfair clause must be accepted explicitly: "
                                         : "this clause is required: ") +
                             fields[j].clause.title});
                }
            }
        }
        if (!violations.empty()) return FailValidation(std::move(violations));
        rs.accepted_fields.assign(chosen.begin(), chosen.end());
        rs.accepted_at = now;
        r.updated_at = now;
        FIRMO_CHECK(tx.audit().Append(AuditEvent{
            0, r.id, now, "signer.clauses_accepted", "", "", "", signer_id, SignerActor(signer_id),
            std::to_string(chosen.size()) + " of " + std::to_string(mine) + " clauses accepted " +
                ClientDetail(client)}));
        return tx.requests().Update(r);
    }));
    AcceptOutcome outcome;
    outcome.second_factor = ChooseSecondFactor(
        session, found.signer, found.request_signer().authentication, sessions_.options());
    if (outcome.second_factor == SecondFactor::kCode) {
        FIRMO_TRY(auto sent, sessions_.SendCode(request_id, signer_id, CodeKind::kConfirm, client));
        outcome.code = sent;
    }
    return outcome;
}

Result<ConfirmOutcome> CeremonyService::Confirm(const PortalSession& session,
                                                const std::string& request_id,
                                                std::string_view code, const ClientInfo& client) {
    FIRMO_TRY(auto found, sessions_.Access(session, request_id));
    const std::string signer_id = found.request_signer().signer_id;
    if (UsesQtsp()) FIRMO_CHECK(ReclaimExpired(request_id, signer_id));
    const AuthLevel required = found.request_signer().authentication;
    const SecondFactor factor =
        ChooseSecondFactor(session, found.signer, required, sessions_.options());
    const Timestamp now = ctx_.clock.Now();
    // The turn first, as in every other step: a later signer learns that it is not their turn
    // (not that they skipped a step), and no code is checked or counted for them.
    if (!IsTurnOf(found.request, found.position)) {
        return Fail(ErrorCode::kForbidden, NotYourTurn(found.request, found.position));
    }
    FIRMO_CHECK(CheckActive(found.request, now));
    if (!found.request_signer().accepted_at) {
        return Fail(ErrorCode::kConflict, "read the documents and accept the clauses first");
    }
    // Below the level the issuer requires: refused before any code is checked or counted.
    if (EidRequired(session, found.request_signer())) {
        return Fail(ErrorCode::kAuthenticationRequired,
                    sessions_.options().eid_login
                        ? "this document must be signed after a login with eID (" +
                              std::string(ToString(required)) + "): log in with your eID to sign"
                        : "this document must be signed after a login with eID (" +
                              std::string(ToString(required)) +
                              "), which this service does not offer; ask the sender");
    }
    if (factor == SecondFactor::kCode) {
        FIRMO_CHECK(sessions_.CheckCode(request_id, signer_id, CodeKind::kConfirm, code, client));
    } else {
        // docs/API.md: a new eID login as the same person, after the clauses were accepted,
        // within reauthentication_max_age. The first login never counts, however recent.
        // kClockTolerance: nodes' clocks (acceptance and re-authentication may be recorded
        // by different nodes), seconds where the provider's own skew allowance was a minute.
        constexpr std::chrono::seconds kClockTolerance{5};
        const auto& at = session.reauthenticated_at;
        if (!at || *at + sessions_.options().reauthentication_max_age < now ||
            *at < *found.request_signer().accepted_at - kClockTolerance) {
            return Fail(ErrorCode::kUnauthenticated, "confirm with your eID: log in again to sign");
        }
    }
    // What this confirmation proved: a code proves the contact; an eID re-authentication (of
    // this signer, Reauthenticated checked) proves the identifier at the acr's level.
    const AuthLevel reached =
        factor == SecondFactor::kCode || !session.eid_level ? AuthLevel::kCode : *session.eid_level;
    FIRMO_CHECK(InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<void> {
        FIRMO_TRY(auto access, LoadSignerAccess(tx, request_id, signer_id));
        SignatureRequest& r = access.request;
        RequestSigner& rs = r.signers[access.position];
        if (!IsTurnOf(r, access.position)) {
            return Fail(ErrorCode::kForbidden, NotYourTurn(r, access.position));
        }
        if (!IsOpen(r.status) || rs.status != SignerStatus::kWaiting || rs.confirmed_at ||
            !rs.accepted_at) {
            return Fail(ErrorCode::kConflict, "this request cannot be signed now (it is " +
                                                  std::string(ToString(r.status)) + ")");
        }
        FIRMO_CHECK(CheckActive(r, now));
        if (r.test && UsesQtsp()) {
            // A QTSP's signature would be a real one, which a test request must never make.
            return Fail(ErrorCode::kConflict,
                        "a test request cannot be signed here: this server signs with a QTSP, "
                        "and a test request's signatures must not be real ones");
        }
        rs.confirmed_at = now;
        rs.authenticated_with = reached;
        rs.signing_name = SigningName(session.full_name, access.signer, reached,
                                      r.identifier_in_signed_documents);
        if (r.status != RequestStatus::kWaitForQtsp) {
            FIRMO_CHECK(ApplyRequestEvent(ctx_, tx, r, RequestEvent::kSubmitToQtsp,
                                          SignerActor(signer_id), "", now));
        }
        FIRMO_CHECK(tx.audit().Append(AuditEvent{
            0, r.id, now, "signer.confirmed", "", "", "", signer_id, SignerActor(signer_id),
            std::string(factor == SecondFactor::kCode ? "one-time code " : "eID ") +
                "level=" + std::string(ToString(reached)) + " " + ClientDetail(client)}));
        FIRMO_CHECK(tx.requests().Update(r));
        // With a QTSP the job is queued once the signer authorized the signatures there.
        if (UsesQtsp()) return Result<void>{};
        Job job;
        job.kind = JobKind::kSignDocuments;
        job.issuer_id = r.issuer_id;
        job.request_id = r.id;
        job.run_at = now;
        return tx.jobs().Enqueue(job).map([](std::int64_t) {});
    }));
    if (UsesQtsp()) {
        auto url = BeginQtsp(request_id, signer_id);
        if (!url) {
            // Nothing was authorized: the signer keeps their turn and may try again.
            FIRMO_CHECK(
                ReturnTurn(request_id, signer_id,
                           "the QTSP authorization could not start: " + url.error().message));
            return tl::unexpected<Error>(url.error());
        }
        return ConfirmOutcome{*url};
    }
    ctx_.db.AfterCommit(ctx_.on_job_enqueued);
    return ConfirmOutcome{};
}

Result<void> CeremonyService::Reject(const PortalSession& session, const std::string& request_id,
                                     const std::string& reason, const ClientInfo& client) {
    std::vector<Violation> violations;
    CheckLength(reason, 1, kRejectReasonMax, "reason", violations);
    if (!violations.empty()) return FailValidation(std::move(violations));
    FIRMO_TRY(auto found, sessions_.Access(session, request_id));
    const std::string signer_id = found.request_signer().signer_id;
    const Timestamp now = ctx_.clock.Now();
    return InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<void> {
        FIRMO_TRY(auto access, LoadSignerAccess(tx, request_id, signer_id));
        SignatureRequest& r = access.request;
        RequestSigner& rs = r.signers[access.position];
        if (!IsTurnOf(r, access.position)) {
            return Fail(ErrorCode::kForbidden, NotYourTurn(r, access.position));
        }
        if (rs.status != SignerStatus::kWaiting || rs.confirmed_at) {
            return Fail(ErrorCode::kConflict, "this request cannot be rejected now");
        }
        rs.reject_reason = reason;  // before the event: the issuer's event carries it
        FIRMO_CHECK(ApplySignerEvent(
            ctx_, tx, r, access.position, SignerEvent::kReject, SignerActor(signer_id),
            "reason=" + JsonQuote(reason) + " " + ClientDetail(client), now));
        FIRMO_CHECK(ApplyRequestEvent(ctx_, tx, r, RequestEvent::kReject, SignerActor(signer_id),
                                      reason, now));
        r.reject_reason = reason;
        return tx.requests().Update(r);
    });
}

Result<DocumentContent> CeremonyService::DocumentBytes(const PortalSession& session,
                                                       const std::string& request_id,
                                                       const std::string& document_id) {
    FIRMO_TRY(auto access, sessions_.Access(session, request_id));
    const SignatureRequest& r = access.request;
    if (!IsTurnOf(r, access.position) && !IsTerminal(r.status)) {
        return Fail(ErrorCode::kForbidden, NotYourTurn(r, access.position));
    }
    if (r.status == RequestStatus::kDraft) {
        return Fail(ErrorCode::kConflict, "this request is not ready for signing yet");
    }
    if (!IsTerminal(r.status)) FIRMO_CHECK(CheckActive(r, ctx_.clock.Now()));
    // Who signed for an organisation reads the documents to sign them, and keeps no copy.
    if (access.request_signer().on_behalf_of == OnBehalfOf::kOther &&
        access.request_signer().status != SignerStatus::kWaiting) {
        return Fail(ErrorCode::kForbidden,
                    "you signed on behalf of another party: the signed documents are not "
                    "yours to download");
    }
    FIRMO_CHECK(CheckDocumentsKept(r));
    // Once the request ended, the signer's copy is kept for signer_copy_ttl (issue 16).
    FIRMO_CHECK(CheckSignerCopyKept(r, sessions_.options().signer_copy_ttl, ctx_.clock.Now()));
    const Document* doc = r.FindDocument(document_id);
    if (!doc || !doc->CurrentBlobKey()) return Fail(ErrorCode::kNotFound, "document not found");
    FIRMO_TRY(auto bytes, ctx_.blobs.Get(*doc->CurrentBlobKey()));
    return DocumentContent{std::move(bytes), doc->metadata.title};
}

Result<Page<InboxMessage>> CeremonyService::Inbox(const PortalSession& session, PageQuery page) {
    if (!session.authenticated()) return Fail(ErrorCode::kUnauthenticated, "please log in first");
    if (!session.identity_kind) return Page<InboxMessage>{};
    page.limit = std::clamp(page.limit, 1, 100);
    return InReadTransaction(ctx_.db, [&](Transaction& tx) {
        return tx.inbox().List(*session.identity_kind, session.identity, page);
    });
}

Result<std::optional<std::string>> CeremonyService::ExitUrl(const PortalSession& session,
                                                            const std::string& request_id) {
    FIRMO_TRY(auto access, sessions_.Access(session, request_id));
    const SignatureRequest& r = access.request;
    if (!r.redirect) return std::optional<std::string>();
    const RequestSigner& rs = access.request_signer();
    std::string base;
    if (rs.status == SignerStatus::kSigned) {
        base = r.redirect->completion_url;
    } else if (rs.status == SignerStatus::kRejected) {
        base = r.redirect->rejection_url;
    } else if (rs.status != SignerStatus::kWaiting || r.status == RequestStatus::kFailed ||
               (IsTerminal(r.status) && r.status != RequestStatus::kSigned)) {
        base = r.redirect->error_url;
    } else {
        return std::optional<std::string>();  // still in the ceremony, or being signed
    }
    // Tokens are stored hashed, so handing out the same one again means deriving it: from a
    // secret (the code pepper, shared by nodes), the signer and the 10-minute slot it was made
    // in. A token of this slot or the previous one, made less than kExitTokenReuse ago and not
    // revoked, is handed out again; otherwise this slot's token replaces the others.
    const Timestamp now = ctx_.clock.Now();
    const auto slot_length = std::chrono::duration_cast<std::chrono::milliseconds>(kExitTokenReuse);
    const std::int64_t slot = ToUnixMillis(now) / slot_length.count();
    const auto derive = [&](std::int64_t s) {
        return ctx_.hasher.Sha256Hex(sessions_.options().code_pepper + "\nstatus-query\n" + r.id +
                                     "\n" + rs.signer_id + "\n" + std::to_string(s));
    };
    std::string token;
    const auto pick = [&](Transaction& tx) -> Result<void> {
        for (const std::int64_t s : {slot - 1, slot}) {
            const std::string candidate = derive(s);
            FIRMO_TRY(auto found, tx.signer_tokens().Find(sessions_.HashToken(candidate)));
            if (found && !found->used_at && now < found->created_at + kExitTokenReuse &&
                now < found->expires_at) {
                token = candidate;
                return {};
            }
        }
        token = derive(slot);
        FIRMO_TRY(auto taken, tx.signer_tokens().Find(sessions_.HashToken(token)));
        // This slot's token revoked already (only by a later exit of this slot, which the
        // check above rules out; but never reissue one): a random one.
        if (taken) token = NewSecretToken(ctx_.random);
        FIRMO_CHECK(
            tx.signer_tokens().Revoke(r.id, rs.signer_id, SignerTokenKind::kStatusQuery, now));
        return tx.signer_tokens().Insert(SignerToken{
            sessions_.HashToken(token), SignerTokenKind::kStatusQuery, r.id, rs.signer_id, now,
            now + sessions_.options().status_query_ttl, std::nullopt});
    };
    auto picked = InWriteTransaction(ctx_.db, pick);
    // Two nodes answering the same exit at once may both insert this slot's token: the second
    // fails on the key, and finds the first's on a second try.
    if (!picked) picked = InWriteTransaction(ctx_.db, pick);
    FIRMO_CHECK(picked);
    const char sep = base.find('?') == std::string::npos ? '?' : '&';
    return std::make_optional(base + sep + "status_query_token=" + token);
}

Result<void> CeremonyService::RunSigning(const Job& job) {
    // With a QTSP only the provider signs: a job names the authorization it completes.
    if (UsesQtsp()) return job.blob_key.empty() ? Result<void>{} : RunQtspSigning(job);
    for (int round = 0; round < 16; ++round) {
        FIRMO_TRY(auto request, InReadTransaction(ctx_.db, [&](Transaction& tx) {
                      return tx.requests().Find(job.issuer_id, job.request_id);
                  }));
        if (!request) return {};
        std::string next;
        for (const auto& s : request->signers) {
            if (s.confirmed_at && s.status == SignerStatus::kWaiting) {
                next = s.signer_id;
                break;
            }
        }
        if (next.empty()) return {};
        FIRMO_CHECK(SignFor(job.request_id, next));
    }
    return {};
}

Result<void> CeremonyService::SignFor(const std::string& request_id, const std::string& signer_id) {
    FIRMO_TRY(auto access, InReadTransaction(ctx_.db, [&](Transaction& tx) {
                  return LoadSignerAccess(tx, request_id, signer_id);
              }));
    const SignatureRequest& r = access.request;
    const RequestSigner& rs = access.request_signer();
    if (!rs.confirmed_at || rs.status != SignerStatus::kWaiting) return {};

    SignerIdentity identity =
        CertificateSubject(access.signer, rs, r.identifier_in_signed_documents);
    // A test request's signatures must never pass as real ones: the certificate's name says so
    // (pdfsig and every viewer show it).
    if (r.test) identity = MarkedAsTest(std::move(identity));

    const Timestamp now = ctx_.clock.Now();
    FIRMO_TRY(auto scratch, ScratchDir::Create("firmo-sign"));

    std::vector<SignedDocument> results;
    for (const auto& doc : r.documents) {
        if (!doc.CurrentBlobKey()) return Fail(ErrorCode::kInternal, "document has no file");
        const auto fields = FieldsToSign(doc, r, access.position, rs.accepted_fields);
        Result<void> chain;
        fs::path out;
        FIRMO_CHECK(ctx_.blobs.WithLocalFile(*doc.CurrentBlobKey(), [&](const fs::path& in) {
            fs::path current = in;
            const auto sign_one = [&](const SignatureField& field, SignatureDetails details,
                                      int step) -> Result<void> {
                const fs::path next =
                    scratch.path() / (doc.id + "-" + std::to_string(step) + ".pdf");
                // One certificate per signature: poppler's verifier (NSS) reports the second
                // of two signatures under the very same certificate in one file as "unknown
                // issue with certificate", so each gets its own short-lived one.
                FIRMO_TRY(auto session, trust_.OpenSession(identity));
                FIRMO_CHECK(signer_.SignFile(current, next, field, details, *session));
                current = next;
                return {};
            };
            SignatureDetails details;
            details.signer_name = rs.signing_name;
            details.signing_time = now;
            if (fields.empty()) {
                // Every signer's consent covers every document: without a field of their own,
                // an invisible signature.
                const SignatureField invisible = InvisibleField();
                details.visible = false;
                details.reason = "Signed";
                chain = sign_one(invisible, details, 0);
            } else {
                int step = 0;
                for (int j : fields) {
                    const auto& field = doc.metadata.signature_fields[static_cast<std::size_t>(j)];
                    details.reason = field.clause.title;
                    chain = sign_one(field, details, step++);
                    if (!chain) break;
                }
            }
            if (chain) {
                // Post-sign, once per document and signer: validation data for every
                // signature in it, then a document time-stamp (PAdES B-LT, B-LTA).
                const fs::path proved = scratch.path() / (doc.id + "-lta.pdf");
                auto added = signer_.AddLongTermProof(current, proved);
                if (!added) {
                    chain = Fail(added.error());
                } else if (*added) {
                    current = proved;
                }
            }
            out = current;
        }));
        FIRMO_CHECK(chain);
        FIRMO_TRY(auto bytes, ReadFile(out));
        const std::string key = "requests/" + r.id + "/" + doc.id + "/signed-" +
                                std::to_string(doc.signature_count + 1) + "-" +
                                NewUlid(now, ctx_.random) + ".pdf";
        FIRMO_TRY(BlobInfo info, ctx_.blobs.Put(key, bytes));
        results.push_back({doc.id, key, info, doc.signature_count,
                           fields.empty() ? 1 : static_cast<int>(fields.size())});
    }

    return StoreSigned(request_id, signer_id, results,
                       identity.serial_number.empty()
                           ? "certificate without national identifier"
                           : "certificate names " + identity.serial_number,
                       now);
}

Result<void> CeremonyService::StoreSigned(const std::string& request_id,
                                          const std::string& signer_id,
                                          const std::vector<SignedDocument>& results,
                                          const std::string& certificate_note, Timestamp now) {
    std::vector<std::string> superseded;
    auto stored = InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<bool> {
        FIRMO_TRY(auto fresh, LoadSignerAccess(tx, request_id, signer_id));
        SignatureRequest& fr = fresh.request;
        RequestSigner& frs = fr.signers[fresh.position];
        if (!frs.confirmed_at || frs.status != SignerStatus::kWaiting) return false;
        for (const auto& res : results) {
            Document* d = fr.FindDocument(res.document_id);
            if (!d || d->signature_count != res.expected_count) {
                return Fail(ErrorCode::kConflict,
                            "another signature was added meanwhile; signing again");
            }
            if (d->signed_blob_key) superseded.push_back(*d->signed_blob_key);
            d->signed_blob_key = res.key;
            d->signed_size = res.info.size;
            d->signed_sha256_hex = res.info.sha256_hex;
            d->signature_count += 1;
            d->updated_at = now;
            FIRMO_CHECK(tx.audit().Append(AuditEvent{
                0, fr.id, now, "document.signed", "", "", d->id, signer_id, "trust-service",
                std::to_string(res.signatures) + " signature(s), sha256 " + res.info.sha256_hex +
                    ", signer authenticated " +
                    std::string(ToString(frs.authenticated_with.value_or(AuthLevel::kCode))) +
                    ", " + certificate_note}));
        }
        // Decided before the signer's event, so that signer.signed reports the request's status
        // after this signature (docs/WEBHOOKS.md), not the passing WAIT_FOR_QTSP.
        bool others_pending = false;
        bool all_signed = true;
        for (std::size_t i = 0; i < fr.signers.size(); ++i) {
            if (i == fresh.position) continue;  // signed by this step
            const RequestSigner& s = fr.signers[i];
            if (s.status == SignerStatus::kWaiting && s.confirmed_at) others_pending = true;
            if (s.status != SignerStatus::kSigned) all_signed = false;
        }
        std::optional<RequestEvent> request_event;
        std::optional<RequestStatus> status_after;
        if (!others_pending && fr.status == RequestStatus::kWaitForQtsp) {
            request_event = all_signed ? RequestEvent::kAllSigned : RequestEvent::kSignerSigned;
            if (auto next = Transition(fr.status, *request_event)) status_after = *next;
        }
        FIRMO_CHECK(ApplySignerEvent(ctx_, tx, fr, fresh.position, SignerEvent::kSign,
                                     "trust-service", "", now, status_after));
        if (request_event) {
            FIRMO_CHECK(ApplyRequestEvent(ctx_, tx, fr, *request_event, "trust-service", "", now));
        }
        // A signer blocked while the trust service signed ends the request now.
        FIRMO_CHECK(FailIfBlocked(ctx_, tx, fr, now));
        FIRMO_TRY(auto dossier, tx.dossiers().Find(fr.issuer_id, fr.dossier_id));
        const std::string title = NotificationTitle(fr, dossier);
        if (fr.status == RequestStatus::kSigned) {
            // Signed for good: the archive job keeps each document's proof alive.
            for (const auto& d : fr.documents) {
                if (d.signed_blob_key) {
                    FIRMO_CHECK(tx.jobs().Enqueue(ArchiveService::JobFor(fr, d, now)));
                }
            }
            for (const auto& s : fr.signers) {
                // Signing for an organisation: the documents are not the signer's to keep.
                if (s.on_behalf_of == OnBehalfOf::kOther) continue;
                FIRMO_TRY(auto person, tx.signers().Find(fr.issuer_id, s.signer_id));
                if (!person) continue;
                // A link to the signed documents, never the documents themselves.
                FIRMO_CHECK(QueueSignerMessage(ctx_, tx, fr, *person, "signed_documents",
                                               "signed-" + fr.id, title, now));
                // A test request never reaches a person's eID inbox.
                if (!IsNationalIdentifier(person->kind) || fr.test) continue;
                FIRMO_TRY(bool has,
                          tx.inbox().Has(fr.id, s.signer_id, MessageKind::kSignedDocuments));
                if (has) continue;
                FIRMO_CHECK(tx.inbox().Insert(InboxMessage{
                    NewUlid(now, ctx_.random), person->kind, person->identifier, fr.issuer_id,
                    fr.id, s.signer_id, MessageKind::kSignedDocuments, title, now, std::nullopt}));
            }
        } else if (fr.notification_id) {
            // The next signers in order learn that it is their turn.
            FIRMO_CHECK(MessageSignersWhoseTurn(ctx_, tx, fr, title, now));
        }
        FIRMO_CHECK(tx.requests().Update(fr));
        return true;
    });
    if (!stored || !*stored) {
        for (const auto& res : results) (void)ctx_.blobs.Remove(res.key);
        if (!stored) return tl::unexpected<Error>(stored.error());
        return {};
    }
    for (const auto& key : superseded) (void)ctx_.blobs.Remove(key);
    log::Info("signer_signed", {{"request_id", request_id},
                                {"signer_id", signer_id},
                                {"documents", std::to_string(results.size())}});
    return {};
}

Result<void> CeremonyService::AbandonSigning(const Job& job, const std::string& error) {
    return InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<void> {
        FIRMO_TRY(auto request, tx.requests().Find(job.issuer_id, job.request_id));
        if (!request || request->status != RequestStatus::kWaitForQtsp) return {};
        FIRMO_CHECK(ApplyRequestEvent(ctx_, tx, *request, RequestEvent::kSigningFailed, "worker",
                                      "signing failed after repeated attempts: " + error,
                                      ctx_.clock.Now()));
        return tx.requests().Update(*request);
    });
}

}  // namespace firmo::domain
