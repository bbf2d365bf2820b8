// CeremonyService with signing.provider = "csc" (docs/QTSP.md): at confirmation every
// document of the signer is prepared with the provider's certificate chain (the staged
// pipeline's prepare stage), the prepared signatures are kept in the blob store (any node may
// finish them), and the signer authorizes the hashes at the provider. The callback hands over
// the code; a signing job exchanges it, calls signHash, embeds the values, adds the long-term
// proof and moves the request on exactly as for built-in signatures.
//
// What is kept, per authorization (shared storage, so it survives a restart and serves every
// node): in the blob store
//   requests/{r}/qtsp/{signer}/{state_hash}.bundle  the prepared signatures (text, below)
//   requests/{r}/qtsp/{signer}/current              the pending attempt: state hash and URL
// and on the authorization's row (qtsp_authorizations) the callback's code and, once a job
// exchanged it, the credential token with its expiry, both sealed by the adapter; a retry on
// any node uses the token, and both are cleared once signHash answered.
// (`{state_hash}.code` in the blob store: the code of an authorization from before migration 20.)
//
// One signature per document and signer: the provider authorizes every hash at once, and a
// second signature in the same file could only be prepared after the first is embedded. The
// signer's first field carries it (its reason names every accepted clause); without a field,
// an invisible one.

#include <sstream>

#include "core/encoding.hpp"
#include "core/ids.hpp"
#include "core/log.hpp"
#include "core/scratch_dir.hpp"
#include "domain/services/ceremony_internal.hpp"
#include "domain/services/request_steps.hpp"
#include "domain/text.hpp"

namespace firmo::domain {

namespace fs = std::filesystem;
using namespace ceremony_internal;  // NOLINT(google-build-using-namespace)

namespace {

constexpr std::string_view kBundleMagic = "firmo-qtsp-bundle 1";
// A kept credential token is used only while it has this much life left.
constexpr std::chrono::seconds kTokenMargin{30};

struct BundleDocument {
    std::string document_id;
    std::string source_key;  // the version the signature was prepared on
    int expected_count = 0;  // its signature_count then
    int clauses = 0;         // fields this signature stands for (for the audit log)
    std::string digest;      // raw SHA-256 of the signed attributes
    std::string prepared;    // StagedSignature::prepared
};

struct Bundle {
    std::string state_hash;
    std::string signer_id;
    std::string credential_id;
    std::string credential_note;
    std::vector<BundleDocument> documents;
};

std::string Prefix(const std::string& request_id, const std::string& signer_id) {
    return "requests/" + request_id + "/qtsp/" + signer_id + "/";
}

// Line-based text; every free value in base64url, so no separator can hide in one.
std::string Serialize(const Bundle& b) {
    std::string out(kBundleMagic);
    out += "\nstate " + b.state_hash + "\nsigner " + Base64UrlEncode(b.signer_id) +
           "\ncredential " + Base64UrlEncode(b.credential_id) + "\nnote " +
           Base64UrlEncode(b.credential_note) + "\n";
    for (const auto& d : b.documents) {
        out += "doc " + Base64UrlEncode(d.document_id) + " " + Base64UrlEncode(d.source_key) + " " +
               std::to_string(d.expected_count) + " " + std::to_string(d.clauses) + " " +
               Base64UrlEncode(d.digest) + " " + Base64UrlEncode(d.prepared) + "\n";
    }
    return out;
}

Result<Bundle> ParseBundle(const std::string& text) {
    const auto bad = [] { return Fail(ErrorCode::kMalformed, "a stored QTSP bundle is damaged"); };
    std::istringstream in(text);
    std::string line;
    if (!std::getline(in, line) || line != kBundleMagic) return bad();
    Bundle b;
    const auto decode = [](const std::string& v) { return Base64UrlDecode(v); };
    while (std::getline(in, line)) {
        std::istringstream words(line);
        std::string tag;
        words >> tag;
        if (tag == "state") {
            words >> b.state_hash;
        } else if (tag == "signer" || tag == "credential" || tag == "note") {
            std::string v;
            words >> v;
            auto d = decode(v);
            if (!d) return bad();
            (tag == "signer"       ? b.signer_id
             : tag == "credential" ? b.credential_id
                                   : b.credential_note) = *d;
        } else if (tag == "doc") {
            std::string id, key, digest, prepared;
            BundleDocument doc;
            if (!(words >> id >> key >> doc.expected_count >> doc.clauses >> digest >> prepared)) {
                return bad();
            }
            auto i = decode(id), k = decode(key), g = decode(digest), p = decode(prepared);
            if (!i || !k || !g || !p) return bad();
            doc.document_id = *i;
            doc.source_key = *k;
            doc.digest = *g;
            doc.prepared = *p;
            b.documents.push_back(std::move(doc));
        } else if (!tag.empty()) {
            return bad();
        }
    }
    if (b.state_hash.empty() || b.documents.empty()) return bad();
    return b;
}

// "current": the pending attempt's state hash and URL.
struct Current {
    std::string state_hash;
    std::string url;
};

Result<std::optional<Current>> ReadCurrent(BlobStore& blobs, const std::string& prefix) {
    FIRMO_TRY(auto stat, blobs.Stat(prefix + "current"));
    if (!stat) return std::optional<Current>();
    FIRMO_TRY(std::string text, blobs.Get(prefix + "current"));
    const auto nl = text.find('\n');
    if (nl == std::string::npos) return std::optional<Current>();
    return std::make_optional(Current{text.substr(0, nl), text.substr(nl + 1)});
}

}  // namespace

Result<std::string> CeremonyService::BeginQtsp(const std::string& request_id,
                                               const std::string& signer_id) {
    FIRMO_TRY(auto access, InReadTransaction(ctx_.db, [&](Transaction& tx) {
                  return LoadSignerAccess(tx, request_id, signer_id);
              }));
    const SignatureRequest& r = access.request;
    const RequestSigner& rs = access.request_signer();
    std::string user_id = access.signer.identifier;
    if (qtsp_.user_id_from_email) {
        if (!access.signer.email) {
            return Fail(ErrorCode::kConflict,
                        "the trust service provider knows signers by e-mail, and this signer "
                        "has none");
        }
        user_id = *access.signer.email;
    }
    FIRMO_TRY(QtspCredential credential, qtsp_.gateway->FindCredential(user_id));
    const Timestamp now = ctx_.clock.Now();

    Bundle bundle;
    bundle.signer_id = signer_id;
    bundle.credential_id = credential.id;
    bundle.credential_note = credential.description;
    std::vector<std::string> digests;
    for (const auto& doc : r.documents) {
        if (!doc.CurrentBlobKey()) return Fail(ErrorCode::kInternal, "document has no file");
        const auto fields = FieldsToSign(doc, r, access.position, rs.accepted_fields);
        SignatureField field = InvisibleField();
        SignatureDetails details;
        details.signer_name = rs.signing_name;
        details.signing_time = now;
        if (fields.empty()) {
            details.visible = false;
            details.reason = "Signed";
        } else {
            field = doc.metadata.signature_fields[static_cast<std::size_t>(fields.front())];
            for (int j : fields) {
                const auto& title =
                    doc.metadata.signature_fields[static_cast<std::size_t>(j)].clause.title;
                if (title.empty()) continue;
                if (!details.reason.empty()) details.reason += "; ";
                details.reason += title;
            }
        }
        StagedSignature staged;
        Result<void> prepared;
        FIRMO_CHECK(ctx_.blobs.WithLocalFile(*doc.CurrentBlobKey(), [&](const fs::path& in) {
            auto p = qtsp_.staged->Prepare(in, field, details, credential.credential);
            if (p) {
                staged = std::move(*p);
            } else {
                prepared = tl::unexpected<Error>(p.error());
            }
        }));
        FIRMO_CHECK(prepared);
        digests.push_back(staged.digest);
        bundle.documents.push_back({doc.id, *doc.CurrentBlobKey(), doc.signature_count,
                                    fields.empty() ? 1 : static_cast<int>(fields.size()),
                                    staged.digest, std::move(staged.prepared)});
    }
    FIRMO_TRY(QtspBegun begun, qtsp_.service->Begin(request_id, signer_id, credential.id, digests));
    bundle.state_hash = begun.state_hash;
    const std::string prefix = Prefix(request_id, signer_id);
    FIRMO_CHECK(ctx_.blobs.Put(prefix + begun.state_hash + ".bundle", Serialize(bundle)));
    FIRMO_CHECK(ctx_.blobs.Put(prefix + "current", begun.state_hash + "\n" + begun.url));
    FIRMO_CHECK(InWriteTransaction(ctx_.db, [&](Transaction& tx) {
        return tx.audit().Append(AuditEvent{
            0, request_id, now, "signer.qtsp_credential", "", "", "", signer_id, "trust-service",
            "credential " + credential.id + ": " + credential.description + "; " +
                std::to_string(digests.size()) + " signature(s) prepared"});
    }));
    return begun.url;
}

Result<void> CeremonyService::ReturnTurn(const std::string& request_id,
                                         const std::string& signer_id, const std::string& why) {
    const Timestamp now = ctx_.clock.Now();
    FIRMO_CHECK(InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<void> {
        FIRMO_TRY(auto access, LoadSignerAccess(tx, request_id, signer_id));
        SignatureRequest& r = access.request;
        RequestSigner& rs = r.signers[access.position];
        if (rs.status != SignerStatus::kWaiting || !rs.confirmed_at ||
            r.status != RequestStatus::kWaitForQtsp) {
            return {};  // signed, ended, or given back already
        }
        rs.confirmed_at.reset();
        bool others_pending = false;
        for (std::size_t i = 0; i < r.signers.size(); ++i) {
            if (i != access.position && r.signers[i].status == SignerStatus::kWaiting &&
                r.signers[i].confirmed_at) {
                others_pending = true;
            }
        }
        if (!others_pending) {
            FIRMO_CHECK(ApplyRequestEvent(ctx_, tx, r, RequestEvent::kQtspNotAuthorized,
                                          SignerActor(signer_id), why, now));
        }
        // A signer blocked meanwhile ends the request now, as after a signature.
        FIRMO_CHECK(FailIfBlocked(ctx_, tx, r, now));
        return tx.requests().Update(r);
    }));
    (void)ctx_.blobs.Remove(Prefix(request_id, signer_id) + "current");
    return {};
}

Result<void> CeremonyService::ReclaimExpired(const std::string& request_id,
                                             const std::string& signer_id) {
    FIRMO_TRY(auto current, ReadCurrent(ctx_.blobs, Prefix(request_id, signer_id)));
    if (!current) return {};
    FIRMO_TRY(auto a, qtsp_.service->Find(current->state_hash));
    if (a && a->outcome == "denied") {
        // Denied, but the turn was not given back (the node stopped in between): now.
        return ReturnTurn(request_id, signer_id,
                          "the signer did not authorize the signatures at the trust service "
                          "provider");
    }
    if (a && (a->finished_at || ctx_.clock.Now() < a->expires_at)) return {};
    return ReturnTurn(request_id, signer_id, "the QTSP authorization expired");
}

Result<std::optional<std::string>> CeremonyService::QtspAuthorizationUrl(
    const PortalSession& session, const std::string& request_id) {
    if (!UsesQtsp()) return std::optional<std::string>();
    FIRMO_TRY(auto access, sessions_.Access(session, request_id));
    const std::string& signer_id = access.request_signer().signer_id;
    FIRMO_CHECK(ReclaimExpired(request_id, signer_id));
    FIRMO_TRY(auto current, ReadCurrent(ctx_.blobs, Prefix(request_id, signer_id)));
    if (!current) return std::optional<std::string>();
    FIRMO_TRY(auto a, qtsp_.service->Find(current->state_hash));
    if (!a || a->finished_at) return std::optional<std::string>();
    return std::make_optional(current->url);
}

Result<void> CeremonyService::AcceptQtspTerms(const PortalSession& session,
                                              const std::string& request_id,
                                              const ClientInfo& client) {
    FIRMO_TRY(auto access, sessions_.Access(session, request_id));
    const std::string& signer_id = access.request_signer().signer_id;
    const Timestamp now = ctx_.clock.Now();
    return InWriteTransaction(ctx_.db, [&](Transaction& tx) {
        return tx.audit().Append(AuditEvent{
            0, request_id, now, "signer.qtsp_terms_accepted", "", "", "", signer_id,
            SignerActor(signer_id), "the trust service provider's terms " + ClientDetail(client)});
    });
}

Result<void> CeremonyService::Authorized(Transaction& tx, const QtspAuthorization& a,
                                         const std::string& code) {
    QtspAuthorization kept = a;
    FIRMO_TRY(kept.sealed_code, qtsp_.gateway->Seal(code));
    FIRMO_TRY(bool stored, tx.qtsp_authorizations().KeepSecrets(kept));
    if (!stored) return Fail(ErrorCode::kNotFound, "no such QTSP authorization");
    FIRMO_TRY(auto request, LoadSignerAccess(tx, a.request_id, a.signer_id));
    Job job;
    job.kind = JobKind::kSignDocuments;
    job.issuer_id = request.request.issuer_id;
    job.request_id = a.request_id;
    job.run_at = ctx_.clock.Now();
    job.blob_key = Prefix(a.request_id, a.signer_id) + a.state_hash + ".bundle";
    return tx.jobs().Enqueue(job).map([](std::int64_t) {});
}

Result<void> CeremonyService::Denied(const QtspAuthorization& a) {
    return ReturnTurn(a.request_id, a.signer_id,
                      a.outcome == "denied" ? "the signer did not authorize the signatures at the "
                                              "trust service provider"
                                            : "the QTSP authorization expired");
}

Result<void> CeremonyService::RunQtspSigning(const Job& job) {
    FIRMO_TRY(std::string text, ctx_.blobs.Get(job.blob_key));
    FIRMO_TRY(Bundle bundle, ParseBundle(text));
    FIRMO_TRY(auto access, InReadTransaction(ctx_.db, [&](Transaction& tx) {
                  return LoadSignerAccess(tx, job.request_id, bundle.signer_id);
              }));
    const RequestSigner& rs = access.request_signer();
    if (!rs.confirmed_at || rs.status != SignerStatus::kWaiting ||
        access.request.status != RequestStatus::kWaitForQtsp) {
        return {};  // signed already (a second run), or the request ended meanwhile
    }
    FIRMO_TRY(auto authorization, qtsp_.service->Find(bundle.state_hash));
    if (!authorization || authorization->outcome != "authorized") {
        return Fail(ErrorCode::kGone, "the QTSP authorization of these signatures is gone");
    }
    std::vector<std::string> digests;
    for (const auto& d : bundle.documents) digests.push_back(d.digest);
    // What is signed is exactly what the signer authorized.
    for (std::size_t i = 0; i < digests.size(); ++i) {
        if (i >= authorization->hashes.size() ||
            authorization->hashes[i] != Base64UrlEncode(digests[i])) {
            return Fail(ErrorCode::kInternal,
                        "the prepared signatures are not the authorized ones");
        }
    }
    const std::string prefix = Prefix(job.request_id, bundle.signer_id);
    const Timestamp now = ctx_.clock.Now();
    const auto audit = [&](const std::string& type, const std::string& detail) {
        return InWriteTransaction(ctx_.db, [&](Transaction& tx) {
            return tx.audit().Append(AuditEvent{0, job.request_id, ctx_.clock.Now(), type, "", "",
                                                "", bundle.signer_id, "trust-service", detail});
        });
    };
    const auto failed = [&](const Error& e) -> Result<void> {
        FIRMO_CHECK(audit("signer.qtsp_sign_failed",
                          "attempt " + std::to_string(job.attempts) + ": " + e.message));
        return tl::unexpected<Error>(e);
    };
    // The token of an earlier attempt (any node's), while the provider honours it: the code is
    // single-use, so a retried signHash must not exchange it again.
    QtspAuthorization kept = *authorization;
    if (kept.sealed_token.empty() || !kept.token_expires_at ||
        *kept.token_expires_at <= ctx_.clock.Now()) {
        if (kept.sealed_code.empty()) {
            // Authorized before migration 20, when the code was kept in the blob store; or
            // signed already by an attempt that failed afterwards (the code is spent).
            const std::string old_key = prefix + bundle.state_hash + ".code";
            FIRMO_TRY(auto stat, ctx_.blobs.Stat(old_key));
            if (!stat) {
                return failed(Error{ErrorCode::kGone,
                                    "the QTSP authorization of these signatures was used already"});
            }
            FIRMO_TRY(kept.sealed_code, ctx_.blobs.Get(old_key));
        }
        auto token = qtsp_.gateway->ExchangeCode(kept.sealed_code, kept.sealed_verifier);
        if (!token) return failed(token.error());
        kept.sealed_token = token->sealed;
        kept.token_expires_at =
            ctx_.clock.Now() + std::max(token->lifetime - kTokenMargin, std::chrono::seconds(0));
        FIRMO_CHECK(InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<void> {
            FIRMO_CHECK(tx.qtsp_authorizations().KeepSecrets(kept));
            return tx.audit().Append(AuditEvent{
                0, job.request_id, ctx_.clock.Now(), "signer.qtsp_token", "", "", "",
                bundle.signer_id, "trust-service",
                "attempt " + std::to_string(job.attempts) +
                    ": the authorization code exchanged for a credential token, valid " +
                    std::to_string(token->lifetime.count()) + " s, kept sealed for the retries"});
        }));
    }
    auto values = qtsp_.gateway->SignHashes(kept.sealed_token, bundle.credential_id, digests);
    if (!values) return failed(values.error());
    // The token is spent (numSignatures): forget it, and the code with it.
    kept.sealed_code.clear();
    kept.sealed_token.clear();
    kept.token_expires_at.reset();
    FIRMO_CHECK(InWriteTransaction(ctx_.db, [&](Transaction& tx) {
        return tx.qtsp_authorizations().KeepSecrets(kept).map([](bool) {});
    }));
    if (values->size() != digests.size()) {
        return Fail(ErrorCode::kUnavailable, "QTSP signatures/signHash returned " +
                                                 std::to_string(values->size()) + " values for " +
                                                 std::to_string(digests.size()) + " hashes");
    }
    FIRMO_CHECK(audit("signer.qtsp_signed", std::to_string(values->size()) +
                                                " signature value(s) from credential " +
                                                bundle.credential_id));

    FIRMO_TRY(auto scratch, ScratchDir::Create("firmo-qtsp"));
    std::vector<SignedDocument> results;
    const auto cleanup = [&] {
        for (const auto& res : results) (void)ctx_.blobs.Remove(res.key);
    };
    for (std::size_t i = 0; i < bundle.documents.size(); ++i) {
        const BundleDocument& d = bundle.documents[i];
        const Document* doc = access.request.FindDocument(d.document_id);
        if (!doc || doc->CurrentBlobKey() != d.source_key ||
            doc->signature_count != d.expected_count) {
            cleanup();
            return Fail(ErrorCode::kConflict, "a document changed after it was prepared");
        }
        const fs::path embedded = scratch.path() / (d.document_id + "-signed.pdf");
        const fs::path proved = scratch.path() / (d.document_id + "-lta.pdf");
        Result<void> chain;
        fs::path out = embedded;
        FIRMO_CHECK(ctx_.blobs.WithLocalFile(d.source_key, [&](const fs::path& in) {
            chain = qtsp_.staged->Embed(in, embedded, d.prepared, (*values)[i]);
            if (!chain) return;
            // Post-sign, as for built-in signatures: validation data, document time-stamp.
            auto added = signer_.AddLongTermProof(embedded, proved);
            if (!added) {
                chain = Fail(added.error());
            } else if (*added) {
                out = proved;
            }
        }));
        if (!chain) {
            cleanup();
            return tl::unexpected<Error>(chain.error());
        }
        FIRMO_TRY(auto bytes, ReadFile(out));
        const std::string key = "requests/" + job.request_id + "/" + d.document_id + "/signed-" +
                                std::to_string(d.expected_count + 1) + "-" +
                                NewUlid(now, ctx_.random) + ".pdf";
        auto info = ctx_.blobs.Put(key, bytes);
        if (!info) {
            cleanup();
            return tl::unexpected<Error>(info.error());
        }
        results.push_back({d.document_id, key, *info, d.expected_count, d.clauses});
    }
    FIRMO_CHECK(StoreSigned(
        job.request_id, bundle.signer_id, results,
        "QTSP credential " + bundle.credential_id + " (" + bundle.credential_note + ")", now));
    (void)ctx_.blobs.Remove(prefix + bundle.state_hash + ".code");
    (void)ctx_.blobs.Remove(prefix + "current");
    return {};
}

}  // namespace firmo::domain
