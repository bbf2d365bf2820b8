#include "domain/services/archive_service.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "core/ids.hpp"
#include "core/log.hpp"
#include "core/scratch_dir.hpp"

namespace firmo::domain {
namespace {

namespace fs = std::filesystem;

Result<std::string> ReadWhole(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Fail(ErrorCode::kInternal, "cannot read " + path.string());
    return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

ArchiveService::ArchiveService(ServiceContext& ctx, const ArchiveTimestamper& timestamper,
                               ArchiveOptions options, metrics::Registry* metrics)
    : ctx_(ctx), timestamper_(timestamper), options_(options) {
    if (metrics != nullptr) {
        outcomes_ = &metrics->AddCounterFamily(
            "firmo_archive_timestamps_total",
            "Archive re-time-stamping runs of signed documents whose proof was due, by outcome "
            "(renewed, failed, conflict).",
            {"outcome"});
    }
}

Job ArchiveService::JobFor(const SignatureRequest& request, const Document& document,
                           Timestamp now) {
    Job job;
    job.kind = JobKind::kArchiveTimestamp;
    job.issuer_id = request.issuer_id;
    job.request_id = request.id;
    job.document_id = document.id;
    // The first look a day later: the proof of a signature just made is years from its end,
    // and the node that signed has other work now.
    job.run_at = now + std::chrono::hours(24);
    job.created_at = now;
    job.not_after = now;
    return job;
}

void ArchiveService::Count(const char* outcome) {
    if (outcomes_ != nullptr) outcomes_->With({outcome}).Inc();
}

Result<std::optional<Timestamp>> ArchiveService::RunArchive(const Job& job) {
    const Timestamp now = ctx_.clock.Now();
    if (!options_.enabled) return std::optional<Timestamp>(now + options_.idle_recheck);
    FIRMO_TRY(auto request, InReadTransaction(ctx_.db, [&](Transaction& tx) {
                  return tx.requests().Find(job.issuer_id, job.request_id);
              }));
    const Document* doc = request ? request->FindDocument(job.document_id) : nullptr;
    if (doc == nullptr || !doc->signed_blob_key) return std::optional<Timestamp>();
    const std::string key = *doc->signed_blob_key;
    const std::string version = doc->signed_sha256_hex;

    FIRMO_TRY(auto scratch, ScratchDir::Create("firmo-archive"));
    const fs::path out = scratch.path() / "renewed.pdf";
    Result<std::optional<Timestamp>> until = std::optional<Timestamp>();
    Result<std::optional<Timestamp>> renewed = std::optional<Timestamp>();
    bool due = false;
    FIRMO_CHECK(ctx_.blobs.WithLocalFile(key, [&](const fs::path& in) {
        until = timestamper_.ProofUntil(in, now);
        due = until && *until && **until - options_.renew_before <= now;
        if (due) renewed = timestamper_.Renew(in, out, now);
    }));
    FIRMO_CHECK(until);
    if (!*until) {
        // Nothing proves a time (a B-B signature, a time-stamp the anchors do not trust).
        return std::optional<Timestamp>(now + options_.idle_recheck);
    }
    if (!due) return std::optional<Timestamp>(**until - options_.renew_before);
    if (!renewed) {
        Count("failed");
        log::Warn("archive_timestamp_failed", {{"request_id", job.request_id},
                                               {"document_id", job.document_id},
                                               {"proof_until", FormatRfc3339(**until)},
                                               {"error", renewed.error().message}});
        return std::optional<Timestamp>(now + options_.retry_after);
    }

    FIRMO_TRY(auto bytes, ReadWhole(out));
    const std::string new_key = "requests/" + job.request_id + "/" + job.document_id +
                                "/archived-" + NewUlid(now, ctx_.random) + ".pdf";
    FIRMO_TRY(BlobInfo info, ctx_.blobs.Put(new_key, bytes));
    auto stored = InWriteTransaction(ctx_.db, [&](Transaction& tx) -> Result<bool> {
        FIRMO_TRY(auto fresh, tx.requests().Find(job.issuer_id, job.request_id));
        Document* d = fresh ? fresh->FindDocument(job.document_id) : nullptr;
        // Another node renewed it first (or it changed otherwise): keep theirs.
        if (d == nullptr || d->signed_sha256_hex != version) return false;
        d->signed_blob_key = new_key;
        d->signed_size = info.size;
        d->signed_sha256_hex = info.sha256_hex;
        d->updated_at = now;
        FIRMO_CHECK(tx.audit().Append(
            AuditEvent{.request_id = fresh->id,
                       .at = now,
                       .type = "document.archive_timestamped",
                       .document_id = d->id,
                       .actor = "worker",
                       .detail = "document time-stamp added (the last one's chain expired " +
                                 FormatRfc3339(**until) + "), sha256 " + info.sha256_hex}));
        FIRMO_CHECK(tx.requests().Update(*fresh));
        return true;
    });
    if (!stored || !*stored) {
        (void)ctx_.blobs.Remove(new_key);
        if (!stored) return Fail(stored.error());
        Count("conflict");
        return std::optional<Timestamp>(now);  // look at the version that won
    }
    (void)ctx_.blobs.Remove(key);
    Count("renewed");
    const std::string proof_until = *renewed ? FormatRfc3339(**renewed) : "none";
    log::Info("archive_timestamp_added", {{"request_id", job.request_id},
                                          {"document_id", job.document_id},
                                          {"previous_proof_until", FormatRfc3339(**until)},
                                          {"proof_until", proof_until}});
    // A time-stamp authority whose own certificate ends within renew_before cannot do better
    // by renewing again at once: look again later (and say so).
    Timestamp next = now + options_.idle_recheck;
    if (*renewed && **renewed - options_.renew_before > next) {
        next = **renewed - options_.renew_before;
    } else {
        log::Warn("archive_timestamp_short", {{"request_id", job.request_id},
                                              {"document_id", job.document_id},
                                              {"proof_until", proof_until},
                                              {"hint",
                                               "the time-stamp authority's certificate ends within "
                                               "archive.renew_before"}});
    }
    return std::optional<Timestamp>(next);
}

}  // namespace firmo::domain
