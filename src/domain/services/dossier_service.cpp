#include "domain/services/dossier_service.hpp"

#include <algorithm>

#include "core/ids.hpp"
#include "domain/text.hpp"

namespace firmo::domain {

std::vector<Violation> CheckDocumentsMetadata(const std::vector<DocumentMetadata>& documents,
                                              const std::string& path) {
    std::vector<Violation> out;
    if (documents.empty() || documents.size() > kMaxDocumentsPerDossier) {
        out.push_back(
            {path, "must list 1-" + std::to_string(kMaxDocumentsPerDossier) + " documents"});
    }
    for (std::size_t i = 0; i < documents.size() && i < kMaxDocumentsPerDossier; ++i) {
        auto doc_violations =
            CheckDocumentMetadata(documents[i], path + "[" + std::to_string(i) + "]");
        out.insert(out.end(), doc_violations.begin(), doc_violations.end());
    }
    return out;
}

PageQuery NormalizePage(const Limits& limits, PageQuery page) {
    if (page.limit <= 0) page.limit = limits.default_page_size;
    page.limit = std::min(page.limit, limits.max_page_size);
    return page;
}

std::vector<Violation> CheckNewDossier(const NewDossier& input) {
    std::vector<Violation> violations;
    CheckLength(input.title, kDossierTitleMin, kDossierTitleMax, "title", violations);
    if (input.non_sensitive_title) {
        CheckLength(*input.non_sensitive_title, 1, kNonSensitiveTitleMax, "non_sensitive_title",
                    violations);
    }
    if (input.support_email && !NormalizeEmail(*input.support_email)) {
        violations.push_back({"support_email", "must be an e-mail address"});
    }
    auto doc_violations = CheckDocumentsMetadata(input.documents, "documents_metadata");
    violations.insert(violations.end(), doc_violations.begin(), doc_violations.end());
    return violations;
}

Result<Dossier> DossierService::Create(const std::string& issuer_id, const NewDossier& input) {
    auto violations = CheckNewDossier(input);
    if (!violations.empty()) return FailValidation(std::move(violations));
    std::optional<std::string> email;
    if (input.support_email) email = NormalizeEmail(*input.support_email);

    return InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<Dossier> {
        if (!email) {
            FIRMO_TRY(auto issuer, tx.issuers().Find(issuer_id));
            if (!issuer) return Fail(ErrorCode::kNotFound, "issuer not found");
            email = issuer->email;
        }
        const Timestamp now = ctx_.clock.Now();
        Dossier dossier{
            NewUlid(now, ctx_.random), issuer_id, input.title, *email, input.documents, now,
            input.non_sensitive_title};
        FIRMO_CHECK(tx.dossiers().Insert(dossier));
        return dossier;
    });
}

Result<Dossier> DossierService::Get(const std::string& issuer_id, const std::string& id) {
    return InReadTransaction(ctx_.db, [&](Transaction& tx) -> Result<Dossier> {
        FIRMO_TRY(auto dossier, tx.dossiers().Find(issuer_id, id));
        if (!dossier) return Fail(ErrorCode::kNotFound, "dossier " + id + " not found");
        return std::move(*dossier);
    });
}

Result<Page<Dossier>> DossierService::List(const std::string& issuer_id, PageQuery page) {
    page = NormalizePage(ctx_.limits, page);
    return InReadTransaction(ctx_.db,
                             [&](Transaction& tx) { return tx.dossiers().List(issuer_id, page); });
}

}  // namespace firmo::domain
