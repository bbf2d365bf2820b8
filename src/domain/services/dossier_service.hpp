#pragma once
// Dossiers: reusable templates of documents, signature fields and clauses.

#include <optional>
#include <string>

#include "domain/services/context.hpp"

namespace firmo::domain {

struct NewDossier {
    std::string title;
    std::optional<std::string> support_email;  // defaults to the issuer's e-mail
    std::vector<DocumentMetadata> documents;
    std::optional<std::string> non_sensitive_title;
};

inline constexpr std::size_t kDossierTitleMin = 3;
inline constexpr std::size_t kDossierTitleMax = 120;
inline constexpr std::size_t kNonSensitiveTitleMax = 80;  // as Posten signering

// Validates a documents_metadata list (1..kMaxDocumentsPerDossier entries) under `path`.
std::vector<Violation> CheckDocumentsMetadata(const std::vector<DocumentMetadata>& documents,
                                              const std::string& path);

// Every check Create makes on `input` before it stores anything (the sender portal's
// "validate" shows them without creating a dossier).
std::vector<Violation> CheckNewDossier(const NewDossier& input);

class DossierService {
  public:
    explicit DossierService(ServiceContext& ctx) : ctx_(ctx) {}

    [[nodiscard]] Result<Dossier> Create(const std::string& issuer_id, const NewDossier& input);
    [[nodiscard]] Result<Dossier> Get(const std::string& issuer_id, const std::string& id);
    [[nodiscard]] Result<Page<Dossier>> List(const std::string& issuer_id, PageQuery page);

  private:
    ServiceContext& ctx_;
};

// Clamps a caller's page size into 1..max (0 or absent means the default).
PageQuery NormalizePage(const Limits& limits, PageQuery page);

}  // namespace firmo::domain
