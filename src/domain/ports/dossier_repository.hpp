#pragma once
// Port: dossiers, the issuers' reusable templates. Every read is scoped by issuer id.

#include <optional>
#include <string>

#include "core/error.hpp"
#include "domain/model.hpp"

namespace firmo::domain {

class DossierRepository {
  public:
    virtual ~DossierRepository() = default;
    DossierRepository() = default;
    DossierRepository(const DossierRepository&) = delete;
    DossierRepository& operator=(const DossierRepository&) = delete;

    // kAlreadyExists when the id is taken.
    [[nodiscard]] virtual Result<void> Insert(const Dossier& dossier) = 0;
    [[nodiscard]] virtual Result<std::optional<Dossier>> Find(const std::string& issuer_id,
                                                              const std::string& id) = 0;
    // Newest first (ids are ULIDs: descending id order), after `page.after_id` (exclusive).
    [[nodiscard]] virtual Result<Page<Dossier>> List(const std::string& issuer_id,
                                                     const PageQuery& page) = 0;
};

}  // namespace firmo::domain
