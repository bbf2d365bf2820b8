#include "domain/services/request_service.hpp"

#include <algorithm>
#include <set>

#include "core/ids.hpp"
#include "core/log.hpp"
#include "domain/exit_url.hpp"
#include "domain/services/dossier_service.hpp"
#include "domain/services/request_steps.hpp"
#include "domain/text.hpp"

namespace firmo::domain {

namespace {

std::string JoinReasons(const std::vector<Violation>& violations) {
    std::string out;
    for (const auto& v : violations) {
        if (!out.empty()) out += "; ";
        out += v.field + ": " + v.reason;
    }
    return out;
}

}  // namespace

std::vector<Violation> CheckFieldSigners(const std::vector<DocumentMetadata>& metadata,
                                         std::size_t signer_count, const std::string& path) {
    std::vector<Violation> misassigned;
    for (std::size_t i = 0; i < metadata.size(); ++i) {
        const auto& fields = metadata[i].signature_fields;
        for (std::size_t j = 0; j < fields.size(); ++j) {
            if (fields[j].signer_index &&
                static_cast<std::size_t>(*fields[j].signer_index) >= signer_count) {
                misassigned.push_back({path + "[" + std::to_string(i) + "].signature_fields[" +
                                           std::to_string(j) + "].signer_index",
                                       "names signer " + std::to_string(*fields[j].signer_index) +
                                           " but the request has " + std::to_string(signer_count)});
            }
        }
    }
    return misassigned;
}

std::vector<Violation> RequestService::Check(const NewSignatureRequest& input) const {
    const Timestamp now = ctx_.clock.Now();
    std::vector<Violation> violations;
    const int max_signers = ctx_.limits.max_signers;
    if (input.signers.empty() || input.signers.size() > static_cast<std::size_t>(max_signers)) {
        violations.push_back(
            {"signers", "must list 1-" + std::to_string(max_signers) + " signers"});
    }
    std::set<std::string> seen;
    for (std::size_t i = 0; i < input.signers.size(); ++i) {
        const auto& s = input.signers[i];
        const std::string path = "signers[" + std::to_string(i) + "]";
        if (s.order < 0 || s.order > kMaxSignerOrder) {
            violations.push_back({path + ".order", "must be 0-9"});
        }
        if (!seen.insert(s.signer_id).second) {
            violations.push_back({path + ".signer_id", "the same signer is listed twice"});
        }
        if (s.authentication && IsEid(*s.authentication) && !options_.eid_login) {
            violations.push_back(
                {path + ".authentication",
                 "this server offers no eID login (oidc.issuer is not set); use \"code\""});
        }
    }
    Timestamp expires_at = now + ctx_.limits.default_expiry;
    if (input.expires_at) {
        if (*input.expires_at <= now) {
            violations.push_back({"expires_at", "must be in the future"});
        } else if (!input.uncapped_expiry && *input.expires_at > now + ctx_.limits.max_expiry) {
            violations.push_back({"expires_at", "must be at most 90 days ahead"});
        }
        expires_at = *input.expires_at;
    }
    if (input.activates_at) {
        if (*input.activates_at <= now) {
            violations.push_back({"activates_at", "must be in the future"});
        } else if (*input.activates_at >= expires_at) {
            violations.push_back({"activates_at", "must be before expires_at"});
        }
    }
    if (input.polling_queue) CheckPollingQueue(*input.polling_queue, "polling_queue", violations);
    if (input.reference) {
        CheckLength(*input.reference, 1, kReferenceMax, "reference", violations);
    }
    if (input.non_sensitive_title) {
        CheckLength(*input.non_sensitive_title, 1, kNonSensitiveTitleMax, "non_sensitive_title",
                    violations);
    }
    if (input.documents) {
        auto v = CheckDocumentsMetadata(*input.documents, "documents_metadata");
        violations.insert(violations.end(), v.begin(), v.end());
    }
    if (input.redirect) {
        const auto check_url = [&](const std::string& url, const char* name) {
            auto v = CheckExitUrl(url, std::string("redirect.") + name);
            violations.insert(violations.end(), v.begin(), v.end());
        };
        check_url(input.redirect->completion_url, "completion_url");
        check_url(input.redirect->rejection_url, "rejection_url");
        check_url(input.redirect->error_url, "error_url");
    }
    return violations;
}

Result<SignatureRequest> RequestService::Create(const RequestScope& scope,
                                                const NewSignatureRequest& input,
                                                const std::string& actor) {
    const std::string& issuer_id = scope.issuer_id;
    const Timestamp now = ctx_.clock.Now();
    auto violations = Check(input);
    if (!violations.empty()) return FailValidation(std::move(violations));
    const Timestamp expires_at = input.expires_at.value_or(now + ctx_.limits.default_expiry);

    return InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<SignatureRequest> {
        FIRMO_TRY(auto dossier, FindDossier(tx, issuer_id, input.dossier_id));
        if (!dossier)
            return Fail(ErrorCode::kNotFound,
                        "dossier_id: dossier " + input.dossier_id + " not found");
        SignatureRequest request;
        request.id = NewUlid(now, ctx_.random);
        request.issuer_id = issuer_id;
        request.dossier_id = dossier->id;
        request.status = RequestStatus::kDraft;
        request.expires_at = expires_at;
        request.reference = input.reference;
        request.redirect = input.redirect;
        request.auto_notify = input.auto_notify;
        request.identifier_in_signed_documents = input.identifier_in_signed_documents;
        request.non_sensitive_title = input.non_sensitive_title;
        request.activates_at = input.activates_at;
        request.polling_queue = input.polling_queue.value_or("");
        request.test = scope.test.value_or(false);  // the portal's staff send live requests
        request.created_at = now;
        request.updated_at = now;
        std::vector<Violation> unprovable;
        for (std::size_t i = 0; i < input.signers.size(); ++i) {
            const auto& s = input.signers[i];
            FIRMO_TRY(auto signer_kind, FindSignerKind(tx, issuer_id, s.signer_id));
            if (!signer_kind)
                return Fail(ErrorCode::kNotFound,
                            "signer_id: signer " + s.signer_id + " not found");
            if (s.authentication && IsEid(*s.authentication) &&
                !IsNationalIdentifier(*signer_kind)) {
                // An eID proves a national identifier: one the signer does not have.
                unprovable.push_back({"signers[" + std::to_string(i) + "].authentication",
                                      "an eID level needs a signer with a national identifier "
                                      "(fiscal_code or national_identity_number)"});
            }
            RequestSigner rs;
            rs.signer_id = s.signer_id;
            rs.order = s.order;
            rs.authentication =
                s.authentication.value_or(DefaultAuthentication(*signer_kind, options_.eid_login));
            rs.on_behalf_of = s.on_behalf_of;
            request.signers.push_back(std::move(rs));
        }
        if (!unprovable.empty()) return FailValidation(std::move(unprovable));
        const auto& metadata = input.documents ? *input.documents : dossier->documents;
        auto misassigned = CheckFieldSigners(metadata, input.signers.size(), "documents_metadata");
        if (!misassigned.empty()) return FailValidation(std::move(misassigned));
        for (std::size_t i = 0; i < metadata.size(); ++i) {
            Document doc;
            doc.id = NewUlid(now, ctx_.random);
            doc.index = static_cast<int>(i);
            doc.metadata = metadata[i];
            doc.created_at = now;
            doc.updated_at = now;
            request.documents.push_back(std::move(doc));
        }
        FIRMO_CHECK(tx.requests().Insert(request));
        FIRMO_CHECK(tx.audit().Append(AuditEvent{0, request.id, now, "signature_request.created",
                                                 "", std::string(ToString(request.status)), "", "",
                                                 actor, ""}));
        return request;
    });
}

Result<std::shared_ptr<const Dossier>> RequestService::FindDossier(Transaction& tx,
                                                                   const std::string& issuer_id,
                                                                   const std::string& id) {
    const std::string key = issuer_id + '\n' + id;
    if (auto cached = dossiers_.Find(key)) return *cached;
    FIRMO_TRY(auto found, tx.dossiers().Find(issuer_id, id));
    if (!found) return std::shared_ptr<const Dossier>();
    auto dossier = std::make_shared<const Dossier>(std::move(*found));
    dossiers_.Put(key, dossier);
    return dossier;
}

Result<std::optional<IdentifierKind>> RequestService::FindSignerKind(Transaction& tx,
                                                                     const std::string& issuer_id,
                                                                     const std::string& id) {
    const std::string key = issuer_id + '\n' + id;
    if (auto cached = signer_kinds_.Find(key)) return cached;
    FIRMO_TRY(auto signer, tx.signers().Find(issuer_id, id));
    if (!signer) return std::optional<IdentifierKind>();
    signer_kinds_.Put(key, signer->kind);
    return std::optional<IdentifierKind>(signer->kind);
}

Result<SignatureRequest> RequestService::Load(Transaction& tx, const RequestScope& scope,
                                              const std::string& id) {
    // The one check of a caller's reach (RequestScope): another mode's request is not found,
    // exactly as another issuer's.
    FIRMO_TRY(auto request, tx.requests().Find(scope.issuer_id, id));
    if (!request || !scope.Covers(*request)) {
        return Fail(ErrorCode::kNotFound, "signature request " + id + " not found");
    }
    return std::move(*request);
}

Result<void> RequestService::Apply(Transaction& tx, SignatureRequest& request, RequestEvent event,
                                   const std::string& actor, const std::string& detail) {
    return ApplyRequestEvent(ctx_, tx, request, event, actor, detail, ctx_.clock.Now());
}

Result<void> RequestService::ApplyToDocument(Transaction& tx, SignatureRequest& request,
                                             Document& document, DocumentEvent event,
                                             const std::string& actor, const std::string& detail) {
    FIRMO_TRY(DocumentStatus next, Transition(document.status, event));
    const Timestamp now = ctx_.clock.Now();
    FIRMO_CHECK(tx.audit().Append(AuditEvent{
        0, request.id, now, std::string(ToString(event)), std::string(ToString(document.status)),
        std::string(ToString(next)), document.id, "", actor, detail}));
    document.status = next;
    document.updated_at = now;
    request.updated_at = now;
    if (next == DocumentStatus::kRejected) {
        FIRMO_CHECK(RecordEvent(ctx_, tx, request, "document.rejected",
                                EventData{"", document.id, detail}, now));
    }
    return {};
}

Result<bool> RequestService::ExpireIfDue(Transaction& tx, SignatureRequest& request) {
    if (IsTerminal(request.status) || ctx_.clock.Now() < request.expires_at) return false;
    if (!Transition(request.status, RequestEvent::kExpire)) return false;  // e.g. WAIT_FOR_QTSP
    FIRMO_CHECK(Apply(tx, request, RequestEvent::kExpire, "system", "expires_at passed"));
    FIRMO_CHECK(tx.requests().Update(request));
    return true;
}

bool RequestService::IsExpiryDue(const SignatureRequest& request) const {
    return !IsTerminal(request.status) && ctx_.clock.Now() >= request.expires_at &&
           Transition(request.status, RequestEvent::kExpire).has_value();
}

Result<SignatureRequest> RequestService::Get(const RequestScope& scope, const std::string& id) {
    // No transaction: the store reads the request with its signers and documents as one
    // statement (one snapshot; on PostgreSQL one round trip, without BEGIN and ROLLBACK).
    FIRMO_TRY(auto single, ctx_.db.Begin(TxMode::kSingle));
    FIRMO_TRY(auto request, Load(*single, scope, id));
    single.reset();
    if (!IsExpiryDue(request)) return request;
    // Expiry is enforced on read, not only by the sweeper: a reader never sees a live request
    // past its deadline.
    return InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<SignatureRequest> {
        FIRMO_TRY(auto fresh, Load(tx, scope, id));
        FIRMO_CHECK(ExpireIfDue(tx, fresh));
        return fresh;
    });
}

Result<Page<SignatureRequest>> RequestService::List(const RequestScope& scope,
                                                    const RequestFilter& filter, PageQuery page) {
    const std::string& issuer_id = scope.issuer_id;
    page = NormalizePage(ctx_.limits, page);
    const auto list = [&] {
        return InReadTransaction(ctx_.db, [&](Transaction& tx) -> Result<Page<SignatureRequest>> {
            if (filter.dossier_id) {
                FIRMO_TRY(auto dossier, tx.dossiers().Find(issuer_id, *filter.dossier_id));
                if (!dossier) {
                    return Fail(ErrorCode::kNotFound,
                                "dossier " + *filter.dossier_id + " not found");
                }
            }
            RequestFilter scoped = filter;
            scoped.test = scope.test;  // a key lists its mode's requests only
            return tx.requests().List(issuer_id, scoped, page);
        });
    };
    FIRMO_TRY(auto result, list());
    // As on a single read, expiry applies before anyone sees the list; then list again, since
    // a status filter may no longer match.
    bool expired_any = false;
    for (const auto& request : result.items) {
        if (!IsExpiryDue(request)) continue;
        FIRMO_CHECK(Get(scope, request.id));
        expired_any = true;
    }
    if (!expired_any) return result;
    return list();
}

Result<std::vector<AuditEvent>> RequestService::Events(const RequestScope& scope,
                                                       const std::string& id) {
    FIRMO_CHECK(Get(scope, id));  // applies expiry, so the log shows it
    return InReadTransaction(ctx_.db, [&](Transaction& tx) { return tx.audit().List(id); });
}

Result<void> RequestService::CheckUploadable(const RequestScope& scope,
                                             const std::string& request_id,
                                             const std::string& document_id) {
    FIRMO_TRY(auto request, Get(scope, request_id));
    if (!request.FindDocument(document_id)) {
        return Fail(ErrorCode::kNotFound, "document " + document_id + " not found in request");
    }
    if (request.status != RequestStatus::kDraft) {
        return Fail(ErrorCode::kConflict,
                    "documents can only be uploaded while the request is "
                    "DRAFT (it is " +
                        std::string(ToString(request.status)) + ")");
    }
    return {};
}

Result<void> RequestService::CheckUploadSize(std::string_view bytes) const {
    if (static_cast<std::int64_t>(bytes.size()) > ctx_.limits.max_document_bytes) {
        return Fail(ErrorCode::kPayloadTooLarge,
                    "documents may be at most " + std::to_string(ctx_.limits.max_document_bytes) +
                        " bytes");
    }
    if (bytes.empty()) return Fail(ErrorCode::kInvalidArgument, "the upload is empty");
    return {};
}

Result<Document> RequestService::UploadDocument(const RequestScope& scope,
                                                const std::string& request_id,
                                                const std::string& document_id,
                                                const Upload& upload) {
    const std::string& issuer_id = scope.issuer_id;
    FIRMO_CHECK(CheckUploadSize(upload.bytes));
    FIRMO_CHECK(CheckUploadable(scope, request_id, document_id));

    // The bytes go to the blob store before the transaction (a slow write must not hold the
    // database lock). Each upload has its own key, so a re-upload never changes the bytes a
    // running validation reads; an upload whose transaction fails leaves an unreferenced blob.
    const std::string nonce = NewUlid(ctx_.clock.Now(), ctx_.random);
    const std::string staging_key =
        "requests/" + request_id + "/" + document_id + "/upload-" + nonce + ".pdf";
    FIRMO_TRY(BlobInfo info, ctx_.blobs.Put(staging_key, upload.bytes));

    auto result = AcceptUpload(issuer_id, request_id, document_id, staging_key, info, upload.actor);
    if (!result) (void)ctx_.blobs.Remove(staging_key);
    return result;
}

Result<Document> RequestService::AcceptUpload(const std::string& issuer_id,
                                              const std::string& request_id,
                                              const std::string& document_id,
                                              const std::string& blob_key, const BlobInfo& info,
                                              const std::string& actor) {
    auto result = InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<Document> {
        FIRMO_TRY(auto request, Load(tx, issuer_id, request_id));
        FIRMO_TRY(bool expired, ExpireIfDue(tx, request));
        if (expired) FIRMO_CHECK(tx.Commit());  // keep the expiry, refuse the upload
        if (expired || request.status != RequestStatus::kDraft) {
            return Fail(ErrorCode::kConflict,
                        "documents can only be uploaded while the request is DRAFT");
        }
        Document* doc = request.FindDocument(document_id);
        if (!doc) return Fail(ErrorCode::kNotFound, "document " + document_id + " not found");
        FIRMO_CHECK(
            ApplyToDocument(tx, request, *doc, DocumentEvent::kUpload, actor,
                            std::to_string(info.size) + " bytes, sha256 " + info.sha256_hex));
        doc->upload_generation += 1;
        doc->blob_key = blob_key;
        doc->size = info.size;
        doc->sha256_hex = info.sha256_hex;
        doc->uploaded_at = ctx_.clock.Now();
        doc->reject_reason.clear();
        doc->violations.clear();
        doc->page_count = 0;
        FIRMO_CHECK(tx.requests().Update(request));
        Job job;
        job.kind = JobKind::kValidateDocument;
        job.issuer_id = issuer_id;
        job.request_id = request_id;
        job.document_id = document_id;
        job.generation = doc->upload_generation;
        job.run_at = ctx_.clock.Now();
        job.created_at = job.run_at;
        FIRMO_CHECK(tx.jobs().Enqueue(job));
        return *doc;
    });
    if (result) ctx_.db.AfterCommit(ctx_.on_job_enqueued);
    return result;
}

Result<std::string> RequestService::BeginDirectUpload(const RequestScope& scope,
                                                      const std::string& request_id,
                                                      const std::string& document_id,
                                                      std::chrono::seconds ttl) {
    const std::string& issuer_id = scope.issuer_id;
    const Timestamp now = ctx_.clock.Now();
    const Timestamp not_after = now + ttl + kDirectUploadGrace;
    // Staging keys live under "uploads/", apart from the documents, so that an object-store
    // lifecycle rule can sweep uploads nobody collected.
    std::string key =
        "uploads/" + request_id + "/" + document_id + "-" + NewUlid(now, ctx_.random) + ".pdf";
    FIRMO_TRY(key, InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<std::string> {
                  FIRMO_TRY(auto request, Load(tx, scope, request_id));
                  if (request.status != RequestStatus::kDraft) {
                      return Fail(ErrorCode::kConflict,
                                  "documents can only be uploaded while the request is DRAFT");
                  }
                  if (!request.FindDocument(document_id)) {
                      return Fail(ErrorCode::kNotFound, "document " + document_id + " not found");
                  }
                  FIRMO_TRY(auto open,
                            tx.jobs().FindOpen(JobKind::kAwaitUpload, request_id, document_id));
                  if (open) {
                      // Every URL of the document points at the one staging key its job watches.
                      if (open->not_after < not_after) {
                          FIRMO_CHECK(tx.jobs().Extend(open->id, not_after));
                      }
                      return open->blob_key;
                  }
                  Job job;
                  job.kind = JobKind::kAwaitUpload;
                  job.issuer_id = issuer_id;
                  job.request_id = request_id;
                  job.document_id = document_id;
                  job.run_at = now + std::chrono::seconds(1);
                  job.blob_key = key;
                  job.created_at = now;
                  job.not_after = not_after;
                  FIRMO_CHECK(tx.jobs().Enqueue(job));
                  return key;
              }));
    return ctx_.blobs.DirectUploadUrl(key, ttl, "application/pdf");
}

std::optional<std::string> RequestService::SignedDocumentDirectUrl(const Document& doc,
                                                                   std::chrono::seconds ttl) {
    if (!ctx_.blobs.SupportsDirectUrls() || !doc.signed_blob_key) return std::nullopt;
    auto url = ctx_.blobs.DirectDownloadUrl(*doc.signed_blob_key, ttl, "application/pdf",
                                            doc.id + "-signed.pdf");
    if (!url) {
        log::Error("direct_download_url_failed",
                   {{"document_id", doc.id}, {"error", url.error().message}});
        return std::nullopt;
    }
    return *url;
}

Result<std::optional<Timestamp>> RequestService::RunAwaitUpload(const Job& job) {
    const Timestamp now = ctx_.clock.Now();
    // Look often at first (an issuer usually uploads right after asking for the URL), then
    // every 15 s at most: a fifth of the time waited so far, within 1..15 s.
    const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(now - job.created_at);
    const auto pause = std::clamp<std::chrono::milliseconds>(waited / 5, std::chrono::seconds(1),
                                                             std::chrono::seconds(15));
    const std::optional<Timestamp> again =
        now + pause < job.not_after ? std::make_optional(now + pause) : std::nullopt;

    auto request = InReadTransaction(
        ctx_.db, [&](Transaction& tx) { return Load(tx, job.issuer_id, job.request_id); });
    if (!request && request.error().code != ErrorCode::kNotFound) return Fail(request.error());
    if (!request || request->status != RequestStatus::kDraft ||
        !request->FindDocument(job.document_id)) {
        (void)ctx_.blobs.Remove(job.blob_key);  // an upload too late to be taken
        return std::optional<Timestamp>();
    }
    FIRMO_TRY(auto found, ctx_.blobs.Stat(job.blob_key));
    if (!found) return again;

    const std::string max = std::to_string(ctx_.limits.max_document_bytes);
    std::string bytes;
    if (found->size > ctx_.limits.max_document_bytes) {
        FIRMO_CHECK(RejectDirectUpload(job, "the upload has " + std::to_string(found->size) +
                                                " bytes; documents may be at most " + max));
    } else if (found->size == 0) {
        FIRMO_CHECK(RejectDirectUpload(job, "the upload is empty"));
    } else {
        FIRMO_TRY(bytes, ctx_.blobs.Get(job.blob_key));
        if (static_cast<std::int64_t>(bytes.size()) > ctx_.limits.max_document_bytes) {
            FIRMO_CHECK(RejectDirectUpload(job, "documents may be at most " + max + " bytes"));
            bytes.clear();
        }
    }
    if (!bytes.empty()) {
        // Copied to a key no URL reaches, so what is validated and signed cannot change
        // afterwards (the URL stays valid until it expires). A re-upload through the URL
        // lands on the staging key again and is taken as a new upload.
        const std::string key = "requests/" + job.request_id + "/" + job.document_id + "/upload-" +
                                NewUlid(now, ctx_.random) + ".pdf";
        FIRMO_TRY(BlobInfo info, ctx_.blobs.Put(key, bytes));
        auto accepted =
            AcceptUpload(job.issuer_id, job.request_id, job.document_id, key, info, "upload-url");
        if (!accepted) {
            (void)ctx_.blobs.Remove(key);
            if (accepted.error().code != ErrorCode::kConflict &&
                accepted.error().code != ErrorCode::kNotFound) {
                return Fail(accepted.error());  // retried; the staging object is still there
            }
        }
        log::Info("direct_upload_taken", {{"request_id", job.request_id},
                                          {"document_id", job.document_id},
                                          {"bytes", std::to_string(info.size)}});
    }
    // Taken (or refused): the staging key is free for the next upload through the URL.
    FIRMO_CHECK(ctx_.blobs.Remove(job.blob_key));
    return again;
}

Result<void> RequestService::RejectDirectUpload(const Job& job, const std::string& reason) {
    return InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<void> {
        FIRMO_TRY(auto request, Load(tx, job.issuer_id, job.request_id));
        Document* doc = request.FindDocument(job.document_id);
        if (!doc || request.status != RequestStatus::kDraft) return {};
        // As an upload that failed validation: the issuer sees REJECTED and the reason.
        FIRMO_CHECK(ApplyToDocument(tx, request, *doc, DocumentEvent::kUpload, "upload-url",
                                    "direct upload"));
        doc->upload_generation += 1;
        doc->blob_key.reset();
        doc->size = 0;
        doc->sha256_hex.clear();
        doc->page_count = 0;
        doc->violations = {{"file", reason}};
        doc->reject_reason = JoinReasons(doc->violations);
        FIRMO_CHECK(ApplyToDocument(tx, request, *doc, DocumentEvent::kValidationFailed,
                                    "upload-url", reason));
        return tx.requests().Update(request);
    });
}

Result<SignatureRequest> RequestService::ChangeStatus(const RequestScope& scope,
                                                      const std::string& id, RequestedStatus status,
                                                      const std::string& actor) {
    return InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<SignatureRequest> {
        FIRMO_TRY(auto request, Load(tx, scope, id));
        FIRMO_TRY(bool expired, ExpireIfDue(tx, request));
        if (expired) {
            // Commit the expiry, but report the conflict: the caller asked for something else.
            FIRMO_CHECK(tx.Commit());
            return Fail(ErrorCode::kConflict, "the request expired at its expires_at");
        }
        if (status == RequestedStatus::kReady || status == RequestedStatus::kReadyForSignature) {
            std::vector<Violation> not_ready;
            for (const auto& doc : request.documents) {
                if (doc.status != DocumentStatus::kReady) {
                    not_ready.push_back(
                        {"documents[" + std::to_string(doc.index) + "]",
                         "document " + doc.id + " is " + std::string(ToString(doc.status))});
                }
            }
            if (request.status == RequestStatus::kDraft && !not_ready.empty()) {
                return Fail(Error{ErrorCode::kConflict,
                                  std::to_string(not_ready.size()) +
                                      " document(s) are not READY: " + JoinReasons(not_ready),
                                  std::move(not_ready)});
            }
            FIRMO_CHECK(Apply(tx, request, RequestEvent::kMarkReady, actor, ""));
            if (request.auto_notify) FIRMO_CHECK(NotifyIn(tx, request, "system"));
            if (status == RequestedStatus::kReadyForSignature &&
                request.status == RequestStatus::kReady) {
                FIRMO_CHECK(Apply(tx, request, RequestEvent::kSendForSignature, actor,
                                  "ready for signature (io-sign)"));
            }
        } else {
            FIRMO_CHECK(Apply(tx, request, RequestEvent::kCancel, actor, ""));
        }
        FIRMO_CHECK(tx.requests().Update(request));
        return request;
    });
}

Result<SignatureRequest> RequestService::ChangeDeadline(const RequestScope& scope,
                                                        const std::string& id, Timestamp expires_at,
                                                        const std::string& actor) {
    const Timestamp now = ctx_.clock.Now();
    if (expires_at <= now) return FailValidation({{"expires_at", "must be in the future"}});
    if (expires_at > now + ctx_.limits.max_expiry) {
        return FailValidation({{"expires_at", "must be at most 90 days ahead"}});
    }
    return InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<SignatureRequest> {
        FIRMO_TRY(auto request, Load(tx, scope, id));
        FIRMO_TRY(bool expired, ExpireIfDue(tx, request));
        if (expired) {
            FIRMO_CHECK(tx.Commit());
            return Fail(ErrorCode::kConflict, "the request expired at its expires_at");
        }
        if (IsTerminal(request.status) || request.status == RequestStatus::kWaitForQtsp) {
            // While the trust service signs, an expiry must not race its outcome (as a cancel).
            return Fail(ErrorCode::kConflict, "the deadline of a " +
                                                  std::string(ToString(request.status)) +
                                                  " request cannot change");
        }
        if (request.activates_at && expires_at <= *request.activates_at) {
            return FailValidation({{"expires_at", "must be after the request's activates_at (" +
                                                      FormatRfc3339(*request.activates_at) + ")"}});
        }
        const std::string detail =
            "expires_at " + FormatRfc3339(request.expires_at) + " -> " + FormatRfc3339(expires_at);
        request.expires_at = expires_at;
        request.updated_at = now;
        FIRMO_CHECK(tx.audit().Append(AuditEvent{0, request.id, now, "signature_request.updated",
                                                 "", "", "", "", actor, detail}));
        FIRMO_CHECK(RecordEvent(ctx_, tx, request, "signature_request.updated",
                                EventData{"", "", detail}, now));
        FIRMO_CHECK(tx.requests().Update(request));
        return request;
    });
}

Result<std::string> RequestService::Notify(const RequestScope& scope, const std::string& id,
                                           const std::string& actor) {
    return InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<std::string> {
        FIRMO_TRY(auto request, Load(tx, scope, id));
        FIRMO_TRY(bool expired, ExpireIfDue(tx, request));
        if (expired) {
            FIRMO_CHECK(tx.Commit());
            return Fail(ErrorCode::kConflict, "the request expired at its expires_at");
        }
        if (request.notification_id) return *request.notification_id;
        if (request.status != RequestStatus::kReady &&
            request.status != RequestStatus::kWaitForSignature) {
            return Fail(ErrorCode::kConflict, "only a READY request can be notified (it is " +
                                                  std::string(ToString(request.status)) + ")");
        }
        FIRMO_CHECK(NotifyIn(tx, request, actor));
        FIRMO_CHECK(tx.requests().Update(request));
        return *request.notification_id;
    });
}

Result<void> RequestService::NotifyIn(Transaction& tx, SignatureRequest& request,
                                      const std::string& actor) {
    const Timestamp now = ctx_.clock.Now();
    request.notification_id = NewUlid(now, ctx_.random);
    if (request.activates_at && now < *request.activates_at) {
        // Before the activation time the signers hear nothing: a job tells them at that time.
        Job job;
        job.kind = JobKind::kActivateRequest;
        job.issuer_id = request.issuer_id;
        job.request_id = request.id;
        job.run_at = *request.activates_at;
        job.created_at = now;
        FIRMO_CHECK(tx.jobs().Enqueue(job).map([](std::int64_t) {}));
        FIRMO_CHECK(
            tx.audit().Append(AuditEvent{0, request.id, now, "notification.scheduled", "", "", "",
                                         "", actor, "at " + FormatRfc3339(*request.activates_at)}));
    } else {
        FIRMO_TRY(auto dossier, tx.dossiers().Find(request.issuer_id, request.dossier_id));
        FIRMO_TRY(int sent, MessageSignersWhoseTurn(ctx_, tx, request,
                                                    NotificationTitle(request, dossier), now));
        FIRMO_CHECK(
            tx.audit().Append(AuditEvent{0, request.id, now, "notification.sent", "", "", "", "",
                                         actor, std::to_string(sent) + " message(s)"}));
    }
    if (request.status == RequestStatus::kReady) {
        FIRMO_CHECK(Apply(tx, request, RequestEvent::kSendForSignature, actor, "notified"));
    }
    request.updated_at = now;
    return {};
}

Result<int> RequestService::SendReminders(int limit) {
    const Timestamp now = ctx_.clock.Now();
    std::chrono::hours longest{0};
    for (const auto& r : ctx_.notifications.reminders) longest = std::max(longest, r.before_expiry);
    if (longest.count() == 0) return 0;
    FIRMO_TRY(auto due, InReadTransaction(ctx_.db, [&](Transaction& tx) {
                  return tx.requests().ListRemindable(now + longest, limit);
              }));
    int queued = 0;
    for (const auto& entry : due) {
        const std::string& issuer_id = entry.first;
        const std::string& request_id = entry.second;
        auto r = InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<int> {
            FIRMO_TRY(auto request, Load(tx, issuer_id, request_id));
            int n = 0;
            for (std::size_t i = 0; i < request.signers.size(); ++i) {
                const RequestSigner& rs = request.signers[i];
                if (rs.status != SignerStatus::kWaiting || rs.confirmed_at ||
                    !IsTurnOf(request, i) || !IsActive(request, now)) {
                    continue;
                }
                FIRMO_TRY(auto signer, tx.signers().Find(issuer_id, rs.signer_id));
                if (!signer) continue;
                for (const auto& reminder : ctx_.notifications.reminders) {
                    if (now < request.expires_at - reminder.before_expiry) continue;
                    // One reminder per schedule entry and signer, however often the sweep runs.
                    FIRMO_TRY(int q,
                              QueueSignerMessage(
                                  ctx_, tx, request, *signer, "reminder",
                                  "reminder-" + std::to_string(reminder.before_expiry.count()) +
                                      "h-" + request.id,
                                  "", now, reminder.channel));
                    n += q;
                }
            }
            return n;
        });
        if (!r) {
            log::Warn("reminders_failed",
                      {{"request_id", request_id}, {"error", r.error().message}});
        } else {
            queued += *r;
        }
    }
    return queued;
}

Result<std::vector<std::pair<std::string, std::string>>> RequestService::IssueRedirectTokens(
    const RequestScope& scope, const std::string& id, const std::optional<std::string>& signer_id,
    std::chrono::minutes ttl) {
    using Tokens = std::vector<std::pair<std::string, std::string>>;
    return InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<Tokens> {
        FIRMO_TRY(auto request, Load(tx, scope, id));
        if (!request.redirect) {
            return Fail(ErrorCode::kConflict,
                        "the request was created without redirect URLs (direct flow)");
        }
        if (IsTerminal(request.status)) {
            return Fail(ErrorCode::kConflict,
                        "the request is " + std::string(ToString(request.status)));
        }
        const Timestamp now = ctx_.clock.Now();
        Tokens tokens;
        for (const auto& s : request.signers) {
            if (signer_id && s.signer_id != *signer_id) continue;
            if (s.status != SignerStatus::kWaiting) {
                if (signer_id) {
                    return Fail(ErrorCode::kConflict,
                                "the signer is " + std::string(ToString(s.status)));
                }
                continue;
            }
            const std::string token = NewSecretToken(ctx_.random);
            FIRMO_CHECK(tx.signer_tokens().Revoke(request.id, s.signer_id,
                                                  SignerTokenKind::kRedirect, now));
            FIRMO_CHECK(tx.signer_tokens().Insert(
                SignerToken{ctx_.hasher.Sha256Hex(token), SignerTokenKind::kRedirect, request.id,
                            s.signer_id, now, now + ttl, std::nullopt}));
            tokens.emplace_back(s.signer_id, token);
        }
        if (signer_id && tokens.empty()) {
            return Fail(ErrorCode::kNotFound, "signer " + *signer_id + " is not on this request");
        }
        return tokens;
    });
}

Result<SignatureRequest> RequestService::GetWithStatusQueryToken(const RequestScope& scope,
                                                                 const std::string& id,
                                                                 const std::string& token) {
    FIRMO_TRY(auto request, Get(scope, id));
    FIRMO_TRY(auto found, InReadTransaction(ctx_.db, [&](Transaction& tx) {
                  return tx.signer_tokens().Find(ctx_.hasher.Sha256Hex(token));
              }));
    if (!found || found->kind != SignerTokenKind::kStatusQuery || found->request_id != id ||
        found->used_at || ctx_.clock.Now() >= found->expires_at) {
        return Fail(ErrorCode::kForbidden, "the status_query_token is not valid for this request");
    }
    return request;
}

Result<std::string> RequestService::SignedDocument(const RequestScope& scope, const std::string& id,
                                                   const std::string& document_id) {
    FIRMO_TRY(auto request, Get(scope, id));
    const Document* doc = request.FindDocument(document_id);
    if (!doc) return Fail(ErrorCode::kNotFound, "document " + document_id + " not found");
    FIRMO_CHECK(CheckDocumentsKept(request));
    if (request.status != RequestStatus::kSigned || !doc->signed_blob_key) {
        return Fail(ErrorCode::kConflict, "the signed document exists once the request is SIGNED");
    }
    return ctx_.blobs.Get(*doc->signed_blob_key);
}

Result<std::string> RequestService::DocumentContent(const RequestScope& scope,
                                                    const std::string& id,
                                                    const std::string& document_id) {
    FIRMO_TRY(auto request, Get(scope, id));
    const Document* doc = request.FindDocument(document_id);
    if (!doc) return Fail(ErrorCode::kNotFound, "document " + document_id + " not found");
    FIRMO_CHECK(CheckDocumentsKept(request));
    if (doc->status != DocumentStatus::kReady || !doc->CurrentBlobKey()) {
        return Fail(ErrorCode::kConflict, "the document is " + std::string(ToString(doc->status)));
    }
    return ctx_.blobs.Get(*doc->CurrentBlobKey());
}

Result<void> RequestService::RunValidation(const Job& job) {
    FIRMO_TRY(auto request, InReadTransaction(ctx_.db, [&](Transaction& tx) {
                  return Load(tx, job.issuer_id, job.request_id);
              }));
    const Document* doc = request.FindDocument(job.document_id);
    if (!doc || doc->upload_generation != job.generation ||
        doc->status != DocumentStatus::kWaitForValidation || !doc->blob_key) {
        return {};  // superseded by a newer upload, or already done
    }
    ValidationReport report;
    FIRMO_CHECK(ctx_.blobs.WithLocalFile(*doc->blob_key, [&](const std::filesystem::path& path) {
        report = ctx_.validator.ValidateFile(path, doc->metadata.signature_fields);
    }));
    return InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<void> {
        FIRMO_TRY(auto fresh, Load(tx, job.issuer_id, job.request_id));
        Document* d = fresh.FindDocument(job.document_id);
        if (!d || d->upload_generation != job.generation ||
            d->status != DocumentStatus::kWaitForValidation) {
            return {};
        }
        d->page_count = report.page_count;
        if (report.is_valid) {
            FIRMO_CHECK(ApplyToDocument(tx, fresh, *d, DocumentEvent::kValidationPassed, "worker",
                                        std::to_string(report.page_count) + " pages"));
        } else {
            d->violations = report.violations;
            d->reject_reason = JoinReasons(report.violations);
            FIRMO_CHECK(ApplyToDocument(tx, fresh, *d, DocumentEvent::kValidationFailed, "worker",
                                        d->reject_reason));
        }
        return tx.requests().Update(fresh);
    });
}

Result<void> RequestService::AbandonValidation(const Job& job, const std::string& error) {
    return InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<void> {
        FIRMO_TRY(auto request, Load(tx, job.issuer_id, job.request_id));
        Document* d = request.FindDocument(job.document_id);
        if (!d || d->upload_generation != job.generation ||
            d->status != DocumentStatus::kWaitForValidation) {
            return {};
        }
        // The issuer must learn that this upload will not become READY: reject it with a
        // reason that says to upload again (the cause is ours, so it goes to the log only).
        d->violations = {{"file", "the document could not be validated; upload it again"}};
        d->reject_reason = JoinReasons(d->violations);
        FIRMO_CHECK(ApplyToDocument(tx, request, *d, DocumentEvent::kValidationFailed, "worker",
                                    "validation abandoned after repeated failures: " + error));
        return tx.requests().Update(request);
    });
}

Result<void> RequestService::RunActivation(const Job& job) {
    const Timestamp now = ctx_.clock.Now();
    return InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<void> {
        FIRMO_TRY(auto request, Load(tx, job.issuer_id, job.request_id));
        // A request that ended before it opened tells nobody; a repeated run sends nothing
        // twice (messages are deduplicated per request and signer).
        if (IsTerminal(request.status) || !request.notification_id) return {};
        FIRMO_TRY(auto dossier, tx.dossiers().Find(request.issuer_id, request.dossier_id));
        FIRMO_TRY(int sent, MessageSignersWhoseTurn(ctx_, tx, request,
                                                    NotificationTitle(request, dossier), now));
        return tx.audit().Append(AuditEvent{0, request.id, now, "notification.sent", "", "", "", "",
                                            "worker",
                                            "activated: " + std::to_string(sent) + " message(s)"});
    });
}

Result<SignatureRequest> RequestService::DeleteDocuments(const RequestScope& scope,
                                                         const std::string& id,
                                                         const std::string& actor) {
    FIRMO_TRY(auto request, Get(scope, id));  // a request past its deadline expires first
    if (!IsTerminal(request.status)) {
        return Fail(ErrorCode::kNotFinal, "the documents of a " +
                                              std::string(ToString(request.status)) +
                                              " request cannot be deleted: only a final one's");
    }
    if (request.documents_deleted_at) return request;
    // The bytes go first, then the mark: a crash in between leaves a request the next call or
    // sweep finishes (removing a missing blob succeeds), never a mark over bytes still kept.
    int files = 0;
    for (const auto& doc : request.documents) {
        for (const auto& key : {doc.blob_key, doc.signed_blob_key}) {
            if (!key) continue;
            FIRMO_CHECK(ctx_.blobs.Remove(*key));
            ++files;
        }
    }
    const Timestamp now = ctx_.clock.Now();
    return InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<SignatureRequest> {
        FIRMO_TRY(auto fresh, Load(tx, scope, id));
        if (fresh.documents_deleted_at) return fresh;  // another node was first
        const std::string detail = std::to_string(files) + " file(s) deleted";
        fresh.documents_deleted_at = now;
        fresh.updated_at = now;
        FIRMO_CHECK(
            tx.audit().Append(AuditEvent{0, fresh.id, now, "signature_request.documents_deleted",
                                         "", "", "", "", actor, detail}));
        FIRMO_CHECK(RecordEvent(ctx_, tx, fresh, "signature_request.documents_deleted",
                                EventData{"", "", detail}, now));
        FIRMO_CHECK(tx.requests().Update(fresh));
        return fresh;
    });
}

Result<int> RequestService::DeleteRetainedDocuments(int limit) {
    if (ctx_.limits.documents_retention.count() <= 0) return 0;
    const Timestamp before = ctx_.clock.Now() - ctx_.limits.documents_retention;
    FIRMO_TRY(auto due, InReadTransaction(ctx_.db, [&](Transaction& tx) {
                  return tx.requests().ListDocumentsRetained(before, limit);
              }));
    int deleted = 0;
    for (const auto& entry : due) {
        auto r = DeleteDocuments(entry.first, entry.second, "retention");
        if (!r) {
            log::Warn("retention_failed",
                      {{"request_id", entry.second}, {"error", r.error().message}});
        } else {
            ++deleted;
        }
    }
    return deleted;
}

Result<int> RequestService::ExpireDue(int limit) {
    FIRMO_TRY(auto due, InReadTransaction(ctx_.db, [&](Transaction& tx) {
                  return tx.requests().ListExpired(ctx_.clock.Now(), limit);
              }));
    int expired = 0;
    for (const auto& entry : due) {
        // Named copies: clang 14 cannot capture structured bindings in a lambda.
        const std::string& issuer_id = entry.first;
        const std::string& request_id = entry.second;
        auto r = InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<bool> {
            FIRMO_TRY(auto request, Load(tx, issuer_id, request_id));
            return ExpireIfDue(tx, request);
        });
        if (!r) {
            log::Warn("expiry_failed", {{"request_id", request_id}, {"error", r.error().message}});
        } else if (*r) {
            ++expired;
        }
    }
    return expired;
}

}  // namespace firmo::domain
