#include "store/postgres/postgres_database.hpp"

#include "codec/json.hpp"
#include "core/log.hpp"
#include "store/postgres/connection.hpp"
#include "store/postgres/migrations.hpp"
#include "store/postgres/statements.hpp"
#include "store/schema_version.hpp"

namespace firmo::store::postgres {

namespace {

using namespace firmo::domain;

std::optional<Timestamp> OptTime(const Statement& s, int col) {
    auto v = s.OptInt(col);
    if (!v) return std::nullopt;
    return FromUnixMillis(*v);
}

std::optional<std::int64_t> OptMillis(const std::optional<Timestamp>& t) {
    if (!t) return std::nullopt;
    return ToUnixMillis(*t);
}

class PostgresTransaction final : public Transaction {
  public:
    PostgresTransaction(PostgresDatabase& db, std::unique_ptr<Connection> conn, TxMode mode)
        : db_(db), conn_(std::move(conn)), mode_(mode) {}

    ~PostgresTransaction() override {
        if (open_) {
            if (auto stmt = conn_->Prepare(sql::kRollback); !stmt || !stmt->Run()) {
                log::Error("postgres_rollback_failed", {{"error", "rollback failed"}});
            }
        }
        // The pool drops a connection that is broken or still inside a transaction.
        db_.Release(std::move(conn_));
    }

    Result<void> BeginTx() {
        if (mode_ == TxMode::kSingle || mode_ == TxMode::kSingleWrite) return {};
        FIRMO_TRY(auto stmt,
                  conn_->Prepare(mode_ == TxMode::kWrite ? sql::kBeginWrite : sql::kBeginRead));
        FIRMO_CHECK(stmt.Run());
        open_ = true;
        return {};
    }

    Result<void> Commit() override {
        if (!open_) return {};
        FIRMO_TRY(auto stmt, conn_->Prepare(sql::kCommit));
        FIRMO_CHECK(stmt.Run());
        open_ = false;
        // COMMIT of a transaction that failed earlier rolls back without an error.
        if (stmt.CommandTag() == "ROLLBACK") {
            return Fail(ErrorCode::kInternal, "transaction was aborted by an earlier error");
        }
        return {};
    }

    Result<void> InsertIssuer(const Issuer& i) override {
        FIRMO_TRY(auto s, conn_->Prepare(sql::kInsertIssuer));
        s.Bind(1, i.id).Bind(2, i.name).Bind(3, i.email).Bind(4, ToUnixMillis(i.created_at));
        return s.Run();
    }

    Result<std::optional<Issuer>> FindIssuer(const std::string& id) override {
        FIRMO_TRY(auto s, conn_->Prepare(sql::kFindIssuer));
        s.Bind(1, id);
        return s.OneRow([](const Statement& r) {
            return Issuer{r.Text(0), r.Text(1), r.Text(2), FromUnixMillis(r.Int(3))};
        });
    }

    Result<std::int64_t> CountIssuers() override {
        FIRMO_TRY(auto s, conn_->Prepare(sql::kCountIssuers));
        FIRMO_TRY(bool row, s.Step());
        return row ? s.Int(0) : 0;
    }

    Result<void> InsertApiKey(const ApiKey& k) override {
        FIRMO_TRY(auto s, conn_->Prepare(sql::kInsertApiKey));
        s.Bind(1, k.id)
            .Bind(2, k.issuer_id)
            .Bind(3, k.key_hash)
            .Bind(4, k.prefix)
            .Bind(5, ToUnixMillis(k.created_at));
        return s.Run();
    }

    Result<std::optional<ApiKey>> FindApiKeyByHash(const std::string& key_hash) override {
        FIRMO_TRY(auto s, conn_->Prepare(sql::kFindApiKeyByHash));
        s.Bind(1, key_hash);
        return s.OneRow([](const Statement& r) {
            return ApiKey{r.Text(0),    r.Text(1), r.Text(2), r.Text(3), FromUnixMillis(r.Int(4)),
                          OptTime(r, 5)};
        });
    }

    Result<bool> RevokeApiKey(const std::string& key_id, Timestamp at) override {
        FIRMO_TRY(auto s, conn_->Prepare(sql::kRevokeApiKey));
        s.Bind(1, key_id).Bind(2, ToUnixMillis(at));
        FIRMO_CHECK(s.Run());
        return s.Changes() > 0;
    }

    Result<void> InsertDossier(const Dossier& d) override {
        codec::Json docs = codec::Json::array();
        for (const auto& doc : d.documents) docs.push_back(codec::ToJson(doc));
        FIRMO_TRY(auto s, conn_->Prepare(sql::kInsertDossier));
        s.Bind(1, d.id)
            .Bind(2, d.issuer_id)
            .Bind(3, d.title)
            .Bind(4, d.support_email)
            .Bind(5, docs.dump())
            .Bind(6, ToUnixMillis(d.created_at));
        return s.Run();
    }

    static Result<Dossier> ReadDossier(const Statement& s) {
        FIRMO_TRY(auto docs, codec::DocumentsMetadataFromText(s.Text(4)));
        return Dossier{s.Text(0), s.Text(1),       s.Text(2),
                       s.Text(3), std::move(docs), FromUnixMillis(s.Int(5))};
    }

    Result<std::optional<Dossier>> FindDossier(const std::string& issuer_id,
                                               const std::string& id) override {
        FIRMO_TRY(auto s, conn_->Prepare(sql::kFindDossier));
        s.Bind(1, issuer_id).Bind(2, id);
        FIRMO_TRY(bool row, s.Step());
        if (!row) return std::optional<Dossier>();
        FIRMO_TRY(auto d, ReadDossier(s));
        return std::make_optional(std::move(d));
    }

    Result<Page<Dossier>> ListDossiers(const std::string& issuer_id,
                                       const PageQuery& page) override {
        FIRMO_TRY(auto s, conn_->Prepare(sql::kListDossiers));
        s.Bind(1, issuer_id).Bind(2, page.after_id).Bind(3, page.limit + 1);
        Page<Dossier> out;
        while (true) {
            FIRMO_TRY(bool row, s.Step());
            if (!row) break;
            FIRMO_TRY(auto d, ReadDossier(s));
            out.items.push_back(std::move(d));
        }
        return Paginate(std::move(out), page.limit);
    }

    template <typename T>
    static Page<T> Paginate(Page<T> page, int limit) {
        if (static_cast<int>(page.items.size()) > limit) {
            page.items.resize(static_cast<std::size_t>(limit));
            page.next_after_id = page.items.back().id;
        }
        return page;
    }

    static Result<Signer> ReadSigner(const Statement& s) {
        auto kind = ParseIdentifierKind(s.Text(2));
        if (!kind) return Fail(ErrorCode::kInternal, "corrupt signer kind");
        return Signer{s.Text(0),
                      s.Text(1),
                      *kind,
                      s.Text(3),
                      s.OptText(4),
                      s.OptText(5),
                      FromUnixMillis(s.Int(6)),
                      FromUnixMillis(s.Int(7)),
                      s.OptText(8)};
    }

    Result<void> InsertSigner(const Signer& x) override {
        FIRMO_TRY(auto s, conn_->Prepare(sql::kInsertSigner));
        s.Bind(1, x.id).Bind(2, x.issuer_id).Bind(3, ToString(x.kind)).Bind(4, x.identifier);
        s.Bind(5, x.email)
            .Bind(6, x.phone)
            .Bind(7, ToUnixMillis(x.created_at))
            .Bind(8, ToUnixMillis(x.updated_at))
            .Bind(9, x.full_name);
        return s.Run();
    }

    Result<void> UpdateSignerContact(const Signer& x) override {
        FIRMO_TRY(auto s, conn_->Prepare(sql::kUpdateSignerContact));
        s.Bind(1, x.issuer_id)
            .Bind(2, x.id)
            .Bind(3, x.email)
            .Bind(4, x.phone)
            .Bind(5, ToUnixMillis(x.updated_at))
            .Bind(6, x.full_name);
        return s.Run();
    }

    Result<std::optional<Signer>> FindSigner(const std::string& issuer_id,
                                             const std::string& id) override {
        FIRMO_TRY(auto s, conn_->Prepare(Locking() ? sql::kFindSignerForUpdate : sql::kFindSigner));
        s.Bind(1, issuer_id).Bind(2, id);
        return OneSigner(s);
    }

    Result<std::optional<Signer>> FindSignerByIdentifier(const std::string& issuer_id,
                                                         IdentifierKind kind,
                                                         const std::string& identifier) override {
        FIRMO_TRY(auto s, conn_->Prepare(Locking() ? sql::kFindSignerByIdentifierForUpdate
                                                   : sql::kFindSignerByIdentifier));
        s.Bind(1, issuer_id).Bind(2, ToString(kind)).Bind(3, identifier);
        return OneSigner(s);
    }

    static Result<std::optional<Signer>> OneSigner(Statement& s) {
        FIRMO_TRY(bool row, s.Step());
        if (!row) return std::optional<Signer>();
        FIRMO_TRY(auto signer, ReadSigner(s));
        return std::make_optional(std::move(signer));
    }

    Result<void> BindRequest(Statement& s, const SignatureRequest& r) {
        s.Bind(1, r.id).Bind(2, r.issuer_id).Bind(3, r.dossier_id).Bind(4, ToString(r.status));
        s.Bind(5, ToUnixMillis(r.expires_at))
            .Bind(6, r.reference)
            .Bind(7, ToUnixMillis(r.created_at));
        s.Bind(8, ToUnixMillis(r.updated_at)).Bind(9, OptMillis(r.signed_at));
        s.Bind(10, OptMillis(r.rejected_at)).Bind(11, r.reject_reason);
        s.Bind(12, OptMillis(r.cancelled_at)).Bind(13, OptMillis(r.expired_at));
        if (r.redirect) {
            s.Bind(14, codec::ToJson(*r.redirect).dump());
        } else {
            s.BindNull(14);
        }
        s.Bind(15, r.notification_id);
        s.BindBool(16, r.auto_notify);
        return {};
    }

    Result<void> WriteChildren(const SignatureRequest& r) {
        for (std::size_t i = 0; i < r.signers.size(); ++i) {
            const auto& x = r.signers[i];
            FIRMO_TRY(auto s, conn_->Prepare(sql::kUpsertRequestSigner));
            s.Bind(1, r.id).Bind(2, static_cast<std::int64_t>(i)).Bind(3, x.signer_id);
            s.Bind(4, x.order)
                .Bind(5, ToString(x.status))
                .Bind(6, OptMillis(x.signed_at))
                .Bind(7, OptMillis(x.rejected_at));
            s.Bind(8, codec::ToJson(x.accepted_fields).dump())
                .Bind(9, OptMillis(x.accepted_at))
                .Bind(10, OptMillis(x.confirmed_at))
                .Bind(11, x.signing_name)
                .Bind(12, x.failed_code_attempts)
                .Bind(13, x.reject_reason);
            FIRMO_CHECK(s.Run());
        }
        for (const auto& d : r.documents) {
            FIRMO_TRY(auto s, conn_->Prepare(sql::kUpsertDocument));
            s.Bind(1, d.id)
                .Bind(2, r.id)
                .Bind(3, d.index)
                .Bind(4, codec::ToJson(d.metadata).dump());
            s.Bind(5, ToString(d.status))
                .Bind(6, d.reject_reason)
                .Bind(7, codec::ToJson(d.violations).dump());
            s.Bind(8, d.upload_generation)
                .Bind(9, d.blob_key)
                .Bind(10, d.size)
                .Bind(11, d.sha256_hex);
            s.Bind(12, d.page_count)
                .Bind(13, ToUnixMillis(d.created_at))
                .Bind(14, ToUnixMillis(d.updated_at))
                .Bind(15, OptMillis(d.uploaded_at));
            s.Bind(16, d.signed_blob_key)
                .Bind(17, d.signed_size)
                .Bind(18, d.signed_sha256_hex)
                .Bind(19, d.signature_count);
            FIRMO_CHECK(s.Run());
        }
        return {};
    }

    Result<void> InsertRequest(const SignatureRequest& r) override {
        FIRMO_TRY(auto s, conn_->Prepare(sql::kInsertRequest));
        FIRMO_CHECK(BindRequest(s, r));
        FIRMO_CHECK(s.Run());
        return WriteChildren(r);
    }

    Result<void> UpdateRequest(const SignatureRequest& r) override {
        std::int64_t changed = 0;
        {
            FIRMO_TRY(auto s, conn_->Prepare(sql::kUpdateRequest));
            FIRMO_CHECK(BindRequest(s, r));
            FIRMO_CHECK(s.Run());
            changed = s.Changes();
        }
        if (changed != 1) {
            return Fail(ErrorCode::kNotFound, "signature request " + r.id + " not found");
        }
        return WriteChildren(r);
    }

    Result<SignatureRequest> ReadRequest(const Statement& s) {
        SignatureRequest r;
        r.id = s.Text(0);
        r.issuer_id = s.Text(1);
        r.dossier_id = s.Text(2);
        auto status = ParseRequestStatus(s.Text(3));
        if (!status) return Fail(ErrorCode::kInternal, "corrupt request status");
        r.status = *status;
        r.expires_at = FromUnixMillis(s.Int(4));
        r.reference = s.OptText(5);
        r.created_at = FromUnixMillis(s.Int(6));
        r.updated_at = FromUnixMillis(s.Int(7));
        r.signed_at = OptTime(s, 8);
        r.rejected_at = OptTime(s, 9);
        r.reject_reason = s.OptText(10);
        r.cancelled_at = OptTime(s, 11);
        r.expired_at = OptTime(s, 12);
        if (auto text = s.OptText(13)) r.redirect = codec::RedirectUrlsFromText(*text);
        r.notification_id = s.OptText(14);
        r.auto_notify = s.Bool(15);
        return r;
    }

    Result<void> LoadChildren(SignatureRequest& r) {
        {
            FIRMO_TRY(auto s, conn_->Prepare(sql::kListRequestSigners));
            s.Bind(1, r.id);
            while (true) {
                FIRMO_TRY(bool row, s.Step());
                if (!row) break;
                auto status = ParseSignerStatus(s.Text(2));
                if (!status) return Fail(ErrorCode::kInternal, "corrupt signer status");
                RequestSigner x;
                x.signer_id = s.Text(0);
                x.order = static_cast<int>(s.Int(1));
                x.status = *status;
                x.signed_at = OptTime(s, 3);
                x.rejected_at = OptTime(s, 4);
                x.accepted_fields = codec::FieldRefsFromText(s.Text(5));
                x.accepted_at = OptTime(s, 6);
                x.confirmed_at = OptTime(s, 7);
                x.signing_name = s.Text(8);
                x.failed_code_attempts = static_cast<int>(s.Int(9));
                x.reject_reason = s.OptText(10);
                r.signers.push_back(std::move(x));
            }
        }
        FIRMO_TRY(auto s, conn_->Prepare(sql::kListDocuments));
        s.Bind(1, r.id);
        while (true) {
            FIRMO_TRY(bool row, s.Step());
            if (!row) break;
            Document d;
            d.id = s.Text(0);
            d.index = static_cast<int>(s.Int(1));
            FIRMO_TRY(d.metadata, codec::DocumentMetadataFromText(s.Text(2)));
            auto status = ParseDocumentStatus(s.Text(3));
            if (!status) return Fail(ErrorCode::kInternal, "corrupt document status");
            d.status = *status;
            d.reject_reason = s.Text(4);
            d.violations = codec::ViolationsFromJson(codec::Json::parse(s.Text(5), nullptr, false));
            d.upload_generation = s.Int(6);
            d.blob_key = s.OptText(7);
            d.size = s.Int(8);
            d.sha256_hex = s.Text(9);
            d.page_count = static_cast<int>(s.Int(10));
            d.created_at = FromUnixMillis(s.Int(11));
            d.updated_at = FromUnixMillis(s.Int(12));
            d.uploaded_at = OptTime(s, 13);
            d.signed_blob_key = s.OptText(14);
            d.signed_size = s.Int(15);
            d.signed_sha256_hex = s.Text(16);
            d.signature_count = static_cast<int>(s.Int(17));
            r.documents.push_back(std::move(d));
        }
        return {};
    }

    Result<std::optional<SignatureRequest>> FindRequest(const std::string& issuer_id,
                                                        const std::string& id) override {
        SignatureRequest r;
        {
            FIRMO_TRY(auto s,
                      conn_->Prepare(Locking() ? sql::kFindRequestForUpdate : sql::kFindRequest));
            s.Bind(1, issuer_id).Bind(2, id);
            FIRMO_TRY(bool row, s.Step());
            if (!row) return std::optional<SignatureRequest>();
            FIRMO_TRY(r, ReadRequest(s));
        }
        FIRMO_CHECK(LoadChildren(r));
        return std::make_optional(std::move(r));
    }

    Result<std::optional<SignatureRequest>> FindRequestForSigner(const std::string& id) override {
        SignatureRequest r;
        {
            FIRMO_TRY(auto s, conn_->Prepare(Locking() ? sql::kFindRequestForSignerForUpdate
                                                       : sql::kFindRequestForSigner));
            s.Bind(1, id);
            FIRMO_TRY(bool row, s.Step());
            if (!row) return std::optional<SignatureRequest>();
            FIRMO_TRY(r, ReadRequest(s));
        }
        FIRMO_CHECK(LoadChildren(r));
        return std::make_optional(std::move(r));
    }

    void BindSession(Statement& s, const PortalSession& x) {
        s.Bind(1, x.id_hash).Bind(2, x.csrf_token).Bind(3, x.auth_method);
        if (x.identity_kind) {
            s.Bind(4, ToString(*x.identity_kind));
        } else {
            s.BindNull(4);
        }
        s.Bind(5, x.identity).Bind(6, x.full_name).Bind(7, x.request_id).Bind(8, x.signer_id);
        s.Bind(9, OptMillis(x.authenticated_at)).Bind(10, OptMillis(x.reauthenticated_at));
        s.Bind(11, x.pending_json).Bind(12, ToUnixMillis(x.created_at));
        s.Bind(13, ToUnixMillis(x.expires_at)).Bind(14, x.ip).Bind(15, x.user_agent);
    }

    Result<void> InsertSession(const PortalSession& x) override {
        FIRMO_TRY(auto s, conn_->Prepare(sql::kInsertSession));
        BindSession(s, x);
        return s.Run();
    }

    Result<std::optional<PortalSession>> FindSession(const std::string& id_hash) override {
        FIRMO_TRY(auto s,
                  conn_->Prepare(Locking() ? sql::kFindSessionForUpdate : sql::kFindSession));
        s.Bind(1, id_hash);
        FIRMO_TRY(bool row, s.Step());
        if (!row) return std::optional<PortalSession>();
        PortalSession x;
        x.id_hash = s.Text(0);
        x.csrf_token = s.Text(1);
        x.auth_method = s.Text(2);
        if (auto kind = s.OptText(3)) x.identity_kind = ParseIdentifierKind(*kind);
        x.identity = s.Text(4);
        x.full_name = s.Text(5);
        x.request_id = s.Text(6);
        x.signer_id = s.Text(7);
        x.authenticated_at = OptTime(s, 8);
        x.reauthenticated_at = OptTime(s, 9);
        x.pending_json = s.Text(10);
        x.created_at = FromUnixMillis(s.Int(11));
        x.expires_at = FromUnixMillis(s.Int(12));
        x.ip = s.Text(13);
        x.user_agent = s.Text(14);
        return std::make_optional(std::move(x));
    }

    Result<void> UpdateSession(const PortalSession& x) override {
        FIRMO_TRY(auto s, conn_->Prepare(sql::kUpdateSession));
        BindSession(s, x);
        FIRMO_CHECK(s.Run());
        if (s.Changes() != 1) {
            return Fail(ErrorCode::kNotFound, "session not found");
        }
        return {};
    }

    Result<void> DeleteSession(const std::string& id_hash) override {
        FIRMO_TRY(auto s, conn_->Prepare(sql::kDeleteSession));
        s.Bind(1, id_hash);
        return s.Run();
    }

    Result<void> InsertCode(const OneTimeCode& c) override {
        FIRMO_TRY(auto s, conn_->Prepare(sql::kInsertCode));
        s.Bind(1, c.id).Bind(2, c.request_id).Bind(3, c.signer_id).Bind(4, ToString(c.kind));
        s.Bind(5, c.code_hash).Bind(6, ToUnixMillis(c.created_at));
        s.Bind(7, ToUnixMillis(c.expires_at)).Bind(8, OptMillis(c.used_at));
        return s.Run();
    }

    Result<std::optional<OneTimeCode>> FindLatestCode(const std::string& request_id,
                                                      const std::string& signer_id,
                                                      CodeKind kind) override {
        FIRMO_TRY(auto s, conn_->Prepare(sql::kFindLatestCode));
        s.Bind(1, request_id).Bind(2, signer_id).Bind(3, ToString(kind));
        FIRMO_TRY(bool row, s.Step());
        if (!row) return std::optional<OneTimeCode>();
        OneTimeCode c;
        c.id = s.Text(0);
        c.request_id = s.Text(1);
        c.signer_id = s.Text(2);
        c.kind = ParseCodeKind(s.Text(3)).value_or(CodeKind::kLogin);
        c.code_hash = s.Text(4);
        c.created_at = FromUnixMillis(s.Int(5));
        c.expires_at = FromUnixMillis(s.Int(6));
        c.used_at = OptTime(s, 7);
        return std::make_optional(std::move(c));
    }

    Result<bool> ChangedOne(const char* text, const std::string& key, Timestamp at) {
        FIRMO_TRY(auto s, conn_->Prepare(text));
        s.Bind(1, key).Bind(2, ToUnixMillis(at));
        FIRMO_CHECK(s.Run());
        return s.Changes() == 1;
    }

    Result<bool> UseCode(const std::string& id, Timestamp at) override {
        return ChangedOne(sql::kUseCode, id, at);
    }

    Result<void> InsertSignerToken(const SignerToken& t) override {
        FIRMO_TRY(auto s, conn_->Prepare(sql::kInsertSignerToken));
        s.Bind(1, t.token_hash).Bind(2, ToString(t.kind)).Bind(3, t.request_id);
        s.Bind(4, t.signer_id).Bind(5, ToUnixMillis(t.created_at));
        s.Bind(6, ToUnixMillis(t.expires_at)).Bind(7, OptMillis(t.used_at));
        return s.Run();
    }

    Result<std::optional<SignerToken>> FindSignerToken(const std::string& token_hash) override {
        FIRMO_TRY(auto s, conn_->Prepare(sql::kFindSignerToken));
        s.Bind(1, token_hash);
        FIRMO_TRY(bool row, s.Step());
        if (!row) return std::optional<SignerToken>();
        auto kind = ParseSignerTokenKind(s.Text(1));
        if (!kind) return Fail(ErrorCode::kInternal, "corrupt signer token kind");
        return std::make_optional(SignerToken{s.Text(0), *kind, s.Text(2), s.Text(3),
                                              FromUnixMillis(s.Int(4)), FromUnixMillis(s.Int(5)),
                                              OptTime(s, 6)});
    }

    Result<bool> UseSignerToken(const std::string& token_hash, Timestamp at) override {
        return ChangedOne(sql::kUseSignerToken, token_hash, at);
    }

    Result<void> RevokeSignerTokens(const std::string& request_id, const std::string& signer_id,
                                    SignerTokenKind kind, Timestamp at) override {
        FIRMO_TRY(auto s, conn_->Prepare(sql::kRevokeSignerTokens));
        s.Bind(1, request_id).Bind(2, signer_id).Bind(3, ToString(kind)).Bind(4, ToUnixMillis(at));
        return s.Run();
    }

    Result<void> InsertMessage(const InboxMessage& m) override {
        FIRMO_TRY(auto s, conn_->Prepare(sql::kInsertMessage));
        s.Bind(1, m.id).Bind(2, ToString(m.identity_kind)).Bind(3, m.identity);
        s.Bind(4, m.issuer_id).Bind(5, m.request_id).Bind(6, m.signer_id);
        s.Bind(7, ToString(m.kind)).Bind(8, m.title).Bind(9, ToUnixMillis(m.created_at));
        s.Bind(10, OptMillis(m.read_at));
        return s.Run();
    }

    Result<Page<InboxMessage>> ListMessages(IdentifierKind kind, const std::string& identity,
                                            const PageQuery& page) override {
        FIRMO_TRY(auto s, conn_->Prepare(sql::kListMessages));
        s.Bind(1, ToString(kind)).Bind(2, identity).Bind(3, page.after_id).Bind(4, page.limit + 1);
        Page<InboxMessage> out;
        while (true) {
            FIRMO_TRY(bool row, s.Step());
            if (!row) break;
            InboxMessage m;
            m.id = s.Text(0);
            m.identity_kind = ParseIdentifierKind(s.Text(1)).value_or(kind);
            m.identity = s.Text(2);
            m.issuer_id = s.Text(3);
            m.request_id = s.Text(4);
            m.signer_id = s.Text(5);
            m.kind = ParseMessageKind(s.Text(6)).value_or(MessageKind::kSignRequest);
            m.title = s.Text(7);
            m.created_at = FromUnixMillis(s.Int(8));
            m.read_at = OptTime(s, 9);
            out.items.push_back(std::move(m));
        }
        return Paginate(std::move(out), page.limit);
    }

    Result<bool> HasMessage(const std::string& request_id, const std::string& signer_id,
                            MessageKind kind) override {
        FIRMO_TRY(auto s, conn_->Prepare(sql::kHasMessage));
        s.Bind(1, request_id).Bind(2, signer_id).Bind(3, ToString(kind));
        FIRMO_TRY(bool row, s.Step());
        return row && s.Int(0) > 0;
    }

    Result<std::int64_t> PurgeSignerSide(Timestamp now) override {
        std::int64_t removed = 0;
        for (const char* text : {sql::kPurgeSessions, sql::kPurgeCodes, sql::kPurgeSignerTokens}) {
            FIRMO_TRY(auto s, conn_->Prepare(text));
            s.Bind(1, ToUnixMillis(now));
            FIRMO_CHECK(s.Run());
            removed += s.Changes();
        }
        return removed;
    }

    Result<RateLimitCount> CountRateLimitHit(const std::string& bucket, Timestamp window_start,
                                             std::chrono::milliseconds window) override {
        FIRMO_TRY(auto s, conn_->Prepare(sql::kCountRateLimitHit));
        s.Bind(1, bucket).Bind(2, ToUnixMillis(window_start)).Bind(3, window.count());
        FIRMO_TRY(auto counted, s.OneRow([](const Statement& r) {
            return RateLimitCount{FromUnixMillis(r.Int(0)), r.Int(1), r.Int(2)};
        }));
        if (!counted) return Fail(ErrorCode::kInternal, "rate limit upsert returned no row");
        return *counted;
    }

    Result<std::int64_t> PurgeRateLimits(Timestamp now) override {
        FIRMO_TRY(auto s, conn_->Prepare(sql::kPurgeRateLimits));
        s.Bind(1, ToUnixMillis(now));
        FIRMO_CHECK(s.Run());
        return s.Changes();
    }

    static OutboxMessage ReadOutbox(const Statement& s) {
        OutboxMessage m;
        m.id = s.Int(0);
        m.event_id = s.Text(1);
        m.issuer_id = s.Text(2);
        m.request_id = s.Text(3);
        m.channel = ParseChannel(s.Text(4)).value_or(Channel::kEmail);
        m.destination = s.Text(5);
        m.template_name = s.Text(6);
        m.language = s.Text(7);
        m.payload_json = s.Text(8);
        m.endpoint_id = s.Text(9);
        m.attempts = static_cast<int>(s.Int(10));
        m.created_at = FromUnixMillis(s.Int(11));
        m.next_attempt_at = FromUnixMillis(s.Int(12));
        m.delivered_at = OptTime(s, 13);
        m.abandoned_at = OptTime(s, 14);
        m.last_error = s.Text(15);
        m.last_response = s.Text(16);
        return m;
    }

    Result<bool> InsertOutbox(const OutboxMessage& m) override {
        FIRMO_TRY(auto s, conn_->Prepare(sql::kInsertOutbox));
        s.Bind(1, m.event_id).Bind(2, m.issuer_id).Bind(3, m.request_id);
        s.Bind(4, ToString(m.channel)).Bind(5, m.destination).Bind(6, m.template_name);
        s.Bind(7, m.language).Bind(8, m.payload_json).Bind(9, m.endpoint_id);
        s.Bind(10, ToUnixMillis(m.created_at)).Bind(11, ToUnixMillis(m.next_attempt_at));
        FIRMO_CHECK(s.Run());
        return s.Changes() == 1;
    }

    Result<std::optional<OutboxMessage>> ClaimOutbox(Timestamp now,
                                                     std::chrono::milliseconds lease) override {
        FIRMO_TRY(auto s, conn_->Prepare(sql::kClaimOutbox));
        s.Bind(1, ToUnixMillis(now)).Bind(2, ToUnixMillis(now + lease));
        FIRMO_TRY(bool row, s.Step());
        if (!row) return std::optional<OutboxMessage>();
        return std::make_optional(ReadOutbox(s));
    }

    Result<void> UpdateOutbox(const OutboxMessage& m) override {
        FIRMO_TRY(auto s, conn_->Prepare(sql::kUpdateOutbox));
        s.Bind(1, m.id).Bind(2, m.attempts).Bind(3, ToUnixMillis(m.next_attempt_at));
        s.Bind(4, OptMillis(m.delivered_at)).Bind(5, OptMillis(m.abandoned_at));
        s.Bind(6, m.last_error).Bind(7, m.last_response);
        return s.Run();
    }

    Result<std::optional<OutboxMessage>> FindOutbox(const std::string& issuer_id,
                                                    std::int64_t id) override {
        FIRMO_TRY(auto s, conn_->Prepare(sql::kFindOutbox));
        s.Bind(1, issuer_id).Bind(2, id);
        FIRMO_TRY(bool row, s.Step());
        if (!row) return std::optional<OutboxMessage>();
        return std::make_optional(ReadOutbox(s));
    }

    Result<Page<OutboxMessage>> ListOutbox(const std::string& issuer_id, Channel channel,
                                           const PageQuery& page) override {
        FIRMO_TRY(auto s, conn_->Prepare(sql::kListOutbox));
        s.Bind(1, issuer_id).Bind(2, ToString(channel));
        std::optional<std::int64_t> after;
        if (page.after_id) {
            try {
                after = std::stoll(*page.after_id);
            } catch (...) {
                return Fail(ErrorCode::kInvalidArgument, "bad continuation token");
            }
        }
        s.Bind(3, after).Bind(4, page.limit + 1);
        Page<OutboxMessage> out;
        while (true) {
            FIRMO_TRY(bool row, s.Step());
            if (!row) break;
            out.items.push_back(ReadOutbox(s));
        }
        if (out.items.size() > static_cast<std::size_t>(page.limit)) {
            out.items.resize(static_cast<std::size_t>(page.limit));
            out.next_after_id = std::to_string(out.items.back().id);
        }
        return out;
    }

    Result<void> InsertWebhook(const WebhookEndpoint& w) override {
        FIRMO_TRY(auto s, conn_->Prepare(sql::kInsertWebhook));
        codec::Json events = codec::Json::array();
        for (const auto& e : w.events) events.push_back(e);
        s.Bind(1, w.id).Bind(2, w.issuer_id).Bind(3, w.url).Bind(4, w.secret);
        s.Bind(5, events.dump()).Bind(6, ToUnixMillis(w.created_at));
        return s.Run();
    }

    Result<std::vector<WebhookEndpoint>> ListWebhooks(const std::string& issuer_id) override {
        FIRMO_TRY(auto s, conn_->Prepare(sql::kListWebhooks));
        s.Bind(1, issuer_id);
        std::vector<WebhookEndpoint> out;
        while (true) {
            FIRMO_TRY(bool row, s.Step());
            if (!row) break;
            WebhookEndpoint w;
            w.id = s.Text(0);
            w.issuer_id = s.Text(1);
            w.url = s.Text(2);
            w.secret = s.Text(3);
            const auto events = codec::Json::parse(s.Text(4), nullptr, false);
            if (events.is_array()) {
                for (const auto& e : events) {
                    if (e.is_string()) w.events.push_back(e.get<std::string>());
                }
            }
            w.created_at = FromUnixMillis(s.Int(5));
            out.push_back(std::move(w));
        }
        return out;
    }

    Result<bool> DeleteWebhook(const std::string& issuer_id, const std::string& id) override {
        FIRMO_TRY(auto s, conn_->Prepare(sql::kDeleteWebhook));
        s.Bind(1, issuer_id).Bind(2, id);
        FIRMO_CHECK(s.Run());
        return s.Changes() == 1;
    }

    Result<void> InsertStatusChange(const StatusChange& c) override {
        FIRMO_TRY(auto s, conn_->Prepare(sql::kInsertStatusChange));
        s.Bind(1, c.issuer_id).Bind(2, c.event_id).Bind(3, c.type).Bind(4, c.request_id);
        s.Bind(5, c.payload_json).Bind(6, ToUnixMillis(c.created_at));
        s.Bind(7, ToUnixMillis(c.visible_at));
        return s.Run();
    }

    Result<std::optional<StatusChange>> NextStatusChange(const std::string& issuer_id,
                                                         Timestamp now) override {
        FIRMO_TRY(auto s, conn_->Prepare(Locking() ? sql::kNextStatusChangeForUpdate
                                                   : sql::kNextStatusChange));
        s.Bind(1, issuer_id).Bind(2, ToUnixMillis(now));
        FIRMO_TRY(bool row, s.Step());
        if (!row) return std::optional<StatusChange>();
        return std::make_optional(StatusChange{s.Int(0), s.Text(1), s.Text(2), s.Text(3), s.Text(4),
                                               s.Text(5), FromUnixMillis(s.Int(6)),
                                               FromUnixMillis(s.Int(7))});
    }

    Result<void> HideStatusChange(std::int64_t seq, Timestamp until) override {
        FIRMO_TRY(auto s, conn_->Prepare(sql::kHideStatusChange));
        s.Bind(1, seq).Bind(2, ToUnixMillis(until));
        return s.Run();
    }

    Result<bool> ConfirmStatusChange(const std::string& issuer_id, std::int64_t seq,
                                     Timestamp at) override {
        FIRMO_TRY(auto s, conn_->Prepare(sql::kConfirmStatusChange));
        s.Bind(1, issuer_id).Bind(2, seq).Bind(3, ToUnixMillis(at));
        FIRMO_CHECK(s.Run());
        return s.Changes() == 1;
    }

    Result<std::optional<Timestamp>> NextPollAt(const std::string& issuer_id) override {
        FIRMO_TRY(auto s,
                  conn_->Prepare(Locking() ? sql::kGetNextPollForUpdate : sql::kGetNextPoll));
        s.Bind(1, issuer_id);
        FIRMO_TRY(bool row, s.Step());
        if (!row) return std::optional<Timestamp>();
        return std::make_optional(FromUnixMillis(s.Int(0)));
    }

    Result<void> SetNextPollAt(const std::string& issuer_id, Timestamp at) override {
        FIRMO_TRY(auto s, conn_->Prepare(sql::kSetNextPoll));
        s.Bind(1, issuer_id).Bind(2, ToUnixMillis(at));
        return s.Run();
    }

    // (issuer id, request id) rows of a query bound to a time and a limit.
    Result<std::vector<std::pair<std::string, std::string>>> IssuerRequestPairs(const char* sql,
                                                                                Timestamp at,
                                                                                int limit) {
        FIRMO_TRY(auto s, conn_->Prepare(sql));
        s.Bind(1, ToUnixMillis(at)).Bind(2, limit);
        std::vector<std::pair<std::string, std::string>> out;
        while (true) {
            FIRMO_TRY(bool row, s.Step());
            if (!row) break;
            out.emplace_back(s.Text(0), s.Text(1));
        }
        return out;
    }

    Result<std::vector<std::pair<std::string, std::string>>> ListRemindable(Timestamp before,
                                                                            int limit) override {
        return IssuerRequestPairs(sql::kListRemindable, before, limit);
    }

    Result<Page<SignatureRequest>> ListRequests(const std::string& issuer_id,
                                                const RequestFilter& filter,
                                                const PageQuery& page) override {
        Page<SignatureRequest> out;
        {
            FIRMO_TRY(auto s, conn_->Prepare(sql::kListRequests));
            s.Bind(1, issuer_id).Bind(2, page.after_id).Bind(3, filter.dossier_id);
            if (filter.status) {
                s.Bind(4, ToString(*filter.status));
            } else {
                s.BindNull(4);
            }
            s.Bind(5, page.limit + 1);
            while (true) {
                FIRMO_TRY(bool row, s.Step());
                if (!row) break;
                FIRMO_TRY(auto r, ReadRequest(s));
                out.items.push_back(std::move(r));
            }
        }
        out = Paginate(std::move(out), page.limit);
        for (auto& r : out.items) FIRMO_CHECK(LoadChildren(r));
        return out;
    }

    Result<std::vector<std::pair<std::string, std::string>>> ListExpired(Timestamp now,
                                                                         int limit) override {
        return IssuerRequestPairs(sql::kListExpired, now, limit);
    }

    Result<void> AppendEvent(const AuditEvent& e) override {
        FIRMO_TRY(auto s, conn_->Prepare(sql::kAppendEvent));
        s.Bind(1, e.request_id).Bind(2, ToUnixMillis(e.at)).Bind(3, e.type).Bind(4, e.from_status);
        s.Bind(5, e.to_status)
            .Bind(6, e.document_id)
            .Bind(7, e.signer_id)
            .Bind(8, e.actor)
            .Bind(9, e.detail);
        return s.Run();
    }

    Result<std::vector<AuditEvent>> ListEvents(const std::string& request_id) override {
        FIRMO_TRY(auto s, conn_->Prepare(sql::kListEvents));
        s.Bind(1, request_id);
        std::vector<AuditEvent> out;
        while (true) {
            FIRMO_TRY(bool row, s.Step());
            if (!row) break;
            out.push_back(AuditEvent{s.Int(0), s.Text(1), FromUnixMillis(s.Int(2)), s.Text(3),
                                     s.Text(4), s.Text(5), s.Text(6), s.Text(7), s.Text(8),
                                     s.Text(9)});
        }
        return out;
    }

    Result<std::int64_t> EnqueueJob(const Job& j) override {
        FIRMO_TRY(auto s, conn_->Prepare(sql::kEnqueueJob));
        s.Bind(1, ToString(j.kind))
            .Bind(2, j.issuer_id)
            .Bind(3, j.request_id)
            .Bind(4, j.document_id);
        s.Bind(5, j.generation).Bind(6, ToUnixMillis(j.run_at)).Bind(7, j.blob_key);
        s.Bind(8, ToUnixMillis(j.created_at)).Bind(9, ToUnixMillis(j.not_after));
        FIRMO_TRY(bool row, s.Step());
        if (!row) return Fail(ErrorCode::kInternal, "job insert returned no id");
        return s.Int(0);
    }

    Result<std::optional<Job>> ClaimJob(Timestamp now, std::chrono::milliseconds lease,
                                        const std::string& worker) override {
        FIRMO_TRY(auto s, conn_->Prepare(sql::kClaimJob));
        s.Bind(1, ToUnixMillis(now)).Bind(2, ToUnixMillis(now + lease)).Bind(3, worker);
        return ReadJob(s);
    }

    Result<std::optional<Job>> FindOpenJob(JobKind kind, const std::string& request_id,
                                           const std::string& document_id) override {
        FIRMO_TRY(auto s, conn_->Prepare(sql::kFindOpenJob));
        s.Bind(1, ToString(kind)).Bind(2, request_id).Bind(3, document_id);
        return ReadJob(s);
    }

    Result<void> ExtendJob(std::int64_t job_id, Timestamp not_after) override {
        FIRMO_TRY(auto s, conn_->Prepare(sql::kExtendJob));
        s.Bind(1, job_id).Bind(2, ToUnixMillis(not_after));
        return s.Run();
    }

    // The next row of a statement yielding the job columns in table order.
    static Result<std::optional<Job>> ReadJob(Statement& s) {
        FIRMO_TRY(bool row, s.Step());
        if (!row) return std::optional<Job>();
        auto kind = ParseJobKind(s.Text(1));
        if (!kind) return Fail(ErrorCode::kInternal, "unknown job kind " + s.Text(1));
        return std::make_optional(Job{s.Int(0), *kind, s.Text(2), s.Text(3), s.Text(4), s.Int(5),
                                      static_cast<int>(s.Int(6)), FromUnixMillis(s.Int(7)),
                                      s.Text(8), s.Text(9), s.Text(10), FromUnixMillis(s.Int(11)),
                                      FromUnixMillis(s.Int(12))});
    }

    Result<bool> CompleteJob(const Job& job) override {
        FIRMO_TRY(auto s, conn_->Prepare(sql::kCompleteJob));
        s.Bind(1, job.id).Bind(2, job.leased_by).Bind(3, job.attempts);
        FIRMO_CHECK(s.Run());
        return s.Changes() > 0;
    }

    Result<bool> RetryJob(const Job& job, Timestamp run_at, const std::string& error) override {
        FIRMO_TRY(auto s, conn_->Prepare(sql::kRetryJob));
        s.Bind(1, job.id).Bind(2, job.leased_by).Bind(3, job.attempts);
        s.Bind(4, ToUnixMillis(run_at)).Bind(5, error);
        FIRMO_CHECK(s.Run());
        return s.Changes() > 0;
    }

    Result<bool> RescheduleJob(const Job& job, Timestamp run_at) override {
        FIRMO_TRY(auto s, conn_->Prepare(sql::kRescheduleJob));
        s.Bind(1, job.id).Bind(2, job.leased_by).Bind(3, job.attempts);
        s.Bind(4, ToUnixMillis(run_at));
        FIRMO_CHECK(s.Run());
        return s.Changes() > 0;
    }

    // Without a single writer, the record is locked when found; a concurrent first claim is met
    // by ON CONFLICT DO NOTHING (which waits for it), after which the record is read again.
    Result<std::optional<IdempotencyRecord>> ClaimIdempotencyKey(const IdempotencyRecord& fresh,
                                                                 Timestamp stale_before) override {
        for (int attempt = 0; attempt < 3; ++attempt) {
            bool stale = false;
            {
                FIRMO_TRY(auto s, conn_->Prepare(sql::kFindIdempotency));
                s.Bind(1, fresh.issuer_id).Bind(2, fresh.key);
                FIRMO_TRY(bool row, s.Step());
                if (row) {
                    IdempotencyRecord found{s.Text(0),
                                            s.Text(1),
                                            s.Text(2),
                                            static_cast<int>(s.Int(3)),
                                            s.Text(4),
                                            s.Text(5),
                                            FromUnixMillis(s.Int(6))};
                    if (found.created_at >= stale_before) {
                        return std::make_optional(std::move(found));
                    }
                    stale = true;
                }
            }
            FIRMO_TRY(auto s,
                      conn_->Prepare(stale ? sql::kReplaceIdempotency : sql::kInsertIdempotency));
            s.Bind(1, fresh.issuer_id).Bind(2, fresh.key).Bind(3, fresh.request_hash);
            s.Bind(4, fresh.status)
                .Bind(5, fresh.body)
                .Bind(6, fresh.location)
                .Bind(7, ToUnixMillis(fresh.created_at));
            FIRMO_CHECK(s.Run());
            if (s.Changes() == 1) return std::optional<IdempotencyRecord>();
            // Another claim inserted (or released) the key meanwhile: look again.
        }
        return Fail(ErrorCode::kUnavailable, "idempotency key is contended");
    }

    Result<void> CompleteIdempotencyKey(const IdempotencyRecord& done) override {
        FIRMO_TRY(auto s, conn_->Prepare(sql::kCompleteIdempotency));
        s.Bind(1, done.issuer_id)
            .Bind(2, done.key)
            .Bind(3, done.status)
            .Bind(4, done.body)
            .Bind(5, done.location);
        return s.Run();
    }

    Result<void> ReleaseIdempotencyKey(const std::string& issuer_id,
                                       const std::string& key) override {
        FIRMO_TRY(auto s, conn_->Prepare(sql::kDeleteIdempotency));
        s.Bind(1, issuer_id).Bind(2, key);
        return s.Run();
    }

    Result<std::int64_t> Purge(Timestamp idempotency_before, Timestamp jobs_before) override {
        std::int64_t removed = 0;
        for (const auto& [text, before] : {std::pair{sql::kPurgeIdempotency, idempotency_before},
                                           std::pair{sql::kPurgeJobs, jobs_before}}) {
            FIRMO_TRY(auto s, conn_->Prepare(text));
            s.Bind(1, ToUnixMillis(before));
            FIRMO_CHECK(s.Run());
            removed += s.Changes();
        }
        return removed;
    }

    Result<std::optional<std::string>> GetSetting(const std::string& key) override {
        FIRMO_TRY(auto s, conn_->Prepare(sql::kGetSetting));
        s.Bind(1, key);
        return s.OneRow([](const Statement& r) { return r.Text(0); });
    }

    Result<std::string> PutSettingIfAbsent(const std::string& key,
                                           const std::string& value) override {
        {
            FIRMO_TRY(auto s, conn_->Prepare(sql::kPutSettingIfAbsent));
            s.Bind(1, key).Bind(2, value);
            FIRMO_CHECK(s.Run());
        }
        FIRMO_TRY(auto stored, GetSetting(key));
        if (!stored) return Fail(ErrorCode::kInternal, "setting vanished: " + key);
        return *stored;
    }

  private:
    // Rows read in a write transaction are locked until it ends: a read-modify-write (e.g.
    // FindRequest then UpdateRequest) cannot lose a concurrent update. SQLite's single writer
    // gives the same guarantee.
    bool Locking() const { return mode_ == TxMode::kWrite; }

    PostgresDatabase& db_;
    std::unique_ptr<Connection> conn_;
    TxMode mode_;
    bool open_ = false;
};

}  // namespace

Result<std::unique_ptr<PostgresDatabase>> PostgresDatabase::Open(const std::string& url,
                                                                 int pool_size) {
    std::unique_ptr<PostgresDatabase> db(new PostgresDatabase(url, pool_size < 1 ? 1 : pool_size));
    FIRMO_TRY(auto conn, Connection::Open(url));
    db->idle_.push_back(std::move(conn));
    db->open_ = 1;
    return db;
}

PostgresDatabase::PostgresDatabase(std::string url, int pool_size)
    : url_(std::move(url)), pool_size_(pool_size) {}

PostgresDatabase::~PostgresDatabase() = default;

Result<std::unique_ptr<Connection>> PostgresDatabase::Acquire() {
    std::unique_lock lock(mu_);
    while (true) {
        while (!idle_.empty()) {
            auto conn = std::move(idle_.back());
            idle_.pop_back();
            if (!conn->Broken()) return conn;
            // The server went away under an idle connection: open a fresh one instead.
            --open_;
        }
        if (open_ < pool_size_) {
            ++open_;
            lock.unlock();
            auto conn = Connection::Open(url_);
            if (conn) return std::move(*conn);
            log::Error("postgres_connect_failed", {{"error", conn.error().message}});
            lock.lock();
            --open_;
            cv_.notify_one();
            return Fail(conn.error());
        }
        cv_.wait(lock);
    }
}

void PostgresDatabase::Release(std::unique_ptr<Connection> conn) {
    if (!conn) return;
    {
        std::lock_guard lock(mu_);
        if (conn->Idle()) {
            idle_.push_back(std::move(conn));
        } else {
            --open_;  // broken, or a transaction it could not end: never hand it on
        }
    }
    cv_.notify_one();
    conn.reset();
}

Result<std::unique_ptr<domain::Transaction>> PostgresDatabase::Begin(domain::TxMode mode) {
    FIRMO_TRY(auto conn, Acquire());
    auto tx = std::make_unique<PostgresTransaction>(*this, std::move(conn), mode);
    FIRMO_CHECK(tx->BeginTx());
    return std::unique_ptr<domain::Transaction>(std::move(tx));
}

Result<void> PostgresDatabase::Ping() {
    FIRMO_TRY(auto conn, Acquire());
    auto result = conn->Exec(sql::kPing);
    Release(std::move(conn));
    return result;
}

Result<int> PostgresDatabase::Migrate() {
    FIRMO_TRY(auto conn, Acquire());
    struct Releaser {
        PostgresDatabase& db;
        std::unique_ptr<Connection>& c;
        ~Releaser() {
            if (c && !c->Idle()) (void)c->Exec("ROLLBACK");
            db.Release(std::move(c));
        }
    } releaser{*this, conn};

    // Each step runs under a transaction-scoped advisory lock, so nodes starting together
    // migrate one at a time (and CREATE TABLE IF NOT EXISTS does not race).
    auto locked = [&](auto&& body) -> Result<bool> {
        FIRMO_CHECK(conn->Exec(sql::kBeginMigration));
        auto step = body();
        if (!step) {
            (void)conn->Exec("ROLLBACK");
            return step;
        }
        FIRMO_CHECK(conn->Exec("COMMIT"));
        return step;
    };
    FIRMO_CHECK(locked([&]() -> Result<bool> {
        FIRMO_CHECK(conn->Exec(sql::kCreateMigrationsTable));
        std::vector<std::pair<int, std::string>> present;
        FIRMO_TRY(auto s, conn->Prepare(sql::kListMigrations));
        for (;;) {
            FIRMO_TRY(bool row, s.Step());
            if (!row) break;
            present.emplace_back(static_cast<int>(s.Int(0)), s.Text(1));
        }
        std::vector<int> known;
        for (const auto& m : Migrations()) known.push_back(m.version);
        if (auto newer = RefuseUnknownMigrations(present, known); !newer) {
            if (!allow_newer_schema_) return Fail(newer.error());
            log::Warn("schema_newer_than_binary", {{"detail", newer.error().message}});
        }
        return true;
    }));
    int applied = 0;
    for (const auto& m : Migrations()) {
        auto step = locked([&]() -> Result<bool> {
            FIRMO_TRY(auto s, conn->Prepare(sql::kMigrationApplied));
            s.Bind(1, m.version);
            FIRMO_TRY(bool present, s.Step());
            if (present) return false;
            FIRMO_CHECK(conn->Exec(m.sql));
            FIRMO_TRY(auto ins, conn->Prepare(sql::kRecordMigration));
            ins.Bind(1, m.version).Bind(2, std::string_view(m.name));
            FIRMO_CHECK(ins.Run());
            return true;
        });
        if (!step) {
            return Fail(Error{step.error().code, "migration " + std::to_string(m.version) + " (" +
                                                     m.name + "): " + step.error().message});
        }
        if (*step) {
            ++applied;
            log::Info("migration_applied",
                      {{"version", std::to_string(m.version)}, {"name", m.name}});
        }
    }
    return applied;
}

}  // namespace firmo::store::postgres
