#pragma once
// Port: signature requests, with their signers and documents (one aggregate: they are read and
// written together). The issuer API reads them scoped by issuer id; the signer side reaches a
// request by its id alone (FindForSigner) and its services check that the session's person or
// signer is on it.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "domain/model.hpp"

namespace firmo::domain {

class RequestRepository {
  public:
    virtual ~RequestRepository() = default;
    RequestRepository() = default;
    RequestRepository(const RequestRepository&) = delete;
    RequestRepository& operator=(const RequestRepository&) = delete;

    // The request with every signer and document; kAlreadyExists when an id is taken (a
    // pipelining store may report it only at commit: ids are new ULIDs, so it is not expected).
    [[nodiscard]] virtual Result<void> Insert(const SignatureRequest& request) = 0;
    // Writes the request's status fields, every signer and every document; kNotFound when
    // there is no such request.
    [[nodiscard]] virtual Result<void> Update(const SignatureRequest& request) = 0;
    // In a write transaction the request found stays locked until it ends (where the store
    // has row locks): Find then Update loses no concurrent change. Outside a transaction
    // (TxMode::kSingle) the request, its signers and documents are still one snapshot.
    [[nodiscard]] virtual Result<std::optional<SignatureRequest>> Find(const std::string& issuer_id,
                                                                       const std::string& id) = 0;
    // The signer side: by id alone. Never used by the issuer API.
    [[nodiscard]] virtual Result<std::optional<SignatureRequest>> FindForSigner(
        const std::string& id) = 0;
    // Newest first, filtered by dossier and status when given.
    [[nodiscard]] virtual Result<Page<SignatureRequest>> List(const std::string& issuer_id,
                                                              const RequestFilter& filter,
                                                              const PageQuery& page) = 0;
    // (issuer id, request id) of non-terminal requests whose expires_at is at or before `now`,
    // soonest first.
    [[nodiscard]] virtual Result<std::vector<std::pair<std::string, std::string>>> ListExpired(
        Timestamp now, int limit) = 0;
    // (issuer id, request id) of notified, live requests expiring at or before `before`:
    // reminders.
    [[nodiscard]] virtual Result<std::vector<std::pair<std::string, std::string>>> ListRemindable(
        Timestamp before, int limit) = 0;
};

}  // namespace firmo::domain
