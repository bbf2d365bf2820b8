#pragma once
// What every use case needs, handed in by src/app: the ports and the limits. Services hold a
// reference to it; it outlives them.

#include <chrono>
#include <cstdint>
#include <functional>
#include <vector>

#include "core/clock.hpp"
#include "core/random.hpp"
#include "domain/ports/blob_store.hpp"
#include "domain/ports/database.hpp"
#include "domain/ports/delivery.hpp"
#include "domain/ports/document_validator.hpp"
#include "domain/ports/hasher.hpp"

namespace firmo::domain {

struct Limits {
    std::int64_t max_document_bytes = 10 * 1024 * 1024;  // as Posten signering: 10 MB
    std::chrono::hours default_expiry{24 * 90};
    std::chrono::hours max_expiry{24 * 90};
    int max_signers = 10;
    int max_page_size = 100;
    int default_page_size = 25;
    int max_validation_attempts = 5;
    // How long a final request keeps its documents' bytes (as Posten signering: 40 days);
    // zero: kept until DELETE .../documents.
    std::chrono::hours documents_retention{24 * 40};
};

// How signers are told: which channels, the reminder schedule, and the link each signer gets
// (built by the app: the portal's URL scheme is not the domain's business).
struct Reminder {
    Channel channel = Channel::kEmail;
    std::chrono::hours before_expiry{24};
};

struct NotificationSettings {
    bool email = true;
    bool sms = true;
    std::vector<Reminder> reminders = {{Channel::kEmail, std::chrono::hours(24 * 7)},
                                       {Channel::kSms, std::chrono::hours(24)}};
    std::function<std::string(const SignatureRequest&, const std::string& signer_id)> signer_link;
    // The IANA time zone a signer's messages state times in ("Europe/Rome"); none: UTC.
    std::function<std::string(const Signer&)> signer_zone;
    // The public URL of an issuer's logo (empty: it has none), shown in its messages.
    std::function<std::string(const Issuer&)> issuer_logo;
};

struct ServiceContext {
    Database& db;
    BlobStore& blobs;
    const DocumentValidator& validator;
    const Hasher& hasher;
    const Clock& clock;
    Random& random;
    Limits limits;
    // Called after a transaction that enqueued a job commits, to wake a worker at once.
    std::function<void()> on_job_enqueued = [] {};
    NotificationSettings notifications = {};
};

// Runs `fn` in one write transaction and commits it; the error of either is returned.
template <typename Fn>
auto InWriteTransaction(Database& db, Fn&& fn) -> decltype(fn(std::declval<Transaction&>())) {
    auto tx = db.Begin(TxMode::kWrite);
    if (!tx) return tl::unexpected<Error>(std::move(tx).error());
    auto result = fn(**tx);
    if (!result) return result;
    if (auto committed = (*tx)->Commit(); !committed) {
        return tl::unexpected<Error>(std::move(committed).error());
    }
    return result;
}

template <typename Fn>
auto InReadTransaction(Database& db, Fn&& fn) -> decltype(fn(std::declval<Transaction&>())) {
    auto tx = db.Begin(TxMode::kRead);
    if (!tx) return tl::unexpected<Error>(std::move(tx).error());
    return fn(**tx);
}

}  // namespace firmo::domain
